//! Memory that must stay flat however long a process runs. RSS is read
//! from `/proc`, so this runs on Linux; it is alone in its test binary so
//! no other test's allocations blur it.
#![cfg(target_os = "linux")]

use doorward::{Config, Doorward};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Every public operation records its latency. The recorder kept each
/// sample until `metrics_text()` rendered them, so a host that never asks
/// for metrics grew by about 8 bytes per operation (the soak found it:
/// +2 MiB in 20 minutes at 100 calls/s). Two million checks must not add
/// more than a few MiB.
#[tokio::test(flavor = "current_thread")]
async fn operations_do_not_accumulate_latency_samples() {
    let dw = Doorward::open(Config {
        database_url: "memory://".into(),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..Config::default()
    })
    .await
    .unwrap();
    let user = dw
        .users()
        .create("ann", "ann@example.com", "correct horse battery staple")
        .await
        .unwrap();
    let check = || async {
        for _ in 0..200_000 {
            dw.auth().can(&user.id, "posts:read").await.unwrap();
        }
    };
    // Warm up: caches, the recorder's tables, the allocator's arenas.
    check().await;
    let before = rss_kib();
    for _ in 0..10 {
        check().await;
    }
    let grown = rss_kib().saturating_sub(before);
    // Kept samples would be 2,000,000 × 8 bytes ≈ 15.6 MiB.
    assert!(
        grown < 4 * 1024,
        "RSS grew by {grown} KiB over 2,000,000 checks"
    );
}
