//! The SQL store, written once for SQLite and PostgreSQL.
//!
//! Both schemas keep every table in the same column types (times as BIGINT
//! microseconds since the Unix epoch, lists as JSON text), so one decoder
//! per record ([`rows`]) and one SQL text per statement serve both. SQLite
//! numbers `$N` parameters in the order of their first use, so every
//! statement uses them in ascending order; a parameter may repeat.
//!
//! What differs between the two is the [`Dialect`] a store implements:
//! how a write transaction starts, which locks a read takes, how a list of
//! ids is bound, how the outbox is kept in commit order and how constraint
//! violations map to domain errors. [`sql_store!`] then writes every store
//! trait for it, from one macro per concern ([`users`], [`sessions`],
//! [`roles`], [`events`], [`login_clients`], [`flows`], [`mfa`], [`passkeys`], [`identities`], [`imports`], [`stats`]). A macro rather than generic
//! code, because sqlx's executor traits make a store generic over its
//! database a wall of bounds; expanded, each body is plain sqlx for one
//! database.
//!
//! Adding a storage method: its SQL body in the macro of its concern, its
//! memory version in `store/memory/`, and a check in the conformance
//! suite.

use std::future::Future;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::{Pool, Transaction};

use crate::config::Config;
use crate::error::{Error, Result};

pub(crate) mod events;
pub(crate) mod flows;
pub(crate) mod identities;
pub(crate) mod imports;
pub(crate) mod login_clients;
pub(crate) mod mfa;
pub(crate) mod passkeys;
pub(crate) mod roles;
pub(crate) mod rows;
pub(crate) mod sessions;
pub(crate) mod stats;
pub(crate) mod users;

/// A store's pools: the primary, and where this view's plain reads go (the
/// primary again, or one replica).
#[derive(Debug)]
pub(crate) struct Pools<Db: sqlx::Database> {
    pub write: Pool<Db>,
    pub read: Pool<Db>,
}

impl<Db: sqlx::Database> Clone for Pools<Db> {
    fn clone(&self) -> Self {
        Pools {
            write: self.write.clone(),
            read: self.read.clone(),
        }
    }
}

impl<Db: sqlx::Database> Pools<Db> {
    /// Reads and writes on one pool.
    pub fn one(pool: Pool<Db>) -> Self {
        Pools {
            read: pool.clone(),
            write: pool,
        }
    }
}

/// What one SQL database needs that the other does not. Implemented by each
/// SQL store; everything else is shared.
pub(crate) trait Dialect: Sync {
    /// sqlx's database.
    type Db: sqlx::Database;
    /// A bound list of ids (`= ANY($n)` takes an array, `json_each` a text).
    type IdList: Send;

    /// The store's name, for logs and `doorward` output.
    const NAME: &'static str;
    // The lock clauses default to nothing: right for a database whose write
    // transactions hold its one write lock from their start (SQLite's
    // `BEGIN IMMEDIATE`), where nothing else can change a row one read and
    // no one else is claiming.

    /// Appended to a `SELECT` of a row the transaction is about to change
    /// (or delete), to hold it against other writers until the commit.
    /// Empty where the transaction holds the database's one write lock.
    const FOR_UPDATE: &'static str = "";
    /// Appended to a `SELECT` of a user row that a session write depends
    /// on: held against password changes, disables and deletion (which
    /// take `FOR_UPDATE`), not against other session writes.
    const FOR_KEY_SHARE: &'static str = "";
    /// Appended to a `SELECT` of rows to claim, so instances claiming at
    /// once take disjoint rows.
    const SKIP_LOCKED: &'static str = "";

    /// The statement that starts a write transaction.
    const BEGIN: &'static str;

    /// This view's pools.
    fn pools(&self) -> &Pools<Self::Db>;
    /// The view [`crate::store::Store::for_reads`] hands out.
    fn read_view(&self) -> &Self;

    /// Where writes and reads that must see them go.
    fn writes(&self) -> &Pool<Self::Db> {
        &self.pools().write
    }
    /// Where this view's plain reads go: the primary, or a replica.
    fn reads(&self) -> &Pool<Self::Db> {
        &self.pools().read
    }
    /// Start a write transaction with [`Dialect::BEGIN`].
    fn begin(&self) -> impl Future<Output = Result<Transaction<'static, Self::Db>>> + Send {
        async move { Ok(self.writes().begin_with(Self::BEGIN).await?) }
    }
    /// Called before a transaction inserts into the outbox, so that events
    /// are numbered in the order their transactions commit: a consumer
    /// that has read up to `seq` n never later finds a committed n - 1.
    fn order_outbox(
        tx: &mut Transaction<'static, Self::Db>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// `id IN` the list bound at parameter `$n`, e.g. `= ANY($3)`.
    fn in_list(n: u8) -> String;
    /// A list of ids, to bind where [`Dialect::in_list`] says.
    fn id_list(ids: &[i64]) -> Self::IdList;
    /// The domain error a failed statement means: a unique email or
    /// username, an existing role, a row that went away meanwhile.
    fn violation(err: sqlx::Error) -> Error;
}

/// The configured pool settings, which every SQL database takes alike.
pub(crate) fn pool_options<Db: sqlx::Database>(config: &Config) -> PoolOptions<Db> {
    PoolOptions::new()
        .max_connections(config.database_max_connections)
        .min_connections(config.database_min_connections)
        .acquire_timeout(Duration::from_secs(config.database_acquire_timeout))
}

/// Implements [`crate::store::Store`] and every trait it is made of for
/// `$store`, a [`Dialect`] whose migrations are `$migrator`.
macro_rules! sql_store {
    ($store:ty, $migrator:expr) => {
        $crate::store::sql::users::sql_users!($store);
        $crate::store::sql::sessions::sql_sessions!($store);
        $crate::store::sql::roles::sql_roles!($store);
        $crate::store::sql::events::sql_events!($store);
        $crate::store::sql::login_clients::sql_login_clients!($store);
        $crate::store::sql::flows::sql_flows!($store);
        $crate::store::sql::mfa::sql_mfa!($store);
        $crate::store::sql::passkeys::sql_passkeys!($store);
        $crate::store::sql::identities::sql_identities!($store);
        $crate::store::sql::imports::sql_imports!($store);
        $crate::store::sql::stats::sql_stats!($store);

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            async fn migrate(&self) -> $crate::error::Result<()> {
                $migrator
                    .run(<$store as $crate::store::sql::Dialect>::writes(self))
                    .await?;
                Ok(())
            }

            fn backend(&self) -> &'static str {
                <$store as $crate::store::sql::Dialect>::NAME
            }

            fn for_reads(&self) -> &dyn $crate::store::Store {
                <$store as $crate::store::sql::Dialect>::read_view(self)
            }
        }
    };
}
pub(crate) use sql_store;
