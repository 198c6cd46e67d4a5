//! The plain objects JavaScript sees. The package (`node/lib/hide.ts`)
//! hides the tokens of a `TokenPair` and the flow id of an `MfaChallenge`
//! from `JSON.stringify` and `util.inspect`, and the email from
//! `util.inspect`, by shape.

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::Either;
use napi_derive::napi;

/// Where a login comes from.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
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
#[napi(object)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// When the address was proven (a verification, reset, sign-in or
    /// email change mail, or `users.markEmailVerified`); absent until then.
    pub email_verified_at: Option<DateTime<Utc>>,
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
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
            failed_logins: u.failed_logins,
            locked_until: u.locked_until,
            email_verified_at: u.email_verified_at,
        }
    }
}

/// An access token and the refresh token that renews it.
#[napi(object)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u32,
    /// Always `false`: what tells a signed-in login from an `MfaChallenge`
    /// (`if (result.mfaRequired)`).
    #[napi(ts_type = "false")]
    pub mfa_required: bool,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl From<doorward::TokenPair> for TokenPair {
    fn from(t: doorward::TokenPair) -> Self {
        TokenPair {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            token_type: t.token_type,
            expires_in: u32::try_from(t.expires_in).unwrap_or(u32::MAX),
            mfa_required: false,
        }
    }
}

/// A login waiting for its second factor: finish it with `completeMfa`.
#[napi(object)]
pub struct MfaChallenge {
    /// Always `true`: what tells it from a `TokenPair`.
    #[napi(ts_type = "true")]
    pub mfa_required: bool,
    /// Opaque, posted back to `completeMfa`. It proves the first factor:
    /// keep it server-side (or in an HttpOnly cookie). Read it as a
    /// property; it is hidden from `util.inspect` and `JSON.stringify`.
    pub flow_id: String,
    /// Whose login it is.
    pub user_id: String,
    /// The factors that can complete it.
    #[napi(ts_type = "import('./index').MfaMethod[]")]
    pub methods: Vec<String>,
    /// The account has no factor yet but one of its roles requires one:
    /// enrol (`mfa.startTotp`, `mfa.confirmTotp`), then complete with the
    /// code that confirmed it.
    pub enrolment_required: bool,
    /// Seconds until the pending login expires.
    pub expires_in: u32,
}

impl std::fmt::Debug for MfaChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaChallenge")
            .field("user_id", &self.user_id)
            .field("methods", &self.methods)
            .field("enrolment_required", &self.enrolment_required)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl From<doorward::MfaChallenge> for MfaChallenge {
    fn from(c: doorward::MfaChallenge) -> Self {
        MfaChallenge {
            mfa_required: true,
            flow_id: c.flow_id,
            user_id: c.user_id,
            methods: c.methods,
            enrolment_required: c.enrolment_required,
            expires_in: u32::try_from(c.expires_in).unwrap_or(u32::MAX),
        }
    }
}

/// The core's `LoginResult` (tokens, or a second factor to ask for) as the
/// union JavaScript receives: `TokenPair | MfaChallenge`, told apart by
/// `mfaRequired`. (napi-rs writes `Either` itself into the types, so this
/// is spelled out rather than named by an alias.)
pub(crate) fn login_result(result: doorward::LoginResult) -> Either<TokenPair, MfaChallenge> {
    match result {
        doorward::LoginResult::Tokens(tokens) => Either::A(tokens.into()),
        doorward::LoginResult::MfaRequired(challenge) => Either::B(challenge.into()),
    }
}

/// What a request for an account mail answers, the same whether the
/// address has an account or not.
#[napi(object)]
#[derive(Debug)]
pub struct FlowStarted {
    /// Posted back with the code the mail carries (its link has it already).
    pub flow_id: String,
    /// Seconds until the link and the code stop working.
    pub expires_in: u32,
}

impl From<doorward::FlowStarted> for FlowStarted {
    fn from(f: doorward::FlowStarted) -> Self {
        FlowStarted {
            flow_id: f.flow_id,
            expires_in: u32::try_from(f.expires_in).unwrap_or(u32::MAX),
        }
    }
}

/// A new account and its first session's tokens.
#[napi(object)]
#[derive(Debug)]
pub struct Registration {
    pub user: User,
    pub tokens: TokenPair,
}

impl From<doorward::Registration> for Registration {
    fn from(r: doorward::Registration) -> Self {
        Registration {
            user: r.user.into(),
            tokens: r.tokens.into(),
        }
    }
}

/// A live login session.
#[napi(object)]
#[derive(Debug)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<doorward::Session> for Session {
    fn from(s: doorward::Session) -> Self {
        Session {
            id: s.id,
            user_id: s.user_id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            last_refreshed_at: s.last_refreshed_at,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// A named set of permissions.
#[napi(object)]
#[derive(Debug)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub permissions: Vec<String>,
    pub builtin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<doorward::Role> for Role {
    fn from(r: doorward::Role) -> Self {
        Role {
            name: r.name,
            description: r.description,
            permissions: r.permissions,
            builtin: r.builtin,
            created_at: r.created_at,
        }
    }
}

/// One page of users and where the next one starts.
#[napi(object)]
#[derive(Debug)]
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

/// One account as `users.importUsers` takes it and `users.exportUsers`
/// gives it, so an export feeds an import. Only `email` is required:
/// `passwordHash` is the old system's hash (kept until the owner's next
/// login replaces it with argon2id), `password` one in clear (never
/// exported), `roles` empty for the default role, `createdAt` an ISO
/// string or a Date (an export gives a Date). The package keeps the
/// address and the hash out of `util.inspect`.
#[napi(object, object_from_js = false)]
pub struct UserRow {
    pub id: Option<String>,
    pub username: Option<String>,
    pub email: String,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub roles: Option<Vec<String>>,
    pub email_verified: Option<bool>,
    pub disabled: Option<bool>,
    #[napi(ts_type = "string | Date")]
    pub created_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .finish_non_exhaustive()
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
            roles: Some(r.roles),
            email_verified: Some(r.email_verified),
            disabled: Some(r.disabled),
            created_at: r.created_at,
        }
    }
}

/// One page of `users.exportUsers` and where the next one starts.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct UserRowPage {
    pub items: Vec<UserRow>,
    pub next_cursor: Option<String>,
}

impl From<doorward::Page<doorward::UserRow>> for UserRowPage {
    fn from(p: doorward::Page<doorward::UserRow>) -> Self {
        UserRowPage {
            items: each(p.items),
            next_cursor: p.next_cursor,
        }
    }
}

/// How `users.importUsers` imports.
#[napi(object)]
#[derive(Debug, Default)]
pub struct ImportOptions {
    /// Check and report, write nothing.
    pub dry_run: Option<bool>,
    /// All rows or none: one refused row writes nothing.
    pub atomic: Option<bool>,
}

impl From<ImportOptions> for doorward::ImportOptions {
    fn from(o: ImportOptions) -> Self {
        doorward::ImportOptions {
            dry_run: o.dry_run.unwrap_or(false),
            atomic: o.atomic.unwrap_or(false),
            progress: None,
        }
    }
}

/// What `users.exportUsers` gives beside the page.
#[napi(object)]
#[derive(Debug, Default)]
pub struct UserExportOptions {
    /// Include each account's password hash (`passwordHash`), for an
    /// import elsewhere (off by default).
    pub with_hashes: Option<bool>,
}

/// An account an import created (or, in a dry run, would create).
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct ImportedUser {
    /// The row's position in the input, from 0.
    pub index: f64,
    /// Its id (in a dry run, the id it would have had).
    pub id: String,
    /// Its username, as given or as made from the address.
    pub username: String,
}

impl From<doorward::ImportedUser> for ImportedUser {
    fn from(u: doorward::ImportedUser) -> Self {
        ImportedUser {
            index: u.index as f64,
            id: u.id,
            username: u.username,
        }
    }
}

/// A row an import refused, and why.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct ImportFailure {
    /// The row's position in the input, from 0.
    pub index: f64,
    /// The code a registration would have failed with
    /// (`validation_error`, `duplicate_email`, ...).
    #[napi(ts_type = "import('./index').ErrorCode")]
    pub code: String,
    /// The field at fault, when one is: the core's name, as a
    /// `DoorwardError`'s `field` (`email`, `password_hash`, `roles`...).
    pub field: Option<String>,
    /// Why, in words (never the password or the hash).
    pub message: String,
}

impl From<doorward::ImportFailure> for ImportFailure {
    fn from(f: doorward::ImportFailure) -> Self {
        ImportFailure {
            index: f.index as f64,
            code: f.code.as_str().to_owned(),
            field: f.field,
            message: f.message,
        }
    }
}

/// What an import did.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct ImportReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Rows given.
    pub total: f64,
    /// Accounts created (or that would be, in a dry run).
    pub created: Vec<ImportedUser>,
    /// Rows refused; with `atomic`, any here means nothing was written.
    pub failed: Vec<ImportFailure>,
}

impl From<doorward::ImportReport> for ImportReport {
    fn from(r: doorward::ImportReport) -> Self {
        ImportReport {
            dry_run: r.dry_run,
            total: r.total as f64,
            created: each(r.created),
            failed: each(r.failed),
        }
    }
}

/// What an admitted rate-limited call may still do.
#[napi(object)]
#[derive(Debug)]
pub struct Decision {
    pub remaining: u32,
    /// Seconds until the key is back to a full burst.
    pub reset_after: f64,
}

impl From<doorward::Decision> for Decision {
    fn from(d: doorward::Decision) -> Self {
        Decision {
            remaining: d.remaining,
            reset_after: d.reset_after.as_secs_f64(),
        }
    }
}

/// Changes to an account's identity; absent keys keep their value.
#[napi(object)]
#[derive(Debug, Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    pub email: Option<String>,
}

/// A page size from JavaScript: absent is the core's default, and anything
/// that is not a whole number in u32 range becomes 0, which every core list
/// refuses by its one rule.
pub(crate) fn limit(limit: Option<f64>) -> Option<u32> {
    limit.map(|l| {
        if l.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&l) {
            l as u32
        } else {
            0
        }
    })
}

/// Wraps each item of a core result list.
pub(crate) fn each<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

/// An assurance level from JavaScript: a whole number up to 255 as it is;
/// anything else (a fraction, a negative, NaN) becomes 255, a level no
/// session reaches, which the core refuses by its one rule.
pub(crate) fn level(aal: f64) -> u8 {
    if aal.fract() == 0.0 && (0.0..=f64::from(u8::MAX)).contains(&aal) {
        aal as u8
    } else {
        u8::MAX
    }
}

/// Seconds from JavaScript as the core's `u64`: a fraction rounds down (a
/// shorter age, never a longer one), a negative or NaN is 0, and anything
/// past `u64` is `u64::MAX`.
pub(crate) fn seconds(secs: f64) -> u64 {
    // `as` saturates, and maps NaN to 0.
    secs as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_seconds_from_javascript_numbers() {
        assert_eq!(level(2.0), 2);
        assert_eq!(level(0.0), 0);
        for refused in [1.5, -1.0, 256.0, f64::NAN, f64::INFINITY] {
            assert_eq!(level(refused), u8::MAX, "{refused}");
        }
        assert_eq!(seconds(300.0), 300);
        assert_eq!(seconds(1.9), 1);
        assert_eq!(seconds(-5.0), 0);
        assert_eq!(seconds(f64::NAN), 0);
        assert_eq!(seconds(f64::INFINITY), u64::MAX);
    }
}
