//! The checks [`crate::Doorward::open`] runs on a configuration before any
//! I/O.

use secrecy::ExposeSecret as _;

use super::Config;
use crate::error::{Error, Result};

/// The longest lifetime, delay or retention a key in seconds may have: ten
/// years (365-day years). It applies to `access_ttl`, `refresh_ttl`,
/// `refresh_reuse_grace`, `cache_ttl`, `session_cache_ttl`,
/// `lockout_base_delay`, `lockout_max_delay`, `events_lease_secs`,
/// `events_retry_max_secs`, `events_retention_secs` and the account flows'
/// `*_ttl` keys. Far below what a
/// date, a `chrono::Duration` or a count of milliseconds can hold, so no
/// allowed value can overflow when it is added to the current time.
pub const MAX_DURATION_SECS: u64 = 10 * 365 * 24 * 3600;

/// The longest wait a timeout or polling key may have: one day. It applies
/// to `database_acquire_timeout` and `flow_resend_cooldown` (seconds) and to
/// the millisecond keys
/// `redis_timeout_ms`, `events_poll_interval_ms`, `events_retry_base_ms`,
/// `events_handler_timeout_ms`, `webhook_timeout_ms` and `mail_timeout_ms`.
pub const MAX_WAIT_SECS: u64 = 24 * 3600;

impl Config {
    /// Every duration key with its value in seconds (milliseconds keys
    /// rounded up) and its ceiling.
    fn durations(&self) -> [(&'static str, u64, u64); 24] {
        let ms = |v: u64| v.div_ceil(1000);
        let long = MAX_DURATION_SECS;
        let wait = MAX_WAIT_SECS;
        [
            ("access_ttl", self.access_ttl, long),
            ("refresh_ttl", self.refresh_ttl, long),
            ("refresh_reuse_grace", self.refresh_reuse_grace, long),
            ("cache_ttl", self.cache_ttl, long),
            ("session_cache_ttl", self.session_cache_ttl, long),
            ("lockout_base_delay", self.lockout_base_delay, long),
            ("lockout_max_delay", self.lockout_max_delay, long),
            ("events_lease_secs", self.events_lease_secs, long),
            ("events_retry_max_secs", self.events_retry_max_secs, long),
            ("events_retention_secs", self.events_retention_secs, long),
            ("verify_email_ttl", self.verify_email_ttl, long),
            ("reset_password_ttl", self.reset_password_ttl, long),
            ("sign_in_ttl", self.sign_in_ttl, long),
            ("mfa_login_ttl", self.mfa_login_ttl, long),
            ("fresh_auth_max_age", self.fresh_auth_max_age, long),
            ("change_email_ttl", self.change_email_ttl, long),
            ("flow_resend_cooldown", self.flow_resend_cooldown, wait),
            (
                "database_acquire_timeout",
                self.database_acquire_timeout,
                wait,
            ),
            ("redis_timeout_ms", ms(self.redis_timeout_ms), wait),
            (
                "events_poll_interval_ms",
                ms(self.events_poll_interval_ms),
                wait,
            ),
            ("events_retry_base_ms", ms(self.events_retry_base_ms), wait),
            (
                "events_handler_timeout_ms",
                ms(self.events_handler_timeout_ms),
                wait,
            ),
            ("webhook_timeout_ms", ms(self.webhook_timeout_ms), wait),
            ("mail_timeout_ms", ms(self.mail_timeout_ms), wait),
        ]
    }

    /// Checks that do not need I/O; run by [`crate::Doorward::open`].
    pub(crate) fn validate(&self) -> Result<()> {
        for (key, secs, max) in self.durations() {
            if secs > max {
                let (unit, scaled) = if key.ends_with("_ms") {
                    ("milliseconds", max * 1000)
                } else {
                    ("seconds", max)
                };
                let human = if max == MAX_WAIT_SECS {
                    "a day"
                } else {
                    "ten years"
                };
                return Err(Error::Config(format!(
                    "{key} must be at most {scaled} {unit} ({human})"
                )));
            }
        }
        if self.access_ttl == 0 || self.refresh_ttl == 0 {
            return Err(Error::Config(
                "access_ttl and refresh_ttl must be positive".into(),
            ));
        }
        if self.password_min_length < 8 {
            return Err(Error::Config(
                "password_min_length below 8 is not allowed (NIST SP 800-63B)".into(),
            ));
        }
        if self.password_min_length > 256 {
            return Err(Error::Config("password_min_length is at most 256".into()));
        }
        if self.hash_concurrency == 0 {
            return Err(Error::Config("hash_concurrency must be at least 1".into()));
        }
        if self.events_max_attempts == 0 || self.events_lease_secs == 0 {
            return Err(Error::Config(
                "events_max_attempts and events_lease_secs must be at least 1".into(),
            ));
        }
        if self.database_max_connections == 0 {
            return Err(Error::Config(
                "database_max_connections must be at least 1".into(),
            ));
        }
        if self.database_min_connections > self.database_max_connections {
            return Err(Error::Config(
                "database_min_connections must not exceed database_max_connections".into(),
            ));
        }
        if self.redis_timeout_ms == 0 {
            return Err(Error::Config("redis_timeout_ms must be positive".into()));
        }
        if self.cache_ttl == 0 {
            return Err(Error::Config(
                "cache_ttl must be positive: it bounds how stale a cached entry can be".into(),
            ));
        }
        for (key, value) in [
            ("rate_limit_login_account", &self.rate_limit_login_account),
            ("rate_limit_login_ip", &self.rate_limit_login_ip),
            ("rate_limit_register_ip", &self.rate_limit_register_ip),
            ("rate_limit_flow_address", &self.rate_limit_flow_address),
            ("rate_limit_flow_ip", &self.rate_limit_flow_ip),
        ] {
            crate::ratelimit::Quota::parse_setting(value)
                .map_err(|e| Error::Config(format!("{key}: {e}")))?;
        }
        if !(1..=128).contains(&self.rate_limit_ipv6_prefix) {
            return Err(Error::Config(
                "rate_limit_ipv6_prefix must be 1 to 128 (bits of an IPv6 address)".into(),
            ));
        }
        self.validate_flows()?;
        super::providers::validate_all(&self.oauth_providers)?;
        if self.files_max_bytes == 0 {
            return Err(Error::Config("files_max_bytes must be positive".into()));
        }
        let short = |key: &secrecy::SecretString| {
            key.expose_secret().len() < crate::token::keys::MIN_SECRET_BYTES
        };
        if self.audit_key.as_ref().is_some_and(short) || self.audit_previous_keys.iter().any(short)
        {
            return Err(Error::Config(format!(
                "audit_key and audit_previous_keys must be at least {} bytes each",
                crate::token::keys::MIN_SECRET_BYTES
            )));
        }
        if self.audit_key.is_none() && !self.audit_previous_keys.is_empty() {
            return Err(Error::Config(
                "audit_previous_keys need an audit_key to append with".into(),
            ));
        }
        if self.lockout_account_threshold > 10_000 {
            return Err(Error::Config(
                "lockout_account_threshold is at most 10000".into(),
            ));
        }
        if (self.lockout_threshold > 0 || self.lockout_account_threshold > 0)
            && self.lockout_base_delay == 0
        {
            return Err(Error::Config(
                "lockout_base_delay must be positive when lockout is on".into(),
            ));
        }
        Ok(())
    }
}

impl Config {
    /// The account flows' keys: lifetimes, code length, link pages.
    fn validate_flows(&self) -> Result<()> {
        let ttls = [
            self.verify_email_ttl,
            self.reset_password_ttl,
            self.sign_in_ttl,
            self.change_email_ttl,
        ];
        if ttls.contains(&0) {
            return Err(Error::Config(
                "verify_email_ttl, reset_password_ttl, sign_in_ttl and change_email_ttl must be positive"
                    .into(),
            ));
        }
        if !(6..=8).contains(&self.flow_code_digits) {
            return Err(Error::Config("flow_code_digits must be 6 to 8".into()));
        }
        for (key, path) in [
            ("verify_email_path", &self.verify_email_path),
            ("reset_password_path", &self.reset_password_path),
            ("sign_in_path", &self.sign_in_path),
            ("change_email_path", &self.change_email_path),
        ] {
            if !path.starts_with('/') || path.contains(['?', '#']) {
                return Err(Error::Config(format!(
                    "{key} must be a path starting with / and without ? or #"
                )));
            }
        }
        let app = url::Url::parse(&self.app_url)
            .map_err(|e| Error::Config(format!("app_url is not a URL: {e}")))?;
        if !matches!(app.scheme(), "http" | "https") || app.query().is_some() {
            return Err(Error::Config(
                "app_url must be an http(s) URL without a query".into(),
            ));
        }
        if self
            .flow_key
            .as_ref()
            .is_some_and(|k| k.expose_secret().len() < crate::token::keys::MIN_SECRET_BYTES)
        {
            return Err(Error::Config("flow_key must be at least 32 bytes".into()));
        }
        if self
            .mfa_encryption_key
            .as_ref()
            .is_some_and(|k| k.expose_secret().len() < crate::token::keys::MIN_SECRET_BYTES)
        {
            return Err(Error::Config(
                "mfa_encryption_key must be at least 32 bytes".into(),
            ));
        }
        if self.mfa_issuer.trim().is_empty() || self.mfa_issuer.contains(':') {
            return Err(Error::Config(
                "mfa_issuer must be a non-empty name without ':'".into(),
            ));
        }
        Ok(())
    }
}
