//! The cache for host code: `dw.cache()`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Cache as _, CacheStats, Lookup, RedisUsage, decode};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::telemetry::operation;

/// The cache for host code: `dw.cache()`.
///
/// Keys are the host's own; they live in a namespace of their own, apart
/// from doorward's entries, and share L1 and L2 (so every instance) with
/// them.
#[derive(Debug, Clone)]
pub struct CacheService {
    pub(crate) core: Arc<Core>,
}

impl CacheService {
    fn key(key: &str) -> Result<String> {
        if key.is_empty() || key.len() > 512 {
            return Err(Error::validation("key", "must be 1 to 512 bytes"));
        }
        Ok(format!("app:{key}"))
    }

    /// The value `load` returns, cached under `key` for `ttl`: the seed's
    /// `@cache.memoize(timeout=300)`. Concurrent misses may each call
    /// `load`; errors are not cached.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// use std::time::Duration;
    /// let ttl = Duration::from_secs(300);
    /// let n: u32 = dw.cache().memoize("answer", ttl, || async { Ok(42) }).await.unwrap();
    /// let again: u32 = dw.cache().memoize("answer", ttl, || async { Ok(7) }).await.unwrap();
    /// assert_eq!((n, again), (42, 42));
    /// dw.cache().delete("answer").await.unwrap();
    /// # });
    /// ```
    pub async fn memoize<T, F, Fut>(&self, key: &str, ttl: Duration, load: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.core
            .observe(operation!("cache.memoize", %key), async {
                let key = Self::key(key)?;
                let ttl = valid_ttl(ttl)?;
                let value = self.core.cache.get_or_load(&key, ttl, load).await?;
                Ok(T::clone(&value))
            })
            .await
    }

    /// The JSON value under `key`, if cached.
    pub async fn get(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.core
            .observe(operation!("cache.get", %key), async {
                let key = Self::key(key)?;
                let cache = &self.core.cache;
                if let Some(hit) = cache.l1.get_typed::<serde_json::Value, _>(&key, decode) {
                    return Ok(Some(serde_json::Value::clone(&hit)));
                }
                if let Some(l2) = &cache.l2
                    && let Ok(Lookup::Hit(bytes)) = l2.get(&key).await
                {
                    return Ok(decode(&bytes));
                }
                Ok(None)
            })
            .await
    }

    /// Cache a JSON value under `key` for `ttl`, on every level.
    pub async fn set(&self, key: &str, value: &serde_json::Value, ttl: Duration) -> Result<()> {
        self.core
            .observe(operation!("cache.set", %key), async {
                let key = Self::key(key)?;
                let ttl = valid_ttl(ttl)?;
                let bytes: Arc<[u8]> = serde_json::to_vec(value)
                    .map_err(|e| Error::Internal(format!("cannot encode a cache entry: {e}")))?
                    .into();
                let cache = &self.core.cache;
                // Other instances must drop their L1 copy of the old value.
                cache.invalidate(vec![key.clone()]).await;
                if let Some(l2) = &cache.l2 {
                    l2.set(&key, bytes.clone(), ttl).await?;
                }
                cache.l1.set(&key, bytes, ttl).await
            })
            .await
    }

    /// Remove `key` from every level and every instance.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.core
            .observe(operation!("cache.delete", %key), async {
                let key = Self::key(key)?;
                self.core.cache.invalidate(vec![key]).await;
                Ok(())
            })
            .await
    }

    /// Hit, miss and invalidation counters of this instance.
    pub fn stats(&self) -> CacheStats {
        self.core.cache.stats()
    }

    /// What the shared Redis holds under this deployment's prefix: cached
    /// entries, session records and rate-limit counters. Counts by SCAN, so
    /// it is for administrators (`doorward cache stats`), not for every
    /// request. `None` without Redis.
    pub async fn redis_usage(&self) -> Result<Option<RedisUsage>> {
        self.core
            .observe(operation!("cache.redis_usage"), async {
                #[cfg(feature = "redis")]
                if let Some(redis) = &self.core.redis {
                    return Ok(Some(RedisUsage {
                        cache_entries: redis.count_matching("cache:").await?,
                        sessions: redis.count_matching("session:").await?,
                        rate_limit_keys: redis.count_matching("rl:").await?,
                    }));
                }
                Ok(None)
            })
            .await
    }

    /// Empty the cache, doorward's entries included, on every level and
    /// every instance. Safe at any time: entries reload from the store.
    pub async fn flush(&self) -> Result<()> {
        self.core
            .observe(operation!("cache.flush"), async {
                self.core.cache.clear().await
            })
            .await
    }
}

fn valid_ttl(ttl: Duration) -> Result<Duration> {
    if ttl < Duration::from_millis(1) || ttl > Duration::from_secs(30 * 24 * 3600) {
        return Err(Error::validation("ttl", "must be between 1 ms and 30 days"));
    }
    Ok(ttl)
}
