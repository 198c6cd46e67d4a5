//! The in-process cache (L1): moka, with a TTL per entry and the decoded
//! value kept beside the bytes, so a hit on the hot path (`can`) costs a
//! hash lookup and a downcast, not a parse.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{Cache, Lookup, Ticket, namespace_of};
use crate::error::Result;

type Decoded = Arc<dyn Any + Send + Sync>;

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
    decoded: Arc<OnceLock<Decoded>>,
}

struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The L1 cache: this process only.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::cache::{Cache, Lookup, MemoryCache};
/// use std::time::Duration;
/// let cache = MemoryCache::new(1000);
/// let Lookup::Miss(ticket) = cache.get("app:k").await.unwrap() else { panic!() };
/// assert!(cache.fill("app:k", b"v".to_vec().into(), Duration::from_secs(5), &ticket).await.unwrap());
/// assert!(matches!(cache.get("app:k").await.unwrap(), Lookup::Hit(v) if &*v == b"v"));
/// // A fill that raced an invalidation is refused.
/// let Lookup::Miss(stale) = cache.get("app:other").await.unwrap() else { panic!() };
/// cache.invalidate(&["app:k".to_string()]).await.unwrap();
/// assert!(!cache.fill("app:other", b"old".to_vec().into(), Duration::from_secs(5), &stale).await.unwrap());
/// # });
/// ```
#[derive(Clone)]
pub struct MemoryCache {
    entries: moka::sync::Cache<String, Entry>,
    /// Bumped by every invalidation; a fill must carry the value it saw.
    generation: Arc<AtomicU64>,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

impl MemoryCache {
    /// A cache holding at most `max_entries`.
    pub fn new(max_entries: u64) -> Self {
        MemoryCache {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .support_invalidation_closures()
                .build(),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Entries held now (approximate: moka counts lazily).
    pub fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire).to_string())
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The decoded value under `key`, decoding the bytes on first use.
    pub(crate) fn get_typed<T, D>(&self, key: &str, decode: D) -> Option<Arc<T>>
    where
        T: Send + Sync + 'static,
        D: FnOnce(&[u8]) -> Option<T>,
    {
        let entry = self.entries.get(key)?;
        if let Some(done) = entry.decoded.get() {
            return done.clone().downcast::<T>().ok();
        }
        let value: Arc<T> = Arc::new(decode(&entry.bytes)?);
        let _ = entry.decoded.set(value.clone());
        Some(value)
    }

    /// Fill with bytes and their decoded value, unless an invalidation
    /// happened since `ticket` was taken.
    pub(crate) fn fill_typed<T: Send + Sync + 'static>(
        &self,
        key: &str,
        bytes: Arc<[u8]>,
        value: Arc<T>,
        ttl: Duration,
        ticket: &Ticket,
    ) -> bool {
        let decoded = OnceLock::new();
        let _ = decoded.set(value as Decoded);
        self.fill_entry(
            key,
            Entry {
                bytes,
                ttl,
                decoded: Arc::new(decoded),
            },
            ticket,
        )
    }

    fn fill_entry(&self, key: &str, entry: Entry, ticket: &Ticket) -> bool {
        if ticket.0 != self.generation.load(Ordering::Acquire).to_string() {
            return false;
        }
        self.entries.insert(key.to_string(), entry);
        // An invalidation may have slipped in between the check and the
        // insert: undo rather than keep a value it meant to remove.
        if ticket.0 != self.generation.load(Ordering::Acquire).to_string() {
            self.entries.invalidate(key);
            return false;
        }
        true
    }

    pub(crate) fn invalidate_now(&self, keys: &[String]) {
        self.bump();
        for key in keys {
            self.entries.invalidate(key);
        }
    }

    pub(crate) fn invalidate_namespace_now(&self, namespace: &str) {
        self.bump();
        let prefix = format!("{namespace}:");
        if self
            .entries
            .invalidate_entries_if(move |k, _| k.starts_with(&prefix))
            .is_err()
        {
            self.entries.invalidate_all();
        }
    }

    pub(crate) fn clear_now(&self) {
        self.bump();
        self.entries.invalidate_all();
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Result<Lookup> {
        let ticket = self.ticket();
        Ok(match self.entries.get(key) {
            Some(entry) => Lookup::Hit(entry.bytes),
            None => Lookup::Miss(ticket),
        })
    }

    async fn fill(
        &self,
        key: &str,
        value: Arc<[u8]>,
        ttl: Duration,
        ticket: &Ticket,
    ) -> Result<bool> {
        Ok(self.fill_entry(
            key,
            Entry {
                bytes: value,
                ttl,
                decoded: Arc::new(OnceLock::new()),
            },
            ticket,
        ))
    }

    async fn set(&self, key: &str, value: Arc<[u8]>, ttl: Duration) -> Result<()> {
        self.bump();
        self.entries.insert(
            key.to_string(),
            Entry {
                bytes: value,
                ttl,
                decoded: Arc::new(OnceLock::new()),
            },
        );
        Ok(())
    }

    async fn invalidate(&self, keys: &[String]) -> Result<()> {
        self.invalidate_now(keys);
        Ok(())
    }

    async fn invalidate_namespace(&self, namespace: &str) -> Result<()> {
        debug_assert_eq!(namespace_of(namespace), namespace);
        self.invalidate_namespace_now(namespace);
        Ok(())
    }

    async fn clear(&self) -> Result<()> {
        self.clear_now();
        Ok(())
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
