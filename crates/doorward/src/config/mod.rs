//! One configuration for every host.
//!
//! The same keys arrive from a TOML file, from `DOORWARD_<KEY>` environment
//! variables, from a Python dict or a Node object: bindings pass them through
//! serde untouched, so a backend or option the core gains reaches every
//! language without binding changes. Unknown keys are an error, because a
//! misspelt `jwt_issuer` silently ignored is a security bug.

mod defaults;
mod env;
mod load;
mod providers;
mod redact;
mod sources;
mod validate;

pub use env::{NON_CONFIG_ENV, UnknownEnvVar, unknown_env_vars};
pub use providers::{OAuthProviderConfig, ProviderKind};
pub use redact::redact_url;
pub use sources::{ConfigEntry, ConfigSource, ConfigSources};
pub use validate::{MAX_DURATION_SECS, MAX_WAIT_SECS};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use load::{flexible, flexible_list, flexible_secrets};

/// The library's configuration.
///
/// Every field has a default, so `Config::default()` plus a JWT secret opens
/// an embedded SQLite database `doorward.db` in the working directory. Build
/// one in code with struct-update syntax
/// (`Config { access_ttl: 600, ..Config::default() }`): keys added later get
/// defaults, so that stays source-compatible.
///
/// Durations are bounded at [`crate::Doorward::open`]: lifetimes, delays and
/// retentions at [`MAX_DURATION_SECS`] (ten years), timeouts and intervals at
/// [`MAX_WAIT_SECS`] (a day); past that `open` answers `config_error`.
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
///
/// `Debug` shows every key but the secrets, and URL-valued keys without the
/// password they may hold (see [`redact_url`]).
#[derive(Clone, Deserialize, Serialize)]
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
    /// shared rate limits (`redis://host:port/db`), or a Redis Cluster by
    /// some of its nodes (`redis+cluster://host:port,host:port`).
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
    /// On a Redis Cluster: how many replicas of a key's primary must hold a
    /// session revocation before it counts as written (Redis `WAIT`), so a
    /// failover cannot bring back a revoked session. One that reaches
    /// fewer in `redis_timeout_ms` is kept and written again. 0 turns this
    /// off (a cluster without replicas); a single server ignores it.
    #[serde(deserialize_with = "flexible")]
    pub redis_wait_replicas: u32,

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
    /// How many leading bits of an IPv6 client address the per-address
    /// limits count as one client (1 to 128, default 64: the /64 a client
    /// is usually given whole, and can rotate through). IPv4 addresses, and
    /// IPv4-mapped IPv6 ones, count per address; see
    /// [`crate::ratelimit::client_key`].
    #[serde(deserialize_with = "flexible")]
    pub rate_limit_ipv6_prefix: u8,
    /// Failed logins in a row from one client address after which that
    /// address is locked out of the account; 0 turns it off.
    #[serde(deserialize_with = "flexible")]
    pub lockout_threshold: u32,
    /// Failed logins in a row, from anywhere, after which the whole account
    /// is locked, except for clients that have logged in to it before; 0
    /// turns it off. Far above `lockout_threshold`, so one address cannot
    /// lock the owner out; at most 10,000.
    #[serde(deserialize_with = "flexible")]
    pub lockout_account_threshold: u32,
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
    /// Key of the audit log's hash chain (at least 32 bytes), kept out of
    /// the database: with it each row is an HMAC, which someone who can
    /// only write to the database cannot recompute. Verifying needs it.
    #[serde(skip_serializing)]
    pub audit_key: Option<SecretString>,
    /// Audit keys used before `audit_key`, newest last, so rows written
    /// under them still verify after a change of key (a comma-separated
    /// list in the environment). Only verification uses them.
    #[serde(skip_serializing, deserialize_with = "flexible_secrets")]
    pub audit_previous_keys: Vec<SecretString>,
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

    /// The public base URL of the host's pages (`https://app.example.com`):
    /// the links in account mails are this plus the purpose's `*_path`.
    pub app_url: String,
    /// Key of the account flows' one-time secrets (at least 32 bytes),
    /// kept out of the database: secrets are stored as HMAC-SHA-256 under
    /// it, and sealed under a key derived from it until their mail is out.
    /// Unset, it is derived from `jwt_secret` (then changing that secret
    /// voids the links in flight); with neither, the flows answer
    /// `config_error`.
    #[serde(skip_serializing)]
    pub flow_key: Option<SecretString>,
    /// Digits of the code each account mail carries beside its link (6 to 8).
    #[serde(deserialize_with = "flexible")]
    pub flow_code_digits: u32,
    /// Seconds before the same mail may be asked for again for one address
    /// (`rate_limited`, with a retry-after, until then).
    #[serde(deserialize_with = "flexible")]
    pub flow_resend_cooldown: u64,
    /// Account mails asked for per address (`"5/1h"`), or `"off"`; counted
    /// alike whether the address has an account or not.
    pub rate_limit_flow_address: String,
    /// Account mails asked for per client address, or `"off"`.
    pub rate_limit_flow_ip: String,
    /// Send the verification mail on registration, when a mailer is set
    /// (`mail_url`, or one handed to `mail().set_mailer`).
    #[serde(deserialize_with = "flexible")]
    pub verify_email_on_register: bool,
    /// Refuse logins of accounts whose address is not verified
    /// (`email_not_verified`, told only to the right password).
    #[serde(deserialize_with = "flexible")]
    pub require_verified_email_for_login: bool,
    /// Let a sign-in by email create the account of an address that has
    /// none. Off: such a request sends nothing (or the `unknown_address`
    /// mail).
    #[serde(deserialize_with = "flexible")]
    pub sign_in_creates_users: bool,
    /// Tell an address with no account that someone asked for a reset or a
    /// sign-in with it (the `unknown_address_*` mail). Off: nothing is sent.
    #[serde(deserialize_with = "flexible")]
    pub unknown_address_mail: bool,
    /// Seconds a verification link and code work.
    #[serde(deserialize_with = "flexible")]
    pub verify_email_ttl: u64,
    /// The host's page for verification links, under `app_url`.
    pub verify_email_path: String,
    /// The verification mail's subject.
    pub verify_email_subject: String,
    /// The verification mail's body: `{link}`, `{code}`, `{username}` and
    /// `{expires_in}` are filled in.
    pub verify_email_text: String,
    /// Seconds a password reset link and code work.
    #[serde(deserialize_with = "flexible")]
    pub reset_password_ttl: u64,
    /// The host's page for password reset links, under `app_url`.
    pub reset_password_path: String,
    /// The password reset mail's subject.
    pub reset_password_subject: String,
    /// The password reset mail's body: `{link}`, `{code}`, `{username}` and
    /// `{expires_in}` are filled in.
    pub reset_password_text: String,
    /// Seconds a sign-in link and code work.
    #[serde(deserialize_with = "flexible")]
    pub sign_in_ttl: u64,
    /// The host's page for sign-in links, under `app_url`.
    pub sign_in_path: String,
    /// The sign-in mail's subject.
    pub sign_in_subject: String,
    /// The sign-in mail's body: `{link}`, `{code}`, `{username}` and
    /// `{expires_in}` are filled in.
    pub sign_in_text: String,
    /// Seconds a email change link and code work.
    #[serde(deserialize_with = "flexible")]
    pub change_email_ttl: u64,
    /// The host's page for email change links, under `app_url`.
    pub change_email_path: String,
    /// The email change mail's subject.
    pub change_email_subject: String,
    /// The email change mail's body: `{link}`, `{code}`, `{username}` and
    /// `{expires_in}` are filled in.
    pub change_email_text: String,
    /// Subject of the notice sent to the old address of an email change.
    pub change_email_notice_subject: String,
    /// Body of that notice (`{username}`, `{expires_in}`).
    pub change_email_notice_text: String,
    /// Subject of the mail to an address with no account (see
    /// `unknown_address_mail`).
    pub unknown_address_subject: String,
    /// Body of that mail (`{app_url}`).
    pub unknown_address_text: String,

    /// Key of the second factors (at least 32 bytes), kept out of the
    /// database: TOTP secrets are sealed under it and recovery codes
    /// stored as HMAC-SHA-256 under it. Unset, it is derived from
    /// `flow_key`, else from `jwt_secret` (then changing that key makes
    /// every enrolled authenticator app stop working). Under its own
    /// label it also seals OAuth requests in flight and kept provider
    /// tokens.
    #[serde(skip_serializing)]
    pub mfa_encryption_key: Option<SecretString>,
    /// The name authenticator apps show beside the account (the
    /// `issuer` of the `otpauth://` URI).
    pub mfa_issuer: String,
    /// Roles whose holders must have a second factor: their logins answer
    /// with an enrolment challenge until they have one.
    #[serde(deserialize_with = "flexible_list")]
    pub mfa_required_for_roles: Vec<String>,
    /// Seconds a login whose password was right waits for its second
    /// factor (`complete_mfa`).
    #[serde(deserialize_with = "flexible")]
    pub mfa_login_ttl: u64,
    /// Seconds an authentication stays fresh enough to remove a second
    /// factor or replace the recovery codes (older: `step_up_required`).
    #[serde(deserialize_with = "flexible")]
    pub fresh_auth_max_age: u64,
    /// The WebAuthn relying party id: the domain passkeys are bound to
    /// (`example.com` serves `app.example.com` too). Unset, the host of
    /// `app_url`.
    pub webauthn_rp_id: Option<String>,
    /// The name browsers show when creating a passkey.
    pub webauthn_rp_name: String,
    /// Origins allowed to use passkeys (`https://app.example.com`); unset,
    /// the origin of `app_url`.
    #[serde(deserialize_with = "flexible_list")]
    pub webauthn_origins: Vec<String>,

    /// Providers users can sign in with (OAuth 2.0 / OpenID Connect), each
    /// with an id (see [`OAuthProviderConfig`]): a list of tables in TOML,
    /// of dicts or objects from the bindings (not from the environment).
    pub oauth_providers: Vec<OAuthProviderConfig>,

    /// Export the tracing spans to this OTLP/HTTP collector (its base URL,
    /// e.g. `http://127.0.0.1:4318`), installing a process-wide subscriber
    /// at `open`. Needs the `otel` feature.
    pub otel_endpoint: Option<String>,
    /// The `service.name` the spans are exported under.
    pub otel_service_name: String,

    /// Where each key's value came from (see [`Config::describe`]):
    /// recorded by the loaders, never read from a file or serialised.
    #[serde(skip)]
    pub sources: ConfigSources,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let config =
            Config::from_toml_str("jwt_secret = 'hunter2-hunter2-hunter2-hunter2-xx'").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        let config = Config::from_toml_str("files_s3_secret_access_key = 'hunter2-s3'").unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
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
