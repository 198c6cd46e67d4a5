//! The argon2 computation, and the memory it fills kept between hashes.
//!
//! Each computation needs `m` KiB of blocks (19 MiB at the defaults).
//! Allocating them per hash costs a 19 MiB zero fill and page faults every
//! time, and, since every blocking thread keeps its own malloc arena,
//! resident memory that grows with the number of threads that ever hashed.
//! The pool keeps one `argon2_rust::Hasher` (an engine holding its arena)
//! per hash in flight instead: one is taken with a hash permit and given
//! back after, so there are never more than `hash_concurrency` arenas, and
//! they are allocated on first use, so a hasher that never hashes costs
//! nothing. The arena is wiped as each hash returns (`zeroize-memory`),
//! which is also the next hash's zeroing.
//!
//! The computation is `argon2-rust`'s, a port of the reference C with
//! AVX-512/AVX2/SSE2/NEON kernels picked at run time: it hashes in half
//! the time of RustCrypto's `argon2` here (`benches/argon2.rs`). RustCrypto's
//! `password_hash` types still read and write the PHC strings, so strings
//! and verdicts stay those of `argon2`'s `PasswordHasher` and
//! `PasswordVerifier`; the tests check both engines give the same bytes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Params, Version};
use argon2_rust::params::{Memory, TagLen};
use subtle::ConstantTimeEq as _;

use crate::error::{Error, Result};

/// The length of the salt of a new hash, as `argon2`'s `SaltString`
/// generates it.
const SALT_LEN: usize = 16;

/// Engines with their arenas, at most one per hash permit.
pub(crate) struct Pool {
    /// The configured parameters: those of new hashes and of the dummy.
    params: Params,
    /// Their engine, whose block count is the largest arena kept.
    engine: argon2_rust::Argon2,
    free: Mutex<Vec<argon2_rust::Hasher>>,
    /// Arenas allocated so far, for the tests' evidence that reuse happens.
    allocated: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("params", &self.params)
            .field("allocated", &self.allocated.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// An empty pool hashing under `params`, its arenas sized to them.
    pub(crate) fn new(params: &Params) -> Result<Pool> {
        let engine = engine(Algorithm::Argon2id, Version::V0x13, params)
            .map_err(|e| Error::Config(format!("invalid argon2 parameters: {e}")))?;
        Ok(Pool {
            params: params.clone(),
            engine,
            free: Mutex::new(Vec::new()),
            allocated: AtomicUsize::new(0),
        })
    }

    /// How many arenas the pool has allocated since it was made.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> usize {
        self.allocated.load(Ordering::Relaxed)
    }

    /// Computes `engine` into `out`: in a pooled arena when its blocks fit,
    /// otherwise in memory of this call alone (a stored hash with larger
    /// parameters than the configured ones, rehashed at its next login).
    /// Called with a hash permit held, which is what bounds the arenas.
    fn compute(
        &self,
        engine: argon2_rust::Argon2,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> std::result::Result<(), argon2_rust::Error> {
        if engine.params().memory_blocks() > self.engine.params().memory_blocks() {
            return engine.hash_into(password, salt, out);
        }
        // A poisoned lock only means a hash panicked elsewhere; the list of
        // engines is still a list of engines.
        let pooled = self
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        let mut hasher = match pooled {
            Some(mut hasher) => {
                hasher.set_argon2(engine);
                hasher
            }
            None => {
                self.allocated.fetch_add(1, Ordering::Relaxed);
                engine.hasher()
            }
        };
        let result = hasher.hash_into(password, salt, out);
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(hasher);
        result
    }

    /// A new argon2id PHC string for `password` under the configured
    /// parameters, with a random salt.
    pub(crate) fn hash(&self, password: &[u8]) -> Result<String> {
        let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("hashing failed: {e}"));
        let mut salt = [0u8; SALT_LEN];
        OsRng.fill_bytes(&mut salt);
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out
            .get_mut(..self.engine.params().tag_len_bytes())
            .ok_or_else(|| failed(&"output too long"))?;
        self.compute(self.engine, password, &salt, out)
            .map_err(|e| failed(&e))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
        argon2id_phc(&self.params, &salt, out)
    }

    /// Whether `password` is the one `phc` (an argon2 PHC string whose
    /// parameters were already capped) was made from.
    ///
    /// Recomputes with the stored algorithm, version, parameters, salt and
    /// output length, as `argon2`'s `PasswordVerifier` does; a string it
    /// cannot recompute (no salt or hash, an unknown version or parameter)
    /// matches nothing, as there.
    pub(crate) fn verify(&self, password: &[u8], phc: &str) -> Result<bool> {
        let stored = PasswordHash::new(phc)
            .map_err(|_| Error::Internal("stored password hash changed".into()))?;
        let (Some(salt), Some(expected)) = (stored.salt, stored.hash.as_ref()) else {
            return Ok(false);
        };
        let recipe = (|| {
            let algorithm = Algorithm::try_from(stored.algorithm)?;
            let version = stored
                .version
                .map(Version::try_from)
                .transpose()?
                .unwrap_or_default();
            // The stored output's length included.
            let params = Params::try_from(&stored)?;
            Ok::<_, argon2::password_hash::Error>((algorithm, version, params))
        })();
        let Ok((algorithm, version, params)) = recipe else {
            return Ok(false);
        };
        let Ok(engine) = engine(algorithm, version, &params) else {
            return Ok(false);
        };
        let mut salt_buf = [0u8; Salt::MAX_LENGTH];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return Ok(false);
        };
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = &mut out[..expected.len()];
        let computed = self.compute(engine, password, salt, out);
        Ok(computed.is_ok() && bool::from(expected.as_bytes().ct_eq(out)))
    }

    /// A well-formed argon2id PHC string under the configured parameters,
    /// with a random salt and output: it matches no password, and verifying
    /// against it costs one full computation, which is what logins of
    /// unknown accounts spend.
    pub(crate) fn dummy(&self) -> Result<String> {
        let mut output = [0u8; Output::MAX_LENGTH];
        let output = output
            .get_mut(..self.engine.params().tag_len_bytes())
            .ok_or_else(|| Error::Internal("argon2 output too long".into()))?;
        OsRng.fill_bytes(output);
        argon2id_phc(&self.params, &SaltString::generate(&mut OsRng), output)
    }
}

/// `argon2-rust`'s engine for what `argon2`'s types describe.
fn engine(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
) -> std::result::Result<argon2_rust::Argon2, argon2_rust::Error> {
    let algorithm = match algorithm {
        Algorithm::Argon2d => argon2_rust::Algorithm::Argon2d,
        Algorithm::Argon2i => argon2_rust::Algorithm::Argon2i,
        Algorithm::Argon2id => argon2_rust::Algorithm::Argon2id,
    };
    let version = match version {
        Version::V0x10 => argon2_rust::Version::V0x10,
        Version::V0x13 => argon2_rust::Version::V0x13,
    };
    let params = argon2_rust::Params::builder()
        .memory(Memory::kib(u64::from(params.m_cost())))
        .passes(params.t_cost())
        .lanes(params.p_cost())
        .tag_len(TagLen::bytes(
            params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN) as u64,
        ))
        .build()?;
    Ok(argon2_rust::Argon2::new(algorithm, version, params))
}

/// `$argon2id$v=19$m=…,t=…,p=…$salt$output`, as `argon2`'s own
/// `PasswordHasher` writes it.
fn argon2id_phc(params: &Params, salt: &SaltString, output: &[u8]) -> Result<String> {
    let failed = |e: argon2::password_hash::Error| Error::Internal(format!("hashing failed: {e}"));
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(failed)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(output).map_err(failed)?),
    };
    Ok(phc.to_string())
}

#[cfg(test)]
mod tests {
    use argon2::Argon2;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn params(memory_kib: u32, iterations: u32) -> Params {
        Params::new(memory_kib, iterations, 1, Some(32)).unwrap()
    }

    #[test]
    fn hashes_are_argon2s_own_strings_and_verify_both_ways() {
        let p = params(64, 2);
        let pool = Pool::new(&p).unwrap();
        let phc = pool.hash(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=2,p=1$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // Recomputing the same salt through argon2's own hasher gives the
        // same string, byte for byte.
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.clone());
        let theirs = argon2
            .hash_password(b"correct horse", parsed.salt.unwrap())
            .unwrap()
            .to_string();
        assert_eq!(phc, theirs);
        assert!(pool.verify(b"correct horse", &phc).unwrap());
        assert!(!pool.verify(b"correct horsf", &phc).unwrap());
    }

    #[test]
    fn a_reused_buffer_gives_what_a_fresh_one_gives() {
        let p = params(256, 2);
        let pool = Pool::new(&p).unwrap();
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.clone());
        for password in [&b"first"[..], b"second", b"first"] {
            let fresh = argon2.hash_password(password, &salt).unwrap().to_string();
            // The pooled buffer holds the previous password's blocks.
            assert!(pool.verify(password, &fresh).unwrap());
        }
        assert_eq!(pool.allocated(), 1);
    }

    #[test]
    fn other_variants_lengths_and_sizes_verify() {
        let pool = Pool::new(&params(64, 1)).unwrap();
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        for (algorithm, version) in [
            (Algorithm::Argon2i, Version::V0x13),
            (Algorithm::Argon2d, Version::V0x13),
            (Algorithm::Argon2id, Version::V0x10),
        ] {
            // Smaller than the pool's buffers, larger, and a 16-byte output.
            for (m, len) in [(32, 32), (128, 16), (64, 64)] {
                let p = Params::new(m, 1, 1, Some(len)).unwrap();
                let phc = Argon2::new(algorithm, version, p)
                    .hash_password(b"pw", &salt)
                    .unwrap()
                    .to_string();
                assert!(pool.verify(b"pw", &phc).unwrap(), "{phc}");
                assert!(!pool.verify(b"pv", &phc).unwrap(), "{phc}");
            }
        }
        // The larger parameters were computed in memory of their own.
        assert_eq!(pool.allocated(), 1);
    }

    #[test]
    fn strings_it_cannot_recompute_match_nothing() {
        let pool = Pool::new(&params(64, 1)).unwrap();
        for phc in [
            "$argon2id$v=19$m=64,t=1,p=1",
            "$argon2id$v=18$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=64,t=1,p=1,x=2$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        ] {
            assert!(!pool.verify(b"pw", phc).unwrap(), "{phc}");
        }
        assert_eq!(pool.allocated(), 0);
    }

    /// The engine against RustCrypto's `argon2` on 200 drawn recipes: every
    /// variant and version, 1 to 4 lanes, 8 to 600 KiB, 1 to 3 passes, 4 to
    /// 64 bytes of output, passwords and salts of many lengths, reusing
    /// arenas of every size in between.
    #[test]
    fn the_engine_gives_rustcryptos_bytes() {
        let pool = Pool::new(&params(256, 1)).unwrap();
        // xorshift: the same draws on every run, so a failure reproduces.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut draw = |below: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % below
        };
        for case in 0..200 {
            let algorithm =
                [Algorithm::Argon2d, Algorithm::Argon2i, Algorithm::Argon2id][draw(3) as usize];
            let version = [Version::V0x10, Version::V0x13][draw(2) as usize];
            let lanes = 1 + draw(4) as u32;
            let memory = 8 * lanes + draw(600 - 8 * u64::from(lanes)) as u32;
            let passes = 1 + draw(3) as u32;
            let len = 4 + draw(61) as usize;
            let password: Vec<u8> = (0..draw(80)).map(|_| draw(256) as u8).collect();
            let salt: Vec<u8> = (0..8 + draw(40)).map(|_| draw(256) as u8).collect();
            let p = Params::new(memory, passes, lanes, Some(len)).unwrap();

            let mut theirs = vec![0u8; len];
            Argon2::new(algorithm, version, p.clone())
                .hash_password_into(&password, &salt, &mut theirs)
                .unwrap();
            let mut ours = vec![0u8; len];
            pool.compute(
                engine(algorithm, version, &p).unwrap(),
                &password,
                &salt,
                &mut ours,
            )
            .unwrap();
            assert_eq!(
                ours, theirs,
                "case {case}: {algorithm:?} {version:?} m={memory} t={passes} p={lanes} len={len}"
            );
        }
        assert_eq!(pool.allocated(), 1);
    }
}
