//! `dw.events()` and `dw.webhooks()`: what hosts call.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::json;

use super::dispatch::{self, Handler, Subscription};
use super::{Event, EventType, MAX_PAGE, seq_cursor};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::store::{DeliveryRecord, DeliveryStatus};
use crate::telemetry::operation;

/// One page of the outbox, in commit order.
pub type EventPage = crate::Page<Event>;

/// A durable subscriber's name: what its position is stored under.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "name",
            "must be 1 to 64 letters, digits, '-', '_' or '.'",
        ))
    }
}

/// Domain events: subscribing, reading the outbox, dead letters.
#[derive(Debug, Clone)]
pub struct Events {
    pub(crate) core: Arc<Core>,
}

impl Events {
    /// Call `handler` with every event of `types` (all when empty) committed
    /// from now on, in commit order, at least once: an `Err` or a panic has
    /// the event delivered again after a backoff, up to
    /// `events_max_attempts` times.
    ///
    /// With a `name` the subscriber is durable: its position is kept in the
    /// store, so events committed while the process was down are delivered
    /// when it subscribes again under the same name, and instances sharing
    /// the database take turns (one delivers at a time).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::sync::{Arc, Mutex};
    /// use doorward::events::EventType;
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let sink = seen.clone();
    /// let sub = dw.events().subscribe(None, &[EventType::UserRegistered], move |e| {
    ///     sink.lock().unwrap().push(e.subject.clone().unwrap());
    ///     async { Ok(()) }
    /// }).await?;
    /// let reg = dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
    /// dw.events().flush().await?;
    /// assert_eq!(*seen.lock().unwrap(), vec![reg.user.id]);
    /// sub.close();
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn subscribe<F, Fut>(
        &self,
        name: Option<&str>,
        types: &[EventType],
        handler: F,
    ) -> Result<Subscription>
    where
        F: Fn(Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), String>> + Send + 'static,
    {
        self.core
            .observe(operation!("events.subscribe", ?name), async {
                let handler: Handler =
                    Arc::new(move |e| -> BoxFuture<'static, _> { Box::pin(handler(e)) });
                self.subscribe_handler(name, types, handler).await
            })
            .await
    }

    /// [`Events::subscribe`] with a handler already boxed (what bindings use).
    pub async fn subscribe_handler(
        &self,
        name: Option<&str>,
        types: &[EventType],
        handler: Handler,
    ) -> Result<Subscription> {
        self.core
            .observe(operation!("events.subscribe_handler", ?name), async {
                if !self.core.config.events_dispatch {
                    return Err(Error::Config(
                        "events_dispatch is off: nothing would deliver to a subscriber".into(),
                    ));
                }
                dispatch::subscribe(
                    &self.core,
                    name.map(str::to_string),
                    types.to_vec(),
                    handler,
                    self.core.config.events_max_attempts,
                )
                .await
            })
            .await
    }

    /// Events in commit order after `cursor` (from the start without one),
    /// `limit` (1 to 1000; `None` for [`PageRequest::DEFAULT_LIMIT`]) at a
    /// time.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.auth().register_user("john", "john@example.com", "correct horse battery", None).await?;
    /// let first = dw.events().list(None, 1).await?;
    /// assert_eq!(first.items[0].event_type.as_str(), "UserRegistered");
    /// let rest = dw.events().list(first.next_cursor.as_deref(), None).await?;
    /// assert_eq!(rest.items[0].event_type.as_str(), "LoginSucceeded");
    /// assert!(dw.events().list(None, 1001).await.is_err());
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn list(
        &self,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<EventPage> {
        let limit = limit.into();
        self.core
            .observe(operation!("events.list"), async {
                let page = PageRequest::new(cursor, limit);
                let limit = page.limit_within(MAX_PAGE)?;
                let after = seq_cursor(page.cursor)?;
                let events = self.core.store.events_after(after, limit + 1).await?;
                let (items, next_cursor) = super::page_of(events, limit, |e| e.seq);
                Ok(EventPage { items, next_cursor })
            })
            .await
    }

    /// Run the dispatcher until everything committed so far has reached
    /// every consumer that can take it now (deliveries waiting for a
    /// retry stay queued). For tests, scripts and graceful shutdown.
    pub async fn flush(&self) -> Result<()> {
        self.core
            .observe(operation!("events.flush"), async {
                for _ in 0..10_000 {
                    if !dispatch::run_once(&self.core).await? {
                        return Ok(());
                    }
                }
                Ok(())
            })
            .await
    }

    /// Wait for the dispatcher's pass in progress to end, and hold off
    /// further passes until the returned guard is dropped.
    ///
    /// For hosts that `fork()` (a pre-forking server): a child must not
    /// inherit a database library caught mid-call on one of the parent's
    /// threads, so the parent pauses around the fork.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let paused = dw.events().pause().await;
    /// // ... fork here ...
    /// drop(paused);
    /// dw.events().flush().await?;
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn pause(&self) -> dispatch::DispatchPause {
        dispatch::pause(&self.core.hub).await
    }

    /// Webhook deliveries in `status` (all when `None`), oldest first,
    /// after `cursor` (a delivery id), `limit` (1 to 1000; `None` for
    /// [`PageRequest::DEFAULT_LIMIT`]) at a time.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// assert!(dw.events().deliveries(None, None, None).await?.is_empty());
    /// let err = dw.events().deliveries(None, None, 0).await.unwrap_err();
    /// assert_eq!(err.field(), Some("limit"));
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<Vec<DeliveryRecord>> {
        let limit = limit.into();
        self.core
            .observe(operation!("events.deliveries"), async {
                let page = PageRequest::new(cursor, limit);
                let limit = page.limit_within(MAX_PAGE)?;
                let after = seq_cursor(page.cursor)?;
                self.core.store.deliveries(status, after, limit).await
            })
            .await
    }

    /// Dead-lettered webhook deliveries.
    pub async fn dead(&self) -> Result<Vec<DeliveryRecord>> {
        self.core
            .observe(operation!("events.dead"), async {
                self.deliveries(Some(DeliveryStatus::Dead), None, MAX_PAGE)
                    .await
            })
            .await
    }

    /// Queue a dead delivery again, due now; `not_found` unless it is dead.
    pub async fn replay(&self, delivery_id: u64) -> Result<()> {
        self.core
            .observe(operation!("events.replay", %delivery_id), async {
                let replayed = Event::by_host(
                    EventType::DeliveryReplayed,
                    &delivery_id.to_string(),
                    json!({ "delivery_id": delivery_id }),
                );
                if !self
                    .core
                    .store
                    .replay_delivery(delivery_id, crate::store::now(), &[replayed])
                    .await?
                {
                    return Err(Error::not_found("dead delivery"));
                }
                self.core.hub.wake.notify_one();
                Ok(())
            })
            .await
    }
}

/// A webhook endpoint as hosts see it. The secret is shown so the receiver
/// can be configured with it; `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Webhook {
    /// `wh_` + UUIDv7.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// `whsec_…`: the receiver verifies signatures with it.
    pub secret: String,
    /// The event types it receives (all when empty).
    pub event_types: Vec<EventType>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("event_types", &self.event_types)
            .finish()
    }
}

impl From<crate::store::WebhookRecord> for Webhook {
    fn from(r: crate::store::WebhookRecord) -> Self {
        Webhook {
            id: r.id,
            url: r.url,
            secret: r.secret,
            event_types: r.event_types,
            created_at: r.created_at,
        }
    }
}

/// Webhook endpoints.
#[derive(Debug, Clone)]
pub struct Webhooks {
    pub(crate) core: Arc<Core>,
}

impl Webhooks {
    /// Register `url` (http or https) for `event_types` (all when empty).
    /// Events committed from now on are delivered to it. Unless
    /// `webhook_allow_private` is set, a URL whose address is loopback,
    /// private, link-local or otherwise not public (or a `localhost` name)
    /// is a `validation_error` on `url`; names are checked again at each
    /// delivery, when they are resolved.
    pub async fn add(&self, url: &str, event_types: &[EventType]) -> Result<Webhook> {
        self.core
            .observe(operation!("webhooks.add"), async {
                self.enabled()?;
                let parsed = url::Url::parse(url)
                    .map_err(|_| Error::validation("url", "is not an absolute URL"))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(Error::validation("url", "must be an http or https URL"));
                }
                #[cfg(feature = "webhooks")]
                super::targets::check_url(&parsed, self.core.config.webhook_allow_private)?;
                let mut types = event_types.to_vec();
                types.sort();
                types.dedup();
                let record = crate::store::WebhookRecord {
                    id: format!("wh_{}", uuid::Uuid::now_v7().simple()),
                    url: parsed.to_string(),
                    secret: new_secret(),
                    event_types: types,
                    created_at: crate::store::now(),
                };
                let added = Event::by_host(
                    EventType::WebhookAdded,
                    &record.id,
                    json!({ "webhook_id": record.id, "event_types": record.event_types }),
                );
                self.core.store.create_webhook(&record, &[added]).await?;
                tracing::info!(webhook_id = %record.id, "webhook added");
                Ok(record.into())
            })
            .await
    }

    /// Every webhook, oldest first.
    pub async fn list(&self) -> Result<Vec<Webhook>> {
        self.core
            .observe(operation!("webhooks.list"), async {
                Ok(self
                    .core
                    .store
                    .webhooks()
                    .await?
                    .into_iter()
                    .map(Webhook::from)
                    .collect())
            })
            .await
    }

    /// Remove a webhook and its queued deliveries; `not_found` if absent.
    pub async fn remove(&self, id: &str) -> Result<()> {
        self.core
            .observe(operation!("webhooks.remove", %id), async {
                let removed =
                    Event::by_host(EventType::WebhookRemoved, id, json!({ "webhook_id": id }));
                if !self.core.store.delete_webhook(id, &[removed]).await? {
                    return Err(Error::not_found("webhook"));
                }
                tracing::info!(webhook_id = id, "webhook removed");
                Ok(())
            })
            .await
    }

    /// Send a signed `doorward.test` message to the webhook now, outside
    /// the queue, and report how the receiver answered. It connects only
    /// where a delivery would (see [`Webhooks::add`]), so it cannot probe
    /// the server's own network.
    pub async fn test(&self, id: &str) -> Result<WebhookTest> {
        self.core
            .observe(operation!("webhooks.test", %id), async {
                self.enabled()?;
                let hook = self
                    .core
                    .store
                    .webhooks()
                    .await?
                    .into_iter()
                    .find(|w| w.id == id)
                    .ok_or_else(|| Error::not_found("webhook"))?;
                send_test(&self.core, &hook).await
            })
            .await
    }

    fn enabled(&self) -> Result<()> {
        if cfg!(feature = "webhooks") {
            Ok(())
        } else {
            Err(Error::Config(
                "doorward was built without the `webhooks` feature".into(),
            ))
        }
    }
}

/// How a test message went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookTest {
    /// The receiver answered 2xx.
    pub ok: bool,
    /// Otherwise why not (`HTTP 500`, `connection failed`, `timeout`).
    pub error: Option<String>,
}

/// A fresh `whsec_` secret: 32 random bytes.
fn new_secret() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

#[cfg(feature = "webhooks")]
async fn send_test(core: &Core, hook: &crate::store::WebhookRecord) -> Result<WebhookTest> {
    let msg_id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    let body = serde_json::json!({
        "type": "doorward.test",
        "timestamp": crate::store::now(),
        "data": { "webhook_id": hook.id },
    })
    .to_string();
    let sent = super::webhooks::send(core, &hook.url, &hook.secret, &msg_id, &body).await;
    Ok(WebhookTest {
        ok: sent.is_ok(),
        error: sent.err(),
    })
}

#[cfg(not(feature = "webhooks"))]
async fn send_test(_core: &Core, _hook: &crate::store::WebhookRecord) -> Result<WebhookTest> {
    Err(Error::Config(
        "doorward was built without the `webhooks` feature".into(),
    ))
}
