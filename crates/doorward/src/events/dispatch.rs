//! The dispatcher: one background task per open `Doorward` that reads the
//! outbox in order and hands each event to every consumer, at least once.
//!
//! Consumers are the audit log, the webhook fan-out (which queues a
//! delivery per matching webhook) and host subscribers. Durable consumers
//! keep their position in the store under a lease, so after a crash the
//! next instance to run resumes where the last committed position was, and
//! instances sharing a database run each consumer on one of them at a time.
//! Queued webhook deliveries are then claimed and sent by every instance
//! (see [`super::webhooks`]).
//!
//! The task polls every `events_poll_interval_ms` and is woken at once
//! when this instance commits events; it holds only a weak reference to
//! the core, so it ends when the last `Doorward` clone is dropped.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::{Event, EventType};
use crate::core::Core;
use crate::error::Result;
use crate::store::{Lease, now};

/// The built-in consumers, as `event_consumers` names them.
pub(crate) const AUDIT: &str = "audit";
#[cfg(feature = "webhooks")]
pub(crate) const WEBHOOKS: &str = "webhooks";

/// Events read per batch.
const BATCH: u32 = 256;

/// A host callback: `Ok` when the event was handled, `Err(reason)` to have
/// it delivered again later.
pub type Handler =
    Arc<dyn Fn(Event) -> BoxFuture<'static, std::result::Result<(), String>> + Send + Sync>;

/// A host subscriber as the dispatcher keeps it.
struct Subscriber {
    /// `Some` for a durable subscriber (position kept in the store as
    /// `sub:<name>`), `None` for one that lives with this process.
    name: Option<String>,
    types: Vec<EventType>,
    handler: Handler,
    /// Where an in-process subscriber is (durable ones read the store).
    position: u64,
    /// The outbox position it is known to have handled: nothing to do
    /// until the outbox grows past it. Unknown for a durable subscriber
    /// until its first pass reads its stored position.
    caught_up: Option<u64>,
    /// Attempts at one event before it is skipped.
    max_attempts: u32,
    /// Failed attempts at the event after `position`, and when to retry.
    failures: u32,
    retry_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Shared between the services and the dispatcher task.
pub(crate) struct Hub {
    /// This instance's lease owner id.
    pub owner: String,
    pub wake: Notify,
    subscribers: Mutex<HashMap<u64, Subscriber>>,
    /// Outbox positions the built-in consumers are known to have reached,
    /// so an idle pass costs one read instead of a lease write each.
    caught_up: Mutex<HashMap<&'static str, u64>>,
    next_id: std::sync::atomic::AtomicU64,
    /// One pass at a time in this process: the task and `flush` would
    /// otherwise hand the same event to a subscriber twice.
    running: Arc<tokio::sync::Mutex<()>>,
    /// When this instance last pruned the outbox.
    pub(crate) pruned_at: Mutex<Option<std::time::Instant>>,
    #[cfg(feature = "webhooks")]
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub(crate) fn new(config: &crate::Config) -> Result<Hub> {
        #[cfg(feature = "webhooks")]
        let http = {
            // No proxy: the address check must see the address connected to.
            let builder = reqwest::Client::builder()
                .timeout(Duration::from_millis(config.webhook_timeout_ms.max(1)))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy();
            let builder = if config.webhook_allow_private {
                builder
            } else {
                builder.dns_resolver(super::targets::PublicResolver)
            };
            builder.build().map_err(|e| {
                crate::Error::Config(format!("cannot build the webhook client: {e}"))
            })?
        };
        #[cfg(not(feature = "webhooks"))]
        let _ = config;
        Ok(Hub {
            owner: uuid::Uuid::now_v7().to_string(),
            wake: Notify::new(),
            subscribers: Mutex::new(HashMap::new()),
            caught_up: Mutex::new(HashMap::new()),
            next_id: std::sync::atomic::AtomicU64::new(1),
            running: Arc::new(tokio::sync::Mutex::new(())),
            pruned_at: Mutex::new(None),
            #[cfg(feature = "webhooks")]
            http,
        })
    }

    fn subscribers(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Subscriber>> {
        self.subscribers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This process's subscribers as (store name if durable, position).
    pub(crate) fn subscriber_positions(&self) -> Vec<(Option<String>, u64)> {
        self.subscribers()
            .values()
            .map(|s| (s.name.as_ref().map(|n| consumer_name(n)), s.position))
            .collect()
    }
}

/// Holds off the dispatcher until dropped; see [`crate::Events::pause`].
#[derive(Debug)]
pub struct DispatchPause {
    _held: tokio::sync::OwnedMutexGuard<()>,
}

/// Wait for the pass in progress to end and hold off the next.
pub(crate) async fn pause(hub: &Hub) -> DispatchPause {
    DispatchPause {
        _held: hub.running.clone().lock_owned().await,
    }
}

/// A live subscription; [`Subscription::close`] (or dropping every clone of
/// the `Doorward`) ends it.
#[derive(Debug, Clone)]
pub struct Subscription {
    id: u64,
    hub: Weak<Hub>,
}

impl Subscription {
    /// Stop delivering to this subscriber. A durable subscriber's position
    /// stays in the store; its lease lapses after `events_lease_secs`, when
    /// another instance may take it over.
    pub fn close(&self) {
        if let Some(hub) = self.hub.upgrade() {
            hub.subscribers().remove(&self.id);
        }
    }

    /// Whether it is still subscribed.
    pub fn is_open(&self) -> bool {
        self.hub
            .upgrade()
            .is_some_and(|hub| hub.subscribers().contains_key(&self.id))
    }
}

/// The consumer a durable subscriber keeps its position under.
fn consumer_name(subscriber: &str) -> String {
    format!("sub:{subscriber}")
}

/// The metrics label of deliveries to host subscribers.
const SUBSCRIBER: &[(&str, &str)] = &[("consumer", "subscriber")];

/// Register a subscriber; an in-process one starts after the newest event,
/// and so does a durable one the store has no position for yet.
pub(crate) async fn subscribe(
    core: &Core,
    name: Option<String>,
    types: Vec<EventType>,
    handler: Handler,
    max_attempts: u32,
) -> Result<Subscription> {
    let newest = core.store.last_event_seq().await?;
    subscribe_after(core, name, types, handler, max_attempts, newest).await
}

/// Register a subscriber that starts after `position` unless the store
/// keeps one for it: the account mails start at the outbox's beginning, so
/// a mail asked for before any instance could send (from the CLI) still
/// goes out when one first can.
pub(crate) async fn subscribe_after(
    core: &Core,
    name: Option<String>,
    types: Vec<EventType>,
    handler: Handler,
    max_attempts: u32,
    position: u64,
) -> Result<Subscription> {
    if let Some(name) = &name {
        crate::events::service::check_name(name)?;
    }
    let hub = &core.hub;
    let id = hub
        .next_id
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    hub.subscribers().insert(
        id,
        Subscriber {
            types,
            handler,
            caught_up: name.is_none().then_some(position),
            name,
            position,
            max_attempts,
            failures: 0,
            retry_at: None,
        },
    );
    hub.wake.notify_one();
    Ok(Subscription {
        id,
        hub: Arc::downgrade(hub),
    })
}

/// Start the dispatcher task for `core`.
pub(crate) fn spawn(core: &Arc<Core>) {
    let weak = Arc::downgrade(core);
    let hub = core.hub.clone();
    let poll = Duration::from_millis(core.config.events_poll_interval_ms.max(1));
    tokio::spawn(async move {
        loop {
            let Some(core) = weak.upgrade() else { return };
            let busy = match run_once(&core).await {
                Ok(busy) => busy,
                Err(err) => {
                    tracing::warn!(error = %err, "event dispatch failed; retrying");
                    false
                }
            };
            drop(core);
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = hub.wake.notified() => {}
                }
            }
        }
    });
}

/// One pass over every consumer; true if there may be more work at once.
pub(crate) async fn run_once(core: &Arc<Core>) -> Result<bool> {
    let _one_at_a_time = core.hub.running.lock().await;
    let last = core.store.last_event_seq().await?;
    let mut busy = false;
    busy |= run_consumer(core, AUDIT, last, |core, events, lease| {
        Box::pin(crate::events::audit::append(core, events, lease))
    })
    .await?;
    #[cfg(feature = "webhooks")]
    {
        busy |= run_consumer(core, WEBHOOKS, last, |core, events, lease| {
            Box::pin(crate::events::webhooks::fan_out(core, events, lease))
        })
        .await?;
        busy |= crate::events::webhooks::deliver_due(core).await?;
    }
    busy |= run_subscribers(core, last).await?;
    if let Err(err) = super::retention::prune_if_due(core, last).await {
        tracing::warn!(error = %err, "pruning the outbox failed; trying again later");
    }
    Ok(busy)
}

type Apply = for<'a> fn(&'a Core, &'a [Event], &'a Lease) -> BoxFuture<'a, Result<bool>>;

/// Lease a built-in consumer, read a batch after its position and apply it
/// (which moves the position in the same transaction), unless it is known
/// to have reached `last` already.
async fn run_consumer(
    core: &Arc<Core>,
    name: &'static str,
    last: u64,
    apply: Apply,
) -> Result<bool> {
    let known = |hub: &Hub| {
        hub.caught_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
    };
    let reached = |position: u64| {
        core.hub
            .caught_up
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, position);
    };
    if known(&core.hub).is_some_and(|p| p >= last) {
        return Ok(false);
    }
    let store = &core.store;
    let at = now();
    let until = at + chrono::Duration::seconds(core.config.events_lease_secs as i64);
    let Some(position) = store
        .lease_consumer(name, &core.hub.owner, 0, at, until)
        .await?
    else {
        return Ok(false);
    };
    let events = store.events_after(position, BATCH).await?;
    let Some(newest) = events.last() else {
        reached(position);
        return Ok(false);
    };
    let lease = Lease {
        name: name.to_string(),
        owner: core.hub.owner.clone(),
        position: newest.seq,
    };
    let applied = apply(core, &events, &lease).await?;
    if applied {
        reached(newest.seq);
    }
    Ok(applied && events.len() == BATCH as usize)
}

/// Hand pending events to each host subscriber in turn.
async fn run_subscribers(core: &Arc<Core>, last: u64) -> Result<bool> {
    let ids: Vec<u64> = core
        .hub
        .subscribers()
        .iter()
        .filter(|(_, s)| s.caught_up.is_none_or(|p| p < last))
        .map(|(id, _)| *id)
        .collect();
    let mut busy = false;
    for id in ids {
        busy |= run_subscriber(core, id).await?;
    }
    Ok(busy)
}

async fn run_subscriber(core: &Arc<Core>, id: u64) -> Result<bool> {
    let at = now();
    let (name, types, handler, mut position) = {
        let subs = core.hub.subscribers();
        let Some(s) = subs.get(&id) else {
            return Ok(false);
        };
        if s.retry_at.is_some_and(|t| t > at) {
            return Ok(false);
        }
        (
            s.name.clone(),
            s.types.clone(),
            s.handler.clone(),
            s.position,
        )
    };
    let store = &core.store;
    let lease_name = name.as_deref().map(consumer_name);
    if let Some(lease_name) = &lease_name {
        let until = at + chrono::Duration::seconds(core.config.events_lease_secs as i64);
        match store
            .lease_consumer(lease_name, &core.hub.owner, position, at, until)
            .await?
        {
            Some(p) => position = p,
            None => return Ok(false),
        }
    }
    let events = store.events_after(position, BATCH).await?;
    let full = events.len() == BATCH as usize;
    for event in events {
        if !types.is_empty() && !types.contains(&event.event_type) {
            position = event.seq;
            continue;
        }
        // Bounded, so a handler that never finishes cannot hold up every
        // other consumer: it counts as a failure and is retried.
        let limit = Duration::from_millis(core.config.events_handler_timeout_ms.max(1));
        let outcome = tokio::time::timeout(
            limit,
            AssertUnwindSafe(handler(event.clone())).catch_unwind(),
        )
        .await
        .unwrap_or_else(|_| Ok(Err("the handler timed out".into())))
        .unwrap_or_else(|_| Err("the handler panicked".into()));
        match outcome {
            Ok(()) => {
                position = event.seq;
                core.metrics
                    .count("doorward_events_delivered_total", SUBSCRIBER);
            }
            Err(reason) => {
                core.metrics
                    .count("doorward_events_failed_total", SUBSCRIBER);
                let mut subs = core.hub.subscribers();
                let Some(s) = subs.get_mut(&id) else {
                    return Ok(false);
                };
                s.failures += 1;
                if s.failures >= s.max_attempts {
                    // Skipped after the last attempt, so one bad event cannot
                    // stop every later one.
                    tracing::error!(event_id = %event.id, reason, "subscriber gave up on an event");
                    core.metrics.count("doorward_events_dead_total", SUBSCRIBER);
                    s.failures = 0;
                    s.retry_at = None;
                    position = event.seq;
                    continue;
                }
                tracing::warn!(event_id = %event.id, reason, attempt = s.failures, "subscriber failed; will retry");
                s.retry_at = Some(now() + super::backoff(&core.config, s.failures));
                drop(subs);
                break;
            }
        }
        if let Some(s) = core.hub.subscribers().get_mut(&id) {
            s.failures = 0;
            s.retry_at = None;
        }
    }
    if let Some(s) = core.hub.subscribers().get_mut(&id) {
        s.position = position;
        s.caught_up = Some(position);
    }
    if let Some(lease_name) = lease_name {
        let lease = Lease {
            name: lease_name,
            owner: core.hub.owner.clone(),
            position,
        };
        store.advance_consumer(&lease, now()).await?;
    }
    Ok(full)
}
