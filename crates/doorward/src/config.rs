//! One configuration for every host.
//!
//! The same keys arrive from a TOML file, from `DOORWARD_<KEY>` environment
//! variables, from a Python dict or a Node object: bindings pass them through
//! serde untouched, so a backend or option the core gains reaches every
//! language without binding changes. Unknown keys are an error, because a
//! misspelt `jwt_issuer` silently ignored is a security bug.

use std::path::Path;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

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
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where users, sessions and roles live: `sqlite://path`,
    /// `sqlite::memory:`, `postgres://…` or `memory://`.
    pub database_url: String,
    /// Read replicas of a PostgreSQL `database_url`. Plain reads (listing
    /// and looking up users, roles and sessions) go to them in turn; writes
    /// and reads that must see a write just made (login, refresh, token
    /// checks, permission resolution) stay on the primary. A comma-separated
    /// list in the environment.
    #[serde(deserialize_with = "flexible_list")]
    pub database_read_urls: Vec<String>,
    /// Upper bound of pooled database connections (per URL).
    #[serde(deserialize_with = "flexible")]
    pub database_max_connections: u32,
    /// Connections each pool keeps open while idle.
    #[serde(deserialize_with = "flexible")]
    pub database_min_connections: u32,
    /// Seconds a call waits for a free pooled connection before failing with
    /// `storage_error`.
    #[serde(deserialize_with = "flexible")]
    pub database_acquire_timeout: u64,

    /// Redis for sessions, the shared cache, cross-instance invalidation and
    /// shared rate limits (`redis://host:port/db`, `rediss://` for TLS).
    /// Without it everything stays in process.
    pub redis_url: Option<String>,
    /// Prefix of every key and channel doorward uses in Redis, so several
    /// applications can share one server. Instances that must see each
    /// other's changes need the same prefix.
    pub redis_prefix: String,
    /// Milliseconds before a Redis connection attempt or command counts as
    /// failed (and the fault policy applies).
    #[serde(deserialize_with = "flexible")]
    pub redis_timeout_ms: u64,
    /// What `verify_token` does when Redis cannot answer: `fail_closed`
    /// (default: `storage_error`, nobody gets in unchecked) or `database`
    /// (check the session in the database instead).
    pub redis_session_policy: RedisSessionPolicy,

    /// Seconds a cached user, role or permission set may live in the
    /// in-process (L1) and Redis (L2) caches: the staleness bound should an
    /// invalidation message be lost.
    #[serde(deserialize_with = "flexible")]
    pub cache_ttl: u64,
    /// Most entries the in-process cache holds.
    #[serde(deserialize_with = "flexible")]
    pub cache_max_entries: u64,
    /// Seconds a live session may be remembered in process by
    /// `verify_token`. Off (0) by default, so a revocation anywhere is seen at
    /// once; when on, a revocation elsewhere reaches this instance through
    /// Redis pub/sub, or at the latest after this many seconds.
    #[serde(deserialize_with = "flexible")]
    pub session_cache_ttl: u64,

    /// Login attempts per account (`"10/5m"`: a burst of 10, then one every
    /// 30 s), or `"off"`. Counted per login name, so unknown names are
    /// throttled too.
    pub rate_limit_login_account: String,
    /// Login attempts per client address, or `"off"`.
    pub rate_limit_login_ip: String,
    /// Registrations per client address, or `"off"`.
    pub rate_limit_register_ip: String,
    /// Failed logins in a row after which an account is locked; 0 turns
    /// lockout off.
    #[serde(deserialize_with = "flexible")]
    pub lockout_threshold: u32,
    /// Seconds of the first lock; each further failure doubles it.
    #[serde(deserialize_with = "flexible")]
    pub lockout_base_delay: u64,
    /// Longest lock in seconds.
    #[serde(deserialize_with = "flexible")]
    pub lockout_max_delay: u64,

    /// HS256 shared secret (at least 32 bytes).
    #[serde(skip_serializing)]
    pub jwt_secret: Option<SecretString>,
    /// `HS256` (default), `EdDSA`, `RS256` or `ES256`.
    pub jwt_algorithm: String,
    /// PEM text, or a path to a PEM file, of the signing key for asymmetric algorithms.
    #[serde(skip_serializing)]
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
    /// Seconds after its rotation during which a refresh token presented
    /// again is a retry, answered with the same successor token, instead
    /// of reuse. Off (0) by default: see SECURITY.md.
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

    /// Run the event dispatcher (audit log, webhooks, subscribers) in this
    /// instance. Off for one-shot tools such as the CLI, whose events are
    /// delivered by the next instance that runs it.
    #[serde(deserialize_with = "flexible")]
    pub events_dispatch: bool,
    /// How often the dispatcher looks for events committed by other
    /// instances, in milliseconds (this instance's own wake it at once).
    #[serde(deserialize_with = "flexible")]
    pub events_poll_interval_ms: u64,
    /// How long an instance's hold on a consumer or a delivery lasts, in
    /// seconds: after a crash, another instance takes over after this.
    #[serde(deserialize_with = "flexible")]
    pub events_lease_secs: u64,
    /// Attempts at a webhook delivery (or a subscriber call) before it is
    /// dead-lettered.
    #[serde(deserialize_with = "flexible")]
    pub events_max_attempts: u32,
    /// The first retry's delay in milliseconds; each further one doubles.
    #[serde(deserialize_with = "flexible")]
    pub events_retry_base_ms: u64,
    /// The longest delay between retries, in seconds.
    #[serde(deserialize_with = "flexible")]
    pub events_retry_max_secs: u64,
    /// How long a host subscriber's handler may take with one event, in
    /// milliseconds: past it the call counts as failed and is retried, so
    /// a stuck handler cannot stall delivery to everyone else.
    #[serde(deserialize_with = "flexible")]
    pub events_handler_timeout_ms: u64,
    /// How long the outbox keeps an event once every consumer has passed
    /// it, in seconds (default 7 days; 0 keeps every event). The audit log,
    /// not the outbox, is the lasting record. A durable subscriber that has
    /// not run anywhere for this long no longer holds events back.
    #[serde(deserialize_with = "flexible")]
    pub events_retention_secs: u64,
    /// How long a webhook receiver has to answer, in milliseconds.
    #[serde(deserialize_with = "flexible")]
    pub webhook_timeout_ms: u64,
    /// Let webhooks point at loopback, private, link-local and other
    /// non-public addresses, for a receiver on a developer's machine. Off
    /// by default: a webhook URL is input, and would otherwise make the
    /// server send requests into its own network (cloud metadata, admin
    /// ports), with `webhooks().test` reporting what answers.
    #[serde(deserialize_with = "flexible")]
    pub webhook_allow_private: bool,
    /// Where [`crate::Doorward::files`] keeps objects: `file:///dir` (or a
    /// relative `file://dir`), `memory://` or `s3://bucket`. Unset, it
    /// follows the database so the embedded default stays one folder: a
    /// `doorward-files` folder beside a SQLite file, `memory://` beside an
    /// in-memory database, and `file://./doorward-files` (the working
    /// directory) for PostgreSQL, whose data lives elsewhere anyway; see
    /// [`Config::resolved_files_url`].
    pub files_url: Option<String>,
    /// Largest object `files().put` accepts, in bytes (default 100 MiB).
    /// Checked before anything is written, and while a streamed upload
    /// runs.
    #[serde(deserialize_with = "flexible")]
    pub files_max_bytes: u64,
    /// S3 region; `AWS_REGION` / `AWS_DEFAULT_REGION` when unset.
    pub files_s3_region: Option<String>,
    /// S3 endpoint for S3-compatible servers (MinIO, moto, R2, ...);
    /// `AWS_ENDPOINT_URL` when unset, AWS itself when neither is.
    pub files_s3_endpoint: Option<String>,
    /// S3 access key id; `AWS_ACCESS_KEY_ID` when unset.
    pub files_s3_access_key_id: Option<String>,
    /// S3 secret access key; `AWS_SECRET_ACCESS_KEY` when unset.
    #[serde(skip_serializing)]
    pub files_s3_secret_access_key: Option<SecretString>,
    /// Allow a plain-HTTP S3 endpoint (a local S3-compatible server). Off by
    /// default: credentials and objects would cross the network unencrypted.
    #[serde(deserialize_with = "flexible")]
    pub files_s3_allow_http: bool,

    /// How mail leaves: `smtp://host:port` (plain, a local relay),
    /// `smtp://host?tls=required` (STARTTLS), `smtps://host` (TLS) or
    /// `memory://` (kept in process, see [`crate::mail::Mail::sent`]).
    /// Unset, no mail is sent. Credentials go in `mail_username` and
    /// `mail_password`, never in the URL.
    pub mail_url: Option<String>,
    /// The sender of doorward's mails.
    pub mail_from: String,
    /// SMTP user name.
    pub mail_username: Option<String>,
    /// SMTP password.
    #[serde(skip_serializing)]
    pub mail_password: Option<SecretString>,
    /// How long an SMTP exchange may take, in milliseconds.
    #[serde(deserialize_with = "flexible")]
    pub mail_timeout_ms: u64,
    /// Send a welcome mail on registration when a mailer is set. It goes
    /// through the outbox: a mail server outage delays it and never fails
    /// the registration.
    #[serde(deserialize_with = "flexible")]
    pub welcome_mail: bool,
    /// The welcome mail's subject; `{username}`, `{email}` and `{user_id}`
    /// are filled in.
    pub welcome_subject: String,
    /// The welcome mail's plain-text body, with the same placeholders.
    pub welcome_text: String,

    /// Export the tracing spans to this OTLP/HTTP collector (its base URL,
    /// e.g. `http://127.0.0.1:4318`), installing a process-wide subscriber
    /// at `open`. Needs the `otel` feature.
    pub otel_endpoint: Option<String>,
    /// The `service.name` the spans are exported under.
    pub otel_service_name: String,
}

/// What session checks do while Redis is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedisSessionPolicy {
    /// Refuse with `storage_error`: no token is accepted unchecked.
    #[default]
    FailClosed,
    /// Check the session in the database, as without Redis.
    Database,
}

/// A key that still verifies tokens after it stopped signing them.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VerificationKeyConfig {
    /// The `kid` its tokens carry.
    pub kid: String,
    /// Its algorithm (`HS256`, `EdDSA`, `RS256`, `ES256`).
    pub algorithm: String,
    /// The HS256 secret, for `HS256`.
    #[serde(skip_serializing)]
    pub secret: Option<SecretString>,
    /// PEM text or path of the public key, for the others.
    pub public_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://doorward.db".into(),
            database_read_urls: Vec::new(),
            database_max_connections: 10,
            database_min_connections: 0,
            database_acquire_timeout: 10,
            redis_url: None,
            redis_prefix: "doorward:".into(),
            redis_timeout_ms: 500,
            redis_session_policy: RedisSessionPolicy::FailClosed,
            cache_ttl: 60,
            cache_max_entries: 100_000,
            session_cache_ttl: 0,
            rate_limit_login_account: "10/5m".into(),
            rate_limit_login_ip: "60/1m".into(),
            rate_limit_register_ip: "20/1h".into(),
            lockout_threshold: 10,
            lockout_base_delay: 60,
            lockout_max_delay: 3600,
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
            events_dispatch: true,
            events_poll_interval_ms: 500,
            events_lease_secs: 30,
            events_max_attempts: 8,
            events_retry_base_ms: 1000,
            events_retry_max_secs: 3600,
            events_handler_timeout_ms: 30_000,
            events_retention_secs: 7 * 24 * 3600,
            webhook_timeout_ms: 10_000,
            webhook_allow_private: false,
            files_url: None,
            files_max_bytes: 100 * 1024 * 1024,
            files_s3_region: None,
            files_s3_endpoint: None,
            files_s3_access_key_id: None,
            files_s3_secret_access_key: None,
            files_s3_allow_http: false,
            mail_url: None,
            mail_from: "doorward <noreply@localhost>".into(),
            mail_username: None,
            mail_password: None,
            mail_timeout_ms: 10_000,
            welcome_mail: true,
            otel_endpoint: None,
            otel_service_name: "doorward".into(),
            welcome_subject: "Welcome, {username}".into(),
            welcome_text: "Hello {username},\n\nyour account is ready: sign in with {email} or your user name.\n".into(),
        }
    }
}

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
    "otel_endpoint",
    "otel_service_name",
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

/// Accepts a list, or text with comma-separated items (from the environment).
fn flexible_list<'de, D>(deserializer: D) -> std::result::Result<Vec<String>, D::Error>
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
        let config = Config::from_toml_str("files_s3_secret_access_key = 'hunter2-s3'").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
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
    fn files_url_follows_the_database() {
        let at = |db: &str| {
            Config {
                database_url: db.into(),
                ..Config::default()
            }
            .resolved_files_url()
        };
        assert_eq!(at("sqlite://doorward.db"), "file://./doorward-files");
        assert_eq!(
            at("sqlite://data/dw.db?mode=rwc"),
            "file://data/doorward-files"
        );
        assert_eq!(at("sqlite:///srv/dw.db"), "file:///srv/doorward-files");
        assert_eq!(at("sqlite::memory:"), "memory://");
        assert_eq!(at("memory://"), "memory://");
        assert_eq!(at("postgres://db/app"), "file://./doorward-files");
    }
}
