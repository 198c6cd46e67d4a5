//! `cargo bench -p doorward --features postgres,redis --bench services`:
//! the numbers of docs/BENCHMARKS.md that need PostgreSQL and Redis.
//!
//! Prints a table:
//! - `verify_token` with the session in Redis: p50 / p99 / mean over
//!   sequential calls on loopback;
//! - a rate-limit check in memory and in Redis: p50 / p99;
//! - login throughput on PostgreSQL + Redis with 1, 2, 8 and 32 concurrent
//!   clients, against the argon2 bound (cores ÷ one verification's time);
//!   one client shows the cost of a login beyond its hash.
//!
//! Where: `DOORWARD_TEST_POSTGRES_URL` and `DOORWARD_TEST_REDIS_URL` (the
//! test defaults on 127.0.0.1), found as the tests find them: the tables go
//! into a fresh schema, which a later run drops. Run as a test (`cargo test --bench
//! services`, as CI does) it does a few iterations of each to prove it
//! works, and times nothing worth reading.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use doorward::password::{HashParams, Hasher};
use doorward::{Config, Doorward, Quota};

/// The tests' service helpers: a fresh PostgreSQL schema, the Redis URL.
#[path = "../tests/common/services.rs"]
mod services;

const PASSWORD: &str = "correct horse battery staple";

struct Scale {
    samples: usize,
    login_window: Duration,
}

/// p50, p99 and mean of `samples` runs of `op`, in microseconds.
async fn percentiles<F, Fut>(samples: usize, mut op: F) -> (f64, f64, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..samples.min(200) {
        op().await; // warm up
    }
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let start = Instant::now();
        op().await;
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    (at(0.50), at(0.99), mean)
}

fn config(database_url: &str, redis_url: &str) -> Config {
    Config {
        database_url: database_url.into(),
        redis_url: Some(redis_url.into()),
        redis_prefix: format!("dwbench:{}:", uuid::Uuid::new_v4().simple()),
        jwt_secret: Some("benchmark-secret-of-at-least-32-bytes".into()),
        // Measure logins, not the throttles that protect them.
        rate_limit_login_account: "off".into(),
        rate_limit_login_ip: "off".into(),
        database_max_connections: 40,
        ..Config::default()
    }
}

fn row(name: &str, what: &str, value: String) {
    println!("| {name} | {what} | {value} |");
}

async fn run(scale: Scale) {
    let (Some(pg_url), Some(redis_url)) =
        (services::postgres_url().await, services::redis_url().await)
    else {
        return;
    };
    let dw = Doorward::open(config(&pg_url, &redis_url))
        .await
        .expect("doorward opens on PostgreSQL + Redis");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    println!("| benchmark | what | result |");
    println!("|---|---|---|");

    // verify_token with the session in Redis.
    let reg = dw
        .auth()
        .register_user("bench", "bench@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = reg.tokens.access_token.clone();
    let (p50, p99, mean) = percentiles(scale.samples, || async {
        dw.auth().verify_token(&token).await.unwrap();
    })
    .await;
    row(
        "verify_token, session in Redis",
        "HS256 verify + one Redis GET (loopback)",
        format!("p50 {p50:.1} µs, p99 {p99:.1} µs, mean {mean:.1} µs"),
    );

    // Rate limits.
    let quota: Quota = "4000000000/1d".parse().unwrap();
    let local = Doorward::open(Config {
        database_url: "memory://".into(),
        ..config("memory://", &redis_url)
    })
    .await
    .unwrap();
    let memory_only = Doorward::open(Config {
        redis_url: None,
        ..config("memory://", &redis_url)
    })
    .await
    .unwrap();
    let (p50, p99, _) = percentiles(scale.samples, || async {
        memory_only.limits().limit("bench", &quota).await.unwrap();
    })
    .await;
    row(
        "rate limit, memory",
        "one GCRA step in process",
        format!("p50 {p50:.2} µs, p99 {p99:.2} µs"),
    );
    let (p50, p99, _) = percentiles(scale.samples, || async {
        local.limits().limit("bench", &quota).await.unwrap();
    })
    .await;
    row(
        "rate limit, Redis",
        "one EVALSHA of the GCRA script (loopback)",
        format!("p50 {p50:.1} µs, p99 {p99:.1} µs"),
    );

    // The argon2 bound: cores ÷ one verification's time.
    let hasher = Hasher::new(HashParams::default(), 1).unwrap();
    let phc = hasher.hash(PASSWORD).await.unwrap();
    let verifications = if scale.samples > 100 { 40 } else { 2 };
    let start = Instant::now();
    for _ in 0..verifications {
        hasher.verify(PASSWORD, &phc).await.unwrap();
    }
    let verify_time = start.elapsed().as_secs_f64() / verifications as f64;
    let bound = cores as f64 / verify_time;
    row(
        "argon2 bound",
        &format!(
            "{cores} cores ÷ {:.2} ms per verification",
            verify_time * 1e3
        ),
        format!("{bound:.1} logins/s"),
    );

    // Login throughput with N concurrent clients, one account each.
    for clients in [1usize, 2, 8, 32] {
        let names: Vec<String> = (0..clients).map(|i| format!("load{clients}x{i}")).collect();
        for name in &names {
            dw.users()
                .create(name, &format!("{name}@example.com"), PASSWORD)
                .await
                .unwrap();
        }
        let done = Arc::new(AtomicU64::new(0));
        let deadline = Instant::now() + scale.login_window;
        let start = Instant::now();
        let tasks: Vec<_> = names
            .into_iter()
            .map(|name| {
                let (dw, done) = (dw.clone(), done.clone());
                tokio::spawn(async move {
                    while Instant::now() < deadline {
                        dw.auth().login(&name, PASSWORD, None).await.unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
        row(
            &format!("login, {clients} clients"),
            "PostgreSQL + Redis, end to end",
            format!(
                "{rate:.1} logins/s = {:.0}% of the bound",
                100.0 * rate / bound
            ),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let scale = if bench {
        Scale {
            samples: 20_000,
            login_window: Duration::from_secs(10),
        }
    } else {
        Scale {
            samples: 50,
            login_window: Duration::from_millis(200),
        }
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(scale));
}
