//! The shared cache (L2) in Redis. Values live under `{prefix}cache:{key}`;
//! versions under `{prefix}cachever:…` record invalidations, so a refill
//! that started before an invalidation is refused (see the scripts).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Cache, Lookup, Ticket, namespace_of};
use crate::error::Result;
use crate::redis::Redis;

/// How long an invalidation's version is remembered: longer than any fill
/// can take.
const VERSION_TTL_MS: u64 = 24 * 3600 * 1000;

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
        self.redis.key(&format!("cache:{key}"))
    }

    fn version_keys(&self, key: &str) -> [String; 3] {
        [
            self.redis.key("cachever"),
            self.redis
                .key(&format!("cachever:ns:{}", namespace_of(key))),
            self.redis.key(&format!("cachever:key:{key}")),
        ]
    }

    fn all_keys(&self, key: &str) -> [String; 4] {
        let [g, n, k] = self.version_keys(key);
        [self.value_key(key), g, n, k]
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
        if keys.is_empty() {
            return Ok(());
        }
        let mut invocation = self.redis.scripts().cache_invalidate.prepare_invoke();
        for key in keys {
            let [_, _, version] = self.version_keys(key);
            invocation.key(self.value_key(key)).key(version);
        }
        invocation.arg(VERSION_TTL_MS);
        let _: i64 = self.redis.invoke(&invocation).await?;
        Ok(())
    }

    async fn invalidate_namespace(&self, namespace: &str) -> Result<()> {
        let version = self.redis.key(&format!("cachever:ns:{namespace}"));
        self.bump(&version).await?;
        self.redis
            .delete_matching(&format!("cache:{namespace}:"))
            .await?;
        Ok(())
    }

    async fn clear(&self) -> Result<()> {
        self.bump(&self.redis.key("cachever")).await?;
        self.redis.delete_matching("cache:").await?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}

impl RedisCache {
    async fn bump(&self, version_key: &str) -> Result<()> {
        let mut pipe = ::redis::pipe();
        pipe.atomic()
            .cmd("INCR")
            .arg(version_key)
            .ignore()
            .cmd("PEXPIRE")
            .arg(version_key)
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
}
