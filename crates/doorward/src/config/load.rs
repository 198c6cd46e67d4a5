//! Reading a configuration: TOML text and files, serde maps, and the
//! lenient scalars and lists that let one set of keys come from TOML, JSON
//! and environment variables alike.

use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use super::{Config, ConfigSource};
use crate::error::{Error, Result};

impl Config {
    /// Parse TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let mut config: Config =
            toml::from_str(text).map_err(|e| Error::Config(e.message().to_string()))?;
        let keys: toml::Table =
            toml::from_str(text).map_err(|e| Error::Config(e.message().to_string()))?;
        for key in keys.keys() {
            config.sources.set(key, ConfigSource::File);
        }
        Ok(config)
    }

    /// Read a TOML file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml_str(&text)
    }

    /// The keys a TOML file sets, unchecked: for hosts that lay their own
    /// values over a file before [`Config::from_json`] (a Python
    /// `Doorward("doorward.toml", access_ttl=600)`).
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("doorward.toml");
    /// std::fs::write(&path, "access_ttl = 600").unwrap();
    /// let mut values = doorward::Config::file_values(&path).unwrap();
    /// values.insert("refresh_ttl".into(), 3600.into());
    /// let config = doorward::Config::from_json(values.into()).unwrap();
    /// assert_eq!((config.access_ttl, config.refresh_ttl), (600, 3600));
    /// ```
    pub fn file_values(
        path: impl AsRef<Path>,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| Error::Config(e.message().to_string()))
    }

    /// Build from any serde map (a Python dict, a Node object, JSON), with the
    /// same keys and the same strictness as the TOML file.
    pub fn from_json(value: serde_json::Value) -> Result<Self> {
        let keys: Vec<String> = value
            .as_object()
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default();
        let mut config: Config =
            serde_json::from_value(value).map_err(|e| Error::Config(e.to_string()))?;
        for key in keys {
            config.sources.set(&key, ConfigSource::Host);
        }
        Ok(config)
    }

    /// The `files_url` in force: the configured one, or the default that
    /// follows `database_url` (see [`Config::files_url`]).
    ///
    /// ```
    /// let mut config = doorward::Config::default();
    /// config.database_url = "sqlite:///var/lib/app/doorward.db".into();
    /// assert_eq!(config.resolved_files_url(), "file:///var/lib/app/doorward-files");
    /// config.database_url = "sqlite::memory:".into();
    /// assert_eq!(config.resolved_files_url(), "memory://");
    /// config.files_url = Some("s3://uploads".into());
    /// assert_eq!(config.resolved_files_url(), "s3://uploads");
    /// ```
    pub fn resolved_files_url(&self) -> String {
        if let Some(url) = &self.files_url {
            return url.clone();
        }
        let db = self.database_url.as_str();
        if db == "memory://"
            || db == "memory:"
            || db.contains(":memory:")
            || db.contains("mode=memory")
        {
            return "memory://".into();
        }
        if let Some(rest) = db.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            let dir = Path::new(path).parent().map(Path::to_path_buf);
            return match dir {
                Some(dir) if !dir.as_os_str().is_empty() => {
                    format!("file://{}", dir.join("doorward-files").display())
                }
                _ => "file://./doorward-files".into(),
            };
        }
        "file://./doorward-files".into()
    }
}

/// Accepts a value in its own type or as text (`"900"`, `"true"`), so the
/// same config deserialises from TOML, JSON and environment variables.
pub(super) fn flexible<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
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

/// Accepts a list, or text with comma-separated items (from the environment).
pub(super) fn flexible_list<'de, D>(deserializer: D) -> std::result::Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List {
        Items(Vec<String>),
        Text(String),
    }
    Ok(match List::deserialize(deserializer)? {
        List::Items(items) => items,
        List::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// Like [`flexible_list`], for secrets.
pub(super) fn flexible_secrets<'de, D>(
    deserializer: D,
) -> std::result::Result<Vec<SecretString>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(flexible_list(deserializer)?
        .into_iter()
        .map(SecretString::from)
        .collect())
}
