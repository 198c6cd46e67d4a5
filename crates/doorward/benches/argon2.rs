//! `cargo bench -p doorward --bench argon2`: doorward's hasher beside the
//! bare engines, argon2id at m=19456 KiB, t=2, p=1, one computation in
//! flight.
//!
//! - `doorward/hash`, `doorward/verify`: `Hasher` end to end (a permit, the
//!   blocking pool, a pooled engine, the PHC string).
//! - `argon2_rust/hash_into`: the engine doorward computes with (the one
//!   @node-rs/argon2 runs), bare, its arena reused, the floor doorward's
//!   hashing sits on.
//! - `argon2_crate/hash_password`: RustCrypto's `PasswordHasher`, which
//!   allocates and zero-fills its 19 MiB on every call.
//! - `argon2_crate/hash_password_into_with_memory`: RustCrypto's computation
//!   into one buffer reused across calls.
//!
//! The C reference (argon2-cffi) and @node-rs/argon2 are compared by
//! `python/bench/compare.py` and `node/bench/compare.mjs`.

use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use criterion::{Criterion, criterion_group, criterion_main};
use doorward::password::{HashParams, Hasher};
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";

fn doorward(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let hasher = Hasher::new(HashParams::default(), 1).unwrap();
    let phc = rt.block_on(hasher.hash(PASSWORD)).unwrap();
    let mut group = c.benchmark_group("doorward");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("hash", |b| {
        b.to_async(&rt)
            .iter(|| async { hasher.hash(PASSWORD).await.unwrap() })
    });
    group.bench_function("verify", |b| {
        b.to_async(&rt)
            .iter(|| async { hasher.verify(PASSWORD, &phc).await.unwrap() })
    });
    group.finish();
}

fn argon2_crate(c: &mut Criterion) {
    let defaults = HashParams::default();
    let params = Params::new(
        defaults.memory_kib,
        defaults.iterations,
        defaults.parallelism,
        Some(32),
    )
    .unwrap();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut group = c.benchmark_group("argon2_crate");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("hash_password", |b| {
        b.iter(|| argon2.hash_password(PASSWORD.as_bytes(), &salt).unwrap())
    });
    let mut memory = vec![Block::new(); params.block_count()];
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).unwrap();
    group.bench_function("hash_password_into_with_memory", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            argon2
                .hash_password_into_with_memory(
                    PASSWORD.as_bytes(),
                    salt_bytes,
                    &mut out,
                    &mut memory,
                )
                .unwrap();
            out
        })
    });
    group.finish();
}

fn argon2_rust(c: &mut Criterion) {
    let defaults = HashParams::default();
    let params = argon2_rust::Params::builder()
        .memory(argon2_rust::params::Memory::kib(u64::from(
            defaults.memory_kib,
        )))
        .passes(defaults.iterations)
        .lanes(defaults.parallelism)
        .build()
        .unwrap();
    let mut hasher = argon2_rust::Argon2::new(
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
        params,
    )
    .hasher();
    let mut group = c.benchmark_group("argon2_rust");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("hash_into", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            hasher
                .hash_into(PASSWORD.as_bytes(), b"somesaltsomesalt", &mut out)
                .unwrap();
            out
        })
    });
    group.finish();
}

criterion_group!(benches, doorward, argon2_rust, argon2_crate);
criterion_main!(benches);
