//! The in-process cache (L1): moka, with a TTL per entry and the decoded
//! value kept beside the bytes, so a hit costs a lookup and a downcast,
//! not a parse; the decoded values are also in [`Index`], for the reads
//! made on every request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::index::{Decoded, Index};
use super::{Cache, Lookup, Ticket, namespace_of};
use crate::error::Result;

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
    index: Arc<Index>,
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
            index: Arc::new(Index::new(max_entries)),
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
        if let Some(hit) = self.index.get(key) {
            return hit.downcast::<T>().ok();
        }
        self.decoded_from_moka(key, decode)?.downcast::<T>().ok()
    }

    /// `f` applied to the decoded value under `key`, borrowed, not cloned:
    /// the read on every request (`can`, a cached session).
    pub(crate) fn read_typed<T, D, R>(
        &self,
        key: &str,
        decode: D,
        f: impl FnOnce(&T) -> R,
    ) -> Option<R>
    where
        T: Send + Sync + 'static,
        D: FnOnce(&[u8]) -> Option<T>,
    {
        // `f` is taken by whichever read finds the value.
        let mut f = Some(f);
        if let Some(answer) = self.index.read(key, |v: &T| f.take().map(|f| f(v))) {
            return answer;
        }
        let value = self.decoded_from_moka(key, decode)?;
        (*value)
            .downcast_ref::<T>()
            .and_then(|v| f.take().map(|f| f(v)))
    }

    /// The decoded value of moka's entry under `key`, decoded now if it was
    /// not yet, and put in the index.
    fn decoded_from_moka<T, D>(&self, key: &str, decode: D) -> Option<Decoded>
    where
        T: Send + Sync + 'static,
        D: FnOnce(&[u8]) -> Option<T>,
    {
        let ticket = self.ticket();
        let entry = self.entries.get(key)?;
        let value = match entry.decoded.get() {
            Some(done) => done.clone(),
            None => {
                let value: Decoded = Arc::new(decode(&entry.bytes)?);
                entry.decoded.get_or_init(|| value).clone()
            }
        };
        // As a fill would: not if an invalidation came since the lookup.
        self.index_put(key, value.clone(), entry.ttl, &ticket);
        Some(value)
    }

    /// Put a decoded value in the index unless an invalidation happened
    /// since `ticket` was taken; one that slips in after the check is undone.
    fn index_put(&self, key: &str, value: Decoded, ttl: Duration, ticket: &Ticket) {
        if !self.current(ticket) {
            return;
        }
        self.index.put(key, value, ttl);
        if !self.current(ticket) {
            self.index.remove(key);
        }
    }

    fn current(&self, ticket: &Ticket) -> bool {
        ticket.0 == self.generation.load(Ordering::Acquire).to_string()
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
        let value = value as Decoded;
        let decoded = OnceLock::new();
        let _ = decoded.set(value.clone());
        self.fill_entry(
            key,
            Entry {
                bytes,
                ttl,
                decoded: Arc::new(decoded),
            },
            Some(value),
            ticket,
        )
    }

    fn fill_entry(
        &self,
        key: &str,
        entry: Entry,
        decoded: Option<Decoded>,
        ticket: &Ticket,
    ) -> bool {
        if !self.current(ticket) {
            return false;
        }
        let ttl = entry.ttl;
        self.entries.insert(key.to_string(), entry);
        match decoded {
            Some(value) => self.index.put(key, value, ttl),
            // Bytes alone: the index's value, if any, is the old one.
            None => self.index.remove(key),
        }
        // An invalidation may have slipped in between the check and the
        // insert: undo rather than keep a value it meant to remove.
        if !self.current(ticket) {
            self.entries.invalidate(key);
            self.index.remove(key);
            return false;
        }
        true
    }

    pub(crate) fn invalidate_now(&self, keys: &[String]) {
        self.bump();
        for key in keys {
            self.entries.invalidate(key);
            self.index.remove(key);
        }
    }

    pub(crate) fn invalidate_namespace_now(&self, namespace: &str) {
        self.bump();
        let prefix = format!("{namespace}:");
        self.index.remove_prefix(&prefix);
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
        self.index.clear();
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
            None,
            ticket,
        ))
    }

    async fn set(&self, key: &str, value: Arc<[u8]>, ttl: Duration) -> Result<()> {
        self.bump();
        self.index.remove(key);
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
