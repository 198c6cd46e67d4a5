//! The plain objects JavaScript sees. `node/index.js` hides the tokens of a
//! `TokenPair` from `JSON.stringify` and `util.inspect`, and the email from
//! `util.inspect`, by shape.

use chrono::{DateTime, Utc};
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
        }
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

/// Who an access token speaks for.
#[napi(object)]
#[derive(Debug)]
pub struct Principal {
    pub user_id: String,
    pub username: String,
    pub session_id: String,
    pub roles: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

impl From<doorward::Principal> for Principal {
    fn from(p: doorward::Principal) -> Self {
        Principal {
            user_id: p.user_id,
            username: p.username,
            session_id: p.session_id,
            roles: p.roles,
            expires_at: p.expires_at,
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
