//! `dw.events`: the outbox, webhook deliveries and dead letters, and
//! subscriptions that call a JavaScript function with each event.
//!
//! A subscriber is a `ThreadsafeFunction`: the core's dispatcher (on the
//! addon's threads) queues a call onto the event loop and waits for the
//! Promise the function returns, so an event counts as handled only when
//! the host's handler has finished with it, and a rejection is an `Err`
//! the core retries. The function is referenced while subscribed (a live
//! subscription keeps the process running, like a listening socket) and
//! released when the subscription closes, so a closed one never does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use napi::Status;
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;

use crate::error::guarded;
use crate::types::{each, limit};

/// One change, as recorded in the outbox.
#[napi(object)]
#[derive(Debug)]
pub struct Event {
    /// UUIDv7; receivers deduplicate on it.
    pub id: String,
    /// Position in the outbox (commit order).
    pub seq: f64,
    #[napi(js_name = "type", ts_type = "import('./index').EventType")]
    pub event_type: String,
    /// Version of the payload's shape for this type.
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    /// The user who made the change; absent for the host as administrator.
    pub actor: Option<String>,
    /// What it concerns: a user id, a role name or a file key.
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Type-specific details (snake_case keys, as webhooks receive them);
    /// ids and names only, never a secret.
    #[napi(ts_type = "Record<string, unknown>")]
    pub payload: serde_json::Value,
}

impl From<doorward::Event> for Event {
    fn from(e: doorward::Event) -> Self {
        Event {
            id: e.id,
            seq: e.seq as f64,
            event_type: e.event_type.as_str().to_string(),
            version: e.version,
            occurred_at: e.occurred_at,
            actor: e.actor,
            subject: e.subject,
            ip: e.ip,
            user_agent: e.user_agent,
            payload: e.payload,
        }
    }
}

/// One page of the outbox.
#[napi(object)]
#[derive(Debug)]
pub struct EventPage {
    pub items: Vec<Event>,
    pub next_cursor: Option<String>,
}

impl From<doorward::events::EventPage> for EventPage {
    fn from(p: doorward::events::EventPage) -> Self {
        EventPage {
            items: each(p.items),
            next_cursor: p.next_cursor,
        }
    }
}

/// One event on its way to one webhook.
#[napi(object)]
#[derive(Debug)]
pub struct DeliveryRecord {
    /// What `replay` takes.
    pub id: f64,
    pub webhook_id: String,
    pub event_seq: f64,
    pub event_id: String,
    #[napi(ts_type = "import('./index').EventType")]
    pub event_type: String,
    #[napi(ts_type = "import('./index').DeliveryStatus")]
    pub status: String,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed (`HTTP 500`, a transport error).
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<doorward::store::DeliveryRecord> for DeliveryRecord {
    fn from(d: doorward::store::DeliveryRecord) -> Self {
        DeliveryRecord {
            id: d.id as f64,
            webhook_id: d.webhook_id,
            event_seq: d.event_seq as f64,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            updated_at: d.updated_at,
        }
    }
}

/// Where `list` resumes and how much it returns (1 to 1000, default 50).
#[napi(object)]
#[derive(Debug, Default)]
pub struct EventListOptions {
    pub cursor: Option<String>,
    pub limit: Option<f64>,
}

/// Which deliveries `deliveries` returns: in `status` (all without one),
/// after `cursor`, `limit` (1 to 1000, default 50) at a time.
#[napi(object)]
#[derive(Debug, Default)]
pub struct DeliveryListOptions {
    #[napi(ts_type = "import('./index').DeliveryStatus")]
    pub status: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<f64>,
}

/// What a subscriber receives: events of `types` (all without them); with
/// a `name` it is durable, resuming after a restart where it left off.
#[napi(object)]
#[derive(Debug, Default)]
pub struct SubscribeOptions {
    #[napi(ts_type = "import('./index').EventType[]")]
    pub types: Option<Vec<String>>,
    pub name: Option<String>,
}

/// The JavaScript side of a subscriber: called with one event, returning
/// a Promise (the package wraps the host's function so it always does).
type JsHandler = ThreadsafeFunction<Event, Promise<()>, Event, Status, false>;

/// What the core's handler returns.
type Reply = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// The host's function as the core's handler: `Ok` once its Promise
/// resolves, `Err` (retried by the core) when it rejects or cannot be
/// called because the environment is shutting down.
fn handler(js: JsHandler) -> doorward::events::Handler {
    let js = Arc::new(js);
    Arc::new(move |event: doorward::Event| -> Reply {
        let js = js.clone();
        Box::pin(async move {
            let promise = js
                .call_async_catch(Event::from(event))
                .await
                .map_err(|e| e.reason)?;
            promise.await.map_err(|e| e.reason)
        })
    })
}

/// A live subscription: `close()` stops deliveries and lets the process
/// exit.
#[napi]
#[derive(Debug)]
pub struct Subscription {
    inner: doorward::Subscription,
}

#[napi]
impl Subscription {
    /// Stop delivering. A durable subscriber's position stays stored.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }

    /// Whether it still receives events.
    #[napi(getter)]
    pub fn is_open(&self) -> bool {
        self.inner.is_open()
    }
}

/// Domain events: `dw.events`.
#[napi]
#[derive(Debug)]
pub struct Events {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Events {
    /// Call `handler` with every event committed from now on, in commit
    /// order, at least once: a throw or a rejected Promise has the event
    /// delivered again after a backoff (up to `eventsMaxAttempts` times).
    /// The dispatcher waits for the handler, so a handler must not await
    /// `flush()`, which would wait for it in turn.
    #[napi(
        ts_args_type = "handler: (event: Event) => void | Promise<void>, options?: SubscribeOptions | undefined | null"
    )]
    pub async fn subscribe(
        &self,
        handler_fn: JsHandler,
        options: Option<SubscribeOptions>,
    ) -> napi::Result<Subscription> {
        let options = options.unwrap_or_default();
        let names = options.types.unwrap_or_default();
        let handler = handler(handler_fn);
        guarded(async {
            let types = doorward::events::parse_types(&names)?;
            self.dw
                .events()
                .subscribe_handler(options.name.as_deref(), &types, handler)
                .await
        })
        .await
        .map(|inner| Subscription { inner })
    }

    /// Events in commit order; pass `nextCursor` back for the next page.
    #[napi]
    pub async fn list(&self, options: Option<EventListOptions>) -> napi::Result<EventPage> {
        let options = options.unwrap_or_default();
        let limit = limit(options.limit);
        guarded(self.dw.events().list(options.cursor.as_deref(), limit))
            .await
            .map(EventPage::from)
    }

    /// Run the dispatcher until everything committed so far has reached
    /// every consumer that can take it now (retries waiting for their
    /// backoff stay queued): what tests and graceful shutdowns await.
    #[napi]
    pub async fn flush(&self) -> napi::Result<()> {
        guarded(self.dw.events().flush()).await
    }

    /// Webhook deliveries, oldest first.
    #[napi]
    pub async fn deliveries(
        &self,
        options: Option<DeliveryListOptions>,
    ) -> napi::Result<Vec<DeliveryRecord>> {
        let options = options.unwrap_or_default();
        let limit = limit(options.limit);
        guarded(async {
            let status = options
                .status
                .as_deref()
                .map(str::parse::<doorward::store::DeliveryStatus>)
                .transpose()?;
            self.dw
                .events()
                .deliveries(status, options.cursor.as_deref(), limit)
                .await
        })
        .await
        .map(each)
    }

    /// Dead-lettered webhook deliveries: they gave up after
    /// `eventsMaxAttempts`.
    #[napi]
    pub async fn dead(&self) -> napi::Result<Vec<DeliveryRecord>> {
        guarded(self.dw.events().dead()).await.map(each)
    }

    /// Queue a dead delivery again, due now (`not_found` unless it is dead).
    #[napi]
    pub async fn replay(&self, delivery_id: f64) -> napi::Result<()> {
        // A number that is no delivery id (negative, fractional) names no
        // dead delivery: the core answers `not_found` for it.
        let id = if delivery_id.fract() == 0.0 && delivery_id >= 0.0 {
            delivery_id as u64
        } else {
            u64::MAX
        };
        guarded(self.dw.events().replay(id)).await
    }
}

/// Every event type name, in the core's order: what the TypeScript
/// `EventType` union is checked against.
#[napi]
pub fn event_types() -> Vec<&'static str> {
    doorward::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect()
}
