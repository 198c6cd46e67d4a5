//! `dw.oauth`: sign-in with OAuth 2.0 / OpenID Connect providers, and
//! linking them to accounts. The core keeps the state, the PKCE verifier
//! and the nonce, trades the code and checks the ID token; the host only
//! redirects and forwards the callback.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::types::{ClientInfo, Done, LoginResult, py_bool, q, q_list, q_opt};

sub_api!(
    /// Sign-in with OAuth 2.0 / OpenID Connect providers: `dw.oauth`.
    OAuth,
    AsyncOAuth
);

/// A provider users can sign in with, for a page's sign-in buttons.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProviderInfo {
    id: String,
    name: String,
    kind: String,
}

#[pymethods]
impl ProviderInfo {
    fn __repr__(&self) -> String {
        format!(
            "ProviderInfo(id={}, name={}, kind={})",
            q(&self.id),
            q(&self.name),
            q(&self.kind)
        )
    }
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

/// Where to send the browser, and the state to keep in it. The `repr`
/// shows neither.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthorizationStart {
    url: String,
    state: String,
    expires_in: u64,
}

#[pymethods]
impl AuthorizationStart {
    fn __repr__(&self) -> String {
        format!(
            "AuthorizationStart(expires_in={}, url=<hidden>, state=<hidden>)",
            self.expires_in
        )
    }
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

/// What a callback did: the account, whether it was made or linked, and
/// the sign-in (`TokenPair` or `MfaChallenge`; None for a link).
#[pyclass(frozen, eq, hash, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct OAuthCompletion {
    #[pyo3(get)]
    provider: String,
    #[pyo3(get)]
    user_id: String,
    #[pyo3(get)]
    new_user: bool,
    #[pyo3(get)]
    linked: bool,
    sign_in: Option<LoginResult>,
}

#[pymethods]
impl OAuthCompletion {
    /// The sign-in: a `TokenPair`, an `MfaChallenge`, or None for the
    /// callback of a link.
    #[getter]
    fn login(&self) -> Option<LoginResult> {
        self.sign_in.clone()
    }

    fn __repr__(&self) -> String {
        let login = match &self.sign_in {
            None => "None".to_string(),
            Some(LoginResult::Tokens(t)) => t.__repr__(),
            Some(LoginResult::MfaRequired(c)) => c.__repr__(),
        };
        format!(
            "OAuthCompletion(provider={}, user_id={}, new_user={}, linked={}, login={})",
            q(&self.provider),
            q(&self.user_id),
            py_bool(self.new_user),
            py_bool(self.linked),
            login
        )
    }
}

impl From<doorward::OAuthCompletion> for OAuthCompletion {
    fn from(c: doorward::OAuthCompletion) -> Self {
        OAuthCompletion {
            provider: c.provider,
            user_id: c.user_id,
            new_user: c.new_user,
            linked: c.linked,
            sign_in: c.login.map(LoginResult::from),
        }
    }
}

/// A provider's tokens kept for the host (`store_provider_tokens`). The
/// `repr` hides them.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProviderTokens {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
}

#[pymethods]
impl ProviderTokens {
    fn __repr__(&self) -> String {
        let refresh = if self.refresh_token.is_some() {
            "<hidden>"
        } else {
            "None"
        };
        format!(
            "ProviderTokens(scopes={}, expires_at={}, access_token=<hidden>, refresh_token={refresh})",
            q_list(&self.scopes),
            self.expires_at
                .map_or_else(|| "None".into(), |t| q(&t.to_rfc3339()))
        )
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

/// An identity at a provider that signs the account in. The `repr`
/// leaves the email address out, and the subject (some providers' is an
/// address).
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    provider: String,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
}

#[pymethods]
impl Identity {
    fn __repr__(&self) -> String {
        format!(
            "Identity(provider={}, email_verified={}, created_at={}, last_used_at={})",
            q(&self.provider),
            py_bool(self.email_verified),
            q(&self.created_at.to_rfc3339()),
            q_opt(&self.last_used_at.map(|t| t.to_rfc3339()))
        )
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

/// `providers` reads the configuration, so it stays synchronous on both
/// classes (as `jwks` does).
macro_rules! providers {
    ($($class:ident),*) => {
        $(
            #[pymethods]
            impl $class {
                /// The configured providers, in id order.
                fn providers(&self, py: Python<'_>) -> PyResult<Vec<ProviderInfo>> {
                    Ok(crate::types::each(self.handle.get(py)?.oauth().providers()))
                }
            }
        )*
    };
}

providers!(OAuth, AsyncOAuth);

twins! {
    OAuth, AsyncOAuth;

    /// Start a sign-in with `provider`: the URL to redirect the browser to,
    /// and the state to keep in it.
    fn authorization_url(dw, provider: String, redirect_uri: String) -> AuthorizationStart {
        dw.oauth().authorization_url(&provider, &redirect_uri).await
    }

    /// Finish a sign-in (or a link) from its callback: its URL, its query
    /// string, or a form post's body.
    #[pyo3(signature = (callback, expected_state = None, client = None))]
    fn complete(
        dw,
        callback: String,
        expected_state: Option<String>,
        client: Option<ClientInfo>,
    ) -> OAuthCompletion {
        let client = client.as_ref().map(doorward::ClientInfo::from);
        dw.oauth()
            .complete(&callback, expected_state.as_deref(), client)
            .await
    }

    /// Start linking `provider` to the signed-in account `user_id`.
    fn link(dw, user_id: String, provider: String, redirect_uri: String) -> AuthorizationStart {
        dw.oauth().link(&user_id, &provider, &redirect_uri).await
    }

    /// Unlink the account's identity at `provider`.
    fn unlink(dw, user_id: String, provider: String) -> Done {
        dw.oauth().unlink(&user_id, &provider).await
    }

    /// The provider's tokens kept for the account's identity, if any.
    fn provider_tokens(dw, user_id: String, provider: String) -> Option<ProviderTokens> {
        dw.oauth()
            .provider_tokens(&user_id, &provider)
            .await
            .map(|t| t.map(ProviderTokens::from))
    }
}
