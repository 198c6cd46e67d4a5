//! Registration, login, token verification, refresh and logout: `dw.auth()`.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::password::Verdict;
use crate::store::{EndSessions, UserRecord, now};
use crate::token::access::to_datetime;
use crate::token::refresh;
use crate::users::{User, validate};

/// An access token and the refresh token that renews it.
///
/// `Debug` shows neither token.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct TokenPair {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque, single-use token for [`Auth::refresh_token`].
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

impl TokenPair {
    pub(crate) fn new(access_token: String, refresh_token: String, expires_in: u64) -> Self {
        TokenPair {
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in,
        }
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What [`Auth::register_user`] returns: the new user, already logged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The account.
    pub user: User,
    /// Its first session's tokens.
    pub tokens: TokenPair,
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The user's id (`sub`).
    pub user_id: String,
    /// The username when the token was issued.
    pub username: String,
    /// The session (`sid`).
    pub session_id: String,
    /// Role names when the token was issued. Decisions use [`Auth::can`],
    /// which reads current grants.
    pub roles: Vec<String>,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
}

/// Where a login comes from, kept with the session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

/// The authentication service.
#[derive(Debug, Clone)]
pub struct Auth {
    pub(crate) core: Arc<Core>,
}

impl Auth {
    /// Create an account and log it in.
    ///
    /// Validates the three inputs (see [`crate::users`]), hashes the
    /// password, stores the user with the `user` role and starts a session.
    /// With a client address, registrations from it are rate limited
    /// (`rate_limit_register_ip`).
    /// `duplicate_email` / `duplicate_username` come from the store's unique
    /// indexes, so they hold under concurrent registrations too.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await.unwrap();
    /// assert_eq!(reg.user.username, "john");
    /// let again = dw.auth().register_user("johnny", "JOHN@example.com", "correct horse battery", None).await;
    /// assert_eq!(again.unwrap_err().code().as_str(), "duplicate_email");
    /// # });
    /// ```
    #[tracing::instrument(name = "user_registration", skip_all, fields(user_id))]
    pub async fn register_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
        client: Option<ClientInfo>,
    ) -> Result<Registration> {
        self.core
            .observe("auth.register_user", async {
                self.core.keys()?;
                if let (Some(quota), Some(ip)) = (
                    &self.core.quotas.register_ip,
                    client.as_ref().and_then(|c| c.ip.as_deref()),
                ) {
                    let ip = self.core.quotas.client_key(ip);
                    self.core
                        .rate_check(&format!("register:ip:{ip}"), quota)
                        .await?;
                }
                let registering = crate::users::Registering {
                    by_self: true,
                    client: client.as_ref(),
                };
                let user =
                    crate::users::create_user(&self.core, username, email, password, registering)
                        .await?;
                tracing::Span::current().record("user_id", user.id.as_str());
                let tokens = self
                    .core
                    .start_session(&user, client.as_ref(), "registration")
                    .await?;
                self.core.metrics.count("doorward_registrations_total", &[]);
                Ok(Registration {
                    user: User::from(&user),
                    tokens,
                })
            })
            .await
    }

    /// Log in with a username or an email address.
    ///
    /// An unknown login and a wrong password both answer
    /// `invalid_credentials` after the same argon2 work. A disabled account
    /// answers `user_disabled`, but only to the right password. A hash with
    /// outdated parameters is replaced on the way.
    ///
    /// Attempts are rate limited per login name (`rate_limit_login_account`)
    /// and per client address (`rate_limit_login_ip`): `rate_limited`, with
    /// a retry-after, before any password work. After `lockout_threshold`
    /// wrong passwords in a row the account is locked (`account_locked`,
    /// with a retry-after) for a delay that doubles with each further
    /// failure; a successful login or [`crate::Users::unlock`] resets it.
    #[tracing::instrument(name = "login", skip_all, fields(user_id))]
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        let result = self
            .core
            .observe("auth.login", async {
                self.core.keys()?;
                let login = login.trim();
                if login.is_empty() || login.len() > 320 || login.contains('\0') {
                    return Err(Error::validation(
                        "login",
                        "must be a username or an email address",
                    ));
                }
                if password.is_empty()
                    || password.len() > validate::MAX_PASSWORD_BYTES
                    || password.contains('\0')
                {
                    return Err(Error::validation(
                        "password",
                        "is required and at most 1024 bytes",
                    ));
                }
                // Throttle before any argon2 work, so a flood costs the attacker
                // more than it costs us. Counted per login name, known or not.
                if let Some(quota) = &self.core.quotas.login_account {
                    let key = crate::users::login_key(login);
                    self.core
                        .rate_check(&format!("login:account:{key}"), quota)
                        .await?;
                }
                if let (Some(quota), Some(ip)) = (
                    &self.core.quotas.login_ip,
                    client.as_ref().and_then(|c| c.ip.as_deref()),
                ) {
                    let ip = self.core.quotas.client_key(ip);
                    self.core
                        .rate_check(&format!("login:ip:{ip}"), quota)
                        .await?;
                }
                let password = validate::normalize_password(password);
                let user = crate::users::find_by_login(&self.core, login).await?;
                let Some(user) = user else {
                    self.core.hasher.verify_dummy(&password).await?;
                    tracing::info!(outcome = "unknown_user", "login failed");
                    // The login name is not recorded: it may be a mistyped password.
                    let event = Event::new(
                        EventType::LoginFailed,
                        None,
                        None,
                        client.as_ref(),
                        json!({ "reason": "unknown_user" }),
                    );
                    self.core.store.append_events(&[event]).await?;
                    return Err(Error::InvalidCredentials);
                };
                let refused = |reason: &str| {
                    Event::by_user(
                        EventType::LoginFailed,
                        &user.id,
                        client.as_ref(),
                        Event::user_payload(&user.id, &user.username, json!({ "reason": reason })),
                    )
                };
                tracing::Span::current().record("user_id", user.id.as_str());
                let at = now();
                if let Some(until) = user.locked_until.filter(|until| *until > at) {
                    tracing::info!(outcome = "locked", "login refused");
                    self.core.store.append_events(&[refused("locked")]).await?;
                    return Err(Error::AccountLocked {
                        retry_after: (until - at).to_std().unwrap_or_default(),
                    });
                }
                let verdict = self
                    .core
                    .hasher
                    .verify(&password, &user.password_hash)
                    .await?;
                if verdict == Verdict::Invalid {
                    tracing::info!(outcome = "wrong_password", "login failed");
                    self.failed_login(&user, refused("wrong_password"), client.as_ref())
                        .await?;
                    return Err(Error::InvalidCredentials);
                }
                if user.disabled {
                    tracing::info!(outcome = "disabled", "login refused");
                    self.core
                        .store
                        .append_events(&[refused("disabled")])
                        .await?;
                    return Err(Error::UserDisabled);
                }
                if verdict == Verdict::ValidNeedsRehash {
                    let fresh = self.core.hasher.hash(&password).await?;
                    self.core
                        .store
                        .update_password(&user.id, &fresh, now(), EndSessions::None, &[])
                        .await?;
                    tracing::info!("password hash upgraded to current parameters");
                }
                self.core.store.touch_login(&user.id, now()).await?;
                self.core.user_changed(&user.id).await;
                let tokens = self
                    .core
                    .start_session(&user, client.as_ref(), "password")
                    .await?;
                tracing::info!("login succeeded");
                Ok(tokens)
            })
            .await;
        self.core
            .metrics
            .count("doorward_logins_total", &[("outcome", outcome(&result))]);
        result
    }

    /// Check an access token and say whom it speaks for.
    ///
    /// Signature, algorithm, `typ`, `iss`, `aud`, `exp`, `nbf` and `iat` are
    /// checked, then (unless `stateless_verify` is on) that the session is
    /// still live, so logout, revocation and disabling take effect at once.
    #[tracing::instrument(name = "verify_token", skip_all)]
    pub async fn verify_token(&self, access_token: &str) -> Result<Principal> {
        self.core
            .observe("auth.verify_token", async {
                let config = &self.core.config;
                let claims = self.core.keys()?.verify(
                    access_token,
                    &config.jwt_issuer,
                    &config.jwt_audience,
                    true,
                )?;
                if !config.stateless_verify {
                    match self.core.live_session(&claims.sid).await? {
                        None => return Err(Error::TokenRevoked),
                        Some(s) if s.user_id != claims.sub => return Err(Error::TokenRevoked),
                        Some(s) if s.expires_at <= now() => return Err(Error::TokenExpired),
                        Some(_) => {}
                    }
                }
                Ok(Principal {
                    user_id: claims.sub,
                    username: claims.preferred_username,
                    session_id: claims.sid,
                    roles: claims.roles,
                    expires_at: to_datetime(claims.exp),
                })
            })
            .await
    }

    /// Trade a refresh token for a new pair; the old refresh token stops
    /// working.
    ///
    /// Presenting a refresh token that was already rotated means it leaked or
    /// raced: the answer is `token_reused` and the whole session (every token
    /// of the family) is revoked. With `refresh_reuse_grace` set, a reuse
    /// within that many seconds instead gets a further pair of the same
    /// session.
    #[tracing::instrument(name = "refresh_token", skip_all, fields(session_id))]
    pub async fn refresh_token(&self, refresh_token: &str) -> Result<TokenPair> {
        let result = self
            .core
            .observe("auth.refresh_token", async {
                self.core.keys()?;
                let token_hash = refresh::parse(refresh_token)?;
                let store = &self.core.store;
                let record = store
                    .refresh_token(&token_hash)
                    .await?
                    .ok_or_else(|| Error::token_invalid("unknown refresh token"))?;
                tracing::Span::current().record("session_id", record.session_id.as_str());
                let at = now();
                let grace = chrono::Duration::seconds(self.core.config.refresh_reuse_grace as i64);
                let in_grace = |used_at: Option<chrono::DateTime<Utc>>| {
                    grace > chrono::Duration::zero() && used_at.is_some_and(|t| at - t <= grace)
                };
                // A rotated token is reuse whatever state its family is in now.
                if record.used_at.is_some() && !in_grace(record.used_at) {
                    return self.reused(&record.session_id, &record.user_id).await;
                }
                let session = store
                    .session(&record.session_id)
                    .await?
                    .filter(|s| s.revoked_at.is_none());
                let Some(session) = session else {
                    // A racing refresh may have rotated this token, and another
                    // revoked the family on seeing that, since it was read above:
                    // then this is reuse too, like every other loser of the race.
                    let used_at = store
                        .refresh_token(&token_hash)
                        .await?
                        .and_then(|r| r.used_at);
                    if used_at.is_some() && !in_grace(used_at) {
                        return self.reused(&record.session_id, &record.user_id).await;
                    }
                    return Err(Error::TokenRevoked);
                };
                if session.expires_at <= at || record.expires_at <= at {
                    return Err(Error::TokenExpired);
                }
                let user = store
                    .user_by_id(&record.user_id)
                    .await?
                    .ok_or(Error::TokenRevoked)?;
                if user.disabled {
                    return Err(Error::TokenRevoked);
                }
                let (new_token, new_record) = self.core.new_refresh(&session.id, &user.id);
                let refreshed = [Event::by_user(
                    EventType::TokenRefreshed,
                    &user.id,
                    None,
                    Event::user_payload(
                        &user.id,
                        &user.username,
                        json!({ "session_id": session.id }),
                    ),
                )];
                if record.used_at.is_some() {
                    store.add_refresh(&new_record, at, &refreshed).await?;
                    tracing::info!("refresh token reused within the grace window");
                } else if !store
                    .rotate_refresh(&token_hash, &new_record, at, &refreshed)
                    .await?
                {
                    // Lost a race: another caller rotated it between our read and write.
                    let used_at = store
                        .refresh_token(&token_hash)
                        .await?
                        .and_then(|r| r.used_at);
                    if !in_grace(used_at) {
                        return self.reused(&session.id, &user.id).await;
                    }
                    store.add_refresh(&new_record, at, &refreshed).await?;
                    tracing::info!("refresh token reused within the grace window");
                }
                self.core
                    .session_extended(&session.id, &user.id, new_record.expires_at)
                    .await;
                let roles = store.user_roles(&user.id).await?;
                let (access_token, expires_in) =
                    self.core.access_token(&user, &session.id, roles)?;
                Ok(TokenPair::new(access_token, new_token, expires_in))
            })
            .await;
        self.core.metrics.count(
            "doorward_token_refreshes_total",
            &[("outcome", outcome(&result))],
        );
        result
    }

    /// End the session an access token belongs to. Works with an expired
    /// access token too, and ending an already-ended session is not an error.
    #[tracing::instrument(name = "logout", skip_all)]
    pub async fn logout(&self, access_token: &str) -> Result<()> {
        self.core
            .observe("auth.logout", async {
                let config = &self.core.config;
                let claims = self.core.keys()?.verify(
                    access_token,
                    &config.jwt_issuer,
                    &config.jwt_audience,
                    false,
                )?;
                if self
                    .core
                    .store
                    .revoke_session(
                        &claims.sid,
                        now(),
                        "logout",
                        &[Event::by_user(
                            EventType::LoggedOut,
                            &claims.sub,
                            None,
                            Event::user_payload(
                                &claims.sub,
                                &claims.preferred_username,
                                json!({ "session_id": claims.sid }),
                            ),
                        )],
                    )
                    .await?
                {
                    self.core
                        .sessions_ended(std::slice::from_ref(&claims.sid))
                        .await;
                }
                tracing::info!(user_id = %claims.sub, session_id = %claims.sid, "logged out");
                Ok(())
            })
            .await
    }

    /// Whether `user_id` holds `permission` through any of its roles. A
    /// disabled or unknown user holds nothing.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("jane", "jane@example.com", "correct horse battery", None).await.unwrap();
    /// assert!(dw.auth().can(&reg.user.id, "users:read").await.unwrap());
    /// assert!(!dw.auth().can(&reg.user.id, "users:write").await.unwrap());
    /// # });
    /// ```
    #[tracing::instrument(name = "auth.can", skip_all, fields(user_id = %user_id, permission = %permission))]
    pub async fn can(&self, user_id: &str, permission: &str) -> Result<bool> {
        self.core
            .observe("auth.can", async {
                self.core.can(user_id, permission).await
            })
            .await
    }

    /// Like [`Auth::can`], but a missing permission is the `forbidden` error.
    #[tracing::instrument(name = "auth.require", skip_all, fields(user_id = %user_id, permission = %permission))]
    pub async fn require(&self, user_id: &str, permission: &str) -> Result<()> {
        self.core
            .observe("auth.require", async {
                if self.core.can(user_id, permission).await? {
                    Ok(())
                } else {
                    Err(Error::Forbidden {
                        permission: permission.to_string(),
                    })
                }
            })
            .await
    }

    /// Start a session for a user without a password: for administrators
    /// (`doorward token issue`) and trusted flows such as a verified magic
    /// link the host implements.
    #[tracing::instrument(name = "auth.issue_tokens", skip_all, fields(user_id = %user_id))]
    pub async fn issue_tokens(
        &self,
        user_id: &str,
        client: Option<ClientInfo>,
    ) -> Result<TokenPair> {
        self.core
            .observe("auth.issue_tokens", async {
                let user = self.user(user_id).await?;
                if user.disabled {
                    return Err(Error::UserDisabled);
                }
                self.core
                    .start_session(&user, client.as_ref(), "issued")
                    .await
            })
            .await
    }

    /// The public verification keys as a JWKS document, for services that
    /// verify doorward's tokens themselves. Empty for HS256, whose secret is
    /// never published.
    pub fn jwks(&self) -> Result<serde_json::Value> {
        Ok(self.core.keys()?.jwks())
    }

    /// Count a wrong password; from `lockout_threshold` failures in a row
    /// on, lock the account for `lockout_base_delay`, doubling with each
    /// further failure up to `lockout_max_delay`. The count lives in the
    /// store, so every instance adds to it.
    async fn failed_login(
        &self,
        user: &UserRecord,
        refused: Event,
        client: Option<&ClientInfo>,
    ) -> Result<()> {
        let config = &self.core.config;
        let user_id = user.id.as_str();
        if config.lockout_threshold == 0 {
            return self.core.store.append_events(&[refused]).await;
        }
        let failures = self
            .core
            .store
            .record_failed_login(user_id, &[refused])
            .await?;
        if failures >= config.lockout_threshold {
            let delay = lock_delay(
                failures - config.lockout_threshold,
                config.lockout_base_delay,
                config.lockout_max_delay,
            );
            let until = now() + chrono::Duration::seconds(delay as i64);
            let locked = Event::new(
                EventType::AccountLocked,
                None,
                Some(user_id),
                client,
                Event::user_payload(
                    user_id,
                    &user.username,
                    json!({ "failed_logins": failures, "locked_until": until }),
                ),
            );
            self.core.store.lock_user(user_id, until, &[locked]).await?;
            self.core
                .metrics
                .count("doorward_account_lockouts_total", &[]);
            tracing::warn!(user_id, failures, seconds = delay, "account locked");
        }
        self.core.user_changed(user_id).await;
        Ok(())
    }

    async fn reused(&self, session_id: &str, user_id: &str) -> Result<TokenPair> {
        let detected = [Event::by_user(
            EventType::TokenReuseDetected,
            user_id,
            None,
            json!({ "user_id": user_id, "session_id": session_id }),
        )];
        if self
            .core
            .store
            .revoke_session(session_id, now(), "reuse", &detected)
            .await?
        {
            self.core.sessions_ended(&[session_id.to_string()]).await;
        } else {
            // Already ended (an earlier reuse, a logout): still worth a record.
            self.core.store.append_events(&detected).await?;
        }
        self.core
            .metrics
            .count("doorward_token_reuse_detected_total", &[]);
        tracing::warn!(user_id, session_id, "refresh token reuse: session revoked");
        Err(Error::TokenReused)
    }

    async fn user(&self, user_id: &str) -> Result<UserRecord> {
        self.core
            .store
            .user_by_id(user_id)
            .await?
            .ok_or_else(|| Error::not_found("user"))
    }
}

/// Seconds of the lock after `extra` failures beyond the threshold:
/// `base`, doubled per extra failure, at most `max`.
fn lock_delay(extra: u32, base: u64, max: u64) -> u64 {
    base.saturating_mul(1u64.checked_shl(extra.min(63)).unwrap_or(u64::MAX))
        .min(max.max(base))
}

/// A login or refresh outcome as a metric label: `success` or the error code.
fn outcome<T>(result: &Result<T>) -> &'static str {
    match result {
        Ok(_) => "success",
        Err(e) => e.code().as_str(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_delay_doubles_up_to_the_cap() {
        let delays: Vec<u64> = (0..8).map(|n| super::lock_delay(n, 60, 3600)).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(super::lock_delay(200, 60, 3600), 3600);
    }
}
