//! Domain events: the outbox written with each change on every backend,
//! delivery to subscribers and signed webhooks (retries, dead letters,
//! replay, order, restarts, two instances), and the audit chain.
#![cfg(all(feature = "sqlite", feature = "webhooks"))]

mod common;

use common::SignedIn as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::receiver::receiver;
use common::{ErrCode, PASSWORD};
use doorward::events::EventType;
use doorward::store::{AuditFilter, DeliveryStatus};
use doorward::{Config, Doorward, ErrorCode, UserUpdate};

fn config(database_url: &str) -> Config {
    Config {
        events_poll_interval_ms: 20,
        events_retry_base_ms: 10,
        events_retry_max_secs: 1,
        events_max_attempts: 4,
        // The receivers listen on loopback.
        webhook_allow_private: true,
        ..common::config(database_url)
    }
}

async fn types_of(dw: &Doorward) -> Vec<EventType> {
    dw.events()
        .list(None, 1000)
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.event_type)
        .collect()
}

/// Every change writes its event, and a refused change writes none.
#[tokio::test]
async fn every_change_writes_its_event_on_every_backend() {
    use EventType::*;
    for url in common::backends().await {
        let dw = Doorward::open(Config {
            events_dispatch: false,
            lockout_threshold: 2,
            ..config(&url)
        })
        .await
        .unwrap();
        let client = doorward::ClientInfo {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("events/1.0".into()),
        };
        let reg = dw
            .auth()
            .register_user("john", "john@example.com", PASSWORD, Some(client.clone()))
            .await
            .unwrap();
        let uid = reg.user.id.clone();
        // Refused: nothing written.
        let dup = dw
            .auth()
            .register_user("other", "john@example.com", PASSWORD, None)
            .await;
        assert_eq!(dup.err_code(), ErrorCode::DuplicateEmail);
        let pair = dw
            .auth()
            .login("john", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let newer = dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
        assert_eq!(
            dw.auth()
                .refresh_token(&pair.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenReused
        );
        dw.auth().logout(&reg.tokens.access_token).await.unwrap();
        dw.auth().logout(&reg.tokens.access_token).await.unwrap(); // no second event
        let _ = dw.auth().login("nobody", PASSWORD, None).await.signed_in();
        let _ = dw
            .auth()
            .login("john", "wrong password!", None)
            .await
            .signed_in();
        let _ = dw
            .auth()
            .login("john", "wrong password!", None)
            .await
            .signed_in();
        dw.users().unlock(&uid).await.unwrap();
        dw.users()
            .change_password(&uid, PASSWORD, "another good passphrase", None)
            .await
            .unwrap();
        dw.users()
            .update(
                &uid,
                UserUpdate {
                    username: Some("johnny".into()),
                    ..UserUpdate::default()
                },
            )
            .await
            .unwrap();
        dw.roles().create("editor", &["posts:*"], "").await.unwrap();
        assert!(dw.roles().grant(&uid, "editor").await.unwrap());
        assert!(!dw.roles().grant(&uid, "editor").await.unwrap()); // no event
        dw.roles().revoke(&uid, "editor").await.unwrap();
        dw.roles().delete("editor").await.unwrap();
        let s = dw.auth().issue_tokens(&uid, None).await.unwrap();
        let sid = dw
            .auth()
            .verify_token(&s.access_token)
            .await
            .unwrap()
            .session_id;
        dw.sessions().revoke(&sid).await.unwrap();
        dw.users().disable(&uid).await.unwrap();
        dw.users().enable(&uid).await.unwrap();
        dw.users().delete(&uid).await.unwrap();
        drop(newer);

        assert_eq!(
            types_of(&dw).await,
            [
                UserRegistered,
                LoginSucceeded, // the registration's session
                LoginSucceeded,
                TokenRefreshed,
                TokenReuseDetected,
                LoggedOut,   // once: the second logout changes nothing
                LoginFailed, // unknown user
                LoginFailed,
                LoginFailed,
                AccountLocked, // the second wrong password in a row
                PasswordChanged,
                UserUpdated,
                RoleCreated,
                RoleGranted, // once: the second grant changes nothing
                RoleRevoked,
                RoleDeleted,
                LoginSucceeded, // issue_tokens
                SessionRevoked,
                UserDisabled,
                UserEnabled,
                UserDeleted,
            ],
            "on {url}"
        );
        let events = dw.events().list(None, 1000).await.unwrap().items;
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "commit order on {url}"
        );
        let first = &events[0];
        assert_eq!(first.subject.as_deref(), Some(uid.as_str()));
        assert_eq!(
            first.actor.as_deref(),
            Some(uid.as_str()),
            "self-registration"
        );
        assert_eq!(first.ip.as_deref(), Some("203.0.113.7"));
        assert_eq!(first.payload["username"], "john");
        let unknown = events.iter().find(|e| e.event_type == LoginFailed).unwrap();
        assert_eq!(unknown.payload["reason"], "unknown_user");
        assert_eq!(unknown.subject, None, "the login name is not recorded");
        // No secret and no email address in any payload.
        let all = serde_json::to_string(&events).unwrap();
        for secret in [
            "john@example.com",
            PASSWORD,
            "wrong password!",
            pair.refresh_token.as_str(),
            reg.tokens.access_token.as_str(),
            "$argon2",
        ] {
            assert!(!all.contains(secret), "a secret in the outbox on {url}");
        }
        // Paging.
        let page = dw.events().list(None, 5).await.unwrap();
        let rest = dw
            .events()
            .list(page.next_cursor.as_deref(), 1000)
            .await
            .unwrap();
        assert_eq!(page.items.len() + rest.items.len(), events.len());
        assert_eq!(rest.next_cursor, None);
    }
}

#[tokio::test]
async fn subscribers_get_events_in_order_and_failures_are_retried() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(Mutex::new(0));
    let (s, f) = (seen.clone(), failures.clone());
    let sub = dw
        .events()
        .subscribe(None, &[EventType::RoleCreated], move |e| {
            let mut failures = f.lock().unwrap();
            let result = if *failures < 2 {
                *failures += 1;
                Err("not yet".to_string())
            } else {
                s.lock()
                    .unwrap()
                    .push(e.payload["role"].as_str().unwrap().to_string());
                Ok(())
            };
            async move { result }
        })
        .await
        .unwrap();
    for name in ["a", "b", "c"] {
        dw.roles().create(name, &["x:y"], "").await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while seen.lock().unwrap().len() < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("delivered after the retries");
    assert_eq!(*seen.lock().unwrap(), ["a", "b", "c"]);
    assert_eq!(*failures.lock().unwrap(), 2);
    sub.close();
    assert!(!sub.is_open());
    dw.roles().create("d", &["x:y"], "").await.unwrap();
    dw.events().flush().await.unwrap();
    assert_eq!(seen.lock().unwrap().len(), 3, "closed: no more deliveries");
}

#[tokio::test]
async fn a_panicking_subscriber_is_retried_and_never_stops_the_dispatcher() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    dw.events()
        .subscribe(None, &[EventType::RoleCreated], move |e| {
            let role = e.payload["role"].as_str().unwrap().to_string();
            c.lock().unwrap().push(role.clone());
            async move {
                assert_ne!(role, "a", "a host bug");
                Ok(())
            }
        })
        .await
        .unwrap();
    dw.roles().create("a", &["x:y"], "").await.unwrap();
    dw.roles().create("b", &["x:y"], "").await.unwrap();
    wait_for("b", || calls.lock().unwrap().contains(&"b".to_string())).await;
    // Given up on "a" after events_max_attempts (4); "b" still came.
    assert_eq!(*calls.lock().unwrap(), ["a", "a", "a", "a", "b"]);
}

#[tokio::test]
async fn a_handler_that_never_finishes_times_out_and_others_still_get_events() {
    let dw = Doorward::open(Config {
        events_handler_timeout_ms: 50,
        events_max_attempts: 2,
        ..config("memory://")
    })
    .await
    .unwrap();
    let stuck = Arc::new(Mutex::new(0));
    let s = stuck.clone();
    dw.events()
        .subscribe(None, &[EventType::RoleCreated], move |_| {
            *s.lock().unwrap() += 1;
            std::future::pending()
        })
        .await
        .unwrap();
    let hook = Arc::new(Mutex::new(Vec::new()));
    let h = hook.clone();
    dw.events()
        .subscribe(None, &[EventType::RoleCreated], move |e| {
            h.lock().unwrap().push(e.subject.unwrap());
            async { Ok(()) }
        })
        .await
        .unwrap();
    dw.roles().create("a", &["x:y"], "").await.unwrap();
    wait_for("the second subscriber", || !hook.lock().unwrap().is_empty()).await;
    wait_for("both attempts", || *stuck.lock().unwrap() == 2).await;
    // The audit consumer was not held up either.
    dw.events().flush().await.unwrap();
    let audit = dw
        .audit()
        .list(&AuditFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
}

/// A durable subscriber resumes after a restart where it left off, and
/// events committed while nothing was running are delivered then.
#[tokio::test]
async fn a_named_subscriber_resumes_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("auth.db").display());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let subscribe = |dw: Doorward, seen: Arc<Mutex<Vec<String>>>| async move {
        dw.events()
            .subscribe(Some("mailer"), &[EventType::RoleCreated], move |e| {
                seen.lock().unwrap().push(e.subject.unwrap());
                async { Ok(()) }
            })
            .await
            .unwrap();
        dw
    };
    // A lease held by an instance that is gone lapses after
    // events_lease_secs; a restarted instance is a new owner and waits
    // that long, so shorten it for the test.
    let short = Config {
        events_lease_secs: 1,
        ..config(&url)
    };
    let dw = subscribe(Doorward::open(short.clone()).await.unwrap(), seen.clone()).await;
    dw.roles().create("first", &["x:y"], "").await.unwrap();
    dw.events().flush().await.unwrap();
    drop(dw);
    // Committed by a process that delivers nothing (as if killed first).
    let quiet = Doorward::open(Config {
        events_dispatch: false,
        ..config(&url)
    })
    .await
    .unwrap();
    quiet.roles().create("second", &["x:y"], "").await.unwrap();
    drop(quiet);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let restarted = subscribe(Doorward::open(short).await.unwrap(), seen.clone()).await;
    tokio::time::timeout(Duration::from_secs(10), async {
        while seen.lock().unwrap().len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the missed event arrives");
    assert_eq!(*seen.lock().unwrap(), ["first", "second"]);
    drop(restarted);
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(20), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_until_delivered() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let (url, received) = receiver(vec![500, 503, 500]).await;
    let hook = dw
        .webhooks()
        .add(&url, &[EventType::RoleCreated])
        .await
        .unwrap();
    assert!(hook.secret.starts_with("whsec_"));
    assert!(!format!("{hook:?}").contains(&hook.secret));
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    dw.users()
        .create("ann", "ann@example.com", PASSWORD)
        .await
        .unwrap(); // filtered out
    wait_for("four attempts", || {
        received.lock().unwrap().requests.len() >= 4
    })
    .await;
    dw.events().flush().await.unwrap();
    let requests = received.lock().unwrap().requests.clone();
    assert_eq!(requests.len(), 4, "three failures, then the success");
    let ids: Vec<&str> = requests.iter().map(|r| r.0.as_str()).collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id across retries"
    );
    for (id, ts, sig, body) in &requests {
        let expected =
            doorward::events::sign_webhook(&hook.secret, id, ts.parse().unwrap(), body).unwrap();
        assert_eq!(sig, &expected);
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["type"], "RoleCreated");
        assert_eq!(json["data"]["payload"]["role"], "editor");
        assert_eq!(json["data"]["id"], id.as_str());
    }
    let delivered = dw
        .events()
        .deliveries(Some(DeliveryStatus::Delivered), None, 10)
        .await
        .unwrap();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].attempts, 4);
}

#[tokio::test]
async fn a_receiver_that_always_fails_ends_dead_lettered_and_replays() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let (url, received) = receiver(vec![500; 4]).await;
    dw.webhooks().add(&url, &[]).await.unwrap();
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    let dead = loop {
        let dead = dw.events().dead().await.unwrap();
        if !dead.is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 4);
    assert_eq!(dead[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(received.lock().unwrap().requests.len(), 4);
    // The receiver is fixed (it answers 200 from now on): replay.
    dw.events().replay(dead[0].id).await.unwrap();
    wait_for("the replay", || {
        received.lock().unwrap().requests.len() == 5
    })
    .await;
    dw.events().flush().await.unwrap();
    assert!(dw.events().dead().await.unwrap().is_empty());
    assert_eq!(
        dw.events().replay(dead[0].id).await.err_code(),
        ErrorCode::NotFound,
        "only a dead delivery replays"
    );
    assert_eq!(
        dw.webhooks().remove("wh_nope").await.err_code(),
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn webhook_urls_and_event_types_are_checked() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    for bad in ["", "ftp://example.com/x", "not a url", "/relative"] {
        assert_eq!(
            dw.webhooks().add(bad, &[]).await.err_code(),
            ErrorCode::ValidationError,
            "{bad:?}"
        );
    }
    assert!("NoSuchEvent".parse::<EventType>().is_err());
    assert!(dw.webhooks().list().await.unwrap().is_empty());
    let (url, received) = receiver(vec![]).await;
    let hook = dw.webhooks().add(&url, &[]).await.unwrap();
    let test = dw.webhooks().test(&hook.id).await.unwrap();
    assert!(test.ok, "{test:?}");
    assert_eq!(received.lock().unwrap().requests.len(), 1);
    dw.webhooks().remove(&hook.id).await.unwrap();
    assert!(dw.webhooks().list().await.unwrap().is_empty());
}

/// Events committed by an instance that died before delivering them are
/// delivered by the next one.
#[tokio::test]
async fn events_committed_before_a_crash_are_delivered_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("auth.db").display());
    let (hook_url, received) = receiver(vec![]).await;
    let first = Doorward::open(Config {
        events_dispatch: false,
        ..config(&url)
    })
    .await
    .unwrap();
    first.webhooks().add(&hook_url, &[]).await.unwrap();
    first
        .roles()
        .create("editor", &["posts:*"], "")
        .await
        .unwrap();
    drop(first);
    assert!(received.lock().unwrap().requests.is_empty());
    let restarted = Doorward::open(config(&url)).await.unwrap();
    wait_for("the delivery", || {
        received.lock().unwrap().requests.len() == 1
    })
    .await;
    let body: serde_json::Value =
        serde_json::from_str(&received.lock().unwrap().requests[0].3).unwrap();
    assert_eq!(body["type"], "RoleCreated");
    drop(restarted);
}

/// Deliveries about one subject keep their order even when the first has
/// to be retried.
#[tokio::test]
async fn deliveries_about_one_subject_keep_their_order() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let (url, received) = receiver(vec![500, 500]).await;
    dw.webhooks().add(&url, &[]).await.unwrap();
    let user = dw
        .users()
        .create("ann", "ann@example.com", PASSWORD)
        .await
        .unwrap();
    dw.users().disable(&user.id).await.unwrap();
    dw.users().enable(&user.id).await.unwrap();
    wait_for("five requests", || {
        received.lock().unwrap().requests.len() >= 5
    })
    .await;
    let types: Vec<String> = received
        .lock()
        .unwrap()
        .requests
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.3).unwrap()["type"].to_string())
        .collect();
    assert_eq!(
        types,
        [
            "\"UserRegistered\"",
            "\"UserRegistered\"",
            "\"UserRegistered\"",
            "\"UserDisabled\"",
            "\"UserEnabled\""
        ]
    );
}

#[tokio::test]
async fn the_audit_log_records_changes_and_detects_an_edited_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth.db");
    let url = format!("sqlite://{}", path.display());
    let dw = Doorward::open(config(&url)).await.unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    let _ = dw
        .auth()
        .login("john", "wrong password!", None)
        .await
        .signed_in();
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    dw.roles().grant(&reg.user.id, "editor").await.unwrap();
    dw.events().flush().await.unwrap();

    let all = dw
        .audit()
        .list(&AuditFilter::default(), None, 100)
        .await
        .unwrap();
    let kinds: Vec<&str> = all.items.iter().map(|r| r.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "UserRegistered",
            "LoginSucceeded",
            "LoginFailed",
            "RoleCreated",
            "RoleGranted"
        ]
    );
    assert_eq!(all.items[2].outcome, "failure");
    let johns = dw
        .audit()
        .list(
            &AuditFilter {
                user_id: Some(reg.user.id.clone()),
                ..AuditFilter::default()
            },
            None,
            2,
        )
        .await
        .unwrap();
    assert_eq!(johns.items.len(), 2);
    let more = dw
        .audit()
        .list(
            &AuditFilter {
                user_id: Some(reg.user.id.clone()),
                ..AuditFilter::default()
            },
            johns.next_cursor.as_deref(),
            10,
        )
        .await
        .unwrap();
    assert_eq!(more.items.len(), 2, "LoginFailed and RoleGranted");
    let failed = dw
        .audit()
        .list(
            &AuditFilter {
                event_type: Some(EventType::LoginFailed),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(failed.items.len(), 1);
    let later = dw
        .audit()
        .list(
            &AuditFilter {
                since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
                ..AuditFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert!(later.items.is_empty());
    let export = dw.audit().export(None).await.unwrap();
    assert_eq!(export.lines().count(), 5);
    for line in export.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let ok = dw.audit().verify().await.unwrap();
    assert!(ok.ok && ok.rows == 5, "{ok:?}");

    // Someone with database access rewrites history.
    use sqlx::Connection as _;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit_log SET ip = '198.51.100.1' WHERE seq = 3")
        .execute(&mut conn)
        .await
        .unwrap();
    let bad = dw.audit().verify().await.unwrap();
    assert!(!bad.ok);
    assert_eq!(bad.first_bad_seq, Some(3));
    assert_eq!(bad.head, all.items[1].hash, "the last good row");
    // A deleted row is a gap.
    sqlx::query("UPDATE audit_log SET ip = NULL WHERE seq = 3")
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(dw.audit().verify().await.unwrap().ok, "restored");
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    let gap = dw.audit().verify().await.unwrap();
    assert_eq!((gap.ok, gap.first_bad_seq), (false, Some(2)));
}

/// Two instances sharing PostgreSQL deliver 1,000 events to one receiver:
/// none lost, none delivered twice.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_deliver_each_event_once() {
    let Some(url) = common::services::postgres_url().await else {
        return;
    };
    let (hook_url, received) = receiver(vec![]).await;
    let a = Doorward::open(config(&url)).await.unwrap();
    let b = Doorward::open(config(&url)).await.unwrap();
    a.webhooks()
        .add(&hook_url, &[EventType::RoleCreated])
        .await
        .unwrap();
    let writers = [a.clone(), b.clone()].map(|dw| {
        tokio::spawn(async move {
            for i in 0..500 {
                let name = format!("r{}-{i}", uuid::Uuid::new_v4().simple());
                dw.roles().create(&name, &["x:y"], "").await.unwrap();
            }
        })
    });
    for w in writers {
        w.await.unwrap();
    }
    wait_for("1,000 deliveries", || {
        received.lock().unwrap().requests.len() >= 1000
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let requests = &received.lock().unwrap().requests;
    let mut counts = std::collections::HashMap::<&str, u32>::new();
    for r in requests.iter() {
        *counts.entry(r.0.as_str()).or_default() += 1;
    }
    assert_eq!(counts.len(), 1000, "every event");
    assert!(counts.values().all(|n| *n == 1), "none twice");
}

#[cfg(feature = "files")]
#[tokio::test]
async fn files_write_their_events() {
    use EventType::*;
    let dw = Doorward::open(Config {
        events_dispatch: false,
        ..config("memory://")
    })
    .await
    .unwrap();
    dw.files()
        .put("avatars/1.png", &b"png"[..], Some("image/png"))
        .await
        .unwrap();
    assert!(dw.files().delete("avatars/1.png").await.unwrap());
    assert!(!dw.files().delete("avatars/1.png").await.unwrap()); // absent: no event
    assert_eq!(types_of(&dw).await, [FileStored, FileDeleted]);
    let stored = &dw.events().list(None, 10).await.unwrap().items[0];
    assert_eq!(stored.subject.as_deref(), Some("avatars/1.png"));
    assert_eq!(stored.payload["size"], 3);
    assert_eq!(stored.payload["content_type"], "image/png");
}

async fn outbox_seqs(dw: &Doorward) -> Vec<u64> {
    let page = dw.events().list(None, 100).await.unwrap();
    page.items.iter().map(|e| e.seq).collect()
}

/// Wait until the outbox holds exactly `expected`, as the background
/// dispatcher prunes it (at most every `events_retention_secs` here).
async fn wait_for_outbox(dw: &Doorward, expected: &[u64], why: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seqs = outbox_seqs(dw).await;
        if seqs == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{why}: the outbox holds {seqs:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Retention: an event goes once every consumer has passed it and it is
/// older than `events_retention_secs`, with its delivered deliveries. A
/// delivery not yet done, a subscriber that has not handled it, and being
/// the newest event keep it; a durable subscriber idle for longer than the
/// retention (and the longest retry wait) stops holding events back. The
/// audit log keeps every row.
#[tokio::test]
async fn the_outbox_prunes_what_every_consumer_has_passed() {
    for url in common::backends().await {
        let dw = Doorward::open(Config {
            events_retention_secs: 1,
            events_lease_secs: 1,
            events_max_attempts: 1000,
            ..config(&url)
        })
        .await
        .unwrap();
        let (healthy, delivered) = receiver(Vec::new()).await;
        let (failing, _) = receiver(vec![500; 100_000]).await;
        dw.webhooks()
            .add(&healthy, &[EventType::RoleCreated])
            .await
            .unwrap();
        dw.webhooks()
            .add(&failing, &[EventType::RoleDeleted])
            .await
            .unwrap();
        // Events 1 and 2: the two WebhookAdded, sent to neither webhook.

        // A durable subscriber that takes events 3 to 5, then stops running.
        let mailed = Arc::new(Mutex::new(0));
        let m = mailed.clone();
        let mailer = dw
            .events()
            .subscribe(Some("mailer"), &[], move |_| {
                *m.lock().unwrap() += 1;
                async { Ok(()) }
            })
            .await
            .unwrap();
        dw.roles().create("a", &["x:y"], "").await.unwrap(); // 3
        dw.roles().delete("a").await.unwrap(); // 4: its delivery keeps failing
        dw.roles().create("b", &["x:y"], "").await.unwrap(); // 5
        wait_for("the mailer", || *mailed.lock().unwrap() == 3).await;
        mailer.close();

        // A subscriber that cannot handle anything after 5 yet.
        let stuck = Arc::new(Mutex::new(true));
        let s = stuck.clone();
        let _waiting = dw
            .events()
            .subscribe(None, &[], move |_| {
                let result = if *s.lock().unwrap() {
                    Err("not yet".to_string())
                } else {
                    Ok(())
                };
                async move { result }
            })
            .await
            .unwrap();
        dw.roles().create("c", &["x:y"], "").await.unwrap(); // 6
        dw.roles().create("d", &["x:y"], "").await.unwrap(); // 7
        wait_for("the healthy receiver", || {
            delivered.lock().unwrap().requests.len() == 4
        })
        .await;

        // 1, 2, 3 and 5 go; 4 waits for its delivery, 6 and 7 for the
        // subscriber.
        wait_for_outbox(&dw, &[4, 6, 7], &url).await;
        // Past the mailer's idle limit (2 s), the stuck subscriber still holds.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        dw.events().flush().await.unwrap();
        assert_eq!(outbox_seqs(&dw).await, [4, 6, 7], "{url}");

        // Unstuck: 6 goes. 7 stays as the newest, though every consumer
        // has passed it; the idle mailer (at 5) holds nothing back.
        *stuck.lock().unwrap() = false;
        wait_for_outbox(&dw, &[4, 7], &url).await;

        let deliveries = dw.events().deliveries(None, None, 100).await.unwrap();
        let kept: Vec<(u64, DeliveryStatus)> =
            deliveries.iter().map(|d| (d.event_seq, d.status)).collect();
        assert_eq!(
            kept,
            [(4, DeliveryStatus::Pending), (7, DeliveryStatus::Delivered)],
            "{url}: delivered deliveries go with their events"
        );
        let audit = dw.audit().verify().await.unwrap();
        assert!(audit.ok && audit.rows == 7, "{url}: {audit:?}");
        let metrics = dw.metrics_text().await.unwrap();
        assert!(
            metrics.contains("doorward_events_pruned_total 5"),
            "{url}: {metrics}"
        );
        // New events are numbered after the pruned ones.
        dw.roles().create("e", &["x:y"], "").await.unwrap();
        assert_eq!(outbox_seqs(&dw).await.last(), Some(&8), "{url}");
    }
}
