//! What the outbox, its consumers, webhooks and the audit log keep.
//!
//! Consumers (the audit log, webhook fan-out, named host subscribers) each
//! hold a position in the outbox and a lease on it, so several instances
//! sharing a database run each consumer once at a time. A consumer's effect
//! (audit rows, queued deliveries) is written in the same transaction that
//! moves its position, so a crash never applies one without the other.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::events::{Event, EventType};

/// A consumer's claim on its place in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The consumer (`audit`, `webhooks`, `sub:<name>`).
    pub name: String,
    /// The instance holding the lease.
    pub owner: String,
    /// The last `seq` it has handled.
    pub position: u64,
}

/// Where a consumer is in the outbox, and when it last held its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerState {
    /// `audit`, `webhooks` or `sub:<name>`.
    pub name: String,
    /// The last `seq` it has handled.
    pub position: u64,
    /// The end of its latest lease: long past for a subscriber that no
    /// longer runs anywhere.
    pub leased_until: DateTime<Utc>,
}

/// One row of the audit log, with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// 1, 2, 3, ... with no gaps: a deleted row leaves a hole `verify` sees.
    pub seq: u64,
    /// The event it records.
    pub event_id: String,
    /// What happened.
    pub event_type: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (a user id; none for the host as administrator).
    pub actor: Option<String>,
    /// On whom or what.
    pub subject: Option<String>,
    /// From where.
    pub ip: Option<String>,
    /// With which client.
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The event's payload, as JSON text.
    pub details: String,
    /// The previous row's hash (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over `prev_hash` and this row's fields.
    pub hash: String,
}

/// Which audit rows to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Rows where this user is the actor or the subject.
    pub user_id: Option<String>,
    /// Rows of this event type.
    pub event_type: Option<EventType>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// A registered webhook endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// `wh_` + UUIDv7.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// `whsec_` + base64 key: signs every request.
    pub secret: String,
    /// Which events it receives; empty means all.
    pub event_types: Vec<EventType>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("event_types", &self.event_types)
            .finish_non_exhaustive()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet; tried again at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Gave up after the configured number of attempts; can be replayed.
    Dead,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = crate::Error;

    /// `pending`, `delivered` or `dead`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "dead" => Ok(DeliveryStatus::Dead),
            _ => Err(crate::Error::validation(
                "status",
                "must be pending, delivered or dead",
            )),
        }
    }
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRecord {
    /// Row id; what `replay` takes.
    pub id: u64,
    /// To which webhook.
    pub webhook_id: String,
    /// Which event (its outbox `seq`).
    pub event_seq: u64,
    /// Its id, sent as `webhook-id` on every attempt.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed (an HTTP status or a transport error).
    pub last_error: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A delivery claimed for an attempt, with what the attempt needs.
#[derive(Debug, Clone)]
pub struct DeliveryJob {
    /// The delivery row.
    pub id: u64,
    /// Attempts made before this one.
    pub attempts: u32,
    /// The endpoint.
    pub webhook: WebhookRecord,
    /// The event to send.
    pub event: Event,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx.
    Delivered,
    /// Failed; try again at this time.
    Retry {
        /// Why.
        error: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Failed for the last allowed time.
    Dead {
        /// Why.
        error: String,
    },
}

/// The outbox, consumer positions, webhooks and the audit log.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Append events that go with no other change (a refused login).
    async fn append_events(&self, events: &[Event]) -> Result<()>;
    /// Up to `limit` events with `seq > after`, in `seq` order.
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<Event>>;
    /// The highest `seq` (0 for an empty outbox).
    async fn last_event_seq(&self) -> Result<u64>;

    /// Take (or renew, for its holder) a consumer's lease until `until` and
    /// return its position; `None` while another owner's lease is live. A
    /// consumer seen for the first time starts at `start`.
    async fn lease_consumer(
        &self,
        name: &str,
        owner: &str,
        start: u64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<u64>>;
    /// Move a consumer to `lease.position` if `lease.owner` still holds it;
    /// false if the lease was lost.
    async fn advance_consumer(&self, lease: &Lease, now: DateTime<Utc>) -> Result<bool>;

    /// Append audit rows and move the audit consumer, atomically. False,
    /// writing nothing, if the lease was lost or the chain moved on.
    async fn append_audit(
        &self,
        rows: &[AuditRecord],
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The newest audit row.
    async fn last_audit(&self) -> Result<Option<AuditRecord>>;
    /// Up to `limit` rows matching `filter` with `seq > after`, in order.
    async fn audit_rows(
        &self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>>;

    /// Register a webhook, with its events.
    async fn create_webhook(&self, webhook: &WebhookRecord, events: &[Event]) -> Result<()>;
    /// Every webhook, oldest first.
    async fn webhooks(&self) -> Result<Vec<WebhookRecord>>;
    /// Remove a webhook and its deliveries, with its events; false (and
    /// no event) if absent.
    async fn delete_webhook(&self, id: &str, events: &[Event]) -> Result<bool>;
    /// Queue deliveries (webhook id, event) and move the fan-out consumer,
    /// atomically; a pair already queued is left alone. False, writing
    /// nothing, if the lease was lost.
    async fn enqueue_deliveries(
        &self,
        deliveries: &[(String, Event)],
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Claim up to `limit` pending deliveries that are due and whose
    /// earlier deliveries to the same webhook about the same subject are
    /// all done (delivered or dead), leasing them to `owner` until `until`.
    /// Instances claiming at once never get the same row.
    async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>>;
    /// Record an attempt's outcome, if `owner` still holds the delivery.
    async fn finish_delivery(
        &self,
        id: u64,
        owner: &str,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Deliveries in `status` (all when `None`) with `id > after`, oldest first.
    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>>;
    /// Put a dead delivery back in the queue, due now, with its events;
    /// false (and no event) unless it was dead.
    async fn replay_delivery(&self, id: u64, now: DateTime<Utc>, events: &[Event]) -> Result<bool>;
    /// Pending deliveries: the webhook backlog.
    async fn pending_deliveries(&self) -> Result<u64>;
    /// Every consumer, by name.
    async fn consumers(&self) -> Result<Vec<ConsumerState>>;
    /// Delete up to `limit` events with `seq <= through` that occurred
    /// before `before`, oldest first, with their delivered deliveries; an
    /// event a pending or dead delivery still needs stays. Returns how many
    /// events went.
    async fn prune_events(&self, through: u64, before: DateTime<Utc>, limit: u32) -> Result<u64>;
}
