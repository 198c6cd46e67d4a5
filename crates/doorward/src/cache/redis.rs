//! The shared cache (L2) in Redis.
//!
//! A value and the versions that record invalidations (see the scripts: a
//! refill that started before an invalidation is refused) are read and
//! written together by one script, so on a Redis Cluster they must share a
//! slot. Every key is therefore placed in one of [`BUCKETS`] buckets by a
//! hash of its name, and the bucket is the hash tag: value
//! `{prefix}cache:{b7}:user:42`, its version `{prefix}cachever:{b7}:key:user:42`,
//! and in each bucket its own copy of the namespace and global versions
//! (`cachever:{b7}:ns:user`, `cachever:{b7}`). Invalidating a namespace or
//! everything bumps that version in every bucket before deleting the
//! values, which is, bucket by bucket, the single-server protocol. 64
//! buckets spread the cache over the shards of any cluster of a usual
//! size while keeping a namespace-wide bump to 64 small writes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Cache, Lookup, Ticket, namespace_of};
use crate::error::Result;
use crate::redis::{Redis, escape_glob};

/// How long an invalidation's version is remembered: longer than any fill
/// can take.
const VERSION_TTL_MS: u64 = 24 * 3600 * 1000;

/// How many hash-tag buckets the cache is spread over.
const BUCKETS: u64 = 64;

/// The bucket of `key`: FNV-1a of its bytes, stable across processes,
/// platforms and versions, as every instance must agree.
fn bucket(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % BUCKETS
}

/// The L2 cache, shared by every instance on the same Redis and prefix.
#[derive(Debug, Clone)]
pub struct RedisCache {
    redis: Arc<Redis>,
}

impl RedisCache {
    pub(crate) fn new(redis: Arc<Redis>) -> Self {
        RedisCache { redis }
    }

    fn value_key(&self, key: &str) -> String {
        self.redis.key(&format!("cache:{{b{}}}:{key}", bucket(key)))
    }

    fn global_version(&self, bucket: u64) -> String {
        self.redis.key(&format!("cachever:{{b{bucket}}}"))
    }

    fn namespace_version(&self, bucket: u64, namespace: &str) -> String {
        self.redis
            .key(&format!("cachever:{{b{bucket}}}:ns:{namespace}"))
    }

    fn key_version(&self, key: &str) -> String {
        self.redis
            .key(&format!("cachever:{{b{}}}:key:{key}", bucket(key)))
    }

    fn all_keys(&self, key: &str) -> [String; 4] {
        let b = bucket(key);
        [
            self.value_key(key),
            self.global_version(b),
            self.namespace_version(b, namespace_of(key)),
            self.key_version(key),
        ]
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Lookup> {
        let mut invocation = self.redis.scripts().cache_get.prepare_invoke();
        for k in self.all_keys(key) {
            invocation.key(k);
        }
        let (hit, value): (i64, Vec<u8>) = self.redis.invoke(&invocation).await?;
        Ok(if hit == 1 {
            Lookup::Hit(value.into())
        } else {
            Lookup::Miss(Ticket(String::from_utf8_lossy(&value).into_owned()))
        })
    }

    async fn fill(
        &self,
        key: &str,
        value: Arc<[u8]>,
        ttl: Duration,
        ticket: &Ticket,
    ) -> Result<bool> {
        let mut invocation = self.redis.scripts().cache_fill.prepare_invoke();
        for k in self.all_keys(key) {
            invocation.key(k);
        }
        invocation
            .arg(&*value)
            .arg(ttl.as_millis().max(1) as u64)
            .arg(&ticket.0);
        let done: i64 = self.redis.invoke(&invocation).await?;
        Ok(done == 1)
    }

    async fn set(&self, key: &str, value: Arc<[u8]>, ttl: Duration) -> Result<()> {
        // Bump the key's version too, so an older fill in flight loses.
        self.invalidate(&[key.to_string()]).await?;
        self.redis
            .run::<()>(
                ::redis::cmd("SET")
                    .arg(self.value_key(key))
                    .arg(&*value)
                    .arg("PX")
                    .arg(ttl.as_millis().max(1) as u64),
            )
            .await
    }

    async fn invalidate(&self, keys: &[String]) -> Result<()> {
        // One script per bucket: a script's keys must share a slot.
        let mut by_bucket: BTreeMap<u64, Vec<&String>> = BTreeMap::new();
        for key in keys {
            by_bucket.entry(bucket(key)).or_default().push(key);
        }
        let scripts = by_bucket.into_values().map(|keys| async move {
            let mut invocation = self.redis.scripts().cache_invalidate.prepare_invoke();
            for key in keys {
                invocation
                    .key(self.value_key(key))
                    .key(self.key_version(key));
            }
            invocation.arg(VERSION_TTL_MS);
            self.redis.invoke::<i64>(&invocation).await
        });
        futures_util::future::try_join_all(scripts).await?;
        Ok(())
    }

    async fn invalidate_namespace(&self, namespace: &str) -> Result<()> {
        self.bump_every_bucket(|b| self.namespace_version(b, namespace))
            .await?;
        let pattern = format!(
            "{}*{}*",
            escape_glob(&self.redis.key("cache:{")),
            escape_glob(&format!("}}:{namespace}:"))
        );
        self.redis.delete_matching(&pattern).await?;
        Ok(())
    }

    async fn clear(&self) -> Result<()> {
        self.bump_every_bucket(|b| self.global_version(b)).await?;
        self.redis
            .delete_matching(&self.redis.glob("cache:"))
            .await?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

impl RedisCache {
    /// Bump the version `version_key(bucket)` names in every bucket, so a
    /// fill in flight anywhere loses.
    async fn bump_every_bucket(&self, version_key: impl Fn(u64) -> String) -> Result<()> {
        let bumps = (0..BUCKETS).map(|b| {
            let key = version_key(b);
            async move {
                let mut pipe = ::redis::pipe();
                pipe.atomic()
                    .cmd("INCR")
                    .arg(&key)
                    .ignore()
                    .cmd("PEXPIRE")
                    .arg(&key)
                    .arg(VERSION_TTL_MS)
                    .ignore();
                let mut conn = self.redis.conn();
                match pipe.query_async::<()>(&mut conn).await {
                    Ok(()) => {
                        self.redis.succeeded();
                        Ok(())
                    }
                    Err(e) => Err(self.redis.failed(e)),
                }
            }
        });
        futures_util::future::try_join_all(bumps).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        // Fixed: instances of any version must put a key in one bucket.
        assert_eq!(bucket(""), 0xcbf2_9ce4_8422_2325 % BUCKETS);
        assert_eq!(bucket("user:42"), bucket("user:42"));
        let used: std::collections::HashSet<u64> =
            (0..1000).map(|i| bucket(&format!("user:{i}"))).collect();
        assert_eq!(used.len() as u64, BUCKETS);
    }
}
