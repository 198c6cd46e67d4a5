//! The invalidation listener: one task per instance subscribed to
//! `{prefix}invalidate`, applying other instances' changes to this L1.
//!
//! Pub/sub keeps nothing for a subscriber that is away, so every
//! (re)subscription empties the L1 and replays what this instance failed to
//! write to Redis while it was away. A silent connection (no FIN) is found
//! by a ping every few seconds, and each ping also replays what is still
//! pending: a write can fail while pub/sub stays up (a timeout, an ACL),
//! and a revocation must not wait for a reconnection that never comes. The
//! task ends when its `Doorward` is dropped.
//!
//! On a Redis Cluster a plain `PUBLISH` is forwarded to every node, so the
//! listener subscribes to one seed node and, when that node fails, moves
//! to the next: the reconnection's resync covers what it missed meanwhile.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;

use super::Redis;
use crate::cache::{Invalidation, Tiered};

const PING_EVERY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Start listening; returns at once.
pub(crate) fn spawn(redis: Arc<Redis>, cache: Weak<Tiered>) {
    tokio::spawn(async move {
        let channel = redis.key("invalidate");
        let mut backoff = Duration::from_millis(50);
        let mut attempt = 0;
        loop {
            if cache.strong_count() == 0 {
                return;
            }
            if listen(&redis, attempt, &cache, &channel).await == Stop::Dropped {
                return;
            }
            attempt += 1;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if redis.is_up() {
                backoff = Duration::from_millis(50);
            }
        }
    });
}

#[derive(PartialEq, Eq)]
enum Stop {
    /// The connection failed or went quiet: reconnect.
    Lost,
    /// The owning `Doorward` is gone: end the task.
    Dropped,
}

async fn listen(redis: &Redis, attempt: usize, cache: &Weak<Tiered>, channel: &str) -> Stop {
    let client = redis.pubsub_client(attempt);
    let connected = tokio::time::timeout(redis.timeout(), client.get_async_pubsub()).await;
    let pubsub = match connected {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            redis.failed(e);
            return Stop::Lost;
        }
        Err(_) => {
            redis.failed(timeout_error());
            return Stop::Lost;
        }
    };
    let (mut sink, mut stream) = pubsub.split();
    match tokio::time::timeout(redis.timeout(), sink.subscribe(channel)).await {
        Ok(Ok(())) => redis.succeeded(),
        Ok(Err(e)) => {
            redis.failed(e);
            return Stop::Lost;
        }
        Err(_) => {
            redis.failed(timeout_error());
            return Stop::Lost;
        }
    }
    {
        let Some(cache) = cache.upgrade() else {
            return Stop::Dropped;
        };
        cache.resync();
        cache.replay_pending().await;
    }
    tracing::debug!("listening for cache invalidations");
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Stop::Lost };
                let Some(cache) = cache.upgrade() else { return Stop::Dropped };
                match serde_json::from_slice::<Invalidation>(message.get_payload_bytes()) {
                    Ok(invalidation) => cache.apply(&invalidation),
                    Err(_) => tracing::debug!("ignoring an unreadable invalidation message"),
                }
            }
            _ = ping.tick() => {
                let Some(tiered) = cache.upgrade() else { return Stop::Dropped };
                tiered.replay_if_pending().await;
                drop(tiered);
                let pong = tokio::time::timeout(redis.timeout(), sink.ping::<::redis::Value>()).await;
                match pong {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        redis.failed(e);
                        return Stop::Lost;
                    }
                    Err(_) => {
                        redis.failed(timeout_error());
                        return Stop::Lost;
                    }
                }
            }
        }
    }
}

fn timeout_error() -> ::redis::RedisError {
    ::redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "redis did not answer in time",
    ))
}
