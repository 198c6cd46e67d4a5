//! Sign-in by email: `auth().request_sign_in`, `auth().complete_sign_in`.

use tracing::field::Empty;

use super::Purpose;
use crate::Auth;
use crate::auth::assurance::Method;
use crate::auth::lockout::Gate;
use crate::auth::{ClientInfo, LoginResult};
use crate::error::{Error, Result};
use crate::flows::FlowStarted;
use crate::store::UserRecord;
use crate::telemetry::operation;
use crate::users::{Registering, validate};

impl Auth {
    /// Mail a sign-in link and code to `email`.
    ///
    /// Enumeration-safe like [`Auth::request_password_reset`]: an address
    /// with no account (or a disabled one) gets the same answer after the
    /// same work, and no mail, unless `sign_in_creates_users` is on, when
    /// completing the flow creates the account.
    pub async fn request_sign_in(
        &self,
        email: &str,
        client: Option<ClientInfo>,
    ) -> Result<FlowStarted> {
        self.core
            .observe(operation!("auth.request_sign_in"), async {
                self.core
                    .start_address_flow(Purpose::SignIn, email, client.as_ref())
                    .await
            })
            .await
    }

    /// Sign in with the link's secret or the code of flow `flow_id`: a
    /// session like a password login's (`LoginSucceeded` with method
    /// `email`), and the address counts as verified.
    pub async fn complete_sign_in(
        &self,
        flow_id: &str,
        secret: &str,
        client: Option<ClientInfo>,
    ) -> Result<LoginResult> {
        let result = self
            .core
            .observe(
                operation!("auth.complete_sign_in", %flow_id, user_id = Empty),
                async {
                    self.core.keys()?;
                    let flow = self
                        .core
                        .consume_flow(Purpose::SignIn, flow_id, secret)
                        .await?;
                    let user = match &flow.user_id {
                        Some(id) => self.core.user_record(id).await?,
                        // Only a flow made while sign_in_creates_users was
                        // on has no user and a mail that reached someone.
                        None if self.core.config.sign_in_creates_users => {
                            self.sign_up(&flow.address, client.as_ref()).await?
                        }
                        None => {
                            return Err(Error::FlowInvalid {
                                attempts_left: None,
                            });
                        }
                    };
                    tracing::Span::current().record("user_id", user.id.as_str());
                    if user.disabled {
                        return Err(Error::UserDisabled);
                    }
                    if validate::email_key(&flow.address) != user.email_key {
                        return Err(Error::FlowInvalid {
                            attempts_left: None,
                        });
                    }
                    self.core.address_proven(&user, "sign_in").await?;
                    let gate = Gate::ungated(self.core.client_of(client.as_ref()));
                    let result = self
                        .core
                        .after_first_factor(&user, Method::Email, "email", client.as_ref(), &gate)
                        .await?;
                    tracing::info!(user_id = %user.id, "signed in by email");
                    Ok(result)
                },
            )
            .await;
        self.core.metrics.count(
            "doorward_logins_total",
            &[("outcome", crate::auth::outcome(&result))],
        );
        result
    }

    /// The account a first sign-in by email creates: a username from the
    /// address (made unique with digits if taken) and a random password
    /// nobody knows, which a reset can replace.
    async fn sign_up(&self, address: &str, client: Option<&ClientInfo>) -> Result<UserRecord> {
        let password = super::secret::random_token();
        for attempt in 0..5 {
            let username = crate::users::username_candidate(address, attempt);
            let registering = Registering {
                by_self: true,
                client,
            };
            match crate::users::create_user(&self.core, &username, address, &password, registering)
                .await
            {
                Err(Error::DuplicateUsername) | Err(Error::Validation { .. }) if attempt < 4 => {}
                other => return other,
            }
        }
        Err(Error::Internal("no free username for a new account".into()))
    }
}
