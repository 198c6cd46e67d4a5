//! `scripts/soak DURATION RATE`: mixed traffic at a fixed rate against
//! PostgreSQL + Redis, for as long as asked, to find what only time shows:
//! leaks, error codes that appear under load, latency that drifts.
//!
//! The mix is register 5%, login 20%, verify 60%, refresh 10%, logout 5%,
//! started at `RATE` per second by a fixed schedule (not as fast as the
//! last call returns, so a slow call cannot hide by slowing the load)
//! and run by a multi-threaded runtime. argon2 runs at the tests'
//! parameters, so hashing does not saturate the cores and the rest of the
//! path is what is measured.
//!
//! Sessions in use are taken out of the pool for the call, so two calls
//! never race on one session (a refresh race ends the session by design
//! and would count as an error). The pool holds at most 1,000 sessions;
//! beyond that the oldest is dropped, as a client that goes away does.
//!
//! Prints a Markdown report: calls and unexpected error codes (must be 0),
//! RSS at minute 1, minute 5 and the end, open file descriptors, p50/p99
//! per operation, and sessions still live after their logout (must be 0).
//! Exits non-zero when an error code was unexpected, a logged-out session
//! still verified, or (for runs of 10 minutes or more) RSS grew by 10% or
//! more between minute 5 and the end.
//!
//! `cargo test --bench soak`, as CI runs it, soaks for 5 s at 50/s.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use doorward::{Config, Doorward, ErrorCode, TokenPair};
use rand::Rng;

#[path = "../tests/common/services.rs"]
mod services;

const PASSWORD: &str = "correct horse battery staple";
const POOL: usize = 1000;
/// Most usernames the soak remembers to log in with; past it a new user
/// replaces a random one, so the harness's own memory stays flat.
const USERS: usize = 2000;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Op {
    Register,
    Login,
    Verify,
    Refresh,
    Logout,
}

impl Op {
    const ALL: [Op; 5] = [Op::Register, Op::Login, Op::Verify, Op::Refresh, Op::Logout];

    /// The mix: each operation's share, in percent (they add up to 100).
    const MIX: [(Op, usize); 5] = [
        (Op::Register, 5),
        (Op::Login, 20),
        (Op::Verify, 60),
        (Op::Refresh, 10),
        (Op::Logout, 5),
    ];

    /// The operation a roll in 0..100 picks, by the mix.
    fn pick(roll: usize) -> Op {
        let mut below = 0;
        for (op, share) in Op::MIX {
            below += share;
            if roll < below {
                return op;
            }
        }
        Op::Logout
    }

    fn name(self) -> &'static str {
        match self {
            Op::Register => "register",
            Op::Login => "login",
            Op::Verify => "verify",
            Op::Refresh => "refresh",
            Op::Logout => "logout",
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies: BTreeMap<Op, Vec<u32>>,
    unexpected: BTreeMap<String, u64>,
    /// Logged-out sessions that still verified.
    alive_after_logout: u64,
}

struct Soak {
    dw: Doorward,
    users: Mutex<Vec<String>>,
    sessions: Mutex<VecDeque<TokenPair>>,
    tally: Mutex<Tally>,
    next_user: AtomicU64,
    run: String,
}

impl Soak {
    fn take_session(&self) -> Option<TokenPair> {
        let mut pool = self.sessions.lock().unwrap();
        if pool.is_empty() {
            return None;
        }
        let i = rand::thread_rng().gen_range(0..pool.len());
        pool.swap_remove_back(i)
    }

    fn put_session(&self, pair: TokenPair) {
        let mut pool = self.sessions.lock().unwrap();
        pool.push_back(pair);
        if pool.len() > POOL {
            pool.pop_front();
        }
    }

    fn unexpected(&self, op: Op, err: &doorward::Error) {
        let key = format!("{} → {}", op.name(), err.code().as_str());
        *self
            .tally
            .lock()
            .unwrap()
            .unexpected
            .entry(key)
            .or_default() += 1;
    }

    async fn register(&self) {
        let n = self.next_user.fetch_add(1, Ordering::Relaxed);
        let name = format!("s{}u{n}", self.run);
        match self
            .dw
            .auth()
            .register_user(&name, &format!("{name}@example.com"), PASSWORD, None)
            .await
        {
            Ok(reg) => {
                let mut users = self.users.lock().unwrap();
                if users.len() < USERS {
                    users.push(name);
                } else {
                    let i = rand::thread_rng().gen_range(0..USERS);
                    users[i] = name;
                }
                drop(users);
                self.put_session(reg.tokens);
            }
            Err(e) => self.unexpected(Op::Register, &e),
        }
    }

    async fn login(&self) {
        let name = {
            let users = self.users.lock().unwrap();
            if users.is_empty() {
                return;
            }
            users[rand::thread_rng().gen_range(0..users.len())].clone()
        };
        match self.dw.auth().login(&name, PASSWORD, None).await {
            Ok(result) => match result.tokens() {
                Some(pair) => self.put_session(pair),
                None => {
                    *self
                        .tally
                        .lock()
                        .unwrap()
                        .unexpected
                        .entry("login → second factor asked".into())
                        .or_default() += 1
                }
            },
            Err(e) => self.unexpected(Op::Login, &e),
        }
    }

    async fn verify(&self) {
        let Some(pair) = self.take_session() else {
            return;
        };
        match self.dw.auth().verify_token(&pair.access_token).await {
            Ok(_) => {}
            Err(e) => self.unexpected(Op::Verify, &e),
        }
        self.put_session(pair);
    }

    async fn refresh(&self) {
        let Some(pair) = self.take_session() else {
            return;
        };
        match self.dw.auth().refresh_token(&pair.refresh_token).await {
            Ok(next) => self.put_session(next),
            Err(e) => self.unexpected(Op::Refresh, &e),
        }
    }

    async fn logout(&self) {
        let Some(pair) = self.take_session() else {
            return;
        };
        if let Err(e) = self.dw.auth().logout(&pair.access_token).await {
            self.unexpected(Op::Logout, &e);
            return;
        }
        match self.dw.auth().verify_token(&pair.access_token).await {
            Err(e) if e.code() == ErrorCode::TokenRevoked => {}
            Err(e) => self.unexpected(Op::Logout, &e),
            Ok(_) => self.tally.lock().unwrap().alive_after_logout += 1,
        }
    }

    async fn call(&self, op: Op) {
        let started = Instant::now();
        match op {
            Op::Register => self.register().await,
            Op::Login => self.login().await,
            Op::Verify => self.verify().await,
            Op::Refresh => self.refresh().await,
            Op::Logout => self.logout().await,
        }
        let micros = started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        self.tally
            .lock()
            .unwrap()
            .latencies
            .entry(op)
            .or_default()
            .push(micros);
    }
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank]) / 1000.0
}

fn arg(name: &str) -> Option<u64> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

async fn soak(duration: Duration, rate: u64) -> bool {
    let Some(database_url) = services::postgres_url().await else {
        return true;
    };
    let Some(redis_url) = services::redis_url().await else {
        return true;
    };
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let config = Config {
        database_url,
        redis_url: Some(redis_url),
        redis_prefix: format!("dwsoak:{run}:"),
        jwt_secret: Some("soak-test-secret-of-at-least-32-bytes!".into()),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        // Tokens outlive the run, so a verify never meets an expiry.
        access_ttl: 4 * 3600,
        // The mix logs a few hundred users in again and again: the
        // per-account and per-address limits are tested elsewhere.
        rate_limit_login_account: "off".into(),
        rate_limit_login_ip: "off".into(),
        rate_limit_register_ip: "off".into(),
        ..Config::default()
    };
    // Room for every latency up front, so the harness does not grow.
    let expected = (duration.as_secs() * rate) as usize;
    let mut tally = Tally::default();
    for (op, share) in Op::MIX {
        tally.latencies.insert(
            op,
            Vec::with_capacity(expected * share / 100 * 12 / 10 + 1000),
        );
    }
    let soak = Arc::new(Soak {
        dw: Doorward::open(config).await.unwrap(),
        users: Mutex::new(Vec::with_capacity(USERS)),
        sessions: Mutex::new(VecDeque::with_capacity(POOL + 1)),
        tally: Mutex::new(tally),
        next_user: AtomicU64::new(0),
        run,
    });
    // A few users to start from.
    for _ in 0..20 {
        soak.register().await;
    }

    let started = Instant::now();
    let mut rss_at: BTreeMap<u64, u64> = BTreeMap::new();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut in_flight = tokio::task::JoinSet::new();
    let mut issued: u64 = 0;
    let mut max_in_flight = 0;
    while started.elapsed() < duration {
        ticks.tick().await;
        let op = Op::pick(rand::thread_rng().gen_range(0..100));
        let soak = soak.clone();
        in_flight.spawn(async move { soak.call(op).await });
        issued += 1;
        while in_flight.try_join_next().is_some() {}
        max_in_flight = max_in_flight.max(in_flight.len());
        let minute = started.elapsed().as_secs() / 60;
        if minute >= 1 && !rss_at.contains_key(&minute) {
            rss_at.insert(minute, rss_kib());
        }
    }
    while in_flight.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let rss_end = rss_kib();
    let fds = open_fds();

    // Every session still held is logged out; then none may verify.
    let mut left = 0;
    let held: Vec<TokenPair> = soak.sessions.lock().unwrap().drain(..).collect();
    for pair in &held {
        soak.dw.auth().logout(&pair.access_token).await.unwrap();
        if soak
            .dw
            .auth()
            .verify_token(&pair.access_token)
            .await
            .is_ok()
        {
            left += 1;
        }
    }

    let tally = soak.tally.lock().unwrap();
    let calls: usize = tally.latencies.values().map(Vec::len).sum();
    let unexpected: u64 = tally.unexpected.values().sum();
    println!(
        "\n## Soak: {:.0} s at {rate}/s, PostgreSQL + Redis\n",
        elapsed.as_secs_f64()
    );
    println!("| what | value |\n|---|---|");
    println!(
        "| calls | {calls} ({:.1}/s; at most {max_in_flight} in flight) |",
        calls as f64 / elapsed.as_secs_f64()
    );
    println!("| unexpected error codes | **{unexpected}** |");
    for (what, n) in &tally.unexpected {
        println!("| — {what} | {n} |");
    }
    let series: Vec<String> = rss_at
        .iter()
        .map(|(minute, kib)| format!("{minute}: {:.1}", *kib as f64 / 1024.0))
        .collect();
    if !series.is_empty() {
        println!("| RSS by minute (MiB) | {} |", series.join(", "));
    }
    let rss_1 = rss_at.get(&1).copied();
    let rss_5 = rss_at.get(&5).copied();
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    println!(
        "| RSS at minute 1 / 5 / end | {} / {} / {} |",
        rss_1.map_or("—".into(), mib),
        rss_5.map_or("—".into(), mib),
        mib(rss_end)
    );
    let growth = rss_5.map(|r5| (rss_end as f64 - r5 as f64) / r5 as f64 * 100.0);
    if let Some(g) = growth {
        println!("| RSS growth, minute 5 to end | {g:+.1}% |");
    }
    println!("| open file descriptors at the end | {fds} |");
    println!(
        "| sessions still live after their logout (during / at the end) | {} / {left} |",
        tally.alive_after_logout
    );
    println!("\n| operation | calls | p50 | p99 | max |\n|---|--:|--:|--:|--:|");
    for op in Op::ALL {
        let mut samples = tally.latencies.get(&op).cloned().unwrap_or_default();
        samples.sort_unstable();
        println!(
            "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
            op.name(),
            samples.len(),
            percentile(&samples, 50.0),
            percentile(&samples, 99.0),
            samples.last().map_or(0.0, |m| f64::from(*m) / 1000.0)
        );
    }
    println!("\nissued {issued} calls");
    let leak = duration >= Duration::from_secs(600) && growth.is_some_and(|g| g >= 10.0);
    if leak {
        println!("RSS grew by 10% or more between minute 5 and the end");
    }
    unexpected == 0 && tally.alive_after_logout == 0 && left == 0 && !leak
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let (duration, rate) = if bench {
        (
            Duration::from_secs(arg("--duration").unwrap_or(60)),
            arg("--rate").unwrap_or(100).max(1),
        )
    } else {
        (Duration::from_secs(5), 50)
    };
    let workers = arg("--threads").unwrap_or(4) as usize;
    let ok = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()
        .unwrap()
        .block_on(soak(duration, rate));
    if !ok {
        std::process::exit(1);
    }
}
