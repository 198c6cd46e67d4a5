//! What a burst of logins costs in memory: at most `hash_concurrency`
//! argon2 buffers, however many logins wait and whichever threads run them.
//! The measurement runs in a child process (this test binary again), so the
//! resident set it reads from `/proc` holds nothing but doorward and the
//! child's own runtime.
#![cfg(all(target_os = "linux", feature = "sqlite"))]

use std::process::Command;

use doorward::{Config, Doorward};

const CHILD: &str = "DOORWARD_TEST_HASH_MEMORY_DIR";
const PASSWORD: &str = "correct horse battery staple";
const CONCURRENCY: usize = 2;
const LOGINS: usize = 100;
/// Room for everything a login allocates besides argon2 (tasks, queries,
/// tokens, the allocator's slack).
const SLACK_KIB: u64 = 16 * 1024;

/// A field of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Minor page faults of this process so far (`/proc/self/stat`, field 10).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // After the parenthesised command name: state is field 3, minflt 10.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(7).unwrap().parse().unwrap()
}

/// The child's part: one login to warm the pool and the allocator, the
/// resident set then, the peak resident set over the burst.
#[test]
#[ignore = "run as a child process by concurrent_logins_stay_within_hash_concurrency_buffers"]
fn child_measures_a_burst_of_logins() {
    let Ok(dir) = std::env::var(CHILD) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dw = Doorward::open(Config {
            database_url: format!("sqlite://{dir}/hash_memory.db"),
            jwt_secret: Some("hash-memory-test-secret-of-32-bytes!".into()),
            hash_concurrency: CONCURRENCY,
            // The burst is one account's logins: measure them, not the throttle.
            rate_limit_login_account: "off".into(),
            rate_limit_login_ip: "off".into(),
            ..Config::default()
        })
        .await
        .unwrap();
        let defaults = Config::default();
        let m_kib = u64::from(defaults.argon2_memory_kib);
        assert_eq!(
            (
                m_kib,
                defaults.argon2_iterations,
                defaults.argon2_parallelism
            ),
            (19_456, 2, 1)
        );
        dw.auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.auth().login("ann", PASSWORD, None).await.unwrap();
        let idle = status_kib("VmRSS");
        // "5" resets VmHWM to the current resident set (Linux 4.0).
        std::fs::write("/proc/self/clear_refs", "5").unwrap();
        let faults_before = minor_faults();
        let logins = (0..LOGINS).map(|_| {
            let dw = dw.clone();
            tokio::spawn(async move { dw.auth().login("ann", PASSWORD, None).await })
        });
        for login in futures_util::future::join_all(logins).await {
            login.unwrap().unwrap();
        }
        let peak = status_kib("VmHWM");
        let faults = minor_faults() - faults_before;
        println!("measured m={m_kib} idle={idle} peak={peak} faults={faults}");
    });
}

#[test]
fn concurrent_logins_stay_within_hash_concurrency_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_measures_a_burst_of_logins",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let field = |name: &str| -> u64 {
        stdout
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in the child's output:\n{stdout}"))
    };
    let (m, idle, peak) = (field("m"), field("idle"), field("peak"));
    let grown = peak.saturating_sub(idle);
    let bound = CONCURRENCY as u64 * m + SLACK_KIB;
    let report = format!(
        "{LOGINS} logins: idle {idle} KiB, peak {peak} KiB, +{grown} KiB (bound {bound} KiB), \
         {} minor page faults",
        field("faults")
    );
    println!("{report}");
    assert!(
        grown <= bound,
        "{report}: more than {CONCURRENCY} argon2 buffers of {m} KiB and {SLACK_KIB} KiB besides"
    );
}
