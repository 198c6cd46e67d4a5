//! Whether a session is live, and spreading its end: what `verify_token`
//! asks on every request, answered from the process cache, Redis or the
//! store, and the tombstones and invalidations that make a revocation
//! felt at once on every instance.

use std::time::Duration;

use chrono::Utc;

use crate::core::Core;
use crate::error::{Error, Result};

/// What `verify_token` learns of a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct LiveSession {
    pub user_id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

impl Core {
    /// Whether a session is live, for `verify_token`: from this process's
    /// cache when `session_cache_ttl` allows, else from Redis when
    /// configured (refilled from the database on a miss), else from the
    /// database.
    pub(crate) async fn live_session(&self, session_id: &str) -> Result<Option<LiveSession>> {
        if self.config.session_cache_ttl > 0 {
            let ttl = Duration::from_secs(self.config.session_cache_ttl);
            let found = self
                .cache
                .get_or_load(&session_key(session_id), ttl, || async {
                    match self.session_from_redis_or_store(session_id).await? {
                        Some(live) => Ok(live),
                        // Not cached: an error skips the fill.
                        None => Err(Error::TokenRevoked),
                    }
                })
                .await;
            return match found {
                Ok(live) => Ok(Some(LiveSession::clone(&live))),
                Err(Error::TokenRevoked) => Ok(None),
                Err(e) => Err(e),
            };
        }
        self.session_from_redis_or_store(session_id).await
    }

    /// The live session this process caches, if it does: what
    /// `verify_token` may answer from without I/O. A session revoked
    /// anywhere is dropped from every instance's cache at once (the
    /// invalidation above), so a hit is as fresh as the cache allows.
    pub(crate) fn with_cached_session<R>(
        &self,
        session_id: &str,
        f: impl FnOnce(&LiveSession) -> R,
    ) -> Option<R> {
        if self.config.session_cache_ttl == 0 {
            return None;
        }
        crate::cache::with_key("session:", session_id, |key| self.cache.read_local(key, f))
    }

    async fn session_from_redis_or_store(&self, session_id: &str) -> Result<Option<LiveSession>> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            use crate::redis::sessions::Cached;
            if self.cache.tombstone_pending(session_id) {
                return Ok(None);
            }
            match redis.session_get(session_id).await {
                Ok(Some(Cached::Live {
                    user_id,
                    expires_at,
                })) => {
                    return Ok(Some(LiveSession {
                        user_id,
                        expires_at,
                    }));
                }
                Ok(Some(Cached::Revoked)) => return Ok(None),
                Ok(None) => {
                    let live = self.session_from_store(session_id).await?;
                    match &live {
                        Some(s) => {
                            let _ = redis
                                .session_live(session_id, &s.user_id, s.expires_at)
                                .await;
                        }
                        None => {
                            let _ = redis
                                .sessions_revoked(
                                    &[session_id.to_string()],
                                    self.tombstone_ttl_ms(),
                                )
                                .await;
                        }
                    }
                    return Ok(live);
                }
                Err(e) => match self.config.redis_session_policy {
                    crate::config::RedisSessionPolicy::FailClosed => return Err(e),
                    crate::config::RedisSessionPolicy::Database => {}
                },
            }
        }
        self.session_from_store(session_id).await
    }

    async fn session_from_store(&self, session_id: &str) -> Result<Option<LiveSession>> {
        Ok(self
            .store
            .session(session_id)
            .await?
            .filter(|s| s.revoked_at.is_none())
            .map(|s| LiveSession {
                user_id: s.user_id,
                expires_at: s.expires_at,
            }))
    }

    /// Tell Redis a session is live until `expires_at` (login, refresh). A
    /// failure is only logged: the database holds the session, and a later
    /// check refills Redis from it.
    pub(crate) async fn session_extended(
        &self,
        session_id: &str,
        user_id: &str,
        expires_at: chrono::DateTime<Utc>,
    ) {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            let _ = redis.session_live(session_id, user_id, expires_at).await;
        }
        #[cfg(not(feature = "redis"))]
        let _ = (session_id, user_id, expires_at);
    }

    /// Spread the end of sessions the store just ended: tombstones in Redis
    /// (replayed later if Redis is away) and, when sessions are cached in
    /// process, an invalidation to every instance.
    pub(crate) async fn sessions_ended(&self, ids: &[String]) {
        self.emitted();
        if ids.is_empty() {
            return;
        }
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            let ttl = self.tombstone_ttl_ms();
            if redis.sessions_revoked(ids, ttl).await.is_err() {
                self.cache.defer_tombstones(ids, ttl);
            } else {
                // Redis takes writes again: earlier tombstones that missed
                // it go now, not at the next reconnection.
                self.cache.replay_if_pending().await;
            }
        }
        if self.config.session_cache_ttl > 0 {
            self.cache
                .invalidate(ids.iter().map(|id| session_key(id)).collect())
                .await;
        }
    }

    /// How long a revoked session's tombstone must live: as long as one of
    /// its access tokens can still pass the signature checks.
    #[cfg(feature = "redis")]
    fn tombstone_ttl_ms(&self) -> u64 {
        (self.config.access_ttl + crate::token::access::LEEWAY_SECS + 60) * 1000
    }
}

fn session_key(session_id: &str) -> String {
    format!("session:{session_id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cached_lookup_builds_the_same_key() {
        crate::cache::with_key("session:", "s1", |key| {
            assert_eq!(key, super::session_key("s1"));
        });
    }
}
