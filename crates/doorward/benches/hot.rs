//! `cargo bench -p doorward --bench hot`: the calls a host makes on every
//! request, side by side with what they are measured against.
//!
//! - `verify_token`: a stateless HS256 token through doorward (sync and
//!   async) next to a bare `jsonwebtoken::decode` of the same token with
//!   the same `Validation`, the floor doorward's extra checks sit on; the
//!   same for EdDSA; a stateful token whose session this process caches;
//!   and one whose session is read from SQLite on every call.
//!
//! `can` is measured beside casbin-rs in `crates/doorward-peers`.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use doorward::{Config, Doorward};
use serde::Deserialize;
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "benchmark-secret-of-at-least-32-bytes";

fn keys(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/keys")
        .join(name)
        .display()
        .to_string()
}

fn base() -> Config {
    Config {
        database_url: "memory://".into(),
        jwt_secret: Some(SECRET.into()),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        rate_limit_login_account: "off".into(),
        ..Config::default()
    }
}

/// A token's claims as a host decoding it with `jsonwebtoken` alone would
/// declare them.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: String,
    sid: String,
    preferred_username: String,
    roles: Vec<String>,
    iss: String,
    aud: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: String,
    amr: Vec<String>,
    acr: String,
    auth_time: i64,
}

/// The checks doorward asks of `jsonwebtoken` itself.
fn validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.leeway = doorward::token::LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.set_issuer(&["doorward"]);
    v.set_audience(&["doorward"]);
    v
}

/// An instance with `config` and the access token of its one account.
fn open(rt: &Runtime, config: Config) -> (Doorward, String) {
    let dw = rt.block_on(Doorward::open(config)).unwrap();
    let reg = rt
        .block_on(
            dw.auth()
                .register_user("bench", "bench@example.com", PASSWORD, None),
        )
        .unwrap();
    (dw, reg.tokens.access_token)
}

fn verify(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let mut group = c.benchmark_group("verify_token");
    let eddsa = Config {
        jwt_secret: None,
        jwt_algorithm: "EdDSA".into(),
        jwt_private_key: Some(keys("ed25519.pem").into()),
        jwt_public_key: Some(keys("ed25519.pub.pem")),
        ..base()
    };
    let public_pem = std::fs::read(keys("ed25519.pub.pem")).unwrap();
    let cases = [
        (
            "hs256",
            base(),
            jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        ),
        (
            "eddsa",
            eddsa,
            jsonwebtoken::DecodingKey::from_ed_pem(&public_pem).unwrap(),
            jsonwebtoken::Algorithm::EdDSA,
        ),
    ];
    for (name, config, key, alg) in cases {
        let (dw, token) = open(
            &rt,
            Config {
                stateless_verify: true,
                ..config
            },
        );
        let validation = validation(alg);
        jsonwebtoken::decode::<Claims>(&token, &key, &validation).unwrap();
        group.bench_function(format!("{name}/jsonwebtoken_decode"), |b| {
            b.iter(|| jsonwebtoken::decode::<Claims>(&token, &key, &validation).unwrap())
        });
        group.bench_function(format!("{name}/stateless_sync"), |b| {
            b.iter(|| dw.auth().verify_token_sync(&token).unwrap())
        });
        group.bench_function(format!("{name}/stateless_async"), |b| {
            b.to_async(&rt)
                .iter(|| async { dw.auth().verify_token(&token).await.unwrap() })
        });
    }
    let (dw, token) = open(
        &rt,
        Config {
            session_cache_ttl: 300,
            ..base()
        },
    );
    rt.block_on(dw.auth().verify_token(&token)).unwrap();
    group.bench_function("hs256/session_l1_hit_sync", |b| {
        b.iter(|| dw.auth().verify_token_sync(&token).unwrap())
    });
    // The slow road: the session read from a SQLite file on every call.
    let dir = tempfile::tempdir().unwrap();
    let (dw, token) = open(
        &rt,
        Config {
            database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
            ..base()
        },
    );
    group.bench_function("hs256/stateful_sqlite_async", |b| {
        b.to_async(&rt)
            .iter(|| async { dw.auth().verify_token(&token).await.unwrap() })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
