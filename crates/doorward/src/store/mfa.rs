//! Second factors: an account's TOTP secret and its recovery codes.
//!
//! The store never holds a TOTP secret in the clear (it is sealed before it
//! arrives) nor a recovery code (only keyed hashes). What it decides is
//! replay: accepting a TOTP time step and spending a recovery code are each
//! one conditional statement, so a code is accepted once even when two
//! instances are shown it at the same moment.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::events::Event;

/// An account's TOTP factor as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// Whose factor.
    pub user_id: String,
    /// The secret, sealed under the MFA key.
    pub secret_sealed: String,
    /// When enrolment started.
    pub created_at: DateTime<Utc>,
    /// When a first code confirmed it; until then it is not a factor.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The newest time step a code was accepted for: no code of it or of
    /// an earlier step is accepted again.
    pub last_used_step: Option<u64>,
}

impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("user_id", &self.user_id)
            .field("secret_sealed", &"[redacted]")
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish_non_exhaustive()
    }
}

/// Second factors' storage.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// Start (or restart) a TOTP enrolment with a new sealed secret; false,
    /// changing nothing, when the account has a confirmed factor already
    /// (it must be removed first). `not_found` if there is no such user.
    async fn put_totp(
        &self,
        user_id: &str,
        secret_sealed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The account's TOTP factor, confirmed or not.
    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>>;
    /// Confirm a pending factor with the step of its first code, and store
    /// `recovery` (keyed hashes) as the account's recovery codes, with
    /// `events`, atomically; false when there is no pending factor.
    async fn confirm_totp(
        &self,
        user_id: &str,
        step: u64,
        recovery: &[String],
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool>;
    /// Accept time step `step` of a confirmed factor if it is newer than
    /// every step accepted before; false (a replay, or no factor) otherwise.
    async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool>;
    /// Remove the account's TOTP factor and its recovery codes, with
    /// `events`; false if it had none.
    async fn delete_totp(&self, user_id: &str, events: &[Event]) -> Result<bool>;
    /// Replace the account's recovery codes (the old set stops working),
    /// with `events`.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        events: &[Event],
    ) -> Result<()>;
    /// Spend the recovery code with keyed hash `hash`; false if it is not
    /// one of the account's, or was spent.
    async fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// How many unspent recovery codes the account has.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<u32>;
}
