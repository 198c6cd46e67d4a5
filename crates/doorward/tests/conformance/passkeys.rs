//! Passkeys' storage: a credential is registered once, its counter only
//! moves forward (also when racing), and it goes with its account.

use std::sync::Arc;

use doorward::store::{PasskeyRecord, PasskeyUse, Store};

use super::{at, seeded, user};

fn passkey(id: &str, user_id: &str) -> PasskeyRecord {
    PasskeyRecord {
        id: id.into(),
        user_id: user_id.into(),
        name: "laptop".into(),
        credential: "{}".into(),
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_at: at(0),
        last_used_at: None,
    }
}

fn used(count: u32) -> PasskeyUse {
    PasskeyUse {
        credential: format!("{{\"n\":{count}}}"),
        sign_count: count,
        backup_eligible: true,
        backup_state: true,
        at: at(i64::from(count)),
    }
}

pub async fn passkey_counters_only_move_forward(store: Arc<dyn Store>) {
    seeded(&store).await;
    let (a, b) = (user(1), user(2));
    store.create_user(&a, &["user"], &[]).await.unwrap();
    store.create_user(&b, &["user"], &[]).await.unwrap();
    assert!(store.add_passkey(&passkey("k1", &a.id), &[]).await.unwrap());
    // A credential id is registered once, to anyone.
    assert!(!store.add_passkey(&passkey("k1", &b.id), &[]).await.unwrap());
    assert!(store.add_passkey(&passkey("k0", &a.id), &[]).await.unwrap());
    // Counters of 0 (authenticators without one) stay usable.
    assert!(store.use_passkey("k0", &used(0)).await.unwrap());
    assert!(store.use_passkey("k0", &used(0)).await.unwrap());
    assert!(store.use_passkey("k1", &used(5)).await.unwrap());
    for stale in [5, 4, 0] {
        assert!(
            !store.use_passkey("k1", &used(stale)).await.unwrap(),
            "{stale}"
        );
    }
    let k1 = store.passkey("k1").await.unwrap().unwrap();
    assert_eq!((k1.sign_count, k1.backup_state), (5, true));
    assert_eq!(k1.last_used_at, Some(at(5)));
    assert_eq!(k1.credential, "{\"n\":5}");
    // Eight callers with the same next counter: one records it.
    let won = super::mfa::racing(8, || {
        let store = store.clone();
        async move { store.use_passkey("k1", &used(6)).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1);
    // Renaming and removing are per account.
    assert!(!store.rename_passkey(&b.id, "k1", "x").await.unwrap());
    assert!(store.rename_passkey(&a.id, "k1", "phone").await.unwrap());
    assert!(!store.delete_passkey(&b.id, "k1", &[]).await.unwrap());
    let listed = store.passkeys(&a.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|p| p.name == "phone"));
    assert!(store.delete_passkey(&a.id, "k0", &[]).await.unwrap());
    // And they go with the account.
    store.delete_user(&a.id, &[]).await.unwrap();
    assert!(store.passkey("k1").await.unwrap().is_none());
}
