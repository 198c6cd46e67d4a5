//! `cargo bench -p doorward --all-features --bench import`: how fast
//! accounts move in from another system, for docs/BENCHMARKS.md.
//!
//! Writes 100,000 rows of JSON Lines to a file, each with a pre-hashed
//! password (Django's PBKDF2 string, as a migration from Django has: the
//! import checks its format and cost, it does not verify it), then reads,
//! parses and imports the file into a fresh SQLite file and, when
//! reachable, a fresh PostgreSQL schema; prints rows per second for each.
//! Run as a test (`cargo test --bench import`, as CI does) it imports
//! 1,000 rows to prove it works, and times nothing worth reading.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use doorward::{Config, Doorward, ImportOptions, UserRow};

/// The tests' service helpers: a fresh PostgreSQL schema.
#[path = "../tests/common/services.rs"]
mod services;

const DJANGO: &str =
    "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=";

fn write_file(path: &std::path::Path, rows: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    for n in 0..rows {
        let row = serde_json::json!({
            "email": format!("user{n}@example.com"),
            "username": format!("user{n}"),
            "password_hash": DJANGO,
            "roles": ["user"],
            "email_verified": n % 2 == 0,
        });
        serde_json::to_writer(&mut out, &row).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

async fn import(database_url: &str, file: &std::path::Path, rows: usize) -> (f64, f64) {
    let dw = Doorward::open(Config {
        database_url: database_url.into(),
        jwt_secret: Some("import-benchmark-secret-32-bytes-long".into()),
        ..Config::default()
    })
    .await
    .unwrap();
    let start = Instant::now();
    let parsed: Vec<UserRow> = BufReader::new(std::fs::File::open(file).unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let parse = start.elapsed().as_secs_f64();
    let report = dw
        .users()
        .import_users(parsed, ImportOptions::default())
        .await
        .unwrap();
    let total = start.elapsed().as_secs_f64();
    assert_eq!(report.created.len(), rows, "{:?}", report.failed.first());
    assert_eq!(dw.users().count().await.unwrap(), rows as u64);
    (parse, total)
}

async fn run(rows: usize) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.jsonl");
    write_file(&file, rows);
    let mut targets = vec![(
        "SQLite (file)".to_string(),
        format!("sqlite://{}", dir.path().join("bench.db").display()),
    )];
    if let Some(url) = services::postgres_url().await {
        targets.push(("PostgreSQL (loopback)".to_string(), url));
    }
    println!("| store | rows | parse | total | rows/s |");
    println!("|---|---|---|---|---|");
    for (name, url) in targets {
        let (parse, total) = import(&url, &file, rows).await;
        println!(
            "| {name} | {rows} | {:.2} s | {:.2} s | {:.0} |",
            parse,
            total,
            rows as f64 / total
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --bench` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let rows = if bench { 100_000 } else { 1_000 };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(rows));
}
