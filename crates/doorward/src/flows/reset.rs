//! Password reset: `auth().request_password_reset`, `auth().reset_password`.

use serde_json::json;
use tracing::field::Empty;

use super::Purpose;
use crate::Auth;
use crate::auth::ClientInfo;
use crate::error::Result;
use crate::events::{Event, EventType};
use crate::flows::FlowStarted;
use crate::store::{EndSessions, now};
use crate::telemetry::operation;
use crate::users::validate;

impl Auth {
    /// Mail a reset link and code to `email`'s account.
    ///
    /// The answer, and the work done to reach it, are the same whether the
    /// address has an account or not (nor for a disabled one): no one can
    /// learn from it who is registered. Only the mail differs: none is sent
    /// to an unknown address, or a notice if `unknown_address_mail` is on.
    /// Throttled per address and client address, with a resend cooldown.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.auth().register_user("bob", "bob@example.com", "correct horse battery", None).await?;
    /// let a = dw.auth().request_password_reset("bob@example.com", None).await?;
    /// let b = dw.auth().request_password_reset("nobody@example.com", None).await?;
    /// assert_eq!(a.expires_in, b.expires_in);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: Option<ClientInfo>,
    ) -> Result<FlowStarted> {
        self.core
            .observe(operation!("auth.request_password_reset"), async {
                self.core
                    .start_address_flow(Purpose::ResetPassword, email, client.as_ref())
                    .await
            })
            .await
    }

    /// Set a new password with the link's secret or the code of flow
    /// `flow_id`.
    ///
    /// The new password is checked by the registration policy before the
    /// secret is spent, so a weak one costs no attempt. Then every session
    /// and refresh token of the account ends, every other reset link dies,
    /// a lockout is lifted and the address counts as verified (the mail
    /// proved it).
    pub async fn reset_password(
        &self,
        flow_id: &str,
        secret: &str,
        new_password: &str,
    ) -> Result<()> {
        self.core
            .observe(
                operation!("auth.reset_password", %flow_id, user_id = Empty),
                async {
                    // The policy's identities, from the flow as it is: the
                    // same check for a flow of an unknown address.
                    let peek = self.core.store.flow(flow_id).await?;
                    let address = peek.as_ref().map(|f| f.address.clone()).unwrap_or_default();
                    let owner = match peek.as_ref().and_then(|f| f.user_id.as_deref()) {
                        Some(id) => self.core.store.user_by_id(id).await?,
                        None => None,
                    };
                    let username = owner.as_ref().map(|u| u.username.clone()).unwrap_or_default();
                    let local = address.split('@').next().unwrap_or("");
                    let password = validate::password(
                        new_password,
                        self.core.config.password_min_length,
                        &[&username, &address, local],
                    )?;
                    let (flow, user) = self
                        .core
                        .consume_account_flow(Purpose::ResetPassword, flow_id, secret)
                        .await?;
                    let hash = self.core.hasher.hash(&password).await?;
                    let event = Event::new(
                        EventType::PasswordReset,
                        Some(&user.id),
                        Some(&user.id),
                        None,
                        Event::user_payload(&user.id, &user.username, json!({})),
                    );
                    let ended = self
                        .core
                        .store
                        .update_password(
                            &user.id,
                            &hash,
                            None,
                            now(),
                            EndSessions::AllExcept(None),
                            &[event],
                        )
                        .await?;
                    self.core.sessions_ended(&ended).await;
                    self.core.store.unlock_user(&user.id).await?;
                    self.core.store.unlock_clients(&user.id).await?;
                    if crate::users::validate::email_key(&flow.address) == user.email_key {
                        self.core.address_proven(&user, "password_reset").await?;
                    }
                    self.core.user_changed(&user.id).await;
                    tracing::info!(user_id = %user.id, sessions_ended = ended.len(), "password reset");
                    Ok(())
                },
            )
            .await
    }
}
