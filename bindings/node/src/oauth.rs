//! `dw.oauth`: sign-in with OAuth 2.0 / OpenID Connect providers. The
//! host redirects the browser to `authorizationUrl`'s URL, keeps its state
//! in an HTTP-only cookie and hands the callback to `complete`; the core
//! does the rest (PKCE, the nonce, the code, the ID token, the linking
//! policy). The package keeps the URL and state of an `AuthorizationStart`,
//! the tokens of a sign-in and of `ProviderTokens`, and the address of an
//! `Identity` out of `util.inspect` (and the secrets out of JSON).

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::Either;
use napi_derive::napi;

use crate::error::guarded;
use crate::types::{ClientInfo, MfaChallenge, TokenPair, each, login_result};

/// A provider users can sign in with, for a host's sign-in buttons.
#[napi(object)]
#[derive(Debug)]
pub struct ProviderInfo {
    /// Its id: what `authorizationUrl` takes.
    pub id: String,
    /// The name to show.
    pub name: String,
    /// What it speaks.
    #[napi(ts_type = "import('./index').ProviderKind")]
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

/// Where to send the browser, and the state to keep in it.
#[napi(object)]
pub struct AuthorizationStart {
    /// The provider's authorization URL: redirect the browser (or open an
    /// app's browser tab) there.
    pub url: String,
    /// The request's `state`: keep it in an HTTP-only cookie and pass it
    /// to `complete` as `expectedState`, so a callback started in another
    /// browser is refused.
    pub state: String,
    /// Seconds the authorization may take (the cookie's max-age).
    pub expires_in: u32,
}

impl std::fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl From<doorward::AuthorizationStart> for AuthorizationStart {
    fn from(s: doorward::AuthorizationStart) -> Self {
        AuthorizationStart {
            url: s.url,
            state: s.state,
            expires_in: u32::try_from(s.expires_in).unwrap_or(u32::MAX),
        }
    }
}

/// What a callback did.
#[napi(object)]
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
    /// The sign-in, as `login` answers it: the tokens, or an
    /// `MfaChallenge` (`mfaRequired` tells them apart). Absent for the
    /// callback of `link`, which signs nobody in.
    pub login: Option<Either<TokenPair, MfaChallenge>>,
}

impl std::fmt::Debug for OAuthCompletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthCompletion")
            .field("provider", &self.provider)
            .field("user_id", &self.user_id)
            .field("new_user", &self.new_user)
            .field("linked", &self.linked)
            .field("signed_in", &self.login.is_some())
            .finish_non_exhaustive()
    }
}

impl From<doorward::OAuthCompletion> for OAuthCompletion {
    fn from(c: doorward::OAuthCompletion) -> Self {
        OAuthCompletion {
            provider: c.provider,
            user_id: c.user_id,
            new_user: c.new_user,
            linked: c.linked,
            login: c.login.map(login_result),
        }
    }
}

/// A provider's tokens kept for the host (`storeProviderTokens`).
#[napi(object)]
pub struct ProviderTokens {
    /// The provider's access token, for its API.
    pub access_token: String,
    /// Its refresh token, if it gave one.
    pub refresh_token: Option<String>,
    /// When the access token expires, if the provider said.
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, if the provider said.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ProviderTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTokens")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl From<doorward::ProviderTokens> for ProviderTokens {
    fn from(t: doorward::ProviderTokens) -> Self {
        ProviderTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_at: t.expires_at,
            scopes: t.scopes,
        }
    }
}

/// An identity at a provider that signs the account in
/// (`users.identities`).
#[napi(object)]
pub struct Identity {
    /// The provider's id in the configuration.
    pub provider: String,
    /// The provider's id of the user.
    pub subject: String,
    /// The address the provider gave at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider said it verified that address.
    pub email_verified: bool,
    /// When it was linked.
    pub created_at: DateTime<Utc>,
    /// When it last signed in; absent until then.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("provider", &self.provider)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

impl From<doorward::Identity> for Identity {
    fn from(i: doorward::Identity) -> Self {
        Identity {
            provider: i.provider,
            subject: i.subject,
            email: i.email,
            email_verified: i.email_verified,
            created_at: i.created_at,
            last_used_at: i.last_used_at,
        }
    }
}

/// Sign-in with OAuth 2.0 / OpenID Connect providers: `dw.oauth`.
#[napi]
#[derive(Debug)]
pub struct OAuth {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl OAuth {
    /// The configured providers (`oauthProviders`), in id order.
    /// Synchronous: it reads the configuration alone.
    #[napi]
    pub fn providers(&self) -> Vec<ProviderInfo> {
        each(self.dw.oauth().providers())
    }

    /// Start a sign-in with `provider`: the URL to redirect the browser to,
    /// whose callback comes back to `redirectUri` (registered at the
    /// provider), and the state to keep in the browser. Discovers the
    /// provider on first use. An unknown provider is a `validation_error`
    /// on `provider`.
    #[napi]
    pub async fn authorization_url(
        &self,
        provider: String,
        redirect_uri: String,
    ) -> napi::Result<AuthorizationStart> {
        guarded(self.dw.oauth().authorization_url(&provider, &redirect_uri))
            .await
            .map(AuthorizationStart::from)
    }

    /// Finish what `authorizationUrl` or `link` started, from the callback:
    /// its URL, its query string, or (Apple's form post) its body.
    /// `expectedState` is the state kept in the browser; another is
    /// refused. Errors: `oauth_state_invalid` (unknown, used, expired or
    /// another browser's state), `oauth_provider_error` (the provider's
    /// `error` in `oauthError`, such as `access_denied`), `account_exists`
    /// (an account has this identity or its address: sign in to it and
    /// link there), `not_found` when the provider allows no sign-up,
    /// `user_disabled`.
    #[napi]
    pub async fn complete(
        &self,
        callback: String,
        expected_state: Option<String>,
        client: Option<ClientInfo>,
    ) -> napi::Result<OAuthCompletion> {
        let client = client.map(Into::into);
        guarded(
            self.dw
                .oauth()
                .complete(&callback, expected_state.as_deref(), client),
        )
        .await
        .map(OAuthCompletion::from)
    }

    /// Start linking `provider` to the signed-in account `userId`: the same
    /// authorization as a sign-in, whose callback links instead of signing
    /// in (`OAuthCompletion.login` is absent). An identity another account
    /// has is `account_exists`.
    #[napi]
    pub async fn link(
        &self,
        user_id: String,
        provider: String,
        redirect_uri: String,
    ) -> napi::Result<AuthorizationStart> {
        guarded(self.dw.oauth().link(&user_id, &provider, &redirect_uri))
            .await
            .map(AuthorizationStart::from)
    }

    /// Unlink the account's identity at `provider`: `not_found` if it has
    /// none there, a `validation_error` on `provider` if it is the
    /// account's last way to sign in.
    #[napi]
    pub async fn unlink(&self, user_id: String, provider: String) -> napi::Result<()> {
        guarded(self.dw.oauth().unlink(&user_id, &provider)).await
    }

    /// The provider's tokens kept for the account's identity at `provider`
    /// (a provider with `storeProviderTokens`), as of its last sign-in;
    /// `null` if none are kept, `not_found` if it has no such identity.
    #[napi]
    pub async fn provider_tokens(
        &self,
        user_id: String,
        provider: String,
    ) -> napi::Result<Option<ProviderTokens>> {
        guarded(self.dw.oauth().provider_tokens(&user_id, &provider))
            .await
            .map(|t| t.map(ProviderTokens::from))
    }
}
