//! Passkeys (WebAuthn): `dw.passkeys()`.
//!
//! The host forwards JSON between the browser (or app) and doorward:
//! `start_registration` gives `PublicKeyCredentialCreationOptions` for
//! `navigator.credentials.create`, `finish_registration` takes what it
//! returned; `start_authentication` and `finish_authentication` do the same
//! for `navigator.credentials.get`. The ceremony's state stays in the store
//! (see `ceremony.rs`), so any instance finishes what another started.
//!
//! A passkey verifies its user (PIN or biometric: webauthn-rs requires it),
//! so signing in with one is level 2 by itself (`amr` `hwk` or, for a
//! synced passkey, `swk`, with `user`). It also serves as the second factor
//! after a password (`complete_mfa` and `step_up` with method `passkey`).

pub(crate) mod ceremony;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::field::Empty;

use crate::auth::assurance::{Assurance, Method};
use crate::auth::lockout::Gate;
use crate::auth::{ClientInfo, TokenPair};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{PasskeyRecord, now};
use crate::telemetry::operation;

/// A registered passkey, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyInfo {
    /// The credential id (base64url): what `rename` and `remove` take.
    pub id: String,
    /// The user's name for it.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it may be synced to the user's other devices.
    pub backup_eligible: bool,
    /// Whether it is backed up now.
    pub backup_state: bool,
    /// The authenticator's signature counter (0 when it keeps none).
    pub sign_count: u32,
}

impl From<PasskeyRecord> for PasskeyInfo {
    fn from(p: PasskeyRecord) -> Self {
        PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count,
        }
    }
}

/// The passkey service.
#[derive(Debug, Clone)]
pub struct Passkeys {
    pub(crate) core: Arc<Core>,
}

fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::validation(
            "name",
            "must be 1 to 64 printable characters",
        ));
    }
    Ok(name.to_string())
}

impl Passkeys {
    /// Options for `navigator.credentials.create()` (the `publicKey` member
    /// of the JSON, as `PublicKeyCredential.parseCreationOptionsFromJSON`
    /// reads it) to add a passkey to the account; they work once, for five
    /// minutes.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// let options = dw.passkeys().start_registration(&reg.user.id).await.unwrap();
    /// assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    /// assert_eq!(options["publicKey"]["user"]["name"], "ann");
    /// # });
    /// ```
    pub async fn start_registration(&self, user_id: &str) -> Result<Value> {
        self.core
            .observe(operation!("passkeys.start_registration", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                self.core.start_passkey_registration(&user).await
            })
            .await
    }

    /// Register the passkey the browser created for the options of
    /// [`Passkeys::start_registration`] under `name`. A response to no
    /// open ceremony of this user is `flow_invalid`; one the relying party
    /// refuses (wrong origin, no user verification, a credential already
    /// registered) is a `validation_error` on `response`.
    pub async fn finish_registration(
        &self,
        user_id: &str,
        response: &Value,
        name: &str,
    ) -> Result<PasskeyInfo> {
        self.core
            .observe(
                operation!("passkeys.finish_registration", %user_id),
                async {
                    let name = checked_name(name)?;
                    let user = self.core.user_record(user_id).await?;
                    let passkey = self
                        .core
                        .finish_passkey_registration(&user, response)
                        .await?;
                    let id = ceremony::credential_id(&passkey);
                    let (backup_eligible, backup_state) = ceremony::backup_flags(&passkey);
                    let credential = serde_json::to_string(&passkey)
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    let record = PasskeyRecord {
                        id: id.clone(),
                        user_id: user.id.clone(),
                        name,
                        credential,
                        sign_count: 0,
                        backup_eligible,
                        backup_state,
                        created_at: now(),
                        last_used_at: None,
                    };
                    let event = Event::by_user(
                        EventType::MfaEnrolled,
                        &user.id,
                        None,
                        Event::user_payload(
                            &user.id,
                            &user.username,
                            json!({ "factor": "passkey", "passkey_id": id }),
                        ),
                    );
                    if !self.core.store.add_passkey(&record, &[event]).await? {
                        return Err(Error::validation(
                            "response",
                            "this passkey is registered already",
                        ));
                    }
                    self.core.emitted();
                    self.core
                        .metrics
                        .count("doorward_mfa_enrolments_total", &[("factor", "passkey")]);
                    Ok(PasskeyInfo::from(record))
                },
            )
            .await
    }

    /// Options for `navigator.credentials.get()`: for the passkeys of
    /// `username` (a username or an address), or with none for any passkey
    /// the browser holds for this site (a discoverable credential; also
    /// what an unknown name or one without passkeys gets).
    pub async fn start_authentication(&self, username: Option<&str>) -> Result<Value> {
        self.core
            .observe(operation!("passkeys.start_authentication"), async {
                let user = match username.map(str::trim).filter(|n| !n.is_empty()) {
                    Some(name) if name.len() <= 320 => {
                        crate::users::find_by_login(&self.core, name).await?
                    }
                    Some(_) => return Err(Error::validation("username", "is too long")),
                    None => None,
                };
                self.core
                    .start_passkey_authentication(user.filter(|u| !u.disabled).as_ref())
                    .await
            })
            .await
    }

    /// Sign in with the browser's answer to
    /// [`Passkeys::start_authentication`]: a session at level 2. A refused
    /// assertion (wrong signature, origin, counter) is
    /// `invalid_credentials`; an answer to no open ceremony, or to one
    /// already finished, `flow_invalid`.
    pub async fn finish_authentication(
        &self,
        response: &Value,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        let result = self
            .core
            .observe(
                operation!("passkeys.finish_authentication", user_id = Empty),
                async {
                    let assertion = self.core.verify_passkey(response, None).await?;
                    let user = assertion.user;
                    tracing::Span::current().record("user_id", user.id.as_str());
                    if user.disabled {
                        return Err(Error::UserDisabled);
                    }
                    let method = Method::Passkey {
                        synced: assertion.synced,
                    };
                    let tokens = self
                        .core
                        .start_session(
                            &user,
                            client.as_ref(),
                            method.as_str(),
                            Assurance::of(&[method]),
                        )
                        .await?;
                    let gate = Gate::ungated(self.core.client_of(client.as_ref()));
                    self.core.login_succeeded(&user, &gate).await?;
                    Ok(tokens)
                },
            )
            .await;
        let outcome = crate::auth::outcome(&result);
        self.core
            .metrics
            .count("doorward_logins_total", &[("outcome", outcome)]);
        self.core
            .mfa_verified(Method::Passkey { synced: false }, "sign_in", outcome);
        if let Err(Error::InvalidCredentials) = &result {
            // Which account the credential belongs to is not known for
            // sure here: the refusal is recorded without one, as for an
            // unknown login.
            let event = Event::new(
                EventType::LoginFailed,
                None,
                None,
                client.as_ref(),
                json!({ "reason": "passkey_refused" }),
            );
            self.core.store.append_events(&[event]).await?;
        }
        result
    }

    /// The account's passkeys, oldest first.
    pub async fn list(&self, user_id: &str) -> Result<Vec<PasskeyInfo>> {
        self.core
            .observe(operation!("passkeys.list", %user_id), async {
                let user = self.core.user_record(user_id).await?;
                let keys = self.core.store.passkeys(&user.id).await?;
                Ok(keys.into_iter().map(PasskeyInfo::from).collect())
            })
            .await
    }

    /// Rename one of the account's passkeys; `not_found` if it has none
    /// with that id.
    pub async fn rename(&self, user_id: &str, passkey_id: &str, name: &str) -> Result<()> {
        self.core
            .observe(operation!("passkeys.rename", %user_id), async {
                let name = checked_name(name)?;
                if self
                    .core
                    .store
                    .rename_passkey(user_id, passkey_id, &name)
                    .await?
                {
                    Ok(())
                } else {
                    Err(Error::not_found("passkey"))
                }
            })
            .await
    }

    /// Remove one of the signed-in user's passkeys. Needs an access token
    /// authenticated within `fresh_auth_max_age` (else `step_up_required`);
    /// `not_found` if the account has no passkey with that id. Every
    /// account keeps its password (or a reset by mail) as a way in, so no
    /// passkey is ever its last.
    pub async fn remove(&self, access_token: &str, passkey_id: &str) -> Result<()> {
        self.core
            .observe(operation!("passkeys.remove", user_id = Empty), async {
                let user = self.core.fresh_user(access_token).await?;
                let event = Event::by_user(
                    EventType::MfaRemoved,
                    &user.id,
                    None,
                    Event::user_payload(
                        &user.id,
                        &user.username,
                        json!({ "factor": "passkey", "passkey_id": passkey_id }),
                    ),
                );
                if !self
                    .core
                    .store
                    .delete_passkey(&user.id, passkey_id, &[event])
                    .await?
                {
                    return Err(Error::not_found("passkey"));
                }
                self.core.emitted();
                Ok(())
            })
            .await
    }
}
