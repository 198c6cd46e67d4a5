//! `dw.users`: accounts.

use napi::Env;
use napi::bindgen_prelude::{Array, PromiseRaw};
use napi_derive::napi;

use crate::error::guarded;
use crate::oauth::Identity;
use crate::types::{
    FlowStarted, ImportOptions, ImportReport, Page, User, UserExportOptions, UserRowPage,
    UserUpdate, each,
};

/// Accounts: `dw.users`.
#[napi]
#[derive(Debug)]
pub struct Users {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Users {
    /// Create an account without logging it in.
    #[napi]
    pub async fn create(
        &self,
        username: String,
        email: String,
        password: String,
    ) -> napi::Result<User> {
        guarded(self.dw.users().create(&username, &email, &password))
            .await
            .map(User::from)
    }

    /// By id (`not_found` if absent).
    #[napi]
    pub async fn get(&self, user_id: String) -> napi::Result<User> {
        guarded(self.dw.users().get(&user_id)).await.map(User::from)
    }

    /// By email address, case-insensitively.
    #[napi]
    pub async fn get_by_email(&self, email: String) -> napi::Result<User> {
        guarded(self.dw.users().get_by_email(&email))
            .await
            .map(User::from)
    }

    /// By username, case-insensitively.
    #[napi]
    pub async fn get_by_username(&self, username: String) -> napi::Result<User> {
        guarded(self.dw.users().get_by_username(&username))
            .await
            .map(User::from)
    }

    /// Accounts in creation order, `limit` (1 to 500, default 50) at a time;
    /// pass `nextCursor` back for the next page.
    #[napi]
    pub async fn list(&self, cursor: Option<String>, limit: Option<f64>) -> napi::Result<Page> {
        // Anything outside u32 is outside 1..=500 too: the core says so.
        let limit = crate::types::limit(limit);
        guarded(self.dw.users().list(cursor.as_deref(), limit))
            .await
            .map(Page::from)
    }

    /// Accounts whose email address or username starts with `query`
    /// (ignoring case), in creation order, paged like `list`. An empty
    /// query is a `validation_error` on `query`.
    #[napi]
    pub async fn search(
        &self,
        query: String,
        cursor: Option<String>,
        limit: Option<f64>,
    ) -> napi::Result<Page> {
        let limit = crate::types::limit(limit);
        guarded(self.dw.users().search(&query, cursor.as_deref(), limit))
            .await
            .map(Page::from)
    }

    /// Import accounts, as when moving from another system: each row is
    /// checked as registration would check it, and its `passwordHash` (the
    /// old system's bcrypt, PBKDF2, scrypt or argon2 hash) is kept until
    /// its owner's next login replaces it with argon2id. Without `atomic`,
    /// the good rows go in and `failed` lists the others by index; with
    /// it, one refused row writes nothing; a dry run writes nothing. One
    /// `UsersImported` event per import. A row that is no `UserRow` (not
    /// an object, an unknown key, a value of the wrong type) is a
    /// `validation_error` on `rows` naming its index and key.
    #[napi(
        ts_args_type = "rows: ReadonlyArray<UserRow>, options?: ImportOptions | undefined | null",
        ts_return_type = "Promise<ImportReport>"
    )]
    pub fn import_users<'env>(
        &self,
        env: &'env Env,
        rows: Array<'_>,
        options: Option<ImportOptions>,
    ) -> napi::Result<PromiseRaw<'env, ImportReport>> {
        // Read here, on the JavaScript thread; imported on the runtime.
        let rows = crate::rows::read(&rows)?;
        let dw = self.dw.clone();
        let options = options.unwrap_or_default().into();
        env.spawn_future(async move {
            guarded(async move {
                let rows = crate::rows::checked(rows)?;
                dw.users().import_users(rows, options).await
            })
            .await
            .map(ImportReport::from)
        })
    }

    /// Accounts as `importUsers` rows, in creation order, `limit` (1 to
    /// 500, default 50) at a time; pass `nextCursor` back for the next
    /// page. `passwordHash` only with `withHashes`; `password` never.
    #[napi]
    pub async fn export_users(
        &self,
        cursor: Option<String>,
        limit: Option<f64>,
        options: Option<UserExportOptions>,
    ) -> napi::Result<UserRowPage> {
        let limit = crate::types::limit(limit);
        let with_hashes = options.unwrap_or_default().with_hashes.unwrap_or(false);
        guarded(
            self.dw
                .users()
                .export_users(cursor.as_deref(), limit, with_hashes),
        )
        .await
        .map(UserRowPage::from)
    }

    /// How many accounts there are, disabled ones included (a number: exact
    /// to 2^53).
    #[napi]
    pub async fn count(&self) -> napi::Result<f64> {
        guarded(self.dw.users().count()).await.map(|n| n as f64)
    }

    /// Change username and/or email (validated and unique as at registration).
    #[napi]
    pub async fn update(&self, user_id: String, update: UserUpdate) -> napi::Result<User> {
        let update = doorward::UserUpdate {
            username: update.username,
            email: update.email,
        };
        guarded(self.dw.users().update(&user_id, update))
            .await
            .map(User::from)
    }

    /// Change a password, proving the old one; every other session ends
    /// (`keepSession`, the caller's own, stays).
    #[napi]
    pub async fn change_password(
        &self,
        user_id: String,
        old_password: String,
        new_password: String,
        keep_session: Option<String>,
    ) -> napi::Result<()> {
        guarded(self.dw.users().change_password(
            &user_id,
            &old_password,
            &new_password,
            keep_session.as_deref(),
        ))
        .await
    }

    /// Set a password without the old one (administrators); every session ends.
    #[napi]
    pub async fn set_password(&self, user_id: String, new_password: String) -> napi::Result<()> {
        guarded(self.dw.users().set_password(&user_id, &new_password)).await
    }

    /// Ask to move an account to `newEmail`, proving the password: a link
    /// and code go to the new address, a notice to the old one, which stays
    /// until the new one is confirmed. `invalid_credentials` for a wrong
    /// password, `duplicate_email` for an address another account holds.
    #[napi]
    pub async fn request_email_change(
        &self,
        user_id: String,
        new_email: String,
        password: String,
    ) -> napi::Result<FlowStarted> {
        guarded(
            self.dw
                .users()
                .request_email_change(&user_id, &new_email, &password),
        )
        .await
        .map(FlowStarted::from)
    }

    /// Confirm a change of address with the link's secret or the code of
    /// flow `flowId`: the account, at its new, verified address.
    #[napi]
    pub async fn confirm_email_change(
        &self,
        flow_id: String,
        secret: String,
    ) -> napi::Result<User> {
        guarded(self.dw.users().confirm_email_change(&flow_id, &secret))
            .await
            .map(User::from)
    }

    /// Mark an account's address verified without a mail (an
    /// administrator's decision).
    #[napi]
    pub async fn mark_email_verified(&self, user_id: String) -> napi::Result<User> {
        guarded(self.dw.users().mark_email_verified(&user_id))
            .await
            .map(User::from)
    }

    /// Disable an account: no logins, and its sessions end now.
    #[napi]
    pub async fn disable(&self, user_id: String) -> napi::Result<()> {
        guarded(self.dw.users().disable(&user_id)).await
    }

    /// Enable a disabled account.
    #[napi]
    pub async fn enable(&self, user_id: String) -> napi::Result<()> {
        guarded(self.dw.users().enable(&user_id)).await
    }

    /// Lift a lockout and forget failed logins; whether there was anything to clear.
    #[napi]
    pub async fn unlock(&self, user_id: String) -> napi::Result<bool> {
        guarded(self.dw.users().unlock(&user_id)).await
    }

    /// Delete an account with its sessions and grants.
    #[napi]
    pub async fn delete(&self, user_id: String) -> napi::Result<()> {
        guarded(self.dw.users().delete(&user_id)).await
    }

    /// The account's identities at OAuth providers, oldest first;
    /// `not_found` if there is no such account.
    #[napi]
    pub async fn identities(&self, user_id: String) -> napi::Result<Vec<Identity>> {
        guarded(self.dw.users().identities(&user_id))
            .await
            .map(each)
    }
}
