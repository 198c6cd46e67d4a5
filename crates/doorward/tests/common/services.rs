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
