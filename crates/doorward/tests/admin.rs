//! An administrator's operations on every backend: the dashboard's numbers
//! and sessions across accounts, and importing accounts: other systems'
//! hashes log in and
//! are replaced by argon2id; bad rows are named and never half-written;
//! `atomic` and dry runs write nothing; made-up usernames never collide;
//! one `UsersImported` event, no `UserRegistered`; export round-trips.

mod common;

use common::{ErrCode as _, PASSWORD, backends};
use doorward::{Doorward, ErrorCode, EventType, ImportOptions, UserRow};

/// Made by the real libraries for PASSWORD (Python's bcrypt, Django 5.2's
/// hashers, passlib, hashlib.scrypt); the password module's unit tests
/// check every format, these the path from import to login.
const HASHES: &[(&str, &str)] = &[
    (
        "bcrypt",
        "$2b$04$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS",
    ),
    (
        "django_pbkdf2",
        "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=",
    ),
    (
        "django_scrypt",
        "scrypt$16384$fF3y3z9ZNjfOGVWpJqjMNb$8$5$KJE7QWIDYnDlYH9119IjuRntRdR5y0QVFv7339p4CTr37NhFsuAulYvWUbIeIusCLzszHpfhLsL8WppJQa4njQ==",
    ),
    (
        "phc_scrypt",
        "$scrypt$ln=10,r=8,p=1$QYiRUuq9N4ZwrhXifK/1fg$NfQtQ8DwWRzpX/pD7V5dD3uyqcaEl7xt/oYBDO5ROMw",
    ),
    (
        "django_argon2",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$MTdsbGhXcTFyZXJERmtiRGIya3NPRg$rsOTJR/3yU14fGB7Bp7AuZw/J720JUTEQ52Hr3hQe6Y",
    ),
];

fn row(email: &str) -> UserRow {
    UserRow {
        email: email.into(),
        ..UserRow::default()
    }
}

async fn stored_hash(dw: &Doorward, user_id: &str) -> String {
    let mut cursor = None;
    loop {
        let page = dw
            .users()
            .export_users(cursor.as_deref(), 500, true)
            .await
            .unwrap();
        if let Some(row) = page.items.iter().find(|r| r.id.as_deref() == Some(user_id)) {
            return row.password_hash.clone().unwrap();
        }
        cursor = Some(page.next_cursor.expect("the user is exported"));
    }
}

#[tokio::test]
async fn imported_hashes_log_in_and_become_argon2id() {
    for url in backends().await {
        let dw = common::open(&url).await;
        let rows = HASHES
            .iter()
            .map(|(name, hash)| UserRow {
                username: Some((*name).into()),
                password_hash: Some((*hash).into()),
                ..row(&format!("{name}@example.com"))
            })
            .collect();
        let report = dw
            .users()
            .import_users(rows, ImportOptions::default())
            .await
            .unwrap();
        assert!(report.failed.is_empty(), "{url}: {:?}", report.failed);
        for (created, (name, hash)) in report.created.iter().zip(HASHES) {
            assert_eq!(
                dw.auth()
                    .login(name, "not the password", None)
                    .await
                    .err_code(),
                ErrorCode::InvalidCredentials,
                "{url} {name}"
            );
            assert_eq!(stored_hash(&dw, &created.id).await, *hash, "{url} {name}");
            dw.auth().login(name, PASSWORD, None).await.unwrap();
            let upgraded = stored_hash(&dw, &created.id).await;
            assert!(
                upgraded.starts_with("$argon2id$v=19$m=64,t=1,p=1$"),
                "{url} {name}"
            );
            // The upgraded hash logs in too, and is kept.
            dw.auth().login(name, PASSWORD, None).await.unwrap();
            assert_eq!(
                stored_hash(&dw, &created.id).await,
                upgraded,
                "{url} {name}"
            );
        }
    }
}

#[tokio::test]
async fn bad_rows_are_named_and_the_good_ones_go_in() {
    for url in backends().await {
        let dw = common::open(&url).await;
        dw.users()
            .create("ann", "ann@example.com", PASSWORD)
            .await
            .unwrap();
        let rows = vec![
            row("fresh@example.com"), // 0: ok
            row("not an address"),    // 1: email
            row("ANN@example.com"),   // 2: taken in the store
            row("fresh@example.com"), // 3: twice in the file
            UserRow {
                password_hash: Some(
                    "$2b$31$k9ZjAYBBMvfJb7dgSVm28.NvLGnpgYSwrgT725t6elraRmTzCVvNS".into(),
                ),
                ..row("slow@example.com")
            },
            UserRow {
                roles: vec!["no-such-role".into()],
                ..row("role@example.com")
            },
            UserRow {
                password: Some("password".into()),
                ..row("weak@example.com")
            },
            UserRow {
                password: Some(PASSWORD.into()),
                password_hash: Some(HASHES[0].1.into()),
                ..row("both@example.com")
            },
            UserRow {
                username: Some("ann".into()),
                ..row("other-ann@example.com")
            },
            UserRow {
                id: Some("42".into()),
                ..row("id@example.com")
            },
            UserRow {
                password: Some(PASSWORD.into()),
                roles: vec!["moderator".into()],
                email_verified: true,
                ..row("clear@example.com")
            },
        ];
        let report = dw
            .users()
            .import_users(rows, ImportOptions::default())
            .await
            .unwrap();
        let failed: Vec<_> = report
            .failed
            .iter()
            .map(|f| (f.index, f.code.as_str(), f.field.as_deref()))
            .collect();
        assert_eq!(
            failed,
            [
                (1, "validation_error", Some("email")),
                (2, "duplicate_email", None),
                (3, "duplicate_email", None),
                (4, "validation_error", Some("password_hash")),
                (5, "validation_error", Some("roles")),
                (6, "validation_error", Some("password")),
                (7, "validation_error", Some("password")),
                (8, "duplicate_username", None),
                (9, "validation_error", Some("id")),
            ],
            "{url}"
        );
        let created: Vec<_> = report.created.iter().map(|c| c.index).collect();
        assert_eq!(created, [0, 10], "{url}");
        assert_eq!(dw.users().count().await.unwrap(), 3, "{url}");
        // Without a password, nothing logs in until a reset sets one.
        assert_eq!(
            dw.auth().login("fresh", PASSWORD, None).await.err_code(),
            ErrorCode::InvalidCredentials
        );
        let clear = dw.users().get_by_email("clear@example.com").await.unwrap();
        assert!(clear.email_verified_at.is_some(), "{url}");
        assert_eq!(dw.roles().of_user(&clear.id).await.unwrap(), ["moderator"]);
        dw.auth().login("clear", PASSWORD, None).await.unwrap();
    }
}

#[tokio::test]
async fn atomic_and_dry_runs_write_nothing() {
    for url in backends().await {
        let dw = common::open(&url).await;
        let rows = || vec![row("a@example.com"), row("b@example.com"), row("bad")];
        let atomic = ImportOptions {
            atomic: true,
            ..ImportOptions::default()
        };
        let report = dw
            .users()
            .import_users(rows(), atomic.clone())
            .await
            .unwrap();
        assert_eq!((report.created.len(), report.failed.len()), (0, 1), "{url}");
        let dry = ImportOptions {
            dry_run: true,
            ..ImportOptions::default()
        };
        let report = dw.users().import_users(rows(), dry).await.unwrap();
        assert_eq!((report.created.len(), report.failed.len()), (2, 1), "{url}");
        assert!(report.dry_run);
        assert_eq!(dw.users().count().await.unwrap(), 0, "{url}");
        let good = vec![row("a@example.com"), row("b@example.com")];
        let report = dw.users().import_users(good, atomic).await.unwrap();
        assert_eq!(report.created.len(), 2, "{url}");
        assert_eq!(dw.users().count().await.unwrap(), 2, "{url}");
    }
}

#[tokio::test]
async fn made_up_usernames_never_collide() {
    for url in backends().await {
        let dw = common::open(&url).await;
        dw.users()
            .create("sam", "sam@old.example", PASSWORD)
            .await
            .unwrap();
        let rows = vec![
            row("sam@example.com"),
            row("sam@example.org"),
            row("Sam@example.net"),
        ];
        let report = dw
            .users()
            .import_users(rows, ImportOptions::default())
            .await
            .unwrap();
        assert!(report.failed.is_empty(), "{url}: {:?}", report.failed);
        let mut names: Vec<String> = report
            .created
            .iter()
            .map(|c| c.username.to_lowercase())
            .collect();
        names.push("sam".into());
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 4, "{url}: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("sam")), "{names:?}");
    }
}

#[tokio::test]
async fn one_event_for_the_batch_and_ids_round_trip() {
    for url in backends().await {
        let dw = common::open(&url).await;
        let report = dw
            .users()
            .import_users(
                vec![row("a@example.com"), row("b@example.com")],
                ImportOptions::default(),
            )
            .await
            .unwrap();
        let events = dw.events().list(None, 100).await.unwrap().items;
        let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
        assert_eq!(types, [EventType::UsersImported], "{url}");
        assert_eq!(events[0].payload["created"], 2);
        // Exported rows import into another store with their ids, roles and hashes.
        let exported = dw
            .users()
            .export_users(None, 500, true)
            .await
            .unwrap()
            .items;
        let other = common::open("memory://").await;
        let again = other
            .users()
            .import_users(exported.clone(), ImportOptions::default())
            .await
            .unwrap();
        assert!(again.failed.is_empty());
        assert_eq!(again.created[0].id, report.created[0].id);
        assert_eq!(
            other
                .users()
                .export_users(None, 500, true)
                .await
                .unwrap()
                .items,
            exported
        );
        // A second import of the same ids is refused row by row.
        let twice = other
            .users()
            .import_users(exported, ImportOptions::default())
            .await
            .unwrap();
        assert_eq!(twice.failed.len(), 2);
    }
}

#[tokio::test]
async fn search_finds_by_prefix_of_either_name() {
    for url in backends().await {
        let dw = common::open(&url).await;
        for (name, mail) in [
            ("ann", "ann@example.com"),
            ("bob", "annie@example.org"),
            ("cyd", "cyd@ann.example"),
        ] {
            dw.users().create(name, mail, PASSWORD).await.unwrap();
        }
        let page = dw.users().search(" AnN", None, 1).await.unwrap();
        assert_eq!(page.items[0].username, "ann", "{url}");
        let rest = dw
            .users()
            .search("ann", page.next_cursor.as_deref(), 10)
            .await
            .unwrap();
        assert_eq!(
            rest.items
                .iter()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>(),
            ["bob"]
        );
        assert_eq!(
            dw.users().search("", None, 10).await.err_code(),
            ErrorCode::ValidationError
        );
    }
}

#[tokio::test]
async fn the_dashboard_counts_from_the_store() {
    for url in backends().await {
        let dw = Doorward::open(doorward::Config {
            lockout_account_threshold: 5,
            ..common::config(&url)
        })
        .await
        .unwrap();
        for name in ["ann", "bob", "cyd"] {
            dw.auth()
                .register_user(name, &format!("{name}@example.com"), PASSWORD, None)
                .await
                .unwrap();
        }
        let _ = dw.auth().login("ann", "wrong password here", None).await;
        dw.auth().login("bob", PASSWORD, None).await.unwrap();
        let cyd = dw.users().get_by_username("cyd").await.unwrap();
        for _ in 0..10 {
            let _ = dw.auth().login("cyd", "wrong password here", None).await;
        }
        dw.events().flush().await.unwrap();
        let d = dw.stats().dashboard().await.unwrap();
        assert_eq!(d.users_total, 3, "{url}");
        assert_eq!(
            d.users_per_day.iter().map(|p| p.count).sum::<u64>(),
            3,
            "{url}"
        );
        assert_eq!(d.users_per_day.last().unwrap().count, 3, "{url}");
        let hour = d.logins_per_hour.last().unwrap();
        assert!(hour.succeeded >= 4 && hour.failed >= 1, "{url}: {hour:?}");
        assert_eq!(d.locked_accounts, 1, "{url}");
        assert_eq!(d.active_sessions, 4, "{url}");
        // Every account's live sessions, paged oldest first.
        let first = dw.sessions().list_all(None, 3).await.unwrap();
        let rest = dw
            .sessions()
            .list_all(first.next_cursor.as_deref(), 3)
            .await
            .unwrap();
        assert_eq!((first.items.len(), rest.items.len()), (3, 1), "{url}");
        assert!(rest.next_cursor.is_none());
        assert!(first.items[0].created_at <= rest.items[0].created_at);
        dw.sessions().revoke_all(&cyd.id).await.unwrap();
        assert_eq!(
            dw.stats().dashboard().await.unwrap().active_sessions,
            3,
            "{url}"
        );
    }
}

/// Adding and removing a webhook and replaying a delivery are events
/// written with the change (so the audit log has them, and an
/// administrator's scope names who acted), on every backend. A webhook
/// that asks for every type is not sent them; one that names them is.
#[cfg(feature = "webhooks")]
#[tokio::test]
async fn webhook_administration_is_recorded() {
    use doorward::events::acting_as;
    for url in backends().await {
        let dw = Doorward::open(doorward::Config {
            webhook_allow_private: true,
            events_dispatch: false,
            events_max_attempts: 1,
            webhook_timeout_ms: 500,
            ..common::config(&url)
        })
        .await
        .unwrap();
        let (every, received) = common::receiver::receiver(Vec::new()).await;
        let all = dw.webhooks().add(&every, &[]).await.unwrap();
        let named = acting_as(
            "admin-1",
            None,
            dw.webhooks().add(
                "http://127.0.0.1:9/?token=hunter2",
                &[EventType::WebhookRemoved],
            ),
        )
        .await
        .unwrap();
        dw.events().flush().await.unwrap();
        assert!(
            received.lock().unwrap().requests.is_empty(),
            "{url}: an every-type webhook is not told about webhooks"
        );
        acting_as("admin-1", None, dw.webhooks().remove(&all.id))
            .await
            .unwrap();
        assert_eq!(
            dw.webhooks().remove(&all.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        dw.events().flush().await.unwrap();
        // The named webhook's receiver (port 9) is down: its one attempt
        // fails and the delivery is dead, to be replayed.
        let dead = dw.events().dead().await.unwrap();
        assert_eq!(dead.len(), 1, "{url}: {dead:?}");
        assert_eq!(dead[0].webhook_id, named.id);
        assert_eq!(dead[0].event_type, "WebhookRemoved");
        dw.events().replay(dead[0].id).await.unwrap();
        assert_eq!(
            dw.events().replay(dead[0].id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        let events = dw.events().list(None, 100).await.unwrap().items;
        let seen: Vec<(EventType, Option<&str>, Option<&str>)> = events
            .iter()
            .map(|e| (e.event_type, e.actor.as_deref(), e.subject.as_deref()))
            .collect();
        let replayed = dead[0].id.to_string();
        assert_eq!(
            seen,
            [
                (EventType::WebhookAdded, None, Some(all.id.as_str())),
                (
                    EventType::WebhookAdded,
                    Some("admin-1"),
                    Some(named.id.as_str())
                ),
                (
                    EventType::WebhookRemoved,
                    Some("admin-1"),
                    Some(all.id.as_str())
                ),
                (EventType::DeliveryReplayed, None, Some(replayed.as_str())),
            ],
            "{url}"
        );
        let text = serde_json::to_string(&events).unwrap();
        assert!(
            !text.contains("hunter2"),
            "{url}: no webhook URL in an event"
        );
        assert_eq!(events[1].payload["event_types"][0], "WebhookRemoved");
    }
}

/// Who holds a role, paged in creation order, on every backend; a role
/// that does not exist is `not_found`, one nobody holds an empty page.
#[tokio::test]
async fn a_role_lists_its_holders() {
    for url in backends().await {
        let dw = Doorward::open(common::config(&url)).await.unwrap();
        dw.roles().create("editor", &["posts:*"], "").await.unwrap();
        let mut granted = Vec::new();
        for name in ["ann", "bob", "cyd", "dee", "eve"] {
            let user = dw
                .users()
                .create(name, &format!("{name}@example.com"), PASSWORD)
                .await
                .unwrap();
            if name != "cyd" {
                dw.roles().grant(&user.id, "editor").await.unwrap();
                granted.push(name);
            }
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = dw
                .roles()
                .holders("editor", cursor.as_deref(), 3)
                .await
                .unwrap();
            seen.extend(page.items.into_iter().map(|u| u.username));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, granted, "{url}");
        let admins = dw.roles().holders("admin", None, None).await.unwrap();
        assert!(admins.items.is_empty(), "{url}");
        assert_eq!(
            dw.roles().holders("nobody", None, None).await.err_code(),
            ErrorCode::NotFound,
            "{url}"
        );
        assert_eq!(
            dw.roles()
                .holders("editor", Some("not-a-cursor"), None)
                .await
                .err_code(),
            ErrorCode::ValidationError,
            "{url}"
        );
    }
}

/// A Firebase Authentication export: the example of Firebase's own scrypt
/// tool (its project parameters, an account's salt and hash, and the
/// password `user1password`), imported, logged in with and replaced by
/// argon2id; a wrong password is refused without upgrading anything.
#[tokio::test]
async fn a_firebase_scrypt_hash_logs_in_and_becomes_argon2id() {
    const FIREBASE: &str = "$fbscrypt$v=1,n=14,r=8,p=1,ss=Bw==,\
        sk=jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==\
        $42xEC+ixf3L2lw==\
        $lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
    let dw = common::open("memory://").await;
    let report = dw
        .users()
        .import_users(
            vec![UserRow {
                username: Some("firebase".into()),
                password_hash: Some(FIREBASE.into()),
                ..row("fb@example.com")
            }],
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let id = &report.created[0].id;
    assert_eq!(
        dw.auth().login("firebase", PASSWORD, None).await.err_code(),
        ErrorCode::InvalidCredentials
    );
    assert_eq!(stored_hash(&dw, id).await, FIREBASE);
    dw.auth()
        .login("firebase", "user1password", None)
        .await
        .unwrap();
    assert!(stored_hash(&dw, id).await.starts_with("$argon2id$"));
    dw.auth()
        .login("firebase", "user1password", None)
        .await
        .unwrap();

    // A hostile cost is refused at import, naming the row, not the hash.
    let hostile = FIREBASE.replace("n=14", "n=30");
    let report = dw
        .users()
        .import_users(
            vec![UserRow {
                password_hash: Some(hostile),
                ..row("fb2@example.com")
            }],
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(report.failed[0].field.as_deref(), Some("password_hash"));
    assert!(!report.failed[0].message.contains("jxspr8"));
}
