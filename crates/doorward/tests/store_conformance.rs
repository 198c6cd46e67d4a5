//! One conformance suite for every store backend.
//!
//! Each check is an `async fn(Arc<dyn Store>)`; `store_conformance!` runs all
//! of them against a fresh store of one backend. A new backend adds one
//! invocation at the bottom and must pass unchanged.

mod common;
#[path = "conformance/flows.rs"]
mod flows;
#[path = "conformance/identities.rs"]
mod identities;
#[path = "conformance/imports.rs"]
mod imports;
#[path = "conformance/mfa.rs"]
mod mfa;
#[path = "conformance/passkeys.rs"]
mod passkeys;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::ErrCode as _;
use doorward::store::{
    EndSessions, RefreshRecord, Rotation, SessionRecord, Store, UserFilter, UserRecord,
};
use doorward::{ErrorCode, Role};
pub use flows::*;
pub use identities::*;
pub use imports::*;
pub use mfa::*;
pub use passkeys::*;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 123_456_000).unwrap()
}

/// Now at the microsecond precision every backend keeps.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap()
}

fn user(n: u32) -> UserRecord {
    UserRecord {
        id: uuid::Uuid::now_v7().to_string(),
        username: format!("User{n}"),
        username_key: format!("user{n}"),
        email: format!("user{n}@example.com"),
        email_key: format!("user{n}@example.com"),
        password_hash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at: at(n as i64),
        updated_at: at(n as i64),
        last_login_at: None,
        failed_logins: 0,
        locked_until: None,
        credentials_version: 0,
        email_verified_at: None,
    }
}

fn session(user: &UserRecord, n: i64) -> (SessionRecord, RefreshRecord) {
    let id = uuid::Uuid::now_v7().to_string();
    let s = SessionRecord {
        id: id.clone(),
        user_id: user.id.clone(),
        created_at: now() + Duration::seconds(n),
        expires_at: now() + Duration::hours(1),
        last_refreshed_at: None,
        ip: Some("127.0.0.1".into()),
        user_agent: Some("tests".into()),
        revoked_at: None,
        revoked_reason: None,
        amr: vec!["mfa".into(), "otp".into(), "pwd".into()],
        aal: 2,
        auth_time: now() + Duration::seconds(n),
    };
    (s, refresh(&id, &user.id))
}

fn refresh(session_id: &str, user_id: &str) -> RefreshRecord {
    RefreshRecord {
        token_hash: uuid::Uuid::new_v4().simple().to_string(),
        session_id: session_id.into(),
        user_id: user_id.into(),
        created_at: now(),
        expires_at: now() + Duration::hours(2),
        used_at: None,
    }
}

async fn seeded(store: &Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.migrate().await.unwrap(); // idempotent
    store
        .ensure_roles(&doorward::rbac::seeded_roles())
        .await
        .unwrap();
}

pub async fn users_round_trip(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    assert_eq!(store.user_by_id(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(
        store.user_by_email_key("user1@example.com").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(
        store.user_by_username_key("user1").await.unwrap(),
        Some(u.clone())
    );
    assert_eq!(store.user_by_id("missing").await.unwrap(), None);
    assert_eq!(store.user_roles(&u.id).await.unwrap(), vec!["user"]);
}

pub async fn duplicates_are_typed(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let mut same_email = user(2);
    same_email.email_key = u.email_key.clone();
    let err = store
        .create_user(&same_email, &["user"], &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateEmail);
    let mut same_name = user(3);
    same_name.username_key = u.username_key.clone();
    let err = store
        .create_user(&same_name, &["user"], &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateUsername);
    // Nothing half-written: the failed users left no rows and no grants.
    assert_eq!(
        store
            .list_users(None, &UserFilter::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.user_roles(&same_email.id).await.unwrap().is_empty());
}

pub async fn listing_pages_by_creation(store: Arc<dyn Store>) {
    seeded(&store).await;
    for n in [3, 1, 2, 5, 4] {
        store.create_user(&user(n), &[], &[]).await.unwrap();
    }
    let first = store
        .list_users(None, &UserFilter::default(), 2)
        .await
        .unwrap();
    let names: Vec<_> = first.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["User1", "User2"]);
    let last = first.last().unwrap();
    let rest = store
        .list_users(
            Some(&(last.created_at, last.id.clone())),
            &UserFilter::default(),
            10,
        )
        .await
        .unwrap();
    let names: Vec<_> = rest.iter().map(|u| u.username.as_str()).collect();
    assert_eq!(names, ["User3", "User4", "User5"]);
}

pub async fn users_are_counted_disabled_or_not(store: Arc<dyn Store>) {
    seeded(&store).await;
    assert_eq!(store.count_users().await.unwrap(), 0);
    let users: Vec<UserRecord> = (1..=3).map(user).collect();
    for u in &users {
        store.create_user(u, &[], &[]).await.unwrap();
    }
    store
        .set_disabled(&users[1].id, true, now(), &[])
        .await
        .unwrap();
    assert_eq!(store.count_users().await.unwrap(), 3);
    // A refused duplicate is not counted.
    let mut twin = user(4);
    twin.email_key = users[0].email_key.clone();
    assert!(store.create_user(&twin, &[], &[]).await.is_err());
    store.delete_user(&users[2].id, &[]).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 2);
}

pub async fn identity_updates_keep_uniqueness(store: Arc<dyn Store>) {
    seeded(&store).await;
    let a = user(1);
    let b = user(2);
    store.create_user(&a, &[], &[]).await.unwrap();
    store.create_user(&b, &[], &[]).await.unwrap();
    let mut moved = b.clone();
    moved.email_key = a.email_key.clone();
    assert_eq!(
        store.update_identity(&moved, &[]).await.err_code(),
        ErrorCode::DuplicateEmail
    );
    let mut renamed = b.clone();
    renamed.username = "Renamed".into();
    renamed.username_key = "renamed".into();
    store.update_identity(&renamed, &[]).await.unwrap();
    assert!(store.user_by_username_key("user2").await.unwrap().is_none());
    assert_eq!(
        store
            .user_by_username_key("renamed")
            .await
            .unwrap()
            .unwrap()
            .username,
        "Renamed"
    );
    let mut ghost = user(9);
    ghost.id = "missing".into();
    assert_eq!(
        store.update_identity(&ghost, &[]).await.err_code(),
        ErrorCode::NotFound
    );
}

pub async fn password_change_ends_sessions_atomically(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let (keep, keep_rt) = session(&u, 0);
    let (other, other_rt) = session(&u, 1);
    let (gone, gone_rt) = session(&u, 2);
    store.create_session(&keep, &keep_rt, 0, &[]).await.unwrap();
    store
        .create_session(&other, &other_rt, 0, &[])
        .await
        .unwrap();
    store.create_session(&gone, &gone_rt, 0, &[]).await.unwrap();
    // An ended session is not ended again, so not reported again.
    store
        .revoke_session(&gone.id, Utc::now(), "logout", &[])
        .await
        .unwrap();
    let ended = store
        .update_password(
            &u.id,
            "new-hash",
            None,
            Utc::now(),
            EndSessions::AllExcept(Some(&keep.id)),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(ended, [other.id.as_str()]);
    assert_eq!(
        store
            .user_by_id(&u.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        "new-hash"
    );
    let live: Vec<_> = store.live_sessions(&u.id, Utc::now()).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, keep.id);
    let ended = store.session(&other.id).await.unwrap().unwrap();
    assert_eq!(ended.revoked_reason.as_deref(), Some("password_changed"));
    let ended = store
        .update_password(&u.id, "h2", None, Utc::now(), EndSessions::None, &[])
        .await
        .unwrap();
    assert!(ended.is_empty());
    assert_eq!(
        store.live_sessions(&u.id, Utc::now()).await.unwrap().len(),
        1
    );
    // Ending everything reports the one that was still live.
    let ended = store
        .update_password(
            &u.id,
            "h3",
            None,
            Utc::now(),
            EndSessions::AllExcept(None),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(ended, [keep.id.as_str()]);
    assert_eq!(
        store
            .update_password("missing", "h", None, Utc::now(), EndSessions::None, &[])
            .await
            .err_code(),
        ErrorCode::NotFound
    );
}

pub async fn disabling_ends_sessions_and_permissions(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["moderator"], &[]).await.unwrap();
    let (s, rt) = session(&u, 0);
    let (t, trt) = session(&u, 1);
    store.create_session(&s, &rt, 0, &[]).await.unwrap();
    store.create_session(&t, &trt, 0, &[]).await.unwrap();
    // Another user's session is not touched.
    let bystander = user(2);
    store.create_user(&bystander, &[], &[]).await.unwrap();
    let (b, brt) = session(&bystander, 0);
    store.create_session(&b, &brt, 0, &[]).await.unwrap();
    assert!(!store.user_permissions(&u.id).await.unwrap().is_empty());
    let mut expected = vec![s.id.clone(), t.id.clone()];
    expected.sort();
    assert_eq!(
        store
            .set_disabled(&u.id, true, Utc::now(), &[])
            .await
            .unwrap(),
        expected
    );
    assert_eq!(
        store
            .live_sessions(&bystander.id, Utc::now())
            .await
            .unwrap(),
        [b]
    );
    // Disabling again finds nothing left to end.
    assert!(
        store
            .set_disabled(&u.id, true, Utc::now(), &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.user_by_id(&u.id).await.unwrap().unwrap().disabled);
    assert!(
        store
            .live_sessions(&u.id, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.user_permissions(&u.id).await.unwrap().is_empty());
    assert!(
        store
            .set_disabled(&u.id, false, Utc::now(), &[])
            .await
            .unwrap()
            .is_empty()
    );
    let mut perms = store.user_permissions(&u.id).await.unwrap();
    perms.sort();
    assert_eq!(perms, ["users:read", "users:write"]);
    assert_eq!(
        store
            .set_disabled("missing", true, Utc::now(), &[])
            .await
            .err_code(),
        ErrorCode::NotFound
    );
}

pub async fn delete_cascades(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let (s, rt) = session(&u, 0);
    let (ended, ended_rt) = session(&u, 1);
    let (mut expired, expired_rt) = session(&u, 2);
    expired.expires_at = now() - Duration::seconds(1);
    store.create_session(&s, &rt, 0, &[]).await.unwrap();
    store
        .create_session(&ended, &ended_rt, 0, &[])
        .await
        .unwrap();
    store
        .create_session(&expired, &expired_rt, 0, &[])
        .await
        .unwrap();
    store
        .revoke_session(&ended.id, Utc::now(), "logout", &[])
        .await
        .unwrap();
    // Only the session that was live is reported.
    assert_eq!(
        store.delete_user(&u.id, &[]).await.unwrap(),
        Some(vec![s.id.clone()])
    );
    assert_eq!(store.delete_user(&u.id, &[]).await.unwrap(), None);
    for gone in [&s.id, &ended.id, &expired.id] {
        assert!(store.session(gone).await.unwrap().is_none());
    }
    assert!(store.refresh_token(&rt.token_hash).await.unwrap().is_none());
    assert!(store.user_roles(&u.id).await.unwrap().is_empty());
    assert!(
        store
            .user_by_email_key(&u.email_key)
            .await
            .unwrap()
            .is_none()
    );
    // The freed email can be registered again.
    let mut again = user(2);
    again.email_key = u.email_key.clone();
    store.create_user(&again, &[], &[]).await.unwrap();
}

pub async fn sessions_revoke(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let (a, art) = session(&u, 0);
    let (b, brt) = session(&u, 1);
    store.create_session(&a, &art, 0, &[]).await.unwrap();
    store.create_session(&b, &brt, 0, &[]).await.unwrap();
    let live = store.live_sessions(&u.id, Utc::now()).await.unwrap();
    assert_eq!(
        live.iter().map(|s| &s.id).collect::<Vec<_>>(),
        [&b.id, &a.id],
        "newest first"
    );
    assert_eq!(live[0], b);
    assert!(
        store
            .revoke_session(&a.id, Utc::now(), "logout", &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_session(&a.id, Utc::now(), "logout", &[])
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .session(&a.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_reason
            .as_deref(),
        Some("logout")
    );
    let (c, crt) = session(&u, 2);
    store.create_session(&c, &crt, 0, &[]).await.unwrap();
    assert_eq!(
        store
            .revoke_user_sessions(&u.id, Some(&c.id), Utc::now(), "revoked", &[])
            .await
            .unwrap(),
        [b.id.as_str()]
    );
    assert_eq!(
        store
            .revoke_user_sessions(&u.id, None, Utc::now(), "revoked", &[])
            .await
            .unwrap(),
        [c.id.as_str()]
    );
    assert!(
        store
            .revoke_user_sessions(&u.id, None, Utc::now(), "revoked", &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .live_sessions(&u.id, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    let mut ghost = session(&u, 2);
    ghost.0.user_id = "missing".into();
    assert_eq!(
        store
            .create_session(&ghost.0, &ghost.1, 0, &[])
            .await
            .err_code(),
        ErrorCode::NotFound
    );
}

pub async fn rotation_has_one_winner(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let (s, first) = session(&u, 0);
    store.create_session(&s, &first, 0, &[]).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let next = refresh(&s.id, &u.id);
        let old = first.token_hash.clone();
        tasks.push(tokio::spawn(async move {
            store
                .rotate_refresh(&old, &next, Utc::now(), &[])
                .await
                .unwrap()
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    outcomes.sort_by_key(|o| *o != Rotation::Rotated);
    assert_eq!(outcomes[0], Rotation::Rotated);
    assert!(outcomes[1..].iter().all(|o| *o == Rotation::AlreadyUsed));
    let used = store
        .refresh_token(&first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert!(used.used_at.is_some());
    assert!(
        store
            .session(&s.id)
            .await
            .unwrap()
            .unwrap()
            .last_refreshed_at
            .is_some()
    );
}

/// A session starts only for the user as its login read it: enabled, with
/// the same credentials version (which a password change bumps and a
/// rehash does not); a rehash only replaces the hash it was given.
pub async fn sessions_start_only_for_the_user_as_read(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let (s, rt) = session(&u, 0);
    assert!(!store.create_session(&s, &rt, 1, &[]).await.unwrap());
    assert_eq!(store.session(&s.id).await.unwrap(), None);
    assert!(
        store
            .rehash_password(&u.id, &u.password_hash, "rehashed")
            .await
            .unwrap()
    );
    assert!(
        !store
            .rehash_password(&u.id, &u.password_hash, "again")
            .await
            .unwrap()
    );
    let read = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (read.password_hash.as_str(), read.credentials_version),
        ("rehashed", 0)
    );
    assert!(store.create_session(&s, &rt, 0, &[]).await.unwrap());
    store
        .update_password(&u.id, "changed", None, Utc::now(), EndSessions::None, &[])
        .await
        .unwrap();
    let read = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(read.credentials_version, 1);
    // A proven change replaces only the hash it was proven against.
    assert_eq!(
        store
            .update_password(
                &u.id,
                "lost",
                Some("rehashed"),
                Utc::now(),
                EndSessions::None,
                &[]
            )
            .await
            .err_code(),
        ErrorCode::InvalidCredentials
    );
    let read = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (read.password_hash.as_str(), read.credentials_version),
        ("changed", 1)
    );
    assert!(
        !store
            .rehash_password(&u.id, "rehashed", "stale")
            .await
            .unwrap()
    );
    let (late, late_rt) = session(&u, 1);
    assert!(!store.create_session(&late, &late_rt, 0, &[]).await.unwrap());
    assert_eq!(
        store.refresh_token(&late_rt.token_hash).await.unwrap(),
        None
    );
    store
        .set_disabled(&u.id, true, Utc::now(), &[])
        .await
        .unwrap();
    assert!(!store.create_session(&late, &late_rt, 1, &[]).await.unwrap());
    store
        .set_disabled(&u.id, false, Utc::now(), &[])
        .await
        .unwrap();
    assert!(store.create_session(&late, &late_rt, 1, &[]).await.unwrap());
}

/// A rotation commits only on a live session: not on a revoked one, not for
/// a disabled user, not once the user is gone.
pub async fn rotation_needs_a_live_session(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let (s, first) = session(&u, 0);
    store.create_session(&s, &first, 0, &[]).await.unwrap();
    store
        .revoke_session(&s.id, Utc::now(), "logout", &[])
        .await
        .unwrap();
    let next = refresh(&s.id, &u.id);
    assert_eq!(
        store
            .rotate_refresh(&first.token_hash, &next, Utc::now(), &[])
            .await
            .unwrap(),
        Rotation::Ended
    );
    assert_eq!(store.refresh_token(&next.token_hash).await.unwrap(), None);
    let unused = store
        .refresh_token(&first.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unused.used_at, None);

    let (t, t_first) = session(&u, 1);
    store.create_session(&t, &t_first, 0, &[]).await.unwrap();
    // Disabling ends the user's sessions; a store must refuse the rotation
    // for the disabled user whichever it checks.
    store
        .set_disabled(&u.id, true, Utc::now(), &[])
        .await
        .unwrap();
    let t_next = refresh(&t.id, &u.id);
    assert_eq!(
        store
            .rotate_refresh(&t_first.token_hash, &t_next, Utc::now(), &[])
            .await
            .unwrap(),
        Rotation::Ended
    );
    assert_eq!(store.refresh_token(&t_next.token_hash).await.unwrap(), None);
    store
        .set_disabled(&u.id, false, Utc::now(), &[])
        .await
        .unwrap();

    let (w, w_first) = session(&u, 2);
    store.create_session(&w, &w_first, 0, &[]).await.unwrap();
    let w_next = refresh(&w.id, &u.id);
    assert_eq!(
        store
            .rotate_refresh(&w_first.token_hash, &w_next, Utc::now(), &[])
            .await
            .unwrap(),
        Rotation::Rotated
    );
    assert_eq!(
        store
            .rotate_refresh(&w_first.token_hash, &refresh(&w.id, &u.id), Utc::now(), &[])
            .await
            .unwrap(),
        Rotation::AlreadyUsed
    );
    store.delete_user(&u.id, &[]).await.unwrap();
    assert_eq!(
        store
            .rotate_refresh(&w_next.token_hash, &refresh(&w.id, &u.id), Utc::now(), &[])
            .await
            .unwrap(),
        Rotation::Ended
    );
}

/// Per-client login state: counted per (account, client), locked and
/// cleared per client, known once a login succeeded, gone with the user.
pub async fn login_clients_are_counted_per_account_and_address(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    let v = user(2);
    store.create_user(&u, &[], &[]).await.unwrap();
    store.create_user(&v, &[], &[]).await.unwrap();
    assert_eq!(store.login_client(&u.id, "10.0.0.1").await.unwrap(), None);
    assert_eq!(store.client_failed(&u.id, "10.0.0.1").await.unwrap(), 1);
    assert_eq!(store.client_failed(&u.id, "10.0.0.1").await.unwrap(), 2);
    assert_eq!(store.client_failed(&u.id, "10.0.0.2").await.unwrap(), 1);
    assert_eq!(store.client_failed(&v.id, "10.0.0.1").await.unwrap(), 1);
    assert_eq!(
        store.client_failed("missing", "10.0.0.1").await.err_code(),
        ErrorCode::NotFound
    );
    let until = at(100);
    store.lock_client(&u.id, "10.0.0.1", until).await.unwrap();
    let state = store
        .login_client(&u.id, "10.0.0.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.failures, state.locked_until, state.last_success_at),
        (2, Some(until), None)
    );
    let when = now();
    store
        .client_succeeded(&u.id, "10.0.0.1", when)
        .await
        .unwrap();
    let state = store
        .login_client(&u.id, "10.0.0.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (state.failures, state.locked_until, state.last_success_at),
        (0, None, Some(when))
    );
    assert!(
        store.unlock_clients(&u.id).await.unwrap(),
        "10.0.0.2 had one"
    );
    assert!(!store.unlock_clients(&u.id).await.unwrap());
    assert_eq!(
        store
            .login_client(&v.id, "10.0.0.1")
            .await
            .unwrap()
            .unwrap()
            .failures,
        1,
        "another account's count is its own"
    );
    store.delete_user(&u.id, &[]).await.unwrap();
    assert_eq!(store.login_client(&u.id, "10.0.0.1").await.unwrap(), None);
}

pub async fn roles_and_grants(store: Arc<dyn Store>) {
    seeded(&store).await;
    let names: Vec<_> = store
        .list_roles()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["admin", "moderator", "user"]);
    let editor = Role {
        name: "editor".into(),
        description: "Edits".into(),
        permissions: vec!["posts:*".into()],
        builtin: false,
        created_at: at(0),
    };
    store.create_role(&editor, &[]).await.unwrap();
    assert_eq!(
        store.create_role(&editor, &[]).await.err_code(),
        ErrorCode::ValidationError
    );
    assert_eq!(store.role("editor").await.unwrap(), Some(editor.clone()));
    // Seeding again keeps what exists.
    store
        .ensure_roles(&doorward::rbac::seeded_roles())
        .await
        .unwrap();
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    assert!(
        store
            .grant_role(&u.id, "editor", Utc::now(), &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .grant_role(&u.id, "editor", Utc::now(), &[])
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .grant_role(&u.id, "nope", Utc::now(), &[])
            .await
            .err_code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store
            .grant_role("nobody", "editor", Utc::now(), &[])
            .await
            .err_code(),
        ErrorCode::NotFound
    );
    assert_eq!(store.user_roles(&u.id).await.unwrap(), ["editor", "user"]);
    let mut perms = store.user_permissions(&u.id).await.unwrap();
    perms.sort();
    assert_eq!(perms, ["posts:*", "users:read"]);
    assert!(store.revoke_role(&u.id, "editor", &[]).await.unwrap());
    assert!(!store.revoke_role(&u.id, "editor", &[]).await.unwrap());
    store
        .grant_role(&u.id, "editor", Utc::now(), &[])
        .await
        .unwrap();
    assert!(store.delete_role("editor", &[]).await.unwrap());
    assert!(!store.delete_role("editor", &[]).await.unwrap());
    assert_eq!(store.user_roles(&u.id).await.unwrap(), ["user"]);
    assert!(store.user_permissions("nobody").await.unwrap().is_empty());
}

pub async fn racing_creates_leave_one_row(store: Arc<dyn Store>) {
    seeded(&store).await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let store = store.clone();
        let mut u = user(100 + n);
        u.email_key = "same@example.com".into();
        tasks.push(tokio::spawn(async move {
            store.create_user(&u, &["user"], &[]).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert_eq!(e.code(), ErrorCode::DuplicateEmail),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(
        store
            .list_users(None, &UserFilter::default(), 100)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn lockout_state_round_trips(store: Arc<dyn Store>) {
    seeded(&store).await;
    // A user created already locked keeps its state exactly.
    let mut u = user(1);
    u.failed_logins = 3;
    u.locked_until = Some(at(600));
    store.create_user(&u, &[], &[]).await.unwrap();
    assert_eq!(store.user_by_id(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(store.record_failed_login(&u.id, &[]).await.unwrap(), 4);
    assert_eq!(store.record_failed_login(&u.id, &[]).await.unwrap(), 5);
    let until = at(900);
    store.lock_user(&u.id, until, &[]).await.unwrap();
    let locked = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (locked.failed_logins, locked.locked_until),
        (5, Some(until))
    );
    // A successful login clears the lockout state and nothing else.
    let login_at = at(1000);
    store.touch_login(&u.id, login_at).await.unwrap();
    let fresh = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!(fresh.failed_logins, 0);
    assert_eq!(fresh.locked_until, None);
    assert_eq!(fresh.last_login_at, Some(login_at));
    assert_eq!(fresh.password_hash, u.password_hash);
    assert_eq!(fresh.updated_at, u.updated_at);
    // Counting starts over after the reset.
    assert_eq!(store.record_failed_login(&u.id, &[]).await.unwrap(), 1);
}

pub async fn unlock_reports_what_it_cleared(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    assert!(!store.unlock_user(&u.id).await.unwrap(), "nothing to clear");
    store.record_failed_login(&u.id, &[]).await.unwrap();
    assert!(store.unlock_user(&u.id).await.unwrap(), "failures only");
    assert_eq!(
        store
            .user_by_id(&u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        0
    );
    store.lock_user(&u.id, at(60), &[]).await.unwrap();
    assert!(store.unlock_user(&u.id).await.unwrap(), "lock only");
    let cleared = store.user_by_id(&u.id).await.unwrap().unwrap();
    assert_eq!((cleared.failed_logins, cleared.locked_until), (0, None));
    assert!(!store.unlock_user(&u.id).await.unwrap());
}

pub async fn lockout_of_unknown_users_is_not_found(store: Arc<dyn Store>) {
    seeded(&store).await;
    assert_eq!(
        store.record_failed_login("missing", &[]).await.err_code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store.lock_user("missing", at(60), &[]).await.err_code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        store.unlock_user("missing").await.err_code(),
        ErrorCode::NotFound
    );
    // touch_login stays a no-op for a user deleted meanwhile.
    store.touch_login("missing", at(0)).await.unwrap();
    assert!(store.user_by_id("missing").await.unwrap().is_none());
}

pub async fn racing_failed_logins_are_each_counted(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &[], &[]).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let id = u.id.clone();
            tokio::spawn(async move { store.record_failed_login(&id, &[]).await.unwrap() })
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        counts.push(t.await.unwrap());
    }
    counts.sort_unstable();
    // Every caller saw a different count: no increment was lost or shared.
    assert_eq!(counts, (1..=20).collect::<Vec<u32>>());
    assert_eq!(
        store
            .user_by_id(&u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_logins,
        20
    );
}

macro_rules! store_conformance {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            store_conformance!(@tests $make;
                users_round_trip, duplicates_are_typed, listing_pages_by_creation,
                users_are_counted_disabled_or_not,
                identity_updates_keep_uniqueness, password_change_ends_sessions_atomically,
                disabling_ends_sessions_and_permissions, delete_cascades, sessions_revoke,
                rotation_has_one_winner, sessions_start_only_for_the_user_as_read,
                rotation_needs_a_live_session, login_clients_are_counted_per_account_and_address,
                roles_and_grants, racing_creates_leave_one_row,
                lockout_state_round_trips, unlock_reports_what_it_cleared,
                lockout_of_unknown_users_is_not_found, racing_failed_logins_are_each_counted,
                flows_are_consumed_once, flows_expire_and_run_out_of_attempts,
                racing_consumers_have_one_winner, password_changes_cancel_reset_flows,
                addresses_are_verified_and_changed, totp_steps_are_accepted_once,
                recovery_codes_are_spent_once, passkey_counters_only_move_forward,
                identities_link_once_per_subject_and_provider,
                racing_first_sign_ins_create_one_account, unlinking_keeps_a_way_in,
                bulk_inserts_are_all_or_nothing, searches_match_prefixes_literally,
                lists_filter_by_role);
        }
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let store: Arc<dyn Store> = $make;
                super::$name(store).await;
            }
        )*
    };
}

store_conformance!(
    memory,
    Arc::new(doorward::store::memory::MemoryStore::new())
);

/// A store of the backend `database_url` names.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn open(database_url: &str, max_connections: u32) -> Arc<dyn Store> {
    let config = doorward::Config {
        database_url: database_url.into(),
        database_max_connections: max_connections,
        ..doorward::Config::default()
    };
    doorward::store::open(&config).await.unwrap()
}

#[cfg(feature = "sqlite")]
store_conformance!(sqlite_memory, open("sqlite::memory:", 4).await);

#[cfg(feature = "sqlite")]
store_conformance!(sqlite_file, {
    let dir = tempfile::tempdir().unwrap().keep();
    open(
        &format!("sqlite://{}", dir.join("conformance.db").display()),
        8,
    )
    .await
});

// Without a reachable server each check returns early (a skip), unless
// DOORWARD_REQUIRE_SERVICES=1 makes that a failure.
#[cfg(feature = "postgres")]
store_conformance!(postgres, {
    let Some(url) = common::services::postgres_url().await else {
        return;
    };
    open(&url, 30).await
});
