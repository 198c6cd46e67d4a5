//! Domain events and the transactional outbox: `dw.events()`.
//!
//! Every state change the core makes is described by an [`Event`] that the
//! store writes to its `outbox` **in the same transaction as the change**, so
//! an event exists exactly when its change does: a crash after the commit
//! loses nothing (the dispatcher finds the row on the next start), and a
//! rolled-back change leaves no event behind. The outbox is ordered by
//! `seq`, which is also commit order (PostgreSQL serialises outbox inserts
//! with a transaction-scoped advisory lock; SQLite and the memory store have
//! one writer), so a consumer that remembers the last `seq` it handled can
//! never skip an event that committed late.
//!
//! Consumers (the audit log, webhooks, host subscribers) read the outbox in
//! order through the dispatcher task. Payloads are built here, from ids and names
//! only: never a password, token, hash or key.

mod actor;
pub(crate) mod audit;
pub(crate) mod dispatch;
pub(crate) mod retention;
pub(crate) mod service;
#[cfg(feature = "webhooks")]
pub(crate) mod targets;
#[cfg(feature = "webhooks")]
pub(crate) mod webhooks;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::ClientInfo;
use crate::error::{Error, Result};

pub use actor::acting_as;
pub use audit::{Audit, AuditPage, AuditVerification};
pub use dispatch::{DispatchPause, Handler, Subscription};
pub use service::{EventPage, Events, Webhook, WebhookTest, Webhooks};
#[cfg(feature = "webhooks")]
pub use webhooks::sign as sign_webhook;
#[cfg(feature = "webhooks")]
pub use webhooks::verify as verify_webhook;

/// The kinds of change the core reports.
///
/// Names are the contract hosts and webhook receivers match on; they are
/// stored and sent as written here (`"UserRegistered"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EventType {
    /// An account was created (registration or `users().create`).
    UserRegistered,
    /// A session was started: a password login, a registration, or tokens
    /// issued by the host (`payload.method` says which).
    LoginSucceeded,
    /// A login was refused (`payload.reason`: `unknown_user`,
    /// `wrong_password`, `locked`, `disabled`).
    LoginFailed,
    /// A session was ended by its own access token.
    LoggedOut,
    /// A refresh token was rotated.
    TokenRefreshed,
    /// A rotated refresh token was presented again; its session was revoked.
    TokenReuseDetected,
    /// A password was changed by its owner or set by an administrator.
    PasswordChanged,
    /// Username or email changed (`payload.fields`).
    UserUpdated,
    /// An account was disabled, ending its sessions.
    UserDisabled,
    /// A disabled account was enabled again.
    UserEnabled,
    /// An account was deleted with its sessions and grants.
    UserDeleted,
    /// A role was created.
    RoleCreated,
    /// A role was deleted (and with it every grant of it).
    RoleDeleted,
    /// A user was given a role.
    RoleGranted,
    /// A role was taken from a user.
    RoleRevoked,
    /// Sessions were ended by an administrator (`payload.session_ids`).
    SessionRevoked,
    /// Too many failed logins: the account refuses logins until
    /// `payload.locked_until`.
    AccountLocked,
    /// A file was stored.
    FileStored,
    /// A file was deleted.
    FileDeleted,
    /// A verification mail was asked for (`payload.flow_id`).
    EmailVerificationRequested,
    /// An address was proven by its owner (`payload.method`: `link_or_code`, `password_reset`, `sign_in`, `admin`).
    EmailVerified,
    /// A password reset was asked for (`payload.flow_id`); no subject when the address has no account.
    PasswordResetRequested,
    /// A password was replaced through a reset link or code, ending every session.
    PasswordReset,
    /// A sign-in by email was asked for (`payload.flow_id`); no subject when the address has no account.
    SignInLinkRequested,
    /// A change of address was asked for (`payload.flow_id`); the old address stays until it is confirmed.
    EmailChangeRequested,
    /// A change of address was confirmed from the new address.
    EmailChanged,
    /// A right first factor of an account with a second factor: the login waits for it (`payload.flow_id`, `methods`, `enrolment_required`).
    MfaChallenged,
    /// A second factor was activated (`payload.factor`: `totp`).
    MfaEnrolled,
    /// A second factor was removed (`payload.factor`).
    MfaRemoved,
    /// A wrong second factor (`payload.method`, `during`: `login`, `step_up`, `enrolment`).
    MfaFailed,
    /// A recovery code was spent (`payload.left`: how many remain).
    RecoveryCodeUsed,
    /// The recovery codes were replaced by a new set.
    RecoveryCodesRegenerated,
    /// An identity at an OAuth provider was linked to the account
    /// (`payload.provider`, `how`: `sign_up`, `verified_email`, `link`).
    IdentityLinked,
    /// An identity at an OAuth provider was unlinked (`payload.provider`).
    IdentityUnlinked,
    /// Accounts were imported in bulk (`payload.created`, `failed`): one
    /// event for the batch, not one `UserRegistered` per account, so an
    /// import does not send 100,000 welcome mails.
    UsersImported,
    /// A webhook endpoint was registered (`payload.webhook_id`,
    /// `event_types`; not its URL, which may carry a credential).
    WebhookAdded,
    /// A webhook endpoint was removed with its queued deliveries
    /// (`payload.webhook_id`).
    WebhookRemoved,
    /// A dead webhook delivery was queued again (`payload.delivery_id`).
    DeliveryReplayed,
}

impl EventType {
    /// Every event type, in declaration order.
    pub const ALL: [EventType; 38] = [
        EventType::UserRegistered,
        EventType::LoginSucceeded,
        EventType::LoginFailed,
        EventType::LoggedOut,
        EventType::TokenRefreshed,
        EventType::TokenReuseDetected,
        EventType::PasswordChanged,
        EventType::UserUpdated,
        EventType::UserDisabled,
        EventType::UserEnabled,
        EventType::UserDeleted,
        EventType::RoleCreated,
        EventType::RoleDeleted,
        EventType::RoleGranted,
        EventType::RoleRevoked,
        EventType::SessionRevoked,
        EventType::AccountLocked,
        EventType::FileStored,
        EventType::FileDeleted,
        EventType::EmailVerificationRequested,
        EventType::EmailVerified,
        EventType::PasswordResetRequested,
        EventType::PasswordReset,
        EventType::SignInLinkRequested,
        EventType::EmailChangeRequested,
        EventType::EmailChanged,
        EventType::MfaChallenged,
        EventType::MfaEnrolled,
        EventType::MfaRemoved,
        EventType::MfaFailed,
        EventType::RecoveryCodeUsed,
        EventType::RecoveryCodesRegenerated,
        EventType::IdentityLinked,
        EventType::IdentityUnlinked,
        EventType::UsersImported,
        EventType::WebhookAdded,
        EventType::WebhookRemoved,
        EventType::DeliveryReplayed,
    ];

    /// The stored and transmitted name.
    ///
    /// ```
    /// use doorward::events::EventType;
    /// assert_eq!(EventType::RoleGranted.as_str(), "RoleGranted");
    /// assert_eq!("RoleGranted".parse::<EventType>().unwrap(), EventType::RoleGranted);
    /// assert!("roleGranted".parse::<EventType>().is_err());
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserRegistered => "UserRegistered",
            EventType::LoginSucceeded => "LoginSucceeded",
            EventType::LoginFailed => "LoginFailed",
            EventType::LoggedOut => "LoggedOut",
            EventType::TokenRefreshed => "TokenRefreshed",
            EventType::TokenReuseDetected => "TokenReuseDetected",
            EventType::PasswordChanged => "PasswordChanged",
            EventType::UserUpdated => "UserUpdated",
            EventType::UserDisabled => "UserDisabled",
            EventType::UserEnabled => "UserEnabled",
            EventType::UserDeleted => "UserDeleted",
            EventType::RoleCreated => "RoleCreated",
            EventType::RoleDeleted => "RoleDeleted",
            EventType::RoleGranted => "RoleGranted",
            EventType::RoleRevoked => "RoleRevoked",
            EventType::SessionRevoked => "SessionRevoked",
            EventType::AccountLocked => "AccountLocked",
            EventType::FileStored => "FileStored",
            EventType::FileDeleted => "FileDeleted",
            EventType::EmailVerificationRequested => "EmailVerificationRequested",
            EventType::EmailVerified => "EmailVerified",
            EventType::PasswordResetRequested => "PasswordResetRequested",
            EventType::PasswordReset => "PasswordReset",
            EventType::SignInLinkRequested => "SignInLinkRequested",
            EventType::EmailChangeRequested => "EmailChangeRequested",
            EventType::EmailChanged => "EmailChanged",
            EventType::MfaChallenged => "MfaChallenged",
            EventType::MfaEnrolled => "MfaEnrolled",
            EventType::MfaRemoved => "MfaRemoved",
            EventType::MfaFailed => "MfaFailed",
            EventType::RecoveryCodeUsed => "RecoveryCodeUsed",
            EventType::RecoveryCodesRegenerated => "RecoveryCodesRegenerated",
            EventType::IdentityLinked => "IdentityLinked",
            EventType::IdentityUnlinked => "IdentityUnlinked",
            EventType::UsersImported => "UsersImported",
            EventType::WebhookAdded => "WebhookAdded",
            EventType::WebhookRemoved => "WebhookRemoved",
            EventType::DeliveryReplayed => "DeliveryReplayed",
        }
    }

    /// Whether it reports a change to the webhooks themselves. A webhook
    /// that asks for every type (an empty list) is not sent these: a
    /// receiver is not told about receivers, and a new webhook's first
    /// delivery is not the news of its own creation. One that names them
    /// gets them; the audit log and host subscribers always do.
    ///
    /// ```
    /// use doorward::events::EventType;
    /// assert!(EventType::WebhookAdded.is_webhook_administration());
    /// assert!(!EventType::RoleGranted.is_webhook_administration());
    /// ```
    pub fn is_webhook_administration(self) -> bool {
        matches!(
            self,
            EventType::WebhookAdded | EventType::WebhookRemoved | EventType::DeliveryReplayed
        )
    }

    /// Whether the change it reports was a refusal rather than a success:
    /// the audit log's `outcome`.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            EventType::LoginFailed
                | EventType::TokenReuseDetected
                | EventType::AccountLocked
                | EventType::MfaFailed
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::validation("event_type", format!("unknown event type {s:?}")))
    }
}

/// Parse a list of event type names (for filters); an empty list means all.
pub fn parse_types<S: AsRef<str>>(names: &[S]) -> Result<Vec<EventType>> {
    names.iter().map(|n| n.as_ref().parse()).collect()
}

/// One change, as recorded in the outbox and delivered to consumers.
///
/// ```
/// use doorward::events::{Event, EventType};
/// let e = Event::new(EventType::RoleCreated, None, Some("editor"), None, serde_json::json!({"role": "editor"}));
/// assert_eq!(e.seq, 0, "numbered by the store");
/// assert_eq!(e.version, 1);
/// assert_eq!(serde_json::to_value(&e).unwrap()["type"], "RoleCreated");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7: unique, and sorts by time; receivers deduplicate on it.
    pub id: String,
    /// Position in the outbox (commit order); 0 until the store assigns it.
    pub seq: u64,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Version of the payload's shape for this type; bumped on a breaking
    /// change so receivers can tell.
    pub version: u32,
    /// When the change was made.
    pub occurred_at: DateTime<Utc>,
    /// Who made it: a user id, or none for the host acting as administrator.
    pub actor: Option<String>,
    /// What it concerns: a user id, a role name or a file key.
    pub subject: Option<String>,
    /// The client address, where known.
    pub ip: Option<String>,
    /// The client user agent, where known.
    pub user_agent: Option<String>,
    /// Type-specific details: ids and names only. Never a secret, and no
    /// email address: receivers that need one look the user up by id.
    pub payload: Value,
}

/// How long to wait before attempt `attempt + 1` after `attempt` failures:
/// exponential from `events_retry_base_ms`, capped at
/// `events_retry_max_secs`, with up to 25% random jitter so receivers that
/// come back are not hit by every retry at once.
pub(crate) fn backoff(config: &crate::Config, attempt: u32) -> chrono::Duration {
    use rand::Rng as _;
    let base = config.events_retry_base_ms.max(1);
    let exp = base.saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    let capped = exp.min(config.events_retry_max_secs.saturating_mul(1000).max(base));
    let jitter = rand::thread_rng().gen_range(0..=capped / 4);
    chrono::Duration::milliseconds(i64::try_from(capped + jitter).unwrap_or(i64::MAX))
}

/// Largest page the event, delivery and audit lists return, and the batch
/// in which the audit export and verification read the chain.
pub(crate) const MAX_PAGE: u32 = crate::page::PageRequest::MAX_LIMIT;

/// Where a list of `seq`-numbered rows resumes: after the `seq` a previous
/// page's `next_cursor` holds (from the start without one).
pub(crate) fn seq_cursor(cursor: Option<&str>) -> Result<u64> {
    cursor.map_or(Ok(0), |c| {
        c.parse()
            .map_err(|_| Error::validation("cursor", "is not a cursor this list returned"))
    })
}

/// Cut a fetch of `limit + 1` rows to `limit`, with the cursor of the next
/// page if there was a further row.
pub(crate) fn page_of<T>(
    mut items: Vec<T>,
    limit: u32,
    seq: impl Fn(&T) -> u64,
) -> (Vec<T>, Option<String>) {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more
        .then(|| items.last().map(|r| seq(r).to_string()))
        .flatten();
    (items, next_cursor)
}

/// Longest client address and user agent kept with an event.
const MAX_CLIENT_FIELD: usize = 512;

/// Payload shape version of every event type today.
pub const EVENT_VERSION: u32 = 1;

fn clip(value: &Option<String>) -> Option<String> {
    value
        .as_ref()
        .map(|s| s.chars().take(MAX_CLIENT_FIELD).collect())
}

impl Event {
    /// A new event, timed now, with a fresh id.
    pub fn new(
        event_type: EventType,
        actor: Option<&str>,
        subject: Option<&str>,
        client: Option<&ClientInfo>,
        payload: Value,
    ) -> Event {
        // An administrator's scope fills in who acted, where the caller
        // names no one (see `acting_as`).
        let acting = if actor.is_none() {
            actor::current()
        } else {
            None
        };
        let client = client.or(acting.as_ref().and_then(|a| a.client.as_ref()));
        let actor = actor.or(acting.as_ref().map(|a| a.user_id.as_str()));
        Event {
            id: uuid::Uuid::now_v7().to_string(),
            seq: 0,
            event_type,
            version: EVENT_VERSION,
            occurred_at: crate::store::now(),
            actor: actor.map(str::to_string),
            subject: subject.map(str::to_string),
            ip: client.and_then(|c| clip(&c.ip)),
            user_agent: client.and_then(|c| clip(&c.user_agent)),
            payload,
        }
    }

    /// An event a user causes on their own account (login, logout, ...).
    pub(crate) fn by_user(
        event_type: EventType,
        user_id: &str,
        client: Option<&ClientInfo>,
        payload: Value,
    ) -> Event {
        Event::new(event_type, Some(user_id), Some(user_id), client, payload)
    }

    /// An event the host causes as administrator, about `subject`.
    pub(crate) fn by_host(event_type: EventType, subject: &str, payload: Value) -> Event {
        Event::new(event_type, None, Some(subject), None, payload)
    }

    /// The payload of a user-related event carries the user's id and name,
    /// so a receiver need not look them up.
    pub(crate) fn user_payload(user_id: &str, username: &str, extra: Value) -> Value {
        let mut payload = json!({ "user_id": user_id, "username": username });
        if let (Some(map), Value::Object(extra)) = (payload.as_object_mut(), extra) {
            map.extend(extra);
        }
        payload
    }
}
