//! The Redis connection every instance shares: sessions (`session:{id}`),
//! the L2 cache, GCRA counters and the invalidation channel.
//!
//! `redis_url` names one server (`redis://`) or a cluster
//! (`redis+cluster://host:port,host:port`); [`connection`] hides which.
//! Keys a script touches together share a hash tag, so every script runs on
//! a cluster; scripts are sent by SHA and loaded on every node on
//! `NOSCRIPT` ([`::redis::ScriptInvocation::invoke_async`]). One multiplexed
//! connection reconnects by itself (and on a cluster follows failovers), so
//! when Redis comes back nothing needs a restart.
//! While it is away each failed command is logged and counted
//! ([`Redis::errors`]) and the caller applies its fault policy: cache reads
//! fall back to the store, rate limits to this process, session checks to
//! `redis_session_policy`.

mod connection;
mod scripts;
pub(crate) mod sessions;
pub(crate) mod subscriber;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::redis::{Client, RedisError};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ratelimit::{Quota, Verdict, decision};

/// A shared Redis, with the key prefix of this deployment.
pub(crate) struct Redis {
    conn: connection::Conn,
    /// One client per seed node; the listener moves on to the next when
    /// its node goes away.
    pubsub: Vec<Client>,
    prefix: String,
    /// Replicas a revocation must reach before it counts as written, on a
    /// cluster (`redis_wait_replicas`).
    wait_replicas: u32,
    timeout: Duration,
    errors: AtomicU64,
    up: AtomicBool,
    scripts: scripts::Scripts,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never printed.
        f.debug_struct("Redis")
            .field("prefix", &self.prefix)
            .field("errors", &self.errors())
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Set up the connection. An unreachable server is not an error here: it
    /// is logged, and the connection is made on first use, so an application
    /// can start before its Redis and heal when Redis appears.
    pub(crate) async fn connect(url: &str, config: &Config) -> Result<Redis> {
        let timeout = Duration::from_millis(config.redis_timeout_ms);
        let connected = connection::open(url, timeout)?;
        let wait_replicas = if connected.conn.is_cluster() {
            config.redis_wait_replicas
        } else {
            0
        };
        let redis = Redis {
            conn: connected.conn,
            pubsub: connected.pubsub,
            wait_replicas,
            prefix: config.redis_prefix.clone(),
            timeout,
            errors: AtomicU64::new(0),
            up: AtomicBool::new(true),
            scripts: scripts::Scripts::new(),
        };
        let mut conn = redis.conn.clone();
        let ping: std::result::Result<String, _> =
            ::redis::cmd("PING").query_async(&mut conn).await;
        if let Err(e) = ping {
            redis.failed(e);
        }
        Ok(redis)
    }

    /// `prefix` + `rest`: every key and channel doorward touches.
    pub(crate) fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// A connection handle (cheap: one multiplexed socket per node).
    pub(crate) fn conn(&self) -> connection::Conn {
        self.conn.clone()
    }

    pub(crate) fn scripts(&self) -> &scripts::Scripts {
        &self.scripts
    }

    /// The client the listener's `attempt`-th connection uses: the seed
    /// nodes in turn.
    pub(crate) fn pubsub_client(&self, attempt: usize) -> &Client {
        &self.pubsub[attempt % self.pubsub.len()]
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Commands that failed since start.
    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Whether the last command succeeded.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Count and log a failure, and turn it into `storage_error`. The first
    /// failure after a success logs at `warn`, the rest at `debug`, so an
    /// outage does not flood the log.
    pub(crate) fn failed(&self, err: RedisError) -> Error {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %err, "redis unavailable");
        } else {
            tracing::debug!(error = %err, "redis still unavailable");
        }
        Error::Storage(format!("redis unavailable: {}", err.category()))
    }

    /// Note a success; logs the recovery once.
    pub(crate) fn succeeded(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!("redis reachable again");
        }
    }

    /// Run a command, applying the bookkeeping above.
    pub(crate) async fn run<T: ::redis::FromRedisValue>(&self, cmd: &::redis::Cmd) -> Result<T> {
        let mut conn = self.conn();
        match cmd.query_async(&mut conn).await {
            Ok(v) => {
                self.succeeded();
                Ok(v)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// Run a script invocation, applying the bookkeeping above.
    pub(crate) async fn invoke<T: ::redis::FromRedisValue>(
        &self,
        invocation: &::redis::ScriptInvocation<'_>,
    ) -> Result<T> {
        let mut conn = self.conn();
        match invocation.invoke_async(&mut conn).await {
            Ok(v) => {
                self.succeeded();
                Ok(v)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    /// One GCRA step for `key`, atomically in Redis on Redis's clock, so
    /// every instance shares the limit.
    pub(crate) async fn gcra(&self, key: &str, quota: &Quota) -> Result<Verdict> {
        let interval = quota.interval().as_micros().max(1) as i64;
        let period = quota.period().as_micros() as i64;
        let (allowed, value): (i64, i64) = self
            .invoke(
                self.scripts
                    .gcra
                    .key(self.key(&format!("rl:{key}")))
                    .arg(interval)
                    .arg(period),
            )
            .await?;
        Ok(if allowed == 1 {
            Verdict::Allow {
                tat: 0,
                ttl: value,
                decision: decision(value, interval, period),
            }
        } else {
            Verdict::Deny { retry_after: value }
        })
    }

    /// How many keys are under `prefix`, on every primary.
    pub(crate) async fn count_matching(&self, prefix: &str) -> Result<u64> {
        let mut count = 0;
        self.scan(&self.glob(prefix), 1000, |keys| {
            count += keys.len() as u64;
            async { Ok(()) }
        })
        .await?;
        Ok(count)
    }

    /// The SCAN pattern of every key under `prefix`.
    pub(crate) fn glob(&self, prefix: &str) -> String {
        format!("{}*", escape_glob(&self.key(prefix)))
    }

    /// Delete every key matching `pattern` (SCAN, so no server blocks on a
    /// big keyspace); returns how many went.
    pub(crate) async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        let deleted = AtomicU64::new(0);
        self.scan(pattern, 500, |keys| {
            let deleted = &deleted;
            async move {
                let n: u64 = self.run(::redis::cmd("UNLINK").arg(&keys)).await?;
                deleted.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }
        })
        .await?;
        Ok(deleted.into_inner())
    }

    /// Mark `keys` written only once `wait_replicas` replicas of their
    /// primaries hold them (on a cluster; a no-op on a single server): a
    /// write a failover could lose is reported as failed, so the caller
    /// keeps it to replay.
    pub(crate) async fn replicated(&self, keys: &[String]) -> Result<()> {
        if self.wait_replicas == 0 {
            return Ok(());
        }
        let waits = keys.iter().map(|key| async move {
            let mut conn = self.conn();
            let acked = conn
                .wait_for_replicas(key, self.wait_replicas, self.timeout)
                .await
                .map_err(|e| self.failed(e))?;
            if acked < self.wait_replicas {
                tracing::warn!(
                    acked,
                    wanted = self.wait_replicas,
                    "a write reached fewer redis replicas than redis_wait_replicas; it is kept to write again"
                );
                return Err(Error::Storage("redis replicas did not confirm a write".into()));
            }
            Ok(())
        });
        futures_util::future::try_join_all(waits).await?;
        Ok(())
    }

    /// SCAN every primary for keys matching `pattern`, handing each batch
    /// to `each`.
    async fn scan<F, Fut>(&self, pattern: &str, batch: u32, mut each: F) -> Result<()>
    where
        F: FnMut(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<()>>,
    {
        let mut conn = self.conn();
        let nodes = conn.primaries().await.map_err(|e| self.failed(e))?;
        for node in nodes {
            let mut cursor: u64 = 0;
            loop {
                let mut cmd = ::redis::cmd("SCAN");
                cmd.arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(batch);
                let (next, keys): (u64, Vec<String>) = conn
                    .on_node(&node, &cmd)
                    .await
                    .map_err(|e| self.failed(e))?;
                self.succeeded();
                if !keys.is_empty() {
                    each(keys).await?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }
}

/// Escape the glob characters of a SCAN pattern.
pub(crate) fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_is_escaped() {
        assert_eq!(super::escape_glob("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
