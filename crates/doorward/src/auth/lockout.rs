//! Throttling and lockout around a password check, shaped so that someone
//! guessing from one place cannot lock the owner out everywhere (OWASP's
//! and Keycloak's advice):
//!
//! - failures are counted per account *and client address*: that pair is
//!   locked after `lockout_threshold` failures in a row;
//! - the whole account is locked only far above that, after
//!   `lockout_account_threshold` failures from anywhere;
//! - a client that has logged in to the account before is not refused for
//!   the account-wide lock or the per-account rate limit, only for its own
//!   failures;
//! - the per-account rate limit is keyed by the account, so its username
//!   and its email address share one budget.
//!
//! A login that names no client address cannot be told apart from any
//! other: it counts against the account alone, locked at
//! `lockout_threshold` as if it came from everywhere, and it is never a
//! known client. A host that passes no addresses keeps one lock per
//! account; one that passes them gets the rest.

use chrono::Utc;
use serde_json::json;

use super::ClientInfo;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{LoginClient, UserRecord, now};

/// What the gate found out before the password work, for the outcome after.
#[derive(Debug)]
pub(crate) struct Gate {
    /// The canonical client address, or `""`.
    client: String,
    /// Whether this client has logged in to the account before.
    pub known: bool,
}

/// Seconds of a lock after `extra` failures beyond the threshold: `base`,
/// doubled per extra failure, at most `max`.
pub(super) fn lock_delay(extra: u32, base: u64, max: u64) -> u64 {
    base.saturating_mul(1u64.checked_shl(extra.min(63)).unwrap_or(u64::MAX))
        .min(max.max(base))
}

fn locked(until: chrono::DateTime<Utc>) -> Error {
    Error::AccountLocked {
        retry_after: (until - now()).to_std().unwrap_or_default(),
    }
}

impl Gate {
    /// A first factor that is not a password (an email link) passes no
    /// gate; its success still makes the client known.
    pub(crate) fn ungated(client: String) -> Gate {
        Gate {
            client,
            known: false,
        }
    }
}

impl Core {
    /// The address lockout and the known-client check go by: the canonical
    /// client of the per-address rate limits (an IPv6 network counts as
    /// one), or `""` when the login names none.
    pub(crate) fn client_of(&self, client: Option<&ClientInfo>) -> String {
        client
            .and_then(|c| c.ip.as_deref())
            .map(|ip| self.quotas.client_key(ip))
            .unwrap_or_default()
    }

    /// Throttle and refuse before any argon2 work, so a flood costs the
    /// attacker more than it costs us. `login` is the name as typed, which
    /// keys the rate limit when there is no such account.
    pub(crate) async fn login_gate(
        &self,
        user: Option<&UserRecord>,
        login: &str,
        client: Option<&ClientInfo>,
    ) -> Result<Gate> {
        let client = self.client_of(client);
        let state: Option<LoginClient> = match user {
            Some(user) if !client.is_empty() => self.store.login_client(&user.id, &client).await?,
            _ => None,
        };
        let known = state.as_ref().is_some_and(|s| s.last_success_at.is_some());
        if !known && let Some(quota) = &self.quotas.login_account {
            let key = match user {
                Some(user) => user.id.clone(),
                None => crate::users::login_key(login),
            };
            self.rate_check(&format!("login:account:{key}"), quota)
                .await?;
        }
        let at = now();
        if let Some(until) = state.and_then(|s| s.locked_until).filter(|u| *u > at) {
            return Err(locked(until));
        }
        if !known && let Some(until) = user.and_then(|u| u.locked_until).filter(|u| *u > at) {
            return Err(locked(until));
        }
        Ok(Gate { client, known })
    }

    /// Count a wrong password for the pair and for the account, locking
    /// either that reaches its threshold; `refused` is the LoginFailed event
    /// written with the account's count. Counts live in the store, so every
    /// instance adds to them.
    pub(crate) async fn login_failed(
        &self,
        user: &UserRecord,
        gate: &Gate,
        refused: Event,
        client: Option<&ClientInfo>,
    ) -> Result<()> {
        let config = &self.config;
        let (base, max) = (config.lockout_base_delay, config.lockout_max_delay);
        let user_id = user.id.as_str();
        let account_threshold = if gate.client.is_empty() {
            config.lockout_threshold
        } else {
            config.lockout_account_threshold
        };
        if config.lockout_threshold > 0 && !gate.client.is_empty() {
            let failures = self.store.client_failed(user_id, &gate.client).await?;
            if failures >= config.lockout_threshold {
                let delay = lock_delay(failures - config.lockout_threshold, base, max);
                let until = now() + chrono::Duration::seconds(delay as i64);
                self.store.lock_client(user_id, &gate.client, until).await?;
                self.locked_event(user, client, "client", failures, until)
                    .await?;
                tracing::warn!(user_id, failures, seconds = delay, "client locked out");
            }
        }
        if account_threshold == 0 {
            self.store.append_events(&[refused]).await?;
        } else {
            let failures = self.store.record_failed_login(user_id, &[refused]).await?;
            if failures >= account_threshold {
                let delay = lock_delay(failures - account_threshold, base, max);
                let until = now() + chrono::Duration::seconds(delay as i64);
                self.locked_event(user, client, "account", failures, until)
                    .await?;
                tracing::warn!(user_id, failures, seconds = delay, "account locked");
            }
        }
        self.user_changed(user_id).await;
        Ok(())
    }

    /// Lock (an account, for `scope` "account") and record it.
    async fn locked_event(
        &self,
        user: &UserRecord,
        client: Option<&ClientInfo>,
        scope: &str,
        failures: u32,
        until: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let event = Event::new(
            EventType::AccountLocked,
            None,
            Some(&user.id),
            client,
            Event::user_payload(
                &user.id,
                &user.username,
                json!({ "scope": scope, "failed_logins": failures, "locked_until": until }),
            ),
        );
        if scope == "account" {
            self.store.lock_user(&user.id, until, &[event]).await?;
        } else {
            self.store.append_events(&[event]).await?;
        }
        self.metrics.count("doorward_account_lockouts_total", &[]);
        Ok(())
    }

    /// Remember that `client` (canonical) logged in to the account; nothing
    /// for a login that named no address.
    pub(crate) async fn client_known(&self, user_id: &str, client: &str) -> Result<()> {
        if client.is_empty() {
            return Ok(());
        }
        self.store.client_succeeded(user_id, client, now()).await
    }

    /// The right password: this client's failures go, it is known from now
    /// on, and the account's count starts again.
    pub(crate) async fn login_succeeded(&self, user: &UserRecord, gate: &Gate) -> Result<()> {
        let at = now();
        self.client_known(&user.id, &gate.client).await?;
        self.store.touch_login(&user.id, at).await?;
        self.user_changed(&user.id).await;
        Ok(())
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
