//! One-time secrets of the account flows, in SQL.

use super::rows::{Columns, opt_time, time};
use crate::error::{Error, Result};
use crate::store::FlowRecord;

pub(crate) const FLOW_COLUMNS: &str = "id, purpose, user_id, address, link_hash, code_hash, \
     sealed, created_at, expires_at, consumed_at, attempts";

/// A stored flow, checked.
pub(crate) fn flow_from<R: Columns>(row: &R) -> Result<FlowRecord> {
    let attempts = row.int("attempts")?;
    Ok(FlowRecord {
        id: row.text("id")?,
        purpose: row.text("purpose")?,
        user_id: row.opt_text("user_id")?,
        address: row.text("address")?,
        link_hash: row.text("link_hash")?,
        code_hash: row.text("code_hash")?,
        sealed: row.opt_text("sealed")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        consumed_at: opt_time(row, "consumed_at")?,
        attempts: u32::try_from(attempts)
            .map_err(|_| Error::Storage(format!("flow attempts out of range: {attempts}")))?,
    })
}

/// Implements [`crate::store::FlowStore`] for a [`super::Dialect`].
macro_rules! sql_flows {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::flows::{FLOW_COLUMNS, flow_from};
            use $crate::store::sql::rows::to_micros;
            use $crate::store::{Consumption, FlowRecord, FlowStore};

            #[async_trait::async_trait]
            impl FlowStore for $store {
                async fn create_flow(&self, flow: &FlowRecord, events: &[Event]) -> Result<()> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query(&format!(
                        "INSERT INTO one_time_secrets ({FLOW_COLUMNS}) \
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
                         WHERE CAST($3 AS TEXT) IS NULL \
                            OR EXISTS (SELECT 1 FROM users WHERE id = $3)"
                    ))
                    .bind(&flow.id)
                    .bind(&flow.purpose)
                    .bind(&flow.user_id)
                    .bind(&flow.address)
                    .bind(&flow.link_hash)
                    .bind(&flow.code_hash)
                    .bind(&flow.sealed)
                    .bind(to_micros(flow.created_at))
                    .bind(to_micros(flow.expires_at))
                    .bind(flow.consumed_at.map(to_micros))
                    .bind(i64::from(flow.attempts))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("user"));
                    }
                    Self::commit_with(tx, events).await
                }

                async fn flow(&self, id: &str) -> Result<Option<FlowRecord>> {
                    let row = sqlx::query(&format!(
                        "SELECT {FLOW_COLUMNS} FROM one_time_secrets WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.writes())
                    .await?;
                    row.as_ref().map(flow_from).transpose()
                }

                async fn consume_flow(
                    &self,
                    id: &str,
                    purpose: &str,
                    link_hash: &str,
                    code_hash: &str,
                    now: DateTime<Utc>,
                    max_attempts: u32,
                ) -> Result<Consumption> {
                    // The one statement that decides: every condition and
                    // the comparison are evaluated on the row as it is
                    // when the update takes it, so a second consumer
                    // finds it used.
                    let row = sqlx::query(&format!(
                        "UPDATE one_time_secrets SET attempts = attempts + 1, \
                         consumed_at = CASE WHEN link_hash = $1 OR code_hash = $2 \
                                            THEN $3 ELSE NULL END \
                         WHERE id = $4 AND purpose = $5 AND consumed_at IS NULL \
                           AND expires_at > $3 AND attempts < $6 \
                         RETURNING {FLOW_COLUMNS}"
                    ))
                    .bind(link_hash)
                    .bind(code_hash)
                    .bind(to_micros(now))
                    .bind(id)
                    .bind(purpose)
                    .bind(i64::from(max_attempts))
                    .fetch_optional(self.writes())
                    .await?;
                    match row.as_ref().map(flow_from).transpose()? {
                        Some(flow) if flow.consumed_at.is_some() => Ok(Consumption::Consumed(flow)),
                        Some(flow) => Ok(Consumption::Wrong {
                            attempts: flow.attempts,
                        }),
                        None => Ok(Consumption::Unusable(self.flow(id).await?)),
                    }
                }

                async fn clear_sealed(&self, id: &str) -> Result<()> {
                    sqlx::query("UPDATE one_time_secrets SET sealed = NULL WHERE id = $1")
                        .bind(id)
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }

                async fn cancel_flows(
                    &self,
                    user_id: &str,
                    purpose: &str,
                    now: DateTime<Utc>,
                ) -> Result<u64> {
                    let done = sqlx::query(
                        "UPDATE one_time_secrets SET consumed_at = $1 \
                         WHERE user_id = $2 AND purpose = $3 AND consumed_at IS NULL",
                    )
                    .bind(to_micros(now))
                    .bind(user_id)
                    .bind(purpose)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected())
                }

                async fn prune_flows(&self, before: DateTime<Utc>) -> Result<u64> {
                    let done = sqlx::query("DELETE FROM one_time_secrets WHERE expires_at < $1")
                        .bind(to_micros(before))
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn set_email_verified(
                    &self,
                    user_id: &str,
                    email_key: &str,
                    at: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    let done = sqlx::query(
                        "UPDATE users SET email_verified_at = $1 \
                         WHERE id = $2 AND email_key = $3 AND email_verified_at IS NULL",
                    )
                    .bind(to_micros(at))
                    .bind(user_id)
                    .bind(email_key)
                    .execute(&mut *tx)
                    .await?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn change_email(
                    &self,
                    user_id: &str,
                    email: &str,
                    email_key: &str,
                    at: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<()> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query(
                        "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, \
                         updated_at = $3 WHERE id = $4",
                    )
                    .bind(email)
                    .bind(email_key)
                    .bind(to_micros(at))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("user"));
                    }
                    Self::commit_with(tx, events).await
                }
            }
        };
    };
}

pub(crate) use sql_flows;
