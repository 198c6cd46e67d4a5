//! Services the tests use when reachable (DESIGN.md: with
//! `DOORWARD_REQUIRE_SERVICES=1` a missing one fails instead of skipping).

use std::time::Duration;

fn required() -> bool {
    std::env::var("DOORWARD_REQUIRE_SERVICES").as_deref() == Ok("1")
}

fn unreachable(service: &str, url: &str) -> Option<String> {
    if required() {
        panic!("{service} is required (DOORWARD_REQUIRE_SERVICES=1) but not reachable at {url}");
    }
    eprintln!("skipped: {service} not reachable at {url}");
    None
}

/// The Redis for tests (`DOORWARD_TEST_REDIS_URL`), if reachable.
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("DOORWARD_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let address = url
        .trim_start_matches("redis://")
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let connect = tokio::net::TcpStream::connect(address);
    match tokio::time::timeout(Duration::from_secs(2), connect).await {
        Ok(Ok(_)) => Some(url),
        _ => unreachable("Redis", &url),
    }
}
