//! Users and their credentials, in SQL.
//!
//! Every change that must not interleave with a login in flight (a
//! password replacement, a disable, a deletion) first takes the user's row
//! with [`Dialect::FOR_UPDATE`](super::Dialect::FOR_UPDATE): on PostgreSQL
//! a row lock, taken before any session row, the order every writer
//! follows so no two transactions wait on each other; on SQLite the write
//! lock `BEGIN IMMEDIATE` already holds.

/// Users per multi-row `INSERT` (an import's chunk is written with a few):
/// 14 columns each, well under SQLite's parameter bound.
pub(crate) const USERS_PER_STATEMENT: usize = 500;

/// Implements [`crate::store::UserStore`] for a [`super::Dialect`].
macro_rules! sql_users {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::{Error, Result};
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::users::USERS_PER_STATEMENT;
            use $crate::store::sql::rows::{USER_COLUMNS, to_micros, user_from};
            use $crate::store::{EndSessions, ListAfter, UserFilter, UserRecord, UserStore};

            type Tx = sqlx::Transaction<'static, <$store as Dialect>::Db>;

            /// A `LIKE` pattern for keys starting with `prefix`, taken
            /// literally (`%`, `_` and `\` escaped).
            fn like_prefix(prefix: &str) -> String {
                let mut pattern = String::with_capacity(prefix.len() + 1);
                for c in prefix.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                pattern
            }

            impl $store {
                /// The user whose `column` (a fixed, indexed column name)
                /// equals `value`, from this view's reads.
                async fn user_where(
                    &self,
                    column: &'static str,
                    value: &str,
                ) -> Result<Option<UserRecord>> {
                    sqlx::query(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"
                    ))
                    .bind(value)
                    .fetch_optional(self.reads())
                    .await?
                    .as_ref()
                    .map(user_from)
                    .transpose()
                }

                /// Hold a user's row for the rest of the transaction; false
                /// if there is no such user.
                async fn lock_user_row(tx: &mut Tx, user_id: &str) -> Result<bool> {
                    let sql = format!(
                        "SELECT 1 FROM users WHERE id = $1{}",
                        <$store as Dialect>::FOR_UPDATE
                    );
                    Ok(sqlx::query(&sql)
                        .bind(user_id)
                        .fetch_optional(&mut **tx)
                        .await?
                        .is_some())
                }

                /// Insert a user and its initial roles in `tx`.
                async fn insert_user(tx: &mut Tx, user: &UserRecord, roles: &[&str]) -> Result<()> {
                    Self::insert_users_in(tx, &[(user, roles)]).await
                }

                /// Insert users and their initial roles in `tx`, with
                /// multi-row statements in slices that stay under SQLite's
                /// 32,766 bound parameters.
                async fn insert_users_in(tx: &mut Tx, users: &[(&UserRecord, &[&str])]) -> Result<()> {
                    for slice in users.chunks(USERS_PER_STATEMENT) {
                        let mut query = sqlx::QueryBuilder::<<$store as Dialect>::Db>::new(
                            format!("INSERT INTO users ({USER_COLUMNS}) "),
                        );
                        query.push_values(slice, |mut row, (user, _)| {
                            row.push_bind(&user.id)
                                .push_bind(&user.username)
                                .push_bind(&user.username_key)
                                .push_bind(&user.email)
                                .push_bind(&user.email_key)
                                .push_bind(&user.password_hash)
                                .push_bind(user.disabled)
                                .push_bind(to_micros(user.created_at))
                                .push_bind(to_micros(user.updated_at))
                                .push_bind(user.last_login_at.map(to_micros))
                                .push_bind(i64::from(user.failed_logins))
                                .push_bind(user.locked_until.map(to_micros))
                                .push_bind(user.credentials_version)
                                .push_bind(user.email_verified_at.map(to_micros));
                        });
                        query
                            .build()
                            .execute(&mut **tx)
                            .await
                            .map_err(<$store as Dialect>::violation)?;
                        let grants: Vec<(&str, &str, i64)> = slice
                            .iter()
                            .flat_map(|(user, roles)| {
                                roles.iter().map(move |role| {
                                    (user.id.as_str(), *role, to_micros(user.created_at))
                                })
                            })
                            .collect();
                        for grants in grants.chunks(USERS_PER_STATEMENT * 4) {
                            let mut query = sqlx::QueryBuilder::<<$store as Dialect>::Db>::new(
                                "INSERT INTO user_roles (user_id, role, granted_at) ",
                            );
                            query.push_values(grants, |mut row, (user_id, role, at)| {
                                row.push_bind(*user_id).push_bind(*role).push_bind(*at);
                            });
                            query
                                .build()
                                .execute(&mut **tx)
                                .await
                                .map_err(<$store as Dialect>::violation)?;
                        }
                    }
                    Ok(())
                }

                /// End every live session of a user but `except`; the ids
                /// it ended, sorted.
                async fn revoke_sessions_in(
                    tx: &mut Tx,
                    user_id: &str,
                    except: Option<&str>,
                    now: DateTime<Utc>,
                    reason: &str,
                ) -> Result<Vec<String>> {
                    let mut ended: Vec<String> = sqlx::query_scalar(
                        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
                         WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $1 \
                           AND (CAST($4 AS TEXT) IS NULL OR id <> $4) \
                         RETURNING id",
                    )
                    .bind(to_micros(now))
                    .bind(reason)
                    .bind(user_id)
                    .bind(except)
                    .fetch_all(&mut **tx)
                    .await?;
                    ended.sort_unstable();
                    Ok(ended)
                }
            }

            #[async_trait::async_trait]
            impl UserStore for $store {
                async fn create_user(
                    &self,
                    user: &UserRecord,
                    roles: &[&str],
                    events: &[Event],
                ) -> Result<()> {
                    let mut tx = self.begin().await?;
                    Self::insert_user(&mut tx, user, roles).await?;
                    Self::commit_with(tx, events).await?;
                    Ok(())
                }

                async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
                    self.user_where("id", id).await
                }

                async fn user_by_email_key(&self, email_key: &str) -> Result<Option<UserRecord>> {
                    self.user_where("email_key", email_key).await
                }

                async fn user_by_username_key(
                    &self,
                    username_key: &str,
                ) -> Result<Option<UserRecord>> {
                    self.user_where("username_key", username_key).await
                }

                async fn list_users(
                    &self,
                    after: Option<&ListAfter>,
                    filter: &UserFilter<'_>,
                    limit: u32,
                ) -> Result<Vec<UserRecord>> {
                    let limit = i64::from(limit);
                    // $1 and $2 are always bound, so the numbering holds
                    // with or without each filter.
                    let prefix = match filter.prefix {
                        Some(_) => "(email_key LIKE $1 ESCAPE '\\' OR username_key LIKE $1 ESCAPE '\\')",
                        None => "CAST($1 AS TEXT) IS NULL",
                    };
                    let role = match filter.role {
                        Some(_) => "id IN (SELECT user_id FROM user_roles WHERE role = $2)",
                        None => "CAST($2 AS TEXT) IS NULL",
                    };
                    let pattern = filter.prefix.map(like_prefix);
                    let rows = match after {
                        Some((at, id)) => {
                            sqlx::query(&format!(
                                "SELECT {USER_COLUMNS} FROM users \
                                 WHERE {prefix} AND {role} AND (created_at, id) > ($3, $4) \
                                 ORDER BY created_at, id LIMIT $5"
                            ))
                            .bind(pattern)
                            .bind(filter.role)
                            .bind(to_micros(*at))
                            .bind(id)
                            .bind(limit)
                            .fetch_all(self.reads())
                            .await?
                        }
                        None => {
                            sqlx::query(&format!(
                                "SELECT {USER_COLUMNS} FROM users WHERE {prefix} AND {role} \
                                 ORDER BY created_at, id LIMIT $3"
                            ))
                            .bind(pattern)
                            .bind(filter.role)
                            .bind(limit)
                            .fetch_all(self.reads())
                            .await?
                        }
                    };
                    rows.iter().map(user_from).collect()
                }

                async fn count_users(&self) -> Result<u64> {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                        .fetch_one(self.reads())
                        .await?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn update_identity(&self, user: &UserRecord, events: &[Event]) -> Result<()> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query(
                        "UPDATE users SET username = $1, username_key = $2, email = $3, \
                         email_key = $4, updated_at = $5, email_verified_at = $6 WHERE id = $7",
                    )
                    .bind(&user.username)
                    .bind(&user.username_key)
                    .bind(&user.email)
                    .bind(&user.email_key)
                    .bind(to_micros(user.updated_at))
                    .bind(user.email_verified_at.map(to_micros))
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(<$store as Dialect>::violation)?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("user"));
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(())
                }

                async fn update_password(
                    &self,
                    user_id: &str,
                    password_hash: &str,
                    replaces: Option<&str>,
                    now: DateTime<Utc>,
                    end: EndSessions<'_>,
                    events: &[Event],
                ) -> Result<Vec<String>> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    let done = sqlx::query(
                        "UPDATE users SET password_hash = $1, updated_at = $2, \
                         credentials_version = credentials_version + 1 \
                         WHERE id = $3 AND (CAST($4 AS TEXT) IS NULL OR password_hash = $4)",
                    )
                    .bind(password_hash)
                    .bind(to_micros(now))
                    .bind(user_id)
                    .bind(replaces)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        // The row is held, so only the hash can have moved on.
                        return Err(Error::InvalidCredentials);
                    }
                    let ended = match end {
                        EndSessions::AllExcept(keep) => {
                            Self::revoke_sessions_in(&mut tx, user_id, keep, now, "password_changed")
                                .await?
                        }
                        EndSessions::None => Vec::new(),
                    };
                    // A reset link mailed before the change must not undo
                    // it, nor a login proven by the old password finish.
                    sqlx::query(
                        "UPDATE one_time_secrets SET consumed_at = $1 \
                         WHERE user_id = $2 \
                           AND purpose IN ('reset_password', 'mfa_password', 'mfa_email') \
                           AND consumed_at IS NULL",
                    )
                    .bind(to_micros(now))
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                    Self::commit_with(tx, events).await?;
                    Ok(ended)
                }

                async fn rehash_password(
                    &self,
                    user_id: &str,
                    verified: &str,
                    rehashed: &str,
                ) -> Result<bool> {
                    // Behind a password change holding the row, the condition
                    // is checked again on the row it committed, and fails.
                    let done = sqlx::query(
                        "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3",
                    )
                    .bind(rehashed)
                    .bind(user_id)
                    .bind(verified)
                    .execute(self.writes())
                    .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn set_disabled(
                    &self,
                    user_id: &str,
                    disabled: bool,
                    now: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<Vec<String>> {
                    let mut tx = self.begin().await?;
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Err(Error::not_found("user"));
                    }
                    sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
                        .bind(disabled)
                        .bind(to_micros(now))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    let ended = if disabled {
                        Self::revoke_sessions_in(&mut tx, user_id, None, now, "disabled").await?
                    } else {
                        Vec::new()
                    };
                    Self::commit_with(tx, events).await?;
                    Ok(ended)
                }

                async fn touch_login(&self, user_id: &str, now: DateTime<Utc>) -> Result<()> {
                    sqlx::query(
                        "UPDATE users SET last_login_at = $1, failed_logins = 0, \
                         locked_until = NULL WHERE id = $2",
                    )
                    .bind(to_micros(now))
                    .bind(user_id)
                    .execute(self.writes())
                    .await?;
                    Ok(())
                }

                async fn record_failed_login(&self, user_id: &str, events: &[Event]) -> Result<u32> {
                    let mut tx = self.begin().await?;
                    // One statement, so racing failures never read the same
                    // old count: the row (or SQLite's write) lock orders them.
                    let count: Option<i64> = sqlx::query_scalar(
                        "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 \
                         RETURNING failed_logins",
                    )
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let count = $crate::store::failed_logins(
                        count.ok_or_else(|| Error::not_found("user"))?,
                    )?;
                    Self::commit_with(tx, events).await?;
                    Ok(count)
                }

                async fn lock_user(
                    &self,
                    user_id: &str,
                    until: DateTime<Utc>,
                    events: &[Event],
                ) -> Result<()> {
                    let mut tx = self.begin().await?;
                    let done = sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                        .bind(to_micros(until))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(Error::not_found("user"));
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(())
                }

                async fn unlock_user(&self, user_id: &str) -> Result<bool> {
                    let mut tx = self.begin().await?;
                    let sql = format!(
                        "SELECT failed_logins <> 0 OR locked_until IS NOT NULL FROM users \
                         WHERE id = $1{}",
                        <$store as Dialect>::FOR_UPDATE
                    );
                    let had: Option<bool> = sqlx::query_scalar(&sql)
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let had = had.ok_or_else(|| Error::not_found("user"))?;
                    if had {
                        sqlx::query(
                            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                        )
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(had)
                }

                async fn delete_user(
                    &self,
                    user_id: &str,
                    events: &[Event],
                ) -> Result<Option<Vec<String>>> {
                    let now = $crate::store::now();
                    let mut tx = self.begin().await?;
                    // With the user's row held no session can start or end
                    // between these statements, so the ids are exactly the
                    // sessions that were live. The rest (ended sessions,
                    // refresh tokens, grants) go with the user through ON
                    // DELETE CASCADE.
                    if !Self::lock_user_row(&mut tx, user_id).await? {
                        return Ok(None);
                    }
                    let mut live: Vec<String> = sqlx::query_scalar(
                        "DELETE FROM sessions \
                         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                         RETURNING id",
                    )
                    .bind(user_id)
                    .bind(to_micros(now))
                    .fetch_all(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM users WHERE id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    Self::commit_with(tx, events).await?;
                    live.sort_unstable();
                    Ok(Some(live))
                }
            }
        };
    };
}
pub(crate) use sql_users;
