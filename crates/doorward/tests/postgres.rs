//! PostgreSQL beyond the store conformance suite: read replicas, pool
//! settings and errors at open.
//!
//! A "replica" here is a schema of its own that the primary never writes
//! to: the most lagging replica there can be. Whatever a call finds there
//! proves where it read.
#![cfg(feature = "postgres")]

mod common;

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
    let pair = dw.auth().login("ann", PASSWORD, None).await.unwrap();
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
