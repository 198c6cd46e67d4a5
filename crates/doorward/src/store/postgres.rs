//! PostgreSQL through sqlx, for deployments with several application
//! instances, and read replicas for the reads that may lag.
//!
//! Migrations are compiled in (`migrations/postgres`, the same versions as
//! SQLite's) and applied on the primary by [`Store::migrate`]; sqlx holds an
//! advisory lock while it migrates, so instances starting together do not
//! race. Uniqueness is left to the unique indexes and rotation to a
//! conditional `UPDATE`, whose row lock makes the second of two racing
//! refreshes see the first one's `used_at`: one winner, as on every backend.
//!
//! With `database_read_urls`, [`Store::for_reads`] hands out a view whose
//! reads go to the next replica in turn; its writes still go to the primary.
//! Every other read (login, refresh, session checks, permission and cache
//! fills) stays on the primary, so it sees a write just made.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Row, Transaction};

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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The PostgreSQL backend (`postgres://…` or `postgresql://…`).
#[derive(Debug)]
pub struct PostgresStore {
    /// The primary: every write, and every read of this view unless it is a
    /// replica view.
    write: PgPool,
    /// Where this view's reads go: the primary, or one replica.
    read: PgPool,
    /// One view per replica, handed out in turn by [`Store::for_reads`].
    replicas: Vec<PostgresStore>,
    next_replica: AtomicUsize,
}

impl PostgresStore {
    /// Connect to the primary `database_url` and to each of
    /// `database_read_urls`, with the configured pool settings.
    ///
    /// Every URL is connected at once, so a wrong address or password is
    /// reported by `open`, not by the first request.
    pub async fn connect(config: &Config) -> Result<Self> {
        let write = pool(&config.database_url, config).await?;
        let mut replicas = Vec::with_capacity(config.database_read_urls.len());
        for url in &config.database_read_urls {
            let read = pool(url, config).await?;
            replicas.push(PostgresStore {
                write: write.clone(),
                read,
                replicas: Vec::new(),
                next_replica: AtomicUsize::new(0),
            });
        }
        Ok(PostgresStore {
            read: write.clone(),
            write,
            replicas,
            next_replica: AtomicUsize::new(0),
        })
    }

    /// The user whose `column` (a fixed, indexed column name) equals `value`.
    async fn user_where(&self, column: &'static str, value: &str) -> Result<Option<UserRecord>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.write.begin().await?)
    }
}

async fn pool(url: &str, config: &Config) -> Result<PgPool> {
    // The URL may hold a password: never repeat it in the error.
    let options = PgConnectOptions::from_str(url)
        .map_err(|_| Error::Config("a PostgreSQL database URL is not valid".into()))?
        .application_name("doorward");
    Ok(PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .min_connections(config.database_min_connections)
        .acquire_timeout(Duration::from_secs(config.database_acquire_timeout))
        .connect_with(options)
        .await?)
}

/// Maps constraint violations to the domain errors they mean.
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

fn user_from(row: &PgRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        username_key: row.try_get("username_key")?,
        email: row.try_get("email")?,
        email_key: row.try_get("email_key")?,
        password_hash: row.try_get("password_hash")?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_login_at: row.try_get("last_login_at")?,
        failed_logins: failed_logins(row.try_get::<i32, _>("failed_logins")?.into())?,
        locked_until: row.try_get("locked_until")?,
        credentials_version: row.try_get("credentials_version")?,
    })
}

fn session_from(row: &PgRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_refreshed_at: row.try_get("last_refreshed_at")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
        revoked_at: row.try_get("revoked_at")?,
        revoked_reason: row.try_get("revoked_reason")?,
    })
}

fn refresh_from(row: &PgRow) -> Result<RefreshRecord> {
    Ok(RefreshRecord {
        token_hash: row.try_get("token_hash")?,
        session_id: row.try_get("session_id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
    })
}

fn role_from(row: &PgRow) -> Result<Role> {
    Ok(Role {
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        permissions: row.try_get("permissions")?,
        builtin: row.try_get("builtin")?,
        created_at: row.try_get("created_at")?,
    })
}

const USER_COLUMNS: &str = "id, username, username_key, email, email_key, password_hash, \
     disabled, created_at, updated_at, last_login_at, failed_logins, locked_until, \
     credentials_version";
const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, last_refreshed_at, ip, \
     user_agent, revoked_at, revoked_reason";
const ROLE_COLUMNS: &str = "name, description, permissions, builtin, created_at";

async fn revoke_sessions_in(
    tx: &mut Transaction<'static, Postgres>,
    user_id: &str,
    except: Option<&str>,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<String>> {
    let mut ended: Vec<String> = sqlx::query_scalar(
        "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 \
         WHERE user_id = $3 AND revoked_at IS NULL AND expires_at > $1 \
           AND ($4::text IS NULL OR id <> $4) \
         RETURNING id",
    )
    .bind(now)
    .bind(reason)
    .bind(user_id)
    .bind(except)
    .fetch_all(&mut **tx)
    .await?;
    ended.sort_unstable();
    Ok(ended)
}

/// Lock a user's row for the rest of the transaction; false if there is no
/// such user. Session inserts check their user under a key-share lock, so
/// none can start while this is held.
async fn lock_user_row(tx: &mut Transaction<'static, Postgres>, user_id: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .is_some())
}

/// Hold a user's row against password changes, disables and deletion (all
/// of which take it `FOR UPDATE`) for the rest of the transaction, and read
/// its state as of their commit: `(disabled, credentials_version)`. Taken
/// before any session row, the order every writer follows, so no two
/// transactions wait on each other.
async fn lock_live_user(
    tx: &mut Transaction<'static, Postgres>,
    user_id: &str,
) -> Result<Option<(bool, i64)>> {
    Ok(sqlx::query_as(
        "SELECT disabled, credentials_version FROM users WHERE id = $1 FOR KEY SHARE",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?)
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn create_user(&self, user: &UserRecord, roles: &[&str], events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, username, username_key, email, email_key, password_hash, \
             disabled, created_at, updated_at, last_login_at, failed_logins, locked_until, \
             credentials_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.username_key)
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(&user.password_hash)
        .bind(user.disabled)
        .bind(user.created_at)
        .bind(user.updated_at)
        .bind(user.last_login_at)
        .bind(i32::try_from(user.failed_logins).unwrap_or(i32::MAX))
        .bind(user.locked_until)
        .bind(user.credentials_version)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
        for role in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3)")
                .bind(&user.id)
                .bind(role)
                .bind(user.created_at)
                .execute(&mut *tx)
                .await
                .map_err(violation)?;
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
                    "SELECT {USER_COLUMNS} FROM users WHERE (created_at, id) > ($1, $2) \
                     ORDER BY created_at, id LIMIT $3"
                ))
                .bind(at)
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter().map(user_from).collect()
    }

    async fn update_identity(&self, user: &UserRecord, events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET username = $1, username_key = $2, email = $3, email_key = $4, \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&user.username)
        .bind(&user.username_key)
        .bind(&user.email)
        .bind(&user.email_key)
        .bind(user.updated_at)
        .bind(&user.id)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
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
        let mut tx = self.begin().await?;
        if !lock_user_row(&mut tx, user_id).await? {
            return Err(Error::not_found("user"));
        }
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2, \
             credentials_version = credentials_version + 1 \
             WHERE id = $3 AND ($4::text IS NULL OR password_hash = $4)",
        )
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .bind(replaces)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::InvalidCredentials);
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
        // Behind a password change holding the row, the condition is
        // checked again on the row it committed, and fails.
        let done =
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
                .bind(rehashed)
                .bind(user_id)
                .bind(verified)
                .execute(&self.write)
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
        if !lock_user_row(&mut tx, user_id).await? {
            return Err(Error::not_found("user"));
        }
        sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(disabled)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
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
            "UPDATE users SET last_login_at = $1, failed_logins = 0, locked_until = NULL \
             WHERE id = $2",
        )
        .bind(now)
        .bind(user_id)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    async fn record_failed_login(&self, user_id: &str, events: &[Event]) -> Result<u32> {
        let mut tx = self.begin().await?;
        // The row lock of the UPDATE serialises racing failures: each one
        // reads the count the previous one wrote.
        let count: Option<i32> = sqlx::query_scalar(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 \
             RETURNING failed_logins",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let count = failed_logins(count.ok_or_else(|| Error::not_found("user"))?.into())?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(count)
    }

    async fn lock_user(&self, user_id: &str, until: DateTime<Utc>, events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(until)
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
        let mut tx = self.begin().await?;
        let had: Option<bool> = sqlx::query_scalar(
            "SELECT failed_logins <> 0 OR locked_until IS NOT NULL FROM users \
             WHERE id = $1 FOR UPDATE",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let had = had.ok_or_else(|| Error::not_found("user"))?;
        if had {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(had)
    }

    async fn delete_user(&self, user_id: &str, events: &[Event]) -> Result<Option<Vec<String>>> {
        let now = super::now();
        let mut tx = self.begin().await?;
        // With the user's row locked no session can start or end between
        // these statements, so the ids are exactly the sessions that were
        // live. The rest (ended sessions, refresh tokens, grants) go with
        // the user through ON DELETE CASCADE.
        if !lock_user_row(&mut tx, user_id).await? {
            return Ok(None);
        }
        let mut live: Vec<String> = sqlx::query_scalar(
            "DELETE FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             RETURNING id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        live.sort_unstable();
        Ok(Some(live))
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        credentials_version: i64,
        events: &[Event],
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        match lock_live_user(&mut tx, &session.user_id).await? {
            None => return Err(Error::not_found("user")),
            Some((disabled, version)) if disabled || version != credentials_version => {
                return Ok(false);
            }
            Some(_) => {}
        }
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, last_refreshed_at, ip, \
             user_agent, revoked_at, revoked_reason) \
             SELECT $1, id, $2, $3, $4, $5, $6, $7, $8 FROM users WHERE id = $9",
        )
        .bind(&session.id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.last_refreshed_at)
        .bind(&session.ip)
        .bind(&session.user_agent)
        .bind(session.revoked_at)
        .bind(&session.revoked_reason)
        .bind(&session.user_id)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
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
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(session_from)
        .transpose()
    }

    async fn live_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>> {
        sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(session_from)
        .collect()
    }

    async fn count_live_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .fetch_one(&self.read)
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
        .bind(now)
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
        let mut tx = self.begin().await?;
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
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
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
            lock_live_user(&mut tx, &new.user_id).await?,
            Some((false, _))
        );
        // A racing rotation blocks on this row until the first commits, then
        // finds `used_at` set and changes nothing.
        let claimed = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(old_hash)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            let used: Option<Option<DateTime<Utc>>> =
                sqlx::query_scalar("SELECT used_at FROM refresh_tokens WHERE token_hash = $1")
                    .bind(old_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
            tx.rollback().await?;
            return Ok(match used {
                Some(Some(_)) => Rotation::AlreadyUsed,
                _ => Rotation::Ended,
            });
        }
        if !enabled {
            tx.rollback().await?;
            return Ok(Rotation::Ended);
        }
        // A revocation committing first leaves `revoked_at` set, which this
        // condition sees on the row it waited for.
        let extended = sqlx::query(
            "UPDATE sessions SET expires_at = $1, last_refreshed_at = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(new.expires_at)
        .bind(now)
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

async fn insert_refresh(tx: &mut Transaction<'static, Postgres>, r: &RefreshRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, \
         used_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.token_hash)
    .bind(&r.session_id)
    .bind(&r.user_id)
    .bind(r.created_at)
    .bind(r.expires_at)
    .bind(r.used_at)
    .execute(&mut **tx)
    .await
    .map_err(violation)?;
    Ok(())
}

#[async_trait]
impl RoleStore for PostgresStore {
    async fn ensure_roles(&self, roles: &[Role]) -> Result<()> {
        let mut tx = self.begin().await?;
        for role in roles {
            insert_role(&mut tx, role, "ON CONFLICT (name) DO NOTHING").await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_role(&self, role: &Role, events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_role(&mut tx, role, "").await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_role(&self, name: &str, events: &[Event]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM roles WHERE name = $1")
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
        sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM roles WHERE name = $1"))
            .bind(name)
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(role_from)
            .transpose()
    }

    async fn list_roles(&self) -> Result<Vec<Role>> {
        sqlx::query(&format!("SELECT {ROLE_COLUMNS} FROM roles ORDER BY name"))
            .fetch_all(&self.read)
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
        let mut tx = self.begin().await?;
        let user = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        if user.is_none() {
            return Err(Error::not_found("user"));
        }
        let found = sqlx::query("SELECT 1 FROM roles WHERE name = $1")
            .bind(role)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Err(Error::not_found("role"));
        }
        let done = sqlx::query(
            "INSERT INTO user_roles (user_id, role, granted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, role) DO NOTHING",
        )
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(violation)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke_role(&self, user_id: &str, role: &str, events: &[Event]) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
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
            sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
                .bind(user_id)
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT unnest(r.permissions) FROM user_roles ur \
             JOIN roles r ON r.name = ur.role \
             JOIN users u ON u.id = ur.user_id \
             WHERE ur.user_id = $1 AND NOT u.disabled",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await?)
    }
}

async fn insert_role(
    tx: &mut Transaction<'static, Postgres>,
    role: &Role,
    on_conflict: &str,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO roles (name, description, permissions, builtin, created_at) \
         VALUES ($1, $2, $3, $4, $5) {on_conflict}"
    ))
    .bind(&role.name)
    .bind(&role.description)
    .bind(&role.permissions)
    .bind(role.builtin)
    .bind(role.created_at)
    .execute(&mut **tx)
    .await
    .map_err(violation)?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.write).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn for_reads(&self) -> &dyn Store {
        if self.replicas.is_empty() {
            return self;
        }
        let i = self.next_replica.fetch_add(1, Ordering::Relaxed) % self.replicas.len();
        &self.replicas[i]
    }
}

super::login_clients::sql_login_clients!(PostgresStore, write);
