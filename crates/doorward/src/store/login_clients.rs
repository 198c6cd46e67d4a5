//! Failed logins per account and client address, and which clients have
//! logged in before: what lets lockout stop the address that guesses
//! without locking the owner out everywhere.

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
