//! Identities at OAuth 2.0 / OpenID Connect providers, linked to accounts.
//!
//! Two uniqueness rules are the store's to keep, since two callbacks can
//! race: a provider's subject belongs to one account, and an account has
//! at most one identity per provider. Unlinking is decided here too, under
//! the account's row lock, so two unlinks at once cannot together remove
//! an account's last way to sign in.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::events::Event;
use crate::store::UserRecord;

/// A linked identity as stored. `Debug` hides the sealed tokens and the
/// address.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    /// The provider's id in the configuration (`google`, `github`, ...).
    pub provider: String,
    /// The provider's stable id of the user (`sub`, or GitHub's numeric id).
    pub subject: String,
    /// The account it signs in.
    pub user_id: String,
    /// The address the provider gave at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider said it verified that address.
    pub email_verified: bool,
    /// The provider's tokens, sealed, when the provider is configured to
    /// keep them.
    pub tokens_sealed: Option<String>,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for IdentityRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityRecord")
            .field("provider", &self.provider)
            .field("subject", &self.subject)
            .field("user_id", &self.user_id)
            .field("email", &self.email.as_ref().map(|_| "[redacted]"))
            .field("email_verified", &self.email_verified)
            .field(
                "tokens_sealed",
                &self.tokens_sealed.as_ref().map(|_| "[redacted]"),
            )
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .finish()
    }
}

/// How [`IdentityStore::add_identity`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linking {
    /// Linked, and its events written.
    Linked,
    /// The subject is linked already (to this account or another);
    /// nothing changed.
    SubjectTaken,
    /// The account has another identity at this provider; nothing changed.
    ProviderTaken,
}

/// How [`IdentityStore::unlink_identity`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinking {
    /// Removed, and its events written.
    Unlinked,
    /// The account has no identity at this provider.
    NotLinked,
    /// Refused: it is the account's last way to sign in (no usable
    /// password, no passkey, no other identity).
    LastMethod,
}

/// Linked identities' storage.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Link an identity to an existing account, with `events`. `not_found`
    /// if the account is gone.
    async fn add_identity(&self, identity: &IdentityRecord, events: &[Event]) -> Result<Linking>;
    /// Create an account (with its initial roles) and its first identity
    /// in one transaction, with `events`: false, creating nothing, when
    /// the subject is linked already (a racing first sign-in won); the
    /// account's own uniqueness errors (`duplicate_email`, ...) as
    /// [`crate::store::UserStore::create_user`] gives them.
    async fn create_user_with_identity(
        &self,
        user: &UserRecord,
        roles: &[&str],
        identity: &IdentityRecord,
        events: &[Event],
    ) -> Result<bool>;
    /// By provider and subject.
    async fn identity(&self, provider: &str, subject: &str) -> Result<Option<IdentityRecord>>;
    /// The account's identities, oldest first.
    async fn identities(&self, user_id: &str) -> Result<Vec<IdentityRecord>>;
    /// Record a sign-in with the identity: its address and flag as the
    /// provider gave them now, `last_used_at`, and its sealed tokens
    /// (replaced, or cleared with `None`). False if it is gone.
    async fn use_identity(&self, identity: &IdentityRecord) -> Result<bool>;
    /// Remove the account's identity at `provider`, with `events`, unless
    /// it is the account's last way to sign in: a password (a hash that
    /// does not start with [`crate::password::UNUSABLE_PREFIX`]), a
    /// passkey or another identity.
    async fn unlink_identity(
        &self,
        user_id: &str,
        provider: &str,
        events: &[Event],
    ) -> Result<Unlinking>;
}
