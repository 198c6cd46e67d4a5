//! # doorward
//!
//! Embeddable identity and access: registration, argon2id passwords, JWT
//! access tokens with rotating refresh tokens, sessions and role-based access
//! control, in process, with no server. The same core serves the Python,
//! Node.js and Kotlin/Swift bindings, so every language gets one behaviour.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use doorward::{Config, Doorward};
//!
//! let mut config = Config::default();
//! config.database_url = "sqlite::memory:".into();
//! config.jwt_secret = Some("change-me-to-32-random-bytes-or-more".into());
//! let dw = Doorward::open(config).await?;
//!
//! let reg = dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
//! let principal = dw.auth().verify_token(&reg.tokens.access_token).await?;
//! assert_eq!(principal.username, "john");
//! assert!(dw.auth().can(&principal.user_id, "users:read").await?);
//! # Ok::<(), doorward::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## Services
//!
//! | accessor | what it holds |
//! |---|---|
//! | [`Doorward::auth`] | `register_user`, `login`, `verify_token`, `refresh_token`, `logout`, `can`, `require`, `jwks` |
//! | [`Doorward::users`] | get / list / update / change password / disable / enable / delete |
//! | [`Doorward::roles`] | create / delete / grant / revoke roles |
//! | [`Doorward::sessions`] | list / revoke / revoke all of a user's sessions; `list_all` across accounts |
//! | [`Doorward::limits`] | `limit(key, quota)`: GCRA rate limits for the host's own endpoints |
//! | [`Doorward::cache`] | `memoize`, `get` / `set` / `delete`, `stats`, `flush` |
//! | [`Doorward::events`] | `subscribe`, `list`, `flush`, `deliveries`, `dead`, `replay`: domain events from the outbox |
//! | [`Doorward::webhooks`] | `add`, `list`, `remove`, `test`: Standard Webhooks endpoints |
//! | [`Doorward::audit`] | `list`, `export` (JSON Lines), `verify` (hash chain) |
//! | [`Doorward::stats`] | `dashboard`: accounts per day, logins per hour, sessions, lockouts, outbox and deliveries |
//! | [`Doorward::mfa`] | `start_totp`, `confirm_totp`, `disable_totp`, `regenerate_recovery_codes`, `status`: second factors |
//! | [`Doorward::passkeys`] | `start_registration`, `finish_registration`, `start_authentication`, `finish_authentication`, `list`, `rename`, `remove`: WebAuthn |
//! | `Doorward::oauth` | `providers`, `authorization_url`, `complete`, `link`, `unlink`, `provider_tokens`: sign-in with OAuth 2.0 / OpenID Connect providers (feature `oauth`; see `oauth`) |
//! | [`Doorward::mail`] | `send`, `set_mailer`, `sent`: the welcome mail on registration (SMTP with feature `mail`) |
//! | `Doorward::files` | `put`, `get`, `head`, `delete`, `list`, `presign_get` / `presign_put` (feature `files`; see [`files`]) |
//! | [`device::DeviceSession`] | an app's signed-in user, tokens in the host's secure storage |
//! | [`token::TokenVerifier`] | offline verification from a JWKS document, `can` from role claims |
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `sqlite` | yes | the embedded SQLite store (`sqlite://path`, `sqlite::memory:`) |
//! | `postgres` | no | the PostgreSQL store (`postgres://…`), with read replicas (`database_read_urls`) |
//! | `webhooks` | yes | delivery of events to signed webhooks over HTTP(S) (reqwest) |
//! | `redis` | no | `redis_url`: sessions in Redis, the shared L2 cache with pub/sub invalidation, shared rate limits |
//! | `files` | yes | `Doorward::files()`: objects in a local folder (`file:///dir`, beside the SQLite file by default) or in memory |
//! | `oauth` | yes | `oauth_providers`: sign-in with OpenID Connect and OAuth 2.0 providers (openidconnect, oauth2) |
//! | `s3` | no | `files_url = "s3://bucket"`: S3 and S3-compatible servers, presigned URLs |
//!
//! Without default features the in-memory store (`memory://`) still works;
//! the files service is then not built, and setting `files_url` is a
//! `config_error`.
//!
//! Every paged listing takes a cursor and an optional limit with one
//! default and one rule ([`PageRequest`]). Errors carry stable codes
//! ([`ErrorCode`]); see `docs/errors.md`.

#![forbid(unsafe_code)]

pub mod auth;
pub mod cache;
pub mod config;
mod core;
pub mod device;
pub mod error;
pub mod events;
#[cfg(feature = "files")]
pub mod files;
pub mod flows;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod mail;
pub mod mfa;
#[cfg(feature = "oauth")]
pub mod oauth;
pub mod page;
pub mod passkeys;
pub mod password;
pub mod ratelimit;
pub mod rbac;
#[cfg(feature = "redis")]
mod redis;
mod sealing;
pub mod sessions;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod token;
pub mod users;

use std::sync::Arc;

pub use auth::{Auth, ClientInfo, LoginResult, MfaChallenge, Principal, Registration, TokenPair};
pub use cache::{CacheService, CacheStats, RedisUsage};
pub use config::Config;
pub use error::{Error, ErrorCode, Result};
pub use events::{Audit, Event, EventType, Events, Subscription, Webhook, Webhooks};
#[cfg(feature = "files")]
pub use files::{FileInfo, FilePage, Files};
pub use flows::{FlowStarted, Purpose};
pub use mail::Mail;
pub use mfa::{Mfa, MfaStatus, RecoveryCodes, TotpEnrolment};
#[cfg(feature = "oauth")]
pub use oauth::{AuthorizationStart, OAuth, OAuthCompletion, ProviderInfo, ProviderTokens};
pub use page::{Page, PageRequest};
pub use passkeys::{PasskeyInfo, Passkeys};
pub use ratelimit::{Decision, Limits, Quota};
pub use rbac::{Role, Roles};
pub use sessions::{Session, Sessions};
pub use stats::{Dashboard, Stats};
pub use users::{
    Identity, ImportFailure, ImportOptions, ImportProgress, ImportReport, ImportedUser, User,
    UserRow, UserUpdate, Users,
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// An open doorward: a store, keys and the services over them.
///
/// Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Doorward {
    auth: Auth,
    users: Users,
    roles: Roles,
    sessions: Sessions,
    limits: Limits,
    cache: CacheService,
    events: Events,
    webhooks: Webhooks,
    audit: Audit,
    stats: Stats,
    mail: Mail,
    mfa: Mfa,
    passkeys: Passkeys,
    #[cfg(feature = "oauth")]
    oauth: OAuth,
    #[cfg(feature = "files")]
    files: Files,
}

impl Doorward {
    /// Open the store the configuration names (applying migrations and
    /// seeding the built-in roles) and load the keys.
    ///
    /// Without key material (`jwt_secret`, or `jwt_private_key` and
    /// `jwt_public_key`) users and roles can be managed, but operations that
    /// issue or verify tokens answer `config_error`.
    pub async fn open(config: Config) -> Result<Self> {
        let core = Arc::new(core::Core::new(config).await?);
        if core.config.events_dispatch {
            events::dispatch::spawn(&core);
        }
        mail::start(&core).await?;
        Ok(Doorward {
            mail: Mail { core: core.clone() },
            mfa: Mfa { core: core.clone() },
            passkeys: Passkeys { core: core.clone() },
            #[cfg(feature = "oauth")]
            oauth: OAuth { core: core.clone() },
            events: Events { core: core.clone() },
            webhooks: Webhooks { core: core.clone() },
            audit: Audit { core: core.clone() },
            stats: Stats { core: core.clone() },
            auth: Auth { core: core.clone() },
            users: Users { core: core.clone() },
            roles: Roles { core: core.clone() },
            sessions: Sessions { core: core.clone() },
            limits: Limits { core: core.clone() },
            #[cfg(feature = "files")]
            files: Files { core: core.clone() },
            cache: CacheService { core },
        })
    }

    /// Everything this instance has counted and timed, and the current
    /// outbox backlog and active sessions, as Prometheus text: what a host
    /// serves at `/metrics`.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
    /// let text = dw.metrics_text().await?;
    /// assert!(text.contains("doorward_registrations_total 1"));
    /// assert!(text.contains("doorward_active_sessions 1"));
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn metrics_text(&self) -> Result<String> {
        telemetry::render(&self.auth.core).await
    }

    /// Outgoing mail and the welcome mail.
    pub fn mail(&self) -> &Mail {
        &self.mail
    }

    /// Second factors: TOTP authenticators and recovery codes.
    pub fn mfa(&self) -> &Mfa {
        &self.mfa
    }

    /// Passkeys (WebAuthn): registration, sign-in, and management.
    pub fn passkeys(&self) -> &Passkeys {
        &self.passkeys
    }

    /// Sign-in with OAuth 2.0 / OpenID Connect providers, and linking.
    #[cfg(feature = "oauth")]
    pub fn oauth(&self) -> &OAuth {
        &self.oauth
    }

    /// Registration, login, tokens and permission checks.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// Accounts.
    pub fn users(&self) -> &Users {
        &self.users
    }

    /// Roles and grants.
    pub fn roles(&self) -> &Roles {
        &self.roles
    }

    /// Sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Rate limits for the host's own endpoints.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The cache: statistics, flushing, and memoizing for host code.
    pub fn cache(&self) -> &CacheService {
        &self.cache
    }

    /// Domain events: subscribe, list the outbox, webhook dead letters.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// Webhook endpoints that receive events, signed.
    pub fn webhooks(&self) -> &Webhooks {
        &self.webhooks
    }

    /// The hash-chained audit log.
    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    /// The numbers of an administrator's dashboard.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Files: objects in the store `files_url` names (a local folder by
    /// default, memory, or S3).
    #[cfg(feature = "files")]
    pub fn files(&self) -> &Files {
        &self.files
    }

    /// The configuration this instance runs with, every key with its
    /// source and every secret redacted (see [`Config::describe`]): what
    /// the admin console's Configuration page shows.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let entries = dw.describe_config();
    /// let secret = entries.iter().find(|e| e.key == "jwt_secret").unwrap();
    /// assert_eq!(secret.value, "[redacted]");
    /// # });
    /// ```
    pub fn describe_config(&self) -> Vec<config::ConfigEntry> {
        self.auth.core.config.describe()
    }

    /// The store backend in use (`sqlite`, `postgres`, `memory`).
    pub fn backend(&self) -> &'static str {
        self.auth.core.store.backend()
    }

    /// The argon2 computations run so far (see [`password::Hasher::operations`]).
    pub fn hash_operations(&self) -> u64 {
        self.auth.core.hasher.operations()
    }

    /// The account flows' keyed hashes and seals computed so far: asking
    /// for a mail for an address with an account and for one without does
    /// the same number, which the enumeration tests check.
    pub fn flow_operations(&self) -> u64 {
        self.auth
            .core
            .flow_key
            .as_ref()
            .map_or(0, |k| k.operations())
    }

    /// An in-memory instance with cheap hashing, for the examples in these docs.
    #[doc(hidden)]
    pub async fn open_in_memory_for_docs() -> Self {
        let config = Config {
            database_url: "memory://".into(),
            jwt_secret: Some("documentation-secret-of-32-bytes!!".into()),
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            mail_url: Some("memory://".into()),
            // The examples ask for their account mails themselves.
            verify_email_on_register: false,
            ..Config::default()
        };
        Doorward::open(config).await.expect("memory store opens")
    }
}
