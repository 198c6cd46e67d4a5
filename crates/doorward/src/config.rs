//! One configuration for every host.
//!
//! The same keys arrive from a TOML file, from `DOORWARD_<KEY>` environment
//! variables, from a Python dict or a Node object: bindings pass them through
//! serde untouched, so a backend or option the core gains reaches every
//! language without binding changes. Unknown keys are an error, because a
//! misspelt `jwt_issuer` silently ignored is a security bug.

use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// The library's configuration.
///
/// Every field has a default, so `Config::default()` plus a JWT secret opens
/// an embedded SQLite database `doorward.db` in the working directory. Build
/// one in code with struct-update syntax
/// (`Config { access_ttl: 600, ..Config::default() }`): keys added later get
/// defaults, so that stays source-compatible.
///
/// ```
/// let config = doorward::Config::from_toml_str(r#"
///     database_url = "sqlite::memory:"
///     jwt_secret = "an-example-secret-of-at-least-32-bytes!"
///     access_ttl = 600
/// "#).unwrap();
/// assert_eq!(config.access_ttl, 600);
/// assert!(doorward::Config::from_toml_str("jwt_isuer = 'typo'").is_err());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where users, sessions and roles live: `sqlite://path`,
    /// `sqlite::memory:` or `memory://`.
    pub database_url: String,
    /// Upper bound of pooled database connections.
    #[serde(deserialize_with = "flexible")]
    pub database_max_connections: u32,

    /// HS256 shared secret (at least 32 bytes).
    pub jwt_secret: Option<SecretString>,
    /// `HS256` (default), `EdDSA`, `RS256` or `ES256`.
    pub jwt_algorithm: String,
    /// PEM text, or a path to a PEM file, of the signing key for asymmetric algorithms.
    pub jwt_private_key: Option<SecretString>,
    /// PEM text, or a path to a PEM file, of the matching public key.
    pub jwt_public_key: Option<String>,
    /// `kid` of the signing key; derived from the key when absent.
    pub jwt_key_id: Option<String>,
    /// Keys that no longer sign but still verify, so keys can rotate without
    /// logging everyone out.
    pub jwt_previous_keys: Vec<VerificationKeyConfig>,
    /// `iss` claim written and required.
    pub jwt_issuer: String,
    /// `aud` claim written and required.
    pub jwt_audience: String,
    /// Access-token lifetime in seconds.
    #[serde(deserialize_with = "flexible")]
    pub access_ttl: u64,
    /// Refresh-token (and session) lifetime in seconds; each refresh extends it.
    #[serde(deserialize_with = "flexible")]
    pub refresh_ttl: u64,
    /// Seconds during which an already-rotated refresh token still refreshes
    /// instead of counting as reuse. Off (0) by default: see SECURITY.md.
    #[serde(deserialize_with = "flexible")]
    pub refresh_reuse_grace: u64,
    /// Verify access tokens from their signature and claims alone, without
    /// looking the session up. Faster, but logout and revocation then only
    /// take effect when the access token expires.
    #[serde(deserialize_with = "flexible")]
    pub stateless_verify: bool,

    /// Minimum password length in characters (NIST SP 800-63B: at least 8).
    #[serde(deserialize_with = "flexible")]
    pub password_min_length: usize,
    /// Argon2id memory cost in KiB.
    #[serde(deserialize_with = "flexible")]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    #[serde(deserialize_with = "flexible")]
    pub argon2_iterations: u32,
    /// Argon2id lanes.
    #[serde(deserialize_with = "flexible")]
    pub argon2_parallelism: u32,
    /// How many hashes may run at once; bounds memory to this many times
    /// `argon2_memory_kib`. Defaults to the number of cores.
    #[serde(deserialize_with = "flexible")]
    pub hash_concurrency: usize,
    /// Seconds a user's resolved permissions are cached in memory. Changes
    /// made through this instance invalidate the cache at once.
    #[serde(deserialize_with = "flexible")]
    pub permission_cache_ttl: u64,
}

/// A key that still verifies tokens after it stopped signing them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationKeyConfig {
    /// The `kid` its tokens carry.
    pub kid: String,
    /// Its algorithm (`HS256`, `EdDSA`, `RS256`, `ES256`).
    pub algorithm: String,
    /// The HS256 secret, for `HS256`.
    pub secret: Option<SecretString>,
    /// PEM text or path of the public key, for the others.
    pub public_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://doorward.db".into(),
            database_max_connections: 10,
            jwt_secret: None,
            jwt_algorithm: "HS256".into(),
            jwt_private_key: None,
            jwt_public_key: None,
            jwt_key_id: None,
            jwt_previous_keys: Vec::new(),
            jwt_issuer: "doorward".into(),
            jwt_audience: "doorward".into(),
            access_ttl: 900,
            refresh_ttl: 30 * 24 * 3600,
            refresh_reuse_grace: 0,
            stateless_verify: false,
            password_min_length: 8,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            permission_cache_ttl: 60,
        }
    }
}

/// The keys that can be set from `DOORWARD_<KEY>` environment variables
/// (every scalar key; `jwt_previous_keys` needs a file or a dict).
pub(crate) const ENV_KEYS: &[&str] = &[
    "database_url",
    "database_max_connections",
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
    "permission_cache_ttl",
];

impl Config {
    /// Parse TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(e.message().to_string()))
    }

    /// Read a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&text)
    }

    /// Build from any serde map (a Python dict, a Node object, JSON), with the
    /// same keys and the same strictness as the TOML file.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        serde_json::from_value(value).map_err(|e| Error::Config(e.to_string()))
    }

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
        let mut pairs = Vec::new();
        for key in ENV_KEYS {
            let name = format!("DOORWARD_{}", key.to_ascii_uppercase());
            match std::env::var(&name) {
                Ok(value) => pairs.push((*key, value)),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
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
        let mut base = self.to_json_map();
        base.extend(overrides);
        Self::from_json(serde_json::Value::Object(base))
    }

    /// Every key and value, secrets included, as a JSON map: only used to
    /// re-read the configuration with overrides, never printed.
    fn to_json_map(&self) -> serde_json::Map<String, serde_json::Value> {
        use secrecy::ExposeSecret;
        use serde_json::json;
        let secret = |s: &Option<SecretString>| s.as_ref().map(|s| s.expose_secret().to_string());
        let previous: Vec<_> = self
            .jwt_previous_keys
            .iter()
            .map(|k| {
                json!({
                    "kid": k.kid,
                    "algorithm": k.algorithm,
                    "secret": secret(&k.secret),
                    "public_key": k.public_key,
                })
            })
            .collect();
        let value = json!({
            "database_url": self.database_url,
            "database_max_connections": self.database_max_connections,
            "jwt_secret": secret(&self.jwt_secret),
            "jwt_algorithm": self.jwt_algorithm,
            "jwt_private_key": secret(&self.jwt_private_key),
            "jwt_public_key": self.jwt_public_key,
            "jwt_key_id": self.jwt_key_id,
            "jwt_previous_keys": previous,
            "jwt_issuer": self.jwt_issuer,
            "jwt_audience": self.jwt_audience,
            "access_ttl": self.access_ttl,
            "refresh_ttl": self.refresh_ttl,
            "refresh_reuse_grace": self.refresh_reuse_grace,
            "stateless_verify": self.stateless_verify,
            "password_min_length": self.password_min_length,
            "argon2_memory_kib": self.argon2_memory_kib,
            "argon2_iterations": self.argon2_iterations,
            "argon2_parallelism": self.argon2_parallelism,
            "hash_concurrency": self.hash_concurrency,
            "permission_cache_ttl": self.permission_cache_ttl,
        });
        match value {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("json! of an object literal is an object"),
        }
    }

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
        if self.database_max_connections == 0 {
            return Err(Error::Config(
                "database_max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Accepts a value in its own type or as text (`"900"`, `"true"`), so the
/// same config deserialises from TOML, JSON and environment variables.
fn flexible<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible<T> {
        Native(T),
        Text(String),
    }
    match Flexible::<T>::deserialize(deserializer)? {
        Flexible::Native(value) => Ok(value),
        Flexible::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
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
    fn debug_hides_secrets() {
        let config =
            Config::from_toml_str("jwt_secret = 'hunter2-hunter2-hunter2-hunter2-xx'").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
