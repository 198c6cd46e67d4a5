//! Failed logins per account and client address, in SQL.

use super::rows::from_micros;
use crate::error::Result;
use crate::store::LoginClient;

/// Implements [`crate::store::LoginClientStore`] for a [`super::Dialect`].
macro_rules! sql_login_clients {
    ($store:ty) => {
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
                .fetch_optional(<$store as $crate::store::sql::Dialect>::writes(self))
                .await?;
                row.map(|(failures, locked, success)| {
                    $crate::store::sql::login_clients::decode(failures, locked, success)
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
                .fetch_optional(<$store as $crate::store::sql::Dialect>::writes(self))
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
                .bind($crate::store::sql::rows::to_micros(until))
                .bind(user_id)
                .bind(client)
                .execute(<$store as $crate::store::sql::Dialect>::writes(self))
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
                .bind($crate::store::sql::rows::to_micros(now))
                .execute(<$store as $crate::store::sql::Dialect>::writes(self))
                .await?;
                Ok(())
            }

            async fn unlock_clients(&self, user_id: &str) -> $crate::error::Result<bool> {
                let done = sqlx::query(
                    "UPDATE login_clients SET failures = 0, locked_until = NULL \
                     WHERE user_id = $1 AND (failures <> 0 OR locked_until IS NOT NULL)",
                )
                .bind(user_id)
                .execute(<$store as $crate::store::sql::Dialect>::writes(self))
                .await?;
                Ok(done.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use sql_login_clients;

/// A stored row, checked.
pub(crate) fn decode(
    failures: i32,
    locked_until: Option<i64>,
    last_success_at: Option<i64>,
) -> Result<LoginClient> {
    Ok(LoginClient {
        failures: crate::store::failed_logins(failures.into())?,
        locked_until: locked_until.map(from_micros).transpose()?,
        last_success_at: last_success_at.map(from_micros).transpose()?,
    })
}
