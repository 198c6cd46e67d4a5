//! Several instances on one Redis and one database (PostgreSQL when built
//! with it): sessions, cache invalidation, shared rate limits, and
//! behaviour while Redis is away.
#![cfg(feature = "redis")]

mod common;

use common::SignedIn as _;
use std::time::Duration;

use common::{ErrCode, PASSWORD, proxy::Proxy, services};
use doorward::config::RedisSessionPolicy;
use doorward::{Config, Doorward, ErrorCode, Quota, UserUpdate};

/// Two instances sharing a database (a SQLite file) and a Redis prefix.
struct Pair {
    a: Doorward,
    b: Doorward,
    _dir: tempfile::TempDir,
}

fn unique_prefix() -> String {
    format!("dwtest:{}:", uuid::Uuid::new_v4().simple())
}

fn config_for(database_url: &str, redis_url: &str, prefix: &str) -> Config {
    Config {
        redis_url: Some(redis_url.into()),
        redis_prefix: prefix.into(),
        ..common::config(database_url)
    }
}

/// The database the instances share: PostgreSQL when doorward is built
/// with it (the deployment these tests model), else a SQLite file.
async fn shared_database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    #[cfg(feature = "postgres")]
    if let Some(url) = services::postgres_url().await {
        return (dir, url);
    }
    let url = format!("sqlite://{}", dir.path().join("shared.db").display());
    (dir, url)
}

async fn pair_with(tweak: impl Fn(&mut Config)) -> Option<Pair> {
    let redis = services::redis_url().await?;
    let (dir, db) = shared_database().await;
    let prefix = unique_prefix();
    let mut ca = config_for(&db, &redis, &prefix);
    tweak(&mut ca);
    let a = Doorward::open(ca.clone()).await.unwrap();
    let b = Doorward::open(ca).await.unwrap();
    subscribed(&a).await;
    subscribed(&b).await;
    Some(Pair { a, b, _dir: dir })
}

async fn pair() -> Option<Pair> {
    pair_with(|_| {}).await
}

/// Wait until an instance listens for invalidations.
async fn subscribed(dw: &Doorward) {
    eventually(|| async { dw.cache().stats().resyncs >= 1 }).await;
}

/// Poll `check` for up to 5 s: for effects that travel by pub/sub.
async fn eventually<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached within 5 s");
}

#[tokio::test]
async fn a_revocation_on_one_instance_is_seen_by_the_other_at_once() {
    let Some(p) = pair().await else { return };
    let reg =
        p.a.auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap();
    let pair2 =
        p.b.auth()
            .login("ann", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
    // Each instance accepts the other's session.
    p.b.auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    p.a.auth().verify_token(&pair2.access_token).await.unwrap();
    // Logout on A: B refuses on its very next check, with no waiting.
    p.a.auth().logout(&reg.tokens.access_token).await.unwrap();
    assert_eq!(
        p.b.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .err_code(),
        ErrorCode::TokenRevoked
    );
    // Disabling on B ends A's view of every session of the user at once.
    p.b.users().disable(&reg.user.id).await.unwrap();
    assert_eq!(
        p.a.auth()
            .verify_token(&pair2.access_token)
            .await
            .err_code(),
        ErrorCode::TokenRevoked
    );
}

#[tokio::test]
async fn verify_reads_the_session_from_redis_not_the_database() {
    let Some(redis) = services::redis_url().await else {
        return;
    };
    let (_dir, db) = shared_database().await;
    let prefix = unique_prefix();
    let with_redis = Doorward::open(config_for(&db, &redis, &prefix))
        .await
        .unwrap();
    let reg = with_redis
        .auth()
        .register_user("bob", "bob@example.com", PASSWORD, None)
        .await
        .unwrap();
    let sid = with_redis
        .auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap()
        .session_id;
    // An instance without Redis ends the session in the database only.
    let without = common::open(&db).await;
    without.sessions().revoke(&sid).await.unwrap();
    // Redis still holds the session as live, and it is what gets asked.
    with_redis
        .auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    // Once Redis forgets it, the database answers (and Redis learns).
    let mut conn = common::redis_conn::connect(&redis).await;
    let _: () = redis::cmd("DEL")
        .arg(format!("{prefix}session:{sid}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        with_redis
            .auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .err_code(),
        ErrorCode::TokenRevoked
    );
    let stored: String = redis::cmd("GET")
        .arg(format!("{prefix}session:{sid}"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, "revoked");
}

#[tokio::test]
async fn changes_reach_the_other_instances_cache() {
    let Some(p) = pair().await else { return };
    let reg =
        p.a.auth()
            .register_user("cyd", "cyd@example.com", PASSWORD, None)
            .await
            .unwrap();
    let id = reg.user.id.clone();
    // Warm both L1s.
    assert_eq!(p.a.users().get(&id).await.unwrap().username, "cyd");
    assert_eq!(p.b.users().get(&id).await.unwrap().username, "cyd");
    assert!(!p.b.auth().can(&id, "users:write").await.unwrap());
    let hits = p.b.cache().stats().l1_hits;
    assert_eq!(p.b.users().get(&id).await.unwrap().username, "cyd");
    assert_eq!(p.b.cache().stats().l1_hits, hits + 1, "served from B's L1");

    // A changes the user and grants a role; B sees both after delivery.
    p.a.users()
        .update(
            &id,
            UserUpdate {
                username: Some("cyrus".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    p.a.roles().grant(&id, "moderator").await.unwrap();
    eventually(|| async { p.b.users().get(&id).await.unwrap().username == "cyrus" }).await;
    eventually(|| async { p.b.auth().can(&id, "users:write").await.unwrap() }).await;
    // The username change already dropped B's permission set, so B can
    // see the grant before the grant's own message arrives (later still
    // on a cluster, which forwards it between nodes): wait for both.
    eventually(|| async { p.b.cache().stats().invalidations_received >= 2 }).await;

    // Deleting a role reaches every cached permission set.
    p.a.roles()
        .create("auditor", &["audit:read"], "")
        .await
        .unwrap();
    p.a.roles().grant(&id, "auditor").await.unwrap();
    eventually(|| async { p.b.auth().can(&id, "audit:read").await.unwrap() }).await;
    p.a.roles().delete("auditor").await.unwrap();
    eventually(|| async { !p.b.auth().can(&id, "audit:read").await.unwrap() }).await;
}

#[tokio::test]
async fn the_second_instance_is_served_from_redis() {
    let Some(p) = pair().await else { return };
    let reg =
        p.a.auth()
            .register_user("dina", "dina@example.com", PASSWORD, None)
            .await
            .unwrap();
    p.a.users().get(&reg.user.id).await.unwrap();
    let before = p.b.cache().stats();
    p.b.users().get(&reg.user.id).await.unwrap();
    let after = p.b.cache().stats();
    assert_eq!(after.l2_hits, before.l2_hits + 1);
    assert_eq!(after.loads, before.loads, "no store load on B");
}

#[tokio::test]
async fn memoize_and_flush_span_instances() {
    let Some(p) = pair().await else { return };
    let ttl = Duration::from_secs(60);
    let v: u32 =
        p.a.cache()
            .memoize("report", ttl, || async { Ok(1) })
            .await
            .unwrap();
    let w: u32 =
        p.b.cache()
            .memoize("report", ttl, || async { Ok(2) })
            .await
            .unwrap();
    assert_eq!((v, w), (1, 1), "B got A's value through Redis");
    p.b.cache()
        .set("report", &serde_json::json!(3), ttl)
        .await
        .unwrap();
    eventually(|| async { p.a.cache().get("report").await.unwrap() == Some(serde_json::json!(3)) })
        .await;
    p.a.cache().flush().await.unwrap();
    assert_eq!(p.a.cache().get("report").await.unwrap(), None);
    eventually(|| async { p.b.cache().get("report").await.unwrap().is_none() }).await;
}

#[tokio::test]
async fn instances_share_rate_limits() {
    let Some(p) = pair().await else { return };
    let quota: Quota = "5/1m".parse().unwrap();
    let mut admitted = 0;
    for i in 0..10 {
        let dw = if i % 2 == 0 { &p.a } else { &p.b };
        match dw.limits().limit("export:u1", &quota).await {
            Ok(_) => admitted += 1,
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::RateLimited);
                let retry = e.retry_after().unwrap();
                assert!(retry > Duration::from_secs(5) && retry <= Duration::from_secs(12));
            }
        }
    }
    assert_eq!(admitted, 5);
}

#[tokio::test]
async fn built_in_login_limits_are_shared() {
    let Some(p) = pair_with(|c| c.rate_limit_login_account = "3/1m".into()).await else {
        return;
    };
    p.a.auth()
        .register_user("eve", "eve@example.com", PASSWORD, None)
        .await
        .unwrap();
    p.a.auth()
        .login("eve", "wrong password 1", None)
        .await
        .signed_in()
        .ok();
    p.b.auth()
        .login("EVE", "wrong password 2", None)
        .await
        .signed_in()
        .ok();
    p.a.auth()
        .login("eve", "wrong password 3", None)
        .await
        .signed_in()
        .ok();
    let err =
        p.b.auth()
            .login("eve", PASSWORD, None)
            .await
            .signed_in()
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert!(err.retry_after().unwrap() > Duration::from_secs(15));
}

/// Redis behind a proxy that the test cuts and restores. One server only:
/// a cluster's nodes tell clients their own addresses, around any proxy
/// (`redis_failover` cuts a cluster node instead).
async fn behind_proxy(policy: RedisSessionPolicy) -> Option<(Doorward, Proxy, tempfile::TempDir)> {
    let redis = services::redis_url().await?;
    if services::is_cluster(&redis) {
        eprintln!("skipped on a cluster: a proxy cannot stand in front of one");
        return None;
    }
    let upstream = redis
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let proxy = Proxy::start(upstream).await;
    let (dir, db) = shared_database().await;
    let config = Config {
        redis_session_policy: policy,
        redis_timeout_ms: 200,
        ..config_for(&db, &format!("redis://{}", proxy.addr), &unique_prefix())
    };
    let dw = Doorward::open(config).await.unwrap();
    subscribed(&dw).await;
    Some((dw, proxy, dir))
}

#[tokio::test]
async fn without_redis_sessions_fail_closed_and_everything_heals() {
    let Some((dw, proxy, _dir)) = behind_proxy(RedisSessionPolicy::FailClosed).await else {
        return;
    };
    let reg = dw
        .auth()
        .register_user("fay", "fay@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.users().get(&reg.user.id).await.unwrap();
    proxy.cut();
    // Sessions: refused, not waved through.
    assert_eq!(
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .err_code(),
        ErrorCode::StorageError
    );
    // Cache reads fall back to the store; rate limits to the process.
    dw.cache().flush().await.ok();
    assert_eq!(dw.users().get(&reg.user.id).await.unwrap().username, "fay");
    assert!(dw.auth().can(&reg.user.id, "users:read").await.unwrap());
    dw.limits()
        .limit("k", &"1/1m".parse().unwrap())
        .await
        .unwrap();
    // A revocation made while Redis is away is replayed when it returns.
    let other = dw
        .auth()
        .login("fay", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    dw.auth().logout(&other.access_token).await.unwrap();
    let stats = dw.cache().stats();
    assert!(!stats.redis_up);
    assert!(stats.redis_errors > 0);
    let resyncs = stats.resyncs;

    proxy.restore();
    eventually(|| async {
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .is_ok()
    })
    .await;
    eventually(|| async { dw.cache().stats().resyncs > resyncs }).await;
    assert!(dw.cache().stats().redis_up);
    assert_eq!(
        dw.auth().verify_token(&other.access_token).await.err_code(),
        ErrorCode::TokenRevoked
    );
}

/// The subscription replays a revocation that missed Redis at its next
/// ping. While that replay waits on a Redis that has stopped answering (or
/// that is a replica promoted without the tombstone), the revoking instance
/// keeps refusing the session from what it knows, instead of asking Redis.
#[tokio::test]
async fn a_revocation_being_replayed_is_still_refused_by_its_instance() {
    let Some((dw, proxy, _dir)) = behind_proxy(RedisSessionPolicy::FailClosed).await else {
        return;
    };
    let reg = dw
        .auth()
        .register_user("rae", "rae@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = reg.tokens.access_token;
    dw.auth().verify_token(&token).await.unwrap();
    proxy.stall();
    dw.auth().logout(&token).await.unwrap();
    let errors = dw.cache().stats().redis_errors;
    // The ping comes within 5 s; its replay then waits out the timeout.
    let until = std::time::Instant::now() + Duration::from_secs(7);
    let mut checks = 0;
    while std::time::Instant::now() < until {
        assert_eq!(
            dw.auth().verify_token(&token).await.err_code(),
            ErrorCode::TokenRevoked,
            "check {checks}"
        );
        checks += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        dw.cache().stats().redis_errors > errors,
        "the subscription never pinged the stalled Redis"
    );
    proxy.resume();
}

#[tokio::test]
async fn the_database_policy_checks_sessions_in_the_store_while_redis_is_away() {
    let Some((dw, proxy, _dir)) = behind_proxy(RedisSessionPolicy::Database).await else {
        return;
    };
    let reg = dw
        .auth()
        .register_user("gus", "gus@example.com", PASSWORD, None)
        .await
        .unwrap();
    proxy.cut();
    let sid = dw
        .auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap()
        .session_id;
    dw.sessions().revoke(&sid).await.unwrap();
    assert_eq!(
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .err_code(),
        ErrorCode::TokenRevoked
    );
}

#[tokio::test]
async fn cached_sessions_are_invalidated_across_instances() {
    let Some(p) = pair_with(|c| c.session_cache_ttl = 300).await else {
        return;
    };
    let reg =
        p.a.auth()
            .register_user("hal", "hal@example.com", PASSWORD, None)
            .await
            .unwrap();
    p.b.auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    let hits = p.b.cache().stats().l1_hits;
    p.b.auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    assert_eq!(p.b.cache().stats().l1_hits, hits + 1);
    p.a.auth().logout(&reg.tokens.access_token).await.unwrap();
    eventually(|| async {
        p.b.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .is_err()
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_redis_at_start_is_not_fatal() {
    let proxy = Proxy::start("127.0.0.1:1".into()).await;
    proxy.cut();
    let (_dir, db) = shared_database().await;
    let dw = Doorward::open(config_for(
        &db,
        &format!("redis://{}", proxy.addr),
        &unique_prefix(),
    ))
    .await
    .unwrap();
    let reg = dw
        .auth()
        .register_user("ida", "ida@example.com", PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .err_code(),
        ErrorCode::StorageError
    );
    assert!(dw.cache().stats().redis_errors > 0);
}

/// A revocation whose tombstone Redis refused while pub/sub stayed up
/// (here the instances' ACL user loses SET) reaches Redis as soon as it
/// takes writes again, not at a reconnection that never comes; meanwhile
/// the revoking instance refuses the session itself.
#[tokio::test]
async fn a_tombstone_that_missed_redis_is_written_once_redis_takes_writes() {
    let Some(redis) = services::redis_url().await else {
        return;
    };
    if redis.contains('@') {
        eprintln!("skipped: the test Redis URL already names a user");
        return;
    }
    let mut admin = common::redis_conn::connect(&redis).await;
    let user = format!("dwtest{}", uuid::Uuid::new_v4().simple());
    let acl = |rules: &[&str]| {
        let mut cmd = redis::cmd("ACL");
        cmd.arg("SETUSER").arg(&user).arg(rules);
        cmd
    };
    acl(&["on", ">acl-test-password", "~*", "&*", "+@all"])
        .query_async::<()>(&mut admin)
        .await
        .unwrap();
    let as_user = redis.replacen("://", &format!("://{user}:acl-test-password@"), 1);
    let (_dir, db) = shared_database().await;
    let prefix = unique_prefix();
    let a = Doorward::open(config_for(&db, &as_user, &prefix))
        .await
        .unwrap();
    let b = Doorward::open(config_for(&db, &as_user, &prefix))
        .await
        .unwrap();
    subscribed(&a).await;
    subscribed(&b).await;
    let reg = a
        .auth()
        .register_user("acl", "acl@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = reg.tokens.access_token;
    b.auth().verify_token(&token).await.unwrap();

    acl(&["-set"]).query_async::<()>(&mut admin).await.unwrap();
    a.auth().logout(&token).await.unwrap();
    assert_eq!(
        a.auth().verify_token(&token).await.err_code(),
        ErrorCode::TokenRevoked,
        "the revoking instance knows"
    );
    acl(&["+set"]).query_async::<()>(&mut admin).await.unwrap();
    // The subscription pings every 5 s and replays then.
    let mut last = Ok(());
    for _ in 0..120 {
        last = b.auth().verify_token(&token).await.map(|_| ());
        if last.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Deleting the user drops its connections: after the checks.
    let _: () = redis::cmd("ACL")
        .arg("DELUSER")
        .arg(&user)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(
        last.err_code(),
        ErrorCode::TokenRevoked,
        "the other instance still accepts the revoked session"
    );
}
