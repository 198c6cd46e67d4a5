//! Account flows: email verification, password reset, sign-in by email and
//! email change, on one mechanism of one-time secrets.
//!
//! Each flow mails a link (with a 32-byte secret) and a short code, bound to
//! one flow id: the host's page posts the flow id with either. The store
//! keeps keyed hashes only (see `flows/secret.rs`), and a secret is consumed by one
//! conditional statement that also counts attempts, so two consumers
//! racing cannot both win and a code cannot be guessed past
//! [`MAX_ATTEMPTS`].
//!
//! Asking for a reset or a sign-in with an address that has no account
//! does the same work as with one (the same quotas, the same two HMACs and
//! sealing, a stored flow, an event) and answers the same: only the mail
//! differs, and it leaves later, from the outbox. A link is consumed by the
//! host's POST, never by a GET, so mail scanners that open links cannot
//! burn them.
//!
//! The operations live on the services their callers hold:
//! [`crate::Auth`] (`request_email_verification`, `verify_email`,
//! `request_password_reset`, `reset_password`, `request_sign_in`,
//! `complete_sign_in`) and [`crate::Users`] (`request_email_change`,
//! `confirm_email_change`, `mark_email_verified`).

mod change_email;
mod reset;
pub(crate) mod sealed;
pub(crate) mod secret;
mod sign_in;
mod verify;

use chrono::Duration;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::ClientInfo;
use crate::config::Config;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{Consumption, FlowRecord, UserRecord, now};
use secret::FlowKey;

/// Secrets presented to one flow, right or wrong, before it is dead.
pub const MAX_ATTEMPTS: u32 = 5;

/// What a flow is for. Its name is what the store and the events keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Prove the account's address.
    VerifyEmail,
    /// Choose a new password without the old one.
    ResetPassword,
    /// Sign in with the address alone.
    SignIn,
    /// Move the account to a new address, proven from it.
    ChangeEmail,
}

impl Purpose {
    /// The stored name.
    ///
    /// ```
    /// assert_eq!(doorward::flows::Purpose::ResetPassword.as_str(), "reset_password");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::SignIn => "sign_in",
            Purpose::ChangeEmail => "change_email",
        }
    }

    /// Its stored name parsed back; `None` for a purpose this version does
    /// not know.
    pub fn parse(name: &str) -> Option<Purpose> {
        [
            Purpose::VerifyEmail,
            Purpose::ResetPassword,
            Purpose::SignIn,
            Purpose::ChangeEmail,
        ]
        .into_iter()
        .find(|p| p.as_str() == name)
    }

    /// Seconds its secrets work (`*_ttl`).
    pub(crate) fn ttl(self, config: &Config) -> u64 {
        match self {
            Purpose::VerifyEmail => config.verify_email_ttl,
            Purpose::ResetPassword => config.reset_password_ttl,
            Purpose::SignIn => config.sign_in_ttl,
            Purpose::ChangeEmail => config.change_email_ttl,
        }
    }

    /// The event that reports a request.
    fn requested(self) -> EventType {
        match self {
            Purpose::VerifyEmail => EventType::EmailVerificationRequested,
            Purpose::ResetPassword => EventType::PasswordResetRequested,
            Purpose::SignIn => EventType::SignInLinkRequested,
            Purpose::ChangeEmail => EventType::EmailChangeRequested,
        }
    }
}

/// What a request for an account mail answers: the flow's id, for the
/// page where the user types the code, and how long its secrets work.
///
/// The same for an address with no account: a flow id that no secret will
/// ever match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowStarted {
    /// Posted back with the code (a link carries it already).
    pub flow_id: String,
    /// Seconds until the link and the code stop working.
    pub expires_in: u64,
}

/// Where a flow's mail goes and on whose behalf.
pub(crate) struct Target<'a> {
    /// The account, if the address has one (or, for an email change, the
    /// account moving).
    pub user: Option<&'a UserRecord>,
    /// The address (display form) and its key.
    pub address: &'a str,
    pub address_key: &'a str,
}

impl Core {
    /// The flows' keys; `config_error` without `flow_key` or `jwt_secret`.
    pub(crate) fn flow_key(&self) -> Result<&FlowKey> {
        self.flow_key.as_deref().ok_or_else(|| {
            Error::Config("account flows need a flow_key (or a jwt_secret to derive it)".into())
        })
    }

    /// Throttle, make the secrets, and store the flow with the event that
    /// has its mail sent. Every step is the same whether `target.user` is
    /// set or not.
    pub(crate) async fn start_flow(
        &self,
        purpose: Purpose,
        target: Target<'_>,
        client: Option<&ClientInfo>,
    ) -> Result<FlowStarted> {
        let key = self.flow_key()?;
        if self.mail.get().is_none() && self.config.events_dispatch {
            return Err(Error::Config(
                "account mails need a mailer: set mail_url or call mail().set_mailer".into(),
            ));
        }
        self.flow_quotas(purpose, target.address_key, client)
            .await?;
        let id = Uuid::now_v7().to_string();
        let secrets = FlowKey::generate(self.config.flow_code_digits);
        let hashes = key.stored(purpose.as_str(), &id, &secrets);
        let sealed = key.seal(&id, &secrets)?;
        let created_at = now();
        let ttl = purpose.ttl(&self.config);
        let expires_at = created_at + Duration::seconds(ttl as i64);
        let user_id = target.user.map(|u| u.id.as_str());
        let flow = FlowRecord {
            id: id.clone(),
            purpose: purpose.as_str().into(),
            user_id: user_id.map(str::to_string),
            address: target.address.to_string(),
            link_hash: hashes.link,
            code_hash: hashes.code,
            sealed: Some(sealed),
            created_at,
            expires_at,
            consumed_at: None,
            attempts: 0,
        };
        let payload = json!({ "flow_id": id, "purpose": purpose.as_str() });
        let payload = match target.user {
            Some(u) => Event::user_payload(&u.id, &u.username, payload),
            None => payload,
        };
        let event = Event::new(purpose.requested(), user_id, user_id, client, payload);
        self.store.create_flow(&flow, &[event]).await?;
        self.emitted();
        self.metrics.count(
            "doorward_flow_requests_total",
            &[("purpose", purpose.as_str())],
        );
        tracing::info!(flow_id = %id, purpose = purpose.as_str(), "account mail requested");
        Ok(FlowStarted {
            flow_id: id,
            expires_in: ttl,
        })
    }

    /// Per client address, per address, and the resend cooldown of one
    /// purpose for one address.
    async fn flow_quotas(
        &self,
        purpose: Purpose,
        address_key: &str,
        client: Option<&ClientInfo>,
    ) -> Result<()> {
        if let (Some(quota), Some(ip)) =
            (&self.quotas.flow_ip, client.and_then(|c| c.ip.as_deref()))
        {
            let ip = self.quotas.client_key(ip);
            self.rate_check(&format!("flow:ip:{ip}"), quota).await?;
        }
        if let Some(quota) = &self.quotas.flow_address {
            self.rate_check(&format!("flow:address:{address_key}"), quota)
                .await?;
        }
        if let Some(cooldown) = &self.quotas.flow_cooldown {
            self.rate_check(
                &format!("flow:cooldown:{}:{address_key}", purpose.as_str()),
                cooldown,
            )
            .await?;
        }
        Ok(())
    }

    /// Present `secret` (a link secret or a code) to flow `flow_id` of
    /// `purpose`: the flow, used up by this call, or why not.
    pub(crate) async fn consume_flow(
        &self,
        purpose: Purpose,
        flow_id: &str,
        secret: &str,
    ) -> Result<FlowRecord> {
        let key = self.flow_key()?;
        if Uuid::parse_str(flow_id).is_err() {
            return Err(Error::validation("flow_id", "is not a flow id"));
        }
        let secret = secret.trim();
        if secret.is_empty() || secret.len() > 128 {
            return Err(Error::validation(
                "secret",
                "must be the link's secret or the code",
            ));
        }
        let hashes = key.hashes(purpose.as_str(), flow_id, secret);
        let consumed = self
            .store
            .consume_flow(
                flow_id,
                purpose.as_str(),
                &hashes.link,
                &hashes.code,
                now(),
                MAX_ATTEMPTS,
            )
            .await?;
        let result = consumed_or_why(consumed, purpose.as_str());
        let outcome = match &result {
            Ok(_) => "success",
            Err(e) => e.code().as_str(),
        };
        self.metrics.count(
            "doorward_flow_completions_total",
            &[("purpose", purpose.as_str()), ("outcome", outcome)],
        );
        result
    }

    /// [`Core::consume_flow`] for a flow that must have an account: the
    /// flow and the account as it is now. A flow with none (asked for with
    /// an unknown address) is `flow_invalid`, like a wrong secret.
    pub(crate) async fn consume_account_flow(
        &self,
        purpose: Purpose,
        flow_id: &str,
        secret: &str,
    ) -> Result<(FlowRecord, UserRecord)> {
        let flow = self.consume_flow(purpose, flow_id, secret).await?;
        let user_id = flow.user_id.as_deref().ok_or(Error::FlowInvalid {
            attempts_left: None,
        })?;
        tracing::Span::current().record("user_id", user_id);
        let user = self.user_record(user_id).await?;
        Ok((flow, user))
    }

    /// Start a flow to an account's own address (its verification).
    pub(crate) async fn start_account_flow(
        &self,
        purpose: Purpose,
        user: &UserRecord,
        client: Option<&ClientInfo>,
    ) -> Result<FlowStarted> {
        let target = Target {
            user: Some(user),
            address: &user.email,
            address_key: &user.email_key,
        };
        self.start_flow(purpose, target, client).await
    }

    /// Start a flow for whatever account `email` names (none, or a
    /// disabled one, counts as none): the reset and the sign-in, which must
    /// answer alike for every address.
    pub(crate) async fn start_address_flow(
        &self,
        purpose: Purpose,
        email: &str,
        client: Option<&ClientInfo>,
    ) -> Result<FlowStarted> {
        let mail = crate::users::validate::email(email)?;
        let user = self.store.user_by_email_key(&mail.key).await?;
        let user = user.filter(|u| !u.disabled);
        // To the address as the account keeps it, not as it was typed.
        let address = user
            .as_ref()
            .map_or(mail.display.as_str(), |u| u.email.as_str());
        let target = Target {
            user: user.as_ref(),
            address,
            address_key: &mail.key,
        };
        self.start_flow(purpose, target, client).await
    }

    /// Mark the address of `flow` verified, if it is still the account's.
    pub(crate) async fn address_proven(&self, user: &UserRecord, method: &str) -> Result<bool> {
        let event = Event::new(
            EventType::EmailVerified,
            Some(&user.id),
            Some(&user.id),
            None,
            Event::user_payload(&user.id, &user.username, json!({ "method": method })),
        );
        let changed = self
            .store
            .set_email_verified(&user.id, &user.email_key, now(), &[event])
            .await?;
        if changed {
            self.user_changed(&user.id).await;
        }
        Ok(changed)
    }
}

/// `expires_in` for people: "24 hours", "1 hour", "10 minutes".
pub(crate) fn human_duration(secs: u64) -> String {
    let (n, unit) = if secs >= 3600 && secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The flow a consumption used up, or the error that tells why not.
pub(crate) fn consumed_or_why(consumed: Consumption, purpose: &str) -> Result<FlowRecord> {
    match consumed {
        Consumption::Consumed(flow) => Ok(flow),
        Consumption::Wrong { attempts } if attempts >= MAX_ATTEMPTS => Err(Error::FlowExpired),
        Consumption::Wrong { attempts } => Err(Error::FlowInvalid {
            attempts_left: Some(MAX_ATTEMPTS - attempts),
        }),
        Consumption::Unusable(Some(flow))
            if flow.purpose == purpose && flow.consumed_at.is_none() =>
        {
            // Expired, or out of attempts.
            Err(Error::FlowExpired)
        }
        Consumption::Unusable(_) => Err(Error::FlowInvalid {
            attempts_left: None,
        }),
    }
}

/// A flow proven by one secret only (a login waiting for its second
/// factor, a WebAuthn ceremony): no address, and a code hash nothing
/// matches, so only `link_hash` uses it up.
pub(crate) fn single_secret_flow(
    id: String,
    purpose: &str,
    user_id: Option<&str>,
    link_hash: String,
    sealed: Option<String>,
    ttl_secs: u64,
) -> FlowRecord {
    let created_at = now();
    FlowRecord {
        id,
        purpose: purpose.into(),
        user_id: user_id.map(str::to_string),
        address: String::new(),
        link_hash,
        code_hash: secret::random_token(),
        sealed,
        created_at,
        expires_at: created_at + Duration::seconds(ttl_secs as i64),
        consumed_at: None,
        attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(24 * 3600), "24 hours");
        assert_eq!(human_duration(3600), "1 hour");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(90), "90 seconds");
        assert_eq!(human_duration(1), "1 second");
    }

    #[test]
    fn purposes_round_trip() {
        for p in [
            Purpose::VerifyEmail,
            Purpose::ResetPassword,
            Purpose::SignIn,
            Purpose::ChangeEmail,
        ] {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(Purpose::parse("invite"), None);
    }
}
