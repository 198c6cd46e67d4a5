//! An account's linked identities at OAuth providers, as hosts see them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::IdentityRecord;

/// An identity at an OAuth 2.0 / OpenID Connect provider that signs in
/// the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The provider's id in the configuration.
    pub provider: String,
    /// The provider's id of the user.
    pub subject: String,
    /// The address the provider gave at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider said it verified that address.
    pub email_verified: bool,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<IdentityRecord> for Identity {
    fn from(r: IdentityRecord) -> Self {
        Identity {
            provider: r.provider,
            subject: r.subject,
            email: r.email,
            email_verified: r.email_verified,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}
