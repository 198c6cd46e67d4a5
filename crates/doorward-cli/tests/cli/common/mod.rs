//! What every CLI test shares: a fresh database per test, the binary run
//! with a clean environment, and readers of its output.

use std::ffi::OsStr;
use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const SECRET: &str = "test-secret-of-at-least-32-bytes-long!!";
pub const PASSWORD: &str = "a perfectly fine passphrase";

/// A fresh database and the environment every command runs with.
pub struct Env {
    pub _dir: tempfile::TempDir,
    pub url: String,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Env { _dir: dir, url }
    }

    /// A fresh schema of the test PostgreSQL, if reachable.
    pub fn postgres() -> Option<Self> {
        let url = service(services::postgres_url())?;
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Env { _dir: dir, url })
    }

    /// The binary with `--database` set, no inherited `DOORWARD_*`
    /// variables and stdin closed (never a terminal).
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bare_cmd();
        cmd.arg("--database").arg(&self.url).args(args);
        cmd
    }

    pub fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(args).output().expect("run doorward")
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.cmd(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("run doorward")
    }

    /// Runs a `--json` command that must succeed, and returns its document.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_with(args, &[])
    }

    pub fn json_with(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_with(&all, env);
        assert!(out.status.success(), "{args:?} failed: {}", describe(&out));
        parse(&out)
    }

    /// Runs a `--json` command that must fail with exit code 1, and returns
    /// its error object.
    pub fn json_error(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_with(&all, env);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        parse(&out)["error"].clone()
    }

    pub fn add_user(&self, username: &str, email: &str) -> Value {
        self.json_with(
            &["user", "add", username, email],
            &[("DOORWARD_PASSWORD", PASSWORD)],
        )
    }

    pub fn user_count(&self) -> usize {
        self.json(&["user", "list"])["items"]
            .as_array()
            .expect("items")
            .len()
    }
}

/// Environment variables for one command.
pub type Vars<'a> = Vec<(&'a str, &'a str)>;

pub fn bare_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorward"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DOORWARD_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("DOORWARD_JWT_SECRET", SECRET)
        .env("DOORWARD_ARGON2_MEMORY_KIB", "64")
        .env("DOORWARD_ARGON2_ITERATIONS", "1")
        .stdin(Stdio::null());
    cmd
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// The whole of stdout as exactly one JSON document on one line.
pub fn parse(out: &Output) -> Value {
    let text = stdout(out);
    assert_eq!(text.lines().count(), 1, "one JSON line expected: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doorward");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait doorward")
}

/// The core's service helpers, shared rather than copied.
#[path = "../../../../doorward/tests/common/services.rs"]
pub mod services;

/// Runs one of the async service helpers from a plain test.
pub fn service<T>(probe: impl std::future::Future<Output = Option<T>>) -> Option<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(probe)
}

/// The test Redis, if reachable (see the module documentation).
pub fn test_redis() -> Option<String> {
    service(services::redis_url())
}
