//! Password login, and the failed-login count behind lockout.

use serde_json::json;

use super::{Auth, ClientInfo, TokenPair, outcome};
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::password::Verdict;
use crate::store::{UserRecord, now};
use crate::users::validate;

impl Auth {
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
                    // Only over the hash just verified: a password change
                    // that committed meanwhile stays, and the session
                    // below is refused for it.
                    if self
                        .core
                        .store
                        .rehash_password(&user.id, &user.password_hash, &fresh)
                        .await?
                    {
                        tracing::info!("password hash upgraded to current parameters");
                    }
                }
                // The session is only stored if the account is still as
                // read above: a disable or password change that committed
                // during the argon2 work refuses it.
                let tokens = match self
                    .core
                    .start_session(&user, client.as_ref(), "password")
                    .await
                {
                    Ok(tokens) => tokens,
                    Err(Error::NotFound { .. }) => return Err(Error::InvalidCredentials),
                    Err(e) => {
                        tracing::info!(
                            outcome = e.code().as_str(),
                            "login refused: account changed"
                        );
                        return Err(e);
                    }
                };
                self.core.store.touch_login(&user.id, now()).await?;
                self.core.user_changed(&user.id).await;
                tracing::info!("login succeeded");
                Ok(tokens)
            })
            .await;
        self.core
            .metrics
            .count("doorward_logins_total", &[("outcome", outcome(&result))]);
        result
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
}

/// Seconds of the lock after `extra` failures beyond the threshold:
/// `base`, doubled per extra failure, at most `max`.
fn lock_delay(extra: u32, base: u64, max: u64) -> u64 {
    base.saturating_mul(1u64.checked_shl(extra.min(63)).unwrap_or(u64::MAX))
        .min(max.max(base))
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
