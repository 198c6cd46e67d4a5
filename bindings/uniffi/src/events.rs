//! Domain events: `doorward.events()`. Reading the outbox, dead letters,
//! and subscriptions whose handler the app implements (`EventHandler`).
//!
//! Event types and delivery statuses cross as their stable names
//! (`"UserRegistered"`, `"dead"`), as in every other language, so a type
//! the core gains reaches apps without a change here; `eventTypes()` lists
//! them.

use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{DoorwardError, call};
use crate::types::time;

/// One change, as recorded in the outbox and delivered to subscribers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Event {
    /// UUIDv7: unique, sorts by time; deduplicate on it (delivery is at
    /// least once).
    pub id: String,
    /// Position in the outbox (commit order).
    pub seq: u64,
    /// What happened: `UserRegistered`, `RoleGranted`, ...
    pub event_type: String,
    /// Version of the payload's shape for this type.
    pub version: u32,
    pub occurred_at: SystemTime,
    /// Who made the change: a user id, or `null` for the host.
    pub actor: Option<String>,
    /// What it concerns: a user id, a role name or a file key.
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The type-specific details as JSON text (ids and names, never a
    /// secret).
    pub payload_json: String,
}

impl From<doorward::Event> for Event {
    fn from(e: doorward::Event) -> Self {
        Event {
            id: e.id,
            seq: e.seq,
            event_type: e.event_type.as_str().to_string(),
            version: e.version,
            occurred_at: time(e.occurred_at),
            actor: e.actor,
            subject: e.subject,
            ip: e.ip,
            user_agent: e.user_agent,
            payload_json: e.payload.to_string(),
        }
    }
}

/// One page of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EventPage {
    /// Events in commit order.
    pub items: Vec<Event>,
    /// Pass back for the next page; `null` when this page reached the end.
    pub next_cursor: Option<String>,
}

impl From<doorward::events::EventPage> for EventPage {
    fn from(p: doorward::events::EventPage) -> Self {
        EventPage {
            items: p.items.into_iter().map(Event::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// One event on its way to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeliveryRecord {
    /// What `replay` takes.
    pub id: u64,
    pub webhook_id: String,
    /// The event's outbox `seq`.
    pub event_seq: u64,
    /// The event's id, sent as `webhook-id` on every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: SystemTime,
    /// Why the last attempt failed (`HTTP 500`, `timeout`, ...).
    pub last_error: Option<String>,
    pub updated_at: SystemTime,
}

impl From<doorward::store::DeliveryRecord> for DeliveryRecord {
    fn from(d: doorward::store::DeliveryRecord) -> Self {
        DeliveryRecord {
            id: d.id,
            webhook_id: d.webhook_id,
            event_seq: d.event_seq,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: time(d.next_attempt_at),
            last_error: d.last_error,
            updated_at: time(d.updated_at),
        }
    }
}

/// What a handler throws to have an event delivered again later. Any
/// other exception it throws means the same: uniffi hands it over as an
/// unexpected callback error, converted below.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EventHandlerError {
    /// Not handled now; deliver it again after a backoff, up to
    /// `events_max_attempts` times.
    #[error("{reason}")]
    Retry { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for EventHandlerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        EventHandlerError::Retry { reason: e.reason }
    }
}

/// The app's handler for subscribed events.
#[uniffi::export(with_foreign)]
pub trait EventHandler: Send + Sync + std::fmt::Debug {
    /// Handle one event. Returning means done; throwing (anything) means
    /// "retry later". Delivery is at least once, in commit order.
    fn on_event(&self, event: Event) -> Result<(), EventHandlerError>;
}

/// What the core's dispatcher awaits for one event.
type Handled = std::pin::Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// The app's handler as the core's dispatcher calls it. The app's code
/// runs on a blocking thread, never on a runtime worker: a slow handler
/// must not stall the store's async calls.
fn handler(app: Arc<dyn EventHandler>) -> doorward::events::Handler {
    Arc::new(move |event: doorward::Event| -> Handled {
        let app = app.clone();
        Box::pin(async move {
            let event = Event::from(event);
            match tokio::task::spawn_blocking(move || app.on_event(event)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("the event handler panicked".to_string()),
            }
        })
    })
}

/// A live subscription. `close()` ends it, and so does losing the last
/// reference to it (in Kotlin, `close()` is `AutoCloseable`'s, so
/// `use { }` works): keep it for as long as events should arrive.
#[derive(Debug, uniffi::Object)]
pub struct Subscription {
    inner: doorward::Subscription,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.inner.close();
    }
}

export! {
    sync impl Subscription {
        /// Stop delivering to this handler. (Swift; Kotlin's `close()`
        /// releases the object, which does the same.)
        pub fn close(&self) {
            self.inner.close();
        }

        /// Whether it is still subscribed.
        pub fn is_open(&self) -> bool {
            self.inner.is_open()
        }
    }
}

/// Domain events: `doorward.events()`.
#[derive(Debug, uniffi::Object)]
pub struct Events {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Events {
        /// Call `handler` with every event of `types` (all when empty)
        /// committed from now on. With a `name` the subscriber is durable:
        /// its position is stored, so it resumes where it left off after a
        /// restart. `Config` when `events_dispatch` is off.
        #[uniffi::method(default(types = [], name = None))]
        pub async fn subscribe(&self, handler: Arc<dyn EventHandler>, types: Vec<String>, name: Option<String>) -> Result<Arc<Subscription>, DoorwardError> {
            let app = self::handler(handler);
            call(async {
                let types = doorward::events::parse_types(&types)?;
                self.dw.events().subscribe_handler(name.as_deref(), &types, app).await
            })
            .await
            .map(|inner| Arc::new(Subscription { inner }))
        }

        /// Events in commit order after `cursor` (from the start without
        /// one), `limit` (1 to 1000; `null` for the default, 50) at a time.
        #[uniffi::method(default(cursor = None, limit = None))]
        pub async fn list(&self, cursor: Option<String>, limit: Option<u32>) -> Result<EventPage, DoorwardError> {
            call(self.dw.events().list(cursor.as_deref(), limit)).await.map(EventPage::from)
        }

        /// Run the dispatcher until everything committed so far has reached
        /// every handler and webhook that can take it now (retries that are
        /// not due yet stay queued). For tests and graceful shutdown.
        pub async fn flush(&self) -> Result<(), DoorwardError> {
            call(self.dw.events().flush()).await
        }

        /// Webhook deliveries in `status` (`pending`, `delivered`, `dead`;
        /// all when `null`), oldest first, `limit` (1 to 1000; `null` for
        /// the default, 50) at a time after the delivery id `cursor`.
        #[uniffi::method(default(status = None, cursor = None, limit = None))]
        pub async fn deliveries(&self, status: Option<String>, cursor: Option<String>, limit: Option<u32>) -> Result<Vec<DeliveryRecord>, DoorwardError> {
            call(async {
                let status = status.map(|s| s.parse()).transpose()?;
                self.dw.events().deliveries(status, cursor.as_deref(), limit).await
            })
            .await
            .map(crate::types::each)
        }

        /// Dead-lettered webhook deliveries: given up after
        /// `events_max_attempts`.
        pub async fn dead(&self) -> Result<Vec<DeliveryRecord>, DoorwardError> {
            call(self.dw.events().dead()).await.map(crate::types::each)
        }

        /// Queue a dead delivery again, due now (`NotFound` unless it is dead).
        pub async fn replay(&self, delivery_id: u64) -> Result<(), DoorwardError> {
            call(self.dw.events().replay(delivery_id)).await
        }
    }
}

export! {
    sync
    /// Every event type name, in documentation order.
    pub fn event_types() -> Vec<String> {
        doorward::EventType::ALL
            .iter()
            .map(|t| t.as_str().to_string())
            .collect()
    }
}
