//! From `files_url` to an object store.
//!
//! The URL is checked when doorward opens, so a typo is a `config_error` at
//! start-up; the store itself is built on first use, so a host that never
//! stores a file never gets a `doorward-files` folder.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use tokio::sync::OnceCell;

use crate::config::Config;
use crate::error::{Error, Result};

/// What `files_url` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Memory,
    /// A folder, as written after `file://` (relative to the working
    /// directory unless absolute).
    Local(PathBuf),
    S3 {
        bucket: String,
    },
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target> {
        if url == "memory://" || url == "memory:" {
            return Ok(Target::Memory);
        }
        if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(Error::Config(
                    "files_url file:// needs a folder (file:///srv/files)".into(),
                ));
            }
            return Ok(Target::Local(PathBuf::from(path)));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            let bucket = rest.strip_suffix('/').unwrap_or(rest);
            if bucket.is_empty() || bucket.contains(['/', '?', '#']) {
                return Err(Error::Config(
                    "files_url must name only a bucket: s3://bucket".into(),
                ));
            }
            if cfg!(not(feature = "s3")) {
                return Err(Error::Config(
                    "files_url names S3 but doorward was built without the `s3` feature".into(),
                ));
            }
            return Ok(Target::S3 {
                bucket: bucket.to_string(),
            });
        }
        Err(Error::Config(
            "files_url must be file:///dir, memory:// or s3://bucket".into(),
        ))
    }
}

/// The store, opened once on first use and shared by clones of `Doorward`.
#[derive(Debug)]
pub(crate) struct Lazy {
    target: Target,
    cell: OnceCell<Backend>,
}

impl Lazy {
    pub(crate) fn new(config: &Config) -> Result<Lazy> {
        Ok(Lazy {
            target: Target::parse(&config.resolved_files_url())?,
            cell: OnceCell::new(),
        })
    }

    pub(crate) async fn get(&self, config: &Config) -> Result<&Backend> {
        self.cell
            .get_or_try_init(|| Backend::open(&self.target, config))
            .await
    }
}

/// Which kind of store, for what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Memory,
    Local,
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    S3,
}

pub(crate) struct Backend {
    pub store: Arc<dyn ObjectStore>,
    pub kind: Kind,
    /// Presigns URLs; S3 only.
    #[cfg(feature = "s3")]
    pub signer: Option<Arc<object_store::aws::AmazonS3>>,
    /// Credentials to scrub from error messages.
    secrets: Vec<String>,
}

// The S3 client's own Debug prints its credential provider.
impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("kind", &self.kind)
            .field("store", &self.store.to_string())
            .finish_non_exhaustive()
    }
}

impl Backend {
    async fn open(target: &Target, config: &Config) -> Result<Backend> {
        match target {
            Target::Memory => Ok(Backend {
                store: Arc::new(object_store::memory::InMemory::new()),
                kind: Kind::Memory,
                #[cfg(feature = "s3")]
                signer: None,
                secrets: Vec::new(),
            }),
            Target::Local(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dir.display())))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| Error::Storage(format!("cannot open {}: {e}", dir.display())))?
                    .with_automatic_cleanup(true);
                Ok(Backend {
                    store: Arc::new(store),
                    kind: Kind::Local,
                    #[cfg(feature = "s3")]
                    signer: None,
                    secrets: Vec::new(),
                })
            }
            #[cfg(feature = "s3")]
            Target::S3 { bucket } => Self::s3(bucket, config),
            #[cfg(not(feature = "s3"))]
            Target::S3 { .. } => {
                let _ = config;
                Err(Error::Config(
                    "files_url names S3 but doorward was built without the `s3` feature".into(),
                ))
            }
        }
    }

    /// `AWS_*` variables first, then the `files_s3_*` keys over them.
    #[cfg(feature = "s3")]
    fn s3(bucket: &str, config: &Config) -> Result<Backend> {
        use object_store::aws::AmazonS3Builder;
        use secrecy::ExposeSecret as _;

        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut secrets = Vec::new();
        if let Some(region) = &config.files_s3_region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &config.files_s3_endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some(id) = &config.files_s3_access_key_id {
            builder = builder.with_access_key_id(id);
            secrets.push(id.clone());
        }
        if let Some(secret) = &config.files_s3_secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
            secrets.push(secret.expose_secret().to_string());
        }
        for name in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ] {
            if let Ok(value) = std::env::var(name) {
                secrets.push(value);
            }
        }
        if config.files_s3_allow_http {
            builder = builder.with_allow_http(true);
        }
        let s3 = builder
            .build()
            .map_err(|e| Error::Config(scrub(format!("files_url {bucket}: {e}"), &secrets)))?;
        let s3 = Arc::new(s3);
        Ok(Backend {
            store: s3.clone(),
            kind: Kind::S3,
            signer: Some(s3),
            secrets,
        })
    }

    /// An object_store error as doorward's, with no credential in it.
    pub(crate) fn error(&self, err: object_store::Error) -> Error {
        match Error::from(err) {
            Error::Storage(message) => Error::Storage(scrub(message, &self.secrets)),
            other => other,
        }
    }
}

impl Backend {
    /// [`Backend::error`] for a write, where "not found" means the bucket
    /// is missing, not the object.
    pub(crate) fn write_error(&self, err: object_store::Error) -> Error {
        match err {
            object_store::Error::NotFound { .. } => Error::Storage(scrub(
                format!("files: cannot write, the bucket or folder is missing: {err}"),
                &self.secrets,
            )),
            other => self.error(other),
        }
    }
}

fn scrub(mut message: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        message = message.replace(secret.as_str(), "[redacted]");
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(Target::parse("memory://").unwrap(), Target::Memory);
        assert_eq!(
            Target::parse("file:///srv/files").unwrap(),
            Target::Local("/srv/files".into())
        );
        assert_eq!(
            Target::parse("file://./x").unwrap(),
            Target::Local("./x".into())
        );
        for bad in ["file://", "s3://", "s3://b/prefix", "ftp://x", "", "/srv"] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
        #[cfg(feature = "s3")]
        assert_eq!(
            Target::parse("s3://bucket").unwrap(),
            Target::S3 {
                bucket: "bucket".into()
            }
        );
    }

    #[test]
    fn scrubbing() {
        assert_eq!(
            scrub(
                "key AKIA123 and s3cr3t".into(),
                &["AKIA123".into(), "s3cr3t".into()]
            ),
            "key [redacted] and [redacted]"
        );
    }
}
