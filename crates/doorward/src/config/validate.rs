//! The checks [`crate::Doorward::open`] runs on a configuration before any
//! I/O.

use super::Config;
use crate::error::{Error, Result};

impl Config {
    /// Checks that do not need I/O; run by [`crate::Doorward::open`].
    pub(crate) fn validate(&self) -> Result<()> {
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
        ] {
            crate::ratelimit::Quota::parse_setting(value)
                .map_err(|e| Error::Config(format!("{key}: {e}")))?;
        }
        if self.files_max_bytes == 0 {
            return Err(Error::Config("files_max_bytes must be positive".into()));
        }
        if self.lockout_threshold > 0 && self.lockout_base_delay == 0 {
            return Err(Error::Config(
                "lockout_base_delay must be positive when lockout is on".into(),
            ));
        }
        Ok(())
    }
}
