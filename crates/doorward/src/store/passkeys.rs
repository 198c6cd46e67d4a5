//! Passkeys: WebAuthn credentials registered to accounts.
//!
//! Nothing here is secret (a credential is a public key), but a use is
//! decided here: the signature counter may only move forward, in one
//! conditional statement, so an assertion from a cloned authenticator (or
//! one replayed by two instances at once) is refused.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::events::Event;

/// A passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// The credential id, base64url.
    pub id: String,
    /// Whose passkey.
    pub user_id: String,
    /// The user's name for it ("laptop", "phone").
    pub name: String,
    /// The credential as `webauthn-rs` serialises it.
    pub credential: String,
    /// The authenticator's signature counter at its last use (0 for the
    /// many that keep none).
    pub sign_count: u32,
    /// Whether it may be synced to other devices (a synced passkey).
    pub backup_eligible: bool,
    /// Whether it is backed up now.
    pub backup_state: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed someone in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What a successful assertion changes of a passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    /// The credential with its new counter and flags.
    pub credential: String,
    /// The counter the assertion carried.
    pub sign_count: u32,
    /// The backup flags it carried.
    pub backup_eligible: bool,
    /// The backup state it carried.
    pub backup_state: bool,
    /// When.
    pub at: DateTime<Utc>,
}

/// Passkeys' storage.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Register a passkey, with `events`; false, changing nothing, when the
    /// credential id is registered already (to anyone). `not_found` if the
    /// user is gone.
    async fn add_passkey(&self, passkey: &PasskeyRecord, events: &[Event]) -> Result<bool>;
    /// The account's passkeys, oldest first.
    async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>>;
    /// By credential id.
    async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>>;
    /// Record a use if the counter moved forward (or both the stored and
    /// the new counter are 0: authenticators without one); false otherwise.
    async fn use_passkey(&self, id: &str, used: &PasskeyUse) -> Result<bool>;
    /// Rename the account's passkey `id`; false if it has none such.
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool>;
    /// Remove the account's passkey `id`, with `events`; false if it has
    /// none such.
    async fn delete_passkey(&self, user_id: &str, id: &str, events: &[Event]) -> Result<bool>;
}
