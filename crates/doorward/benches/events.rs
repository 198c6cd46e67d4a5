//! `cargo bench -p doorward --all-features --bench events`: the events
//! numbers of docs/BENCHMARKS.md.
//!
//! Prints two tables:
//! - events per second from commit to a loopback webhook receiver, on a
//!   SQLite file and (when reachable) PostgreSQL: end to end (writes and
//!   deliveries running together), the drain rate of a backlog that an
//!   instance without a dispatcher committed, and the rate at which the
//!   outbox retention then removes those delivered events;
//! - what the dispatcher costs a registration: registrations per second
//!   (default argon2 parameters) with `events_dispatch` on, with a webhook
//!   and the audit log being fed, against off. The outbox row itself is
//!   written either way: it is part of the registration's transaction.
//!
//! Run as a test (`cargo test --bench events`, as CI does) it does a few of
//! each to prove it works, and times nothing worth reading.

use std::time::{Duration, Instant};

use doorward::{Config, Doorward};

#[path = "../tests/common/receiver.rs"]
mod receiver;
#[path = "../tests/common/services.rs"]
mod services;

struct Scale {
    events: usize,
    registrations: usize,
}

fn config(database_url: &str) -> Config {
    Config {
        database_url: database_url.into(),
        jwt_secret: Some("benchmark-secret-of-at-least-32-bytes".into()),
        events_poll_interval_ms: 50,
        // The receiver listens on loopback.
        webhook_allow_private: true,
        ..Config::default()
    }
}

/// Time until the receiver holds `n` requests.
async fn until_received(r: &std::sync::Mutex<receiver::Received>, n: usize) -> Duration {
    let start = Instant::now();
    loop {
        if r.lock().unwrap().requests.len() >= n {
            return start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(600) {
            panic!("only {} of {n} delivered", r.lock().unwrap().requests.len());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// (end-to-end events/s, drain events/s) on `url` (a fresh database).
async fn delivery(url_end_to_end: &str, url_drain: &str, n: usize) -> (f64, f64) {
    // End to end: roles created (one event each) while the dispatcher runs.
    let (hook, received) = receiver::receiver(vec![]).await;
    let dw = Doorward::open(config(url_end_to_end)).await.unwrap();
    dw.webhooks().add(&hook, &[]).await.unwrap();
    let start = Instant::now();
    for i in 0..n {
        dw.roles()
            .create(&format!("r{i}"), &["x:y"], "")
            .await
            .unwrap();
    }
    until_received(&received, n).await;
    let end_to_end = n as f64 / start.elapsed().as_secs_f64();
    drop(dw);

    // Drain: a backlog committed with no dispatcher, then delivered.
    let (hook, received) = receiver::receiver(vec![]).await;
    let quiet = Doorward::open(Config {
        events_dispatch: false,
        ..config(url_drain)
    })
    .await
    .unwrap();
    quiet.webhooks().add(&hook, &[]).await.unwrap();
    for i in 0..n {
        quiet
            .roles()
            .create(&format!("r{i}"), &["x:y"], "")
            .await
            .unwrap();
    }
    drop(quiet);
    let start = Instant::now();
    let dw = Doorward::open(config(url_drain)).await.unwrap();
    until_received(&received, n).await;
    let drain = n as f64 / start.elapsed().as_secs_f64();
    drop(dw);
    (end_to_end, drain)
}

/// Events per second the outbox retention removes from `url`, which holds
/// `n` delivered events: the time from opening an instance with a
/// one-second retention until only the newest event is left.
async fn prune(url: &str, n: usize) -> f64 {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let start = Instant::now();
    let dw = Doorward::open(Config {
        events_retention_secs: 1,
        ..config(url)
    })
    .await
    .unwrap();
    while dw.events().list(None, 2).await.unwrap().items.len() > 1 {
        assert!(start.elapsed() < Duration::from_secs(600), "not pruned");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (n - 1) as f64 / start.elapsed().as_secs_f64()
}

/// Registrations per second on a fresh SQLite file, dispatcher on or off.
async fn registrations(dir: &std::path::Path, n: usize, dispatch: bool) -> f64 {
    let url = format!(
        "sqlite://{}",
        dir.join(format!("reg-{dispatch}.db")).display()
    );
    let (hook, _received) = receiver::receiver(vec![]).await;
    let dw = Doorward::open(Config {
        events_dispatch: dispatch,
        ..config(&url)
    })
    .await
    .unwrap();
    dw.webhooks().add(&hook, &[]).await.unwrap();
    let start = Instant::now();
    for i in 0..n {
        dw.auth()
            .register_user(
                &format!("user{i}"),
                &format!("user{i}@example.com"),
                "correct horse battery staple",
                None,
            )
            .await
            .unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let scale = if bench {
        Scale {
            events: 5000,
            registrations: 100,
        }
    } else {
        Scale {
            events: 20,
            registrations: 3,
        }
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        println!(
            "events per second, commit to webhook receiver ({} events)",
            scale.events
        );
        println!("| store | end to end | drain a backlog | prune once delivered |");
        println!("|---|---|---|---|");
        let (e2e, drain) = delivery(&sqlite("e2e.db"), &sqlite("drain.db"), scale.events).await;
        let pruned = prune(&sqlite("drain.db"), scale.events).await;
        println!("| SQLite file | {e2e:.0}/s | {drain:.0}/s | {pruned:.0}/s |");
        let pg = (
            services::postgres_url().await,
            services::postgres_url().await,
        );
        if let (Some(a), Some(b)) = pg {
            let (e2e, drain) = delivery(&a, &b, scale.events).await;
            let pruned = prune(&b, scale.events).await;
            println!("| PostgreSQL | {e2e:.0}/s | {drain:.0}/s | {pruned:.0}/s |");
        }

        println!();
        println!(
            "registrations per second, SQLite file, default argon2 ({} each)",
            scale.registrations
        );
        println!("| dispatcher | registrations/s |");
        println!("|---|---|");
        // Alternated and repeated, so drift in the machine's load falls on both.
        let (mut off, mut on) = (0.0, 0.0);
        for round in 0..2 {
            let sub = dir.path().join(format!("round{round}"));
            std::fs::create_dir_all(&sub).unwrap();
            off += registrations(&sub, scale.registrations, false).await / 2.0;
            on += registrations(&sub, scale.registrations, true).await / 2.0;
        }
        println!("| off | {off:.1} |");
        println!("| on (audit + one webhook) | {on:.1} |");
        println!("on / off: {:.3}", on / off);
    });
}
