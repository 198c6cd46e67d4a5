//! `Doorward`: opening, the sub-API accessors and the auth operations, as
//! suspend functions (Kotlin) and async functions (Swift). Each sub-API has
//! its own file, as in the core.

use std::sync::Arc;

use crate::audit::Audit;
use crate::config::Config;
use crate::error::{DoorwardError, call};
use crate::events::Events;
use crate::files::Files;
use crate::limits::Limits;
use crate::mail::Mail;
use crate::mfa::Mfa;
use crate::oauth::OAuth;
use crate::passkeys::Passkeys;
use crate::roles::Roles;
use crate::sessions::Sessions;
use crate::types::{
    ClientInfo, FlowStarted, LoginResult, Principal, Registration, TokenPair, User, pair,
};
use crate::users::Users;
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

        /// Second factors: TOTP authenticators and recovery codes.
        pub fn mfa(&self) -> Arc<Mfa> {
            Arc::new(Mfa { dw: self.dw.clone() })
        }

        /// Passkeys (WebAuthn): registration, sign-in, management.
        pub fn passkeys(&self) -> Arc<Passkeys> {
            Arc::new(Passkeys { dw: self.dw.clone() })
        }

        /// Sign-in with OAuth 2.0 / OpenID Connect providers, and linking.
        pub fn oauth(&self) -> Arc<OAuth> {
            Arc::new(OAuth { dw: self.dw.clone() })
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

        /// Log in with a username or an email address: `Tokens`, or
        /// `MfaRequired` when the account has a second factor (or a role
        /// that requires one), to finish with `completeMfa`.
        #[uniffi::method(default(client = None))]
        pub async fn login(
            &self,
            login: String,
            password: String,
            client: Option<ClientInfo>,
        ) -> Result<LoginResult, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().login(&login, &password, client))
                .await
                .map(LoginResult::from)
        }

        /// Finish a login that answered `MfaRequired`: `method` `totp` (a
        /// code from the app), `recovery_code`, or `passkey` (`proof`: the
        /// JSON text of an assertion for `passkeys().startAuthentication`'s
        /// options). A wrong code is
        /// `InvalidCredentials` (counted like a wrong password; the flow
        /// stays usable for its remaining attempts); a used or unknown flow
        /// `FlowInvalid`, a spent one `FlowExpired`.
        #[uniffi::method(default(client = None))]
        pub async fn complete_mfa(
            &self,
            flow_id: String,
            method: String,
            proof: String,
            client: Option<ClientInfo>,
        ) -> Result<Arc<TokenPair>, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().complete_mfa(&flow_id, &method, &proof, client))
                .await
                .map(pair)
        }

        /// Prove who you are again within a session, for a sensitive
        /// action: `method` `password`, `totp`, `recovery_code` or
        /// `passkey` (an assertion's JSON text). The
        /// tokens of a new session with the method added (level 2 after a
        /// password and a second factor) and `authTime` now; the old
        /// session ends.
        #[uniffi::method(default(client = None))]
        pub async fn step_up(
            &self,
            access_token: String,
            method: String,
            proof: String,
            client: Option<ClientInfo>,
        ) -> Result<Arc<TokenPair>, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().step_up(&access_token, &method, &proof, client))
                .await
                .map(pair)
        }

        /// Throws `StepUpRequired` unless `principal`'s session was
        /// authenticated at level `aal` or above. From the token alone, no
        /// I/O.
        pub fn require_aal(&self, principal: Principal, aal: u8) -> Result<(), DoorwardError> {
            Ok(self.dw.auth().require_aal(&principal.into(), aal)?)
        }

        /// Throws `StepUpRequired` unless the user proved who they are
        /// within the last `max_age` seconds. No I/O.
        pub fn require_recent_auth(&self, principal: Principal, max_age: u64) -> Result<(), DoorwardError> {
            Ok(self.dw.auth().require_recent_auth(&principal.into(), max_age)?)
        }

        /// Who an access token speaks for; fails at once after logout,
        /// revocation or disabling.
        pub async fn verify_token(&self, access_token: String) -> Result<Principal, DoorwardError> {
            call(self.dw.auth().verify_token(&access_token))
                .await
                .map(Principal::from)
        }

        /// `verify_token` without suspending: the answer when no I/O is
        /// needed (stateless tokens, or a session this process caches),
        /// else `WouldBlock`.
        pub fn verify_token_sync(&self, access_token: String) -> Result<Principal, DoorwardError> {
            Ok(doorward::error::catch_panics_sync(|| self.dw.auth().verify_token_sync(&access_token))
                .map(Principal::from)?)
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

        /// `can` without suspending: the answer when this process caches
        /// the user's permissions, else `WouldBlock`.
        pub fn can_sync(&self, user_id: String, permission: String) -> Result<bool, DoorwardError> {
            Ok(doorward::error::catch_panics_sync(|| self.dw.auth().can_sync(&user_id, &permission))?)
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

        /// Mail a verification link and code to the account's address
        /// (through the outbox: a mail outage delays it, never fails this
        /// call). `Validation` on `email` when it is verified already.
        pub async fn request_email_verification(&self, user_id: String) -> Result<FlowStarted, DoorwardError> {
            call(self.dw.auth().request_email_verification(&user_id))
                .await
                .map(FlowStarted::from)
        }

        /// Verify an address with the link's secret or the typed code of
        /// flow `flow_id`: the account, verified. `FlowInvalid` for a wrong
        /// or used secret, `FlowExpired` past its lifetime or its attempts.
        pub async fn verify_email(&self, flow_id: String, secret: String) -> Result<User, DoorwardError> {
            call(self.dw.auth().verify_email(&flow_id, &secret))
                .await
                .map(User::from)
        }

        /// Mail a password reset link and code to `email`'s account. The
        /// same answer, after the same work, for an address with no
        /// account; throttled per address, per client and by a cooldown.
        #[uniffi::method(default(client = None))]
        pub async fn request_password_reset(
            &self,
            email: String,
            client: Option<ClientInfo>,
        ) -> Result<FlowStarted, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().request_password_reset(&email, client))
                .await
                .map(FlowStarted::from)
        }

        /// Set a new password with the link's secret or the code of flow
        /// `flow_id`; every session of the account ends.
        pub async fn reset_password(
            &self,
            flow_id: String,
            secret: String,
            new_password: String,
        ) -> Result<(), DoorwardError> {
            call(self.dw.auth().reset_password(&flow_id, &secret, &new_password)).await
        }

        /// Mail a sign-in link and code to `email`, enumeration-safe like
        /// `requestPasswordReset`.
        #[uniffi::method(default(client = None))]
        pub async fn request_sign_in(
            &self,
            email: String,
            client: Option<ClientInfo>,
        ) -> Result<FlowStarted, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().request_sign_in(&email, client))
                .await
                .map(FlowStarted::from)
        }

        /// Sign in with the link's secret or the code of flow `flow_id`: a
        /// session like a password login's, or `MfaRequired` when the
        /// account has a second factor.
        #[uniffi::method(default(client = None))]
        pub async fn complete_sign_in(
            &self,
            flow_id: String,
            secret: String,
            client: Option<ClientInfo>,
        ) -> Result<LoginResult, DoorwardError> {
            let client = client.map(Into::into);
            call(self.dw.auth().complete_sign_in(&flow_id, &secret, client))
                .await
                .map(LoginResult::from)
        }
    }
}
