//! `cargo run -p doorward --example vectors`: writes `tests/vectors/*.json`,
//! the shared corpora every language's suite runs through its own binding
//! (Rust `tests/vectors.rs`, Python, Node, Kotlin) and must answer alike,
//! code for code.
//!
//! Each case is an input and the verdict the core gives it: `"ok"` or a
//! stable error code (and, for a permission check, `true`/`false`). The
//! verdicts are the core's own, taken by running every case here through
//! the public API; where this file states what a case must give (every
//! hostile token is refused, every valid one accepted, …) a different
//! verdict stops the generation, so a regression cannot be written into
//! the corpus. Everything is deterministic (fixed keys, salts and seeds),
//! so running it again reproduces the files byte for byte.
//!
//! It also writes the fuzz targets' seed corpus (`fuzz/corpus/`) from
//! them (with the `webhooks` feature, which one target needs).
//!
//! The corpora run on `memory://` with cheap argon2 parameters, so they
//! need no service and take seconds in every language.

mod cases;

use std::path::PathBuf;

use doorward::{Config, Doorward};
use serde_json::{Value, json};

/// What a call gave, as the corpora record it.
fn verdict<T>(result: &doorward::Result<T>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.code().as_str().to_string(),
    }
}

/// The configuration every corpus opens with, over `extra`.
fn base_config() -> Value {
    json!({
        "database_url": "memory://",
        "argon2_memory_kib": 64,
        "argon2_iterations": 1,
        "argon2_parallelism": 1,
        "events_dispatch": false,
    })
}

/// What the corpora that log in add to `base_config`: a signing key.
fn signing() -> Value {
    json!({"jwt_secret": "vectors-signing-secret-of-at-least-32-bytes"})
}

fn merged(extra: &Value) -> Value {
    let mut config = base_config();
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

async fn open(extra: &Value) -> doorward::Result<Doorward> {
    Doorward::open(Config::from_json(merged(extra))?).await
}

fn write(name: &str, about: &str, body: Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    std::fs::create_dir_all(&dir).unwrap();
    let mut doc = json!({
        "about": about,
        "generated_by": "cargo run -p doorward --example vectors",
        "base_config": base_config(),
    });
    for (k, v) in body.as_object().unwrap() {
        doc[k] = v.clone();
    }
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    std::fs::write(dir.join(format!("{name}.json")), text).unwrap();
    let count = doc["cases"].as_array().map_or(0, Vec::len);
    println!("tests/vectors/{name}.json: {count} cases");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cases::tokens::write_corpus().await;
    cases::passwords::write_corpus().await;
    cases::permissions::write_corpus().await;
    cases::validation::write_corpus().await;
    cases::config::write_corpus().await;
    #[cfg(feature = "webhooks")]
    cases::seeds::write();
}
