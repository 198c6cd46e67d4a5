//! An account's linked identities at OAuth providers, as hosts see them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Users;
use crate::error::Result;
use crate::store::IdentityRecord;
use crate::telemetry::operation;

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

impl Users {
    /// The account's identities at OAuth providers, oldest first;
    /// `not_found` if there is no such account.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await?;
    /// assert!(dw.users().identities(&reg.user.id).await?.is_empty());
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn identities(&self, user_id: &str) -> Result<Vec<Identity>> {
        self.core
            .observe(operation!("users.identities", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                let found = self.core.store.identities(&user.id).await?;
                Ok(found.into_iter().map(Identity::from).collect())
            })
            .await
    }
}
