//! Passkeys (WebAuthn): `doorward.passkeys()`. The app or server forwards
//! JSON between the platform's WebAuthn API and doorward: options go out as
//! JSON text `{"publicKey": {...}}` (its `publicKey` member is what a
//! browser's `PublicKeyCredential.parseCreationOptionsFromJSON` /
//! `parseRequestOptionsFromJSON` read), answers come back as the JSON text
//! of `credential.toJSON()`. Text that is not JSON is a
//! `Validation` error on `response`, as a response the core refuses is.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::error::{DoorwardError, call};
use crate::types::{ClientInfo, TokenPair, pair, time};

/// A registered passkey, as listed: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasskeyInfo {
    /// The credential id (base64url): what `rename` and `remove` take.
    pub id: String,
    /// The user's name for it.
    pub name: String,
    pub created_at: SystemTime,
    /// When it last signed in.
    pub last_used_at: Option<SystemTime>,
    /// Whether it may be synced to the user's other devices.
    pub backup_eligible: bool,
    /// Whether it is backed up now.
    pub backup_state: bool,
    /// The authenticator's signature counter (0 when it keeps none).
    pub sign_count: u32,
}

impl From<doorward::PasskeyInfo> for PasskeyInfo {
    fn from(p: doorward::PasskeyInfo) -> Self {
        PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: time(p.created_at),
            last_used_at: p.last_used_at.map(time),
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count,
        }
    }
}

/// `response` as the core takes it; text that is not JSON is a
/// `Validation` error on `response` (serde's message names a position,
/// never the text).
fn json(response: &str) -> Result<Value, DoorwardError> {
    serde_json::from_str(response).map_err(|e| {
        doorward::Error::validation("response", format!("is not a WebAuthn response: {e}")).into()
    })
}

/// Passkeys: `doorward.passkeys()`.
#[derive(Debug, uniffi::Object)]
pub struct Passkeys {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Passkeys {
        /// Options for creating a passkey for `user_id`, as JSON text
        /// `{"publicKey": {...}}`; they work once, for five minutes.
        pub async fn start_registration(&self, user_id: String) -> Result<String, DoorwardError> {
            call(self.dw.passkeys().start_registration(&user_id))
                .await
                .map(|options| options.to_string())
        }

        /// Register the passkey the platform created for those options
        /// (`response_json`: the JSON text of `credential.toJSON()`) under
        /// `name` (1 to 64 printable characters). An answer to no open
        /// ceremony of this user is `FlowInvalid`; one that is not JSON or
        /// that the relying party refuses (wrong origin, no user
        /// verification, registered already) is `Validation` on `response`.
        pub async fn finish_registration(&self, user_id: String, response_json: String, name: String) -> Result<PasskeyInfo, DoorwardError> {
            let response = json(&response_json)?;
            call(self.dw.passkeys().finish_registration(&user_id, &response, &name))
                .await
                .map(PasskeyInfo::from)
        }

        /// Options for signing in with a passkey, as JSON text
        /// `{"publicKey": {...}}`: for the passkeys of `username` (a
        /// username or an address), or with none for any passkey the
        /// platform holds for this site.
        #[uniffi::method(default(username = None))]
        pub async fn start_authentication(&self, username: Option<String>) -> Result<String, DoorwardError> {
            call(self.dw.passkeys().start_authentication(username.as_deref()))
                .await
                .map(|options| options.to_string())
        }

        /// Sign in with the platform's answer to those options (the JSON
        /// text of `credential.toJSON()`): a level-2 session. A refused
        /// assertion is `InvalidCredentials`; an answer to no open
        /// ceremony, or to one already finished, `FlowInvalid`; text that
        /// is not a WebAuthn response, `Validation` on `response`.
        #[uniffi::method(default(client = None))]
        pub async fn finish_authentication(&self, response_json: String, client: Option<ClientInfo>) -> Result<Arc<TokenPair>, DoorwardError> {
            let response = json(&response_json)?;
            let client = client.map(Into::into);
            call(self.dw.passkeys().finish_authentication(&response, client))
                .await
                .map(pair)
        }

        /// The account's passkeys, oldest first.
        pub async fn list(&self, user_id: String) -> Result<Vec<PasskeyInfo>, DoorwardError> {
            call(self.dw.passkeys().list(&user_id))
                .await
                .map(|keys| keys.into_iter().map(PasskeyInfo::from).collect())
        }

        /// Rename one of the account's passkeys; `NotFound` if it has none
        /// with that id.
        pub async fn rename(&self, user_id: String, passkey_id: String, name: String) -> Result<(), DoorwardError> {
            call(self.dw.passkeys().rename(&user_id, &passkey_id, &name)).await
        }

        /// Remove one of the signed-in user's passkeys, with an access
        /// token authenticated within `fresh_auth_max_age` (else
        /// `StepUpRequired`); `NotFound` if the account has no such passkey.
        pub async fn remove(&self, access_token: String, passkey_id: String) -> Result<(), DoorwardError> {
            call(self.dw.passkeys().remove(&access_token, &passkey_id)).await
        }
    }
}
