//! The decoded values of the process cache, indexed for the reads made on
//! every request (`can`, a cached session) at a few tens of nanoseconds.
//!
//! moka stays the cache of record (capacity and admission, the bytes an L2
//! fill writes), but a moka read records itself for its eviction policy,
//! reads a precise clock and clones the entry. This index is a lock-free
//! map (papaya) read under an epoch guard, with a fast hasher, no per-read
//! bookkeeping, and expiry checked against a coarse clock: one read of the
//! kernel's tick-grained clock (a few milliseconds of resolution, against
//! TTLs of seconds), not a precise one. A reader borrows the value under
//! the guard instead of cloning its `Arc`, so concurrent readers of one
//! user's permissions never write to a shared counter.
//!
//! It holds only values moka held too when they were put here, each with
//! the entry's TTL, and every invalidation removes from both (see
//! `MemoryCache`). Its size is bounded by moka's: past it, the index is
//! emptied and refills from moka on the next reads, which costs a decode
//! per entry only when moka holds bytes alone.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

pub(super) type Decoded = Arc<dyn Any + Send + Sync>;

struct Slot {
    value: Decoded,
    expires: coarsetime::Instant,
}

/// A key held in the map's entry itself up to 48 bytes (`perms:` and a
/// UUID take 42): comparing it reads the line the entry is on, where a
/// boxed key is one more dependent load from elsewhere in memory.
type Key = smallstr::SmallString<[u8; 48]>;

pub(super) struct Index {
    map: papaya::HashMap<Key, Slot, foldhash::fast::RandomState>,
    max: usize,
}

fn now() -> coarsetime::Instant {
    // Not `Instant::now`, which also stores the time in a process-wide
    // atomic that every reader would then write.
    coarsetime::Instant::now_without_cache_update()
}

impl Index {
    pub(super) fn new(max_entries: u64) -> Self {
        Index {
            map: papaya::HashMap::with_hasher(foldhash::fast::RandomState::default()),
            max: usize::try_from(max_entries).unwrap_or(usize::MAX).max(1),
        }
    }

    /// `f` applied to the live value under `key`, if it is a `T`.
    pub(super) fn read<T: 'static, R>(&self, key: &str, f: impl FnOnce(&T) -> R) -> Option<R> {
        let map = self.map.pin();
        let slot = map.get(key)?;
        if slot.expires <= now() {
            return None;
        }
        (*slot.value).downcast_ref::<T>().map(f)
    }

    /// The live value under `key`, shared.
    pub(super) fn get(&self, key: &str) -> Option<Decoded> {
        let map = self.map.pin();
        let slot = map.get(key)?;
        (slot.expires > now()).then(|| slot.value.clone())
    }

    pub(super) fn put(&self, key: &str, value: Decoded, ttl: Duration) {
        let map = self.map.pin();
        if map.len() >= self.max {
            map.clear();
        }
        let expires = now() + coarsetime::Duration::from(ttl);
        map.insert(key.into(), Slot { value, expires });
    }

    pub(super) fn remove(&self, key: &str) {
        self.map.pin().remove(key);
    }

    pub(super) fn remove_prefix(&self, prefix: &str) {
        self.map.pin().retain(|key, _| !key.starts_with(prefix));
    }

    pub(super) fn clear(&self) {
        self.map.pin().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_live_values_of_their_type_only() {
        let index = Index::new(10);
        index.put("a", Arc::new(7u32), Duration::from_secs(60));
        assert_eq!(index.read("a", |v: &u32| *v + 1), Some(8));
        assert_eq!(index.read("a", |v: &String| v.len()), None);
        assert_eq!(index.read("b", |v: &u32| *v), None);
        index.put("gone", Arc::new(1u32), Duration::ZERO);
        assert_eq!(index.read("gone", |v: &u32| *v), None);
        assert!(index.get("gone").is_none());
    }

    #[test]
    fn removal_by_key_and_prefix_and_the_size_bound() {
        let index = Index::new(3);
        for key in ["perms:1", "perms:2", "session:1"] {
            index.put(key, Arc::new(()), Duration::from_secs(60));
        }
        index.remove_prefix("perms:");
        assert!(index.get("perms:1").is_none() && index.get("perms:2").is_none());
        assert!(index.get("session:1").is_some());
        index.remove("session:1");
        assert!(index.get("session:1").is_none());
        for i in 0..4 {
            index.put(&format!("k{i}"), Arc::new(()), Duration::from_secs(60));
        }
        // Full at three: emptied, then the fourth put.
        assert!(index.get("k0").is_none());
        assert!(index.get("k3").is_some());
        index.clear();
        assert!(index.get("k3").is_none());
    }
}
