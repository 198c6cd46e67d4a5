//! The Redis connection every instance shares: sessions (`session:{id}`),
//! the L2 cache, GCRA counters and the invalidation channel.
//!
//! One [`redis::aio::ConnectionManager`] multiplexes every command and
//! reconnects by itself, so when Redis comes back nothing needs a restart.
//! While it is away each failed command is logged and counted
//! ([`Redis::errors`]) and the caller applies its fault policy: cache reads
//! fall back to the store, rate limits to this process, session checks to
//! `redis_session_policy`.

mod scripts;
pub(crate) mod sessions;
pub(crate) mod subscriber;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::ratelimit::{Quota, Verdict, decision};

/// A shared Redis, with the key prefix of this deployment.
pub(crate) struct Redis {
    client: Client,
    conn: ConnectionManager,
    prefix: String,
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
        let client = Client::open(url)
            .map_err(|e| Error::Config(format!("invalid redis_url: {}", e.category())))?;
        let timeout = Duration::from_millis(config.redis_timeout_ms);
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| Error::Config(format!("cannot use redis_url: {}", e.category())))?;
        let redis = Redis {
            client,
            conn,
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

    /// A connection handle (cheap: the manager multiplexes one socket).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub(crate) fn scripts(&self) -> &scripts::Scripts {
        &self.scripts
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
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

    /// How many keys are under `prefix`.
    pub(crate) async fn count_matching(&self, prefix: &str) -> Result<u64> {
        let pattern = format!("{}*", escape_glob(&self.key(prefix)));
        let mut cursor: u64 = 0;
        let mut count = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .run(
                    ::redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000),
                )
                .await?;
            count += keys.len() as u64;
            if next == 0 {
                return Ok(count);
            }
            cursor = next;
        }
    }

    /// Delete every key under `prefix` (SCAN, so the server never blocks on
    /// a big keyspace); returns how many went.
    pub(crate) async fn delete_matching(&self, prefix: &str) -> Result<u64> {
        let pattern = format!("{}*", escape_glob(&self.key(prefix)));
        let mut cursor: u64 = 0;
        let mut deleted = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .run(
                    ::redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500),
                )
                .await?;
            if !keys.is_empty() {
                deleted += self.run::<u64>(::redis::cmd("UNLINK").arg(&keys)).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

/// Escape the glob characters of a SCAN pattern.
fn escape_glob(text: &str) -> String {
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
