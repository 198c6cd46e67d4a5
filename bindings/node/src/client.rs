//! `Doorward`: opening, the authentication operations, and the sub-APIs as
//! properties. Every operation returns a Promise and runs on the addon's
//! runtime, never on the event loop.

use napi::bindgen_prelude::{AsyncTask, Either, Unknown};
use napi_derive::napi;

use crate::audit::Audit;
use crate::error::{guarded, guarded_sync, in_memory, to_js};
use crate::events::Events;
use crate::files::Files;
use crate::limits::Limits;
use crate::mail::Mail;
use crate::mfa::Mfa;
use crate::oauth::OAuth;
use crate::passkeys::Passkeys;
use crate::principal::{
    PooledVerify, Principal, PrincipalBuilder, PrincipalParts, principal_parts,
};
use crate::roles::Roles;
use crate::sessions::Sessions;
use crate::types::{
    ClientInfo, FlowStarted, MfaChallenge, Registration, TokenPair, User, level, login_result,
    seconds,
};
use crate::users::Users;
use crate::webhooks::Webhooks;

/// Open the store the configuration names, migrating it and seeding the
/// built-in roles: `config` is an object with camelCase keys or a TOML file
/// path. The package exposes it as `Doorward.open`.
#[napi(
    js_name = "_open",
    ts_args_type = "config?: import('./index').Config | string"
)]
pub async fn open(config: Option<serde_json::Value>) -> napi::Result<Doorward> {
    let config = crate::config::from_js(config)?;
    let dw = guarded(doorward::Doorward::open(config)).await?;
    Ok(Doorward { dw })
}

/// An open doorward.
#[napi]
#[derive(Debug)]
pub struct Doorward {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Doorward {
    /// Accounts.
    #[napi(getter)]
    pub fn users(&self) -> Users {
        Users {
            dw: self.dw.clone(),
        }
    }

    /// Roles and grants.
    #[napi(getter)]
    pub fn roles(&self) -> Roles {
        Roles {
            dw: self.dw.clone(),
        }
    }

    /// Sessions.
    #[napi(getter)]
    pub fn sessions(&self) -> Sessions {
        Sessions {
            dw: self.dw.clone(),
        }
    }

    /// Rate limits for the host's own endpoints.
    #[napi(getter)]
    pub fn limits(&self) -> Limits {
        Limits {
            dw: self.dw.clone(),
        }
    }

    /// Objects (avatars, attachments) in the store `filesUrl` names.
    #[napi(getter)]
    pub fn files(&self) -> Files {
        Files {
            dw: self.dw.clone(),
        }
    }

    /// Domain events: subscriptions, the outbox, webhook deliveries.
    #[napi(getter)]
    pub fn events(&self) -> Events {
        Events {
            dw: self.dw.clone(),
        }
    }

    /// Webhook endpoints that receive events, signed.
    #[napi(getter)]
    pub fn webhooks(&self) -> Webhooks {
        Webhooks {
            dw: self.dw.clone(),
        }
    }

    /// The hash-chained audit log.
    #[napi(getter)]
    pub fn audit(&self) -> Audit {
        Audit {
            dw: self.dw.clone(),
        }
    }

    /// Outgoing mail: sending now, and the in-memory mailer.
    #[napi(getter)]
    pub fn mail(&self) -> Mail {
        Mail {
            dw: self.dw.clone(),
        }
    }

    /// Second factors: TOTP authenticators and recovery codes.
    #[napi(getter)]
    pub fn mfa(&self) -> Mfa {
        Mfa {
            dw: self.dw.clone(),
        }
    }

    /// Passkeys (WebAuthn): registration, sign-in and management.
    #[napi(getter)]
    pub fn passkeys(&self) -> Passkeys {
        Passkeys {
            dw: self.dw.clone(),
        }
    }

    /// Sign-in with OAuth 2.0 / OpenID Connect providers, and linking.
    #[napi(getter)]
    pub fn oauth(&self) -> OAuth {
        OAuth {
            dw: self.dw.clone(),
        }
    }

    /// The store backend in use: `sqlite`, `postgres` or `memory`.
    #[napi(getter)]
    pub fn backend(&self) -> &'static str {
        self.dw.backend()
    }

    /// The public verification keys as a JWKS document (empty for HS256,
    /// whose secret is never published).
    #[napi(ts_return_type = "{ keys: Record<string, unknown>[] }")]
    pub fn jwks(&self) -> napi::Result<serde_json::Value> {
        self.dw.auth().jwks().map_err(to_js)
    }

    /// Validate, hash and store a new user, and log them in.
    #[napi]
    pub async fn register_user(
        &self,
        username: String,
        email: String,
        password: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<Registration> {
        let client = client.map(Into::into);
        guarded(
            self.dw
                .auth()
                .register_user(&username, &email, &password, client),
        )
        .await
        .map(Registration::from)
    }

    /// Log in with a username or an email address: the session's tokens,
    /// or, for an account with a second factor, an `MfaChallenge` to finish
    /// with `completeMfa` (`mfaRequired` tells them apart).
    #[napi]
    pub async fn login(
        &self,
        login: String,
        password: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<Either<TokenPair, MfaChallenge>> {
        let client = client.map(Into::into);
        guarded(self.dw.auth().login(&login, &password, client))
            .await
            .map(login_result)
    }

    /// Finish a login that answered an `MfaChallenge`: `method` `totp` (a
    /// code from the app), `recovery_code`, or `passkey` (`proof` is then
    /// the browser's `credential.toJSON()` as JSON text, for options from
    /// `passkeys.startAuthentication(username)`). A wrong code is
    /// `invalid_credentials` (counted towards the lockout; the challenge
    /// stays usable for its remaining attempts); a used, unknown or worn-out
    /// one is `flow_invalid` or `flow_expired`.
    #[napi(
        ts_args_type = "flowId: string, method: import('./index').MfaMethod, proof: string, client?: ClientInfo | undefined | null"
    )]
    pub async fn complete_mfa(
        &self,
        flow_id: String,
        method: String,
        proof: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<TokenPair> {
        let client = client.map(Into::into);
        guarded(
            self.dw
                .auth()
                .complete_mfa(&flow_id, &method, &proof, client),
        )
        .await
        .map(TokenPair::from)
    }

    /// Prove who you are again within a session, for a sensitive action:
    /// `method` `password`, `totp`, `recovery_code` or `passkey` (its
    /// assertion as JSON text, as for `completeMfa`). The answer is a new
    /// session's tokens (`authTime` now, the method added to `amr`); the
    /// old session ends. A wrong proof is `invalid_credentials`.
    #[napi(
        ts_args_type = "accessToken: string, method: import('./index').StepUpMethod, proof: string, client?: ClientInfo | undefined | null"
    )]
    pub async fn step_up(
        &self,
        access_token: String,
        method: String,
        proof: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<TokenPair> {
        let client = client.map(Into::into);
        guarded(
            self.dw
                .auth()
                .step_up(&access_token, &method, &proof, client),
        )
        .await
        .map(TokenPair::from)
    }

    /// Throws `step_up_required` unless the principal's session was
    /// authenticated at level `aal` or above. Synchronous: it reads the
    /// principal alone.
    #[napi]
    pub fn require_aal(&self, principal: Principal, aal: f64) -> napi::Result<()> {
        self.dw
            .auth()
            .require_aal(&principal.into(), level(aal))
            .map_err(to_js)
    }

    /// Throws `step_up_required` unless the user proved who they are within
    /// the last `maxAge` seconds. Synchronous: it reads the principal alone.
    #[napi]
    pub fn require_recent_auth(&self, principal: Principal, max_age: f64) -> napi::Result<()> {
        self.dw
            .auth()
            .require_recent_auth(&principal.into(), seconds(max_age))
            .map_err(to_js)
    }

    /// Who an access token speaks for; fails at once after logout,
    /// revocation or disabling. The wrapper's `verifyToken` makes the
    /// `Principal` of these values.
    #[napi(js_name = "_verifyToken")]
    pub async fn verify_token(&self, access_token: String) -> napi::Result<PrincipalParts> {
        guarded(self.dw.auth().verify_token(&access_token))
            .await
            .map(principal_parts)
    }

    /// `verifyToken` on the calling thread, without the hand-off to the
    /// runtime: the answer when it needs no I/O (stateless tokens, or a
    /// session this process caches), else `would_block`.
    #[napi(js_name = "_verifyTokenSync")]
    pub fn verify_token_sync<'a>(
        &self,
        access_token: String,
        build: PrincipalBuilder<'a>,
    ) -> napi::Result<Unknown<'a>> {
        let principal = guarded_sync(|| self.dw.auth().verify_token_sync(&access_token))?;
        build.call(principal_parts(principal).into())
    }

    /// What `verifyToken` resolves to when no I/O is needed and the check
    /// is cheap (HS256 keys), `null` otherwise: the wrapper then makes the
    /// async call. Spares the Promise a trip through the runtime, and a
    /// would-block answer a thrown error; a public-key signature stays off
    /// the event loop.
    #[napi(js_name = "_verifyTokenInMemory")]
    pub fn verify_token_in_memory<'a>(
        &self,
        access_token: String,
        build: PrincipalBuilder<'a>,
    ) -> napi::Result<Option<Unknown<'a>>> {
        if !self.dw.auth().verifies_inline() {
            return Ok(None);
        }
        match in_memory(|| self.dw.auth().verify_token_sync(&access_token))? {
            Some(principal) => build.call(principal_parts(principal).into()).map(Some),
            None => Ok(None),
        }
    }

    /// Whether `verifyToken` checks on Node's thread pool here: public
    /// keys, and no check needs I/O (`statelessVerify`). Fixed for the
    /// instance, whose keys are.
    #[napi(js_name = "_verifiesPooled")]
    pub fn verifies_pooled(&self) -> bool {
        let auth = self.dw.auth();
        !auth.verifies_inline() && auth.verifies_without_io()
    }

    /// `verifyToken` of each of `tokens` on Node's thread pool, where
    /// `_verifiesPooled`. Resolves to the JSON text `PooledVerify`
    /// describes.
    #[napi(js_name = "_verifyTokensPooled")]
    pub fn verify_tokens_pooled(
        &self,
        tokens: Vec<String>,
    ) -> napi::Result<AsyncTask<PooledVerify>> {
        if !self.verifies_pooled() {
            return Err(to_js(doorward::Error::Internal(
                "verification on the thread pool needs public keys and statelessVerify".into(),
            )));
        }
        Ok(AsyncTask::new(PooledVerify {
            dw: self.dw.clone(),
            tokens,
        }))
    }

    /// A new pair for a refresh token, which stops working; using it again
    /// revokes its whole family (`token_reused`).
    #[napi]
    pub async fn refresh_token(&self, refresh_token: String) -> napi::Result<TokenPair> {
        guarded(self.dw.auth().refresh_token(&refresh_token))
            .await
            .map(TokenPair::from)
    }

    /// End the session an access token belongs to.
    #[napi]
    pub async fn logout(&self, access_token: String) -> napi::Result<()> {
        guarded(self.dw.auth().logout(&access_token)).await
    }

    /// Whether a user holds a permission (`users:write`; `admin:*` and `*`
    /// grant by wildcard).
    #[napi]
    pub async fn can(&self, user_id: String, permission: String) -> napi::Result<bool> {
        guarded(self.dw.auth().can(&user_id, &permission)).await
    }

    /// `can` on the calling thread: the answer when this process caches
    /// the user's permissions, else `would_block`.
    #[napi]
    pub fn can_sync(&self, user_id: String, permission: String) -> napi::Result<bool> {
        guarded_sync(|| self.dw.auth().can_sync(&user_id, &permission))
    }

    /// What `can` resolves to when no I/O is needed, `null` when it is.
    #[napi(js_name = "_canInMemory")]
    pub fn can_in_memory(&self, user_id: String, permission: String) -> napi::Result<Option<bool>> {
        in_memory(|| self.dw.auth().can_sync(&user_id, &permission))
    }

    /// Like `can`, but a missing permission rejects with `forbidden`.
    #[napi]
    pub async fn require(&self, user_id: String, permission: String) -> napi::Result<()> {
        guarded(self.dw.auth().require(&user_id, &permission)).await
    }

    /// Start a session without a password (administrators, a verified magic
    /// link).
    #[napi]
    pub async fn issue_tokens(
        &self,
        user_id: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<TokenPair> {
        let client = client.map(Into::into);
        guarded(self.dw.auth().issue_tokens(&user_id, client))
            .await
            .map(TokenPair::from)
    }

    /// Mail a verification link and code to the account's address (through
    /// the outbox: a mail server outage delays it, never fails this call).
    /// `validation_error` on `email` when the address is verified already.
    #[napi]
    pub async fn request_email_verification(&self, user_id: String) -> napi::Result<FlowStarted> {
        guarded(self.dw.auth().request_email_verification(&user_id))
            .await
            .map(FlowStarted::from)
    }

    /// Verify an address with the link's secret or the code of flow
    /// `flowId`: the account, verified. `flow_invalid` for a wrong or used
    /// secret, `flow_expired` past its lifetime or its attempts.
    #[napi]
    pub async fn verify_email(&self, flow_id: String, secret: String) -> napi::Result<User> {
        guarded(self.dw.auth().verify_email(&flow_id, &secret))
            .await
            .map(User::from)
    }

    /// Mail a reset link and code to `email`'s account. The answer is the
    /// same whether the address has an account or not; only the mail
    /// differs. Throttled per address and client, with a resend cooldown.
    #[napi]
    pub async fn request_password_reset(
        &self,
        email: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<FlowStarted> {
        let client = client.map(Into::into);
        guarded(self.dw.auth().request_password_reset(&email, client))
            .await
            .map(FlowStarted::from)
    }

    /// Set a new password with the link's secret or the code of flow
    /// `flowId`. A weak password is refused before the secret is spent;
    /// then every session of the account ends and a lockout is lifted.
    #[napi]
    pub async fn reset_password(
        &self,
        flow_id: String,
        secret: String,
        new_password: String,
    ) -> napi::Result<()> {
        guarded(
            self.dw
                .auth()
                .reset_password(&flow_id, &secret, &new_password),
        )
        .await
    }

    /// Mail a sign-in link and code to `email`, with the same answer for an
    /// address that has no account (which gets no mail unless
    /// `signInCreatesUsers` is on).
    #[napi]
    pub async fn request_sign_in(
        &self,
        email: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<FlowStarted> {
        let client = client.map(Into::into);
        guarded(self.dw.auth().request_sign_in(&email, client))
            .await
            .map(FlowStarted::from)
    }

    /// Sign in with the link's secret or the code of flow `flowId`: a
    /// session like a password login's (or an `MfaChallenge`, as `login`
    /// answers); the address counts as verified.
    #[napi]
    pub async fn complete_sign_in(
        &self,
        flow_id: String,
        secret: String,
        client: Option<ClientInfo>,
    ) -> napi::Result<Either<TokenPair, MfaChallenge>> {
        let client = client.map(Into::into);
        guarded(self.dw.auth().complete_sign_in(&flow_id, &secret, client))
            .await
            .map(login_result)
    }

    /// This instance's counters, latency histograms and gauges (outbox
    /// backlog, active sessions) as Prometheus text, for a `/metrics`
    /// route.
    #[napi]
    pub async fn metrics_text(&self) -> napi::Result<String> {
        guarded(self.dw.metrics_text()).await
    }
}
