//! Second factors' storage: a TOTP step and a recovery code are each
//! accepted once, also when racing.

use std::sync::Arc;

use doorward::ErrorCode;
use doorward::store::Store;

use super::{at, seeded, user};

/// `n` calls of `call` started together; how many returned true.
pub(crate) async fn racing<F, Fut>(n: usize, call: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (barrier, call) = (barrier.clone(), call());
            tokio::spawn(async move {
                barrier.wait().await;
                call.await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    won
}

pub async fn totp_steps_are_accepted_once(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let missing = store
        .put_totp("missing", "sealed", at(0))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
    assert!(store.put_totp(&u.id, "first", at(0)).await.unwrap());
    assert!(
        store.put_totp(&u.id, "second", at(1)).await.unwrap(),
        "a pending one is replaced"
    );
    let pending = store.totp(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (pending.secret_sealed.as_str(), pending.confirmed_at),
        ("second", None)
    );
    assert!(
        !store.use_totp_step(&u.id, 10).await.unwrap(),
        "not a factor until confirmed"
    );
    let codes = vec!["h1".to_string(), "h2".to_string(), "h3".to_string()];
    assert!(
        store
            .confirm_totp(&u.id, 100, &codes, at(2), &[])
            .await
            .unwrap()
    );
    assert!(
        !store
            .confirm_totp(&u.id, 101, &codes, at(3), &[])
            .await
            .unwrap()
    );
    assert!(
        !store.put_totp(&u.id, "third", at(4)).await.unwrap(),
        "a confirmed one stays"
    );
    let confirmed = store.totp(&u.id).await.unwrap().unwrap();
    assert_eq!(
        (confirmed.confirmed_at, confirmed.last_used_step),
        (Some(at(2)), Some(100))
    );
    // The confirming step, and earlier ones, are spent.
    assert!(!store.use_totp_step(&u.id, 100).await.unwrap());
    assert!(!store.use_totp_step(&u.id, 99).await.unwrap());
    assert!(store.use_totp_step(&u.id, 101).await.unwrap());
    assert!(!store.use_totp_step(&u.id, 101).await.unwrap());
    let (s, id) = (store.clone(), u.id.clone());
    let won = racing(8, || {
        let (s, id) = (s.clone(), id.clone());
        async move { s.use_totp_step(&id, 200).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1, "one of eight racing uses of one step");
    assert_eq!(store.recovery_codes_left(&u.id).await.unwrap(), 3);
    assert!(store.delete_totp(&u.id, &[]).await.unwrap());
    assert!(!store.delete_totp(&u.id, &[]).await.unwrap());
    assert!(store.totp(&u.id).await.unwrap().is_none());
    assert_eq!(store.recovery_codes_left(&u.id).await.unwrap(), 0);
}

pub async fn recovery_codes_are_spent_once(store: Arc<dyn Store>) {
    seeded(&store).await;
    let u = user(1);
    store.create_user(&u, &["user"], &[]).await.unwrap();
    let old = vec!["old-1".to_string(), "old-2".to_string()];
    store
        .replace_recovery_codes(&u.id, &old, &[])
        .await
        .unwrap();
    assert!(
        store
            .use_recovery_code(&u.id, "old-1", at(1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(&u.id, "old-1", at(2))
            .await
            .unwrap()
    );
    assert!(!store.use_recovery_code(&u.id, "nope", at(2)).await.unwrap());
    assert_eq!(store.recovery_codes_left(&u.id).await.unwrap(), 1);
    let new: Vec<String> = (0..10).map(|n| format!("new-{n}")).collect();
    store
        .replace_recovery_codes(&u.id, &new, &[])
        .await
        .unwrap();
    assert!(
        !store
            .use_recovery_code(&u.id, "old-2", at(3))
            .await
            .unwrap(),
        "the old set is void"
    );
    assert_eq!(store.recovery_codes_left(&u.id).await.unwrap(), 10);
    let (s, id) = (store.clone(), u.id.clone());
    let won = racing(8, || {
        let (s, id) = (s.clone(), id.clone());
        async move { s.use_recovery_code(&id, "new-0", at(4)).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1, "one of eight racing uses of one code");
    let missing = store
        .replace_recovery_codes("missing", &new, &[])
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
    store.put_totp(&u.id, "sealed", at(5)).await.unwrap();
    store.delete_user(&u.id, &[]).await.unwrap();
    assert!(store.totp(&u.id).await.unwrap().is_none());
    assert_eq!(store.recovery_codes_left(&u.id).await.unwrap(), 0);
}
