//! The embedded default: SQLite through sqlx, in WAL mode.
//!
//! Migrations are compiled in (`migrations/sqlite`) and applied by
//! [`Store::migrate`], which `Doorward::open` and `doorward migrate` call.
//! Uniqueness of email and username is left to the unique indexes, so 50
//! racing registrations of one address end as one row and 49
//! `duplicate_email` errors.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::outbox::rows::to_micros;
use super::{
    EndSessions, ListAfter, RefreshRecord, RoleStore, Rotation, SessionRecord, SessionStore, Store,
    UserRecord, UserStore, failed_logins,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::rbac::Role;

mod outbox;
use outbox::insert_events;

fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::Storage(format!("timestamp out of range: {us}")))
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite backend (`sqlite://path` or `sqlite::memory:`).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
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
            SqlitePoolOptions::new()
                .max_connections(config.database_max_connections)
                .min_connections(config.database_min_connections)
                .acquire_timeout(Duration::from_secs(config.database_acquire_timeout))
                .connect_with(
                    options
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal),
                )
                .await?
        };
        Ok(SqliteStore { pool })
    }

    /// The user whose `column` (a fixed, indexed column name) equals `value`.
    async fn user_where(&self, column: &'static str, value: &str) -> Result<Option<UserRecord>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {column} = ?"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    /// Start a write transaction that takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so concurrent writers queue on the busy timeout
    /// instead of failing when a read lock would have to be upgraded.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Maps a unique-index violation to the domain error it means.
fn unique_violation(err: sqlx::Error) -> Error {
    if let Some(db) = err.as_database_error()
        && db.is_unique_violation()
    {
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

fn opt_time(row: &SqliteRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(column)?
        .map(from_micros)
        .transpose()
}

fn time(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>> {
    from_micros(row.try_get(column)?)
}

fn user_from(row: &SqliteRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        username_key: row.try_get("username_key")?,
        email: row.try_get("email")?,
        email_key: row.try_get("email_key")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get("disabled")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        last_login_at: opt_time(row, "last_login_at")?,
        failed_logins: failed_logins(row.try_get("failed_logins")?)?,
        locked_until: opt_time(row, "locked_until")?,
        credentials_version: row.try_get("credentials_version")?,
    })
}

fn session_from(row: &SqliteRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        last_refreshed_at: opt_time(row, "last_refreshed_at")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        revoked_at: opt_time(row, "revoked_at")?,
        revoked_reason: row.try_get("revoked_reason")?,
    })
}

fn refresh_from(row: &SqliteRow) -> Result<RefreshRecord> {
    Ok(RefreshRecord {
        token_hash: row.try_get("token_hash")?,
        session_id: row.try_get("session_id")?,
        user_id: row.try_get("user_id")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        used_at: opt_time(row, "used_at")?,
    })
}

fn role_from(row: &SqliteRow) -> Result<Role> {
    let permissions: String = row.try_get("permissions")?;
    Ok(Role {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        permissions: serde_json::from_str(&permissions)
            .map_err(|e| Error::Storage(format!("role permissions are not a JSON list: {e}")))?,
        builtin: row.try_get("builtin")?,
        created_at: time(row, "created_at")?,
    })
}

const USER_COLUMNS: &str = "id, username, username_key, email, email_key, password_hash, \
     disabled, created_at, updated_at, last_login_at, failed_logins, locked_until, \
     credentials_version";
const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, last_refreshed_at, ip, \
     user_agent, revoked_at, revoked_reason";

async fn revoke_sessions_in(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: &str,
    except: Option<&str>,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<String>> {
    let mut ended: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2 \
         WHERE user_id = ?3 AND revoked_at IS NULL AND expires_at > ?1 \
           AND (?4 IS NULL OR id <> ?4) \
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

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, user: &UserRecord, roles: &[&str], events: &[Event]) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, email_key, password_hash, \
             disabled, created_at, updated_at, last_login_at, failed_logins, locked_until, \
             credentials_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.username_key)
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(&user.password_hash)
        .bind(user.disabled)
        .bind(to_micros(user.created_at))
        .bind(to_micros(user.updated_at))
        .bind(user.last_login_at.map(to_micros))
        .bind(i64::from(user.failed_logins))
        .bind(user.locked_until.map(to_micros))
        .bind(user.credentials_version)
        .execute(&mut *tx)
        .await
        .map_err(unique_violation)?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)")
                .bind(&user.id)
                .bind(role)
                .bind(to_micros(user.created_at))
                .execute(&mut *tx)
                .await?;
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
        self.user_where("id", id).await
    }

    async fn user_by_email_key(&self, email_key: &str) -> Result<Option<UserRecord>> {
        self.user_where("email_key", email_key).await
    }

    async fn user_by_username_key(&self, username_key: &str) -> Result<Option<UserRecord>> {
        self.user_where("username_key", username_key).await
    }

    async fn list_users(&self, after: Option<&ListAfter>, limit: u32) -> Result<Vec<UserRecord>> {
        let rows = match after {
            Some((at, id)) => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE (created_at, id) > (?, ?) \
                     ORDER BY created_at, id LIMIT ?"
                ))
                .bind(to_micros(*at))
                .bind(id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id LIMIT ?"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(user_from).collect()
    }

    async fn update_identity(&self, user: &UserRecord, events: &[Event]) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE users SET username = ?, username_key = ?, email = ?, email_key = ?, \
             updated_at = ? WHERE id = ?",
        )
        .bind(&user.username)
        .bind(&user.username_key)
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(to_micros(user.updated_at))
        .bind(&user.id)
        .execute(&mut *tx)
        .await
        .map_err(unique_violation)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user"));
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
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
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = ?1, updated_at = ?2, \
             credentials_version = credentials_version + 1 \
             WHERE id = ?3 AND (?4 IS NULL OR password_hash = ?4)",
        )
        .bind(password_hash)
        .bind(to_micros(now))
        .bind(user_id)
        .bind(replaces)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ?")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => Error::InvalidCredentials,
                None => Error::not_found("user"),
            });
        }
        let ended = match end {
            EndSessions::AllExcept(keep) => {
                revoke_sessions_in(&mut tx, user_id, keep, now, "password_changed").await?
            }
            EndSessions::None => Vec::new(),
        };
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn rehash_password(&self, user_id: &str, verified: &str, rehashed: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?")
                .bind(rehashed)
                .bind(user_id)
                .bind(verified)
                .execute(&self.pool)
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
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?")
            .bind(disabled)
            .bind(to_micros(now))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user"));
        }
        let ended = if disabled {
            revoke_sessions_in(&mut tx, user_id, None, now, "disabled").await?
        } else {
            Vec::new()
        };
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn touch_login(&self, user_id: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE users SET last_login_at = ?, failed_logins = 0, locked_until = NULL \
             WHERE id = ?",
        )
        .bind(to_micros(now))
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn record_failed_login(&self, user_id: &str, events: &[Event]) -> Result<u32> {
        let mut tx = self.write().await?;
        // One statement: the increment happens under SQLite's write lock, so
        // racing failures never read the same old count.
        let count: Option<i64> = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? \
             RETURNING failed_logins",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let count = failed_logins(count.ok_or_else(|| Error::not_found("user"))?)?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn lock_user(&self, user_id: &str, until: DateTime<Utc>, events: &[Event]) -> Result<()> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE users SET locked_until = ? WHERE id = ?")
            .bind(to_micros(until))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("user"));
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unlock_user(&self, user_id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL \
             WHERE id = ? AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
        )
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        // Nothing changed: either nothing to clear, or no such user.
        match self.user_where("id", user_id).await? {
            Some(_) => Ok(false),
            None => Err(Error::not_found("user")),
        }
    }

    async fn delete_user(&self, user_id: &str, events: &[Event]) -> Result<Option<Vec<String>>> {
        let now = super::now();
        let mut tx = self.write().await?;
        // Under the write lock nothing can start or end a session between
        // these statements, so the ids are exactly the sessions that were
        // live. The rest (ended sessions, refresh tokens, grants) go with
        // the user through ON DELETE CASCADE.
        let mut live: Vec<String> = sqlx::query_scalar(
            "DELETE FROM sessions \
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? \
             RETURNING id",
        )
        .bind(user_id)
        .bind(to_micros(now))
        .fetch_all(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        live.sort_unstable();
        Ok(Some(live))
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        credentials_version: i64,
        events: &[Event],
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        // The write lock is held from BEGIN IMMEDIATE, so the user read here
        // is the one the insert commits against.
        let user: Option<(bool, i64)> =
            sqlx::query_as("SELECT disabled, credentials_version FROM users WHERE id = ?")
                .bind(&session.user_id)
                .fetch_optional(&mut *tx)
                .await?;
        match user {
            None => return Err(Error::not_found("user")),
            Some((disabled, version)) if disabled || version != credentials_version => {
                return Ok(false);
            }
            Some(_) => {}
        }
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, last_refreshed_at, ip, \
             user_agent, revoked_at, revoked_reason) \
             SELECT ?, id, ?, ?, ?, ?, ?, ?, ? FROM users WHERE id = ?",
        )
        .bind(&session.id)
        .bind(to_micros(session.created_at))
        .bind(to_micros(session.expires_at))
        .bind(session.last_refreshed_at.map(to_micros))
        .bind(&session.ip)
        .bind(&session.user_agent)
        .bind(session.revoked_at.map(to_micros))
        .bind(&session.revoked_reason)
        .bind(&session.user_id)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(Error::not_found("user"));
        }
        insert_refresh(&mut tx, refresh).await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_from)
        .transpose()
    }

    async fn live_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id)
        .bind(to_micros(now))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_from)
        .collect()
    }

    async fn count_live_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > ?",
        )
        .bind(to_micros(now))
        .fetch_one(&self.pool)
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
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2 \
             WHERE id = ?3 AND revoked_at IS NULL AND expires_at > ?1",
        )
        .bind(to_micros(now))
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        now: DateTime<Utc>,
        reason: &str,
        events: &[Event],
    ) -> Result<Vec<String>> {
        let mut tx = self.write().await?;
        let ended = revoke_sessions_in(&mut tx, user_id, except, now, reason).await?;
        if !ended.is_empty() {
            insert_events(&mut tx, events).await?;
        }
        tx.commit().await?;
        Ok(ended)
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        sqlx::query(
            "SELECT token_hash, session_id, user_id, created_at, expires_at, used_at \
             FROM refresh_tokens WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
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
        let mut tx = self.write().await?;
        let claimed = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        )
        .bind(to_micros(now))
        .bind(old_hash)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            let used: Option<Option<i64>> =
                sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = ?")
                    .bind(old_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.rollback().await?;
            return Ok(match used {
                Some(Some(_)) => Rotation::AlreadyUsed,
                _ => Rotation::Ended,
            });
        }
        let extended = sqlx::query(
            "UPDATE sessions SET expires_at = ?, last_refreshed_at = ? \
             WHERE id = ? AND revoked_at IS NULL AND EXISTS \
               (SELECT 1 FROM users WHERE users.id = sessions.user_id AND NOT users.disabled)",
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
        insert_refresh(&mut tx, new).await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated)
    }
}

async fn insert_refresh(tx: &mut Transaction<'static, Sqlite>, r: &RefreshRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, \
         used_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.token_hash)
    .bind(&r.session_id)
    .bind(&r.user_id)
    .bind(to_micros(r.created_at))
    .bind(to_micros(r.expires_at))
    .bind(r.used_at.map(to_micros))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl RoleStore for SqliteStore {
    async fn ensure_roles(&self, roles: &[Role]) -> Result<()> {
        let mut tx = self.write().await?;
        for role in roles {
            insert_role(&mut tx, role, "INSERT OR IGNORE").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_role(&self, role: &Role, events: &[Event]) -> Result<()> {
        let mut tx = self.write().await?;
        insert_role(&mut tx, role, "INSERT").await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_role(&self, name: &str, events: &[Event]) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM roles WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn role(&self, name: &str) -> Result<Option<Role>> {
        sqlx::query(
            "SELECT name, description, permissions, builtin, created_at FROM roles WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(role_from)
        .transpose()
    }

    async fn list_roles(&self) -> Result<Vec<Role>> {
        sqlx::query(
            "SELECT name, description, permissions, builtin, created_at FROM roles ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(role_from)
        .collect()
    }

    async fn grant_role(
        &self,
        user_id: &str,
        role: &str,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let user = sqlx::query("SELECT 1 FROM users WHERE id = ?")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if user.is_none() {
            return Err(Error::not_found("user"));
        }
        let found = sqlx::query("SELECT 1 FROM roles WHERE name = ?")
            .bind(role)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(Error::not_found("role"));
        }
        let done = sqlx::query(
            "INSERT OR IGNORE INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)",
        )
        .bind(user_id)
        .bind(role)
        .bind(to_micros(now))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_role(&self, user_id: &str, role: &str, events: &[Event]) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM user_roles WHERE user_id = ? AND role = ?")
            .bind(user_id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn user_roles(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = ? ORDER BY role")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>> {
        let lists: Vec<String> = sqlx::query_scalar(
            "SELECT r.permissions FROM user_roles ur \
             JOIN roles r ON r.name = ur.role \
             JOIN users u ON u.id = ur.user_id \
             WHERE ur.user_id = ? AND u.disabled = 0",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut all = Vec::new();
        for list in lists {
            let perms: Vec<String> = serde_json::from_str(&list).map_err(|e| {
                Error::Storage(format!("role permissions are not a JSON list: {e}"))
            })?;
            all.extend(perms);
        }
        Ok(all)
    }
}

async fn insert_role(tx: &mut Transaction<'static, Sqlite>, role: &Role, verb: &str) -> Result<()> {
    let permissions = serde_json::to_string(&role.permissions)
        .map_err(|e| Error::Internal(format!("cannot encode permissions: {e}")))?;
    sqlx::query(&format!(
        "{verb} INTO roles (name, description, permissions, builtin, created_at) \
         VALUES (?, ?, ?, ?, ?)"
    ))
    .bind(&role.name)
    .bind(&role.description)
    .bind(permissions)
    .bind(role.builtin)
    .bind(to_micros(role.created_at))
    .execute(&mut **tx)
    .await
    .map_err(unique_violation)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn for_reads(&self) -> &dyn Store {
        self
    }
}

super::login_clients::sql_login_clients!(SqliteStore, pool);
