//! Email change: `users().request_email_change`, `users().confirm_email_change`.

use serde_json::json;
use tracing::field::Empty;

use super::{Purpose, Target};
use crate::Users;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::flows::FlowStarted;
use crate::store::now;
use crate::telemetry::operation;
use crate::users::{User, validate};

impl Users {
    /// Ask to move an account to `new_email`, proving the password: a link
    /// and code go to the new address, a notice to the old one, and the old
    /// address stays until the new one is confirmed with
    /// [`Users::confirm_email_change`].
    ///
    /// A wrong password is `invalid_credentials`, throttled and counted
    /// like a login's; an address another account holds is
    /// `duplicate_email`, as registration would say.
    pub async fn request_email_change(
        &self,
        user_id: &str,
        new_email: &str,
        password: &str,
    ) -> Result<FlowStarted> {
        self.core
            .observe(operation!("users.request_email_change", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                let mail = validate::email(new_email)?;
                self.core
                    .prove_password(&user, password, "wrong_password_for_email_change")
                    .await?;
                if mail.key == user.email_key {
                    return Err(Error::validation(
                        "email",
                        "is the account's address already",
                    ));
                }
                if self
                    .core
                    .store
                    .user_by_email_key(&mail.key)
                    .await?
                    .is_some()
                {
                    return Err(Error::DuplicateEmail);
                }
                let target = Target {
                    user: Some(&user),
                    address: &mail.display,
                    address_key: &mail.key,
                };
                self.core
                    .start_flow(Purpose::ChangeEmail, target, None)
                    .await
            })
            .await
    }

    /// Confirm a change of address with the link's secret or the code of
    /// flow `flow_id`, sent to the new address: the account, at its new,
    /// verified address. `duplicate_email` if another account took the
    /// address meanwhile (the unique index decides).
    pub async fn confirm_email_change(&self, flow_id: &str, secret: &str) -> Result<User> {
        self.core
            .observe(
                operation!("users.confirm_email_change", %flow_id, user_id = Empty),
                async {
                    let (flow, user) = self
                        .core
                        .consume_account_flow(Purpose::ChangeEmail, flow_id, secret)
                        .await?;
                    let mail = validate::email(&flow.address)?;
                    let at = now();
                    let event = Event::by_user(
                        EventType::EmailChanged,
                        &user.id,
                        None,
                        Event::user_payload(&user.id, &user.username, json!({})),
                    );
                    self.core
                        .store
                        .change_email(&user.id, &mail.display, &mail.key, at, &[event])
                        .await?;
                    self.core
                        .store
                        .cancel_flows(&user.id, Purpose::ChangeEmail.as_str(), at)
                        .await?;
                    self.core.user_changed(&user.id).await;
                    tracing::info!(user_id = %user.id, "email changed");
                    Ok(User::from(&self.core.user_record(&user.id).await?))
                },
            )
            .await
    }
}
