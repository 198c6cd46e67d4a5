//! OAuth 2.0 / OpenID Connect providers (`oauth_providers`): any OpenID
//! provider by its issuer, and presets for the common ones.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a provider speaks, and the defaults that go with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Any OpenID Connect provider, found by discovery from `issuer`.
    #[default]
    Oidc,
    /// Google (`https://accounts.google.com`).
    Google,
    /// Microsoft Entra ID for one `tenant` (a tenant id, or `consumers`
    /// for personal accounts). Its address claims are not verified
    /// addresses, so it never links by address unless trusted.
    Microsoft,
    /// Sign in with Apple; `client_secret` is the JWT Apple asks for,
    /// made and renewed by the host. Answers with a form post.
    Apple,
    /// GitHub: OAuth 2.0 (no ID token), the user and address from its API.
    Github,
}

/// One provider users can sign in with.
///
/// ```
/// let config = doorward::Config::from_toml_str(r#"
///     [[oauth_providers]]
///     id = "google"
///     kind = "google"
///     client_id = "1234.apps.googleusercontent.com"
///     client_secret = "from-the-console"
///
///     [[oauth_providers]]
///     id = "corp"
///     issuer = "https://login.example.com"
///     client_id = "doorward"
///     client_secret = "s3cret"
///     trust_email = false
/// "#).unwrap();
/// assert_eq!(config.oauth_providers.len(), 2);
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthProviderConfig {
    /// The provider's id in doorward's API and in linked identities
    /// (`google`, `corp`): lowercase letters, digits, `-` and `_`.
    pub id: String,
    /// What it speaks: `oidc` (the default), `google`, `microsoft`,
    /// `apple`, `github`.
    pub kind: ProviderKind,
    /// The name sign-in buttons show; unset, from the kind or the id.
    pub name: Option<String>,
    /// The OpenID issuer (`https://login.example.com`): required for
    /// `oidc`, fixed by the other kinds (settable for tests).
    pub issuer: Option<String>,
    /// The Microsoft tenant (id or `consumers`).
    pub tenant: Option<String>,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret; unset for a public client (an app), which PKCE
    /// alone protects.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// Scopes to ask for; unset, what the kind needs for a user's id and
    /// address (`openid email profile`; GitHub `read:user user:email`).
    #[serde(deserialize_with = "super::load::flexible_list")]
    pub scopes: Vec<String>,
    /// Whether an address the provider says it verified may link the
    /// identity to the account that has that address (when the account's
    /// address is verified too). Unset: yes, except for Microsoft.
    pub trust_email: Option<bool>,
    /// Whether a first sign-in with an identity no account has creates an
    /// account (default yes).
    pub allow_sign_up: Option<bool>,
    /// Keep the provider's access and refresh tokens, sealed, for the
    /// host to call the provider's API (`oauth().provider_tokens`).
    pub store_provider_tokens: bool,
    /// GitHub: the authorization endpoint (GitHub Enterprise, tests).
    pub authorization_endpoint: Option<String>,
    /// GitHub: the token endpoint.
    pub token_endpoint: Option<String>,
    /// GitHub: the REST API's base URL.
    pub api_url: Option<String>,
}

impl std::fmt::Debug for OAuthProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProviderConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("trust_email", &self.trust_email)
            .field("allow_sign_up", &self.allow_sign_up)
            .field("store_provider_tokens", &self.store_provider_tokens)
            .finish_non_exhaustive()
    }
}

/// Whether `url` may be a provider's: `https`, or `http` to a loopback
/// host (a provider on the same machine, in development and tests).
pub(crate) fn provider_url_allowed(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => {
            matches!(
                url.host(),
                Some(url::Host::Ipv4(ip)) if ip.is_loopback()
            ) || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
                || url.host_str() == Some("localhost")
        }
        _ => false,
    }
}

impl OAuthProviderConfig {
    /// The issuer in force: the configured one, or the kind's.
    pub(crate) fn issuer_url(&self) -> Option<String> {
        if let Some(issuer) = &self.issuer {
            return Some(issuer.clone());
        }
        match self.kind {
            ProviderKind::Google => Some("https://accounts.google.com".into()),
            ProviderKind::Apple => Some("https://appleid.apple.com".into()),
            ProviderKind::Microsoft => self
                .tenant
                .as_ref()
                .map(|t| format!("https://login.microsoftonline.com/{t}/v2.0")),
            ProviderKind::Oidc | ProviderKind::Github => None,
        }
    }

    /// The scopes in force.
    pub(crate) fn scopes_or_default(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            return self.scopes.clone();
        }
        let defaults: &[&str] = match self.kind {
            ProviderKind::Github => &["read:user", "user:email"],
            ProviderKind::Apple => &["openid", "email", "name"],
            _ => &["openid", "email", "profile"],
        };
        defaults.iter().map(|s| s.to_string()).collect()
    }

    /// Whether its verified addresses link accounts.
    #[cfg(feature = "oauth")]
    pub(crate) fn trusts_email(&self) -> bool {
        self.trust_email
            .unwrap_or(self.kind != ProviderKind::Microsoft)
    }

    /// The name sign-in buttons show.
    #[cfg(feature = "oauth")]
    pub(crate) fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match self.kind {
            ProviderKind::Google => "Google".into(),
            ProviderKind::Microsoft => "Microsoft".into(),
            ProviderKind::Apple => "Apple".into(),
            ProviderKind::Github => "GitHub".into(),
            ProviderKind::Oidc => self.id.clone(),
        }
    }

    /// Refuse a provider that cannot work, naming it.
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |why: String| Error::Config(format!("oauth_providers `{}`: {why}", self.id));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !id_ok {
            return Err(bad(
                "id must be 1 to 32 lowercase letters, digits, `-` or `_`".into(),
            ));
        }
        if self.client_id.trim().is_empty() {
            return Err(bad("client_id is required".into()));
        }
        match self.kind {
            ProviderKind::Oidc if self.issuer.is_none() => {
                return Err(bad("an `oidc` provider needs its issuer".into()));
            }
            ProviderKind::Microsoft => match self.tenant.as_deref() {
                None if self.issuer.is_none() => {
                    return Err(bad(
                        "a `microsoft` provider needs its tenant (a tenant id, or `consumers`)"
                            .into(),
                    ));
                }
                // The multi-tenant endpoints issue tokens under each
                // user's own tenant, which one issuer cannot check.
                Some("common" | "organizations") => {
                    return Err(bad(
                        "tenant `common` and `organizations` are not supported: name one tenant id, or `consumers`".into(),
                    ));
                }
                _ => {}
            },
            ProviderKind::Apple if self.client_secret.is_none() => {
                return Err(bad(
                    "an `apple` provider needs its client_secret (the JWT Apple asks for)".into(),
                ));
            }
            _ => {}
        }
        let urls = [
            self.issuer_url(),
            self.authorization_endpoint.clone(),
            self.token_endpoint.clone(),
            self.api_url.clone(),
        ];
        for url in urls.into_iter().flatten() {
            let parsed = url::Url::parse(&url).map_err(|e| bad(format!("{url}: {e}")))?;
            if !provider_url_allowed(&parsed) {
                return Err(bad(format!(
                    "{url} must be https (http only to a loopback address)"
                )));
            }
        }
        if self.kind == ProviderKind::Github
            && !self.scopes_or_default().iter().any(|s| s == "user:email")
        {
            return Err(bad(
                "GitHub needs the `user:email` scope to learn the address".into(),
            ));
        }
        if self.kind != ProviderKind::Github
            && !self.scopes_or_default().iter().any(|s| s == "openid")
        {
            return Err(bad("an OpenID provider needs the `openid` scope".into()));
        }
        Ok(())
    }
}

/// Check every provider, and that no two share an id.
pub(crate) fn validate_all(providers: &[OAuthProviderConfig]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for provider in providers {
        provider.validate()?;
        if !seen.insert(provider.id.as_str()) {
            return Err(Error::Config(format!(
                "oauth_providers: the id `{}` is used twice",
                provider.id
            )));
        }
    }
    Ok(())
}
