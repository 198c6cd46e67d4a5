//! Passkeys, in SQL.

use super::rows::{Columns, opt_time, time};
use crate::error::{Error, Result};
use crate::store::PasskeyRecord;

pub(crate) const PASSKEY_COLUMNS: &str = "id, user_id, name, credential, sign_count, \
     backup_eligible, backup_state, created_at, last_used_at";

/// A stored passkey, checked.
pub(crate) fn passkey_from<R: Columns>(row: &R) -> Result<PasskeyRecord> {
    let count = row.int("sign_count")?;
    Ok(PasskeyRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        name: row.text("name")?,
        credential: row.text("credential")?,
        sign_count: u32::try_from(count)
            .map_err(|_| Error::Storage(format!("passkey counter out of range: {count}")))?,
        backup_eligible: row.flag("backup_eligible")?,
        backup_state: row.flag("backup_state")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
    })
}

/// Implements [`crate::store::PasskeyStore`] for a [`super::Dialect`].
macro_rules! sql_passkeys {
    ($store:ty) => {
        const _: () = {
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::passkeys::{PASSKEY_COLUMNS, passkey_from};
            use $crate::store::sql::rows::to_micros;
            use $crate::store::{PasskeyRecord, PasskeyStore, PasskeyUse};

            #[async_trait::async_trait]
            impl PasskeyStore for $store {
                async fn add_passkey(
                    &self,
                    passkey: &PasskeyRecord,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, &passkey.user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    let done = sqlx::query(&format!(
                        "INSERT INTO passkeys ({PASSKEY_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (id) DO NOTHING"
                    ))
                    .bind(&passkey.id)
                    .bind(&passkey.user_id)
                    .bind(&passkey.name)
                    .bind(&passkey.credential)
                    .bind(i64::from(passkey.sign_count))
                    .bind(passkey.backup_eligible)
                    .bind(passkey.backup_state)
                    .bind(to_micros(passkey.created_at))
                    .bind(passkey.last_used_at.map(to_micros))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }

                async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>> {
                    let rows = sqlx::query(&format!(
                        "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 \
                         ORDER BY created_at, id"
                    ))
                    .bind(user_id)
                    .fetch_all(self.writes())
                    .await?;
                    rows.iter().map(passkey_from).collect()
                }

                async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>> {
                    let row = sqlx::query(&format!(
                        "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.writes())
                    .await?;
                    row.as_ref().map(passkey_from).transpose()
                }

                async fn use_passkey(&self, id: &str, used: &PasskeyUse) -> Result<bool> {
                    let count = i64::from(used.sign_count);
                    let done = sqlx::query(
                        "UPDATE passkeys SET credential = $1, sign_count = $2, \
                           backup_eligible = $3, backup_state = $4, last_used_at = $5 \
                         WHERE id = $6 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
                    )
                    .bind(&used.credential)
                    .bind(count)
                    .bind(used.backup_eligible)
                    .bind(used.backup_state)
                    .bind(to_micros(used.at))
                    .bind(id)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn rename_passkey(
                    &self,
                    user_id: &str,
                    id: &str,
                    name: &str,
                ) -> Result<bool> {
                    let done =
                        sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
                            .bind(name)
                            .bind(id)
                            .bind(user_id)
                            .execute(self.writes())
                            .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_passkey(
                    &self,
                    user_id: &str,
                    id: &str,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Ok(false);
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }
            }
        };
    };
}
pub(crate) use sql_passkeys;
