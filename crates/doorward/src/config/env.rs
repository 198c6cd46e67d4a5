//! `DOORWARD_<KEY>` environment variables and text overrides.
//!
//! A `DOORWARD_` variable that sets no key is most likely a misspelling
//! (`DOORWARD_ACESS_TTL`), and a misspelt security setting silently ignored
//! is a security bug: reading the environment warns about each one, with
//! the key it most likely meant, unless it is one of the project's own
//! variables that are not configuration ([`NON_CONFIG_ENV`]).

use std::ffi::OsStr;
use std::fmt;

use super::{Config, ConfigSource};
use crate::error::{Error, Result};

/// The keys that can be set from `DOORWARD_<KEY>` environment variables
/// (every scalar key; `jwt_previous_keys` and `oauth_providers` need a
/// file or a dict).
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
    "redis_wait_replicas",
    "cache_ttl",
    "cache_max_entries",
    "session_cache_ttl",
    "rate_limit_login_account",
    "rate_limit_login_ip",
    "rate_limit_register_ip",
    "rate_limit_ipv6_prefix",
    "lockout_threshold",
    "lockout_account_threshold",
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
    "audit_key",
    "audit_previous_keys",
    "webhook_timeout_ms",
    "webhook_allow_private",
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
    "app_url",
    "flow_key",
    "flow_code_digits",
    "flow_resend_cooldown",
    "rate_limit_flow_address",
    "rate_limit_flow_ip",
    "verify_email_on_register",
    "require_verified_email_for_login",
    "sign_in_creates_users",
    "unknown_address_mail",
    "verify_email_ttl",
    "verify_email_path",
    "verify_email_subject",
    "verify_email_text",
    "reset_password_ttl",
    "reset_password_path",
    "reset_password_subject",
    "reset_password_text",
    "sign_in_ttl",
    "sign_in_path",
    "sign_in_subject",
    "sign_in_text",
    "change_email_ttl",
    "change_email_path",
    "change_email_subject",
    "change_email_text",
    "change_email_notice_subject",
    "change_email_notice_text",
    "unknown_address_subject",
    "unknown_address_text",
    "mfa_encryption_key",
    "mfa_issuer",
    "mfa_required_for_roles",
    "mfa_login_ttl",
    "fresh_auth_max_age",
    "webauthn_rp_id",
    "webauthn_rp_name",
    "webauthn_origins",
    "otel_endpoint",
    "otel_service_name",
];

/// `DOORWARD_` variables of the project that are not configuration keys,
/// so reading the environment never warns about them: `DOORWARD_CONFIG` (a
/// configuration file, in the examples), `DOORWARD_PASSWORD` and
/// `DOORWARD_TOKEN` (the CLI's secrets), `DOORWARD_REQUIRE_SERVICES` and
/// `DOORWARD_INSTALL` (the test scripts), the test suites' `DOORWARD_TEST_*`
/// and the benchmarks' `DOORWARD_BENCH_*`.
pub const NON_CONFIG_ENV: &[&str] = &[
    "DOORWARD_CONFIG",
    "DOORWARD_PASSWORD",
    "DOORWARD_TOKEN",
    "DOORWARD_REQUIRE_SERVICES",
    "DOORWARD_INSTALL",
    "DOORWARD_TEST_REDIS_URL",
    "DOORWARD_TEST_POSTGRES_URL",
    "DOORWARD_TEST_S3_ENDPOINT",
    "DOORWARD_TEST_CHILD_DATABASE",
    "DOORWARD_BENCH_FILES_CHILD",
];

/// A `DOORWARD_` environment variable (in any case) that sets no
/// configuration key and is not one of [`NON_CONFIG_ENV`]: most likely a
/// misspelling. Its value is never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEnvVar {
    /// The variable's name as set.
    pub name: String,
    /// The configuration variable it most likely meant, if one is close.
    pub meant: Option<String>,
}

impl fmt::Display for UnknownEnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "environment variable {} is not a doorward setting and is ignored",
            self.name
        )?;
        match &self.meant {
            Some(meant) => write!(f, " (did you mean {meant}?)"),
            None => Ok(()),
        }
    }
}

/// The unknown `DOORWARD_` variables among `names` (see [`UnknownEnvVar`]),
/// sorted by name. [`Config::with_env`] logs each as a `tracing` warning;
/// a tool without a subscriber can print them itself.
///
/// ```
/// let unknown = doorward::config::unknown_env_vars(
///     ["DOORWARD_ACESS_TTL", "DOORWARD_ACCESS_TTL", "DOORWARD_TOKEN", "HOME"],
/// );
/// assert_eq!(unknown.len(), 1);
/// assert_eq!(unknown[0].name, "DOORWARD_ACESS_TTL");
/// assert_eq!(unknown[0].meant.as_deref(), Some("DOORWARD_ACCESS_TTL"));
/// ```
pub fn unknown_env_vars<K: AsRef<OsStr>>(names: impl IntoIterator<Item = K>) -> Vec<UnknownEnvVar> {
    let mut unknown: Vec<UnknownEnvVar> = names
        .into_iter()
        .filter_map(|name| {
            let name = name.as_ref().to_str()?;
            let upper = name.to_ascii_uppercase();
            let rest = upper.strip_prefix("DOORWARD_")?;
            if env_key(name).is_some() || NON_CONFIG_ENV.contains(&name) {
                return None;
            }
            Some(UnknownEnvVar {
                name: name.to_string(),
                meant: nearest_key(rest)
                    .map(|key| format!("DOORWARD_{}", key.to_ascii_uppercase())),
            })
        })
        .collect();
    unknown.sort_by(|a, b| a.name.cmp(&b.name));
    unknown
}

/// The key closest to `typed` (upper case, without the prefix), if it is
/// within a few edits.
fn nearest_key(typed: &str) -> Option<&'static str> {
    let typed = typed.to_ascii_lowercase();
    let (key, distance) = ENV_KEYS
        .iter()
        .map(|key| (*key, edit_distance(&typed, key)))
        .min_by_key(|(_, d)| *d)?;
    (distance <= 3 && distance * 3 <= key.len()).then_some(key)
}

/// Levenshtein distance over bytes (the names are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

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
    ///
    /// Any other `DOORWARD_` variable is ignored with a `tracing` warning
    /// (see [`unknown_env_vars`]), since it is most likely a misspelt key.
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
        let mut names = Vec::new();
        for (name, value) in vars {
            names.push(name.as_ref().to_os_string());
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
        for unknown in unknown_env_vars(names) {
            tracing::warn!(variable = %unknown.name, "{unknown}");
        }
        let keys: Vec<&str> = pairs.iter().map(|(key, _)| *key).collect();
        let mut config = self.with_overrides(pairs)?;
        for key in keys {
            config.sources.set(key, ConfigSource::Env);
        }
        Ok(config)
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
        let keep_audit_key = !overridden("audit_key");
        let keep_audit_previous_keys = !overridden("audit_previous_keys");
        let overridden_keys: Vec<String> = overrides.keys().cloned().collect();
        let mut base = self.to_json_map();
        base.extend(overrides);
        let mut config = Self::from_json(serde_json::Value::Object(base))?;
        config.sources = self.sources.clone();
        for key in overridden_keys {
            config.sources.set(&key, ConfigSource::Host);
        }
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
        if keep_audit_key {
            config.audit_key = self.audit_key;
        }
        if keep_audit_previous_keys {
            config.audit_previous_keys = self.audit_previous_keys;
        }
        config.jwt_previous_keys = self.jwt_previous_keys;
        config.oauth_providers = self.oauth_providers;
        Ok(config)
    }

    /// Every key and value but the secrets, which are never serialised.
    pub(super) fn to_json_map(&self) -> serde_json::Map<String, serde_json::Value> {
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
            .filter(|k| !["jwt_previous_keys", "oauth_providers"].contains(k))
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

    #[test]
    fn unknown_names_and_what_they_meant() {
        let names = [
            "DOORWARD_ACESS_TTL",
            "DOORWARD_JWT_SECRTE",
            "doorward_refresh_ttl",
            "Doorward_Redis_Url",
            "DOORWARD_SOMETHING_ELSE",
            "DOORWARD_JWT_PREVIOUS_KEYS",
            "DOORWARD_ACCESS_TTL",
            "DOORWARD_TEST_REDIS_URL",
            "DOORWARD_PASSWORD",
            "DOORWARDISH",
            "HOME",
        ];
        let found: Vec<(String, Option<String>)> = unknown_env_vars(names)
            .into_iter()
            .map(|u| (u.name, u.meant))
            .collect();
        let meant = |s: &str| Some(s.to_string());
        assert_eq!(
            found,
            [
                ("DOORWARD_ACESS_TTL".into(), meant("DOORWARD_ACCESS_TTL")),
                ("DOORWARD_JWT_PREVIOUS_KEYS".into(), None),
                ("DOORWARD_JWT_SECRTE".into(), meant("DOORWARD_JWT_SECRET")),
                ("DOORWARD_SOMETHING_ELSE".into(), None),
                ("Doorward_Redis_Url".into(), meant("DOORWARD_REDIS_URL")),
                ("doorward_refresh_ttl".into(), meant("DOORWARD_REFRESH_TTL")),
            ]
        );
        let shown = unknown_env_vars(["DOORWARD_ACESS_TTL"])[0].to_string();
        assert_eq!(
            shown,
            "environment variable DOORWARD_ACESS_TTL is not a doorward setting and is \
             ignored (did you mean DOORWARD_ACCESS_TTL?)"
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("acess_ttl", "access_ttl"), 1);
        assert_eq!(edit_distance("jwt_secrte", "jwt_secret"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
