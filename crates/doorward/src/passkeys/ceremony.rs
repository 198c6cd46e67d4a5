//! WebAuthn ceremonies through `webauthn-rs`, with their state kept by
//! doorward so any instance can finish a ceremony another started.
//!
//! A ceremony's state is stored as a sealed one-time flow named by its
//! challenge, under the MFA key (see `flows/sealed.rs`).
//! The browser's response carries the challenge (in `clientDataJSON`), so
//! finishing needs nothing but the response, and consuming the flow is one
//! conditional statement: an assertion presented twice, or by two
//! instances at once, finds its ceremony used.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Webauthn,
    WebauthnBuilder,
};

use crate::config::Config;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::flows::sealed::sealed_flow_id;
use crate::sealing::B64;
use crate::store::{PasskeyUse, UserRecord, now};

/// Seconds a ceremony may take (WebAuthn's recommended timeout).
const CEREMONY_SECS: u64 = 300;
pub(crate) const REGISTRATION: &str = "passkey_registration";
pub(crate) const AUTHENTICATION: &str = "passkey_authentication";

/// The relying party the configuration describes, or why it cannot be.
pub(crate) fn relying_party(config: &Config) -> std::result::Result<Webauthn, String> {
    let app = Url::parse(&config.app_url).map_err(|e| format!("app_url: {e}"))?;
    let origins: Vec<Url> = if config.webauthn_origins.is_empty() {
        vec![app.clone()]
    } else {
        config
            .webauthn_origins
            .iter()
            .map(|o| Url::parse(o).map_err(|e| format!("webauthn_origins: {o}: {e}")))
            .collect::<std::result::Result<_, _>>()?
    };
    let rp_id = match &config.webauthn_rp_id {
        Some(id) => id.clone(),
        None => app
            .host_str()
            .ok_or("app_url has no host to use as webauthn_rp_id")?
            .to_string(),
    };
    let mut builder = WebauthnBuilder::new(&rp_id, &origins[0])
        .map_err(|e| format!("webauthn_rp_id {rp_id:?} does not suit {}: {e}", origins[0]))?
        .rp_name(&config.webauthn_rp_name);
    for origin in &origins[1..] {
        builder = builder.append_allowed_origin(origin);
    }
    builder.build().map_err(|e| format!("webauthn: {e}"))
}

/// A ceremony's state as sealed in its flow.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum State {
    Registration(PasskeyRegistration),
    Authentication(PasskeyAuthentication),
    Discoverable(DiscoverableAuthentication),
}

/// A verified assertion: whose, and what it said.
pub(crate) struct Assertion {
    pub user: UserRecord,
    /// Whether the passkey may be synced (`swk`) rather than device-bound.
    pub synced: bool,
}

fn bad_response(why: impl std::fmt::Display) -> Error {
    Error::validation("response", format!("is not a WebAuthn response: {why}"))
}

/// The challenge a response answers, base64url, from its client data.
fn challenge_of(client_data_json: &[u8]) -> Result<String> {
    let data: Value = serde_json::from_slice(client_data_json).map_err(bad_response)?;
    data.get("challenge")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty() && c.len() <= 512)
        .map(str::to_string)
        .ok_or_else(|| bad_response("clientDataJSON has no challenge"))
}

/// The id of a credential as stored: base64url of its bytes.
pub(crate) fn credential_id(passkey: &Passkey) -> String {
    B64.encode(passkey.cred_id().as_slice())
}

/// Whether a new passkey may be synced, and is backed up now.
pub(crate) fn backup_flags(passkey: &Passkey) -> (bool, bool) {
    let credential = webauthn_rs::prelude::Credential::from(passkey.clone());
    (credential.backup_eligible, credential.backup_state)
}

impl Core {
    pub(crate) fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn
            .as_ref()
            .map_err(|why| Error::Config(format!("passkeys cannot work: {why}")))
    }

    /// Keep `state` for the ceremony of `challenge`.
    async fn begin_ceremony(
        &self,
        purpose: &str,
        challenge: &[u8],
        user_id: Option<&str>,
        state: &State,
    ) -> Result<()> {
        let challenge = B64.encode(challenge);
        self.keep_sealed(
            self.mfa_keys()?,
            purpose,
            &challenge,
            user_id,
            state,
            CEREMONY_SECS,
        )
        .await
    }

    /// Use up the ceremony a response answers and give back its state and
    /// user; `flow_invalid` if there is none (never started, finished
    /// already, for another purpose, or, with `owner`, another user's:
    /// that one is left for its user), `flow_expired` past its time.
    async fn end_ceremony(
        &self,
        purpose: &str,
        client_data_json: &[u8],
        owner: Option<&str>,
    ) -> Result<(State, Option<String>)> {
        let keys = self.mfa_keys()?;
        let challenge = challenge_of(client_data_json)?;
        if let Some(owner) = owner {
            let id = sealed_flow_id(keys, purpose, &challenge);
            let flow = self.store.flow(&id).await?;
            if flow.is_none_or(|f| f.user_id.as_deref() != Some(owner)) {
                return Err(Error::FlowInvalid {
                    attempts_left: None,
                });
            }
        }
        self.take_sealed(keys, purpose, &challenge).await
    }

    /// Creation options for a new passkey of `user`, none of its
    /// existing ones again. Discoverable credentials are preferred, so the
    /// passkey can sign in without a username.
    pub(crate) async fn start_passkey_registration(&self, user: &UserRecord) -> Result<Value> {
        let webauthn = self.webauthn()?;
        let user_handle = uuid::Uuid::parse_str(&user.id)
            .map_err(|_| Error::Internal("a user id is not a UUID".into()))?;
        let exclude = self
            .store
            .passkeys(&user.id)
            .await?
            .iter()
            .map(|p| serde_json::from_str::<Passkey>(&p.credential).map(|k| k.cred_id().clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Storage(format!("a stored passkey does not parse: {e}")))?;
        let (mut options, state) = webauthn
            .start_passkey_registration(user_handle, &user.username, &user.username, Some(exclude))
            .map_err(|e| Error::Internal(format!("cannot start a passkey registration: {e}")))?;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Preferred);
        }
        self.begin_ceremony(
            REGISTRATION,
            &options.public_key.challenge,
            Some(&user.id),
            &State::Registration(state),
        )
        .await?;
        serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))
    }

    /// The passkey a registration response creates for `user`.
    pub(crate) async fn finish_passkey_registration(
        &self,
        user: &UserRecord,
        response: &Value,
    ) -> Result<Passkey> {
        let webauthn = self.webauthn()?;
        let response: RegisterPublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(bad_response)?;
        let (state, _) = self
            .end_ceremony(
                REGISTRATION,
                &response.response.client_data_json,
                Some(&user.id),
            )
            .await?;
        let State::Registration(state) = state else {
            return Err(Error::FlowInvalid {
                attempts_left: None,
            });
        };
        webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| Error::validation("response", format!("the passkey was refused: {e}")))
    }

    /// Request options: for `user`'s passkeys, or, with no user, for any
    /// discoverable passkey of this site (the browser offers the user's).
    pub(crate) async fn start_passkey_authentication(
        &self,
        user: Option<&UserRecord>,
    ) -> Result<Value> {
        let webauthn = self.webauthn()?;
        let keys = match user {
            Some(user) => self
                .store
                .passkeys(&user.id)
                .await?
                .iter()
                .map(|p| serde_json::from_str::<Passkey>(&p.credential))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Storage(format!("a stored passkey does not parse: {e}")))?,
            None => Vec::new(),
        };
        let (options, challenge, owner, state) = match user.filter(|_| !keys.is_empty()) {
            Some(user) => {
                let (options, state) =
                    webauthn.start_passkey_authentication(&keys).map_err(|e| {
                        Error::Internal(format!("cannot start a passkey authentication: {e}"))
                    })?;
                let challenge = options.public_key.challenge.clone();
                (
                    options,
                    challenge,
                    Some(user.id.as_str()),
                    State::Authentication(state),
                )
            }
            // An unknown name, or one without passkeys, gets the
            // discoverable ceremony: no list of credentials to leak.
            None => {
                let (mut options, state) =
                    webauthn.start_discoverable_authentication().map_err(|e| {
                        Error::Internal(format!("cannot start a passkey authentication: {e}"))
                    })?;
                // A modal request by default; a host that wants the
                // autofill UI asks the browser for `mediation: "conditional"`.
                options.mediation = None;
                let challenge = options.public_key.challenge.clone();
                (options, challenge, None, State::Discoverable(state))
            }
        };
        self.begin_ceremony(AUTHENTICATION, &challenge, owner, &state)
            .await?;
        serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))
    }

    /// Verify an assertion against the ceremony it answers, and record the
    /// passkey's use (its counter may only move forward). `for_user`: the
    /// assertion must be that user's. A refused assertion is
    /// `invalid_credentials`.
    pub(crate) async fn verify_passkey(
        &self,
        response: &Value,
        for_user: Option<&str>,
    ) -> Result<Assertion> {
        let webauthn = self.webauthn()?;
        let response: PublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(bad_response)?;
        let (state, owner) = self
            .end_ceremony(AUTHENTICATION, &response.response.client_data_json, None)
            .await?;
        let refused = |why: String| {
            tracing::info!(reason = %why, "passkey assertion refused");
            Error::InvalidCredentials
        };
        let stored_id = B64.encode(response.get_credential_id());
        let record = self
            .store
            .passkey(&stored_id)
            .await?
            .ok_or_else(|| refused("unknown credential".into()))?;
        if owner.as_deref().is_some_and(|o| o != record.user_id)
            || for_user.is_some_and(|u| u != record.user_id)
        {
            return Err(refused("another account's credential".into()));
        }
        let mut passkey: Passkey = serde_json::from_str(&record.credential)
            .map_err(|e| Error::Storage(format!("a stored passkey does not parse: {e}")))?;
        let result: AuthenticationResult = match state {
            State::Authentication(state) => webauthn
                .finish_passkey_authentication(&response, &state)
                .map_err(|e| refused(e.to_string()))?,
            State::Discoverable(state) => {
                let (handle, _) = webauthn
                    .identify_discoverable_authentication(&response)
                    .map_err(|e| refused(e.to_string()))?;
                if handle.to_string() != record.user_id {
                    return Err(refused("the user handle names another account".into()));
                }
                webauthn
                    .finish_discoverable_authentication_v2(&response, state, &passkey)
                    .map_err(|e| refused(e.to_string()))?
            }
            State::Registration(_) => return Err(refused("not an authentication".into())),
        };
        passkey.update_credential(&result);
        let used = PasskeyUse {
            credential: serde_json::to_string(&passkey)
                .map_err(|e| Error::Internal(e.to_string()))?,
            sign_count: result.counter(),
            backup_eligible: result.backup_eligible(),
            backup_state: result.backup_state(),
            at: now(),
        };
        if !self.store.use_passkey(&record.id, &used).await? {
            return Err(refused("the signature counter did not move forward".into()));
        }
        let user = self
            .store
            .user_by_id(&record.user_id)
            .await?
            .ok_or_else(|| refused("the account is gone".into()))?;
        Ok(Assertion {
            synced: result.backup_eligible(),
            user,
        })
    }
}
