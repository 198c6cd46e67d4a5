//! `cargo bench -p doorward --bench core`: the costs docs/BENCHMARKS.md
//! reports, beside the hot paths of `benches/hot.rs`.
//!
//! - a rate-limit check in memory
//! - login end to end on SQLite, to compare with one argon2 verification
//! - login on SQLite with the cheapest argon2: what a login costs besides it
//! - asking for a password reset on SQLite, for an address with an account
//!   and for one without: the two must cost the same
//! - a login of an account with a second factor up to its challenge, and
//!   completing one with a recovery code (SQLite, cheapest argon2)
//! - a passkey sign-in's verification (SQLite, a software authenticator;
//!   the ceremony's start and the authenticator's signing are not timed)
//! - an OpenID sign-in's callback against the local test provider
//!   (`tests/oidc/`, when it runs): the state spent, the code traded over
//!   loopback, the ID token checked, the session started (SQLite; the
//!   user's visit to the provider's page is not timed), and starting one

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use doorward::{Config, Doorward};
use tokio::runtime::Runtime;

const PASSWORD: &str = "correct horse battery staple";

fn base(url: &str) -> Config {
    Config {
        database_url: url.into(),
        jwt_secret: Some("benchmark-secret-of-at-least-32-bytes".into()),
        // Measure logins, not the throttle that protects them.
        rate_limit_login_account: "off".into(),
        ..Config::default()
    }
}

fn open(rt: &Runtime, config: Config) -> (Doorward, doorward::Registration) {
    rt.block_on(async {
        let dw = Doorward::open(config).await.unwrap();
        let reg = dw
            .auth()
            .register_user("bench", "bench@example.com", PASSWORD, None)
            .await
            .unwrap();
        (dw, reg)
    })
}

fn rate_limit(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dw = rt.block_on(Doorward::open(base("memory://"))).unwrap();
    // Never exhausted: measures the check, not the refusal.
    let quota: doorward::Quota = "4000000000/1d".parse().unwrap();
    let mut group = c.benchmark_group("rate_limit");
    group.bench_function("memory", |b| {
        b.to_async(&rt)
            .iter(|| async { dw.limits().limit("bench", &quota).await.unwrap() })
    });
    group.finish();
}

fn login(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    let (dw, _) = open(&rt, base(&url));
    let mut group = c.benchmark_group("login");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("sqlite_end_to_end", |b| {
        b.to_async(&rt)
            .iter(|| async { dw.auth().login("bench", PASSWORD, None).await.unwrap() })
    });
    group.finish();
}

/// Everything a login does besides argon2: the hash parameters are the
/// cheapest argon2 accepts (64 KiB, one pass), so the store, the token and
/// the bookkeeping are what is timed, without a subtraction to add noise.
fn login_without_hash(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    let (dw, _) = open(
        &rt,
        Config {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..base(&url)
        },
    );
    c.bench_function("login/sqlite_cheap_hash", |b| {
        b.to_async(&rt)
            .iter(|| async { dw.auth().login("bench", PASSWORD, None).await.unwrap() })
    });
}

/// A reset request stores a flow and its event in one transaction, after two
/// HMACs and a seal, whether the address has an account or not.
fn flows(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("flows.db").display());
    let (dw, _) = open(
        &rt,
        Config {
            // Time the request, not the throttles in front of it; nothing
            // is mailed from here (no dispatcher).
            rate_limit_flow_address: "off".into(),
            flow_resend_cooldown: 0,
            events_dispatch: false,
            ..base(&url)
        },
    );
    let mut group = c.benchmark_group("flows");
    for (name, email) in [
        ("request_reset_known", "bench@example.com"),
        ("request_reset_unknown", "nobody@example.com"),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { dw.auth().request_password_reset(email, None).await.unwrap() })
        });
    }
    group.finish();
}

/// What a second factor adds to a login: the challenge (a pending flow
/// stored instead of a session) and its completion (the flow, the code's
/// conditional spend, then the session), timed apart.
fn mfa(c: &mut Criterion) {
    use totp_rs::{Algorithm, Builder, Secret};
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mfa.db").display());
    let (dw, reg) = open(
        &rt,
        Config {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            events_dispatch: false,
            ..base(&url)
        },
    );
    let mut codes = rt.block_on(async {
        let enrolment = dw.mfa().start_totp(&reg.user.id).await.unwrap();
        let secret = Secret::try_from_base32(&enrolment.secret).unwrap();
        let app = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_secret(secret.as_bytes().to_vec())
            .build()
            .unwrap();
        let code = app.generate_current().to_string();
        dw.mfa()
            .confirm_totp(&reg.user.id, &code)
            .await
            .unwrap()
            .codes
    });
    let challenge = || async {
        match dw.auth().login("bench", PASSWORD, None).await.unwrap() {
            doorward::LoginResult::MfaRequired(c) => c,
            doorward::LoginResult::Tokens(_) => unreachable!("the account has a second factor"),
        }
    };
    let mut group = c.benchmark_group("mfa");
    group.bench_function("login_challenge_sqlite_cheap_hash", |b| {
        b.to_async(&rt).iter(challenge)
    });
    group.bench_function("complete_recovery_code_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let flow = challenge().await;
                    let code = codes.pop().unwrap();
                    let start = std::time::Instant::now();
                    let tokens = dw
                        .auth()
                        .complete_mfa(&flow.flow_id, "recovery_code", &code, None)
                        .await
                        .unwrap();
                    spent += start.elapsed();
                    if codes.is_empty() {
                        codes = dw
                            .mfa()
                            .regenerate_recovery_codes(&tokens.access_token)
                            .await
                            .unwrap()
                            .codes;
                    }
                }
                spent
            })
        })
    });
    group.finish();
}

/// What the relying party does to finish a passkey sign-in: the ceremony
/// consumed, the assertion verified (ES256), the counter recorded and a
/// session started.
fn passkeys(c: &mut Criterion) {
    use webauthn_authenticator_rs::WebauthnAuthenticator as _;
    use webauthn_authenticator_rs::prelude::Url;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    let rt = Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("passkeys.db").display());
    let origin = Url::parse("https://app.example.com").unwrap();
    let (dw, reg) = open(
        &rt,
        Config {
            app_url: origin.to_string(),
            events_dispatch: false,
            ..base(&url)
        },
    );
    let mut device = SoftPasskey::new(true);
    rt.block_on(async {
        let options = dw
            .passkeys()
            .start_registration(&reg.user.id)
            .await
            .unwrap();
        let created = device
            .do_registration(origin.clone(), serde_json::from_value(options).unwrap())
            .unwrap();
        dw.passkeys()
            .finish_registration(
                &reg.user.id,
                &serde_json::to_value(created).unwrap(),
                "bench",
            )
            .await
            .unwrap();
    });
    c.bench_function("passkeys/finish_authentication_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let options = dw
                        .passkeys()
                        .start_authentication(Some("bench"))
                        .await
                        .unwrap();
                    let assertion = device
                        .do_authentication(origin.clone(), serde_json::from_value(options).unwrap())
                        .unwrap();
                    let assertion = serde_json::to_value(assertion).unwrap();
                    let start = std::time::Instant::now();
                    dw.passkeys()
                        .finish_authentication(&assertion, None)
                        .await
                        .unwrap();
                    spent += start.elapsed();
                }
                spent
            })
        })
    });
}

/// The test OpenID provider and the scripted user of the tests.
#[cfg(feature = "oauth")]
#[path = "../tests/common/oidc.rs"]
mod oidc;
#[cfg(feature = "oauth")]
#[path = "../tests/common/services.rs"]
mod services;

#[cfg(feature = "oauth")]
fn oauth(c: &mut Criterion) {
    const CALLBACK: &str = "http://127.0.0.1:1/callback";
    let rt = Runtime::new().unwrap();
    let clients = serde_json::json!([{
        "client_id": "bench",
        "client_secret": "a-client-secret",
        "redirect_uris": [CALLBACK],
    }]);
    let Some((issuer, _)) = rt.block_on(oidc::issuer(clients)) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("oauth.db").display());
    let (dw, _) = open(
        &rt,
        Config {
            events_dispatch: false,
            oauth_providers: vec![doorward::config::OAuthProviderConfig {
                id: "corp".into(),
                issuer: Some(issuer),
                client_id: "bench".into(),
                client_secret: Some("a-client-secret".into()),
                ..Default::default()
            }],
            ..base(&url)
        },
    );
    let mut group = c.benchmark_group("oauth");
    group.sample_size(10);
    group.bench_function("authorization_url_sqlite", |b| {
        b.iter(|| {
            rt.block_on(dw.oauth().authorization_url("corp", CALLBACK))
                .unwrap()
        })
    });
    group.bench_function("complete_sqlite", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let start = dw
                        .oauth()
                        .authorization_url("corp", CALLBACK)
                        .await
                        .unwrap();
                    let callback =
                        oidc::browse(&start.url, "bench@example.org", CALLBACK, false).await;
                    let timed = std::time::Instant::now();
                    dw.oauth()
                        .complete(&callback, Some(&start.state), None)
                        .await
                        .unwrap();
                    spent += timed.elapsed();
                }
                spent
            })
        })
    });
    group.finish();
}

#[cfg(not(feature = "oauth"))]
fn oauth(_: &mut Criterion) {}

criterion_group!(
    benches,
    rate_limit,
    login,
    login_without_hash,
    flows,
    mfa,
    passkeys,
    oauth
);
criterion_main!(benches);
