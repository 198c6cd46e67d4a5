//! Decoding rows, shared by the SQL dialects: both keep every table in the
//! same column types (BIGINT microseconds for times, JSON text for lists,
//! BOOLEAN/INTEGER flags), so one decoder per record serves both and only
//! the row type differs.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::rbac::Role;
use crate::store::{
    AuditRecord, ConsumerState, DeliveryJob, DeliveryRecord, RefreshRecord, SessionRecord,
    UserRecord, WebhookRecord, failed_logins,
};

/// The column types the tables use, from either dialect's rows.
pub(crate) trait Columns {
    fn int(&self, column: &str) -> Result<i64>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    fn flag(&self, column: &str) -> Result<bool>;
    fn text(&self, column: &str) -> Result<String>;
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
}

macro_rules! columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, column: &str) -> Result<i64> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn flag(&self, column: &str) -> Result<bool> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn text(&self, column: &str) -> Result<String> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>> {
                Ok(sqlx::Row::try_get(self, column)?)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
columns!(sqlx::sqlite::SqliteRow);
#[cfg(feature = "postgres")]
columns!(sqlx::postgres::PgRow);

/// Microseconds since the epoch: how every SQL table keeps time, and the
/// precision the domain keeps, so every backend round-trips values exactly.
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time, checked.
pub(crate) fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::Storage(format!("timestamp out of range: {us}")))
}

pub(crate) fn time<R: Columns>(row: &R, column: &str) -> Result<DateTime<Utc>> {
    from_micros(row.int(column)?)
}

pub(crate) fn opt_time<R: Columns>(row: &R, column: &str) -> Result<Option<DateTime<Utc>>> {
    row.opt_int(column)?.map(from_micros).transpose()
}

/// A list of strings as stored (role permissions, webhook event types).
pub(crate) fn list_text(list: &[impl AsRef<str>]) -> String {
    let list: Vec<&str> = list.iter().map(AsRef::as_ref).collect();
    serde_json::Value::from(list).to_string()
}

/// A stored list of strings, checked; `what` names it in the error.
pub(crate) fn list_from(text: &str, what: &str) -> Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| Error::Storage(format!("{what} are not a JSON list: {e}")))
}

/// An event's payload as stored.
pub(crate) fn payload_text(event: &Event) -> Result<String> {
    serde_json::to_string(&event.payload)
        .map_err(|err| Error::Internal(format!("cannot encode an event payload: {err}")))
}

pub(crate) const USER_COLUMNS: &str = "id, username, username_key, email, email_key, \
     password_hash, disabled, created_at, updated_at, last_login_at, failed_logins, \
     locked_until, credentials_version, email_verified_at";
pub(crate) const SESSION_COLUMNS: &str = "id, user_id, created_at, expires_at, \
     last_refreshed_at, ip, user_agent, revoked_at, revoked_reason, amr, aal, auth_time";
pub(crate) const REFRESH_COLUMNS: &str =
    "token_hash, session_id, user_id, created_at, expires_at, used_at";
pub(crate) const ROLE_COLUMNS: &str = "name, description, permissions, builtin, created_at";

pub(crate) fn user_from<R: Columns>(row: &R) -> Result<UserRecord> {
    Ok(UserRecord {
        id: row.text("id")?,
        username: row.text("username")?,
        username_key: row.text("username_key")?,
        email: row.text("email")?,
        email_key: row.text("email_key")?,
        password_hash: row.text("password_hash")?,
        disabled: row.flag("disabled")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
        last_login_at: opt_time(row, "last_login_at")?,
        failed_logins: failed_logins(row.int("failed_logins")?)?,
        locked_until: opt_time(row, "locked_until")?,
        credentials_version: row.int("credentials_version")?,
        email_verified_at: opt_time(row, "email_verified_at")?,
    })
}

pub(crate) fn session_from<R: Columns>(row: &R) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        last_refreshed_at: opt_time(row, "last_refreshed_at")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
        revoked_at: opt_time(row, "revoked_at")?,
        revoked_reason: row.opt_text("revoked_reason")?,
        amr: serde_json::from_str(&row.text("amr")?)
            .map_err(|e| Error::Storage(format!("session amr is not a JSON list: {e}")))?,
        aal: u8::try_from(row.int("aal")?)
            .map_err(|_| Error::Storage("session aal out of range".into()))?,
        auth_time: time(row, "auth_time")?,
    })
}

pub(crate) fn refresh_from<R: Columns>(row: &R) -> Result<RefreshRecord> {
    Ok(RefreshRecord {
        token_hash: row.text("token_hash")?,
        session_id: row.text("session_id")?,
        user_id: row.text("user_id")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        used_at: opt_time(row, "used_at")?,
    })
}

pub(crate) fn role_from<R: Columns>(row: &R) -> Result<Role> {
    Ok(Role {
        name: row.text("name")?,
        description: row.text("description")?,
        permissions: list_from(&row.text("permissions")?, "role permissions")?,
        builtin: row.flag("builtin")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) const EVENT_COLUMNS: &str =
    "seq, id, event_type, version, occurred_at, actor, subject, ip, user_agent, payload";
pub(crate) const AUDIT_COLUMNS: &str = "seq, event_id, event_type, occurred_at, actor, subject, ip, \
     user_agent, outcome, details, prev_hash, hash";
pub(crate) const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.event_seq, o.id AS event_id, \
     o.event_type, d.status, d.attempts, d.next_attempt_at, d.last_error, d.updated_at";

pub(crate) const CONSUMER_COLUMNS: &str = "name, position, lease_until";

pub(crate) fn consumer_from<R: Columns>(row: &R) -> Result<ConsumerState> {
    Ok(ConsumerState {
        name: row.text("name")?,
        position: unsigned(row, "position")?,
        leased_until: time(row, "lease_until")?,
    })
}

/// The events [`crate::store::EventStore::prune_events`] may delete: every
/// consumer is past them, they are old enough, and no delivery that is not
/// done refers to them. `$1` through, `$2` before, `$3` limit.
pub(crate) const PRUNABLE_EVENTS: &str = "SELECT seq FROM outbox o WHERE seq <= $1 AND occurred_at < $2 \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
         WHERE d.event_seq = o.seq AND d.status <> 'delivered') \
     ORDER BY seq LIMIT $3";

pub(crate) fn unsigned<R: Columns>(row: &R, column: &str) -> Result<u64> {
    let n = row.int(column)?;
    u64::try_from(n).map_err(|_| Error::Storage(format!("{column} out of range: {n}")))
}

pub(crate) fn event_from<R: Columns>(row: &R) -> Result<Event> {
    let event_type = row.text("event_type")?;
    let payload = row.text("payload")?;
    Ok(Event {
        seq: unsigned(row, "seq")?,
        id: row.text("id")?,
        event_type: event_type
            .parse::<EventType>()
            .map_err(|_| Error::Storage(format!("unknown event type {event_type:?}")))?,
        version: u32::try_from(unsigned(row, "version")?)
            .map_err(|_| Error::Storage("event version out of range".into()))?,
        occurred_at: time(row, "occurred_at")?,
        actor: row.opt_text("actor")?,
        subject: row.opt_text("subject")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
        payload: serde_json::from_str(&payload)
            .map_err(|e| Error::Storage(format!("event payload is not JSON: {e}")))?,
    })
}

pub(crate) fn audit_from<R: Columns>(row: &R) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: unsigned(row, "seq")?,
        event_id: row.text("event_id")?,
        event_type: row.text("event_type")?,
        occurred_at: time(row, "occurred_at")?,
        actor: row.opt_text("actor")?,
        subject: row.opt_text("subject")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
        outcome: row.text("outcome")?,
        details: row.text("details")?,
        prev_hash: row.text("prev_hash")?,
        hash: row.text("hash")?,
    })
}

pub(crate) fn webhook_from<R: Columns>(row: &R) -> Result<WebhookRecord> {
    let names = list_from(&row.text("event_types")?, "webhook event types")?;
    Ok(WebhookRecord {
        id: row.text("id")?,
        url: row.text("url")?,
        secret: row.text("secret")?,
        event_types: crate::events::parse_types(&names)
            .map_err(|_| Error::Storage("unknown event type in a webhook".into()))?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn delivery_from<R: Columns>(row: &R) -> Result<DeliveryRecord> {
    let status = row.text("status")?;
    Ok(DeliveryRecord {
        id: unsigned(row, "id")?,
        webhook_id: row.text("webhook_id")?,
        event_seq: unsigned(row, "event_seq")?,
        event_id: row.text("event_id")?,
        event_type: row.text("event_type")?,
        status: status
            .parse()
            .map_err(|_| Error::Storage(format!("unknown delivery status {status:?}")))?,
        attempts: u32::try_from(unsigned(row, "attempts")?)
            .map_err(|_| Error::Storage("attempts out of range".into()))?,
        next_attempt_at: time(row, "next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
        updated_at: time(row, "updated_at")?,
    })
}

/// The columns `claim_deliveries` takes back from the deliveries it leased.
pub(crate) const CLAIMED_COLUMNS: &str = "id, attempts, webhook_id, event_seq";
/// The columns `webhook_from` reads.
pub(crate) const WEBHOOK_COLUMNS: &str = "id, url, secret, event_types, created_at";

/// Claimed deliveries (rows of [`CLAIMED_COLUMNS`]) with the webhooks and
/// events they name, fetched in one query each rather than per delivery,
/// as jobs in outbox order.
pub(crate) fn claimed_jobs<R: Columns>(
    claimed: &[R],
    webhooks: &[R],
    events: &[R],
) -> Result<Vec<DeliveryJob>> {
    let webhooks = webhooks
        .iter()
        .map(|row| webhook_from(row).map(|w| (w.id.clone(), w)))
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    let events = events
        .iter()
        .map(|row| event_from(row).map(|e| (e.seq, e)))
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    let missing = |what: &str| Error::Storage(format!("a claimed delivery's {what} is gone"));
    let mut jobs = claimed
        .iter()
        .map(|row| {
            Ok(DeliveryJob {
                id: unsigned(row, "id")?,
                attempts: u32::try_from(unsigned(row, "attempts")?).unwrap_or(u32::MAX),
                webhook: webhooks
                    .get(&row.text("webhook_id")?)
                    .cloned()
                    .ok_or_else(|| missing("webhook"))?,
                event: events
                    .get(&unsigned(row, "event_seq")?)
                    .cloned()
                    .ok_or_else(|| missing("event"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    jobs.sort_by_key(|job| job.event.seq);
    Ok(jobs)
}

pub(crate) fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
