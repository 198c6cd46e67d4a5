//! `dw.passkeys`: passkeys (WebAuthn). The options go to the browser and
//! its answers come back as plain objects: the JSON that
//! `PublicKeyCredential.parseCreationOptionsFromJSON` /
//! `parseRequestOptionsFromJSON` read, and what `credential.toJSON()`
//! gives. The core checks them all.

use chrono::{DateTime, Utc};
use napi_derive::napi;
use serde_json::{Map, Value};

use crate::error::guarded;
use crate::types::{ClientInfo, TokenPair, each};

/// A registered passkey, as listed: nothing secret.
#[napi(object)]
#[derive(Debug)]
pub struct PasskeyInfo {
    /// The credential id (base64url): what `rename` and `remove` take.
    pub id: String,
    /// The user's name for it.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last signed in; absent until then.
    pub last_used_at: Option<DateTime<Utc>>,
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
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            backup_eligible: p.backup_eligible,
            backup_state: p.backup_state,
            sign_count: p.sign_count,
        }
    }
}

/// Passkeys (WebAuthn): `dw.passkeys`.
#[napi]
#[derive(Debug)]
pub struct Passkeys {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Passkeys {
    /// Options for `navigator.credentials.create()` to add a passkey to
    /// the account: `{ publicKey }`, whose `publicKey` is what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` reads. They work
    /// once, for five minutes.
    #[napi(ts_return_type = "Promise<import('./index').PasskeyCreationOptions>")]
    pub async fn start_registration(&self, user_id: String) -> napi::Result<Value> {
        guarded(self.dw.passkeys().start_registration(&user_id)).await
    }

    /// Register the passkey the browser created (`credential.toJSON()`)
    /// under `name` (1 to 64 printable characters). An answer to no open
    /// ceremony of this user is `flow_invalid`; one the relying party
    /// refuses (another origin, no user verification, a passkey registered
    /// already) a `validation_error` on `response`.
    #[napi(
        ts_args_type = "userId: string, response: import('./index').PasskeyCredentialJSON, name: string"
    )]
    pub async fn finish_registration(
        &self,
        user_id: String,
        response: Map<String, Value>,
        name: String,
    ) -> napi::Result<PasskeyInfo> {
        let response = Value::Object(response);
        guarded(
            self.dw
                .passkeys()
                .finish_registration(&user_id, &response, &name),
        )
        .await
        .map(PasskeyInfo::from)
    }

    /// Options for `navigator.credentials.get()`: `{ publicKey }` for
    /// `PublicKeyCredential.parseRequestOptionsFromJSON`, for the passkeys
    /// of `username` (a username or an address) or, without one, for any
    /// passkey of this site the browser holds (a discoverable credential).
    #[napi(ts_return_type = "Promise<import('./index').PasskeyRequestOptions>")]
    pub async fn start_authentication(&self, username: Option<String>) -> napi::Result<Value> {
        guarded(self.dw.passkeys().start_authentication(username.as_deref())).await
    }

    /// Sign in with the browser's answer (`credential.toJSON()`): a
    /// session at level 2. A refused assertion is `invalid_credentials`;
    /// one to no open ceremony, or to one finished already,
    /// `flow_invalid`.
    #[napi(
        ts_args_type = "response: import('./index').PasskeyCredentialJSON, client?: ClientInfo | undefined | null"
    )]
    pub async fn finish_authentication(
        &self,
        response: Map<String, Value>,
        client: Option<ClientInfo>,
    ) -> napi::Result<TokenPair> {
        let response = Value::Object(response);
        let client = client.map(Into::into);
        guarded(self.dw.passkeys().finish_authentication(&response, client))
            .await
            .map(TokenPair::from)
    }

    /// The account's passkeys, oldest first.
    #[napi]
    pub async fn list(&self, user_id: String) -> napi::Result<Vec<PasskeyInfo>> {
        guarded(self.dw.passkeys().list(&user_id)).await.map(each)
    }

    /// Rename one of the account's passkeys; `not_found` if it has none
    /// with that id.
    #[napi]
    pub async fn rename(
        &self,
        user_id: String,
        passkey_id: String,
        name: String,
    ) -> napi::Result<()> {
        guarded(self.dw.passkeys().rename(&user_id, &passkey_id, &name)).await
    }

    /// Remove one of the signed-in user's passkeys: `accessToken` must be
    /// authenticated within `freshAuthMaxAge` (otherwise
    /// `step_up_required`: see `stepUp`); `not_found` if the account has no
    /// passkey with that id.
    #[napi]
    pub async fn remove(&self, access_token: String, passkey_id: String) -> napi::Result<()> {
        guarded(self.dw.passkeys().remove(&access_token, &passkey_id)).await
    }
}
