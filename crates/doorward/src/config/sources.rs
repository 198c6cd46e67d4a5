//! Where each key of a configuration came from, and the configuration as
//! an administrator may read it: every key, no secret.
//!
//! The loaders record the keys they set ([`Config::from_toml_str`] a
//! file's, [`Config::with_env`] the environment's, [`Config::from_json`]
//! and [`Config::with_overrides`] the host's); a key none of them set
//! holds its default, or a value the host set in code.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{Config, redact_url};

/// Where a key's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigSource {
    /// Nobody set it: the built-in default.
    Default,
    /// A TOML file.
    File,
    /// A `DOORWARD_<KEY>` environment variable.
    Env,
    /// The host: code, a binding's argument, a command-line flag.
    Host,
}

/// The sources the loaders recorded, by key. Not a configuration key:
/// it is never read from a file or serialised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigSources(BTreeMap<String, ConfigSource>);

impl ConfigSources {
    /// The recorded source of `key`, if a loader set it.
    pub fn get(&self, key: &str) -> Option<ConfigSource> {
        self.0.get(key).copied()
    }

    /// Record that `source` set `key` (a host that reads a file its own
    /// way says so here).
    ///
    /// ```
    /// use doorward::config::ConfigSource;
    /// let mut config = doorward::Config::from_json(serde_json::json!({"access_ttl": 600})).unwrap();
    /// config.sources.set("access_ttl", ConfigSource::File);
    /// assert_eq!(config.sources.get("access_ttl"), Some(ConfigSource::File));
    /// ```
    pub fn set(&mut self, key: &str, source: ConfigSource) {
        self.0.insert(key.to_string(), source);
    }
}

/// One key as [`Config::describe`] shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigEntry {
    /// The key, as in a TOML file.
    pub key: String,
    /// Its value, with URLs' passwords and secret query parameters
    /// redacted; for a secret key, `"[redacted]"` when set and null when
    /// not (a list of secrets: how many).
    pub value: Value,
    /// Whether the key is a secret, never shown.
    pub secret: bool,
    /// Where the value came from.
    pub source: ConfigSource,
}

/// The keys whose values are secrets: never serialised, never shown.
pub(crate) const SECRET_KEYS: &[&str] = &[
    "audit_key",
    "audit_previous_keys",
    "files_s3_secret_access_key",
    "flow_key",
    "jwt_private_key",
    "jwt_secret",
    "mail_password",
    "mfa_encryption_key",
];

impl Config {
    /// Every key with its value and source, sorted by key, every secret
    /// redacted: what the admin console's Configuration page shows.
    ///
    /// ```
    /// use doorward::config::ConfigSource;
    /// let config = doorward::Config::from_toml_str(
    ///     "database_url = 'postgres://app:pw@db/app'\njwt_secret = 'an-example-secret-of-at-least-32-bytes!'",
    /// ).unwrap()
    /// .with_env_from([("DOORWARD_ACCESS_TTL", "600")])
    /// .unwrap();
    /// let entries = config.describe();
    /// let entry = |key: &str| entries.iter().find(|e| e.key == key).unwrap().clone();
    /// assert_eq!(entry("database_url").value, "postgres://app:[redacted]@db/app");
    /// assert_eq!(entry("database_url").source, ConfigSource::File);
    /// assert_eq!(entry("jwt_secret").value, "[redacted]");
    /// assert_eq!(entry("access_ttl").source, ConfigSource::Env);
    /// assert_eq!(entry("refresh_ttl").source, ConfigSource::Default);
    /// ```
    pub fn describe(&self) -> Vec<ConfigEntry> {
        let defaults = Config::default().to_json_map();
        let mut entries: Vec<ConfigEntry> = self
            .to_json_map()
            .into_iter()
            .map(|(key, value): (String, Value)| {
                let source =
                    self.sources
                        .get(&key)
                        .unwrap_or(if defaults.get(&key) == Some(&value) {
                            ConfigSource::Default
                        } else {
                            ConfigSource::Host
                        });
                ConfigEntry {
                    value: redact_urls(value),
                    secret: false,
                    source,
                    key,
                }
            })
            .collect();
        for key in SECRET_KEYS {
            let (set, count) = self.secret_state(key);
            entries.push(ConfigEntry {
                key: (*key).to_string(),
                value: match (set, count) {
                    (false, _) => Value::Null,
                    (true, Some(n)) => Value::from(format!("[{n} redacted]")),
                    (true, None) => Value::from("[redacted]"),
                },
                secret: true,
                source: self.sources.get(key).unwrap_or(if set {
                    ConfigSource::Host
                } else {
                    ConfigSource::Default
                }),
            });
        }
        entries.sort_by(|a, b| a.key.cmp(&b.key));
        entries
    }

    /// Whether a secret key is set (and, for a list, how many it holds).
    fn secret_state(&self, key: &str) -> (bool, Option<usize>) {
        let one = |s: &Option<secrecy::SecretString>| (s.is_some(), None);
        match key {
            "audit_key" => one(&self.audit_key),
            "audit_previous_keys" => (
                !self.audit_previous_keys.is_empty(),
                Some(self.audit_previous_keys.len()),
            ),
            "files_s3_secret_access_key" => one(&self.files_s3_secret_access_key),
            "flow_key" => one(&self.flow_key),
            "jwt_private_key" => one(&self.jwt_private_key),
            "jwt_secret" => one(&self.jwt_secret),
            "mail_password" => one(&self.mail_password),
            "mfa_encryption_key" => one(&self.mfa_encryption_key),
            _ => (false, None),
        }
    }
}

/// `value` with every string that is a URL redacted (see [`redact_url`]),
/// at any depth (the read replicas, the OAuth providers).
fn redact_urls(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(redact_url(&s).into_owned()),
        Value::Array(items) => Value::Array(items.into_iter().map(redact_urls).collect()),
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, redact_urls(v))).collect(),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_the_keys_never_serialised() {
        let shown = Config::default().to_json_map();
        let mut hidden: Vec<&str> = super::super::env::ENV_KEYS
            .iter()
            .copied()
            .filter(|k| !shown.contains_key(*k))
            .collect();
        hidden.sort_unstable();
        assert_eq!(hidden, SECRET_KEYS);
    }

    #[test]
    fn every_secret_is_redacted() {
        let secret = "hunter2-hunter2-hunter2-hunter2-hunter2";
        let mut text = String::new();
        for key in SECRET_KEYS {
            if *key == "audit_previous_keys" {
                text.push_str(&format!("{key} = ['{secret}']\n"));
            } else {
                text.push_str(&format!("{key} = '{secret}'\n"));
            }
        }
        text.push_str(&format!("mail_url = 'smtp://me:{secret}@mail:25'\n"));
        text.push_str(&format!(
            "[[oauth_providers]]\nid = 'gh'\nkind = 'github'\nclient_id = 'x'\nclient_secret = '{secret}'\n"
        ));
        let config = Config::from_toml_str(&text).unwrap();
        let shown = serde_json::to_string(&config.describe()).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        for entry in config.describe().iter().filter(|e| e.secret) {
            assert_eq!(entry.source, ConfigSource::File, "{}", entry.key);
            assert_ne!(entry.value, Value::Null, "{}", entry.key);
        }
    }

    #[test]
    fn sources_follow_the_layers() {
        let config = Config::from_toml_str("access_ttl = 600\nrefresh_ttl = 7200")
            .unwrap()
            .with_env_from([("DOORWARD_REFRESH_TTL", "3600")])
            .unwrap()
            .with_overrides([("database_url", "sqlite::memory:".to_string())])
            .unwrap();
        let source = |key: &str| {
            config
                .describe()
                .into_iter()
                .find(|e| e.key == key)
                .unwrap()
                .source
        };
        assert_eq!(source("access_ttl"), ConfigSource::File);
        assert_eq!(source("refresh_ttl"), ConfigSource::Env);
        assert_eq!(source("database_url"), ConfigSource::Host);
        assert_eq!(source("jwt_issuer"), ConfigSource::Default);
        let in_code = Config {
            access_ttl: 60,
            ..Config::default()
        };
        let entry = in_code
            .describe()
            .into_iter()
            .find(|e| e.key == "access_ttl");
        assert_eq!(entry.unwrap().source, ConfigSource::Host);
    }
}
