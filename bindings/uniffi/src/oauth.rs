//! Sign-in with OAuth 2.0 / OpenID Connect providers: `doorward.oauth()`.
//!
//! An app is a public client (no `clientSecret`; PKCE protects the code)
//! whose redirect URI is its own scheme (`com.example.app:/oauth/callback`):
//! open `authorizationUrl(...).url` in a browser tab (Custom Tabs,
//! `ASWebAuthenticationSession`), keep its `state` in memory, and hand the
//! URL the tab comes back with to `complete`. A server host does the same
//! with a redirect and an HTTP-only cookie.

use std::time::SystemTime;

use crate::error::{DoorwardError, call};
use crate::types::{ClientInfo, LoginResult, each, time};

/// A provider users can sign in with, for the app's sign-in buttons.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProviderInfo {
    /// Its id: what `authorizationUrl` takes.
    pub id: String,
    /// The name to show.
    pub name: String,
    /// `oidc`, `google`, `microsoft`, `apple` or `github`.
    pub kind: String,
}

impl From<doorward::ProviderInfo> for ProviderInfo {
    fn from(p: doorward::ProviderInfo) -> Self {
        ProviderInfo {
            id: p.id,
            name: p.name,
            kind: p.kind,
        }
    }
}

/// Where to send the browser, and the state to keep until the callback.
///
/// Printing it (`toString()` in Kotlin, `description` in Swift) shows
/// neither `url` nor `state`.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct AuthorizationStart {
    /// The provider's authorization URL: open it in a browser tab (an app)
    /// or redirect the browser there (a server).
    pub url: String,
    /// The request's `state`: keep it (an app: in memory; a server: in an
    /// HTTP-only cookie) and pass it to `complete` as `expectedState`.
    pub state: String,
    /// Seconds the sign-in at the provider may take.
    pub expires_in: u64,
}

impl From<doorward::AuthorizationStart> for AuthorizationStart {
    fn from(s: doorward::AuthorizationStart) -> Self {
        AuthorizationStart {
            url: s.url,
            state: s.state,
            expires_in: s.expires_in,
        }
    }
}

impl std::fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("url", &"[redacted]")
            .field("state", &"[redacted]")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl std::fmt::Display for AuthorizationStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AuthorizationStart(expiresIn={}, url and state hidden)",
            self.expires_in
        )
    }
}

/// What a callback did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OAuthCompletion {
    /// The provider's id.
    pub provider: String,
    /// The account signed in (or linked to).
    pub user_id: String,
    /// The account was created by this sign-in.
    pub new_user: bool,
    /// The identity was linked to the account by this callback (a sign-up,
    /// a link by verified address, or a link the user asked for).
    pub linked: bool,
    /// The sign-in: `Tokens`, or `MfaRequired` (finish with
    /// `completeMfa`); `null` for the callback of a `link`, which signs
    /// nobody in.
    pub login: Option<LoginResult>,
}

impl From<doorward::OAuthCompletion> for OAuthCompletion {
    fn from(c: doorward::OAuthCompletion) -> Self {
        OAuthCompletion {
            provider: c.provider,
            user_id: c.user_id,
            new_user: c.new_user,
            linked: c.linked,
            login: c.login.map(LoginResult::from),
        }
    }
}

/// A provider's tokens kept for the account (`storeProviderTokens`), to
/// call the provider's API. Printing it shows neither token.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct ProviderTokens {
    /// The provider's access token.
    pub access_token: String,
    /// Its refresh token, if it gave one.
    pub refresh_token: Option<String>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<SystemTime>,
    /// The scopes granted, if the provider said.
    pub scopes: Vec<String>,
}

impl From<doorward::ProviderTokens> for ProviderTokens {
    fn from(t: doorward::ProviderTokens) -> Self {
        ProviderTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_at: t.expires_at.map(time),
            scopes: t.scopes,
        }
    }
}

impl std::fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl std::fmt::Display for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let expires_at = self
            .expires_at
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
        write!(
            f,
            "ProviderTokens(expiresAt={}, scopes={:?}, tokens hidden)",
            expires_at.as_deref().unwrap_or("null"),
            self.scopes
        )
    }
}

/// Sign-in with OAuth 2.0 / OpenID Connect providers: `doorward.oauth()`.
#[derive(Debug, uniffi::Object)]
pub struct OAuth {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl OAuth {
        /// The configured providers (`Config.oauthProviders`), in id order.
        pub fn providers(&self) -> Vec<ProviderInfo> {
            each(self.dw.oauth().providers())
        }

        /// Start a sign-in with `provider`: the URL to open, whose callback
        /// comes back to `redirect_uri` (registered at the provider: the
        /// app's own scheme, or a server's route), and the state to keep.
        /// PKCE (S256) and a nonce are always used. An unknown provider is
        /// `Validation` on `provider`.
        pub async fn authorization_url(&self, provider: String, redirect_uri: String) -> Result<AuthorizationStart, DoorwardError> {
            call(self.dw.oauth().authorization_url(&provider, &redirect_uri))
                .await
                .map(AuthorizationStart::from)
        }

        /// Finish what `authorizationUrl` or `link` started, from the
        /// callback: its URL, its query string, or (Apple's form post) its
        /// body. `expected_state` is the `state` kept from the start; a
        /// different one is refused. Throws `OAuthStateInvalid` (unknown,
        /// used, expired or another browser's state), `OAuthProvider` (the
        /// provider's `oauthError`, such as `access_denied` when the user
        /// cancelled), `AccountExists` (sign in another way and link the
        /// provider there), `NotFound` when the provider allows no sign-up,
        /// `UserDisabled`.
        #[uniffi::method(default(client = None))]
        pub async fn complete(&self, callback: String, expected_state: Option<String>, client: Option<ClientInfo>) -> Result<OAuthCompletion, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.oauth().complete(&callback, expected_state.as_deref(), client))
                .await
                .map(OAuthCompletion::from)
        }

        /// Start linking `provider` to the signed-in account `user_id`: the
        /// same dance as a sign-in, whose `complete` links instead of
        /// signing in (`login` is `null`). An identity another account has
        /// is `AccountExists`.
        pub async fn link(&self, user_id: String, provider: String, redirect_uri: String) -> Result<AuthorizationStart, DoorwardError> {
            call(self.dw.oauth().link(&user_id, &provider, &redirect_uri))
                .await
                .map(AuthorizationStart::from)
        }

        /// Unlink the account's identity at `provider`: `NotFound` if it has
        /// none there, `Validation` on `provider` if it is the account's
        /// last way to sign in (no password, passkey or other identity).
        pub async fn unlink(&self, user_id: String, provider: String) -> Result<(), DoorwardError> {
            call(self.dw.oauth().unlink(&user_id, &provider)).await
        }

        /// The provider's tokens kept for the account's identity at
        /// `provider` (`storeProviderTokens`), as of its last sign-in;
        /// `null` if none are kept, `NotFound` if it has no such identity.
        pub async fn provider_tokens(&self, user_id: String, provider: String) -> Result<Option<ProviderTokens>, DoorwardError> {
            call(self.dw.oauth().provider_tokens(&user_id, &provider))
                .await
                .map(|t| t.map(ProviderTokens::from))
        }
    }
}
