//! What an import takes and answers, and what an export gives: one row
//! shape for both, so an export imports again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorCode};

/// One account as an import takes it and an export gives it (JSON Lines,
/// CSV, or a binding's dict/object). Only `email` is required.
///
/// `Debug` hides the password and the hash.
///
/// ```
/// let row: doorward::UserRow = serde_json::from_str(
///     r#"{"email": "ann@example.com", "password_hash": "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}"#,
/// ).unwrap();
/// assert!(!format!("{row:?}").contains("R9h"));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRow {
    /// A doorward id (a UUID) to keep, as when moving between doorward
    /// stores; a new one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When absent, made from the address's local part (with digits when
    /// taken), as a first sign-in by email does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The address; unique, validated as at registration.
    pub email: String,
    /// A password in clear, checked by the password policy and hashed with
    /// argon2id (slow: prefer `password_hash`).
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// The old system's hash ([`crate::password::check_importable`] lists the
    /// formats), or an unusable password (`!…`). With neither this nor
    /// `password`, the account has no password until a reset sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Roles to grant; they must exist. Empty: the default role (`user`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Whether the address is known to be verified.
    #[serde(default)]
    pub email_verified: bool,
    /// Whether the account starts disabled.
    #[serde(default)]
    pub disabled: bool,
    /// When the account was created in the old system; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "[redacted]"),
            )
            .field("roles", &self.roles)
            .field("email_verified", &self.email_verified)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// Called as rows are written: `(rows done, rows in all)`.
pub type ImportProgress = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// How to import.
#[derive(Clone, Default)]
pub struct ImportOptions {
    /// Check and report, write nothing.
    pub dry_run: bool,
    /// All rows or none: one bad row (or one that a concurrent
    /// registration took meanwhile) writes nothing.
    pub atomic: bool,
    /// Told of progress as chunks are written (a terminal's progress bar).
    pub progress: Option<ImportProgress>,
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("dry_run", &self.dry_run)
            .field("atomic", &self.atomic)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// An account an import created (or, in a dry run, would create).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedUser {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// Its id (in a dry run, the id it would have had).
    pub id: String,
    /// Its username, as given or as made from the address.
    pub username: String,
}

/// A row an import refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportFailure {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// The error code a registration would have had (`validation_error`,
    /// `duplicate_email`, ...).
    pub code: ErrorCode,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// Why, in words.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// Rows given.
    pub total: u64,
    /// Accounts created (or that would be, in a dry run).
    pub created: Vec<ImportedUser>,
    /// Rows refused; with `atomic`, any here means nothing was written.
    pub failed: Vec<ImportFailure>,
}

impl ImportFailure {
    pub(super) fn new(index: usize, err: &Error) -> Self {
        ImportFailure {
            index: index as u64,
            code: err.code(),
            field: err.field().map(str::to_owned),
            message: err.to_string(),
        }
    }
}
