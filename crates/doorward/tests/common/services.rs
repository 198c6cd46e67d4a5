//! Services the tests use when reachable (DESIGN.md: with
//! `DOORWARD_REQUIRE_SERVICES=1` a missing one fails instead of skipping).
//!
//! Also included by the CLI tests and the benchmarks, which each use a part.
#![allow(dead_code)]

use std::time::Duration;

fn required() -> bool {
    std::env::var("DOORWARD_REQUIRE_SERVICES").as_deref() == Ok("1")
}

pub(crate) fn unreachable<T>(service: &str, url: &str) -> Option<T> {
    if required() {
        panic!("{service} is required (DOORWARD_REQUIRE_SERVICES=1) but not reachable at {url}");
    }
    eprintln!("skipped: {service} not reachable at {url}");
    None
}

/// The Redis for tests (`DOORWARD_TEST_REDIS_URL`: one server, or a
/// cluster as `redis+cluster://host:port,…`), if reachable.
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("DOORWARD_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let address = url
        .split_once("://")
        .map_or(url.as_str(), |(_, rest)| rest)
        .split('/')
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split(',')
        .next()
        .unwrap_or_default()
        .to_string();
    let connect = tokio::net::TcpStream::connect(address);
    match tokio::time::timeout(Duration::from_secs(2), connect).await {
        Ok(Ok(_)) => Some(url),
        _ => unreachable("Redis", &url),
    }
}

/// Whether a Redis URL names a cluster.
pub fn is_cluster(url: &str) -> bool {
    url.starts_with("redis+cluster://")
}

/// A fresh, empty schema in the test PostgreSQL
/// (`DOORWARD_TEST_POSTGRES_URL`), as a database URL whose connections use
/// it, if the server is reachable. Schemas left by runs over an hour old
/// are dropped on the way, so a test that fails mid-way leaves nothing
/// behind for long.
#[cfg(feature = "postgres")]
pub async fn postgres_url() -> Option<String> {
    use sqlx::Connection as _;

    let base = std::env::var("DOORWARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let connect = sqlx::PgConnection::connect(&base);
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(conn)) => conn,
        _ => return unreachable("PostgreSQL", &base),
    };
    let now = chrono::Utc::now().timestamp();
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'dw\\_test\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    for schema in stale {
        let born = schema.split('_').nth(2).and_then(|t| t.parse::<i64>().ok());
        if born.is_some_and(|t| t < now - 3600) {
            let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            let _ = sqlx::query(&drop).execute(&mut conn).await;
        }
    }
    let schema = format!("dw_test_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// The S3-compatible server for tests (`DOORWARD_TEST_S3_ENDPOINT`, default
/// `http://127.0.0.1:9000`, as `scripts/services` starts moto_server), with
/// a fresh bucket of its own, if reachable: `(endpoint, bucket)`.
///
/// The bucket is made with a plain unsigned `PUT /bucket`, which moto
/// accepts; the tests then sign with any credentials.
pub async fn s3_bucket() -> Option<(String, String)> {
    let endpoint = std::env::var("DOORWARD_TEST_S3_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:9000".to_string());
    let bucket = format!("dw-test-{}", uuid::Uuid::new_v4().simple());
    match http("PUT", &format!("{endpoint}/{bucket}"), &[]).await {
        Ok((200, _)) => Some((endpoint, bucket)),
        Ok((status, body)) => panic!(
            "the S3 server at {endpoint} refused to create a bucket: {status} {}",
            String::from_utf8_lossy(&body)
        ),
        Err(_) => unreachable("an S3-compatible server", &endpoint),
    }
}

/// One HTTP/1.1 request over plain TCP (`http://host:port/path?query`):
/// its status and body. Enough for a loopback S3 server and presigned URLs,
/// without an HTTP client dependency.
pub async fn http(method: &str, url: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// URLs"))?;
    let (host, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let connect = tokio::net::TcpStream::connect(host);
    let mut stream = tokio::time::timeout(Duration::from_secs(2), connect)
        .await
        .map_err(|_| std::io::Error::other("connect timed out"))??;
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::other("response timed out"))??;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let headers = String::from_utf8_lossy(&response[..split]).to_string();
    let status = headers
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut payload = response[split + 4..].to_vec();
    if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        payload = dechunk(&payload);
    }
    Ok((status, payload))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..(start + size).min(data.len())]);
        data = &data[(start + size + 2).min(data.len())..];
    }
    out
}
