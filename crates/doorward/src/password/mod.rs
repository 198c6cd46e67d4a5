//! Argon2id password hashing, and verification of the hashes other systems
//! made (bcrypt, PBKDF2, scrypt, Firebase's scrypt: see
//! [`check_importable`]), which a login
//! replaces with argon2id.
//!
//! Hashing is deliberately expensive, so it never runs on the async threads:
//! each hash takes a permit from a semaphore and runs on tokio's blocking
//! pool. The permit count bounds memory to `hash_concurrency × m_cost`
//! however many logins arrive at once, and the memory itself is kept
//! between hashes rather than allocated for each (`pool.rs`).
//!
//! Stored hashes are input too. A PHC string read from the database names its
//! own cost, so parameters are capped before verifying: one imported hash
//! cannot make the server allocate 8 GiB.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::PasswordHash;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Algorithm, Params, Version};
use base64::Engine as _;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

mod legacy;
mod pool;

use legacy::Legacy;
pub use legacy::{MAX_BCRYPT_COST, MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_PARALLELISM};
use pool::Pool;

/// What a stored hash starts with when the account has no password of its
/// own (it signed up through a provider): nothing verifies against it, so
/// a password login fails as a wrong password would, after the same work,
/// until a reset sets one. Django's `set_unusable_password` does the same.
pub const UNUSABLE_PREFIX: &str = "!";

/// The stored value of a password nobody has: the prefix and random bytes,
/// so no two accounts store the same value.
///
/// ```
/// let stored = doorward::password::unusable();
/// assert!(stored.starts_with(doorward::password::UNUSABLE_PREFIX));
/// assert_ne!(stored, doorward::password::unusable());
/// ```
pub fn unusable() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "{UNUSABLE_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Largest memory cost accepted from a stored hash: 1 GiB.
pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
/// Largest iteration count accepted from a stored hash.
pub const MAX_ITERATIONS: u32 = 64;
/// Largest lane count accepted from a stored hash.
pub const MAX_PARALLELISM: u32 = 64;

/// Argon2id cost parameters.
///
/// ```
/// let p = doorward::password::HashParams::default();
/// assert_eq!((p.memory_kib, p.iterations, p.parallelism), (19_456, 2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB (OWASP: 19456).
    pub memory_kib: u32,
    /// Passes over memory (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// What verifying a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password matches and the hash uses the current parameters.
    Valid,
    /// The password matches but the hash should be replaced by a new one
    /// (older parameters, or a variant other than argon2id).
    ValidNeedsRehash,
    /// The password does not match.
    Invalid,
}

/// The password hasher: argon2id under a concurrency cap.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::password::{Hasher, HashParams, Verdict};
/// let fast = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };
/// let hasher = Hasher::new(fast, 2).unwrap();
/// let phc = hasher.hash("correct horse battery").await.unwrap();
/// assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
/// assert_eq!(hasher.verify("correct horse battery", &phc).await.unwrap(), Verdict::Valid);
/// assert_eq!(hasher.verify("wrong", &phc).await.unwrap(), Verdict::Invalid);
/// # });
/// ```
#[derive(Clone)]
pub struct Hasher {
    params: HashParams,
    permits: Arc<Semaphore>,
    /// The argon2 memory, one buffer per permit at most.
    pool: Arc<Pool>,
    /// A hash of nothing with the current parameters: verifying against it
    /// costs what a real verification costs, so unknown logins take as long
    /// as wrong passwords.
    dummy: Arc<str>,
    operations: Arc<AtomicU64>,
    /// Hashes running right now, and the most ever seen at once: the
    /// evidence that the cap bounds memory.
    running: Arc<AtomicU64>,
    peak: Arc<AtomicU64>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .field("concurrency", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with these parameters, running at most `concurrency` hashes at once.
    pub fn new(params: HashParams, concurrency: usize) -> Result<Self> {
        let pool = Pool::new(&to_argon2_params(params)?)?;
        Ok(Hasher {
            params,
            dummy: pool.dummy()?.into(),
            pool: Arc::new(pool),
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            operations: Arc::new(AtomicU64::new(0)),
            running: Arc::new(AtomicU64::new(0)),
            peak: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The parameters new hashes get.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// How many argon2 computations (hashes and verifications) this hasher
    /// has run: lets tests prove that every login path does the same work.
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    /// Hash a password into a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        let pool = self.pool.clone();
        self.run(move || pool.hash(password.as_bytes())).await
    }

    /// Verify a password against a stored PHC string.
    ///
    /// A stored hash that cannot be parsed, or that asks for more than the
    /// caps allow, is an `internal` error, not a wrong password: it needs an
    /// operator, not a retry.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verdict> {
        if phc.starts_with(UNUSABLE_PREFIX) {
            self.verify_dummy(password).await?;
            return Ok(Verdict::Invalid);
        }
        if phc.starts_with("$argon2") {
            return self.verify_phc(password, phc).await;
        }
        if let Some(wrapped) = django_argon2(phc) {
            // Django's own wrapping is replaced by a plain PHC string.
            return Ok(match self.verify_phc(password, wrapped).await? {
                Verdict::Invalid => Verdict::Invalid,
                _ => Verdict::ValidNeedsRehash,
            });
        }
        let legacy = Legacy::parse(phc)
            .map_err(|why| Error::Internal(format!("stored password hash: {why}")))?;
        let password = password.to_owned();
        let matched = self.run(move || Ok(legacy.verify(&password))).await?;
        Ok(if matched {
            Verdict::ValidNeedsRehash
        } else {
            Verdict::Invalid
        })
    }

    async fn verify_phc(&self, password: &str, phc: &str) -> Result<Verdict> {
        let stored = PasswordHash::new(phc)
            .map_err(|_| Error::Internal("stored password hash is not a PHC string".into()))?;
        let stored_params = check_stored(&stored)?;
        let current = self.is_current(&stored, stored_params);
        let password = password.to_owned();
        let phc = phc.to_owned();
        let pool = self.pool.clone();
        let matched = self
            .run(move || pool.verify(password.as_bytes(), &phc))
            .await?;
        Ok(match (matched, current) {
            (false, _) => Verdict::Invalid,
            (true, true) => Verdict::Valid,
            (true, false) => Verdict::ValidNeedsRehash,
        })
    }

    /// Spend exactly the work of one verification and fail, for logins whose
    /// account does not exist.
    pub async fn verify_dummy(&self, password: &str) -> Result<()> {
        let dummy = self.dummy.clone();
        self.verify_phc(password, &dummy).await.map(|_| ())
    }

    fn is_current(&self, stored: &PasswordHash<'_>, params: HashParams) -> bool {
        stored.algorithm == Algorithm::Argon2id.ident()
            && stored.version == Some(Version::V0x13.into())
            && params == self.params
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Internal("hasher closed".into()))?;
        self.operations.fetch_add(1, Ordering::Relaxed);
        let (running, peak) = (self.running.clone(), self.peak.clone());
        tokio::task::spawn_blocking(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            result
        })
        .await?
    }

    /// The most argon2 computations that ever ran at once.
    pub fn peak_concurrency(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }
}

fn to_argon2_params(p: HashParams) -> Result<Params> {
    if p.memory_kib > MAX_MEMORY_KIB
        || p.iterations > MAX_ITERATIONS
        || p.parallelism > MAX_PARALLELISM
    {
        return Err(Error::Config(format!(
            "argon2 parameters above the caps (m ≤ {MAX_MEMORY_KIB} KiB, t ≤ {MAX_ITERATIONS}, p ≤ {MAX_PARALLELISM})"
        )));
    }
    Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| Error::Config(format!("invalid argon2 parameters: {e}")))
}

/// Whether a hash brought from another system can be stored as an
/// account's password: a PHC argon2 string, bcrypt (`$2a$`/`$2b$`/`$2y$`),
/// Django's `pbkdf2_sha256$`, `pbkdf2_sha1$`, `argon2$`, `bcrypt$`,
/// `bcrypt_sha256$` and `scrypt$`, passlib's `$pbkdf2-sha256$`, `$scrypt$`,
/// Firebase's scrypt (`$fbscrypt$`), or an unusable password (`!…`, Django's too), each within the cost caps.
/// The login that next verifies it replaces it with argon2id.
///
/// ```
/// use doorward::password::check_importable;
/// assert!(check_importable("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW").is_ok());
/// let hostile = check_importable("$2b$31$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW");
/// assert_eq!(hostile.unwrap_err().field(), Some("password_hash"));
/// ```
pub fn check_importable(stored: &str) -> Result<()> {
    let refused = |why: String| Error::validation("password_hash", why);
    if stored.starts_with(UNUSABLE_PREFIX) {
        return Ok(());
    }
    let phc = django_argon2(stored).unwrap_or(stored);
    if phc.starts_with("$argon2") {
        let parsed =
            PasswordHash::new(phc).map_err(|_| refused("not a valid argon2 PHC string".into()))?;
        return match check_stored(&parsed) {
            Err(Error::Internal(why)) => Err(refused(why)),
            other => other.map(|_| ()),
        };
    }
    Legacy::parse(stored).map(|_| ()).map_err(refused)
}

/// The costs an argon2 string (plain or Django's) asks for, if it is one
/// within the caps.
#[cfg(feature = "fuzzing")]
pub(crate) fn argon2_costs(stored: &str) -> Option<HashParams> {
    let phc = django_argon2(stored).unwrap_or(stored);
    check_stored(&PasswordHash::new(phc).ok()?).ok()
}

/// The PHC string inside Django's `argon2$argon2id$…`.
fn django_argon2(stored: &str) -> Option<&str> {
    stored
        .strip_prefix("argon2")
        .filter(|rest| rest.starts_with("$argon2"))
}

/// Reads and bounds the parameters a stored hash asks for.
fn check_stored(stored: &PasswordHash<'_>) -> Result<HashParams> {
    let known = [
        Algorithm::Argon2id.ident(),
        Algorithm::Argon2i.ident(),
        Algorithm::Argon2d.ident(),
    ];
    if !known.contains(&stored.algorithm) {
        return Err(Error::Internal(
            "stored password hash uses an unsupported algorithm".into(),
        ));
    }
    let get = |name: &str| {
        stored
            .params
            .get_decimal(name)
            .ok_or_else(|| Error::Internal(format!("stored password hash lacks `{name}`")))
    };
    let params = HashParams {
        memory_kib: get("m")?,
        iterations: get("t")?,
        parallelism: get("p")?,
    };
    if params.memory_kib > MAX_MEMORY_KIB
        || params.iterations > MAX_ITERATIONS
        || params.parallelism > MAX_PARALLELISM
    {
        return Err(Error::Internal(
            "stored password hash exceeds the parameter caps".into(),
        ));
    }
    if let Some(output) = &stored.hash
        && !(4..=64).contains(&output.len())
    {
        return Err(Error::Internal(
            "stored password hash has an unusual output length".into(),
        ));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use argon2::Argon2;
    use argon2::password_hash::{PasswordHasher as _, SaltString};

    use super::*;

    const FAST: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn old_parameters_ask_for_a_rehash() {
        let old = Hasher::new(FAST, 1).unwrap();
        let new = Hasher::new(
            HashParams {
                iterations: 2,
                ..FAST
            },
            1,
        )
        .unwrap();
        let phc = old.hash("pw-one-two-three").await.unwrap();
        assert_eq!(
            new.verify("pw-one-two-three", &phc).await.unwrap(),
            Verdict::ValidNeedsRehash
        );
        assert_eq!(
            old.verify("pw-one-two-three", &phc).await.unwrap(),
            Verdict::Valid
        );
    }

    #[tokio::test]
    async fn argon2i_hashes_verify_and_ask_for_a_rehash() {
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            to_argon2_params(FAST).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2i
            .hash_password(b"legacy-password", &salt)
            .unwrap()
            .to_string();
        let hasher = Hasher::new(FAST, 1).unwrap();
        assert_eq!(
            hasher.verify("legacy-password", &phc).await.unwrap(),
            Verdict::ValidNeedsRehash
        );
    }

    #[tokio::test]
    async fn hostile_stored_parameters_are_refused_before_hashing() {
        let hasher = Hasher::new(FAST, 1).unwrap();
        let hostile = "$argon2id$v=19$m=8388608,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
        let err = hasher.verify("x", hostile).await.unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Internal);
        assert_eq!(hasher.operations(), 0);
        let err = hasher.verify("x", "$2b$12$notargon").await.unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Internal);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_cap_bounds_hashes_in_flight() {
        // 1 MiB each, so a breach of the cap would show while they overlap.
        let params = HashParams {
            memory_kib: 1024,
            iterations: 2,
            parallelism: 1,
        };
        let hasher = Hasher::new(params, 2).unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash(&format!("password number {i}")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(hasher.operations(), 16);
        assert!(
            hasher.peak_concurrency() <= 2,
            "peak {}",
            hasher.peak_concurrency()
        );
        assert!(hasher.peak_concurrency() >= 1);
        // Memory came from the pool: one buffer per hash in flight at most.
        let buffers = hasher.pool.allocated();
        assert!((1..=2).contains(&buffers), "{buffers} buffers");
    }

    #[tokio::test]
    async fn memory_is_allocated_on_first_use_and_kept() {
        let hasher = Hasher::new(FAST, 4).unwrap();
        assert_eq!(hasher.pool.allocated(), 0);
        let phc = hasher.hash("pw-one-two-three").await.unwrap();
        hasher.verify("pw-one-two-three", &phc).await.unwrap();
        hasher.verify_dummy("pw-one-two-three").await.unwrap();
        assert_eq!(hasher.pool.allocated(), 1);
        // A stored hash asking for more memory than configured gets its own.
        let bigger = Hasher::new(
            HashParams {
                memory_kib: 128,
                ..FAST
            },
            1,
        )
        .unwrap();
        let phc = bigger.hash("pw").await.unwrap();
        assert_eq!(
            hasher.verify("pw", &phc).await.unwrap(),
            Verdict::ValidNeedsRehash
        );
        assert_eq!(hasher.pool.allocated(), 1);
    }

    #[test]
    fn the_dummy_is_a_current_argon2id_string() {
        let hasher = Hasher::new(FAST, 1).unwrap();
        assert!(hasher.dummy.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        let parsed = PasswordHash::new(&hasher.dummy).unwrap();
        assert_eq!(parsed.hash.unwrap().len(), 32);
        assert!(hasher.is_current(&parsed, check_stored(&parsed).unwrap()));
    }

    #[tokio::test]
    async fn dummy_costs_one_verification() {
        let hasher = Hasher::new(FAST, 1).unwrap();
        hasher.verify_dummy("anything").await.unwrap();
        assert_eq!(hasher.operations(), 1);
    }

    #[tokio::test]
    async fn unusable_passwords_never_verify_and_cost_one_verification() {
        let hasher = Hasher::new(FAST, 1).unwrap();
        let stored = unusable();
        assert_eq!(
            hasher.verify(&stored, &stored).await.unwrap(),
            Verdict::Invalid
        );
        assert_eq!(hasher.verify("", &stored).await.unwrap(), Verdict::Invalid);
        assert_eq!(hasher.operations(), 2);
    }
}
