//! `Doorward` and its sub-APIs, as suspend functions (Kotlin) and async
//! functions (Swift).

use std::sync::Arc;

use crate::audit::Audit;
use crate::config::Config;
use crate::error::{DoorwardError, call};
use crate::events::Events;
use crate::files::Files;
use crate::mail::Mail;
use crate::types::{
    ClientInfo, Decision, Page, Principal, Registration, Role, Session, TokenPair, User, each, pair,
};
use crate::webhooks::Webhooks;

/// An open doorward.
#[derive(Debug, uniffi::Object)]
pub struct Doorward {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Doorward {
        /// Open the store the configuration names, migrating it and
        /// seeding the built-in roles.
        #[uniffi::constructor]
        pub async fn open(config: Config) -> Result<Arc<Self>, DoorwardError> {
            let config = doorward::Config::try_from(config)?;
            let dw = call(doorward::Doorward::open(config)).await?;
            Ok(Arc::new(Doorward { dw }))
        }

        /// Accounts.
        pub fn users(&self) -> Arc<Users> {
            Arc::new(Users { dw: self.dw.clone() })
        }

        /// Roles and grants.
        pub fn roles(&self) -> Arc<Roles> {
            Arc::new(Roles { dw: self.dw.clone() })
        }

        /// Sessions.
        pub fn sessions(&self) -> Arc<Sessions> {
            Arc::new(Sessions { dw: self.dw.clone() })
        }

        /// Rate limits for the host's own endpoints.
        pub fn limits(&self) -> Arc<Limits> {
            Arc::new(Limits { dw: self.dw.clone() })
        }

        /// Files in the store `files_url` names.
        pub fn files(&self) -> Arc<Files> {
            Arc::new(Files { dw: self.dw.clone() })
        }

        /// Domain events: subscriptions, the outbox, dead letters.
        pub fn events(&self) -> Arc<Events> {
            Arc::new(Events { dw: self.dw.clone() })
        }

        /// Signed webhook endpoints.
        pub fn webhooks(&self) -> Arc<Webhooks> {
            Arc::new(Webhooks { dw: self.dw.clone() })
        }

        /// The hash-chained audit log.
        pub fn audit(&self) -> Arc<Audit> {
            Arc::new(Audit { dw: self.dw.clone() })
        }

        /// Outgoing mail: sending now, and the in-memory mailer.
        pub fn mail(&self) -> Arc<Mail> {
            Arc::new(Mail { dw: self.dw.clone() })
        }

        /// This instance's counters, latency histograms and gauges
        /// (outbox backlog, active sessions) as Prometheus text.
        pub async fn metrics_text(&self) -> Result<String, DoorwardError> {
            call(self.dw.metrics_text()).await
        }

        /// The store backend in use: `sqlite`, `postgres` or `memory`.
        pub fn backend(&self) -> String {
            self.dw.backend().to_string()
        }

        /// The public verification keys as a JWKS JSON document, for a
        /// `TokenVerifier` elsewhere (empty for HS256).
        pub fn jwks(&self) -> Result<String, DoorwardError> {
            Ok(self.dw.auth().jwks()?.to_string())
        }

        /// Validate, hash and store a new user, and log them in.
        #[uniffi::method(default(client = None))]
        pub async fn register_user(
            &self,
            username: String,
            email: String,
            password: String,
            client: Option<ClientInfo>,
        ) -> Result<Registration, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().register_user(&username, &email, &password, client))
                .await
                .map(Registration::from)
        }

        /// Log in with a username or an email address.
        #[uniffi::method(default(client = None))]
        pub async fn login(
            &self,
            login: String,
            password: String,
            client: Option<ClientInfo>,
        ) -> Result<Arc<TokenPair>, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().login(&login, &password, client))
                .await
                .map(pair)
        }

        /// Who an access token speaks for; fails at once after logout,
        /// revocation or disabling.
        pub async fn verify_token(&self, access_token: String) -> Result<Principal, DoorwardError> {
            call(self.dw.auth().verify_token(&access_token))
                .await
                .map(Principal::from)
        }

        /// A new pair for a refresh token, which stops working; using it
        /// again revokes its whole family (`TokenReused`).
        pub async fn refresh_token(&self, refresh_token: String) -> Result<Arc<TokenPair>, DoorwardError> {
            call(self.dw.auth().refresh_token(&refresh_token))
                .await
                .map(pair)
        }

        /// End the session an access token belongs to.
        pub async fn logout(&self, access_token: String) -> Result<(), DoorwardError> {
            call(self.dw.auth().logout(&access_token)).await
        }

        /// Whether a user holds a permission (`admin:*` and `*` grant by
        /// wildcard).
        pub async fn can(&self, user_id: String, permission: String) -> Result<bool, DoorwardError> {
            call(self.dw.auth().can(&user_id, &permission)).await
        }

        /// Like `can`, but a missing permission throws `Forbidden`.
        pub async fn require(&self, user_id: String, permission: String) -> Result<(), DoorwardError> {
            call(self.dw.auth().require(&user_id, &permission)).await
        }

        /// Start a session without a password (administrators, a verified
        /// magic link).
        #[uniffi::method(default(client = None))]
        pub async fn issue_tokens(
            &self,
            user_id: String,
            client: Option<ClientInfo>,
        ) -> Result<Arc<TokenPair>, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().issue_tokens(&user_id, client))
                .await
                .map(pair)
        }
    }
}

/// Accounts: `doorward.users()`.
#[derive(Debug, uniffi::Object)]
pub struct Users {
    dw: doorward::Doorward,
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

        /// Accounts in creation order, `limit` (1 to 500) at a time.
        #[uniffi::method(default(cursor = None, limit = 50))]
        pub async fn list(&self, cursor: Option<String>, limit: u32) -> Result<Page, DoorwardError> {
            call(self.dw.users().list(cursor.as_deref(), limit)).await.map(Page::from)
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

        /// Delete an account with its sessions and grants.
        pub async fn delete(&self, user_id: String) -> Result<(), DoorwardError> {
            call(self.dw.users().delete(&user_id)).await
        }
    }
}

/// Roles and grants: `doorward.roles()`.
#[derive(Debug, uniffi::Object)]
pub struct Roles {
    dw: doorward::Doorward,
}

export! {
    impl Roles {
        /// Every role, by name.
        pub async fn list(&self) -> Result<Vec<Role>, DoorwardError> {
            call(self.dw.roles().list()).await.map(each)
        }

        /// One role (`NotFound` if absent).
        pub async fn get(&self, name: String) -> Result<Role, DoorwardError> {
            call(self.dw.roles().get(&name)).await.map(Role::from)
        }

        /// Create a role with these permissions.
        #[uniffi::method(default(description = ""))]
        pub async fn create(&self, name: String, permissions: Vec<String>, description: String) -> Result<Role, DoorwardError> {
            let permissions: Vec<&str> = permissions.iter().map(String::as_str).collect();
            call(self.dw.roles().create(&name, &permissions, &description)).await.map(Role::from)
        }

        /// Delete a role and take it from everyone (built-in roles stay).
        pub async fn delete(&self, name: String) -> Result<(), DoorwardError> {
            call(self.dw.roles().delete(&name)).await
        }

        /// Give a user a role; whether it was new.
        pub async fn grant(&self, user_id: String, name: String) -> Result<bool, DoorwardError> {
            call(self.dw.roles().grant(&user_id, &name)).await
        }

        /// Take a role from a user; whether they had it.
        pub async fn revoke(&self, user_id: String, name: String) -> Result<bool, DoorwardError> {
            call(self.dw.roles().revoke(&user_id, &name)).await
        }

        /// The names of a user's roles.
        pub async fn of_user(&self, user_id: String) -> Result<Vec<String>, DoorwardError> {
            call(self.dw.roles().of_user(&user_id)).await
        }
    }
}

/// Sessions: `doorward.sessions()`.
#[derive(Debug, uniffi::Object)]
pub struct Sessions {
    dw: doorward::Doorward,
}

export! {
    impl Sessions {
        /// A user's live sessions, newest first.
        pub async fn list(&self, user_id: String) -> Result<Vec<Session>, DoorwardError> {
            call(self.dw.sessions().list(&user_id)).await.map(each)
        }

        /// End one session now (`NotFound` if it is not live).
        pub async fn revoke(&self, session_id: String) -> Result<(), DoorwardError> {
            call(self.dw.sessions().revoke(&session_id)).await
        }

        /// End every session of a user; how many were live.
        pub async fn revoke_all(&self, user_id: String) -> Result<u64, DoorwardError> {
            call(self.dw.sessions().revoke_all(&user_id)).await
        }
    }
}

/// Rate limits: `doorward.limits()`.
#[derive(Debug, uniffi::Object)]
pub struct Limits {
    dw: doorward::Doorward,
}

export! {
    impl Limits {
        /// Admit one call under `key` by `quota` (`"10/1m"`), or throw
        /// `RateLimited` with the wait.
        pub async fn limit(&self, key: String, quota: String) -> Result<Decision, DoorwardError> {
            call(async {
                let quota: doorward::Quota = quota.parse()?;
                self.dw.limits().limit(&key, &quota).await
            })
            .await
            .map(Decision::from)
        }
    }
}
