//! One-time secrets of the account flows (email verification, password
//! reset, sign-in by email, email change), and the verified address they
//! prove.
//!
//! The store never sees a secret: only keyed hashes of the link secret and
//! of the code, and, until the mail is out, both sealed under a key the
//! database does not hold. Consuming is one conditional statement, so of two
//! callers presenting the right secret at once exactly one wins.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::events::Event;

/// A flow as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// UUIDv7: what the link and the code page carry.
    pub id: String,
    /// `verify_email`, `reset_password`, `sign_in` or `change_email`.
    pub purpose: String,
    /// Whose flow; none for an address with no account (the flow is kept
    /// all the same, so asking about it answers alike, and for a sign-in
    /// that may sign the address up).
    pub user_id: Option<String>,
    /// The address the mail goes to (display form).
    pub address: String,
    /// Keyed hash of the link secret.
    pub link_hash: String,
    /// Keyed hash of the code.
    pub code_hash: String,
    /// Both secrets, encrypted, until the mail carrying them is sent.
    pub sealed: Option<String>,
    /// When it was requested.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used up (consumed, or cancelled by a later change).
    pub consumed_at: Option<DateTime<Utc>>,
    /// Secrets presented so far, right or wrong.
    pub attempts: u32,
}

impl std::fmt::Debug for FlowRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRecord")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .field("user_id", &self.user_id)
            .field("address", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("consumed_at", &self.consumed_at)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What presenting a secret did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumption {
    /// The secret was right and this caller used the flow up.
    Consumed(FlowRecord),
    /// The secret was wrong; the flow has had this many attempts.
    Wrong {
        /// Attempts so far, this one included.
        attempts: u32,
    },
    /// Nothing changed: no such flow for this purpose, or it is used up,
    /// expired or out of attempts. The flow as it is, if there is one.
    Unusable(Option<FlowRecord>),
}

/// The account flows' storage.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Store a new flow with the events that report it, atomically.
    async fn create_flow(&self, flow: &FlowRecord, events: &[Event]) -> Result<()>;
    /// By id.
    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>>;
    /// In one conditional statement: if flow `id` is for `purpose`, not
    /// used up, not expired at `now` and has had fewer than `max_attempts`
    /// attempts, count one more and, if `link_hash` or `code_hash` is
    /// its own, use it up.
    async fn consume_flow(
        &self,
        id: &str,
        purpose: &str,
        link_hash: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Consumption>;
    /// Forget the sealed secrets: their mail is out.
    async fn clear_sealed(&self, id: &str) -> Result<()>;
    /// Use up every open flow of `user_id` for `purpose` (a password reset
    /// cancels the other reset links); how many it closed.
    async fn cancel_flows(&self, user_id: &str, purpose: &str, now: DateTime<Utc>) -> Result<u64>;
    /// Delete flows that expired before `before`; how many.
    async fn prune_flows(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Mark `user_id`'s address verified at `at` if it is still
    /// `email_key` and not verified yet, with `events`; whether it changed.
    /// `not_found` if there is no such user.
    async fn set_email_verified(
        &self,
        user_id: &str,
        email_key: &str,
        at: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool>;
    /// Replace `user_id`'s address with a verified one; `duplicate_email`
    /// if another account holds it (the unique index decides, so racing
    /// changes to one address cannot both win), `not_found` if the user is
    /// gone.
    async fn change_email(
        &self,
        user_id: &str,
        email: &str,
        email_key: &str,
        at: DateTime<Utc>,
        events: &[Event],
    ) -> Result<()>;
}
