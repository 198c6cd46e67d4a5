//! The account flows' storage: one-time secrets and verified addresses.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use doorward::ErrorCode;
use doorward::store::{Consumption, EndSessions, FlowRecord, Store};

use super::{at, seeded, user};

fn flow(user_id: Option<&str>, purpose: &str, created: DateTime<Utc>) -> FlowRecord {
    let id = uuid::Uuid::now_v7().to_string();
    FlowRecord {
        link_hash: format!("link-{id}"),
        code_hash: format!("code-{id}"),
        id,
        purpose: purpose.into(),
        user_id: user_id.map(str::to_string),
        address: "user1@example.com".into(),
        sealed: Some("sealed".into()),
        created_at: created,
        expires_at: created + Duration::minutes(10),
        consumed_at: None,
        attempts: 0,
    }
}

async fn consume(
    store: &Arc<dyn Store>,
    f: &FlowRecord,
    secret: &str,
    now: DateTime<Utc>,
) -> Consumption {
    store
        .consume_flow(&f.id, &f.purpose, secret, secret, now, 5)
        .await
        .unwrap()
}

pub async fn flows_are_consumed_once(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let f = flow(Some(&u.id), "sign_in", at(0));
    store.create_flow(&f, &[]).await.unwrap();
    assert_eq!(store.flow(&f.id).await.unwrap().unwrap(), f);
    assert_eq!(
        consume(&store, &f, "wrong", at(1)).await,
        Consumption::Wrong { attempts: 1 }
    );
    // By the code's hash, or by the link's.
    let Consumption::Consumed(done) = consume(&store, &f, &f.code_hash, at(2)).await else {
        panic!("the right code must consume the flow");
    };
    assert_eq!(
        (done.consumed_at, done.attempts, done.user_id.as_deref()),
        (Some(at(2)), 2, Some(u.id.as_str()))
    );
    let Consumption::Unusable(Some(used)) = consume(&store, &f, &f.link_hash, at(3)).await else {
        panic!("a used flow is unusable");
    };
    assert_eq!(used.consumed_at, Some(at(2)));
    assert_eq!(used.attempts, 2, "presenting to a used flow counts nothing");
    // Another purpose never matches, and an unknown id is no flow.
    let g = flow(Some(&u.id), "verify_email", at(0));
    store.create_flow(&g, &[]).await.unwrap();
    let r = store
        .consume_flow(
            &g.id,
            "reset_password",
            &g.link_hash,
            &g.code_hash,
            at(1),
            5,
        )
        .await
        .unwrap();
    assert!(matches!(r, Consumption::Unusable(Some(_))));
    let r = store
        .consume_flow("no-such-flow", "sign_in", "x", "x", at(1), 5)
        .await
        .unwrap();
    assert_eq!(r, Consumption::Unusable(None));
    // An address with no account has a flow too; its mail is forgotten once sent.
    let anon = flow(None, "reset_password", at(0));
    store.create_flow(&anon, &[]).await.unwrap();
    store.clear_sealed(&anon.id).await.unwrap();
    assert_eq!(store.flow(&anon.id).await.unwrap().unwrap().sealed, None);
}

pub async fn flows_expire_and_run_out_of_attempts(store: Arc<dyn Store>) {
    seeded(&store).await;
    let f = flow(None, "sign_in", at(0));
    store.create_flow(&f, &[]).await.unwrap();
    // At its expiry exactly, it no longer works.
    let late = f.expires_at;
    assert!(matches!(
        consume(&store, &f, &f.code_hash, late).await,
        Consumption::Unusable(Some(_))
    ));
    let g = flow(None, "sign_in", at(0));
    store.create_flow(&g, &[]).await.unwrap();
    for n in 1..=5 {
        assert_eq!(
            consume(&store, &g, "wrong", at(1)).await,
            Consumption::Wrong { attempts: n }
        );
    }
    let Consumption::Unusable(Some(dead)) = consume(&store, &g, &g.code_hash, at(1)).await else {
        panic!("out of attempts, even the right code is refused");
    };
    assert_eq!((dead.attempts, dead.consumed_at), (5, None));
}

pub async fn racing_consumers_have_one_winner(store: Arc<dyn Store>) {
    seeded(&store).await;
    for round in 0..5 {
        let f = flow(None, "sign_in", Utc::now() + Duration::seconds(round));
        let f = FlowRecord {
            expires_at: Utc::now() + Duration::hours(1),
            ..f
        };
        store.create_flow(&f, &[]).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (store, f, barrier) = (store.clone(), f.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .consume_flow(&f.id, &f.purpose, &f.link_hash, &f.code_hash, Utc::now(), 5)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Consumption::Consumed(_) => won += 1,
                Consumption::Unusable(Some(f)) => assert!(f.consumed_at.is_some()),
                other => panic!("a racing consumer saw {other:?}"),
            }
        }
        assert_eq!(won, 1, "round {round}");
    }
}

pub async fn password_changes_cancel_reset_flows(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let reset = flow(Some(&u.id), "reset_password", at(0));
    let verify = flow(Some(&u.id), "verify_email", at(0));
    store.create_flow(&reset, &[]).await.unwrap();
    store.create_flow(&verify, &[]).await.unwrap();
    store
        .update_password(&u.id, "new-hash", None, at(1), EndSessions::None, &[])
        .await
        .unwrap();
    assert_eq!(
        store.flow(&reset.id).await.unwrap().unwrap().consumed_at,
        Some(at(1))
    );
    assert_eq!(
        store.flow(&verify.id).await.unwrap().unwrap().consumed_at,
        None
    );
    assert_eq!(
        store
            .cancel_flows(&u.id, "verify_email", at(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .cancel_flows(&u.id, "verify_email", at(3))
            .await
            .unwrap(),
        0
    );
    // Pruning takes what expired before the cut, and deleting the user its flows.
    let old = flow(None, "sign_in", at(-3600));
    store.create_flow(&old, &[]).await.unwrap();
    assert_eq!(store.prune_flows(at(-60)).await.unwrap(), 1);
    assert!(store.flow(&old.id).await.unwrap().is_none());
    store.delete_user(&u.id, &[]).await.unwrap();
    assert!(store.flow(&reset.id).await.unwrap().is_none());
    let gone = flow(Some(&u.id), "sign_in", at(0));
    assert_eq!(
        store.create_flow(&gone, &[]).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
}

pub async fn addresses_are_verified_and_changed(store: Arc<dyn Store>) {
    seeded(&store).await;
    let (a, b) = (user(1), user(2));
    store.create_user(&a, &["user"], &[]).await.unwrap();
    store.create_user(&b, &["user"], &[]).await.unwrap();
    assert!(
        !store
            .set_email_verified(&a.id, "other@example.com", at(1), &[])
            .await
            .unwrap()
    );
    assert!(
        store
            .set_email_verified(&a.id, &a.email_key, at(1), &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_email_verified(&a.id, &a.email_key, at(2), &[])
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .user_by_id(&a.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        Some(at(1))
    );
    assert_eq!(
        store
            .set_email_verified("missing", "x", at(1), &[])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    let taken = store
        .change_email(&a.id, &b.email, &b.email_key, at(3), &[])
        .await;
    assert_eq!(taken.unwrap_err().code(), ErrorCode::DuplicateEmail);
    store
        .change_email(&a.id, "New@example.com", "new@example.com", at(4), &[])
        .await
        .unwrap();
    let moved = store
        .user_by_email_key("new@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            moved.id.as_str(),
            moved.email.as_str(),
            moved.email_verified_at
        ),
        (a.id.as_str(), "New@example.com", Some(at(4)))
    );
    assert!(
        store
            .user_by_email_key(&a.email_key)
            .await
            .unwrap()
            .is_none()
    );
    // An identity update writes the verification with the address.
    let mut cleared = moved.clone();
    cleared.email_verified_at = None;
    store.update_identity(&cleared, &[]).await.unwrap();
    assert_eq!(
        store
            .user_by_id(&a.id)
            .await
            .unwrap()
            .unwrap()
            .email_verified_at,
        None
    );
    assert_eq!(
        store
            .change_email("missing", "z@example.com", "z@example.com", at(5), &[])
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}
