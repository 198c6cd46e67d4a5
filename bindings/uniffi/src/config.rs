//! The configuration as a record: every key of the README's table, each
//! optional (absent means the core's default). Passed to the core as the
//! same JSON object the other languages give it, so the core's checks apply.

use serde_json::{Map, Value};

/// Writes a record of the configuration's list items and its JSON table
/// from one list of keys: the required ones, then (after `;`) the optional
/// ones, left out of the table when absent so the core's defaults apply.
macro_rules! table_record {
    (
        $(#[$meta:meta])*
        $record:ident {
            $($(#[$rdoc:meta])* $required:ident: $rty:ty,)*
            ;
            $($(#[$doc:meta])* $name:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $record {
            $(
                $(#[$rdoc])*
                pub $required: $rty,
            )*
            $(
                $(#[$doc])*
                #[uniffi(default = None)]
                pub $name: Option<$ty>,
            )*
        }

        impl $record {
            fn to_json(&self) -> Value {
                let mut map = Map::new();
                $(map.insert(stringify!($required).into(), Value::from(self.$required.clone()));)*
                $(
                    if let Some(v) = &self.$name {
                        map.insert(stringify!($name).into(), Value::from(v.clone()));
                    }
                )*
                Value::Object(map)
            }
        }
    };
}

table_record! {
    /// A key that still verifies tokens after it stopped signing them.
    #[derive(Debug, Clone, uniffi::Record)]
    PreviousKey {
        kid: String,
        /// `HS256`, `EdDSA`, `RS256` or `ES256`.
        algorithm: String,
        ;
        secret: String,
        /// PEM text or a file path.
        public_key: String,
    }
}

table_record! {
    /// A provider users can sign in with (`Config.oauthProviders`): any
    /// OpenID provider by its `issuer`, or a preset `kind`. An app is a
    /// public client: no `clientSecret`, PKCE protects its codes. Printing
    /// it shows no `clientSecret`.
    #[derive(Clone, uniffi::Record)]
    #[uniffi::export(Debug, Display)]
    OAuthProviderConfig {
        /// The provider's id in doorward's API and in linked identities
        /// (`google`, `corp`): lowercase letters, digits, `-` and `_`.
        id: String,
        /// The client id registered at the provider.
        client_id: String,
        ;
        /// `oidc` (the default), `google`, `microsoft`, `apple` or `github`.
        kind: String,
        /// The name sign-in buttons show; from the kind or the id when unset.
        name: String,
        /// The OpenID issuer (`https://login.example.com`): required for
        /// `oidc`, fixed by the other kinds (settable for tests).
        issuer: String,
        /// The Microsoft tenant (a tenant id, or `consumers`).
        tenant: String,
        /// The client secret (a secret, never printed); unset for a public
        /// client such as an app.
        client_secret: String,
        /// Scopes to ask for; what the kind needs for a user's id and
        /// address when unset.
        scopes: Vec<String>,
        /// Whether a verified address from the provider may link the
        /// identity to the account with that (verified) address; unset: yes,
        /// except for Microsoft.
        trust_email: bool,
        /// Whether a first sign-in creates an account (default yes).
        allow_sign_up: bool,
        /// Keep the provider's tokens, sealed, for `oauth().providerTokens`.
        store_provider_tokens: bool,
        /// GitHub: the authorization endpoint (GitHub Enterprise, tests).
        authorization_endpoint: String,
        /// GitHub: the token endpoint.
        token_endpoint: String,
        /// GitHub: the REST API's base URL.
        api_url: String,
    }
}

impl std::fmt::Debug for OAuthProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProviderConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// `toString()` (Kotlin) and `description` (Swift): the redacting `Debug`.
impl std::fmt::Display for OAuthProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A database URL may carry a password: the core's redaction hides it.
        f.debug_struct("Config")
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(doorward::config::redact_url),
            )
            .field("jwt_algorithm", &self.jwt_algorithm)
            .finish_non_exhaustive()
    }
}

/// The record's `toString()` (Kotlin) and `description` (Swift) come
/// from this redacting `Debug` rather than printing every field, since
/// several are secrets (`jwt_secret`, `files_s3_secret_access_key`,
/// `mail_password`, `audit_key`, `flow_key`, `mfa_encryption_key`, the
/// providers' `client_secret`) and URLs may carry a password.
impl std::fmt::Display for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Generates the record and its conversion from one list of keys: the
/// scalar keys, then (after `;`) the keys that are lists of records, each
/// record giving its own JSON table.
macro_rules! config_record {
    (
        $($(#[$doc:meta])* $name:ident: $ty:ty,)*
        ;
        $($(#[$ldoc:meta])* $list:ident: [$item:ty],)*
    ) => {
        /// doorward's configuration; see the README for each key.
        #[derive(Clone, Default, uniffi::Record)]
        #[uniffi::export(Debug, Display)]
        pub struct Config {
            $(
                $(#[$doc])*
                #[uniffi(default = None)]
                pub $name: Option<$ty>,
            )*
            $(
                $(#[$ldoc])*
                #[uniffi(default = None)]
                pub $list: Option<Vec<$item>>,
            )*
        }

        impl Config {
            fn to_json(&self) -> Value {
                let mut map = Map::new();
                $(
                    if let Some(v) = &self.$name {
                        map.insert(stringify!($name).into(), Value::from(v.clone()));
                    }
                )*
                $(
                    if let Some(items) = &self.$list {
                        let items = items.iter().map(<$item>::to_json).collect();
                        map.insert(stringify!($list).into(), Value::Array(items));
                    }
                )*
                Value::Object(map)
            }
        }
    };
}

config_record! {
    /// `sqlite://path`, `sqlite::memory:`, `postgres://…` or `memory://`.
    database_url: String,
    database_read_urls: Vec<String>,
    database_max_connections: u32,
    database_min_connections: u32,
    database_acquire_timeout: u64,
    redis_url: String,
    redis_prefix: String,
    redis_timeout_ms: u64,
    /// `fail_closed` or `database`.
    redis_session_policy: String,
    /// Replicas a session revocation must reach on a Redis Cluster.
    redis_wait_replicas: u32,
    cache_ttl: u64,
    cache_max_entries: u64,
    session_cache_ttl: u64,
    rate_limit_login_account: String,
    rate_limit_login_ip: String,
    rate_limit_register_ip: String,
    /// Leading bits of an IPv6 client address counted as one client by the
    /// per-address limits (1 to 128, default 64).
    rate_limit_ipv6_prefix: u32,
    lockout_threshold: u32,
    /// Failures from anywhere before the whole account locks.
    lockout_account_threshold: u32,
    lockout_base_delay: u64,
    lockout_max_delay: u64,
    jwt_secret: String,
    /// `HS256`, `EdDSA`, `RS256` or `ES256`.
    jwt_algorithm: String,
    /// PEM text or a file path.
    jwt_private_key: String,
    /// PEM text or a file path.
    jwt_public_key: String,
    jwt_key_id: String,
    jwt_issuer: String,
    jwt_audience: String,
    access_ttl: u64,
    refresh_ttl: u64,
    refresh_reuse_grace: u64,
    stateless_verify: bool,
    password_min_length: u64,
    argon2_memory_kib: u32,
    argon2_iterations: u32,
    argon2_parallelism: u32,
    hash_concurrency: u64,
    events_dispatch: bool,
    events_poll_interval_ms: u64,
    events_lease_secs: u64,
    events_max_attempts: u32,
    events_retry_base_ms: u64,
    events_retry_max_secs: u64,
    /// How long a subscriber's handler may run before it counts as failed.
    events_handler_timeout_ms: u64,
    /// How long the outbox keeps a handled event, in seconds (0: forever).
    events_retention_secs: u64,
    /// Key of the audit chain (a secret, never printed).
    audit_key: String,
    /// Audit keys used before `audit_key` (secrets, never printed).
    audit_previous_keys: Vec<String>,
    webhook_timeout_ms: u64,
    /// Let webhooks reach loopback, private and other non-public
    /// addresses (a receiver on a developer's machine); off by default.
    webhook_allow_private: bool,
    /// `file:///dir` (default: beside the SQLite file), `memory://` or
    /// `s3://bucket`.
    files_url: String,
    files_max_bytes: u64,
    files_s3_region: String,
    /// An S3-compatible server (MinIO, R2, ...) instead of AWS.
    files_s3_endpoint: String,
    files_s3_access_key_id: String,
    files_s3_secret_access_key: String,
    /// Allow a plain `http://` endpoint (a local test server).
    files_s3_allow_http: bool,
    /// `smtp://host:port`, `smtp://host?tls=required`, `smtps://host`, or
    /// `memory://` (kept in process, see `Mail.sent`); no mail when unset.
    mail_url: String,
    /// The sender of doorward's mails.
    mail_from: String,
    mail_username: String,
    /// Secret: never printed.
    mail_password: String,
    mail_timeout_ms: u64,
    /// Send a welcome mail on registration when a mailer is set.
    welcome_mail: bool,
    /// `{username}`, `{email}` and `{user_id}` are replaced.
    welcome_subject: String,
    welcome_text: String,
    /// The public base URL of the host's pages: account mails link to it
    /// plus the purpose's `*_path`.
    app_url: String,
    /// Key of the account flows' one-time secrets (at least 32 bytes; a
    /// secret, never printed); derived from `jwt_secret` when unset.
    flow_key: String,
    /// Digits of the code beside each mailed link (6 to 8).
    flow_code_digits: u32,
    /// Seconds before the same mail may be asked for again for one address.
    flow_resend_cooldown: u64,
    /// Account mails asked for per address (`"5/1h"`), or `"off"`.
    rate_limit_flow_address: String,
    /// Account mails asked for per client address, or `"off"`.
    rate_limit_flow_ip: String,
    /// Mail a verification on registration when a mailer is set.
    verify_email_on_register: bool,
    /// Refuse logins of unverified accounts (`EmailNotVerified`).
    require_verified_email_for_login: bool,
    /// Let a sign-in by email create the account of an unknown address.
    sign_in_creates_users: bool,
    /// Tell an address with no account that someone used it.
    unknown_address_mail: bool,
    verify_email_ttl: u64,
    verify_email_path: String,
    verify_email_subject: String,
    /// `{link}`, `{code}`, `{username}` and `{expires_in}` are replaced.
    verify_email_text: String,
    reset_password_ttl: u64,
    reset_password_path: String,
    reset_password_subject: String,
    /// `{link}`, `{code}`, `{username}` and `{expires_in}` are replaced.
    reset_password_text: String,
    sign_in_ttl: u64,
    sign_in_path: String,
    sign_in_subject: String,
    /// `{link}`, `{code}`, `{username}` and `{expires_in}` are replaced.
    sign_in_text: String,
    change_email_ttl: u64,
    change_email_path: String,
    change_email_subject: String,
    /// `{link}`, `{code}`, `{username}` and `{expires_in}` are replaced.
    change_email_text: String,
    /// The notice to the old address of an email change.
    change_email_notice_subject: String,
    /// `{username}` and `{expires_in}` are replaced.
    change_email_notice_text: String,
    /// The mail to an address with no account (`unknown_address_mail`).
    unknown_address_subject: String,
    /// `{app_url}` is replaced.
    unknown_address_text: String,
    /// Key of the second factors (at least 32 bytes; a secret, never
    /// printed): seals TOTP secrets and keys the recovery codes' hashes.
    /// Derived from `flow_key`, else `jwt_secret`, when unset.
    mfa_encryption_key: String,
    /// The name authenticator apps show beside the account.
    mfa_issuer: String,
    /// Roles whose holders must enrol a second factor before they get a
    /// session.
    mfa_required_for_roles: Vec<String>,
    /// Seconds a login whose password was right waits for its second
    /// factor.
    mfa_login_ttl: u64,
    /// Seconds an authentication stays fresh enough to remove a factor or
    /// replace the recovery codes (older: `StepUpRequired`).
    fresh_auth_max_age: u64,
    /// The WebAuthn relying party id: the domain passkeys are bound to
    /// (`example.com` serves `app.example.com` too); the host of
    /// `app_url` when unset.
    webauthn_rp_id: String,
    /// The name platforms show when creating a passkey.
    webauthn_rp_name: String,
    /// Origins allowed to use passkeys (`https://app.example.com`); the
    /// origin of `app_url` when unset.
    webauthn_origins: Vec<String>,
    ;
    /// Keys that still verify tokens after they stopped signing them.
    jwt_previous_keys: [PreviousKey],
    /// Providers users can sign in with (OAuth 2.0 / OpenID Connect).
    oauth_providers: [OAuthProviderConfig],
}

impl TryFrom<Config> for doorward::Config {
    type Error = doorward::Error;

    fn try_from(config: Config) -> doorward::Result<Self> {
        doorward::Config::from_json(config.to_json())
    }
}
