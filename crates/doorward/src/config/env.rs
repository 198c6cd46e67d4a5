//! `DOORWARD_<KEY>` environment variables and text overrides.

use std::ffi::OsStr;

use super::Config;
use crate::error::{Error, Result};

/// The keys that can be set from `DOORWARD_<KEY>` environment variables
/// (every scalar key; `jwt_previous_keys` needs a file or a dict).
pub(crate) const ENV_KEYS: &[&str] = &[
    "database_url",
    "database_read_urls",
    "database_max_connections",
    "database_min_connections",
    "database_acquire_timeout",
    "redis_url",
    "redis_prefix",
    "redis_timeout_ms",
    "redis_session_policy",
    "cache_ttl",
    "cache_max_entries",
    "session_cache_ttl",
    "rate_limit_login_account",
    "rate_limit_login_ip",
    "rate_limit_register_ip",
    "rate_limit_ipv6_prefix",
    "lockout_threshold",
    "lockout_base_delay",
    "lockout_max_delay",
    "jwt_secret",
    "jwt_algorithm",
    "jwt_private_key",
    "jwt_public_key",
    "jwt_key_id",
    "jwt_issuer",
    "jwt_audience",
    "access_ttl",
    "refresh_ttl",
    "refresh_reuse_grace",
    "stateless_verify",
    "password_min_length",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
    "hash_concurrency",
    "events_dispatch",
    "events_poll_interval_ms",
    "events_lease_secs",
    "events_max_attempts",
    "events_retry_base_ms",
    "events_retry_max_secs",
    "events_handler_timeout_ms",
    "events_retention_secs",
    "webhook_timeout_ms",
    "files_url",
    "files_max_bytes",
    "files_s3_region",
    "files_s3_endpoint",
    "files_s3_access_key_id",
    "files_s3_secret_access_key",
    "files_s3_allow_http",
    "mail_url",
    "mail_from",
    "mail_username",
    "mail_password",
    "mail_timeout_ms",
    "welcome_mail",
    "welcome_subject",
    "welcome_text",
    "otel_endpoint",
    "otel_service_name",
];

/// The key `name` sets: `DOORWARD_ACCESS_TTL` sets `access_ttl`.
fn env_key(name: &str) -> Option<&'static str> {
    let rest = name.strip_prefix("DOORWARD_")?;
    ENV_KEYS
        .iter()
        .copied()
        .find(|key| key.len() == rest.len() && key.to_ascii_uppercase() == rest)
}

impl Config {
    /// The defaults overridden by `DOORWARD_<KEY>` environment variables.
    ///
    /// ```
    /// let config = doorward::Config::from_env().unwrap();
    /// assert!(!config.database_url.is_empty());
    /// ```
    pub fn from_env() -> Result<Self> {
        Self::default().with_env()
    }

    /// This configuration overridden by `DOORWARD_<KEY>` environment variables.
    pub fn with_env(self) -> Result<Self> {
        self.with_env_from(std::env::vars_os())
    }

    /// Like [`Config::with_env`], from the variables given rather than the
    /// process environment (a host's own map of variables, a test).
    ///
    /// ```
    /// let config = doorward::Config::default()
    ///     .with_env_from([("DOORWARD_ACCESS_TTL", "600"), ("HOME", "/root")])
    ///     .unwrap();
    /// assert_eq!(config.access_ttl, 600);
    /// ```
    pub fn with_env_from<K, V>(self, vars: impl IntoIterator<Item = (K, V)>) -> Result<Self>
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut pairs = Vec::new();
        for (name, value) in vars {
            let Some(key) = name.as_ref().to_str().and_then(env_key) else {
                continue;
            };
            match value.as_ref().to_str() {
                Some(value) => pairs.push((key, value.to_string())),
                None => {
                    let name = name.as_ref().to_string_lossy();
                    return Err(Error::Config(format!("{name} is not valid UTF-8")));
                }
            }
        }
        self.with_overrides(pairs)
    }

    /// This configuration with some keys replaced by text values, parsed as
    /// the key's type (`"900"` for a number, `"true"` for a flag).
    pub fn with_overrides<'a>(
        self,
        pairs: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Result<Self> {
        let mut overrides = serde_json::Map::new();
        for (key, value) in pairs {
            if !ENV_KEYS.contains(&key) {
                return Err(Error::Config(format!("unknown configuration key `{key}`")));
            }
            overrides.insert(key.to_string(), serde_json::Value::String(value));
        }
        if overrides.is_empty() {
            return Ok(self);
        }
        let overridden = |key: &str| overrides.contains_key(key);
        let keep_secret = !overridden("jwt_secret");
        let keep_private_key = !overridden("jwt_private_key");
        let keep_s3_secret = !overridden("files_s3_secret_access_key");
        let keep_mail_password = !overridden("mail_password");
        let mut base = self.to_json_map();
        base.extend(overrides);
        let mut config = Self::from_json(serde_json::Value::Object(base))?;
        // Secrets are never serialised: carry them over as they were.
        if keep_secret {
            config.jwt_secret = self.jwt_secret;
        }
        if keep_private_key {
            config.jwt_private_key = self.jwt_private_key;
        }
        if keep_s3_secret {
            config.files_s3_secret_access_key = self.files_s3_secret_access_key;
        }
        if keep_mail_password {
            config.mail_password = self.mail_password;
        }
        config.jwt_previous_keys = self.jwt_previous_keys;
        Ok(config)
    }

    /// Every key and value but the secrets, which are never serialised.
    fn to_json_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => unreachable!("a Config serialises to a JSON object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keys_are_every_scalar_key() {
        // serde lists the expected fields when it meets an unknown one.
        let err = Config::from_toml_str("not_a_key = 1")
            .unwrap_err()
            .to_string();
        let mut listed: Vec<&str> = err
            .split('`')
            .skip(3)
            .step_by(2)
            .filter(|k| *k != "jwt_previous_keys")
            .collect();
        listed.sort_unstable();
        let mut keys = ENV_KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(listed, keys, "{err}");
    }

    #[test]
    fn overrides_parse_as_the_key_type() {
        let config = Config::default()
            .with_overrides([
                ("access_ttl", "120".to_string()),
                ("stateless_verify", "true".to_string()),
                ("jwt_secret", "12345".to_string()),
            ])
            .unwrap();
        assert_eq!(config.access_ttl, 120);
        assert!(config.stateless_verify);
        assert!(config.jwt_secret.is_some());
        let err = Config::default()
            .with_overrides([("access_ttl", "soon".to_string())])
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::ConfigError);
    }

    #[test]
    fn the_s3_secret_survives_overrides() {
        let config = Config::from_toml_str("files_s3_secret_access_key = 's3-secret'")
            .unwrap()
            .with_overrides([("files_s3_allow_http", "true".to_string())])
            .unwrap();
        assert!(config.files_s3_allow_http);
        assert!(config.files_s3_secret_access_key.is_some());
    }
}
