//! Failed logins per account and client address, and which clients have
//! logged in before: what lets lockout stop the address that guesses
//! without locking the owner out everywhere.
//!
//! The SQL is written once: both backends keep this table in the same
//! types (BIGINT microseconds), so `sql_login_clients!` implements the
//! trait for each with the same statements. (SQLite numbers `$N`
//! parameters in order of first use, so each statement uses them in
//! ascending order.)

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;

/// What the store knows of one client of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginClient {
    /// Failed logins from this client since its last success.
    pub failures: u32,
    /// Until when this client may not log in to this account.
    pub locked_until: Option<DateTime<Utc>>,
    /// When this client last logged in: a client that has is known.
    pub last_success_at: Option<DateTime<Utc>>,
}

/// Per-account, per-client login state. `client` is the canonical client
/// address, or `""` for logins that name none.
#[async_trait]
pub trait LoginClientStore: Send + Sync {
    /// The state of `client` for `user_id`, if it has any.
    async fn login_client(&self, user_id: &str, client: &str) -> Result<Option<LoginClient>>;
    /// Count one more failed login from `client` and return the new count;
    /// `not_found` if there is no such user. Atomic, so racing failures on
    /// several instances are each counted.
    async fn client_failed(&self, user_id: &str, client: &str) -> Result<u32>;
    /// Refuse logins from `client` to `user_id` until `until`.
    async fn lock_client(&self, user_id: &str, client: &str, until: DateTime<Utc>) -> Result<()>;
    /// A successful login from `client`: its failures and lock cleared, and
    /// it is known from now on.
    async fn client_succeeded(&self, user_id: &str, client: &str, now: DateTime<Utc>)
    -> Result<()>;
    /// Clear the failures and locks of every client of `user_id` (an
    /// administrator's unlock); true if any had some.
    async fn unlock_clients(&self, user_id: &str) -> Result<bool>;
}

/// Implements [`LoginClientStore`] for a SQL store whose pool for writes is
/// the field `$pool`; the statements are valid SQLite and PostgreSQL alike.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! sql_login_clients {
    ($store:ty, $pool:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::login_clients::LoginClientStore for $store {
            async fn login_client(
                &self,
                user_id: &str,
                client: &str,
            ) -> $crate::error::Result<Option<$crate::store::login_clients::LoginClient>> {
                let row: Option<(i32, Option<i64>, Option<i64>)> = sqlx::query_as(
                    "SELECT failures, locked_until, last_success_at FROM login_clients \
                     WHERE user_id = $1 AND client = $2",
                )
                .bind(user_id)
                .bind(client)
                .fetch_optional(&self.$pool)
                .await?;
                row.map(|(failures, locked, success)| {
                    $crate::store::login_clients::decode(failures, locked, success)
                })
                .transpose()
            }

            async fn client_failed(
                &self,
                user_id: &str,
                client: &str,
            ) -> $crate::error::Result<u32> {
                let count: Option<i32> = sqlx::query_scalar(
                    "INSERT INTO login_clients (user_id, client, failures) \
                     SELECT $1, $2, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) \
                     ON CONFLICT (user_id, client) \
                     DO UPDATE SET failures = login_clients.failures + 1 \
                     RETURNING failures",
                )
                .bind(user_id)
                .bind(client)
                .fetch_optional(&self.$pool)
                .await?;
                let count = count.ok_or_else(|| $crate::error::Error::not_found("user"))?;
                $crate::store::failed_logins(count.into())
            }

            async fn lock_client(
                &self,
                user_id: &str,
                client: &str,
                until: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "UPDATE login_clients SET locked_until = $1 \
                     WHERE user_id = $2 AND client = $3",
                )
                .bind(until.timestamp_micros())
                .bind(user_id)
                .bind(client)
                .execute(&self.$pool)
                .await?;
                Ok(())
            }

            async fn client_succeeded(
                &self,
                user_id: &str,
                client: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> $crate::error::Result<()> {
                sqlx::query(
                    "INSERT INTO login_clients (user_id, client, failures, last_success_at) \
                     SELECT $1, $2, 0, $3 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) \
                     ON CONFLICT (user_id, client) DO UPDATE \
                     SET failures = 0, locked_until = NULL, last_success_at = $3",
                )
                .bind(user_id)
                .bind(client)
                .bind(now.timestamp_micros())
                .execute(&self.$pool)
                .await?;
                Ok(())
            }

            async fn unlock_clients(&self, user_id: &str) -> $crate::error::Result<bool> {
                let done = sqlx::query(
                    "UPDATE login_clients SET failures = 0, locked_until = NULL \
                     WHERE user_id = $1 AND (failures <> 0 OR locked_until IS NOT NULL)",
                )
                .bind(user_id)
                .execute(&self.$pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) use sql_login_clients;

/// A stored row, checked.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn decode(
    failures: i32,
    locked_until: Option<i64>,
    last_success_at: Option<i64>,
) -> Result<LoginClient> {
    let time = |us: i64| {
        DateTime::from_timestamp_micros(us)
            .ok_or_else(|| crate::error::Error::Storage(format!("timestamp out of range: {us}")))
    };
    Ok(LoginClient {
        failures: super::failed_logins(failures.into())?,
        locked_until: locked_until.map(time).transpose()?,
        last_success_at: last_success_at.map(time).transpose()?,
    })
}
