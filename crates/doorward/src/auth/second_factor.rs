//! Logins that need a second factor, and step-ups.
//!
//! After the first factor, an account with a second factor (or a role in
//! `mfa_required_for_roles`) gets no tokens: a pending login is stored as
//! a one-time flow (purpose `mfa_password` or `mfa_email`, lifetime
//! `mfa_login_ttl`, at most [`crate::flows::MAX_ATTEMPTS`] tries), and its
//! id and secret go back to the host as one opaque `flow_id`.
//! [`Auth::complete_mfa`] spends the flow only when the factor is right, so
//! a typo does not send the user back to the password; a password change
//! voids pending logins.
//!
//! Failures count towards the lockout like wrong passwords, and the
//! account's failure count is reset only when the whole login succeeds, so
//! knowing the password buys no free guesses at the second factor.

use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq as _;
use tracing::field::Empty;
use uuid::Uuid;

use super::assurance::{Assurance, Method};
use super::lockout::Gate;
use super::{Auth, ClientInfo, TokenPair, outcome};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::flows::secret::random_token;
use crate::flows::{MAX_ATTEMPTS, single_secret_flow};
use crate::store::{Consumption, FlowRecord, UserRecord, now};
use crate::telemetry::operation;

/// What a login answers: tokens, or a second factor to ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LoginResult {
    /// Signed in.
    Tokens(TokenPair),
    /// The first factor was right; finish with [`Auth::complete_mfa`].
    MfaRequired(MfaChallenge),
}

impl LoginResult {
    /// The tokens, if the login is complete.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// # dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// let result = dw.auth().login("ann", "correct horse battery", None).await.unwrap();
    /// let tokens = result.tokens().expect("no second factor enrolled");
    /// assert_eq!(tokens.token_type, "Bearer");
    /// # });
    /// ```
    pub fn tokens(self) -> Option<TokenPair> {
        match self {
            LoginResult::Tokens(tokens) => Some(tokens),
            LoginResult::MfaRequired(_) => None,
        }
    }
}

/// A login waiting for its second factor. `Debug` hides the flow id,
/// which works as a credential until it is used.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct MfaChallenge {
    /// Opaque: posted back to [`Auth::complete_mfa`]. Keep it server-side
    /// (or in an HTTP-only cookie); it proves the first factor.
    pub flow_id: String,
    /// Whose login it is.
    pub user_id: String,
    /// The factors that can complete it: `totp`, `recovery_code`.
    pub methods: Vec<String>,
    /// The account has no factor yet but a role requires one: enrol
    /// ([`crate::Mfa::start_totp`], [`crate::Mfa::confirm_totp`]) and
    /// complete with the code that confirmed it.
    pub enrolment_required: bool,
    /// Seconds until the flow expires.
    pub expires_in: u64,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("flow_id", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("methods", &self.methods)
            .field("enrolment_required", &self.enrolment_required)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

fn purpose_of(first: Method) -> &'static str {
    match first {
        Method::Email => "mfa_email",
        Method::Federated => "mfa_oauth",
        _ => "mfa_password",
    }
}

fn first_of(purpose: &str) -> Option<Method> {
    match purpose {
        "mfa_password" => Some(Method::Password),
        "mfa_email" => Some(Method::Email),
        "mfa_oauth" => Some(Method::Federated),
        _ => None,
    }
}

impl Core {
    /// After a right first factor: tokens, or a pending login when the
    /// account has (or must have) a second factor. `label` names the
    /// method in `LoginSucceeded` (`password`, `oauth:google`). `gate` is
    /// the login's lockout state, cleared only when tokens are issued.
    pub(crate) async fn after_first_factor(
        &self,
        user: &UserRecord,
        first: Method,
        label: &str,
        client: Option<&ClientInfo>,
        gate: &Gate,
    ) -> Result<LoginResult> {
        let methods = self.second_factors(&user.id).await?;
        let enrolment_required = methods.is_empty() && self.mfa_required_for(&user.id).await?;
        if methods.is_empty() && !enrolment_required {
            let tokens = self
                .start_session(user, client, label, Assurance::of(&[first]))
                .await?;
            self.login_succeeded(user, gate).await?;
            return Ok(LoginResult::Tokens(tokens));
        }
        let key = self.flow_key()?;
        let id = Uuid::now_v7().to_string();
        let secret = random_token();
        let purpose = purpose_of(first);
        let hashes = key.hashes(purpose, &id, &secret);
        let ttl = self.config.mfa_login_ttl;
        let flow = single_secret_flow(id.clone(), purpose, Some(&user.id), hashes.link, None, ttl);
        let event = Event::by_user(
            EventType::MfaChallenged,
            &user.id,
            client,
            Event::user_payload(
                &user.id,
                &user.username,
                json!({ "flow_id": id, "methods": methods, "enrolment_required": enrolment_required }),
            ),
        );
        self.store.create_flow(&flow, &[event]).await?;
        self.emitted();
        tracing::info!(user_id = %user.id, enrolment_required, "second factor required");
        Ok(LoginResult::MfaRequired(MfaChallenge {
            flow_id: format!("{id}.{secret}"),
            user_id: user.id.clone(),
            methods: if enrolment_required {
                vec!["totp".into()]
            } else {
                methods.into_iter().map(String::from).collect()
            },
            enrolment_required,
            expires_in: ttl,
        }))
    }

    async fn mfa_required_for(&self, user_id: &str) -> Result<bool> {
        if self.config.mfa_required_for_roles.is_empty() {
            return Ok(false);
        }
        let roles = self.store.user_roles(user_id).await?;
        Ok(roles
            .iter()
            .any(|r| self.config.mfa_required_for_roles.contains(r)))
    }

    /// Count a second factor or passkey presented.
    pub(crate) fn mfa_verified(&self, method: Method, during: &str, outcome: &str) {
        self.metrics.count(
            "doorward_mfa_verifications_total",
            &[
                ("method", method.as_str()),
                ("during", during),
                ("outcome", outcome),
            ],
        );
    }

    /// A wrong second factor: an `MfaFailed` event, counted like a wrong
    /// password.
    pub(crate) async fn second_factor_failed(
        &self,
        user: &UserRecord,
        gate: &Gate,
        method: Method,
        during: &str,
        client: Option<&ClientInfo>,
    ) -> Result<()> {
        let event = Event::by_user(
            EventType::MfaFailed,
            &user.id,
            client,
            Event::user_payload(
                &user.id,
                &user.username,
                json!({ "method": method.as_str(), "during": during }),
            ),
        );
        self.mfa_verified(method, during, "invalid_credentials");
        self.login_failed(user, gate, event, client).await
    }
}

impl Auth {
    /// Finish a login that answered [`LoginResult::MfaRequired`] with a
    /// second factor: `method` `totp` (a code from the app) or
    /// `recovery_code`. The session's tokens carry `amr` `pwd`, `otp`,
    /// `mfa` and `acr` `aal2`.
    ///
    /// A wrong code is `invalid_credentials` (counted towards the lockout;
    /// the flow stays usable for its remaining attempts); a used, unknown
    /// or worn-out flow is `flow_invalid` or `flow_expired`.
    pub async fn complete_mfa(
        &self,
        flow_id: &str,
        method: &str,
        proof: &str,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        let result = self
            .core
            .observe(
                operation!("auth.complete_mfa", %method, user_id = Empty),
                async {
                    self.core.keys()?;
                    let method = Method::parse_second(method)?;
                    let (flow, user, first) = self.pending(flow_id).await?;
                    tracing::Span::current().record("user_id", user.id.as_str());
                    let gate = self
                        .core
                        .login_gate(Some(&user), "", client.as_ref())
                        .await?;
                    let proven = self
                        .core
                        .prove_second(&user, method, proof, Some(flow.created_at))
                        .await?;
                    let method = proven.unwrap_or(method);
                    let proven = proven.is_some();
                    let consumed = self
                        .core
                        .store
                        .consume_flow(
                            &flow.id,
                            &flow.purpose,
                            if proven { &flow.link_hash } else { "" },
                            "",
                            now(),
                            MAX_ATTEMPTS,
                        )
                        .await?;
                    if !proven {
                        self.core
                            .second_factor_failed(&user, &gate, method, "login", client.as_ref())
                            .await?;
                        return Err(Error::InvalidCredentials);
                    }
                    if !matches!(consumed, Consumption::Consumed(_)) {
                        // Another request finished this login first.
                        return Err(Error::FlowInvalid {
                            attempts_left: None,
                        });
                    }
                    let tokens = self
                        .core
                        .start_session(
                            &user,
                            client.as_ref(),
                            method.as_str(),
                            Assurance::of(&[first, method]),
                        )
                        .await?;
                    self.core.login_succeeded(&user, &gate).await?;
                    self.core.mfa_verified(method, "login", "success");
                    Ok(tokens)
                },
            )
            .await;
        self.core
            .metrics
            .count("doorward_logins_total", &[("outcome", outcome(&result))]);
        result
    }

    /// The pending login `flow_id` names, if its secret is right and it is
    /// still usable, with its account and first factor.
    async fn pending(&self, flow_id: &str) -> Result<(FlowRecord, UserRecord, Method)> {
        let invalid = || Error::FlowInvalid {
            attempts_left: None,
        };
        let (id, secret) = flow_id.split_once('.').ok_or_else(invalid)?;
        if id.len() > 64 || secret.len() > 128 {
            return Err(invalid());
        }
        let flow = self.core.store.flow(id).await?.ok_or_else(invalid)?;
        let first = first_of(&flow.purpose).ok_or_else(invalid)?;
        let key = self.core.flow_key()?;
        let presented = key.hashes(&flow.purpose, &flow.id, secret).link;
        if !bool::from(presented.as_bytes().ct_eq(flow.link_hash.as_bytes())) {
            return Err(invalid());
        }
        if flow.consumed_at.is_some() {
            return Err(invalid());
        }
        if flow.expires_at <= now() || flow.attempts >= MAX_ATTEMPTS {
            return Err(Error::FlowExpired);
        }
        let user = match &flow.user_id {
            Some(user_id) => self.core.store.user_by_id(user_id).await?,
            None => None,
        }
        .ok_or_else(invalid)?;
        if user.disabled {
            return Err(Error::UserDisabled);
        }
        Ok((flow, user, first))
    }

    /// Prove who you are again within a session, for a sensitive action:
    /// `method` `password`, `totp` or `recovery_code`. The answer is a new
    /// session whose tokens add the method to `amr` (reaching `aal2` with a
    /// password and a second factor) with `auth_time` now; the old session
    /// ends (reason `step_up`), so a token stolen before cannot ride along.
    ///
    /// A wrong proof is `invalid_credentials`, counted towards the lockout.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("dee", "dee@example.com", "correct horse battery", None).await.unwrap();
    /// let fresh = dw.auth().step_up(&reg.tokens.access_token, "password", "correct horse battery", None).await.unwrap();
    /// let me = dw.auth().verify_token(&fresh.access_token).await.unwrap();
    /// dw.auth().require_recent_auth(&me, 60).unwrap();
    /// assert!(dw.auth().verify_token(&reg.tokens.access_token).await.is_err());
    /// # });
    /// ```
    pub async fn step_up(
        &self,
        access_token: &str,
        method: &str,
        proof: &str,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        self.core
            .observe(operation!("auth.step_up", %method, user_id = Empty), async {
                let principal = self.verify_token(access_token).await?;
                tracing::Span::current().record("user_id", principal.user_id.as_str());
                let method = match method {
                    "password" => Method::Password,
                    other => Method::parse_second(other).map_err(|_| {
                        Error::validation(
                            "method",
                            "must be `password`, `totp`, `recovery_code` or `passkey`",
                        )
                    })?,
                };
                let session = self
                    .core
                    .store
                    .session(&principal.session_id)
                    .await?
                    .filter(|s| s.revoked_at.is_none())
                    .ok_or(Error::TokenRevoked)?;
                let user = self.core.user_record(&principal.user_id).await?;
                let method = if method == Method::Password {
                    self.core.prove_password(&user, proof, "step_up").await?;
                    method
                } else {
                    let gate = self
                        .core
                        .login_gate(Some(&user), "", client.as_ref())
                        .await?;
                    match self.core.prove_second(&user, method, proof, None).await? {
                        Some(proven) => proven,
                        None => {
                            self.core
                                .second_factor_failed(
                                    &user,
                                    &gate,
                                    method,
                                    "step_up",
                                    client.as_ref(),
                                )
                                .await?;
                            return Err(Error::InvalidCredentials);
                        }
                    }
                };
                self.core.mfa_verified(method, "step_up", "success");
                let assurance = Assurance::of_session(&session).and(method);
                let tokens = self
                    .core
                    .start_session(
                        &user,
                        client.as_ref(),
                        &format!("step_up:{}", method.as_str()),
                        assurance,
                    )
                    .await?;
                let ended = Event::by_user(
                    EventType::SessionRevoked,
                    &user.id,
                    client.as_ref(),
                    json!({ "user_id": user.id, "session_id": session.id, "reason": "step_up" }),
                );
                if self
                    .core
                    .store
                    .revoke_session(&session.id, now(), "step_up", &[ended])
                    .await?
                {
                    self.core
                        .sessions_ended(std::slice::from_ref(&session.id))
                        .await;
                }
                Ok(tokens)
            })
            .await
    }
}
