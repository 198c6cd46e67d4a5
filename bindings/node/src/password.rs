//! `PasswordHasher`: the core's argon2id hashing on its own, for hosts that
//! hash other secrets or migrate from `argon2` / `@node-rs/argon2`.

use doorward::password::{HashParams, Hasher, Verdict};
use napi_derive::napi;

use crate::error::{guarded, to_js};

/// Hashing options; absent ones are OWASP's (m=19456 KiB, t=2, p=1), and
/// `concurrency` (hashes at once) defaults to the number of cores.
#[napi(object)]
#[derive(Debug, Default)]
pub struct HasherOptions {
    pub memory_kib: Option<u32>,
    pub iterations: Option<u32>,
    pub parallelism: Option<u32>,
    pub concurrency: Option<u32>,
}

/// Argon2id hashing with the core's parameters and caps, off the event loop.
#[napi]
#[derive(Debug)]
pub struct PasswordHasher {
    hasher: Hasher,
}

#[napi]
impl PasswordHasher {
    #[napi(constructor)]
    pub fn new(options: Option<HasherOptions>) -> napi::Result<Self> {
        let options = options.unwrap_or_default();
        let defaults = HashParams::default();
        let params = HashParams {
            memory_kib: options.memory_kib.unwrap_or(defaults.memory_kib),
            iterations: options.iterations.unwrap_or(defaults.iterations),
            parallelism: options.parallelism.unwrap_or(defaults.parallelism),
        };
        let concurrency = options.concurrency.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |c| c as usize,
        );
        let hasher = Hasher::new(params, concurrency).map_err(to_js)?;
        Ok(PasswordHasher { hasher })
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    #[napi]
    pub async fn hash(&self, password: String) -> napi::Result<String> {
        guarded(self.hasher.hash(&password)).await
    }

    /// Whether `password` matches the PHC string `hash`. A hash that cannot
    /// be parsed, or asks for more than the caps allow, rejects with
    /// `internal`.
    #[napi]
    pub async fn verify(&self, password: String, hash: String) -> napi::Result<bool> {
        guarded(self.hasher.verify(&password, &hash))
            .await
            .map(|v| v != Verdict::Invalid)
    }
}
