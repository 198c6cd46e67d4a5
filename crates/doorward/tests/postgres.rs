//! PostgreSQL beyond the store conformance suite: read replicas, pool
//! settings and errors at open.
//!
//! A "replica" here is a schema of its own that the primary never writes
//! to: the most lagging replica there can be. Whatever a call finds there
//! proves where it read.
#![cfg(feature = "postgres")]

mod common;

use common::SignedIn as _;
use common::{ErrCode as _, PASSWORD, services};
use doorward::{Config, Doorward, ErrorCode};

/// A migrated schema with one user of its own, `name`.
async fn replica_with_user(name: &str) -> Option<String> {
    let url = services::postgres_url().await?;
    let dw = common::open(&url).await;
    dw.users()
        .create(name, &format!("{name}@example.com"), PASSWORD)
        .await
        .unwrap();
    Some(url)
}

#[tokio::test]
async fn plain_reads_go_to_replicas_and_read_after_write_paths_to_the_primary() {
    let Some(primary) = services::postgres_url().await else {
        return;
    };
    let (Some(r1), Some(r2)) = (
        replica_with_user("onreplicaone").await,
        replica_with_user("onreplicatwo").await,
    ) else {
        return;
    };
    let dw = Doorward::open(Config {
        database_read_urls: vec![r1, r2],
        ..common::config(&primary)
    })
    .await
    .unwrap();
    assert_eq!(dw.backend(), "postgres");

    // Register, then at once: log in, verify, refresh, check permissions,
    // read the account through the cache. All on the primary.
    let reg = dw
        .auth()
        .register_user("ann", "ann@example.com", PASSWORD, None)
        .await
        .unwrap();
    let pair = dw
        .auth()
        .login("ann", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    let principal = dw.auth().verify_token(&pair.access_token).await.unwrap();
    assert_eq!(principal.user_id, reg.user.id);
    dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
    assert!(dw.auth().can(&reg.user.id, "users:read").await.unwrap());
    assert_eq!(dw.users().get(&reg.user.id).await.unwrap().username, "ann");
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    assert!(dw.roles().grant(&reg.user.id, "editor").await.unwrap());
    assert!(dw.auth().can(&reg.user.id, "posts:write").await.unwrap());
    assert!(dw.roles().revoke(&reg.user.id, "editor").await.unwrap());

    // Listings and lookups for display: the replicas, in turn.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let page = dw.users().list(None, 10).await.unwrap();
        let names: Vec<String> = page.items.into_iter().map(|u| u.username).collect();
        seen.push(names.join(","));
    }
    assert_eq!(
        seen,
        [
            "onreplicaone",
            "onreplicatwo",
            "onreplicaone",
            "onreplicatwo"
        ]
    );
    assert_eq!(
        dw.users().get_by_email("ann@example.com").await.err_code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        dw.roles().get("editor").await.err_code(),
        ErrorCode::NotFound
    );
    assert!(
        !dw.roles()
            .list()
            .await
            .unwrap()
            .iter()
            .any(|r| r.name == "editor")
    );
    // The user does not exist on the replicas yet.
    assert_eq!(
        dw.sessions().list(&reg.user.id).await.err_code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn read_urls_need_a_postgres_primary_and_bad_urls_fail_at_open() {
    let err = Doorward::open(Config {
        database_read_urls: vec!["postgres://127.0.0.1:1/x".into()],
        ..common::config("memory://")
    })
    .await
    .err_code();
    assert_eq!(err, ErrorCode::ConfigError);

    // A password in a broken URL is not repeated in the error.
    let err = Doorward::open(common::config("postgres://u:sup3rsecret@[::1/x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    assert!(!err.to_string().contains("sup3rsecret"), "{err}");

    // Nothing listens there: a storage error at open, not at first use.
    let err = Doorward::open(Config {
        database_acquire_timeout: 2,
        ..common::config("postgres://postgres@127.0.0.1:1/test")
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageError);
}

#[tokio::test]
async fn pool_settings_are_applied() {
    let Some(url) = services::postgres_url().await else {
        return;
    };
    // One connection: concurrent calls queue for it instead of failing.
    let dw = Doorward::open(Config {
        database_max_connections: 1,
        database_min_connections: 1,
        ..common::config(&url)
    })
    .await
    .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let dw = dw.clone();
            tokio::spawn(async move {
                dw.users()
                    .create(
                        &format!("pool{i}"),
                        &format!("pool{i}@example.com"),
                        PASSWORD,
                    )
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(dw.users().list(None, 50).await.unwrap().items.len(), 8);
}

/// A database made by the migrations before 0007 (times as TIMESTAMPTZ,
/// permissions as TEXT[]) keeps every value through 0007, to the
/// microsecond, and works as before: logins, refreshes, roles.
#[tokio::test]
async fn data_written_before_the_uniform_types_survives_migration_0007() {
    use sqlx::Connection as _;
    use sqlx::migrate::Migrator;

    let Some(url) = services::postgres_url().await else {
        return;
    };
    let all = sqlx::migrate!("./migrations/postgres");
    let before = Migrator {
        migrations: all
            .migrations
            .iter()
            .filter(|m| m.version < 7)
            .cloned()
            .collect(),
        ..Migrator::DEFAULT
    };
    assert_eq!(before.migrations.len(), 6);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    before.run(&mut conn).await.unwrap();

    let hash = doorward::password::Hasher::new(
        doorward::password::HashParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        },
        1,
    )
    .unwrap()
    .hash(PASSWORD)
    .await
    .unwrap();
    let refresh = format!("dwr_{}", "A".repeat(43));
    let refresh_hash: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(refresh.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let statements = [
        "INSERT INTO users (id, username, username_key, email, email_key, password_hash, \
         disabled, created_at, updated_at, last_login_at, failed_logins, locked_until) \
         VALUES ('u1', 'Old', 'old', 'old@example.com', 'old@example.com', $1, FALSE, \
         '2024-02-29 23:59:59.123456+00', '2025-06-01 12:00:00.000001+00', NULL, 2, NULL)",
        "INSERT INTO roles (name, description, permissions, builtin, created_at) \
         VALUES ('auditor', 'reads logs', ARRAY['logs:read', 'users:read'], FALSE, \
         '2024-01-01 00:00:00.5+00')",
        "INSERT INTO user_roles (user_id, role, granted_at) \
         VALUES ('u1', 'auditor', '2024-03-01 00:00:00+00')",
        "INSERT INTO sessions (id, user_id, created_at, expires_at) \
         VALUES ('s1', 'u1', '2025-06-01 12:00:00.000001+00', '2999-01-01 00:00:00.654321+00')",
        "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at) \
         VALUES ($1, 's1', 'u1', '2025-06-01 12:00:00.000001+00', \
         '2999-01-01 00:00:00.654321+00')",
    ];
    for (i, sql) in statements.into_iter().enumerate() {
        let arg = match i {
            0 => hash.as_str(),
            4 => refresh_hash.as_str(),
            _ => "",
        };
        let query = sqlx::query(sql);
        let query = if arg.is_empty() {
            query
        } else {
            query.bind(arg)
        };
        query.execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    // Opening migrates to the current schema.
    let dw = common::open(&url).await;
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let user = dw.users().get("u1").await.unwrap();
    assert_eq!(user.created_at, at("2024-02-29T23:59:59.123456Z"));
    assert_eq!(user.updated_at, at("2025-06-01T12:00:00.000001Z"));
    assert_eq!(user.failed_logins, 2);
    assert_eq!((user.last_login_at, user.locked_until), (None, None));

    let role = dw.roles().get("auditor").await.unwrap();
    assert_eq!(role.permissions, ["logs:read", "users:read"]);
    assert_eq!(role.created_at, at("2024-01-01T00:00:00.5Z"));
    assert_eq!(dw.roles().of_user("u1").await.unwrap(), ["auditor"]);
    assert!(dw.auth().can("u1", "logs:read").await.unwrap());

    let sessions = dw.sessions().list("u1").await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].expires_at, at("2999-01-01T00:00:00.654321Z"));

    // The old refresh token still rotates, and the old password logs in.
    let pair = dw.auth().refresh_token(&refresh).await.unwrap();
    assert_ne!(pair.refresh_token, refresh);
    dw.auth()
        .login("old", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    let user = dw.users().get("u1").await.unwrap();
    assert_eq!(user.failed_logins, 0);
    assert!(user.last_login_at.is_some());
}
