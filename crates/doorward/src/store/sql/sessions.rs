//! Sessions and refresh-token families, in SQL.
//!
//! A session write that depends on its user (a new session, a rotation)
//! first reads the user with [`Dialect::FOR_KEY_SHARE`](super::Dialect::FOR_KEY_SHARE),
//! so a password change, disable or deletion committing meanwhile either
//! comes first and is seen, or waits for this write and then ends what it
//! wrote. Racing rotations of one token queue on its row (or SQLite's write
//! lock); the second finds `used_at` set and changes nothing.

/// Implements [`crate::store::SessionStore`] for a [`super::Dialect`].
macro_rules! sql_sessions {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::rows::{
                REFRESH_COLUMNS, SESSION_COLUMNS, refresh_from, session_from, to_micros,
            };
            use $crate::store::{RefreshRecord, Rotation, SessionRecord, SessionStore};

            type Tx = sqlx::Transaction<'static, <$store as Dialect>::Db>;

            impl $store {
                /// Hold a user's row against password changes, disables and
                /// deletion for the rest of the transaction, and read its
                /// state as of their commit: `(disabled, credentials_version)`.
                async fn lock_live_user(tx: &mut Tx, user_id: &str) -> Result<Option<(bool, i64)>> {
                    let sql = format!(
                        "SELECT disabled, credentials_version FROM users WHERE id = $1{}",
                        <$store as Dialect>::FOR_KEY_SHARE
                    );
                    Ok(sqlx::query_as(&sql)
                        .bind(user_id)
                        .fetch_optional(&mut **tx)
                        .await?)
                }

                async fn insert_refresh(tx: &mut Tx, r: &RefreshRecord) -> Result<()> {
                    sqlx::query(&format!(
                        "INSERT INTO refresh_tokens ({REFRESH_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6)"
                    ))
                    .bind(&r.token_hash)
                    .bind(&r.session_id)
                    .bind(&r.user_id)
                    .bind(to_micros(r.created_at))
                    .bind(to_micros(r.expires_at))
                    .bind(r.used_at.map(to_micros))
                    .execute(&mut **tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    Ok(())
                }
            }

            #[async_trait::async_trait]
            impl SessionStore for $store {
                async fn create_session(
                    &self,
                    session: &SessionRecord,
                    refresh: &RefreshRecord,
                    credentials_version: i64,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    match Self::lock_live_user(&mut tx, &session.user_id).await? {
                        None => return Err(Error::not_found("user")),
                        Some((disabled, version)) if disabled || version != credentials_version => {
                            return Ok(false);
                        }
                        Some(_) => {}
                    }
                    sqlx::query(&format!(
                        "INSERT INTO sessions ({SESSION_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .bind(&session.id)
                    .bind(&session.user_id)
                    .bind(to_micros(session.created_at))
                    .bind(to_micros(session.expires_at))
                    .bind(session.last_refreshed_at.map(to_micros))
                    .bind(&session.ip)
                    .bind(&session.user_agent)
                    .bind(session.revoked_at.map(to_micros))
                    .bind(&session.revoked_reason)
                    .bind(serde_json::to_string(&session.amr).map_err(|e| {
                        Error::Internal(format!("cannot encode a session's amr: {e}"))
                    })?)
                    .bind(i64::from(session.aal))
                    .bind(to_micros(session.auth_time))
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    Self::insert_refresh(&mut tx, refresh).await?;
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }

                async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
                    sqlx::query(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(session_from)
                    .transpose()
                }

                async fn live_sessions(
                    &self,
                    user_id: &str,
                    now: DateTime<Utc>,
                ) -> Result<Vec<SessionRecord>> {
                    sqlx::query(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions \
                         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                         ORDER BY created_at DESC, id DESC"
                    ))
                    .bind(user_id)
                    .bind(to_micros(now))
                    .fetch_all(self.reads())
                    .await?
                    .iter()
                    .map(session_from)
                    .collect()
                }

                async fn count_live_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM sessions \
                         WHERE revoked_at IS NULL AND expires_at > $1",
                    )
                    .bind(to_micros(now))
                    .fetch_one(self.reads())
                    .await?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn revoke_session(
                    &self,
                    id: &str,
                    now: DateTime<Utc>,
                    reason: &str,
                    events: &[Event],
                ) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query(
                        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                         WHERE id = $3 AND revoked_at IS NULL AND expires_at > $1",
                    )
                    .bind(to_micros(now))
                    .bind(reason)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    Self::commit_one(tx, done.rows_affected(), events).await
                }

                async fn revoke_user_sessions(
                    &self,
                    user_id: &str,
                    except: Option<&str>,
                    now: DateTime<Utc>,
                    reason: &str,
                    events: &[Event],
                ) -> Result<Vec<String>> {
                    let mut tx = self.begin().await?;
                    let ended =
                        Self::revoke_sessions_in(&mut tx, user_id, except, now, reason).await?;
                    if !ended.is_empty() {
                        Self::insert_events(&mut tx, events).await?;
                    }
                    tx.commit().await?;
                    Ok(ended)
                }

                async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
                    sqlx::query(&format!(
                        "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
                    ))
                    .bind(token_hash)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(refresh_from)
                    .transpose()
                }

                async fn rotate_refresh(
                    &self,
                    old_hash: &str,
                    new: &RefreshRecord,
                    now: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<Rotation> {
                    let mut tx = self.begin().await?;
                    let enabled = matches!(
                        Self::lock_live_user(&mut tx, &new.user_id).await?,
                        Some((false, _))
                    );
                    let claimed = sqlx::query(
                        "UPDATE refresh_tokens SET used_at = $1 \
                         WHERE token_hash = $2 AND used_at IS NULL",
                    )
                    .bind(to_micros(now))
                    .bind(old_hash)
                    .execute(&mut *tx)
                    .await?;
                    if claimed.rows_affected() != 1 {
                        let used: Option<bool> = sqlx::query_scalar(
                            "SELECT used_at IS NOT NULL FROM refresh_tokens WHERE token_hash = $1",
                        )
                        .bind(old_hash)
                        .fetch_optional(&mut *tx)
                        .await?;
                        tx.rollback().await?;
                        return Ok(match used {
                            Some(true) => Rotation::AlreadyUsed,
                            _ => Rotation::Ended,
                        });
                    }
                    if !enabled {
                        tx.rollback().await?;
                        return Ok(Rotation::Ended);
                    }
                    // A revocation committing first leaves `revoked_at` set,
                    // which this condition sees on the row it waited for.
                    let extended = sqlx::query(
                        "UPDATE sessions SET expires_at = $1, last_refreshed_at = $2 \
                         WHERE id = $3 AND revoked_at IS NULL",
                    )
                    .bind(to_micros(new.expires_at))
                    .bind(to_micros(now))
                    .bind(&new.session_id)
                    .execute(&mut *tx)
                    .await?;
                    if extended.rows_affected() != 1 {
                        tx.rollback().await?;
                        return Ok(Rotation::Ended);
                    }
                    Self::insert_refresh(&mut tx, new).await?;
                    Self::commit_with(tx, events).await?;
                    Ok(Rotation::Rotated)
                }
            }
        };
    };
}
pub(crate) use sql_sessions;
