//! The state every service shares, and the few steps several services take
//! (starting a session, signing an access token).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::auth::{ClientInfo, TokenPair};
use crate::cache::Tiered;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::dispatch::Hub;
use crate::events::{Event, EventType};
use crate::password::{HashParams, Hasher};
use crate::ratelimit::{BuiltinQuotas, MemoryLimiter};
use crate::store::{RefreshRecord, SessionRecord, Store, UserRecord, now};
use crate::token::access::AccessClaims;
use crate::token::keys::KeyRing;
use crate::token::refresh;

#[derive(Debug)]
pub(crate) struct Core {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub hasher: Hasher,
    pub keys: Option<KeyRing>,
    pub cache: Arc<Tiered>,
    pub limiter: MemoryLimiter,
    pub quotas: BuiltinQuotas,
    #[cfg(feature = "redis")]
    pub redis: Option<Arc<crate::redis::Redis>>,
    pub hub: Arc<Hub>,
    /// This instance's metrics.
    pub metrics: crate::telemetry::Metrics,
    /// The mailer in force (shared with the welcome subscriber).
    pub mail: Arc<crate::mail::Slot>,
    /// The files store, opened on first use.
    #[cfg(feature = "files")]
    pub files: crate::files::Lazy,
}

/// What `verify_token` learns of a session.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct LiveSession {
    pub user_id: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Longest client address and user agent kept with a session.
const MAX_CLIENT_FIELD: usize = 512;

impl Core {
    pub(crate) async fn new(config: Config) -> Result<Core> {
        config.validate()?;
        #[cfg(feature = "otel")]
        if let Some(endpoint) = &config.otel_endpoint {
            crate::telemetry::otel::init(endpoint, &config.otel_service_name)?;
        }
        #[cfg(not(feature = "otel"))]
        if config.otel_endpoint.is_some() {
            return Err(Error::Config(
                "otel_endpoint is set but doorward was built without the `otel` feature".into(),
            ));
        }
        #[cfg(feature = "files")]
        let files = crate::files::Lazy::new(&config)?;
        #[cfg(not(feature = "files"))]
        if config.files_url.is_some() {
            return Err(Error::Config(
                "files_url is set but doorward was built without the `files` feature".into(),
            ));
        }
        let keys = KeyRing::from_config(&config)?;
        let hasher = Hasher::new(
            HashParams {
                memory_kib: config.argon2_memory_kib,
                iterations: config.argon2_iterations,
                parallelism: config.argon2_parallelism,
            },
            config.hash_concurrency,
        )?;
        let store = crate::store::open(&config).await?;
        store.migrate().await?;
        store.ensure_roles(&crate::rbac::seeded_roles()).await?;
        let limiter = MemoryLimiter::new(config.cache_max_entries);
        let quotas = BuiltinQuotas::from_config(&config)?;
        let cache = Tiered::new(&config);
        #[cfg(feature = "redis")]
        let (cache, redis) = match &config.redis_url {
            Some(url) => {
                let redis = Arc::new(crate::redis::Redis::connect(url, &config).await?);
                let cache = Arc::new(cache.with_redis(redis.clone()));
                crate::redis::subscriber::spawn(redis.clone(), Arc::downgrade(&cache));
                (cache, Some(redis))
            }
            None => (Arc::new(cache), None),
        };
        #[cfg(not(feature = "redis"))]
        let cache = {
            if config.redis_url.is_some() {
                return Err(Error::Config(
                    "redis_url is set but doorward was built without the `redis` feature".into(),
                ));
            }
            Arc::new(cache)
        };
        let hub = Arc::new(Hub::new(&config)?);
        let mail = Arc::new(crate::mail::Slot::from_config(&config)?);
        Ok(Core {
            hub,
            metrics: crate::telemetry::Metrics::new(),
            mail,
            config,
            store,
            hasher,
            keys,
            cache,
            limiter,
            quotas,
            #[cfg(feature = "redis")]
            redis,
            #[cfg(feature = "files")]
            files,
        })
    }

    pub(crate) fn keys(&self) -> Result<&KeyRing> {
        self.keys.as_ref().ok_or_else(|| {
            Error::Config(
                "no signing key: set jwt_secret, or jwt_private_key and jwt_public_key".into(),
            )
        })
    }

    pub(crate) fn access_token(
        &self,
        user: &UserRecord,
        session_id: &str,
        roles: Vec<String>,
    ) -> Result<(String, u64)> {
        let iat = Utc::now().timestamp();
        let ttl = self.config.access_ttl;
        let claims = AccessClaims {
            sub: user.id.clone(),
            sid: session_id.to_string(),
            preferred_username: user.username.clone(),
            roles,
            iss: self.config.jwt_issuer.clone(),
            aud: self.config.jwt_audience.clone(),
            iat,
            nbf: iat,
            exp: iat.saturating_add(ttl as i64),
            jti: Uuid::new_v4().to_string(),
        };
        Ok((self.keys()?.sign(&claims)?, ttl))
    }

    /// A session's first refresh token, and what to store of it.
    pub(crate) fn new_refresh(&self, session_id: &str, user_id: &str) -> (String, RefreshRecord) {
        self.refresh_record(refresh::generate(), session_id, user_id)
    }

    /// The token that replaces `token` of `session_id` when it rotates, and
    /// what to store of it: the same on every call and every instance.
    pub(crate) fn successor_refresh(
        &self,
        token: &str,
        session_id: &str,
        user_id: &str,
    ) -> Result<(String, RefreshRecord)> {
        let next = refresh::successor(&self.keys()?.successor_key, token)?;
        Ok(self.refresh_record(next, session_id, user_id))
    }

    fn refresh_record(
        &self,
        (token, token_hash): (String, String),
        session_id: &str,
        user_id: &str,
    ) -> (String, RefreshRecord) {
        let created_at = now();
        let record = RefreshRecord {
            token_hash,
            session_id: session_id.to_string(),
            user_id: user_id.to_string(),
            created_at,
            expires_at: created_at + chrono::Duration::seconds(self.config.refresh_ttl as i64),
            used_at: None,
        };
        (token, record)
    }

    /// Log `user` in: a new session (refresh-token family) and a token pair,
    /// recorded as a LoginSucceeded event whose `method` says how
    /// (`password`, `registration`, `issued`).
    ///
    /// `user` is the account as the caller read it before its checks: the
    /// session is only stored if it is still enabled with the same
    /// credentials. Otherwise the answer is `user_disabled`, or
    /// `invalid_credentials` when its password changed meanwhile, or
    /// `not_found` when it is gone.
    pub(crate) async fn start_session(
        &self,
        user: &UserRecord,
        client: Option<&ClientInfo>,
        method: &str,
    ) -> Result<TokenPair> {
        let session_id = Uuid::now_v7().to_string();
        let (refresh_token, record) = self.new_refresh(&session_id, &user.id);
        let clip = |v: &Option<String>| {
            v.as_ref()
                .map(|s| s.chars().take(MAX_CLIENT_FIELD).collect::<String>())
        };
        let session = SessionRecord {
            id: session_id.clone(),
            user_id: user.id.clone(),
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_refreshed_at: None,
            ip: client.and_then(|c| clip(&c.ip)),
            user_agent: client.and_then(|c| clip(&c.user_agent)),
            revoked_at: None,
            revoked_reason: None,
        };
        let roles = self.store.user_roles(&user.id).await?;
        let (access_token, expires_in) = self.access_token(user, &session_id, roles)?;
        let event = Event::by_user(
            EventType::LoginSucceeded,
            &user.id,
            client,
            Event::user_payload(
                &user.id,
                &user.username,
                serde_json::json!({ "session_id": session_id, "method": method }),
            ),
        );
        let started = self
            .store
            .create_session(&session, &record, user.credentials_version, &[event])
            .await?;
        if !started {
            return Err(match self.store.user_by_id(&user.id).await? {
                None => Error::not_found("user"),
                Some(now) if now.disabled => Error::UserDisabled,
                Some(_) => Error::InvalidCredentials,
            });
        }
        self.emitted();
        self.session_extended(&session_id, &user.id, session.expires_at)
            .await;
        tracing::info!(user_id = %user.id, session_id = %session_id, "session started");
        Ok(TokenPair::new(access_token, refresh_token, expires_in))
    }

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

    /// Run a public operation: its latency and, if it fails, its error code
    /// go to the metrics.
    pub(crate) async fn observe<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let timer = self.metrics.time(operation);
        timer.outcome(work.await)
    }

    /// Wake the dispatcher: this instance just committed events.
    pub(crate) fn emitted(&self) {
        self.hub.wake.notify_one();
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

    /// Drop a user's cached account and permissions everywhere.
    pub(crate) async fn user_changed(&self, user_id: &str) {
        self.emitted();
        self.cache
            .invalidate(vec![
                crate::users::user_key(user_id),
                crate::rbac::permissions_key(user_id),
            ])
            .await;
    }
}

fn session_key(session_id: &str) -> String {
    format!("session:{session_id}")
}
