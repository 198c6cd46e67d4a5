//! The public contract end to end, on every backend the build has.

mod common;

use common::SignedIn as _;
use common::{ErrCode as _, PASSWORD, backends, config, open};
use doorward::config::{MAX_DURATION_SECS, MAX_WAIT_SECS};
use doorward::{ClientInfo, Doorward, ErrorCode, UserUpdate};

/// Present one refresh token `n` times at once.
async fn racing_refreshes(
    dw: &Doorward,
    token: &str,
    n: usize,
) -> Vec<doorward::Result<doorward::TokenPair>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let dw = dw.clone();
            let token = token.to_string();
            tokio::spawn(async move { dw.auth().refresh_token(&token).await })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results
}

async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Doorward) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for url in backends().await {
        test(open(&url).await).await;
    }
}

#[tokio::test]
async fn register_login_verify_refresh_logout() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("john", "John@Example.com", PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(reg.user.email, "John@example.com");
        assert_eq!(reg.tokens.token_type, "Bearer");
        assert_eq!(reg.tokens.expires_in, 900);
        assert!(reg.tokens.refresh_token.len() >= 43);

        let p = dw
            .auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
        assert_eq!(
            (p.user_id.as_str(), p.username.as_str()),
            (reg.user.id.as_str(), "john")
        );
        assert_eq!(p.roles, ["user"]);

        // Login by username or email, any case.
        let client = ClientInfo {
            ip: Some("10.0.0.7".into()),
            user_agent: Some("curl/8".into()),
        };
        let by_email = dw
            .auth()
            .login("JOHN@example.COM", PASSWORD, Some(client))
            .await
            .signed_in()
            .unwrap();
        dw.auth()
            .login("John", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let sessions = dw.sessions().list(&reg.user.id).await.unwrap();
        assert_eq!(sessions.len(), 3);
        assert!(sessions.iter().any(|s| s.ip.as_deref() == Some("10.0.0.7")));

        let next = dw
            .auth()
            .refresh_token(&by_email.refresh_token)
            .await
            .unwrap();
        assert_ne!(next.refresh_token, by_email.refresh_token);
        let p2 = dw.auth().verify_token(&next.access_token).await.unwrap();
        assert_eq!(
            p2.session_id,
            dw.auth()
                .verify_token(&by_email.access_token)
                .await
                .unwrap()
                .session_id
        );

        dw.auth().logout(&next.access_token).await.unwrap();
        dw.auth().logout(&next.access_token).await.unwrap(); // idempotent
        for token in [&next.access_token, &by_email.access_token] {
            assert_eq!(
                dw.auth().verify_token(token).await.err_code(),
                ErrorCode::TokenRevoked
            );
        }
        assert_eq!(
            dw.auth()
                .refresh_token(&next.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
        // The registration's own session is untouched.
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn reuse_revokes_the_whole_family() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap();
        let first = reg.tokens;
        let second = dw.auth().refresh_token(&first.refresh_token).await.unwrap();
        let third = dw
            .auth()
            .refresh_token(&second.refresh_token)
            .await
            .unwrap();
        let err = dw
            .auth()
            .refresh_token(&first.refresh_token)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::TokenReused);
        // Every token of the family is now dead, access and refresh.
        assert_eq!(
            dw.auth()
                .refresh_token(&third.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
        for t in [&first, &second, &third] {
            assert_eq!(
                dw.auth().verify_token(&t.access_token).await.err_code(),
                ErrorCode::TokenRevoked
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refresh_has_one_winner_without_grace() {
    for url in backends().await {
        let dw = open(&url).await;
        let reg = dw
            .auth()
            .register_user("race", "race@example.com", PASSWORD, None)
            .await
            .unwrap();
        let mut ok = 0;
        for result in racing_refreshes(&dw, &reg.tokens.refresh_token, 6).await {
            match result {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.code(), ErrorCode::TokenReused, "{url}"),
            }
        }
        assert!(ok <= 1, "{url}: at most one winner, got {ok}");
        // The losers revoked the family, the winner's pair included.
        assert!(
            dw.sessions().list(&reg.user.id).await.unwrap().is_empty(),
            "{url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn grace_window_lets_racing_refreshes_through() {
    for url in backends().await {
        let dw = Doorward::open(doorward::Config {
            refresh_reuse_grace: 30,
            ..config(&url)
        })
        .await
        .unwrap();
        let reg = dw
            .auth()
            .register_user("grace", "grace@example.com", PASSWORD, None)
            .await
            .unwrap();
        let mut successors = Vec::new();
        for pair in racing_refreshes(&dw, &reg.tokens.refresh_token, 6).await {
            let pair = pair.unwrap();
            dw.auth().verify_token(&pair.access_token).await.unwrap();
            successors.push(pair.refresh_token);
        }
        successors.dedup();
        assert_eq!(successors.len(), 1, "{url}: one successor, one chain");
        assert_eq!(
            dw.sessions().list(&reg.user.id).await.unwrap().len(),
            1,
            "{url}"
        );
    }
}

/// Within the grace window a reused token is a retry: it gets the successor
/// it was rotated into, never a sibling, so a stolen token cannot start a
/// second chain. Once the chain has moved past that successor, it is reuse.
#[tokio::test]
async fn a_retry_within_the_grace_window_gets_the_same_successor() {
    for url in backends().await {
        let dw = Doorward::open(doorward::Config {
            refresh_reuse_grace: 30,
            ..config(&url)
        })
        .await
        .unwrap();
        let reg = dw
            .auth()
            .register_user("grace", "grace@example.com", PASSWORD, None)
            .await
            .unwrap();
        let first = reg.tokens.refresh_token;
        let next = dw.auth().refresh_token(&first).await.unwrap();
        let retry = dw.auth().refresh_token(&first).await.unwrap();
        assert_eq!(retry.refresh_token, next.refresh_token, "{url}");
        dw.auth().verify_token(&retry.access_token).await.unwrap();
        let after = dw.auth().refresh_token(&next.refresh_token).await.unwrap();
        assert_eq!(
            dw.auth().refresh_token(&first).await.err_code(),
            ErrorCode::TokenReused,
            "{url}: the chain moved on"
        );
        assert_eq!(
            dw.auth()
                .refresh_token(&after.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked,
            "{url}"
        );
        assert!(dw.sessions().list(&reg.user.id).await.unwrap().is_empty());
    }
}

/// Without a grace window the second use of a token is reuse, and it ends
/// the family, the successor included.
#[tokio::test]
async fn without_grace_a_retry_is_reuse() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("nograce", "nograce@example.com", PASSWORD, None)
            .await
            .unwrap();
        let next = dw
            .auth()
            .refresh_token(&reg.tokens.refresh_token)
            .await
            .unwrap();
        assert_eq!(
            dw.auth()
                .refresh_token(&reg.tokens.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenReused
        );
        assert_eq!(
            dw.auth()
                .refresh_token(&next.refresh_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
    })
    .await;
}

#[tokio::test]
async fn duplicates_and_bad_input_write_nothing() {
    each_backend(|dw| async move {
        dw.auth()
            .register_user("bob", "bob@example.com", PASSWORD, None)
            .await
            .unwrap();
        let cases: &[(&str, &str, &str, ErrorCode, Option<&str>)] = &[
            (
                "bobby",
                "BOB@example.com",
                PASSWORD,
                ErrorCode::DuplicateEmail,
                None,
            ),
            (
                "BOB",
                "other@example.com",
                PASSWORD,
                ErrorCode::DuplicateUsername,
                None,
            ),
            (
                "ｂｏｂ",
                "other@example.com",
                PASSWORD,
                ErrorCode::DuplicateUsername,
                None,
            ),
            (
                "",
                "a@example.com",
                PASSWORD,
                ErrorCode::ValidationError,
                Some("username"),
            ),
            (
                "nul\0name",
                "a@example.com",
                PASSWORD,
                ErrorCode::ValidationError,
                Some("username"),
            ),
            (
                "carol",
                "not-an-email",
                PASSWORD,
                ErrorCode::ValidationError,
                Some("email"),
            ),
            (
                "carol",
                "carol@example.com",
                "",
                ErrorCode::ValidationError,
                Some("password"),
            ),
            (
                "carol",
                "carol@example.com",
                "short",
                ErrorCode::ValidationError,
                Some("password"),
            ),
            (
                "carol",
                "carol@example.com",
                "password123",
                ErrorCode::ValidationError,
                Some("password"),
            ),
            (
                "carol",
                "carol@example.com",
                "carol@example.com",
                ErrorCode::ValidationError,
                Some("password"),
            ),
        ];
        for (username, email, password, code, field) in cases {
            let err = dw
                .auth()
                .register_user(username, email, password, None)
                .await
                .unwrap_err();
            assert_eq!(
                (err.code(), err.field()),
                (*code, *field),
                "{username:?} {email:?}"
            );
        }
        let long = "x".repeat(1025);
        let err = dw
            .auth()
            .register_user("carol", "carol@example.com", &long, None)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("password"));
        assert_eq!(dw.users().list(None, 10).await.unwrap().items.len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_racing_registrations_of_one_email() {
    for url in backends().await {
        let dw = open(&url).await;
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let dw = dw.clone();
                tokio::spawn(async move {
                    dw.auth()
                        .register_user(&format!("racer{i}"), "Same@Example.com", PASSWORD, None)
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.code(), ErrorCode::DuplicateEmail, "{url}: {e}"),
            }
        }
        assert_eq!(ok, 1, "{url}");
        assert_eq!(
            dw.users().list(None, 100).await.unwrap().items.len(),
            1,
            "{url}"
        );
    }
}

#[tokio::test]
async fn unknown_user_costs_one_verification_like_a_wrong_password() {
    each_backend(|dw| async move {
        dw.auth()
            .register_user("dave", "dave@example.com", PASSWORD, None)
            .await
            .unwrap();
        let before = dw.hash_operations();
        let unknown = dw
            .auth()
            .login("nobody", PASSWORD, None)
            .await
            .signed_in()
            .unwrap_err();
        let after_unknown = dw.hash_operations();
        let wrong = dw
            .auth()
            .login("dave", "wrong password here", None)
            .await
            .signed_in()
            .unwrap_err();
        let after_wrong = dw.hash_operations();
        assert_eq!(unknown.code(), ErrorCode::InvalidCredentials);
        assert_eq!(wrong.code(), ErrorCode::InvalidCredentials);
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert_eq!(after_unknown - before, 1);
        assert_eq!(after_wrong - after_unknown, 1);
    })
    .await;
}

#[tokio::test]
async fn outdated_hashes_are_upgraded_on_login() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("rehash.db").display());
    let url = if cfg!(feature = "sqlite") {
        url
    } else {
        "memory://".into()
    };
    let old = open(&url).await;
    let reg = old
        .auth()
        .register_user("erin", "erin@example.com", PASSWORD, None)
        .await
        .unwrap();
    drop(old);
    if url == "memory://" {
        return; // a memory store does not outlive its instance
    }
    let newer = Doorward::open(doorward::Config {
        argon2_iterations: 2,
        ..config(&url)
    })
    .await
    .unwrap();
    let ops = newer.hash_operations();
    newer
        .auth()
        .login("erin", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(newer.hash_operations() - ops, 2, "verify + rehash");
    let ops = newer.hash_operations();
    newer
        .auth()
        .login("erin", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(newer.hash_operations() - ops, 1, "already current");
    assert_eq!(
        newer.users().get(&reg.user.id).await.unwrap().username,
        "erin"
    );
}

#[tokio::test]
async fn disabling_ends_sessions_and_blocks_login() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("fred", "fred@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.users().disable(&reg.user.id).await.unwrap();
        assert_eq!(
            dw.auth()
                .verify_token(&reg.tokens.access_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
        assert_eq!(
            dw.auth()
                .login("fred", PASSWORD, None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::UserDisabled
        );
        assert_eq!(
            dw.auth()
                .login("fred", "not the password", None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        assert!(!dw.auth().can(&reg.user.id, "users:read").await.unwrap());
        dw.users().enable(&reg.user.id).await.unwrap();
        dw.auth()
            .login("fred", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        assert!(dw.auth().can(&reg.user.id, "users:read").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn change_password_keeps_only_the_current_session() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("gina", "gina@example.com", PASSWORD, None)
            .await
            .unwrap();
        let other = dw
            .auth()
            .login("gina", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let me = dw
            .auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
        let err = dw
            .users()
            .change_password(
                &me.user_id,
                "not it",
                "a brand new passphrase",
                Some(&me.session_id),
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidCredentials);
        let err = dw
            .users()
            .change_password(&me.user_id, PASSWORD, "gina", Some(&me.session_id))
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("password"));
        dw.users()
            .change_password(
                &me.user_id,
                PASSWORD,
                "a brand new passphrase",
                Some(&me.session_id),
            )
            .await
            .unwrap();
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
        assert_eq!(
            dw.auth().verify_token(&other.access_token).await.err_code(),
            ErrorCode::TokenRevoked
        );
        assert_eq!(
            dw.auth()
                .login("gina", PASSWORD, None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        dw.auth()
            .login("gina", "a brand new passphrase", None)
            .await
            .signed_in()
            .unwrap();
        dw.users()
            .set_password(&me.user_id, "reset by an administrator")
            .await
            .unwrap();
        assert!(dw.sessions().list(&me.user_id).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn users_get_update_list_delete() {
    each_backend(|dw| async move {
        let a = dw
            .users()
            .create("hank", "hank@example.com", PASSWORD)
            .await
            .unwrap();
        let b = dw
            .users()
            .create("ivy", "ivy@example.com", PASSWORD)
            .await
            .unwrap();
        assert_eq!(
            dw.users().get_by_email("HANK@example.com").await.unwrap(),
            a
        );
        assert_eq!(dw.users().get_by_username("IVY").await.unwrap(), b);
        assert_eq!(dw.users().get("nope").await.err_code(), ErrorCode::NotFound);
        let err = dw
            .users()
            .update(
                &b.id,
                UserUpdate {
                    email: Some("Hank@example.com".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::DuplicateEmail);
        let err = dw
            .users()
            .update(
                &b.id,
                UserUpdate {
                    username: Some("x".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("username"));
        let ivy = dw
            .users()
            .update(
                &b.id,
                UserUpdate {
                    username: Some("ivy2".into()),
                    email: Some("ivy2@example.com".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (ivy.username.as_str(), ivy.email.as_str()),
            ("ivy2", "ivy2@example.com")
        );
        dw.auth()
            .login("ivy2", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let page = dw.users().list(None, 1).await.unwrap();
        assert_eq!(page.items[0].id, a.id);
        let page = dw
            .users()
            .list(page.next_cursor.as_deref(), 1)
            .await
            .unwrap();
        assert_eq!(page.items[0].id, b.id);
        assert_eq!(
            dw.users()
                .list(Some("garbage"), 1)
                .await
                .unwrap_err()
                .field(),
            Some("cursor")
        );
        assert_eq!(
            dw.users().list(None, 0).await.unwrap_err().field(),
            Some("limit")
        );
        dw.users().delete(&a.id).await.unwrap();
        assert_eq!(
            dw.users().delete(&a.id).await.err_code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            dw.auth()
                .login("hank", PASSWORD, None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
    })
    .await;
}

#[tokio::test]
async fn rbac_can_require_grant_revoke() {
    each_backend(|dw| async move {
        let u = dw
            .users()
            .create("jack", "jack@example.com", PASSWORD)
            .await
            .unwrap();
        assert!(dw.auth().can(&u.id, "users:read").await.unwrap());
        let err = dw.auth().require(&u.id, "users:write").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Forbidden);
        assert_eq!(
            dw.auth()
                .can(&u.id, "not a permission")
                .await
                .unwrap_err()
                .field(),
            Some("permission")
        );
        assert!(dw.roles().grant(&u.id, "moderator").await.unwrap());
        dw.auth().require(&u.id, "users:write").await.unwrap();
        assert!(!dw.auth().can(&u.id, "billing:refund").await.unwrap());
        dw.roles().grant(&u.id, "admin").await.unwrap();
        assert!(dw.auth().can(&u.id, "billing:refund").await.unwrap());
        assert!(dw.auth().can(&u.id, "admin:*").await.unwrap());
        assert_eq!(
            dw.roles().of_user(&u.id).await.unwrap(),
            ["admin", "moderator", "user"]
        );
        dw.roles().revoke(&u.id, "admin").await.unwrap();
        assert!(!dw.auth().can(&u.id, "billing:refund").await.unwrap());

        dw.roles()
            .create("billing", &["billing:*"], "Money")
            .await
            .unwrap();
        assert_eq!(
            dw.roles().create("billing", &[], "").await.err_code(),
            ErrorCode::ValidationError
        );
        assert_eq!(
            dw.roles()
                .create("bad name", &[], "")
                .await
                .unwrap_err()
                .field(),
            Some("role")
        );
        assert_eq!(
            dw.roles()
                .create("x", &["nope"], "")
                .await
                .unwrap_err()
                .field(),
            Some("permission")
        );
        dw.roles().grant(&u.id, "billing").await.unwrap();
        assert!(dw.auth().can(&u.id, "billing:refund").await.unwrap());
        dw.roles().delete("billing").await.unwrap();
        assert!(!dw.auth().can(&u.id, "billing:refund").await.unwrap());
        assert_eq!(
            dw.roles().delete("admin").await.err_code(),
            ErrorCode::ValidationError
        );
        assert_eq!(
            dw.roles().delete("billing").await.err_code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            dw.roles().grant(&u.id, "ghost").await.err_code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            dw.roles().grant("ghost", "user").await.err_code(),
            ErrorCode::NotFound
        );
        // Unknown users hold nothing.
        assert!(!dw.auth().can("ghost", "users:read").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn sessions_revoke_one_and_all() {
    each_backend(|dw| async move {
        let reg = dw
            .auth()
            .register_user("kim", "kim@example.com", PASSWORD, None)
            .await
            .unwrap();
        let second = dw
            .auth()
            .login("kim", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let sid = dw
            .auth()
            .verify_token(&second.access_token)
            .await
            .unwrap()
            .session_id;
        dw.sessions().revoke(&sid).await.unwrap();
        assert_eq!(
            dw.sessions().revoke(&sid).await.err_code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            dw.auth()
                .verify_token(&second.access_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
        dw.auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
        assert_eq!(dw.sessions().revoke_all(&reg.user.id).await.unwrap(), 1);
        assert_eq!(
            dw.auth()
                .verify_token(&reg.tokens.access_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked
        );
        assert_eq!(
            dw.sessions().list("ghost").await.err_code(),
            ErrorCode::NotFound
        );
    })
    .await;
}

#[tokio::test]
async fn stateless_mode_skips_the_session_lookup() {
    let dw = Doorward::open(doorward::Config {
        stateless_verify: true,
        ..config("memory://")
    })
    .await
    .unwrap();
    let reg = dw
        .auth()
        .register_user("lee", "lee@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth().logout(&reg.tokens.access_token).await.unwrap();
    // Documented trade-off: the access token lives until it expires...
    dw.auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    // ...but its refresh token is dead at once.
    let err = dw
        .auth()
        .refresh_token(&reg.tokens.refresh_token)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenRevoked);
}

#[tokio::test]
async fn without_keys_users_work_and_tokens_are_a_config_error() {
    let dw = Doorward::open(doorward::Config {
        jwt_secret: None,
        ..config("memory://")
    })
    .await
    .unwrap();
    let u = dw
        .users()
        .create("mia", "mia@example.com", PASSWORD)
        .await
        .unwrap();
    let err = dw
        .auth()
        .login("mia", PASSWORD, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    let err = dw
        .auth()
        .register_user("max", "max@example.com", PASSWORD, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    assert_eq!(dw.users().list(None, 10).await.unwrap().items, vec![u]);
}

#[tokio::test]
async fn bad_config_is_refused_at_open() {
    let cases = [
        doorward::Config {
            jwt_secret: Some("too-short".into()),
            ..config("memory://")
        },
        doorward::Config {
            jwt_algorithm: "none".into(),
            ..config("memory://")
        },
        doorward::Config {
            jwt_algorithm: "EdDSA".into(),
            ..config("memory://")
        },
        doorward::Config {
            password_min_length: 4,
            ..config("memory://")
        },
        doorward::Config {
            access_ttl: 0,
            ..config("memory://")
        },
        config("mysql://localhost/db"),
        doorward::Config {
            argon2_memory_kib: 4 * 1024 * 1024,
            ..config("memory://")
        },
    ];
    for c in cases {
        let err = Doorward::open(c).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigError, "{err}");
    }
}

#[tokio::test]
async fn look_alike_and_invisible_emails() {
    each_backend(|dw| async move {
        dw.auth()
            .register_user("admin", "admin@example.com", PASSWORD, None)
            .await
            .unwrap();
        // Full-width letters are the same address.
        assert_eq!(
            dw.auth()
                .register_user("admin2", "ａｄｍｉｎ@example.com", PASSWORD, None)
                .await
                .err_code(),
            ErrorCode::DuplicateEmail
        );
        // Invisible and direction-changing characters are refused.
        for email in ["admin\u{200b}@example.com", "admin\u{202e}@example.com"] {
            let err = dw
                .auth()
                .register_user("admin3", email, PASSWORD, None)
                .await
                .unwrap_err();
            assert_eq!(
                (err.code(), err.field()),
                (ErrorCode::ValidationError, Some("email")),
                "{email:?}"
            );
        }
        // Logging in with the full-width spelling finds the account.
        dw.auth()
            .login("ａｄｍｉｎ@example.com", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        assert_eq!(dw.users().list(None, 10).await.unwrap().items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn overflowing_durations_are_refused_at_open() {
    let err = Doorward::open(doorward::Config {
        refresh_ttl: 10u64.pow(13),
        ..config("memory://")
    })
    .await
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError, "{err}");
    assert!(err.to_string().contains("refresh_ttl"), "{err}");
    // One past the ceiling of every duration key.
    let long = MAX_DURATION_SECS + 1;
    let wait = MAX_WAIT_SECS + 1;
    let wait_ms = MAX_WAIT_SECS * 1000 + 1;
    for (key, value) in LONG_KEYS
        .iter()
        .map(|k| (*k, long))
        .chain([("database_acquire_timeout", wait)])
        .chain(WAIT_MS_KEYS.iter().map(|k| (*k, wait_ms)))
        .chain([("access_ttl", u64::MAX)])
    {
        let c = config("memory://")
            .with_overrides([(key, value.to_string())])
            .unwrap();
        let err = Doorward::open(c).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigError, "{key}: {err}");
        assert!(err.to_string().contains(key), "{err}");
    }
}

/// The keys bounded by `MAX_DURATION_SECS`, and the milliseconds keys
/// bounded by `MAX_WAIT_SECS`.
const LONG_KEYS: [&str; 10] = [
    "access_ttl",
    "refresh_ttl",
    "refresh_reuse_grace",
    "cache_ttl",
    "session_cache_ttl",
    "lockout_base_delay",
    "lockout_max_delay",
    "events_lease_secs",
    "events_retry_max_secs",
    "events_retention_secs",
];
const WAIT_MS_KEYS: [&str; 6] = [
    "redis_timeout_ms",
    "events_poll_interval_ms",
    "events_retry_base_ms",
    "events_handler_timeout_ms",
    "webhook_timeout_ms",
    "mail_timeout_ms",
];

/// The test Redis, when the build has the feature and it is reachable.
async fn test_redis() -> Option<String> {
    #[cfg(feature = "redis")]
    return common::services::redis_url().await;
    #[cfg(not(feature = "redis"))]
    None
}

/// Every duration at its ceiling: the whole flow runs (lock, refresh in the
/// grace window, logout, events), without Redis and, when reachable, with it.
#[tokio::test]
async fn the_longest_durations_work() {
    let mut redis_urls = vec![None];
    redis_urls.extend(test_redis().await.map(Some));
    for redis_url in redis_urls {
        let overrides = LONG_KEYS
            .iter()
            .map(|k| (*k, MAX_DURATION_SECS.to_string()))
            .chain([("database_acquire_timeout", MAX_WAIT_SECS.to_string())])
            .chain(
                WAIT_MS_KEYS
                    .iter()
                    .map(|k| (*k, (MAX_WAIT_SECS * 1000).to_string())),
            );
        let mut c = config("memory://").with_overrides(overrides).unwrap();
        c.lockout_threshold = 1;
        c.redis_prefix = format!("dw-test-{}:", uuid::Uuid::new_v4().simple());
        c.redis_url = redis_url;
        let dw = Doorward::open(c).await.unwrap();
        let reg = dw
            .auth()
            .register_user("long", "long@example.com", PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(reg.tokens.expires_in, MAX_DURATION_SECS);
        let pair = dw
            .auth()
            .login("long", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let p = dw.auth().verify_token(&pair.access_token).await.unwrap();
        assert!(p.expires_at > chrono::Utc::now() + chrono::Duration::days(3649));
        dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
        // Reused within the (ten-year) grace window: a further pair.
        let again = dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
        dw.auth().logout(&again.access_token).await.unwrap();
        assert_eq!(
            dw.auth().verify_token(&pair.access_token).await.err_code(),
            ErrorCode::TokenRevoked
        );
        // One wrong password locks for the longest delay.
        assert_eq!(
            dw.auth()
                .login("long", "wrong password!", None)
                .await
                .signed_in()
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        let locked = dw
            .auth()
            .login("long", PASSWORD, None)
            .await
            .signed_in()
            .unwrap_err();
        assert_eq!(locked.code(), ErrorCode::AccountLocked);
        let retry = locked.retry_after().unwrap().as_secs();
        assert!(retry + 60 >= MAX_DURATION_SECS, "{retry}");
        dw.users().unlock(&p.user_id).await.unwrap();
        dw.auth()
            .login("long", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        dw.events().flush().await.unwrap();
    }
}
