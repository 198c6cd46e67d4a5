//! An account as hosts see it, and the changes they may make to one.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::UserRecord;

/// An account as hosts see it (no password hash).
///
/// `Debug` leaves the email address out, so users can be logged safely.
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct User {
    /// UUIDv7.
    pub id: String,
    /// Display form.
    pub username: String,
    /// As registered (domain lowercased).
    pub email: String,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it last logged in.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Wrong passwords in a row since the last successful login.
    pub failed_logins: u32,
    /// Until when logins are refused after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the owner proved they read mail at `email`; `None` until then.
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &"[redacted]")
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("locked_until", &self.locked_until)
            .field("email_verified_at", &self.email_verified_at)
            .finish_non_exhaustive()
    }
}

impl From<&UserRecord> for User {
    fn from(r: &UserRecord) -> Self {
        User {
            id: r.id.clone(),
            username: r.username.clone(),
            email: r.email.clone(),
            disabled: r.disabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_login_at: r.last_login_at,
            failed_logins: r.failed_logins,
            locked_until: r.locked_until,
            email_verified_at: r.email_verified_at,
        }
    }
}

/// Changes to an account's identity; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    /// New username.
    pub username: Option<String>,
    /// New email address.
    pub email: Option<String>,
}
