//! Registration, login, token verification, refresh and logout: `dw.auth()`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use tracing::field::Empty;

pub(crate) mod assurance;
mod hot;
pub(crate) mod lockout;
mod login;
mod refresh;
mod second_factor;

pub use second_factor::{LoginResult, MfaChallenge};

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use assurance::{Assurance, Method};

use crate::store::{UserRecord, now};
use crate::telemetry::operation;
use crate::users::User;

/// An access token and the refresh token that renews it.
///
/// `Debug` shows neither token.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single-use token for [`Auth::refresh_token`].
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl TokenPair {
    pub(crate) fn new(access_token: String, refresh_token: String, expires_in: u64) -> Self {
        TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in,
        }
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What [`Auth::register_user`] returns: the new user, already logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The account.
    pub user: User,
    /// Its first session's tokens.
    pub tokens: TokenPair,
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user's id (`sub`).
    pub user_id: String,
    /// The username when the token was issued.
    pub username: String,
    /// The session (`sid`).
    pub session_id: String,
    /// Role names when the token was issued. Decisions use [`Auth::can`],
    /// which reads current grants.
    pub roles: Vec<String>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// How the session was authenticated: RFC 8176 values (`pwd`, `otp`,
    /// `hwk`, `swk`, `email`, and `mfa` at level 2).
    pub amr: Vec<String>,
    /// Authenticator assurance level: 1, or 2 after a second factor or a
    /// passkey. See [`Auth::require_aal`].
    pub aal: u8,
    /// When the user last proved who they are (the login, or the latest
    /// step-up). See [`Auth::require_recent_auth`].
    pub auth_time: DateTime<Utc>,
}

/// Where a login comes from, kept with the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// The authentication service.
#[derive(Debug, Clone)]
pub struct Auth {
    pub(crate) core: Arc<Core>,
}

impl Auth {
    /// Create an account and log it in.
    ///
    /// Validates the three inputs (see [`crate::users`]), hashes the
    /// password, stores the user with the `user` role and starts a session.
    /// With a client address, registrations from it are rate limited
    /// (`rate_limit_register_ip`). With a mailer set and
    /// `verify_email_on_register` on (the default), a verification mail
    /// goes out through the outbox (see [`Auth::verify_email`]).
    /// `duplicate_email` / `duplicate_username` come from the store's unique
    /// indexes, so they hold under concurrent registrations too.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await.unwrap();
    /// assert_eq!(reg.user.username, "john");
    /// let again = dw.auth().register_user("johnny", "JOHN@example.com", "correct horse battery", None).await;
    /// assert_eq!(again.unwrap_err().code().as_str(), "duplicate_email");
    /// # });
    /// ```
    pub async fn register_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
        client: Option<ClientInfo>,
    ) -> Result<Registration> {
        self.core
            .observe(operation!("auth.register_user", user_id = Empty), async {
                self.core.keys()?;
                if let (Some(quota), Some(ip)) = (
                    &self.core.quotas.register_ip,
                    client.as_ref().and_then(|c| c.ip.as_deref()),
                ) {
                    let ip = self.core.quotas.client_key(ip);
                    self.core
                        .rate_check(&format!("register:ip:{ip}"), quota)
                        .await?;
                }
                let registering = crate::users::Registering {
                    by_self: true,
                    client: client.as_ref(),
                };
                let user =
                    crate::users::create_user(&self.core, username, email, password, registering)
                        .await?;
                tracing::Span::current().record("user_id", user.id.as_str());
                let tokens = self
                    .core
                    .start_session(
                        &user,
                        client.as_ref(),
                        "registration",
                        Assurance::of(&[Method::Password]),
                    )
                    .await?;
                // Signing up is logging in: this client is known from now on.
                self.core
                    .client_known(&user.id, &self.core.client_of(client.as_ref()))
                    .await?;
                self.core.metrics.count("doorward_registrations_total", &[]);
                if self.core.config.verify_email_on_register
                    && self.core.mail.get().is_some()
                    && self.core.flow_key.is_some()
                {
                    // The account exists and is logged in: a refused mail
                    // (a quota) is for the user to ask again, not a failed
                    // registration.
                    if let Err(e) = self
                        .core
                        .start_account_flow(crate::flows::Purpose::VerifyEmail, &user, client.as_ref())
                        .await
                    {
                        tracing::warn!(user_id = %user.id, error = %e, "verification mail not requested");
                    }
                }
                Ok(Registration {
                    user: User::from(&user),
                    tokens,
                })
            })
            .await
    }

    /// End the session an access token belongs to. Works with an expired
    /// access token too, and ending an already-ended session is not an error.
    pub async fn logout(&self, access_token: &str) -> Result<()> {
        self.core
            .observe(operation!("auth.logout"), async {
                let config = &self.core.config;
                let principal = self.core.keys()?.verify(
                    access_token,
                    &config.jwt_issuer,
                    &config.jwt_audience,
                    false,
                )?;
                if self
                    .core
                    .store
                    .revoke_session(
                        &principal.session_id,
                        now(),
                        "logout",
                        &[Event::by_user(
                            EventType::LoggedOut,
                            &principal.user_id,
                            None,
                            Event::user_payload(
                                &principal.user_id,
                                &principal.username,
                                json!({ "session_id": principal.session_id }),
                            ),
                        )],
                    )
                    .await?
                {
                    self.core
                        .sessions_ended(std::slice::from_ref(&principal.session_id))
                        .await;
                }
                tracing::info!(user_id = %principal.user_id, session_id = %principal.session_id, "logged out");
                Ok(())
            })
            .await
    }

    /// Start a session for a user without a password: for administrators
    /// (`doorward token issue`) and trusted flows such as a verified magic
    /// link the host implements.
    pub async fn issue_tokens(
        &self,
        user_id: &str,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        self.core
            .observe(operation!("auth.issue_tokens", %user_id), async {
                let user = self.user(user_id).await?;
                if user.disabled {
                    return Err(Error::UserDisabled);
                }
                self.core
                    .start_session(
                        &user,
                        client.as_ref(),
                        "issued",
                        Assurance::of(&[Method::Issued]),
                    )
                    .await
            })
            .await
    }

    /// The public verification keys as a JWKS document, for services that
    /// verify doorward's tokens themselves. Empty for HS256, whose secret is
    /// never published.
    pub fn jwks(&self) -> Result<serde_json::Value> {
        Ok(self.core.keys()?.jwks())
    }

    async fn user(&self, user_id: &str) -> Result<UserRecord> {
        self.core.user_record(user_id).await
    }
}

/// A login or refresh outcome as a metric label: `success` or the error code.
pub(crate) fn outcome<T>(result: &Result<T>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(e) => e.code().as_str(),
    }
}
