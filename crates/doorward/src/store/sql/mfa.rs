//! Second factors, in SQL.

use super::rows::{Columns, opt_time, time};
use crate::error::{Error, Result};
use crate::store::TotpRecord;

pub(crate) const TOTP_COLUMNS: &str =
    "user_id, secret_sealed, created_at, confirmed_at, last_used_step";

/// A stored TOTP factor, checked.
pub(crate) fn totp_from<R: Columns>(row: &R) -> Result<TotpRecord> {
    let step = row
        .opt_int("last_used_step")?
        .map(|s| {
            u64::try_from(s).map_err(|_| Error::Storage(format!("TOTP step out of range: {s}")))
        })
        .transpose()?;
    Ok(TotpRecord {
        user_id: row.text("user_id")?,
        secret_sealed: row.text("secret_sealed")?,
        created_at: time(row, "created_at")?,
        confirmed_at: opt_time(row, "confirmed_at")?,
        last_used_step: step,
    })
}

/// A time step as stored (steps of 30 s since 1970 fit in an i64 for
/// longer than anything else here).
pub(crate) fn step(step: u64) -> Result<i64> {
    i64::try_from(step).map_err(|_| Error::validation("code", "time step out of range"))
}

/// Implements [`crate::store::MfaStore`] for a [`super::Dialect`].
macro_rules! sql_mfa {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::mfa::{TOTP_COLUMNS, step, totp_from};
            use $crate::store::sql::rows::to_micros;
            use $crate::store::{MfaStore, TotpRecord};

            type Tx = sqlx::Transaction<'static, <$store as Dialect>::Db>;

            impl $store {
                /// Replace a user's recovery codes inside `tx`.
                async fn put_recovery_in(
                    tx: &mut Tx,
                    user_id: &str,
                    hashes: &[String],
                ) -> Result<()> {
                    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut **tx)
                        .await?;
                    for hash in hashes {
                        sqlx::query(
                            "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
                        )
                        .bind(user_id)
                        .bind(hash)
                        .execute(&mut **tx)
                        .await?;
                    }
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl MfaStore for $store {
                async fn put_totp(
                    &self,
                    user_id: &str,
                    secret_sealed: &str,
                    now: DateTime<Utc>,
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    let done = sqlx::query(
                        "INSERT INTO mfa_totp (user_id, secret_sealed, created_at) \
                         VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id) DO UPDATE SET secret_sealed = $2, \
                           created_at = $3, confirmed_at = NULL, last_used_step = NULL \
                         WHERE mfa_totp.confirmed_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(secret_sealed)
                    .bind(to_micros(now))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>> {
                    let row = sqlx::query(&format!(
                        "SELECT {TOTP_COLUMNS} FROM mfa_totp WHERE user_id = $1"
                    ))
                    .bind(user_id)
                    .fetch_optional(self.writes())
                    .await?;
                    row.as_ref().map(totp_from).transpose()
                }

                async fn confirm_totp(
                    &self,
                    user_id: &str,
                    used: u64,
                    recovery: &[String],
                    now: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query(
                        "UPDATE mfa_totp SET confirmed_at = $1, last_used_step = $2 \
                         WHERE user_id = $3 AND confirmed_at IS NULL",
                    )
                    .bind(to_micros(now))
                    .bind(step(used)?)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Ok(false);
                    }
                    Self::put_recovery_in(&mut tx, user_id, recovery).await?;
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }

                async fn use_totp_step(&self, user_id: &str, used: u64) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE mfa_totp SET last_used_step = $1 \
                         WHERE user_id = $2 AND confirmed_at IS NOT NULL \
                           AND (last_used_step IS NULL OR last_used_step < $1)",
                    )
                    .bind(step(used)?)
                    .bind(user_id)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_totp(&self, user_id: &str, events: &[Event]) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    sqlx::query("DELETE FROM mfa_recovery_codes WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    let done = sqlx::query("DELETE FROM mfa_totp WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn replace_recovery_codes(
                    &self,
                    user_id: &str,
                    hashes: &[String],
                    events: &[Event],
                ) -> Result<()> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    Self::put_recovery_in(&mut tx, user_id, hashes).await?;
                    Self::commit_with(tx, events).await
                }

                async fn use_recovery_code(
                    &self,
                    user_id: &str,
                    hash: &str,
                    now: DateTime<Utc>,
                ) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE mfa_recovery_codes SET used_at = $1 \
                         WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
                    )
                    .bind(to_micros(now))
                    .bind(user_id)
                    .bind(hash)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn recovery_codes_left(&self, user_id: &str) -> Result<u32> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM mfa_recovery_codes \
                         WHERE user_id = $1 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .fetch_one(self.writes())
                    .await?;
                    u32::try_from(n).map_err(|_| Error::Storage(format!("recovery codes: {n}")))
                }
            }
        };
    };
}

pub(crate) use sql_mfa;
