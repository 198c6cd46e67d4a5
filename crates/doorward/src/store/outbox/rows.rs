//! Decoding the outbox tables' rows, shared by the SQL backends: both keep
//! these tables in the same types (BIGINT microseconds, JSON text), so only
//! the row type differs.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::events::{Event, EventType};
use crate::store::{AuditRecord, ConsumerState, DeliveryJob, DeliveryRecord, WebhookRecord};

/// The three column types these tables use, from either backend's rows.
pub(crate) trait Columns {
    fn int(&self, column: &str) -> Result<i64>;
    fn text(&self, column: &str) -> Result<String>;
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
}

macro_rules! columns {
    ($row:ty) => {
        impl Columns for $row {
            fn int(&self, column: &str) -> Result<i64> {
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

/// Microseconds since the epoch: how SQLite (and these tables on
/// PostgreSQL) keep time, and the precision the domain keeps so every
/// backend round-trips values exactly.
pub(crate) fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn time<R: Columns>(row: &R, column: &str) -> Result<DateTime<Utc>> {
    let us = row.int(column)?;
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| Error::Storage(format!("timestamp out of range: {us}")))
}

/// An event's payload as stored.
pub(crate) fn payload_text(event: &Event) -> Result<String> {
    serde_json::to_string(&event.payload)
        .map_err(|err| Error::Internal(format!("cannot encode an event payload: {err}")))
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
/// done refers to them. `$1` through, `$2` before, `$3` limit; SQLite takes
/// the same numbered placeholders as `?1`..`?3`.
pub(crate) fn prunable_events(placeholder: char) -> String {
    let [through, before, limit] = [1, 2, 3].map(|n| format!("{placeholder}{n}"));
    format!(
        "SELECT seq FROM outbox o WHERE seq <= {through} AND occurred_at < {before} \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d \
             WHERE d.event_seq = o.seq AND d.status <> 'delivered') \
         ORDER BY seq LIMIT {limit}"
    )
}

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
    let types = row.text("event_types")?;
    let names: Vec<String> = serde_json::from_str(&types)
        .map_err(|e| Error::Storage(format!("webhook event types are not a JSON list: {e}")))?;
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
