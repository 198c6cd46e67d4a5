//! Where users, sessions and roles are kept.
//!
//! The services ([`crate::Auth`], [`crate::Users`], ...) hold every rule; a
//! store only persists, and makes the few multi-row changes atomic (a user and
//! its first role, a password and the sessions it ends, a refresh-token
//! rotation). Uniqueness is decided by the store, so concurrent registrations
//! of one email cannot both win.
//!
//! Every write that changes state takes the [`Event`]s describing it and
//! writes them to the outbox in the same transaction, if and only if it
//! changes something (a grant of a role already held writes neither).
//!
//! Writes that end sessions return the ids of exactly the sessions they
//! ended, sorted, so a cache of live sessions can drop them without a
//! second query that could race with another change.
//!
//! Backends: [`memory::MemoryStore`] (always built) and, behind features
//! named after them, `sqlite::SqliteStore` and `postgres::PostgresStore`.
//! Every backend passes the one conformance suite in
//! `tests/store_conformance.rs`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::rbac::Role;

pub mod flows;
pub mod identities;
pub mod imports;
pub mod login_clients;
pub mod memory;
pub mod mfa;
pub(crate) mod outbox;
pub mod passkeys;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod stats;

/// A user row, including its password hash. Never leaves the core: hosts see
/// [`crate::User`].
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// UUIDv7, so ids sort by creation.
    pub id: String,
    /// Display form (NFKC).
    pub username: String,
    /// Lowercased form; unique.
    pub username_key: String,
    /// Display form (domain lowercased).
    pub email: String,
    /// Lowercased form; unique.
    pub email_key: String,
    /// Argon2 PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
    /// When the account last logged in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Failed logins in a row since the last successful one: what lockout
    /// counts. Kept in the store, not in process, so every instance of a
    /// host sees the same count.
    pub failed_logins: u32,
    /// Until when the account refuses logins, if it is locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// Bumped by every password replacement (not by a rehash). A session is
    /// only started while it still holds the value the login read, so a
    /// login racing a password change cannot outlive it.
    pub credentials_version: i64,
    /// When the owner proved they read mail at `email` (a verification
    /// link or code, a password reset, a sign-in by email); cleared when
    /// the address changes by any other route.
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &"[redacted]")
            .field("password_hash", &"[redacted]")
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .field("credentials_version", &self.credentials_version)
            .field("email_verified_at", &self.email_verified_at)
            .finish_non_exhaustive()
    }
}

/// A login session: one refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// UUIDv7; the `sid` claim of its access tokens.
    pub id: String,
    /// Whose session.
    pub user_id: String,
    /// When the login happened.
    pub created_at: DateTime<Utc>,
    /// When the session ends unless refreshed.
    pub expires_at: DateTime<Utc>,
    /// When its refresh token was last rotated.
    pub last_refreshed_at: Option<DateTime<Utc>>,
    /// Client address at login.
    pub ip: Option<String>,
    /// Client user agent at login.
    pub user_agent: Option<String>,
    /// When it was ended, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was ended (`logout`, `revoked`, `reuse`, `disabled`,
    /// `password_changed`, `step_up`).
    pub revoked_reason: Option<String>,
    /// RFC 8176 methods that authenticated it, sorted.
    pub amr: Vec<String>,
    /// Authenticator assurance level (1 or 2).
    pub aal: u8,
    /// When the user last proved who they are.
    pub auth_time: DateTime<Utc>,
}

/// A refresh token, known only by its SHA-256.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The session (family) it belongs to.
    pub session_id: String,
    /// Whose token.
    pub user_id: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was rotated; a second use after this is reuse.
    pub used_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for RefreshRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRecord")
            .field("token_hash", &"[redacted]")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

/// How [`SessionStore::rotate_refresh`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is now used and the new one stored.
    Rotated,
    /// Another caller used the old token first; nothing changed.
    AlreadyUsed,
    /// The token is gone (its user was deleted), or its session was revoked
    /// or its user disabled; nothing changed.
    Ended,
}

/// Which sessions a password change ends, in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSessions<'a> {
    /// None (a rehash on login).
    None,
    /// Every session of the user except, optionally, this one.
    AllExcept(Option<&'a str>),
}

pub use flows::{Consumption, FlowRecord, FlowStore};
pub use identities::{IdentityRecord, IdentityStore, Linking, Unlinking};
pub use imports::{ImportStore, NewUser, TakenKeys};
pub use login_clients::{LoginClient, LoginClientStore};
pub use mfa::{MfaStore, TotpRecord};
pub use outbox::{
    AttemptOutcome, AuditFilter, AuditRecord, ConsumerState, DeliveryJob, DeliveryRecord,
    DeliveryStatus, EventStore, Lease, WebhookRecord,
};
pub use passkeys::{PasskeyRecord, PasskeyStore, PasskeyUse};
pub use stats::{LoginsInHour, StatsStore};

/// Where listing resumes: after this `(created_at, id)`.
pub type ListAfter = (DateTime<Utc>, String);

/// Which users a listing keeps: all by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserFilter<'a> {
    /// Only those whose email key or username key starts with it
    /// (lowercase).
    pub prefix: Option<&'a str>,
    /// Only those granted this role.
    pub role: Option<&'a str>,
}

/// Users and their credentials.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user with its initial roles, atomically. Fails with
    /// `duplicate_email` / `duplicate_username` when the unique index says so.
    async fn create_user(&self, user: &UserRecord, roles: &[&str], events: &[Event]) -> Result<()>;
    /// By id.
    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>>;
    /// By lowercased email.
    async fn user_by_email_key(&self, email_key: &str) -> Result<Option<UserRecord>>;
    /// By lowercased username.
    async fn user_by_username_key(&self, username_key: &str) -> Result<Option<UserRecord>>;
    /// Up to `limit` users ordered by `(created_at, id)`, after `after`,
    /// that pass `filter`.
    async fn list_users(
        &self,
        after: Option<&ListAfter>,
        filter: &UserFilter<'_>,
        limit: u32,
    ) -> Result<Vec<UserRecord>>;
    /// How many accounts there are, disabled ones included.
    async fn count_users(&self) -> Result<u64>;
    /// Replace username and email (both forms); `not_found` when absent.
    async fn update_identity(&self, user: &UserRecord, events: &[Event]) -> Result<()>;
    /// Replace the password hash, bump `credentials_version` and end
    /// sessions, atomically. With `replaces`, only if the stored hash is
    /// still that one (a change proven with the old password):
    /// `invalid_credentials`, changing nothing, when another change got
    /// there first. Returns the ids of the sessions it ended (none for
    /// [`EndSessions::None`]), so callers can drop them from caches of live
    /// sessions.
    async fn update_password(
        &self,
        user_id: &str,
        password_hash: &str,
        replaces: Option<&str>,
        now: DateTime<Utc>,
        end: EndSessions<'_>,
        events: &[Event],
    ) -> Result<Vec<String>>;
    /// Replace the hash `verified` with `rehashed` (the same password under
    /// current parameters), only if the stored hash is still `verified`:
    /// false, changing nothing, when a password change got there first. The
    /// credentials version stays, so no login in flight is refused for it.
    async fn rehash_password(&self, user_id: &str, verified: &str, rehashed: &str) -> Result<bool>;
    /// Disable (ending every session, atomically) or enable. Returns the ids
    /// of the sessions it ended (none when enabling).
    async fn set_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<Vec<String>>;
    /// Record a successful login: sets `last_login_at` and clears the
    /// lockout state (`failed_logins` back to 0, no `locked_until`).
    async fn touch_login(&self, user_id: &str, now: DateTime<Utc>) -> Result<()>;
    /// Count one more failed login in a row and return the new count.
    /// Atomic in the store, so concurrent failures on several instances
    /// are each counted once. `not_found` if there is no such user.
    async fn record_failed_login(&self, user_id: &str, events: &[Event]) -> Result<u32>;
    /// Refuse logins until `until`. `not_found` if there is no such user.
    async fn lock_user(&self, user_id: &str, until: DateTime<Utc>, events: &[Event]) -> Result<()>;
    /// Clear the lockout state (an administrator's unlock). True if the user
    /// had failed logins or a lock, false if there was nothing to clear;
    /// `not_found` if there is no such user.
    async fn unlock_user(&self, user_id: &str) -> Result<bool>;
    /// Delete a user with its sessions, tokens and grants. `None` if there
    /// was no such user, else the ids of its sessions that were live (not
    /// revoked, not expired) when it went.
    async fn delete_user(&self, user_id: &str, events: &[Event]) -> Result<Option<Vec<String>>>;
}

/// Sessions and refresh-token families.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a session with its first refresh token, if its user is still
    /// enabled and still at `credentials_version` (checked in the same
    /// transaction, under the user's row lock where the backend has one).
    /// False, changing nothing, when it is not; `not_found` when the user
    /// is gone.
    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        credentials_version: i64,
        events: &[Event],
    ) -> Result<bool>;
    /// By id, revoked or not.
    async fn session(&self, id: &str) -> Result<Option<SessionRecord>>;
    /// A user's sessions that are neither revoked nor expired at `now`, newest first.
    async fn live_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>>;
    /// Sessions of all users that are neither revoked nor expired at `now`.
    async fn count_live_sessions(&self, now: DateTime<Utc>) -> Result<u64>;
    /// End one session; false if it was absent or already ended.
    async fn revoke_session(
        &self,
        id: &str,
        now: DateTime<Utc>,
        reason: &str,
        events: &[Event],
    ) -> Result<bool>;
    /// End every live session of a user, but `except`; returns the ids of
    /// the sessions it ended.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        now: DateTime<Utc>,
        reason: &str,
        events: &[Event],
    ) -> Result<Vec<String>>;
    /// By token hash.
    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>>;
    /// Atomically: mark `old_hash` used if it is still unused and its
    /// session is live (not revoked, its user enabled), insert `new` and
    /// extend the session to `new.expires_at`. Anything else changes
    /// nothing and says why.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new: &RefreshRecord,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<Rotation>;
}

/// Roles, their permissions and who holds them.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Insert roles that do not exist yet (seeding); existing ones are kept as they are.
    async fn ensure_roles(&self, roles: &[Role]) -> Result<()>;
    /// Insert a role; `validation_error` (field `name`) if it exists.
    async fn create_role(&self, role: &Role, events: &[Event]) -> Result<()>;
    /// Delete a role and its grants; false if absent.
    async fn delete_role(&self, name: &str, events: &[Event]) -> Result<bool>;
    /// By name.
    async fn role(&self, name: &str) -> Result<Option<Role>>;
    /// All roles by name.
    async fn list_roles(&self) -> Result<Vec<Role>>;
    /// Give a user a role; false if they had it. `not_found` if either is missing.
    async fn grant_role(
        &self,
        user_id: &str,
        role: &str,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool>;
    /// Take a role away; false if they did not have it.
    async fn revoke_role(&self, user_id: &str, role: &str, events: &[Event]) -> Result<bool>;
    /// A user's role names, sorted.
    async fn user_roles(&self, user_id: &str) -> Result<Vec<String>>;
    /// The permissions of every role of a user that is enabled (none for a
    /// disabled or unknown user).
    async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>>;
}

/// A complete backend.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + RoleStore
    + EventStore
    + LoginClientStore
    + FlowStore
    + MfaStore
    + PasskeyStore
    + IdentityStore
    + ImportStore
    + StatsStore
    + std::fmt::Debug
    + 'static
{
    /// Bring the schema up to date (idempotent).
    async fn migrate(&self) -> Result<()>;
    /// The backend's name, for logs and `doorward` output.
    fn backend(&self) -> &'static str;
    /// The store for plain reads that may lag behind a write just made
    /// (listing and looking up accounts, roles and sessions for display):
    /// a PostgreSQL read replica, in turn, when `database_read_urls` names
    /// some, else this store. Its writes still go to the primary. Reads
    /// that must see a write just made (login, refresh, session checks,
    /// permission and cache fills, checks before a write) use the store
    /// itself.
    fn for_reads(&self) -> &dyn Store;
}

/// Open the store `database_url` names, with the configured pool settings
/// (and, on PostgreSQL, the read replicas of `database_read_urls`).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::Config;
/// let memory = Config { database_url: "memory://".into(), ..Config::default() };
/// assert_eq!(doorward::store::open(&memory).await.unwrap().backend(), "memory");
/// let mysql = Config { database_url: "mysql://x".into(), ..Config::default() };
/// assert!(doorward::store::open(&mysql).await.is_err());
/// # });
/// ```
pub async fn open(config: &Config) -> Result<Arc<dyn Store>> {
    let url = config.database_url.as_str();
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !config.database_read_urls.is_empty() && !postgres {
        return Err(Error::Config(
            "database_read_urls need a PostgreSQL database_url".into(),
        ));
    }
    if url == "memory://" || url == "memory:" {
        return Ok(Arc::new(memory::MemoryStore::new()));
    }
    if url.starts_with("sqlite:") {
        #[cfg(feature = "sqlite")]
        return Ok(Arc::new(sqlite::SqliteStore::connect(config).await?));
        #[cfg(not(feature = "sqlite"))]
        return Err(missing_feature("sqlite"));
    }
    if postgres {
        #[cfg(feature = "postgres")]
        return Ok(Arc::new(postgres::PostgresStore::connect(config).await?));
        #[cfg(not(feature = "postgres"))]
        return Err(missing_feature("postgres"));
    }
    Err(Error::Config(
        "database_url must start with sqlite:, postgres:// or postgresql://, or be memory://"
            .into(),
    ))
}

#[cfg(not(all(feature = "sqlite", feature = "postgres")))]
fn missing_feature(feature: &str) -> Error {
    Error::Config(format!(
        "database_url names {feature} but doorward was built without the `{feature}` feature"
    ))
}

/// A stored failed-login counter, which a `u32` must hold; anything else is
/// corruption.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) fn failed_logins(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Storage(format!("failed_logins out of range: {n}")))
}

/// Now, truncated to microseconds.
pub(crate) fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap_or_else(Utc::now)
}
