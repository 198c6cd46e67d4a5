//! Sessions in Redis: `session:{id}` holds `{user_id} {expires_at µs}` for
//! a live session, with the session's remaining lifetime as TTL, or
//! `revoked` once it ended. `verify_token` reads only this key, so a
//! revocation on one instance is seen by every other at once.
//!
//! The database stays the record: an absent key (evicted, expired, Redis
//! restarted empty) is looked up there and written back. Writes of a live
//! session go through a script that never overwrites `revoked`, so a login
//! or refresh racing a revocation cannot resurrect the session.
//!
//! A tombstone lives as long as any access token of the session can: the
//! access-token lifetime plus the verification leeway. After that no token
//! that names the session passes the signature checks, and the database
//! answers for it anyway.

use chrono::{DateTime, Utc};

use super::Redis;
use crate::error::Result;

/// What Redis knows of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cached {
    /// Live until `expires_at`, for `user_id`.
    Live {
        user_id: String,
        expires_at: DateTime<Utc>,
    },
    /// Ended.
    Revoked,
}

const REVOKED: &str = "revoked";

impl Redis {
    fn session_key(&self, id: &str) -> String {
        self.key(&format!("session:{id}"))
    }

    /// The session's state, or None when Redis does not know it.
    pub(crate) async fn session_get(&self, id: &str) -> Result<Option<Cached>> {
        let value: Option<String> = self
            .run(::redis::cmd("GET").arg(self.session_key(id)))
            .await?;
        Ok(value.and_then(|v| parse(&v)))
    }

    /// Record a live session (login, refresh, refill); a no-op if it is
    /// revoked or already over.
    pub(crate) async fn session_live(
        &self,
        id: &str,
        user_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let ttl_ms = (expires_at - Utc::now()).num_milliseconds();
        if ttl_ms <= 0 {
            return Ok(());
        }
        let value = format!("{user_id} {}", expires_at.timestamp_micros());
        let _: i64 = self
            .invoke(
                self.scripts
                    .session_put
                    .key(self.session_key(id))
                    .arg(value)
                    .arg(ttl_ms),
            )
            .await?;
        Ok(())
    }

    /// Mark sessions ended, for `ttl_ms`. On a cluster this returns only
    /// once the tombstones are on a replica too (`redis_wait_replicas`): a
    /// failover that lost one would bring back the live entry it replaced.
    pub(crate) async fn sessions_revoked(&self, ids: &[String], ttl_ms: u64) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // One command per key: on a cluster they live on different nodes
        // (the multiplexed connection pipelines them anyway).
        let keys: Vec<String> = ids.iter().map(|id| self.session_key(id)).collect();
        let writes = keys.iter().map(|key| async move {
            let mut cmd = ::redis::cmd("SET");
            cmd.arg(key).arg(REVOKED).arg("PX").arg(ttl_ms.max(1));
            self.run::<()>(&cmd).await
        });
        futures_util::future::try_join_all(writes).await?;
        self.replicated(&keys).await
    }
}

fn parse(value: &str) -> Option<Cached> {
    if value == REVOKED {
        return Some(Cached::Revoked);
    }
    let (user_id, micros) = value.split_once(' ')?;
    let expires_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some(Cached::Live {
        user_id: user_id.to_string(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values() {
        assert_eq!(parse("revoked"), Some(Cached::Revoked));
        assert_eq!(
            parse("u1 1700000000000000"),
            Some(Cached::Live {
                user_id: "u1".into(),
                expires_at: DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap()
            })
        );
        // Garbage is treated as unknown, so the database decides.
        assert_eq!(parse("u1"), None);
        assert_eq!(parse("u1 soon"), None);
    }
}
