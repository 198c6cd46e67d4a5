//! Sign-in with OAuth 2.0 / OpenID Connect providers: `dw.oauth()`.
//!
//! doorward is the relying party; the host only redirects and forwards
//! the callback. [`OAuth::authorization_url`] keeps the request's state,
//! PKCE verifier (S256, always) and nonce server-side for ten minutes
//! (see `state.rs`) and answers the provider URL to send the browser (or
//! an app's browser tab) to; [`OAuth::complete`] takes the callback's
//! parameters, spends the state once, trades the code, checks the ID
//! token (see `provider.rs`) and signs the matched, linked or created
//! account in (see `account.rs` for the linking policy). The session's
//! method is `oauth:<provider>`, its `amr` `fed`, at level 1; an account
//! with a second factor still answers `mfa_required`.
//!
//! The HTTP client follows no redirects and times out (see `http.rs`);
//! providers must be `https` (or `http` on a loopback address).

mod account;
mod http;
pub(crate) mod provider;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use openidconnect::PkceCodeChallenge;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::field::Empty;

use crate::auth::assurance::Method;
use crate::auth::lockout::Gate;
use crate::auth::{ClientInfo, LoginResult};
use crate::config::Config;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::flows::secret::random_token;
use crate::store::Unlinking;
use crate::telemetry::operation;

use provider::{Provider, ProviderTokenSet};
use state::{AUTHORIZATION_SECS, Callback, Pending};

/// The configured providers and the client that reaches them, built once
/// at open; with no provider, no client (its TLS set-up is not free).
#[derive(Debug)]
pub(crate) struct Providers {
    by_id: BTreeMap<String, Provider>,
    http: Option<http::Http>,
}

impl Providers {
    pub(crate) fn from_config(config: &Config) -> Result<Providers> {
        Ok(Providers {
            by_id: config
                .oauth_providers
                .iter()
                .map(|p| (p.id.clone(), Provider::new(p.clone())))
                .collect(),
            http: if config.oauth_providers.is_empty() {
                None
            } else {
                Some(http::Http::new()?)
            },
        })
    }

    /// Provider `id` and the client that reaches it.
    fn get(&self, id: &str) -> Result<(&Provider, &http::Http)> {
        match (self.by_id.get(id), &self.http) {
            (Some(provider), Some(http)) => Ok((provider, http)),
            _ => Err(Error::validation(
                "provider",
                format!("no provider `{id}` is configured"),
            )),
        }
    }
}

/// A provider users can sign in with, for a host's sign-in buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// Its id: what `authorization_url` takes.
    pub id: String,
    /// The name to show.
    pub name: String,
    /// `oidc`, `google`, `microsoft`, `apple` or `github`.
    pub kind: String,
}

/// Where to send the browser, and the state to keep in it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizationStart {
    /// The provider's authorization URL: redirect the browser (or open
    /// an app's browser tab) there.
    pub url: String,
    /// The request's `state`: keep it in an HTTP-only cookie (an app:
    /// in memory) and pass it to [`OAuth::complete`] as `expected_state`,
    /// so a callback started in another browser is refused.
    pub state: String,
    /// Seconds the authorization may take.
    pub expires_in: u64,
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

/// What a callback did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// The sign-in: tokens, or a second factor to ask for. `None` for a
    /// callback of [`OAuth::link`], which signs nobody in.
    pub login: Option<LoginResult>,
}

/// A provider's tokens kept for the host (`store_provider_tokens`).
/// `Debug` hides them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl From<ProviderTokenSet> for ProviderTokens {
    fn from(t: ProviderTokenSet) -> Self {
        ProviderTokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_at: t.expires_at,
            scopes: t.scopes,
        }
    }
}

/// The OAuth service.
#[derive(Debug, Clone)]
pub struct OAuth {
    pub(crate) core: Arc<Core>,
}

impl OAuth {
    /// The configured providers, in id order.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// assert!(dw.oauth().providers().is_empty());
    /// # });
    /// ```
    pub fn providers(&self) -> Vec<ProviderInfo> {
        self.core
            .oauth
            .by_id
            .values()
            .map(|p| ProviderInfo {
                id: p.config.id.clone(),
                name: p.config.display_name(),
                kind: serde_json::to_value(p.config.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Start a sign-in with `provider`: the URL to redirect the browser
    /// to, whose callback comes back to `redirect_uri` (registered at the
    /// provider: a web route, or an app's custom scheme). Discovers the
    /// provider on first use.
    pub async fn authorization_url(
        &self,
        provider: &str,
        redirect_uri: &str,
    ) -> Result<AuthorizationStart> {
        self.core
            .observe(operation!("oauth.authorization_url", %provider), async {
                self.start(provider, redirect_uri, None).await
            })
            .await
    }

    /// Start linking `provider` to the signed-in account `user_id`: the
    /// same authorization as a sign-in, whose callback links instead of
    /// signing in ([`OAuthCompletion::login`] is `None`). An identity
    /// another account has is `account_exists`.
    pub async fn link(
        &self,
        user_id: &str,
        provider: &str,
        redirect_uri: &str,
    ) -> Result<AuthorizationStart> {
        self.core
            .observe(operation!("oauth.link", %provider, %user_id), async {
                let user = self.core.user_record(user_id).await?;
                if user.disabled {
                    return Err(Error::UserDisabled);
                }
                self.start(provider, redirect_uri, Some(&user.id)).await
            })
            .await
    }

    async fn start(
        &self,
        provider: &str,
        redirect_uri: &str,
        link_to: Option<&str>,
    ) -> Result<AuthorizationStart> {
        self.core.oauth_keys()?;
        let (found, http) = self.core.oauth.get(provider)?;
        if redirect_uri.len() > 2048 {
            return Err(Error::validation("redirect_uri", "is too long"));
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token();
        let nonce = random_token();
        let url = found
            .authorization_url(http, redirect_uri, &state, &nonce, challenge)
            .await?;
        let pending = Pending {
            provider: provider.to_string(),
            redirect_uri: redirect_uri.to_string(),
            verifier: verifier.secret().clone(),
            nonce,
            link: link_to.is_some(),
        };
        self.core
            .begin_authorization(&state, link_to, &pending)
            .await?;
        Ok(AuthorizationStart {
            url,
            state,
            expires_in: AUTHORIZATION_SECS,
        })
    }

    /// Finish what [`OAuth::authorization_url`] or [`OAuth::link`] started,
    /// from the callback: its URL, its query string, or (Apple's form
    /// post) its body. `expected_state` is the state the host kept in the
    /// browser; a different one is refused.
    ///
    /// Errors: `oauth_state_invalid` (unknown, used, expired or another
    /// browser's state), `oauth_provider_error` (the provider's `error`,
    /// such as `access_denied`, or a refused code or ID token),
    /// `account_exists` (see the linking policy in the module docs),
    /// `not_found` when the provider allows no sign-up, `user_disabled`.
    pub async fn complete(
        &self,
        callback: &str,
        expected_state: Option<&str>,
        client: Option<ClientInfo>,
    ) -> Result<OAuthCompletion> {
        let mut provider_id = String::new();
        let result = self
            .core
            .observe(
                operation!("oauth.complete", provider = Empty, user_id = Empty),
                async {
                    let callback = Callback::parse(callback)?;
                    let (pending, link_to) = self
                        .core
                        .end_authorization(callback.state.as_deref(), expected_state)
                        .await?;
                    provider_id = pending.provider.clone();
                    tracing::Span::current().record("provider", pending.provider.as_str());
                    let (provider, http) = self
                        .core
                        .oauth
                        .get(&pending.provider)
                        .map_err(|_| Error::OAuthStateInvalid)?;
                    self.check_issuer(provider, callback.iss.as_deref())?;
                    if let Some(error) = &callback.error {
                        return Err(provider::failed(
                            &pending.provider,
                            error,
                            callback.error_description.clone(),
                        ));
                    }
                    let code = callback
                        .code
                        .as_deref()
                        .filter(|c| !c.is_empty())
                        .ok_or_else(|| {
                            provider::failed(
                                &pending.provider,
                                "invalid_request",
                                "no code".to_string(),
                            )
                        })?;
                    let claims = provider
                        .exchange(
                            http,
                            &pending.redirect_uri,
                            code,
                            &pending.verifier,
                            &pending.nonce,
                        )
                        .await?;
                    let link_to = if pending.link { link_to } else { None };
                    if pending.link && link_to.is_none() {
                        return Err(Error::OAuthStateInvalid);
                    }
                    let resolved = self
                        .core
                        .resolve_identity(provider, &claims, link_to.as_deref(), client.as_ref())
                        .await?;
                    let user = resolved.user;
                    tracing::Span::current().record("user_id", user.id.as_str());
                    if !resolved.linked {
                        let row = self.core.identity_row(provider, &claims, &user.id)?;
                        self.core.store.use_identity(&row).await?;
                    }
                    if user.disabled {
                        return Err(Error::UserDisabled);
                    }
                    let login = if pending.link {
                        None
                    } else {
                        let gate = Gate::ungated(self.core.client_of(client.as_ref()));
                        let label = format!("oauth:{}", pending.provider);
                        Some(
                            self.core
                                .after_first_factor(
                                    &user,
                                    Method::Federated,
                                    &label,
                                    client.as_ref(),
                                    &gate,
                                )
                                .await?,
                        )
                    };
                    Ok(OAuthCompletion {
                        provider: pending.provider,
                        user_id: user.id,
                        new_user: resolved.new_user,
                        linked: resolved.linked,
                        login,
                    })
                },
            )
            .await;
        let outcome = crate::auth::outcome(&result);
        self.core.metrics.count(
            "doorward_oauth_callbacks_total",
            &[("provider", provider_id.as_str()), ("outcome", outcome)],
        );
        if result.as_ref().is_ok_and(|c| c.login.is_some()) || result.is_err() {
            self.core
                .metrics
                .count("doorward_logins_total", &[("outcome", outcome)]);
        }
        result
    }

    /// RFC 9207: a callback that names its issuer must name this
    /// provider's (a mix-up attack sends one provider's code to another's
    /// callback).
    fn check_issuer(&self, provider: &Provider, iss: Option<&str>) -> Result<()> {
        let (Some(iss), Some(expected)) = (iss, provider.config.issuer_url()) else {
            return Ok(());
        };
        if iss.trim_end_matches('/') == expected.trim_end_matches('/') {
            Ok(())
        } else {
            Err(provider::failed(
                &provider.config.id,
                "invalid_response",
                "the callback names another issuer".to_string(),
            ))
        }
    }

    /// Unlink the account's identity at `provider`: `not_found` if it has
    /// none there, a `validation_error` on `provider` if it is the
    /// account's last way to sign in (no password of its own, no passkey,
    /// no other identity: set a password by a reset first).
    pub async fn unlink(&self, user_id: &str, provider: &str) -> Result<()> {
        self.core
            .observe(operation!("oauth.unlink", %provider, %user_id), async {
                let user = self.core.user_record(user_id).await?;
                let event = Event::by_user(
                    EventType::IdentityUnlinked,
                    &user.id,
                    None,
                    Event::user_payload(&user.id, &user.username, json!({ "provider": provider })),
                );
                match self
                    .core
                    .store
                    .unlink_identity(&user.id, provider, &[event])
                    .await?
                {
                    Unlinking::Unlinked => {
                        self.core.emitted();
                        Ok(())
                    }
                    Unlinking::NotLinked => Err(Error::not_found("identity")),
                    Unlinking::LastMethod => Err(Error::validation(
                        "provider",
                        "is the account's last way to sign in: set a password or link another provider first",
                    )),
                }
            })
            .await
    }

    /// The provider's tokens kept for the account's identity at `provider`
    /// (providers with `store_provider_tokens`), as of its last sign-in;
    /// `None` if none are kept, `not_found` if it has no such identity.
    pub async fn provider_tokens(
        &self,
        user_id: &str,
        provider: &str,
    ) -> Result<Option<ProviderTokens>> {
        self.core
            .observe(
                operation!("oauth.provider_tokens", %provider, %user_id),
                async {
                    let found = self
                        .core
                        .store
                        .identities(user_id)
                        .await?
                        .into_iter()
                        .find(|i| i.provider == provider)
                        .ok_or_else(|| Error::not_found("identity"))?;
                    let Some(sealed) = found.tokens_sealed else {
                        return Ok(None);
                    };
                    let keys = self.core.oauth_keys()?;
                    let plain = keys
                        .open(
                            &account::tokens_aad(&found.provider, &found.subject),
                            &sealed,
                        )
                        .map_err(|_| {
                            Error::Config("provider tokens were sealed under another key".into())
                        })?;
                    let tokens: ProviderTokenSet = serde_json::from_slice(&plain).map_err(|e| {
                        Error::Internal(format!("cannot read provider tokens: {e}"))
                    })?;
                    Ok(Some(tokens.into()))
                },
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::OAuth;

    fn send<T: Send>(_: T) {}

    /// The bindings run these futures on multi-threaded runtimes: they
    /// must be `Send` (this does not compile otherwise).
    #[allow(dead_code)]
    fn futures_are_send(oauth: &OAuth) {
        send(oauth.authorization_url("corp", "https://app.example/cb"));
        send(oauth.link("user", "corp", "https://app.example/cb"));
        send(oauth.complete("state=s&code=c", None, None));
        send(oauth.unlink("user", "corp"));
        send(oauth.provider_tokens("user", "corp"));
    }
}
