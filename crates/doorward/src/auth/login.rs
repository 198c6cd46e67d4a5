//! Password login.

use serde_json::json;
use tracing::field::Empty;

use super::assurance::Method;
use super::{Auth, ClientInfo, LoginResult, outcome};
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::password::Verdict;

use crate::telemetry::operation;
use crate::users::validate;

impl Auth {
    /// Log in with a username or an email address.
    ///
    /// An unknown login and a wrong password both answer
    /// `invalid_credentials` after the same argon2 work. A disabled account
    /// answers `user_disabled`, but only to the right password. A hash with
    /// outdated parameters is replaced on the way.
    ///
    /// Attempts are rate limited per account (`rate_limit_login_account`;
    /// its username and email share one budget) and per client address
    /// (`rate_limit_login_ip`): `rate_limited`, with a retry-after, before
    /// any password work. After `lockout_threshold` wrong passwords in a
    /// row from one client address, that address is locked out of the
    /// account (`account_locked`, with a retry-after) for a delay that
    /// doubles with each further failure; after `lockout_account_threshold`
    /// from anywhere, the whole account is, except for clients that have
    /// logged in to it before. A successful login or
    /// [`crate::Users::unlock`] resets the counts.
    ///
    /// With `require_verified_email_for_login` on, an account whose address
    /// is not verified answers `email_not_verified`, again only to the
    /// right password.
    ///
    /// An account with a second factor (or a role in
    /// `mfa_required_for_roles`) gets [`LoginResult::MfaRequired`] instead
    /// of tokens: finish with [`Auth::complete_mfa`]. Its failure counts
    /// are reset only then.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: Option<ClientInfo>,
    ) -> Result<LoginResult> {
        let result = self
            .core
            .observe(operation!("auth.login", user_id = Empty), async {
                self.core.keys()?;
                let login = login.trim();
                if login.is_empty() || login.len() > 320 || login.contains('\0') {
                    return Err(Error::validation(
                        "login",
                        "must be a username or an email address",
                    ));
                }
                if password.is_empty()
                    || password.len() > validate::MAX_PASSWORD_BYTES
                    || password.contains('\0')
                {
                    return Err(Error::validation(
                        "password",
                        "is required and at most 1024 bytes",
                    ));
                }
                if let (Some(quota), Some(ip)) = (
                    &self.core.quotas.login_ip,
                    client.as_ref().and_then(|c| c.ip.as_deref()),
                ) {
                    let ip = self.core.quotas.client_key(ip);
                    self.core
                        .rate_check(&format!("login:ip:{ip}"), quota)
                        .await?;
                }
                let password = validate::normalize_password(password);
                let user = crate::users::find_by_login(&self.core, login).await?;
                let gate = self
                    .core
                    .login_gate(user.as_ref(), login, client.as_ref())
                    .await;
                let Some(user) = user else {
                    gate?;
                    self.core.hasher.verify_dummy(&password).await?;
                    tracing::info!(outcome = "unknown_user", "login failed");
                    // The login name is not recorded: it may be a mistyped password.
                    let event = Event::new(
                        EventType::LoginFailed,
                        None,
                        None,
                        client.as_ref(),
                        json!({ "reason": "unknown_user" }),
                    );
                    self.core.store.append_events(&[event]).await?;
                    return Err(Error::InvalidCredentials);
                };
                let refused = |reason: &str| {
                    Event::by_user(
                        EventType::LoginFailed,
                        &user.id,
                        client.as_ref(),
                        Event::user_payload(&user.id, &user.username, json!({ "reason": reason })),
                    )
                };
                tracing::Span::current().record("user_id", user.id.as_str());
                let gate = match gate {
                    Err(e @ Error::AccountLocked { .. }) => {
                        tracing::info!(outcome = "locked", "login refused");
                        self.core.store.append_events(&[refused("locked")]).await?;
                        return Err(e);
                    }
                    other => other?,
                };
                let verdict = self
                    .core
                    .hasher
                    .verify(&password, &user.password_hash)
                    .await?;
                if verdict == Verdict::Invalid {
                    tracing::info!(outcome = "wrong_password", "login failed");
                    self.core
                        .login_failed(&user, &gate, refused("wrong_password"), client.as_ref())
                        .await?;
                    return Err(Error::InvalidCredentials);
                }
                if user.disabled {
                    tracing::info!(outcome = "disabled", "login refused");
                    self.core
                        .store
                        .append_events(&[refused("disabled")])
                        .await?;
                    return Err(Error::UserDisabled);
                }
                if self.core.config.require_verified_email_for_login
                    && user.email_verified_at.is_none()
                {
                    tracing::info!(outcome = "email_not_verified", "login refused");
                    self.core
                        .store
                        .append_events(&[refused("email_not_verified")])
                        .await?;
                    return Err(Error::EmailNotVerified);
                }
                if verdict == Verdict::ValidNeedsRehash {
                    let fresh = self.core.hasher.hash(&password).await?;
                    // Only over the hash just verified: a password change
                    // that committed meanwhile stays, and the session
                    // below is refused for it.
                    if self
                        .core
                        .store
                        .rehash_password(&user.id, &user.password_hash, &fresh)
                        .await?
                    {
                        tracing::info!("password hash upgraded to current parameters");
                    }
                }
                // The session is only stored if the account is still as
                // read above: a disable or password change that committed
                // during the argon2 work refuses it.
                let result = match self
                    .core
                    .after_first_factor(&user, Method::Password, "password", client.as_ref(), &gate)
                    .await
                {
                    Ok(result) => result,
                    Err(Error::NotFound { .. }) => return Err(Error::InvalidCredentials),
                    Err(e) => {
                        tracing::info!(
                            outcome = e.code().as_str(),
                            "login refused: account changed"
                        );
                        return Err(e);
                    }
                };
                tracing::info!(known_client = gate.known, "password accepted");
                Ok(result)
            })
            .await;
        self.core
            .metrics
            .count("doorward_logins_total", &[("outcome", outcome(&result))]);
        result
    }
}
