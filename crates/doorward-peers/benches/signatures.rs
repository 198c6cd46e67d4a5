//! `cargo bench -p doorward-peers --bench signatures`: the signature check
//! inside a token verification, through each backend `jsonwebtoken` can be
//! built with, on one doorward access token.
//!
//! - `jsonwebtoken_aws_lc`: `jsonwebtoken::crypto::verify`, what doorward
//!   calls for RS256 and ES256, built with its `aws_lc_rs` backend: the key
//!   is parsed again on every call.
//! - `dalek_verify` / `hmac_keyed`: RustCrypto (`ed25519-dalek`, `hmac`,
//!   what the `rust_crypto` backend calls) with the key parsed (or the HMAC
//!   keyed) once: what doorward does for Ed25519 and HS256.
//!   `dalek_strict` is ed25519-dalek's `verify_strict`, which also refuses
//!   keys and nonces of small order.
//! - `aws_lc_unparsed` / `aws_lc_parsed`: AWS-LC (`aws-lc-rs`) called
//!   directly, the key parsed per call and once.
//! - `dalek_batch_16`: 16 signatures checked as one batch
//!   (`verify_batch`, as doorward checks the tokens verified together), the
//!   time given per signature.
//!
//! - `all_cores`: doorward's single check (`dalek_verify`) on every core
//!   at once, one thread each, the time given per check: 1 s over it is
//!   the most checks a second this machine makes one signature at a time,
//!   the ceiling of any binding's multi-threaded rate when each call brings
//!   one token. On a virtual machine whose vCPUs are hyperthreads of one
//!   core, or share a host, it is less than the cores times the one-thread
//!   rate. `all_cores_batch_16`: the same with batches of 16.
//!
//! The base64url decoding of the signature is in every case.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use doorward::{Config, Doorward};

const SECRET: &str = "benchmark-secret-of-at-least-32-bytes";

fn keys(name: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/keys")
        .join(name)
        .display()
        .to_string()
}

/// An access token of an instance with `config`'s keys.
fn token(config: Config) -> String {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let dw = Doorward::open(Config {
            database_url: "memory://".into(),
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..config
        })
        .await
        .unwrap();
        dw.auth()
            .register_user("bench", "bench@example.com", "correct horse battery", None)
            .await
            .unwrap()
            .tokens
            .access_token
    })
}

/// The raw 32 bytes of an Ed25519 SubjectPublicKeyInfo PEM.
fn raw_public_key(pem: &str) -> [u8; 32] {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    der[der.len() - 32..].try_into().unwrap()
}

fn split(token: &str) -> (&str, &str) {
    token.rsplit_once('.').unwrap()
}

fn eddsa(c: &mut Criterion) {
    let pem = std::fs::read_to_string(keys("ed25519.pub.pem")).unwrap();
    let token = token(Config {
        jwt_algorithm: "EdDSA".into(),
        jwt_private_key: Some(keys("ed25519.pem").into()),
        jwt_public_key: Some(pem.clone()),
        ..Config::default()
    });
    let (message, signature) = split(&token);
    let raw = raw_public_key(&pem);
    let decoding = jsonwebtoken::DecodingKey::from_ed_pem(pem.as_bytes()).unwrap();
    let dalek = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let aws_parsed =
        aws_lc_rs::signature::ParsedPublicKey::new(&aws_lc_rs::signature::ED25519, raw).unwrap();
    let dalek_signature = || {
        let sig: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap()
            .try_into()
            .unwrap();
        ed25519_dalek::Signature::from_bytes(&sig)
    };
    let single = || {
        use ed25519_dalek::Verifier as _;
        dalek.verify(message.as_bytes(), &dalek_signature()).is_ok()
    };
    const BATCH: usize = 16;
    let batch = || {
        let signatures: Vec<_> = (0..BATCH).map(|_| dalek_signature()).collect();
        ed25519_dalek::verify_batch(&[message.as_bytes(); BATCH], &signatures, &[dalek; BATCH])
            .is_ok()
    };

    let mut group = c.benchmark_group("ed25519_verify");
    group.bench_function("jsonwebtoken_aws_lc", |b| {
        b.iter(|| {
            assert!(
                jsonwebtoken::crypto::verify(
                    signature,
                    message.as_bytes(),
                    &decoding,
                    jsonwebtoken::Algorithm::EdDSA
                )
                .unwrap()
            )
        })
    });
    group.bench_function("dalek_verify", |b| b.iter(|| assert!(single())));
    group.bench_function("dalek_strict", |b| {
        b.iter(|| {
            dalek
                .verify_strict(message.as_bytes(), &dalek_signature())
                .unwrap()
        })
    });
    group.bench_function("aws_lc_unparsed", |b| {
        b.iter(|| {
            let sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
            aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, &raw)
                .verify(message.as_bytes(), &sig)
                .unwrap()
        })
    });
    group.bench_function("aws_lc_parsed", |b| {
        b.iter(|| {
            let sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
            aws_parsed.verify_sig(message.as_bytes(), &sig).unwrap()
        })
    });
    group.bench_function("dalek_batch_16", |b| {
        b.iter_custom(|iters| {
            let began = std::time::Instant::now();
            for _ in 0..iters {
                assert!(batch());
            }
            began.elapsed() / BATCH as u32
        })
    });
    group.bench_function("all_cores", |b| {
        b.iter_custom(|iters| on_every_core(iters, || assert!(single())))
    });
    group.bench_function("all_cores_batch_16", |b| {
        b.iter_custom(|iters| on_every_core(iters, || assert!(batch())) / BATCH as u32)
    });
    group.finish();
}

/// The time `check` takes when every core runs it `iters` times from the
/// same start: the wall time over all of them.
fn on_every_core(iters: u64, check: impl Fn() + Sync) -> std::time::Duration {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = std::sync::Barrier::new(cores + 1);
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| {
                start.wait();
                for _ in 0..iters {
                    check();
                }
            });
        }
        start.wait();
        let began = std::time::Instant::now();
        // The scope joins every thread before it returns.
        began
    })
    .elapsed()
        / cores as u32
}

fn hs256(c: &mut Criterion) {
    use hmac::Mac as _;
    let token = token(Config {
        jwt_secret: Some(SECRET.into()),
        ..Config::default()
    });
    let (message, signature) = split(&token);
    let decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    let aws_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());

    let mut group = c.benchmark_group("hs256_verify");
    group.bench_function("jsonwebtoken_aws_lc", |b| {
        b.iter(|| {
            assert!(
                jsonwebtoken::crypto::verify(
                    signature,
                    message.as_bytes(),
                    &decoding,
                    jsonwebtoken::Algorithm::HS256
                )
                .unwrap()
            )
        })
    });
    group.bench_function("hmac_keyed", |b| {
        b.iter(|| {
            let sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
            let mut mac = keyed.clone();
            mac.update(message.as_bytes());
            mac.verify_slice(&sig).unwrap()
        })
    });
    group.bench_function("aws_lc_parsed", |b| {
        b.iter(|| {
            let sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
            aws_lc_rs::hmac::verify(&aws_key, message.as_bytes(), &sig).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, eddsa, hs256);
criterion_main!(benches);
