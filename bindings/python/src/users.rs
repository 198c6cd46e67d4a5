//! `dw.users`: accounts.

use crate::oauth::Identity;
use crate::types::{Done, FlowStarted, Page, User, each};

sub_api!(
    /// Accounts: `dw.users`.
    Users,
    AsyncUsers
);

twins! {
    Users, AsyncUsers;

    /// Create an account without logging it in.
    fn create(dw, username: String, email: String, password: String) -> User {
        dw.users().create(&username, &email, &password).await.map(User::from)
    }

    /// By id (`NotFoundError` if absent).
    fn get(dw, user_id: String) -> User {
        dw.users().get(&user_id).await.map(User::from)
    }

    /// By email address, case-insensitively.
    fn get_by_email(dw, email: String) -> User {
        dw.users().get_by_email(&email).await.map(User::from)
    }

    /// By username, case-insensitively.
    fn get_by_username(dw, username: String) -> User {
        dw.users().get_by_username(&username).await.map(User::from)
    }

    /// Accounts in creation order, `limit` (1 to 500; None for the
    /// default, 50) at a time; pass `next_cursor` back for the next page.
    #[pyo3(signature = (cursor = None, limit = None))]
    fn list(dw, cursor: Option<String>, limit: Option<i64>) -> Page {
        dw.users()
            .list(cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(Page::from)
    }

    /// How many accounts there are, disabled ones included.
    fn count(dw) -> u64 {
        dw.users().count().await
    }

    /// Change username and/or email (validated and unique as at registration).
    #[pyo3(signature = (user_id, *, username = None, email = None))]
    fn update(dw, user_id: String, username: Option<String>, email: Option<String>) -> User {
        let update = doorward::UserUpdate { username, email };
        dw.users().update(&user_id, update).await.map(User::from)
    }

    /// Change a password, proving the old one; every other session ends
    /// (`keep_session`, the caller's own, stays).
    #[pyo3(signature = (user_id, old_password, new_password, keep_session = None))]
    fn change_password(
        dw,
        user_id: String,
        old_password: String,
        new_password: String,
        keep_session: Option<String>,
    ) -> Done {
        dw.users()
            .change_password(&user_id, &old_password, &new_password, keep_session.as_deref())
            .await
    }

    /// Ask to move an account to a new address, proving the password: a
    /// link and code go to the new address, a notice to the old one.
    fn request_email_change(dw, user_id: String, new_email: String, password: String) -> FlowStarted {
        dw.users()
            .request_email_change(&user_id, &new_email, &password)
            .await
            .map(FlowStarted::from)
    }

    /// Confirm a change of address with the new address's link secret or code.
    fn confirm_email_change(dw, flow_id: String, secret: String) -> User {
        dw.users()
            .confirm_email_change(&flow_id, &secret)
            .await
            .map(User::from)
    }

    /// Mark an account's address verified without a mail (administrators).
    fn mark_email_verified(dw, user_id: String) -> User {
        dw.users().mark_email_verified(&user_id).await.map(User::from)
    }

    /// Set a password without the old one (administrators); every session ends.
    fn set_password(dw, user_id: String, new_password: String) -> Done {
        dw.users().set_password(&user_id, &new_password).await
    }

    /// Disable an account: no logins, and its sessions end now.
    fn disable(dw, user_id: String) -> Done {
        dw.users().disable(&user_id).await
    }

    /// Enable a disabled account.
    fn enable(dw, user_id: String) -> Done {
        dw.users().enable(&user_id).await
    }

    /// Lift a lockout and forget failed logins; whether there was anything to clear.
    fn unlock(dw, user_id: String) -> bool {
        dw.users().unlock(&user_id).await
    }

    /// Delete an account with its sessions and grants.
    fn delete(dw, user_id: String) -> Done {
        dw.users().delete(&user_id).await
    }

    /// The account's identities at OAuth providers.
    fn identities(dw, user_id: String) -> Vec<Identity> {
        dw.users().identities(&user_id).await.map(each)
    }
}
