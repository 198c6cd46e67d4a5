//! Second factors: `dw.mfa()`.
//!
//! A TOTP authenticator (enrolled in two steps, so a mistyped secret never
//! locks anyone out) and ten recovery codes. Once an account has one,
//! [`crate::Auth::login`] answers with a challenge instead of tokens, and
//! [`crate::Auth::complete_mfa`] finishes it; [`crate::Auth::step_up`]
//! proves a factor again within a session.
//!
//! The secrets stay out of the database: TOTP secrets are sealed and
//! recovery codes kept as keyed hashes under a key derived from
//! `mfa_encryption_key` (or `flow_key`, or `jwt_secret`). Each TOTP time
//! step and each recovery code is accepted once, decided by one
//! conditional statement in the store, so a code seen over a shoulder or
//! replayed by two instances at once is refused.

mod recovery;
pub(crate) mod totp;

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use tracing::field::Empty;

use crate::auth::assurance::Method;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::sealing::Keys;
use crate::store::{UserRecord, now};
use crate::telemetry::operation;

/// What a TOTP enrolment shows the user: the secret for typing into an
/// app, and the same as an `otpauth://` URI and its QR code.
///
/// `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TotpEnrolment {
    /// Base32 (RFC 4648, no padding), for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<username>?secret=…&issuer=…`.
    pub uri: String,
    /// The URI as a QR code: a `data:image/png;base64,…` URI for an
    /// `<img src>`, so no host needs a QR library.
    pub qr_code: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpEnrolment([redacted])")
    }
}

/// A new set of recovery codes, shown once. `Debug` shows none of them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryCodes {
    /// Ten single-use codes, `xxxxx-xxxxx`.
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes([{} redacted])", self.codes.len())
    }
}

/// An account's second factors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MfaStatus {
    /// A confirmed TOTP authenticator.
    pub totp: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// Whether logins ask for a second factor (the account has one).
    pub enabled: bool,
}

/// The second-factor service.
#[derive(Debug, Clone)]
pub struct Mfa {
    pub(crate) core: Arc<Core>,
}

/// The MFA keys of a configuration (see [`Keys::from_config`]).
pub(crate) fn keys_from(config: &crate::config::Config) -> Option<Keys> {
    Keys::from_config(config, "mfa")
}

impl Core {
    pub(crate) fn mfa_keys(&self) -> Result<&Keys> {
        self.mfa_keys.as_ref().ok_or_else(|| {
            Error::Config(
                "second factors need an mfa_encryption_key (or a flow_key or jwt_secret)".into(),
            )
        })
    }

    /// The second factors `user_id` can use now: `totp`, `recovery_code`,
    /// `passkey`. A confirmed TOTP turns them on; passkeys alone do not
    /// (they sign in by themselves, and a password login without a second
    /// factor stays level 1).
    pub(crate) async fn second_factors(&self, user_id: &str) -> Result<Vec<&'static str>> {
        let mut methods = Vec::new();
        if self
            .store
            .totp(user_id)
            .await?
            .is_some_and(|t| t.confirmed_at.is_some())
        {
            methods.push("totp");
            if self.store.recovery_codes_left(user_id).await? > 0 {
                methods.push("recovery_code");
            }
            if !self.store.passkeys(user_id).await?.is_empty() {
                methods.push("passkey");
            }
        }
        Ok(methods)
    }

    /// The live user behind `access_token` if it authenticated recently
    /// enough to change factors (`fresh_auth_max_age`).
    pub(crate) async fn fresh_user(self: &Arc<Self>, access_token: &str) -> Result<UserRecord> {
        let auth = crate::Auth { core: self.clone() };
        let principal = auth.verify_token(access_token).await?;
        tracing::Span::current().record("user_id", principal.user_id.as_str());
        auth.require_recent_auth(&principal, self.config.fresh_auth_max_age)?;
        self.user_record(&principal.user_id).await
    }

    /// The method proven if `proof` is a right, unused `method` proof of
    /// `user` (a code, or a passkey assertion as JSON text), using it up;
    /// `None` if it is wrong. `enrolled_since`: a TOTP code already accepted
    /// when the factor was confirmed after that moment is accepted once
    /// more, so the code that enrolled a factor during a login also
    /// completes that login (whose flow is then used up).
    pub(crate) async fn prove_second(
        &self,
        user: &UserRecord,
        method: Method,
        proof: &str,
        enrolled_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<Method>> {
        if let Method::Passkey { .. } = method {
            let response: serde_json::Value = serde_json::from_str(proof).map_err(|e| {
                Error::validation("proof", format!("is not a WebAuthn response: {e}"))
            })?;
            return match self.verify_passkey(&response, Some(&user.id)).await {
                Ok(assertion) => Ok(Some(Method::Passkey {
                    synced: assertion.synced,
                })),
                Err(Error::InvalidCredentials) => Ok(None),
                Err(e) => Err(e),
            };
        }
        let proven = self.prove_code(user, method, proof, enrolled_since).await?;
        Ok(proven.then_some(method))
    }

    async fn prove_code(
        &self,
        user: &UserRecord,
        method: Method,
        proof: &str,
        enrolled_since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool> {
        let keys = self.mfa_keys()?;
        match method {
            Method::Totp => {
                let Some(record) = self.store.totp(&user.id).await? else {
                    return Ok(false);
                };
                let Some(confirmed_at) = record.confirmed_at else {
                    return Ok(false);
                };
                let totp = self.totp_of(keys, user, &record.secret_sealed)?;
                let Some(step) = totp::matched_step(&totp, proof, unix_now()) else {
                    return Ok(false);
                };
                if self.store.use_totp_step(&user.id, step).await? {
                    return Ok(true);
                }
                Ok(enrolled_since.is_some_and(|since| confirmed_at >= since)
                    && record.last_used_step == Some(step))
            }
            Method::RecoveryCode => {
                let Some(hash) = recovery::hash(keys, &user.id, proof) else {
                    return Ok(false);
                };
                let used = self.store.use_recovery_code(&user.id, &hash, now()).await?;
                if used {
                    let left = self.store.recovery_codes_left(&user.id).await?;
                    let event = Event::by_user(
                        EventType::RecoveryCodeUsed,
                        &user.id,
                        None,
                        Event::user_payload(&user.id, &user.username, json!({ "left": left })),
                    );
                    self.store.append_events(&[event]).await?;
                    self.emitted();
                }
                Ok(used)
            }
            Method::Password
            | Method::Email
            | Method::Issued
            | Method::Federated
            | Method::Passkey { .. } => Err(Error::validation("method", "is not a second factor")),
        }
    }

    fn totp_of(&self, keys: &Keys, user: &UserRecord, sealed: &str) -> Result<totp_rs::Totp> {
        let secret = keys.open(&totp_aad(&user.id), sealed).map_err(|_| {
            Error::Config("a TOTP secret was sealed under another mfa_encryption_key".into())
        })?;
        totp::generator(secret, &self.config.mfa_issuer, &user.username)
    }
}

fn totp_aad(user_id: &str) -> String {
    format!("totp:{user_id}")
}

fn unix_now() -> u64 {
    now().timestamp().max(0) as u64
}

impl Mfa {
    /// Begin enrolling a TOTP authenticator: a new secret, sealed and
    /// stored as pending, shown as text, URI and QR code. Nothing changes
    /// for logins until [`Mfa::confirm_totp`]; starting again replaces a
    /// pending secret. An active authenticator must be removed first
    /// ([`Mfa::disable_totp`]): `validation_error` on `totp`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// let enrolment = dw.mfa().start_totp(&reg.user.id).await.unwrap();
    /// assert!(enrolment.uri.starts_with("otpauth://totp/doorward:ann?secret="));
    /// assert!(enrolment.qr_code.starts_with("data:image/png;base64,"));
    /// assert_eq!(format!("{enrolment:?}"), "TotpEnrolment([redacted])");
    /// # });
    /// ```
    pub async fn start_totp(&self, user_id: &str) -> Result<TotpEnrolment> {
        self.core
            .observe(operation!("mfa.start_totp", %user_id), async {
                let keys = self.core.mfa_keys()?;
                let user = self.core.user_record(user_id).await?;
                let secret = totp::new_secret();
                let sealed = keys.seal(&totp_aad(&user.id), &secret);
                let totp = totp::generator(secret, &self.core.config.mfa_issuer, &user.username)?;
                if !self.core.store.put_totp(&user.id, &sealed, now()).await? {
                    return Err(Error::validation(
                        "totp",
                        "is already active; remove it before enrolling another",
                    ));
                }
                let uri = totp
                    .to_url()
                    .map_err(|e| Error::Internal(format!("cannot write the otpauth URI: {e}")))?;
                let qr = totp
                    .to_qr_base64()
                    .map_err(|e| Error::Internal(format!("cannot draw the QR code: {e}")))?;
                Ok(TotpEnrolment {
                    secret: totp.secret().to_base32(),
                    uri,
                    qr_code: format!("data:image/png;base64,{qr}"),
                })
            })
            .await
    }

    /// Activate the pending authenticator with a first code from it, and
    /// get the account's ten recovery codes, shown this once. From now on
    /// logins ask for a second factor. A wrong code is `invalid_credentials`
    /// and counts towards the account's lockout like a wrong password; with
    /// no pending authenticator the answer is `not_found`.
    pub async fn confirm_totp(&self, user_id: &str, code: &str) -> Result<RecoveryCodes> {
        self.core
            .observe(operation!("mfa.confirm_totp", %user_id), async {
                let keys = self.core.mfa_keys()?;
                let user = self.core.user_record(user_id).await?;
                let record = self
                    .core
                    .store
                    .totp(&user.id)
                    .await?
                    .filter(|t| t.confirmed_at.is_none())
                    .ok_or_else(|| Error::not_found("pending TOTP enrolment"))?;
                let gate = self.core.login_gate(Some(&user), "", None).await?;
                let totp = self.core.totp_of(keys, &user, &record.secret_sealed)?;
                let Some(step) = totp::matched_step(&totp, code, unix_now()) else {
                    self.core
                        .second_factor_failed(&user, &gate, Method::Totp, "enrolment", None)
                        .await?;
                    return Err(Error::InvalidCredentials);
                };
                let (codes, hashes) = recovery::new_set(keys, &user.id);
                let event = Event::by_user(
                    EventType::MfaEnrolled,
                    &user.id,
                    None,
                    Event::user_payload(&user.id, &user.username, json!({ "factor": "totp" })),
                );
                if !self
                    .core
                    .store
                    .confirm_totp(&user.id, step, &hashes, now(), &[event])
                    .await?
                {
                    return Err(Error::not_found("pending TOTP enrolment"));
                }
                self.core.emitted();
                self.core
                    .metrics
                    .count("doorward_mfa_enrolments_total", &[("factor", "totp")]);
                tracing::info!(user_id = %user.id, "TOTP authenticator enrolled");
                Ok(RecoveryCodes { codes })
            })
            .await
    }

    /// Remove the account's TOTP authenticator and its recovery codes;
    /// logins stop asking for a second factor. Needs the user's access
    /// token, authenticated within `fresh_auth_max_age` (otherwise
    /// `step_up_required`: see [`crate::Auth::step_up`]); `not_found`
    /// when there is none.
    pub async fn disable_totp(&self, access_token: &str) -> Result<()> {
        self.core
            .observe(operation!("mfa.disable_totp", user_id = Empty), async {
                let user = self.core.fresh_user(access_token).await?;
                let event = Event::by_user(
                    EventType::MfaRemoved,
                    &user.id,
                    None,
                    Event::user_payload(&user.id, &user.username, json!({ "factor": "totp" })),
                );
                if !self.core.store.delete_totp(&user.id, &[event]).await? {
                    return Err(Error::not_found("TOTP authenticator"));
                }
                self.core.emitted();
                tracing::info!(user_id = %user.id, "TOTP authenticator removed");
                Ok(())
            })
            .await
    }

    /// Replace the recovery codes with a new set (the old ones stop
    /// working at once), shown this once. Needs a fresh authentication,
    /// as [`Mfa::disable_totp`] does, and an active factor (`not_found`).
    pub async fn regenerate_recovery_codes(&self, access_token: &str) -> Result<RecoveryCodes> {
        self.core
            .observe(
                operation!("mfa.regenerate_recovery_codes", user_id = Empty),
                async {
                    let keys = self.core.mfa_keys()?;
                    let user = self.core.fresh_user(access_token).await?;
                    if self.core.second_factors(&user.id).await?.is_empty() {
                        return Err(Error::not_found("second factor"));
                    }
                    let (codes, hashes) = recovery::new_set(keys, &user.id);
                    let event = Event::by_user(
                        EventType::RecoveryCodesRegenerated,
                        &user.id,
                        None,
                        Event::user_payload(&user.id, &user.username, json!({})),
                    );
                    self.core
                        .store
                        .replace_recovery_codes(&user.id, &hashes, &[event])
                        .await?;
                    self.core.emitted();
                    Ok(RecoveryCodes { codes })
                },
            )
            .await
    }

    /// The account's second factors.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("cyd", "cyd@example.com", "correct horse battery", None).await.unwrap();
    /// let status = dw.mfa().status(&reg.user.id).await.unwrap();
    /// assert!(!status.enabled && !status.totp);
    /// # });
    /// ```
    pub async fn status(&self, user_id: &str) -> Result<MfaStatus> {
        self.core
            .observe(operation!("mfa.status", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                let methods = self.core.second_factors(&user.id).await?;
                let totp = methods.contains(&"totp");
                Ok(MfaStatus {
                    totp,
                    recovery_codes_left: if totp {
                        self.core.store.recovery_codes_left(&user.id).await?
                    } else {
                        0
                    },
                    enabled: !methods.is_empty(),
                })
            })
            .await
    }
}
