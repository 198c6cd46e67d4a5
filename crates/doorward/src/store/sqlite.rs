//! The embedded default: SQLite through sqlx, in WAL mode.
//!
//! Migrations are compiled in (`migrations/sqlite`) and applied by
//! [`Store::migrate`](super::Store::migrate), which `Doorward::open` and `doorward migrate` call.
//! Uniqueness of email and username is left to the unique indexes, so 50
//! racing registrations of one address end as one row and 49
//! `duplicate_email` errors.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use super::sql::{Dialect, Pools, pool_options, sql_store};
use crate::config::Config;
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite backend (`sqlite://path` or `sqlite::memory:`).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pools: Pools<Sqlite>,
}

impl SqliteStore {
    /// Open (creating if missing) the database `database_url` names, with
    /// the configured pool settings.
    pub async fn connect(config: &Config) -> Result<Self> {
        let url = config.database_url.as_str();
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| Error::Config(format!("invalid sqlite database_url: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            // Every connection to an in-memory database shares one cache, and
            // the database lives only while a connection does: keep exactly
            // one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            pool_options(config)
                .connect_with(
                    options
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await?
        };
        Ok(SqliteStore {
            pools: Pools::one(pool),
        })
    }
}

impl Dialect for SqliteStore {
    type Db = Sqlite;
    /// A JSON array, which `json_each` takes apart.
    type IdList = String;

    const NAME: &'static str = "sqlite";
    /// Takes the write lock at once, so concurrent writers queue on the
    /// busy timeout instead of failing when a read lock would have to be
    /// upgraded; the lock clauses keep their empty defaults, as nothing
    /// else can write meanwhile.
    const BEGIN: &'static str = "BEGIN IMMEDIATE";

    fn pools(&self) -> &Pools<Sqlite> {
        &self.pools
    }

    fn read_view(&self) -> &Self {
        self
    }

    /// Nothing to do: one writer at a time commits in the order it began.
    async fn order_outbox(_tx: &mut Transaction<'static, Sqlite>) -> Result<()> {
        Ok(())
    }

    fn in_list(n: u8) -> String {
        format!("IN (SELECT value FROM json_each(${n}))")
    }

    fn id_list(ids: &[i64]) -> String {
        serde_json::Value::from(ids).to_string()
    }

    fn violation(err: sqlx::Error) -> Error {
        if let Some(db) = err.as_database_error()
            && db.is_unique_violation()
        {
            // SQLite names the index's columns, not a constraint.
            let message = db.message();
            if message.contains("email_key") {
                return Error::DuplicateEmail;
            }
            if message.contains("username_key") {
                return Error::DuplicateUsername;
            }
            if message.contains("roles.name") {
                return Error::validation("role", "a role with this name already exists");
            }
        }
        err.into()
    }
}

sql_store!(SqliteStore, MIGRATOR);
