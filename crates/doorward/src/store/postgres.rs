//! PostgreSQL through sqlx, for deployments with several application
//! instances, and read replicas for the reads that may lag.
//!
//! Migrations are compiled in (`migrations/postgres`, the same versions as
//! SQLite's) and applied on the primary by [`Store::migrate`](super::Store::migrate); sqlx holds an
//! advisory lock while it migrates, so instances starting together do not
//! race. Uniqueness is left to the unique indexes and rotation to a
//! conditional `UPDATE`, whose row lock makes the second of two racing
//! refreshes see the first one's `used_at`: one winner, as on every backend.
//!
//! With `database_read_urls`, [`Store::for_reads`](super::Store::for_reads) hands out a view whose
//! reads go to the next replica in turn; its writes still go to the primary.
//! Every other read (login, refresh, session checks, permission and cache
//! fills) stays on the primary, so it sees a write just made.
//!
//! Each replica is probed every second; one that does not answer
//! is skipped, with a warning, until it answers again, and when none does
//! the reads go to the primary. A read sent to a replica in the moment
//! between its loss and the next probe can still fail with `storage_error`.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Postgres, Transaction};

use super::sql::{Dialect, Pools, pool_options, sql_store};
use crate::config::Config;
use crate::error::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL backend (`postgres://…` or `postgresql://…`).
#[derive(Debug)]
pub struct PostgresStore {
    /// The primary, and where this view's reads go: the primary, or one
    /// replica.
    pools: Pools<Postgres>,
    /// One view per replica, handed out in turn by [`Store::for_reads`](super::Store::for_reads).
    replicas: Vec<PostgresStore>,
    next_replica: AtomicUsize,
    /// Whether this view's reads can be served (a replica's last probe
    /// answered); always true for the primary.
    reachable: Arc<AtomicBool>,
}

/// How often a replica is probed.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl PostgresStore {
    /// Connect to the primary `database_url` and to each of
    /// `database_read_urls`, with the configured pool settings.
    ///
    /// Every URL is connected at once, so a wrong address or password is
    /// reported by `open`, not by the first request.
    pub async fn connect(config: &Config) -> Result<Self> {
        let write = pool(&config.database_url, config).await?;
        let mut replicas = Vec::with_capacity(config.database_read_urls.len());
        for (index, url) in config.database_read_urls.iter().enumerate() {
            let read = pool(url, config).await?;
            let reachable = Arc::new(AtomicBool::new(true));
            probe(index, read.clone(), Arc::downgrade(&reachable));
            replicas.push(PostgresStore {
                pools: Pools {
                    write: write.clone(),
                    read,
                },
                replicas: Vec::new(),
                next_replica: AtomicUsize::new(0),
                reachable,
            });
        }
        Ok(PostgresStore {
            pools: Pools::one(write),
            replicas,
            next_replica: AtomicUsize::new(0),
            reachable: Arc::new(AtomicBool::new(true)),
        })
    }
}

/// Probe replica `index` until its store is dropped, keeping `reachable`
/// up to date and logging each change once.
fn probe(index: usize, pool: PgPool, reachable: std::sync::Weak<AtomicBool>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PROBE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(flag) = reachable.upgrade() else {
                return;
            };
            let answered =
                tokio::time::timeout(PROBE_EVERY, sqlx::query("SELECT 1").execute(&pool))
                    .await
                    .is_ok_and(|r| r.is_ok());
            let was = flag.swap(answered, Ordering::Relaxed);
            if was && !answered {
                tracing::warn!(
                    replica = index,
                    "a database read replica does not answer: its reads go to the primary"
                );
            } else if !was && answered {
                tracing::info!(replica = index, "a database read replica answers again");
            }
        }
    });
}

/// The advisory lock key that serialises outbox writers ("doorward" in
/// ASCII); held until the transaction ends.
const OUTBOX_LOCK: i64 = 0x646f_6f72_7761_7264;

impl Dialect for PostgresStore {
    type Db = Postgres;
    type IdList = Vec<i64>;

    const NAME: &'static str = "postgres";
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const FOR_KEY_SHARE: &'static str = " FOR KEY SHARE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const BEGIN: &'static str = "BEGIN";

    fn pools(&self) -> &Pools<Postgres> {
        &self.pools
    }

    fn read_view(&self) -> &Self {
        let n = self.replicas.len();
        if n == 0 {
            return self;
        }
        let start = self.next_replica.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| &self.replicas[(start + k) % n])
            .find(|replica| replica.reachable.load(Ordering::Relaxed))
            .unwrap_or(self)
    }

    /// A transaction-scoped advisory lock: `seq` is a sequence, assigned at
    /// insert, so inserts must commit in the order they take it.
    async fn order_outbox(tx: &mut Transaction<'static, Postgres>) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(OUTBOX_LOCK)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    fn in_list(n: u8) -> String {
        format!("= ANY(${n})")
    }

    fn id_list(ids: &[i64]) -> Vec<i64> {
        ids.to_vec()
    }

    fn violation(err: sqlx::Error) -> Error {
        if let Some(db) = err.as_database_error() {
            let constraint = db.constraint().unwrap_or_default();
            if db.is_unique_violation() {
                match constraint {
                    "users_email_key" => return Error::DuplicateEmail,
                    "users_username_key" => return Error::DuplicateUsername,
                    "roles_pkey" => {
                        return Error::validation("role", "a role with this name already exists");
                    }
                    _ => {}
                }
            }
            if db.is_foreign_key_violation() {
                // The row it points at went away in a concurrent change.
                return match constraint {
                    c if c.ends_with("_role_fkey") => Error::not_found("role"),
                    c if c.ends_with("_session_id_fkey") => Error::not_found("session"),
                    _ => Error::not_found("user"),
                };
            }
        }
        err.into()
    }
}

async fn pool(url: &str, config: &Config) -> Result<PgPool> {
    // The URL may hold a password: never repeat it in the error.
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| Error::Config("a PostgreSQL database URL is not valid".into()))?
        .application_name("doorward");
    Ok(pool_options(config).connect_with(options).await?)
}

sql_store!(PostgresStore, MIGRATOR);
