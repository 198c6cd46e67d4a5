//! One configured provider: its authorization URL, and what a code buys
//! there, checked.
//!
//! OpenID providers go through `openidconnect`: discovery (cached for an
//! hour), the ID token checked for signature, `iss`, `aud`, `azp`, `exp`,
//! `nonce` and `at_hash`, and userinfo when the token names no address.
//! Their keys rotate: a token signed by a key the cached set lacks fetches
//! the set again (at most every few seconds, so forged `kid`s cannot make
//! doorward hammer the provider) and is checked once more. GitHub, which
//! issues no ID token, goes through `oauth2` and its REST API.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJsonWebKeySet, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, SignatureVerificationError, TokenResponse as _,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::http::Http;
use crate::config::{OAuthProviderConfig, ProviderKind};
use crate::error::{Error, Result};

/// How long discovery (and the keys fetched with it) is trusted.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of a provider's keys for an
/// unknown `kid`.
const JWKS_REFETCH_GAP: Duration = Duration::from_secs(5);

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub username: Option<String>,
    pub tokens: ProviderTokenSet,
}

/// The provider's tokens, as sealed when kept. `Debug` hides them.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ProviderTokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for ProviderTokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTokenSet")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// What `CoreClient::from_provider_metadata` builds: an authorization
/// endpoint, maybe a token and a userinfo endpoint.
type OidcClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

struct Discovered {
    metadata: CoreProviderMetadata,
    at: Instant,
}

/// A configured provider and what it has told doorward.
pub(crate) struct Provider {
    pub config: OAuthProviderConfig,
    discovered: RwLock<Option<Discovered>>,
    keys_fetched: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An `oauth_provider_error` of provider `id`.
pub(crate) fn failed(id: &str, error: &str, description: impl Into<Option<String>>) -> Error {
    let description = description.into().map(|d| {
        d.chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect::<String>()
    });
    Error::OAuthProviderError {
        provider: id.to_string(),
        error: error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect(),
        description,
    }
}

/// The `error` of a token endpoint's answer, and its description.
fn token_error<E: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    id: &str,
    err: oauth2::RequestTokenError<E, T>,
) -> Error {
    match err {
        oauth2::RequestTokenError::ServerResponse(response) => {
            let json = serde_json::to_value(&response).unwrap_or_default();
            let error = json["error"].as_str().unwrap_or("server_error");
            let description = json["error_description"].as_str().map(str::to_string);
            failed(id, error, description)
        }
        // GitHub answers a refused code with 200 and an error body.
        oauth2::RequestTokenError::Parse(_, body) => {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            match json["error"].as_str() {
                Some(error) => failed(
                    id,
                    error,
                    json["error_description"].as_str().map(str::to_string),
                ),
                None => failed(
                    id,
                    "invalid_response",
                    "the token endpoint's answer does not parse".to_string(),
                ),
            }
        }
        oauth2::RequestTokenError::Request(e) => failed(id, "unreachable", e.to_string()),
        oauth2::RequestTokenError::Other(e) => failed(id, "invalid_response", e),
    }
}

fn token_set(
    access: &oauth2::AccessToken,
    refresh: Option<&oauth2::RefreshToken>,
    expires_in: Option<Duration>,
    scopes: Option<&Vec<Scope>>,
) -> ProviderTokenSet {
    ProviderTokenSet {
        access_token: access.secret().clone(),
        refresh_token: refresh.map(|r| r.secret().clone()),
        expires_at: expires_in
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| crate::store::now() + d),
        scopes: scopes
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

impl Provider {
    pub(crate) fn new(config: OAuthProviderConfig) -> Provider {
        Provider {
            config,
            discovered: RwLock::new(None),
            keys_fetched: Mutex::new(None),
        }
    }

    fn id(&self) -> &str {
        &self.config.id
    }

    fn secret(&self) -> Option<ClientSecret> {
        self.config
            .client_secret
            .as_ref()
            .map(|s| ClientSecret::new(s.expose_secret().to_string()))
    }

    /// A client of this provider as `metadata` describes it.
    fn oidc_client(&self, metadata: CoreProviderMetadata) -> OidcClient {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.secret(),
        )
    }

    fn redirect(&self, redirect_uri: &str) -> Result<RedirectUrl> {
        RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| Error::validation("redirect_uri", format!("is not a URL: {e}")))
    }

    /// The provider's metadata (with its keys), discovered at most
    /// [`DISCOVERY_TTL`] ago.
    async fn metadata(&self, http: &Http) -> Result<CoreProviderMetadata> {
        if let Some(found) = self.discovered.read().await.as_ref()
            && found.at.elapsed() < DISCOVERY_TTL
        {
            return Ok(found.metadata.clone());
        }
        let issuer = self.config.issuer_url().ok_or_else(|| {
            Error::Config(format!("oauth provider `{}` has no issuer", self.id()))
        })?;
        let issuer = IssuerUrl::new(issuer).map_err(|e| Error::Config(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Request(e) => {
                    failed(self.id(), "unreachable", e.to_string())
                }
                other => failed(self.id(), "invalid_response", other.to_string()),
            })?;
        *self.discovered.write().await = Some(Discovered {
            metadata: metadata.clone(),
            at: Instant::now(),
        });
        Ok(metadata)
    }

    /// Fetch the provider's keys again, unless that was done moments ago;
    /// the metadata with the keys in force.
    async fn refetch_keys(
        &self,
        http: &Http,
        metadata: CoreProviderMetadata,
    ) -> Result<Option<CoreProviderMetadata>> {
        {
            let mut fetched = self.keys_fetched.lock().unwrap_or_else(|e| e.into_inner());
            if fetched.is_some_and(|at| at.elapsed() < JWKS_REFETCH_GAP) {
                return Ok(None);
            }
            *fetched = Some(Instant::now());
        }
        let keys = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|e| failed(self.id(), "unreachable", e.to_string()))?;
        tracing::info!(provider = %self.id(), "provider keys fetched again for an unknown key id");
        let metadata = metadata.set_jwks(keys);
        *self.discovered.write().await = Some(Discovered {
            metadata: metadata.clone(),
            at: Instant::now(),
        });
        Ok(Some(metadata))
    }

    /// Where to send the user.
    pub(crate) async fn authorization_url(
        &self,
        http: &Http,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        challenge: PkceCodeChallenge,
    ) -> Result<String> {
        let redirect = self.redirect(redirect_uri)?;
        let scopes = self.config.scopes_or_default();
        if self.config.kind == ProviderKind::Github {
            let client = self.github_client()?.set_redirect_uri(redirect);
            let state = state.to_string();
            let (url, _) = client
                .authorize_url(move || CsrfToken::new(state))
                .add_scopes(scopes.into_iter().map(Scope::new))
                .set_pkce_challenge(challenge)
                .url();
            return Ok(url.to_string());
        }
        let metadata = self.metadata(http).await?;
        let client = self.oidc_client(metadata).set_redirect_uri(redirect);
        let (state, nonce) = (state.to_string(), nonce.to_string());
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state),
                move || Nonce::new(nonce),
            )
            .add_scopes(scopes.into_iter().filter(|s| s != "openid").map(Scope::new))
            .set_pkce_challenge(challenge);
        if self.config.kind == ProviderKind::Apple {
            // Apple sends the name and address only to a form post.
            request = request.add_extra_param("response_mode", "form_post");
        }
        let (url, _, _) = request.url();
        Ok(url.to_string())
    }

    /// Trade `code` for who signed in.
    pub(crate) async fn exchange(
        &self,
        http: &Http,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Claims> {
        if self.config.kind == ProviderKind::Github {
            return self
                .github_exchange(http, redirect_uri, code, verifier)
                .await;
        }
        let mut metadata = self.metadata(http).await?;
        let redirect = self.redirect(redirect_uri)?;
        let client = self
            .oidc_client(metadata.clone())
            .set_redirect_uri(redirect);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| Error::Config(format!("oauth provider `{}`: {e}", self.id())))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(http)
            .await
            .map_err(|e| token_error(self.id(), e))?;
        let id_token = response
            .id_token()
            .ok_or_else(|| failed(self.id(), "invalid_response", "no ID token".to_string()))?;
        let nonce = Nonce::new(nonce.to_string());
        let invalid = |e: &dyn std::fmt::Display| {
            tracing::info!(provider = %self.id(), reason = %e, "ID token refused");
            failed(self.id(), "invalid_id_token", e.to_string())
        };
        let mut attempt = 0;
        let (claims, signing): (CoreIdTokenClaims, _) = loop {
            let client = self.oidc_client(metadata.clone());
            let verifier = client.id_token_verifier();
            match id_token.claims(&verifier, &nonce) {
                Ok(claims) => {
                    let alg = id_token.signing_alg().map_err(|e| invalid(&e))?;
                    let key = id_token
                        .signing_key(&verifier)
                        .map_err(|e| invalid(&e))?
                        .clone();
                    break (claims.clone(), (alg, key));
                }
                Err(ClaimsVerificationError::SignatureVerification(
                    SignatureVerificationError::NoMatchingKey,
                )) if attempt == 0 => {
                    attempt += 1;
                    match self.refetch_keys(http, metadata.clone()).await? {
                        Some(fresh) => metadata = fresh,
                        None => return Err(invalid(&"signed by an unknown key")),
                    }
                }
                Err(e) => return Err(invalid(&e)),
            }
        };
        if let Some(expected) = claims.access_token_hash() {
            let actual =
                AccessTokenHash::from_token(response.access_token(), signing.0, &signing.1)
                    .map_err(|e| invalid(&e))?;
            if actual != *expected {
                return Err(invalid(&"at_hash does not match the access token"));
            }
        }
        let mut found = Claims {
            subject: claims.subject().to_string(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            username: claims.preferred_username().map(|u| u.to_string()),
            tokens: token_set(
                response.access_token(),
                response.refresh_token(),
                response.expires_in(),
                response.scopes(),
            ),
        };
        if found.email.is_none() && metadata.userinfo_endpoint().is_some() {
            let client = self.oidc_client(metadata);
            let info: CoreUserInfoClaims = client
                .user_info(
                    response.access_token().clone(),
                    Some(claims.subject().clone()),
                )
                .map_err(|e| Error::Config(e.to_string()))?
                .request_async(http)
                .await
                .map_err(|e| failed(self.id(), "invalid_response", format!("userinfo: {e}")))?;
            found.email = info.email().map(|e| e.to_string());
            found.email_verified = info.email_verified().unwrap_or(false);
        }
        Ok(found)
    }

    fn github_client(
        &self,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
    > {
        let auth = self
            .config
            .authorization_endpoint
            .clone()
            .unwrap_or_else(|| "https://github.com/login/oauth/authorize".into());
        let token = self
            .config
            .token_endpoint
            .clone()
            .unwrap_or_else(|| "https://github.com/login/oauth/access_token".into());
        let mut client =
            oauth2::basic::BasicClient::new(ClientId::new(self.config.client_id.clone()))
                .set_auth_uri(oauth2::AuthUrl::new(auth).map_err(|e| Error::Config(e.to_string()))?)
                .set_token_uri(
                    oauth2::TokenUrl::new(token).map_err(|e| Error::Config(e.to_string()))?,
                );
        if let Some(secret) = self.secret() {
            client = client.set_client_secret(secret);
        }
        Ok(client)
    }

    async fn github_exchange(
        &self,
        http: &Http,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
    ) -> Result<Claims> {
        let client = self
            .github_client()?
            .set_redirect_uri(self.redirect(redirect_uri)?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
            .request_async(http)
            .await
            .map_err(|e| token_error(self.id(), e))?;
        let tokens = token_set(
            response.access_token(),
            response.refresh_token(),
            response.expires_in(),
            response.scopes(),
        );
        let api = self
            .config
            .api_url
            .clone()
            .unwrap_or_else(|| "https://api.github.com".into());
        let api = api.trim_end_matches('/');
        let user = self
            .github_get(http, &format!("{api}/user"), &tokens.access_token)
            .await?;
        let subject = match &user["id"] {
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(failed(
                    self.id(),
                    "invalid_response",
                    "the user has no id".to_string(),
                ));
            }
        };
        let emails = self
            .github_get(http, &format!("{api}/user/emails"), &tokens.access_token)
            .await?;
        let listed = emails.as_array().cloned().unwrap_or_default();
        let primary = listed
            .iter()
            .find(|e| e["primary"].as_bool() == Some(true))
            .or_else(|| {
                listed
                    .iter()
                    .find(|e| e["verified"].as_bool() == Some(true))
            });
        Ok(Claims {
            subject,
            email: primary
                .and_then(|e| e["email"].as_str())
                .map(str::to_string),
            email_verified: primary.is_some_and(|e| e["verified"].as_bool() == Some(true)),
            username: user["login"].as_str().map(str::to_string),
            tokens,
        })
    }

    async fn github_get(&self, http: &Http, url: &str, token: &str) -> Result<serde_json::Value> {
        let request = oauth2::http::Request::get(url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .body(Vec::new())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let response = http
            .send(request)
            .await
            .map_err(|e| failed(self.id(), "unreachable", e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(
                self.id(),
                "invalid_response",
                format!("{url} answered {}", response.status()),
            ));
        }
        serde_json::from_slice(response.body())
            .map_err(|e| failed(self.id(), "invalid_response", format!("{url}: {e}")))
    }
}
