//! Email verification: `auth().request_email_verification`,
//! `auth().verify_email`, and an administrator's `users().mark_email_verified`.

use tracing::field::Empty;

use super::Purpose;
use crate::error::{Error, Result};
use crate::flows::FlowStarted;
use crate::telemetry::operation;
use crate::users::User;
use crate::{Auth, Users};

impl Auth {
    /// Mail a verification link and code to the account's address. The
    /// mail leaves through the outbox: a mail server outage delays it and
    /// never fails this call. `validation_error` (field `email`) when the
    /// address is verified already.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await?;
    /// let flow = dw.auth().request_email_verification(&reg.user.id).await?;
    /// assert_eq!(flow.expires_in, 24 * 3600);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn request_email_verification(&self, user_id: &str) -> Result<FlowStarted> {
        self.core
            .observe(
                operation!("auth.request_email_verification", %user_id),
                async {
                    let user = self.core.user_record(user_id).await?;
                    if user.email_verified_at.is_some() {
                        return Err(Error::validation("email", "is verified already"));
                    }
                    self.core
                        .start_account_flow(Purpose::VerifyEmail, &user, None)
                        .await
                },
            )
            .await
    }

    /// Verify an address with the link's secret or the code of flow
    /// `flow_id`: the account, verified. `flow_invalid` for a wrong or
    /// used secret, `flow_expired` past its lifetime or its attempts.
    /// Verifying an address verified already is not an error.
    pub async fn verify_email(&self, flow_id: &str, secret: &str) -> Result<User> {
        self.core
            .observe(
                operation!("auth.verify_email", %flow_id, user_id = Empty),
                async {
                    let (flow, user) = self
                        .core
                        .consume_account_flow(Purpose::VerifyEmail, flow_id, secret)
                        .await?;
                    if crate::users::validate::email_key(&flow.address) != user.email_key {
                        // The account moved to another address since.
                        return Err(Error::FlowInvalid {
                            attempts_left: None,
                        });
                    }
                    self.core.address_proven(&user, "link_or_code").await?;
                    Ok(User::from(&self.core.user_record(&user.id).await?))
                },
            )
            .await
    }
}

impl Users {
    /// Mark an account's address verified without a mail (an
    /// administrator's decision, `doorward user verify-email`).
    pub async fn mark_email_verified(&self, user_id: &str) -> Result<User> {
        self.core
            .observe(operation!("users.mark_email_verified", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                self.core.address_proven(&user, "admin").await?;
                Ok(User::from(&self.core.user_record(user_id).await?))
            })
            .await
    }
}
