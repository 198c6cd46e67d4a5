//! The questions a host asks on every request: whom a token speaks for
//! (`verify_token`) and what a user may do (`can`, `require`).
//!
//! Each is answered from memory when it can be: a stateless token, or a
//! session or permission set this process holds. The `_sync` calls give
//! only such answers, on the caller's thread with no runtime, and say
//! `would_block` when the answer needs the store or Redis; the async calls
//! try the same road first and wait on I/O only when they must. An answer
//! from memory is counted with one atomic add (`doorward_fast_path_total`):
//! a span and a latency sample would cost more than the answer. A call that
//! waits is observed like any other operation.

use super::{Auth, Principal};
use crate::error::{Error, Result};
use crate::rbac::validate_permission;
use crate::store::now;
use crate::telemetry::{Hot, operation};

/// What the in-memory road made of a token.
enum InMemory {
    Answered(Principal),
    /// Valid, but whether its session is live needs the store or Redis.
    NeedsSession(Principal),
}

impl Auth {
    /// Check an access token and say whom it speaks for.
    ///
    /// Signature, algorithm, `typ`, `iss`, `aud`, `exp`, `nbf` and `iat` are
    /// checked, then (unless `stateless_verify` is on) that the session is
    /// still live, so logout, revocation and disabling take effect at once.
    /// Answered without I/O when [`Auth::verify_token_sync`] can answer.
    pub async fn verify_token(&self, access_token: &str) -> Result<Principal> {
        let principal = match self.verify_in_memory(access_token) {
            Ok(InMemory::Answered(principal)) => {
                return self.core.metrics.fast(Hot::VerifyToken, Ok(principal));
            }
            Ok(InMemory::NeedsSession(principal)) => principal,
            Err(e) => return self.core.metrics.fast(Hot::VerifyToken, Err(e)),
        };
        self.core
            .observe(operation!("auth.verify_token"), async {
                let session = self.core.live_session(&principal.session_id).await?;
                check_session(session.as_ref(), &principal)?;
                Ok(principal)
            })
            .await
    }

    /// [`Auth::verify_token`] without waiting: the same checks and answer
    /// when none needs I/O (`stateless_verify`, or a session this process
    /// caches, `session_cache_ttl`), else `would_block` and the async call
    /// answers. For hosts whose request handlers are synchronous, and for
    /// bindings, which skip the hand-off to a runtime this way.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use doorward::{Config, Doorward, ErrorCode};
    /// let dw = Doorward::open(Config {
    ///     database_url: "memory://".into(),
    ///     jwt_secret: Some("documentation-secret-of-32-bytes!!".into()),
    ///     argon2_memory_kib: 64,
    ///     argon2_iterations: 1,
    ///     session_cache_ttl: 30,
    ///     ..Config::default()
    /// }).await?;
    /// let reg = dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await?;
    /// let token = &reg.tokens.access_token;
    /// // The session is not in this process's cache yet: only the async call knows.
    /// assert_eq!(dw.auth().verify_token_sync(token).unwrap_err().code(), ErrorCode::WouldBlock);
    /// dw.auth().verify_token(token).await?;
    /// assert_eq!(dw.auth().verify_token_sync(token)?.username, "ann");
    /// dw.auth().logout(token).await?;
    /// assert_eq!(dw.auth().verify_token_sync(token).unwrap_err().code(), ErrorCode::WouldBlock);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn verify_token_sync(&self, access_token: &str) -> Result<Principal> {
        self.sync_answer(self.verify_in_memory(access_token))
    }

    /// The answer of a `_sync` verification, counted.
    fn sync_answer(&self, in_memory: Result<InMemory>) -> Result<Principal> {
        let answer = match in_memory {
            Ok(InMemory::Answered(principal)) => Ok(principal),
            Ok(InMemory::NeedsSession(_)) => Err(Error::WouldBlock),
            Err(e) => Err(e),
        };
        self.core.metrics.fast(Hot::VerifyToken, answer)
    }

    /// Whether every key this instance verifies with is a shared secret
    /// (HS256), so that an in-memory verification costs a few microseconds.
    /// A binding then answers its async `verify_token` on the caller's
    /// thread when [`Auth::verify_token_sync`] can; a public-key signature
    /// (tens of microseconds each) goes to the runtime's threads instead,
    /// which check several at once and leave the host's thread, event loop
    /// or GIL free meanwhile.
    #[doc(hidden)]
    pub fn verifies_inline(&self) -> bool {
        self.core.keys().is_ok_and(|ring| {
            ring.verifying
                .values()
                .all(|key| key.alg == jsonwebtoken::Algorithm::HS256)
        })
    }

    /// Whether [`Auth::verify_token_sync`] never answers `would_block`
    /// here (`stateless_verify`: no session is looked up), so a binding
    /// may run it off the host's thread without an async fallback.
    #[doc(hidden)]
    pub fn verifies_without_io(&self) -> bool {
        self.core.config.stateless_verify
    }

    /// [`Auth::verify_token_sync`] of each of `tokens`, in order, the
    /// Ed25519 signatures among them checked as one batch: from eight up,
    /// less than 60% of the work of checking each alone (token/batch.rs). For
    /// bindings that gather the verifications of many requests, as Node's
    /// does on its thread pool.
    #[doc(hidden)]
    pub fn verify_tokens_sync<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<Result<Principal>> {
        let config = &self.core.config;
        let Ok(ring) = self.core.keys() else {
            // Each answers that there is no key.
            return tokens
                .iter()
                .map(|token| self.verify_token_sync(token.as_ref()))
                .collect();
        };
        ring.verify_many(tokens, &config.jwt_issuer, &config.jwt_audience)
            .into_iter()
            .map(|verified| self.sync_answer(verified.and_then(|p| self.in_memory_session(p))))
            .collect()
    }

    fn verify_in_memory(&self, access_token: &str) -> Result<InMemory> {
        let config = &self.core.config;
        let principal = self.core.keys()?.verify(
            access_token,
            &config.jwt_issuer,
            &config.jwt_audience,
            true,
        )?;
        self.in_memory_session(principal)
    }

    /// What this process knows of a verified token's session.
    fn in_memory_session(&self, principal: Principal) -> Result<InMemory> {
        let config = &self.core.config;
        if config.stateless_verify {
            return Ok(InMemory::Answered(principal));
        }
        match self
            .core
            .with_cached_session(&principal.session_id, |session| {
                check_session(Some(session), &principal)
            }) {
            Some(checked) => {
                checked?;
                Ok(InMemory::Answered(principal))
            }
            None => Ok(InMemory::NeedsSession(principal)),
        }
    }

    /// Whether `user_id` holds `permission` through any of its roles. A
    /// disabled or unknown user holds nothing. Answered without I/O when
    /// [`Auth::can_sync`] can answer.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("jane", "jane@example.com", "correct horse battery", None).await.unwrap();
    /// assert!(dw.auth().can(&reg.user.id, "users:read").await.unwrap());
    /// assert!(!dw.auth().can(&reg.user.id, "users:write").await.unwrap());
    /// # });
    /// ```
    pub async fn can(&self, user_id: &str, permission: &str) -> Result<bool> {
        match self.can_sync(user_id, permission) {
            Err(Error::WouldBlock) => {}
            answered => return answered,
        }
        self.core
            .observe(operation!("auth.can", %user_id, %permission), async {
                self.core.can(user_id, permission).await
            })
            .await
    }

    /// [`Auth::can`] without waiting: the answer when this process caches
    /// the user's permissions (the cache TTL bounds how stale), else
    /// `would_block` and the async call answers.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let reg = dw.auth().register_user("jane", "jane@example.com", "correct horse battery", None).await?;
    /// assert!(dw.auth().can_sync(&reg.user.id, "users:read").is_err()); // would_block
    /// assert!(dw.auth().can(&reg.user.id, "users:read").await?);
    /// assert!(dw.auth().can_sync(&reg.user.id, "users:read")?);
    /// assert!(!dw.auth().can_sync(&reg.user.id, "users:write")?);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn can_sync(&self, user_id: &str, permission: &str) -> Result<bool> {
        let answer = self.can_in_memory(user_id, permission);
        self.core.metrics.fast(Hot::Can, answer)
    }

    fn can_in_memory(&self, user_id: &str, permission: &str) -> Result<bool> {
        validate_permission(permission)?;
        self.core
            .cached_can(user_id, permission)
            .ok_or(Error::WouldBlock)
    }

    /// Like [`Auth::can`], but a missing permission is the `forbidden` error.
    pub async fn require(&self, user_id: &str, permission: &str) -> Result<()> {
        match self.can_in_memory(user_id, permission) {
            Err(Error::WouldBlock) => {}
            answered => {
                return self
                    .core
                    .metrics
                    .fast(Hot::Require, granted(answered, permission));
            }
        }
        self.core
            .observe(operation!("auth.require", %user_id, %permission), async {
                granted(self.core.can(user_id, permission).await, permission)
            })
            .await
    }
}

fn granted(can: Result<bool>, permission: &str) -> Result<()> {
    match can? {
        true => Ok(()),
        false => Err(Error::Forbidden {
            permission: permission.to_string(),
        }),
    }
}

/// What a live-session lookup means for the token that named it.
fn check_session(
    session: Option<&crate::sessions::LiveSession>,
    principal: &Principal,
) -> Result<()> {
    match session {
        None => Err(Error::TokenRevoked),
        Some(s) if s.user_id != principal.user_id => Err(Error::TokenRevoked),
        Some(s) if s.expires_at <= now() => Err(Error::TokenExpired),
        Some(_) => Ok(()),
    }
}
