//! `cargo bench -p doorward --all-features --bench capacity`: the figures of
//! docs/SCALING.md's capacity model, on PostgreSQL + Redis.
//!
//! - Logins per core at three argon2 settings: logins made by two
//!   concurrent clients divided by the CPU time this process spent (user +
//!   system, from `/proc/self/stat`), so the figure is per core of the
//!   application, whatever the machine's other load.
//! - Verifies per core, with the session in the in-process L1
//!   (`session_cache_ttl`) and in Redis: likewise, with 32 concurrent
//!   callers; and the Redis server's CPU per verify (`INFO cpu`).
//! - What logins and refreshes write to PostgreSQL: transactions, rows
//!   inserted / updated / deleted and WAL bytes per operation, from
//!   `pg_stat_database` and the WAL position before and after (the outbox
//!   dispatcher that delivers the login events included), scaled to 100 per
//!   second.
//!
//! Run as a test (`cargo test --bench capacity`, as CI does) it does a few
//! of each and times nothing worth reading.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use doorward::{Config, Doorward, TokenPair};
use sqlx::Connection as _;

#[path = "../tests/common/services.rs"]
mod services;

const PASSWORD: &str = "correct horse battery staple";

/// CPU seconds this process has used (user + system). `/proc/self/stat`
/// counts in USER_HZ ticks, 100 per second on Linux.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: fields count from after its ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

fn config(database_url: &str, redis_url: &str, memory_kib: u32, iterations: u32) -> Config {
    Config {
        database_url: database_url.into(),
        redis_url: Some(redis_url.into()),
        redis_prefix: format!("dwcap:{}:", uuid::Uuid::new_v4().simple()),
        jwt_secret: Some("capacity-test-secret-of-at-least-32-bytes".into()),
        argon2_memory_kib: memory_kib,
        argon2_iterations: iterations,
        argon2_parallelism: 1,
        rate_limit_login_account: "off".into(),
        rate_limit_login_ip: "off".into(),
        rate_limit_register_ip: "off".into(),
        ..Config::default()
    }
}

/// Run `op` from `clients` concurrent tasks for `window`; returns calls
/// per CPU second of this process and calls per wall second.
async fn per_core<F, Fut>(clients: usize, window: Duration, op: F) -> (f64, f64)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let cpu = cpu_seconds();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let op = op.clone();
        let done = done.clone();
        tasks.spawn(async move {
            let mut i = 0;
            while started.elapsed() < window {
                op(client * 1_000_000 + i).await;
                done.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let calls = done.load(Ordering::Relaxed) as f64;
    let cpu = (cpu_seconds() - cpu).max(0.01);
    (calls / cpu, calls / started.elapsed().as_secs_f64())
}

async fn redis_cpu(redis_url: &str) -> f64 {
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(&mut conn)
        .await
        .unwrap();
    info.lines()
        .filter(|l| l.starts_with("used_cpu_sys:") || l.starts_with("used_cpu_user:"))
        .filter_map(|l| l.split_once(':')?.1.trim().parse::<f64>().ok())
        .sum()
}

/// Transactions, rows inserted, updated, deleted in database `test`, and
/// the WAL position in bytes.
async fn pg_counters(base: &str) -> [f64; 5] {
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    // The statistics are flushed by each backend at most once a second.
    let _ = sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut conn)
        .await;
    sqlx::query("SELECT pg_stat_clear_snapshot()")
        .execute(&mut conn)
        .await
        .unwrap();
    let (x, i, u, d, wal): (i64, i64, i64, i64, f64) = sqlx::query_as(
        "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted, \
         pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 \
         FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    [x as f64, i as f64, u as f64, d as f64, wal]
}

/// What an idle instance writes per second: the counters over `settle`
/// with no call made (the outbox dispatcher's polls).
async fn idle_writes(base: &str, settle: Duration) -> [f64; 5] {
    // What earlier work left unreported is reported first.
    tokio::time::sleep(settle).await;
    let before = pg_counters(base).await;
    let started = Instant::now();
    tokio::time::sleep(settle).await;
    let after = pg_counters(base).await;
    let seconds = started.elapsed().as_secs_f64();
    std::array::from_fn(|k| (after[k] - before[k]) / seconds)
}

/// What one call of `op` writes, beyond what the instance writes idle.
async fn writes_of<F, Fut>(
    base: &str,
    n: usize,
    settle: Duration,
    idle: [f64; 5],
    op: F,
) -> [f64; 5]
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = pg_counters(base).await;
    let started = Instant::now();
    for i in 0..n {
        op(i).await;
    }
    // Let the outbox dispatcher deliver what the calls wrote, and the
    // pool's idle backends report their statistics (PostgreSQL flushes an
    // idle backend's counters after 10 s).
    tokio::time::sleep(settle).await;
    let after = pg_counters(base).await;
    let seconds = started.elapsed().as_secs_f64();
    std::array::from_fn(|k| ((after[k] - before[k] - idle[k] * seconds) / n as f64).max(0.0))
}

async fn run(bench: bool) {
    let Some(database_url) = services::postgres_url().await else {
        return;
    };
    let Some(redis_url) = services::redis_url().await else {
        return;
    };
    let base = std::env::var("DOORWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let window = if bench {
        Duration::from_secs(8)
    } else {
        Duration::from_millis(200)
    };
    let users = if bench { 200 } else { 4 };

    println!(
        "\n| argon2id setting | one login's hash | logins per core (application CPU) | logins/s on this machine, 2 clients |"
    );
    println!("|---|--:|--:|--:|");
    for (memory, iterations) in [(19_456u32, 2u32), (47_104, 1), (65_536, 3)] {
        let dw = Arc::new(
            Doorward::open(config(&database_url, &redis_url, memory, iterations))
                .await
                .unwrap(),
        );
        let name = format!("cap{memory}x{iterations}");
        dw.auth()
            .register_user(&name, &format!("{name}@example.com"), PASSWORD, None)
            .await
            .unwrap();
        let hash_started = Instant::now();
        dw.auth().login(&name, PASSWORD, None).await.unwrap();
        let one = hash_started.elapsed();
        let d = dw.clone();
        let (core, wall) = per_core(2, window, move |_| {
            let d = d.clone();
            let name = name.clone();
            async move {
                d.auth().login(&name, PASSWORD, None).await.unwrap();
            }
        })
        .await;
        println!(
            "| m={memory} KiB, t={iterations}, p=1 | {:.1} ms | {core:.1} | {wall:.1} |",
            one.as_secs_f64() * 1000.0
        );
    }

    println!(
        "\n| verify_token, session | verifies per core (application CPU) | verifies/s, 32 callers | Redis CPU per verify |"
    );
    println!("|---|--:|--:|--:|");
    for l1 in [true, false] {
        let dw = Arc::new(
            Doorward::open(Config {
                session_cache_ttl: if l1 { 60 } else { 0 },
                ..config(&database_url, &redis_url, 64, 1)
            })
            .await
            .unwrap(),
        );
        let mut tokens: Vec<String> = Vec::new();
        for i in 0..users.min(50) {
            let name = format!("v{}{i}", if l1 { "l" } else { "r" });
            let reg = dw
                .auth()
                .register_user(&name, &format!("{name}@example.com"), PASSWORD, None)
                .await
                .unwrap();
            tokens.push(reg.tokens.access_token);
        }
        let tokens = Arc::new(tokens);
        let redis_before = redis_cpu(&redis_url).await;
        let d = dw.clone();
        let t = tokens.clone();
        let started = Instant::now();
        let (core, wall) = per_core(32, window, move |i| {
            let d = d.clone();
            let t = t.clone();
            async move {
                d.auth().verify_token(&t[i % t.len()]).await.unwrap();
            }
        })
        .await;
        let calls = wall * started.elapsed().as_secs_f64();
        let redis_per = (redis_cpu(&redis_url).await - redis_before) / calls.max(1.0);
        println!(
            "| {} | {core:.0} | {wall:.0} | {:.1} µs |",
            if l1 {
                "in the process (L1, `session_cache_ttl` 60 s)"
            } else {
                "in Redis (every call asks it)"
            },
            redis_per * 1e6
        );
    }

    let dw = Doorward::open(config(&database_url, &redis_url, 64, 1))
        .await
        .unwrap();
    let n = if bench { 300 } else { 5 };
    let settle = Duration::from_secs(if bench { 11 } else { 1 });
    for i in 0..n {
        let name = format!("wri{i}");
        dw.auth()
            .register_user(&name, &format!("{name}@example.com"), PASSWORD, None)
            .await
            .unwrap();
    }
    let idle = idle_writes(&base, settle).await;
    let mut pairs: Vec<TokenPair> = Vec::new();
    let logins = {
        let collected = std::sync::Mutex::new(&mut pairs);
        writes_of(&base, n, settle, idle, |i| {
            let dw = &dw;
            let collected = &collected;
            async move {
                let pair = dw
                    .auth()
                    .login(&format!("wri{i}"), PASSWORD, None)
                    .await
                    .unwrap()
                    .tokens()
                    .unwrap();
                collected.lock().unwrap().push(pair);
            }
        })
        .await
    };
    let refreshes = writes_of(&base, n, settle, idle, |i| {
        let dw = &dw;
        let token = pairs[i].refresh_token.clone();
        async move {
            dw.auth().refresh_token(&token).await.unwrap();
        }
    })
    .await;
    println!(
        "\n| PostgreSQL, per 100/s of | commits/s | rows inserted/s | rows updated/s | rows deleted/s | WAL |"
    );
    println!("|---|--:|--:|--:|--:|--:|");
    println!(
        "| (an idle instance, per second) | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} KiB/s |",
        idle[0],
        idle[1],
        idle[2],
        idle[3],
        idle[4] / 1024.0
    );
    for (what, per) in [("logins", logins), ("refreshes", refreshes)] {
        println!(
            "| {what} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} KiB/s |",
            per[0] * 100.0,
            per[1] * 100.0,
            per[2] * 100.0,
            per[3] * 100.0,
            per[4] * 100.0 / 1024.0
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(bench));
}
