//! The state every service shares, and the few steps several services take
//! (starting a session, signing an access token).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::auth::{ClientInfo, TokenPair};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::password::{HashParams, Hasher};
use crate::ratelimit::{BuiltinQuotas, MemoryLimiter};
use crate::rbac::PermissionCache;
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
    pub permissions: PermissionCache,
    pub limiter: MemoryLimiter,
    // Read by login and registration once throttling is wired in (issue 3).
    #[allow(dead_code)]
    pub quotas: BuiltinQuotas,
}

/// Longest client address and user agent kept with a session.
const MAX_CLIENT_FIELD: usize = 512;

impl Core {
    pub(crate) async fn new(config: Config) -> Result<Core> {
        config.validate()?;
        let keys = KeyRing::from_config(&config)?;
        let hasher = Hasher::new(
            HashParams {
                memory_kib: config.argon2_memory_kib,
                iterations: config.argon2_iterations,
                parallelism: config.argon2_parallelism,
            },
            config.hash_concurrency,
        )?;
        let store =
            crate::store::open(&config.database_url, config.database_max_connections).await?;
        store.migrate().await?;
        store.ensure_roles(&crate::rbac::seeded_roles()).await?;
        let permissions = PermissionCache::new(Duration::from_secs(config.cache_ttl));
        let limiter = MemoryLimiter::new(config.cache_max_entries);
        let quotas = BuiltinQuotas::from_config(&config)?;
        Ok(Core {
            config,
            store,
            hasher,
            keys,
            permissions,
            limiter,
            quotas,
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

    /// A fresh refresh token for `session_id`, and what to store of it.
    pub(crate) fn new_refresh(&self, session_id: &str, user_id: &str) -> (String, RefreshRecord) {
        let (token, token_hash) = refresh::generate();
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

    /// Log `user` in: a new session (refresh-token family) and a token pair.
    pub(crate) async fn start_session(
        &self,
        user: &UserRecord,
        client: Option<&ClientInfo>,
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
        self.store.create_session(&session, &record).await?;
        tracing::info!(user_id = %user.id, session_id = %session_id, "session started");
        Ok(TokenPair::new(access_token, refresh_token, expires_in))
    }
}
