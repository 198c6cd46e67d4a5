//! The records Kotlin and Swift see. Times are timestamps (`Instant`,
//! `Date`). The core's redacted `Debug` is kept: no token or email in a
//! debug print.

use std::sync::Arc;
use std::time::SystemTime;

pub(crate) fn time(t: chrono::DateTime<chrono::Utc>) -> SystemTime {
    SystemTime::from(t)
}

/// Where a login comes from.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ClientInfo {
    #[uniffi(default = None)]
    pub ip: Option<String>,
    #[uniffi(default = None)]
    pub user_agent: Option<String>,
}

impl From<ClientInfo> for doorward::ClientInfo {
    fn from(c: ClientInfo) -> Self {
        doorward::ClientInfo {
            ip: c.ip,
            user_agent: c.user_agent,
        }
    }
}

/// An account (never its password hash).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub disabled: bool,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub last_login_at: Option<SystemTime>,
    pub failed_logins: u32,
    pub locked_until: Option<SystemTime>,
    /// When the owner proved they read mail at `email`; `null` until then.
    pub email_verified_at: Option<SystemTime>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl From<doorward::User> for User {
    fn from(u: doorward::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            email: u.email,
            disabled: u.disabled,
            created_at: time(u.created_at),
            updated_at: time(u.updated_at),
            last_login_at: u.last_login_at.map(time),
            failed_logins: u.failed_logins,
            locked_until: u.locked_until.map(time),
            email_verified_at: u.email_verified_at.map(time),
        }
    }
}

/// What a request for an account mail answers (the same for an address
/// with no account): the flow's id, which the page where the user types
/// the code posts back, and how long the link and the code work.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FlowStarted {
    /// Posted back with the code (the mailed link carries it already).
    pub flow_id: String,
    /// Seconds until the link and the code stop working.
    pub expires_in: u64,
}

impl From<doorward::FlowStarted> for FlowStarted {
    fn from(f: doorward::FlowStarted) -> Self {
        FlowStarted {
            flow_id: f.flow_id,
            expires_in: f.expires_in,
        }
    }
}

/// An access token and the refresh token that renews it.
///
/// An object rather than a record, so that printing it (`toString()` in
/// Kotlin, `description` in Swift) shows no token; read them with
/// `accessToken()` and `refreshToken()`.
#[derive(Clone, PartialEq, Eq, uniffi::Object)]
#[uniffi::export(Debug, Display, Eq)]
pub struct TokenPair {
    pair: doorward::TokenPair,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The core's Debug redacts both tokens.
        self.pair.fmt(f)
    }
}

impl std::fmt::Display for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TokenPair(tokenType={}, expiresIn={}, tokens hidden)",
            self.pair.token_type, self.pair.expires_in
        )
    }
}

export! {
    sync impl TokenPair {
        /// A pair read back from the app's secure storage.
        #[uniffi::constructor(default(token_type = "Bearer"))]
        pub fn new(access_token: String, refresh_token: String, expires_in: u64, token_type: String) -> Self {
            TokenPair {
                pair: doorward::TokenPair {
                    access_token,
                    refresh_token,
                    token_type,
                    expires_in,
                },
            }
        }

        /// The JWT for `Authorization: Bearer`.
        pub fn access_token(&self) -> String {
            self.pair.access_token.clone()
        }

        /// The opaque, single-use refresh token.
        pub fn refresh_token(&self) -> String {
            self.pair.refresh_token.clone()
        }

        /// Always `Bearer`.
        pub fn token_type(&self) -> String {
            self.pair.token_type.clone()
        }

        /// Seconds the access token was issued for.
        pub fn expires_in(&self) -> u64 {
            self.pair.expires_in
        }
    }
}

impl From<doorward::TokenPair> for TokenPair {
    fn from(pair: doorward::TokenPair) -> Self {
        TokenPair { pair }
    }
}

impl From<&TokenPair> for doorward::TokenPair {
    fn from(t: &TokenPair) -> Self {
        t.pair.clone()
    }
}

/// Wraps a core pair for the foreign side.
pub(crate) fn pair(p: doorward::TokenPair) -> Arc<TokenPair> {
    Arc::new(p.into())
}

/// A new account and its first session's tokens.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Registration {
    pub user: User,
    pub tokens: Arc<TokenPair>,
}

impl From<doorward::Registration> for Registration {
    fn from(r: doorward::Registration) -> Self {
        Registration {
            user: r.user.into(),
            tokens: pair(r.tokens),
        }
    }
}

/// Who an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub session_id: String,
    pub roles: Vec<String>,
    pub expires_at: SystemTime,
    /// How the session was authenticated: RFC 8176 values (`pwd`, `otp`,
    /// `email`, and `mfa` at level 2).
    pub amr: Vec<String>,
    /// Authenticator assurance level: 1, or 2 after a second factor
    /// (`requireAal`).
    pub aal: u8,
    /// When the user last proved who they are: the login or the latest
    /// step-up (`requireRecentAuth`).
    pub auth_time: SystemTime,
}

impl From<doorward::Principal> for Principal {
    fn from(p: doorward::Principal) -> Self {
        Principal {
            user_id: p.user_id,
            username: p.username,
            session_id: p.session_id,
            roles: p.roles,
            expires_at: time(p.expires_at),
            amr: p.amr,
            aal: p.aal,
            auth_time: time(p.auth_time),
        }
    }
}

impl From<Principal> for doorward::Principal {
    fn from(p: Principal) -> Self {
        doorward::Principal {
            user_id: p.user_id,
            username: p.username,
            session_id: p.session_id,
            roles: p.roles,
            expires_at: p.expires_at.into(),
            amr: p.amr,
            aal: p.aal,
            auth_time: p.auth_time.into(),
        }
    }
}

/// A login waiting for its second factor: finish it with `completeMfa`.
///
/// Printing it (`toString()` in Kotlin, `description` in Swift) leaves out
/// `flowId`, which proves the password until it is used: keep it
/// server-side, or in an HTTP-only cookie.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct MfaChallenge {
    /// Opaque: posted back to `completeMfa`.
    pub flow_id: String,
    /// Whose login it is.
    pub user_id: String,
    /// The factors that can complete it: `totp`, `recovery_code`,
    /// `passkey`.
    pub methods: Vec<String>,
    /// The account has no factor yet but a role requires one: enrol
    /// (`mfa().startTotp`, `mfa().confirmTotp`) and complete with the code
    /// that confirmed it.
    pub enrolment_required: bool,
    /// Seconds until the pending login expires.
    pub expires_in: u64,
}

impl From<doorward::MfaChallenge> for MfaChallenge {
    fn from(c: doorward::MfaChallenge) -> Self {
        MfaChallenge {
            flow_id: c.flow_id,
            user_id: c.user_id,
            methods: c.methods,
            enrolment_required: c.enrolment_required,
            expires_in: c.expires_in,
        }
    }
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("flow_id", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("methods", &self.methods)
            .field("enrolment_required", &self.enrolment_required)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl std::fmt::Display for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MfaChallenge(userId={}, methods={:?}, enrolmentRequired={}, expiresIn={}, flowId hidden)",
            self.user_id, self.methods, self.enrolment_required, self.expires_in
        )
    }
}

/// What `login` and `completeSignIn` answer: a sealed class in Kotlin
/// (`when (result) { is LoginResult.Tokens -> …; is
/// LoginResult.MfaRequired -> … }`), an enum in Swift.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LoginResult {
    /// Signed in.
    Tokens { tokens: Arc<TokenPair> },
    /// The first factor was right; ask for a second and finish with
    /// `completeMfa(challenge.flowId, method, code)`.
    MfaRequired { challenge: MfaChallenge },
}

impl From<doorward::LoginResult> for LoginResult {
    fn from(r: doorward::LoginResult) -> Self {
        match r {
            doorward::LoginResult::Tokens(tokens) => LoginResult::Tokens {
                tokens: pair(tokens),
            },
            doorward::LoginResult::MfaRequired(challenge) => LoginResult::MfaRequired {
                challenge: challenge.into(),
            },
        }
    }
}

/// A live login session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: SystemTime,
    pub expires_at: SystemTime,
    pub last_refreshed_at: Option<SystemTime>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<doorward::Session> for Session {
    fn from(s: doorward::Session) -> Self {
        Session {
            id: s.id,
            user_id: s.user_id,
            created_at: time(s.created_at),
            expires_at: time(s.expires_at),
            last_refreshed_at: s.last_refreshed_at.map(time),
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// A named set of permissions.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub builtin: bool,
    pub created_at: SystemTime,
}

impl From<doorward::Role> for Role {
    fn from(r: doorward::Role) -> Self {
        Role {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            builtin: r.builtin,
            created_at: time(r.created_at),
        }
    }
}

impl From<Role> for doorward::Role {
    fn from(r: Role) -> Self {
        doorward::Role {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            builtin: r.builtin,
            created_at: r.created_at.into(),
        }
    }
}

/// One page of users and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Page {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
}

impl From<doorward::Page<doorward::User>> for Page {
    fn from(p: doorward::Page<doorward::User>) -> Self {
        Page {
            items: p.items.into_iter().map(User::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// One account as `users().importUsers` takes it and `users().exportUsers`
/// gives it, so an export feeds an import. Only `email` is required.
///
/// Printing it (`toString()` in Kotlin, `description` in Swift) shows
/// neither `password` nor `passwordHash` (nor the address, as for `User`):
/// both come from the redacting Rust `Debug` below, not from every field.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct UserRow {
    /// A doorward id (a UUID) to keep, as when moving between doorward
    /// stores; a new one when `null`.
    #[uniffi(default = None)]
    pub id: Option<String>,
    /// When `null`, made from the address's local part (with digits when
    /// taken).
    #[uniffi(default = None)]
    pub username: Option<String>,
    /// The address; unique, validated as at registration.
    pub email: String,
    /// A password in clear, checked by the password policy and hashed
    /// (slow: prefer `passwordHash`). Never exported.
    #[uniffi(default = None)]
    pub password: Option<String>,
    /// The old system's hash (argon2, bcrypt, Django, passlib, scrypt,
    /// Firebase scrypt), or
    /// an unusable password (`!…`); replaced by argon2id at the next login.
    #[uniffi(default = None)]
    pub password_hash: Option<String>,
    /// Roles to grant; they must exist. Empty: the default role (`user`).
    #[uniffi(default = [])]
    pub roles: Vec<String>,
    /// Whether the address is known to be verified.
    #[uniffi(default = false)]
    pub email_verified: bool,
    /// Whether the account starts disabled.
    #[uniffi(default = false)]
    pub disabled: bool,
    /// When the account was created in the old system; now when `null`.
    #[uniffi(default = None)]
    pub created_at: Option<SystemTime>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("roles", &self.roles)
            .field("email_verified", &self.email_verified)
            .field("disabled", &self.disabled)
            .field(
                "created_at",
                &self.created_at.map(chrono::DateTime::<chrono::Utc>::from),
            )
            .finish_non_exhaustive()
    }
}

/// `toString()` (Kotlin) and `description` (Swift): the redacting `Debug`.
impl std::fmt::Display for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl From<doorward::UserRow> for UserRow {
    fn from(r: doorward::UserRow) -> Self {
        UserRow {
            id: r.id,
            username: r.username,
            email: r.email,
            password: r.password,
            password_hash: r.password_hash,
            roles: r.roles,
            email_verified: r.email_verified,
            disabled: r.disabled,
            created_at: r.created_at.map(time),
        }
    }
}

impl From<UserRow> for doorward::UserRow {
    fn from(r: UserRow) -> Self {
        doorward::UserRow {
            id: r.id,
            username: r.username,
            email: r.email,
            password: r.password,
            password_hash: r.password_hash,
            roles: r.roles,
            email_verified: r.email_verified,
            disabled: r.disabled,
            created_at: r.created_at.map(Into::into),
        }
    }
}

/// One page of exported accounts and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UserRowPage {
    pub items: Vec<UserRow>,
    pub next_cursor: Option<String>,
}

impl From<doorward::Page<doorward::UserRow>> for UserRowPage {
    fn from(p: doorward::Page<doorward::UserRow>) -> Self {
        UserRowPage {
            items: p.items.into_iter().map(UserRow::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// What an admitted rate-limited call may still do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Decision {
    pub remaining: u32,
    /// Milliseconds until the key is back to a full burst.
    pub reset_after_ms: u64,
}

impl From<doorward::Decision> for Decision {
    fn from(d: doorward::Decision) -> Self {
        Decision {
            remaining: d.remaining,
            reset_after_ms: u64::try_from(d.reset_after.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Wraps each item of a core result list.
pub(crate) fn each<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}
