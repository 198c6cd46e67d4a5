//! The state every service shares, wired together once at open. The steps
//! several services take live with what they are about: minting tokens in
//! [`crate::token`], starting and checking sessions in [`crate::sessions`].

use std::sync::Arc;

use crate::cache::Tiered;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::events::dispatch::Hub;
use crate::password::{HashParams, Hasher};
use crate::ratelimit::{BuiltinQuotas, MemoryLimiter};
use crate::store::Store;
use crate::token::keys::KeyRing;

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
    /// The account flows' keys, when the configuration gives them.
    pub flow_key: Option<Arc<crate::flows::secret::FlowKey>>,
    /// The second factors' keys, when the configuration gives them.
    pub mfa_keys: Option<crate::sealing::Keys>,
    /// The OAuth flows' and provider tokens' keys.
    #[cfg(feature = "oauth")]
    pub oauth_keys: Option<crate::sealing::Keys>,
    /// The OAuth providers.
    #[cfg(feature = "oauth")]
    pub oauth: crate::oauth::Providers,
    /// The WebAuthn relying party, or why the configuration gives none.
    pub webauthn: std::result::Result<webauthn_rs::Webauthn, String>,
    /// The files store, opened on first use.
    #[cfg(feature = "files")]
    pub files: crate::files::Lazy,
}

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
        #[cfg(not(feature = "oauth"))]
        if !config.oauth_providers.is_empty() {
            return Err(Error::Config(
                "oauth_providers is set but doorward was built without the `oauth` feature".into(),
            ));
        }
        let hub = Arc::new(Hub::new(&config)?);
        let mail = Arc::new(crate::mail::Slot::from_config(&config)?);
        Ok(Core {
            flow_key: crate::flows::secret::FlowKey::from_config(&config).map(Arc::new),
            mfa_keys: crate::mfa::keys_from(&config),
            #[cfg(feature = "oauth")]
            oauth_keys: crate::sealing::Keys::from_config(&config, "oauth"),
            #[cfg(feature = "oauth")]
            oauth: crate::oauth::Providers::from_config(&config)?,
            webauthn: crate::passkeys::ceremony::relying_party(&config),
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

    /// Wake the dispatcher: this instance just committed events.
    pub(crate) fn emitted(&self) {
        self.hub.wake.notify_one();
    }
}
