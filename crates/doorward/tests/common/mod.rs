//! Shared set-up for the integration tests.
#![allow(dead_code)]

pub mod capture;
#[cfg(feature = "oauth")]
pub mod github;
#[cfg(feature = "oauth")]
pub mod oidc;
pub mod proxy;
pub mod receiver;
#[cfg(feature = "redis")]
pub mod redis_conn;
pub mod services;
pub mod smtp;

use doorward::{Config, Doorward, ErrorCode};

pub const SECRET: &str = "integration-test-secret-32-bytes-long!";
pub const PASSWORD: &str = "correct horse battery staple";

/// Cheap argon2 parameters: the tests exercise logic, the benchmarks cost.
pub fn config(database_url: &str) -> Config {
    Config {
        database_url: database_url.into(),
        jwt_secret: Some(SECRET.into()),
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        ..Config::default()
    }
}

pub async fn open(database_url: &str) -> Doorward {
    Doorward::open(config(database_url)).await.unwrap()
}

/// Every backend the build has, as database URLs for one fresh store each
/// (PostgreSQL when it is reachable; see [`services`]).
pub async fn backends() -> Vec<String> {
    let mut urls = vec!["memory://".to_string()];
    if cfg!(feature = "sqlite") {
        let dir = tempfile::tempdir().unwrap().keep();
        urls.push(format!("sqlite://{}", dir.join("test.db").display()));
    }
    #[cfg(feature = "postgres")]
    urls.extend(services::postgres_url().await);
    urls
}

/// Run the dispatcher until `done` holds, for at most 20 seconds: retries
/// wait out a backoff, which one `flush` does not.
pub async fn flush_until(dw: &Doorward, what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        dw.events().flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub fn keys_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/keys")
}

/// The code of an expected failure: `op.await.err_code()`.
pub trait ErrCode {
    fn err_code(self) -> ErrorCode;
}

impl<T: std::fmt::Debug> ErrCode for doorward::Result<T> {
    fn err_code(self) -> ErrorCode {
        self.expect_err("expected an error").code()
    }
}

/// A login's outcome in tests of accounts without a second factor:
/// `dw.auth().login(..).await.signed_in()`.
pub trait SignedIn {
    type Output;
    fn signed_in(self) -> doorward::Result<Self::Output>;
}

impl SignedIn for doorward::Result<doorward::LoginResult> {
    type Output = doorward::TokenPair;
    fn signed_in(self) -> doorward::Result<doorward::TokenPair> {
        self.map(|r| r.tokens().expect("a second factor was asked for"))
    }
}

impl SignedIn for doorward::Result<doorward::device::DeviceLogin> {
    type Output = doorward::Principal;
    fn signed_in(self) -> doorward::Result<doorward::Principal> {
        self.map(|r| match r {
            doorward::device::DeviceLogin::SignedIn(p) => p,
            doorward::device::DeviceLogin::MfaRequired(_) => {
                panic!("a second factor was asked for")
            }
        })
    }
}
