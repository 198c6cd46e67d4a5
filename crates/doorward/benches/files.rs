//! `cargo bench -p doorward --features s3 --bench files`: the files numbers
//! of docs/BENCHMARKS.md.
//!
//! Prints a table: put and get throughput for 1 KiB and 64 MiB objects on a
//! local folder (a temporary directory) and on the S3 test server
//! (`DOORWARD_TEST_S3_ENDPOINT`, default `http://127.0.0.1:9000`, skipped
//! when unreachable unless `DOORWARD_REQUIRE_SERVICES=1`); then the peak
//! memory (VmHWM) of uploading a 64 MiB file with `put_file`, measured in a
//! child process that does nothing else, so nothing of the benchmark itself
//! is counted.
//!
//! Run as a test (`cargo test --bench files`, as CI does) it does one small
//! round of each (a 9 MiB "big" object, still multipart) to prove it works,
//! and times nothing worth reading.

use std::path::Path;
use std::time::{Duration, Instant};

use doorward::{Config, Doorward};

#[path = "../tests/common/services.rs"]
mod services;

const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const CHILD: &str = "DOORWARD_BENCH_FILES_CHILD";

struct Scale {
    small_ops: usize,
    big_bytes: usize,
    big_ops: usize,
}

fn base(files_url: String) -> Config {
    Config {
        database_url: "memory://".into(),
        files_url: Some(files_url),
        files_max_bytes: 1 << 30,
        ..Config::default()
    }
}

fn s3_config(endpoint: &str, bucket: &str) -> Config {
    Config {
        files_s3_endpoint: Some(endpoint.into()),
        files_s3_region: Some("us-east-1".into()),
        files_s3_access_key_id: Some("bench".into()),
        files_s3_secret_access_key: Some("bench-secret".into()),
        files_s3_allow_http: true,
        ..base(format!("s3://{bucket}"))
    }
}

/// The high-water mark of this process's resident memory, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib_s(bytes: usize, ops: usize, elapsed: Duration) -> f64 {
    (bytes * ops) as f64 / MIB as f64 / elapsed.as_secs_f64()
}

async fn measure(dw: &Doorward, label: &str, scale: &Scale, big_file: &Path, out_dir: &Path) {
    let files = dw.files();
    let small = vec![42u8; KIB];
    files.put("warm/up", small.clone(), None).await.unwrap();

    let start = Instant::now();
    for i in 0..scale.small_ops {
        files
            .put(&format!("small/{i}"), small.clone(), None)
            .await
            .unwrap();
    }
    let put = start.elapsed();
    let start = Instant::now();
    for i in 0..scale.small_ops {
        files.get(&format!("small/{i}")).await.unwrap();
    }
    let get = start.elapsed();
    let per_s = |d: Duration| scale.small_ops as f64 / d.as_secs_f64();
    println!(
        "| {label} | 1 KiB put | {:.0} ops/s | {:.2} MiB/s |",
        per_s(put),
        mib_s(KIB, scale.small_ops, put)
    );
    println!(
        "| {label} | 1 KiB get | {:.0} ops/s | {:.2} MiB/s |",
        per_s(get),
        mib_s(KIB, scale.small_ops, get)
    );

    let mb = scale.big_bytes / MIB;
    let start = Instant::now();
    for i in 0..scale.big_ops {
        files
            .put_file(&format!("big/{i}"), big_file, None)
            .await
            .unwrap();
    }
    let put = start.elapsed();
    let start = Instant::now();
    for i in 0..scale.big_ops {
        let info = files
            .get_to_file(&format!("big/{i}"), out_dir.join("download.bin"))
            .await
            .unwrap();
        assert_eq!(info.size, scale.big_bytes as u64);
    }
    let get = start.elapsed();
    println!(
        "| {label} | {mb} MiB put_file | {:.2} s each | {:.0} MiB/s |",
        put.as_secs_f64() / scale.big_ops as f64,
        mib_s(scale.big_bytes, scale.big_ops, put)
    );
    println!(
        "| {label} | {mb} MiB get_to_file | {:.2} s each | {:.0} MiB/s |",
        get.as_secs_f64() / scale.big_ops as f64,
        mib_s(scale.big_bytes, scale.big_ops, get)
    );
}

/// The child: open, one small put so every client is set up, then the
/// upload alone, between two readings of the high-water mark.
fn child(spec: &str) {
    let mut parts = spec.splitn(4, '|');
    let (kind, path, endpoint, bucket) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = if kind == "s3" {
            s3_config(endpoint, bucket)
        } else {
            let dir = tempfile::tempdir().unwrap().keep();
            base(format!("file://{}", dir.display()))
        };
        let dw = Doorward::open(config).await.unwrap();
        dw.files()
            .put("warm/up", vec![1u8; KIB], None)
            .await
            .unwrap();
        let before = vm_hwm_kib();
        let info = dw.files().put_file("big/once", path, None).await.unwrap();
        let after = vm_hwm_kib();
        println!("{} {before} {after}", info.size);
    });
}

fn peak(label: &str, spec: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let nums: Vec<u64> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    let (size, before, after) = (nums[0], nums[1], nums[2]);
    println!(
        "| {label} | {} MiB put_file | peak RSS {:.1} MiB (before the upload {:.1} MiB, growth {:.1} MiB) |",
        size / MIB as u64,
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        (after - before) as f64 / 1024.0
    );
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let scale = if bench {
        Scale {
            small_ops: 2000,
            big_bytes: 64 * MIB,
            big_ops: 3,
        }
    } else {
        Scale {
            small_ops: 5,
            big_bytes: 9 * MIB,
            big_ops: 1,
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let big_file = dir.path().join("big.bin");
    let body: Vec<u8> = (0..scale.big_bytes).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big_file, body).unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let s3 = rt.block_on(services::s3_bucket());
    println!("| backend | operation | rate | throughput |");
    println!("|---|---|---|---|");
    rt.block_on(async {
        let local = dir.path().join("store");
        let dw = Doorward::open(base(format!("file://{}", local.display())))
            .await
            .unwrap();
        measure(&dw, "local disk", &scale, &big_file, dir.path()).await;
        if let Some((endpoint, bucket)) = &s3 {
            let dw = Doorward::open(s3_config(endpoint, bucket)).await.unwrap();
            measure(&dw, "S3 (moto, loopback)", &scale, &big_file, dir.path()).await;
        }
    });
    drop(rt);
    let path = big_file.display().to_string();
    peak("local disk", &format!("local|{path}"));
    if let Some((endpoint, bucket)) = &s3 {
        peak(
            "S3 (moto, loopback)",
            &format!("s3|{path}|{endpoint}|{bucket}"),
        );
    }
}
