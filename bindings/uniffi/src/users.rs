//! Accounts: `doorward.users()`.

use std::time::SystemTime;

use crate::error::{DoorwardError, call};
use crate::types::{FlowStarted, Page, User, UserRow, UserRowPage, each, time};

/// An identity at an OAuth 2.0 / OpenID Connect provider that signs the
/// account in (`users().identities`).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Identity {
    /// The provider's id in the configuration.
    pub provider: String,
    /// The provider's id of the user.
    pub subject: String,
    /// The address the provider gave at the last sign-in.
    pub email: Option<String>,
    /// Whether the provider said it verified that address.
    pub email_verified: bool,
    /// When it was linked.
    pub created_at: SystemTime,
    /// When it last signed in.
    pub last_used_at: Option<SystemTime>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No address in a debug print, as for `User`.
        f.debug_struct("Identity")
            .field("provider", &self.provider)
            .field("subject", &self.subject)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

impl From<doorward::Identity> for Identity {
    fn from(i: doorward::Identity) -> Self {
        Identity {
            provider: i.provider,
            subject: i.subject,
            email: i.email,
            email_verified: i.email_verified,
            created_at: time(i.created_at),
            last_used_at: i.last_used_at.map(time),
        }
    }
}

/// An account an import created (or, in a dry run, would create).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportedUser {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// Its id (in a dry run, the id it would have had).
    pub id: String,
    /// Its username, as given or as made from the address.
    pub username: String,
}

impl From<doorward::ImportedUser> for ImportedUser {
    fn from(u: doorward::ImportedUser) -> Self {
        ImportedUser {
            index: u.index,
            id: u.id,
            username: u.username,
        }
    }
}

/// A row an import refused, and why (never with its password or hash).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportFailure {
    /// The row's position in the input, from 0.
    pub index: u64,
    /// The stable error code a registration would have had
    /// (`validation_error`, `duplicate_email`, ...).
    pub code: String,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// Why, in words.
    pub message: String,
}

impl From<doorward::ImportFailure> for ImportFailure {
    fn from(f: doorward::ImportFailure) -> Self {
        ImportFailure {
            index: f.index,
            code: f.code.as_str().to_string(),
            field: f.field,
            message: f.message,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
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

impl From<doorward::ImportReport> for ImportReport {
    fn from(r: doorward::ImportReport) -> Self {
        ImportReport {
            dry_run: r.dry_run,
            total: r.total,
            created: each(r.created),
            failed: each(r.failed),
        }
    }
}

/// Accounts: `doorward.users()`.
#[derive(Debug, uniffi::Object)]
pub struct Users {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Users {
        /// Create an account without logging it in.
        pub async fn create(&self, username: String, email: String, password: String) -> Result<User, DoorwardError> {
            call(self.dw.users().create(&username, &email, &password)).await.map(User::from)
        }

        /// By id (`NotFound` if absent).
        pub async fn get(&self, user_id: String) -> Result<User, DoorwardError> {
            call(self.dw.users().get(&user_id)).await.map(User::from)
        }

        /// By email address, case-insensitively.
        pub async fn get_by_email(&self, email: String) -> Result<User, DoorwardError> {
            call(self.dw.users().get_by_email(&email)).await.map(User::from)
        }

        /// By username, case-insensitively.
        pub async fn get_by_username(&self, username: String) -> Result<User, DoorwardError> {
            call(self.dw.users().get_by_username(&username)).await.map(User::from)
        }

        /// Accounts in creation order, `limit` (1 to 500; `null` for the
        /// default, 50) at a time.
        #[uniffi::method(default(cursor = None, limit = None))]
        pub async fn list(&self, cursor: Option<String>, limit: Option<u32>) -> Result<Page, DoorwardError> {
            call(self.dw.users().list(cursor.as_deref(), limit)).await.map(Page::from)
        }

        /// Accounts whose email or username starts with `query`, whatever
        /// the case, in creation order, `limit` (1 to 500; `null` for the
        /// default, 50) at a time; an empty `query` is a `Validation` error
        /// on `query`.
        #[uniffi::method(default(cursor = None, limit = None))]
        pub async fn search(&self, query: String, cursor: Option<String>, limit: Option<u32>) -> Result<Page, DoorwardError> {
            call(self.dw.users().search(&query, cursor.as_deref(), limit)).await.map(Page::from)
        }

        /// Import accounts from another system (or another doorward): each
        /// row is checked as registration would check it, and a
        /// `passwordHash` is kept until the owner's next login replaces it
        /// with argon2id. Bad rows are reported by index in `failed`; with
        /// `atomic`, one bad row writes nothing; `dryRun` checks and writes
        /// nothing. One `UsersImported` event for the batch.
        #[uniffi::method(default(dry_run = false, atomic = false))]
        pub async fn import_users(&self, rows: Vec<UserRow>, dry_run: bool, atomic: bool) -> Result<ImportReport, DoorwardError> {
            let options = doorward::ImportOptions { dry_run, atomic, progress: None };
            call(self.dw.users().import_users(each(rows), options)).await.map(ImportReport::from)
        }

        /// Accounts as `importUsers` rows, in creation order, `limit` (1 to
        /// 500; `null` for the default, 50) at a time; password hashes only
        /// with `withHashes`, a password never.
        #[uniffi::method(default(cursor = None, limit = None, with_hashes = false))]
        pub async fn export_users(&self, cursor: Option<String>, limit: Option<u32>, with_hashes: bool) -> Result<UserRowPage, DoorwardError> {
            call(self.dw.users().export_users(cursor.as_deref(), limit, with_hashes)).await.map(UserRowPage::from)
        }

        /// How many accounts there are, disabled ones included.
        pub async fn count(&self) -> Result<u64, DoorwardError> {
            call(self.dw.users().count()).await
        }

        /// Change username and/or email; `None` keeps the current value.
        #[uniffi::method(default(username = None, email = None))]
        pub async fn update(&self, user_id: String, username: Option<String>, email: Option<String>) -> Result<User, DoorwardError> {
            let update = doorward::UserUpdate { username, email };
            call(self.dw.users().update(&user_id, update)).await.map(User::from)
        }

        /// Change a password, proving the old one; every other session ends.
        #[uniffi::method(default(keep_session = None))]
        pub async fn change_password(&self, user_id: String, old_password: String, new_password: String, keep_session: Option<String>) -> Result<(), DoorwardError> {
            call(self.dw.users().change_password(&user_id, &old_password, &new_password, keep_session.as_deref())).await
        }

        /// Ask to move an account to `new_email`, proving the password: a
        /// link and code go to the new address, a notice to the old one,
        /// which stays until `confirmEmailChange`.
        pub async fn request_email_change(&self, user_id: String, new_email: String, password: String) -> Result<FlowStarted, DoorwardError> {
            call(self.dw.users().request_email_change(&user_id, &new_email, &password)).await.map(FlowStarted::from)
        }

        /// Confirm a change of address with the link's secret or the code
        /// of flow `flow_id`: the account, at its new, verified address.
        pub async fn confirm_email_change(&self, flow_id: String, secret: String) -> Result<User, DoorwardError> {
            call(self.dw.users().confirm_email_change(&flow_id, &secret)).await.map(User::from)
        }

        /// Mark an account's address verified without a mail (an
        /// administrator's decision).
        pub async fn mark_email_verified(&self, user_id: String) -> Result<User, DoorwardError> {
            call(self.dw.users().mark_email_verified(&user_id)).await.map(User::from)
        }

        /// Set a password without the old one; every session ends.
        pub async fn set_password(&self, user_id: String, new_password: String) -> Result<(), DoorwardError> {
            call(self.dw.users().set_password(&user_id, &new_password)).await
        }

        /// Disable an account: no logins, and its sessions end now.
        pub async fn disable(&self, user_id: String) -> Result<(), DoorwardError> {
            call(self.dw.users().disable(&user_id)).await
        }

        /// Enable a disabled account.
        pub async fn enable(&self, user_id: String) -> Result<(), DoorwardError> {
            call(self.dw.users().enable(&user_id)).await
        }

        /// Lift a lockout; whether there was anything to clear.
        pub async fn unlock(&self, user_id: String) -> Result<bool, DoorwardError> {
            call(self.dw.users().unlock(&user_id)).await
        }

        /// The account's identities at OAuth providers, oldest first
        /// (`NotFound` if there is no such account).
        pub async fn identities(&self, user_id: String) -> Result<Vec<Identity>, DoorwardError> {
            call(self.dw.users().identities(&user_id)).await.map(each)
        }

        /// Delete an account with its sessions and grants.
        pub async fn delete(&self, user_id: String) -> Result<(), DoorwardError> {
            call(self.dw.users().delete(&user_id)).await
        }
    }
}
