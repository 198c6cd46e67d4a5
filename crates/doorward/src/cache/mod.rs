//! Caching of users, roles and permission sets, and a memoize helper for
//! host code.
//!
//! Lookups go L1 (this process, [`MemoryCache`]) → L2 (Redis,
//! `RedisCache`, when `redis_url` is set) → the store, and fill both levels
//! on the way back. A change invalidates both levels here and publishes the
//! keys on `{prefix}invalidate`, so other instances drop them from their L1
//! as soon as the message arrives.
//!
//! Pub/sub delivers at most once, so two further guards bound staleness:
//! every entry has a TTL (`cache_ttl`), and an instance empties its L1
//! whenever its subscription (re)connects, since messages may have been
//! missed while it was down. A fill that started before an invalidation is
//! refused on both levels (tickets, below), so a slow reader cannot put
//! back a value a writer just removed.

mod index;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod service;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::telemetry::Tally;

pub use memory::MemoryCache;
#[cfg(feature = "redis")]
pub use redis::RedisCache;
pub use service::CacheService;

/// What a lookup found.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// The cached bytes.
    Hit(Arc<[u8]>),
    /// Nothing; a fill must present this ticket, and is refused if anything
    /// was invalidated since.
    Miss(Ticket),
}

/// Proof of which invalidations a miss had seen; see [`Cache::fill`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket(String);

/// One level of cache. Keys are `namespace:rest` (`user:…`, `perms:…`,
/// `role:…`, `app:…`); values are bytes with a TTL.
#[async_trait]
pub trait Cache: Send + Sync + std::fmt::Debug {
    /// The value under `key`, or a ticket for filling it.
    async fn get(&self, key: &str) -> Result<Lookup>;
    /// Store a value loaded after a miss, unless `key` (or its namespace, or
    /// everything) was invalidated after that miss; true if stored.
    async fn fill(
        &self,
        key: &str,
        value: Arc<[u8]>,
        ttl: Duration,
        ticket: &Ticket,
    ) -> Result<bool>;
    /// Store a value unconditionally.
    async fn set(&self, key: &str, value: Arc<[u8]>, ttl: Duration) -> Result<()>;
    /// Remove keys.
    async fn invalidate(&self, keys: &[String]) -> Result<()>;
    /// Remove every key of a namespace (`perms` for `perms:…`).
    async fn invalidate_namespace(&self, namespace: &str) -> Result<()>;
    /// Remove everything.
    async fn clear(&self) -> Result<()>;
    /// `memory` or `redis`.
    fn name(&self) -> &'static str;
}

/// The namespace of a key: the part before the first `:`.
pub(crate) fn namespace_of(key: &str) -> &str {
    key.split_once(':').map_or(key, |(ns, _)| ns)
}

/// Counters for `doorward cache stats` and monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Entries in this process's L1.
    pub l1_entries: u64,
    /// Lookups answered by L1.
    pub l1_hits: u64,
    /// Lookups L1 could not answer.
    pub l1_misses: u64,
    /// Lookups answered by Redis.
    pub l2_hits: u64,
    /// Lookups Redis could not answer.
    pub l2_misses: u64,
    /// Values loaded from the store.
    pub loads: u64,
    /// Invalidations this instance published.
    pub invalidations_sent: u64,
    /// Invalidations received from other instances.
    pub invalidations_received: u64,
    /// Times the L1 was emptied because the subscription (re)connected.
    pub resyncs: u64,
    /// Whether a Redis is configured.
    pub redis: bool,
    /// Whether the last Redis command succeeded.
    pub redis_up: bool,
    /// Redis commands that failed.
    pub redis_errors: u64,
}

/// Keys doorward keeps in Redis, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RedisUsage {
    /// Cached users, roles, permission sets and host entries.
    pub cache_entries: u64,
    /// Session records and tombstones.
    pub sessions: u64,
    /// Rate-limit counters.
    pub rate_limit_keys: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    l1_hits: Tally,
    l1_misses: AtomicU64,
    l2_hits: AtomicU64,
    l2_misses: AtomicU64,
    loads: AtomicU64,
    pub(crate) invalidations_sent: AtomicU64,
    pub(crate) invalidations_received: AtomicU64,
    pub(crate) resyncs: AtomicU64,
}

/// `prefix` followed by `id`, in a buffer this thread keeps: the key of a
/// lookup on the hot path, which would otherwise allocate one per call.
/// `f` must not call `with_key` itself.
pub(crate) fn with_key<R>(prefix: &str, id: &str, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    KEY.with_borrow_mut(|key| {
        key.clear();
        key.push_str(prefix);
        key.push_str(id);
        f(key)
    })
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What a change invalidates, as published to other instances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Invalidation {
    /// The instance that made the change (it has applied it already).
    pub origin: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
}

/// L1 + optional L2, and the invalidation fan-out.
#[derive(Debug)]
pub(crate) struct Tiered {
    pub(crate) l1: MemoryCache,
    l2: Option<Arc<dyn Cache>>,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) origin: String,
    ttl: Duration,
    pub(crate) counters: Counters,
    /// Invalidations and revocations that could not reach Redis, replayed
    /// on the next command that succeeds, at the next ping of the
    /// subscription, and when it reconnects.
    pending: std::sync::Mutex<Pending>,
    #[cfg(feature = "redis")]
    redis: Option<Arc<crate::redis::Redis>>,
}

#[derive(Debug, Default)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
struct Pending {
    all: bool,
    namespaces: std::collections::BTreeSet<String>,
    keys: std::collections::BTreeSet<String>,
    /// Ended sessions and how long their tombstones must live (ms).
    tombstones: std::collections::BTreeMap<String, u64>,
}

impl Pending {
    #[cfg(feature = "redis")]
    fn is_empty(&self) -> bool {
        !self.all
            && self.namespaces.is_empty()
            && self.keys.is_empty()
            && self.tombstones.is_empty()
    }
}

impl Tiered {
    pub(crate) fn new(config: &crate::Config) -> Self {
        Tiered {
            l1: MemoryCache::new(config.cache_max_entries),
            l2: None,
            origin: uuid::Uuid::new_v4().to_string(),
            ttl: Duration::from_secs(config.cache_ttl),
            counters: Counters::default(),
            pending: std::sync::Mutex::default(),
            #[cfg(feature = "redis")]
            redis: None,
        }
    }

    #[cfg(feature = "redis")]
    pub(crate) fn with_redis(mut self, redis: Arc<crate::redis::Redis>) -> Self {
        self.l2 = Some(Arc::new(RedisCache::new(redis.clone())));
        self.redis = Some(redis);
        self
    }

    /// The default TTL (`cache_ttl`).
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The value under `key`: L1, else L2, else `load()`, filling the levels
    /// that missed. A failing L2 is skipped (and counted), never fatal.
    /// `f` applied to the value under `key` if this process holds it: the
    /// answer a `_sync` call may give without I/O. Only a hit is counted; a
    /// miss is counted by the lookup that goes further.
    pub(crate) fn read_local<T, R>(&self, key: &str, f: impl FnOnce(&T) -> R) -> Option<R>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let answer = self.l1.read_typed::<T, _, _>(key, decode, f)?;
        self.counters.l1_hits.bump();
        Some(answer)
    }

    pub(crate) async fn get_or_load<T, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        load: F,
    ) -> Result<Arc<T>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if let Some(hit) = self.l1.get_typed::<T, _>(key, decode) {
            self.counters.l1_hits.bump();
            return Ok(hit);
        }
        bump(&self.counters.l1_misses);
        // Taken after the miss, before anything is loaded: an invalidation
        // from here on refuses this fill, and one before it happened before
        // the load began, which then reads the new value.
        let l1_ticket = self.l1.ticket();
        let mut l2_ticket = None;
        if let Some(l2) = &self.l2 {
            match l2.get(key).await {
                Ok(Lookup::Hit(bytes)) => {
                    if let Some(value) = decode::<T>(&bytes) {
                        bump(&self.counters.l2_hits);
                        let value = Arc::new(value);
                        self.l1
                            .fill_typed(key, bytes, value.clone(), ttl, &l1_ticket);
                        return Ok(value);
                    }
                    // Unreadable (written by another version): reload.
                    bump(&self.counters.l2_misses);
                }
                Ok(Lookup::Miss(ticket)) => {
                    bump(&self.counters.l2_misses);
                    l2_ticket = Some(ticket);
                }
                Err(_) => {} // counted by the Redis connection
            }
        }
        let value = Arc::new(load().await?);
        bump(&self.counters.loads);
        let bytes: Arc<[u8]> = serde_json::to_vec(&*value)
            .map_err(|e| Error::Internal(format!("cannot encode a cache entry: {e}")))?
            .into();
        if let (Some(l2), Some(ticket)) = (&self.l2, l2_ticket) {
            let _ = l2.fill(key, bytes.clone(), ttl, &ticket).await;
        }
        self.l1
            .fill_typed(key, bytes, value.clone(), ttl, &l1_ticket);
        Ok(value)
    }

    /// Drop `keys` here, in Redis and (by message) on every other instance.
    pub(crate) async fn invalidate(&self, keys: Vec<String>) {
        if keys.is_empty() {
            return;
        }
        self.l1.invalidate_now(&keys);
        if let Some(l2) = &self.l2
            && l2.invalidate(&keys).await.is_err()
        {
            self.pending().keys.extend(keys.iter().cloned());
        }
        self.publish(Invalidation {
            keys,
            ..Invalidation::default()
        })
        .await;
    }

    /// Drop a whole namespace everywhere.
    pub(crate) async fn invalidate_namespace(&self, namespace: &str) {
        self.l1.invalidate_namespace_now(namespace);
        if let Some(l2) = &self.l2
            && l2.invalidate_namespace(namespace).await.is_err()
        {
            self.pending().namespaces.insert(namespace.to_string());
        }
        self.publish(Invalidation {
            namespaces: vec![namespace.to_string()],
            ..Invalidation::default()
        })
        .await;
    }

    /// Empty both levels everywhere.
    pub(crate) async fn clear(&self) -> Result<()> {
        self.l1.clear_now();
        if let Some(l2) = &self.l2
            && let Err(e) = l2.clear().await
        {
            self.pending().all = true;
            return Err(e);
        }
        self.publish(Invalidation {
            all: true,
            ..Invalidation::default()
        })
        .await;
        Ok(())
    }

    /// Apply a message from another instance to this L1.
    #[cfg(feature = "redis")]
    pub(crate) fn apply(&self, message: &Invalidation) {
        if message.origin == self.origin {
            return;
        }
        bump(&self.counters.invalidations_received);
        if message.all {
            self.l1.clear_now();
            return;
        }
        for namespace in &message.namespaces {
            self.l1.invalidate_namespace_now(namespace);
        }
        if !message.keys.is_empty() {
            self.l1.invalidate_now(&message.keys);
        }
    }

    /// Empty L1 after the subscription (re)connected: anything published
    /// while it was down was missed.
    #[cfg(feature = "redis")]
    pub(crate) fn resync(&self) {
        bump(&self.counters.resyncs);
        self.l1.clear_now();
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Remember session tombstones that could not be written.
    #[cfg(feature = "redis")]
    pub(crate) fn defer_tombstones(&self, ids: &[String], ttl_ms: u64) {
        self.pending()
            .tombstones
            .extend(ids.iter().map(|id| (id.clone(), ttl_ms)));
    }

    /// Whether this session ended here while Redis refused its tombstone:
    /// Redis may still say it is live, but this instance knows better.
    #[cfg(feature = "redis")]
    pub(crate) fn tombstone_pending(&self, session_id: &str) -> bool {
        self.pending().tombstones.contains_key(session_id)
    }

    /// Replay what missed Redis, if anything did: for callers that just saw
    /// a Redis command succeed.
    #[cfg(feature = "redis")]
    pub(crate) async fn replay_if_pending(&self) {
        if !self.pending().is_empty() {
            self.replay_pending().await;
        }
    }

    /// Write to Redis what failed to reach it while it was away; what fails
    /// again stays pending for the next reconnection.
    #[cfg(feature = "redis")]
    pub(crate) async fn replay_pending(&self) {
        // Tombstones stay pending until written: meanwhile this instance
        // must keep refusing their sessions, whatever Redis (perhaps a
        // replica promoted without them) says.
        let pending = {
            let mut current = self.pending();
            Pending {
                all: std::mem::take(&mut current.all),
                namespaces: std::mem::take(&mut current.namespaces),
                keys: std::mem::take(&mut current.keys),
                tombstones: current.tombstones.clone(),
            }
        };
        if pending.is_empty() {
            return;
        }
        tracing::info!("replaying invalidations and revocations that missed redis");
        let Some(l2) = &self.l2 else { return };
        let mut again = Pending::default();
        if pending.all && l2.clear().await.is_err() {
            again.all = true;
        }
        for namespace in pending.namespaces {
            if l2.invalidate_namespace(&namespace).await.is_err() {
                again.namespaces.insert(namespace);
            }
        }
        let keys: Vec<String> = pending.keys.into_iter().collect();
        if !keys.is_empty() && l2.invalidate(&keys).await.is_err() {
            again.keys.extend(keys);
        }
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            for (id, ttl) in pending.tombstones {
                if redis
                    .sessions_revoked(std::slice::from_ref(&id), ttl)
                    .await
                    .is_ok()
                {
                    self.pending().tombstones.remove(&id);
                }
            }
        }
        if !again.is_empty() {
            let mut current = self.pending();
            current.all |= again.all;
            current.namespaces.extend(again.namespaces);
            current.keys.extend(again.keys);
        }
    }

    #[cfg(feature = "redis")]
    async fn publish(&self, mut message: Invalidation) {
        let Some(redis) = &self.redis else { return };
        message.origin = self.origin.clone();
        let Ok(payload) = serde_json::to_string(&message) else {
            return;
        };
        let channel = redis.key("invalidate");
        if redis
            .run::<i64>(::redis::cmd("PUBLISH").arg(channel).arg(payload))
            .await
            .is_ok()
        {
            bump(&self.counters.invalidations_sent);
        }
    }

    #[cfg(not(feature = "redis"))]
    async fn publish(&self, _message: Invalidation) {}

    pub(crate) fn stats(&self) -> CacheStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let c = &self.counters;
        #[cfg(feature = "redis")]
        let (redis, redis_up, redis_errors) = match &self.redis {
            Some(r) => (true, r.is_up(), r.errors()),
            None => (false, false, 0),
        };
        #[cfg(not(feature = "redis"))]
        let (redis, redis_up, redis_errors) = (false, false, 0);
        CacheStats {
            l1_entries: self.l1.len(),
            l1_hits: c.l1_hits.total(),
            l1_misses: load(&c.l1_misses),
            l2_hits: load(&c.l2_hits),
            l2_misses: load(&c.l2_misses),
            loads: load(&c.loads),
            invalidations_sent: load(&c.invalidations_sent),
            invalidations_received: load(&c.invalidations_received),
            resyncs: load(&c.resyncs),
            redis,
            redis_up,
            redis_errors,
        }
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice(bytes).ok()
}
