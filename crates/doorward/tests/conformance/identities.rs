//! Linked identities' storage: a subject signs in one account, an account
//! has one identity per provider, racing first sign-ins create one
//! account, and unlinking never removes the last way in, even when two
//! unlinks race.

use std::sync::Arc;

use doorward::store::{IdentityRecord, Linking, Store, Unlinking};

use super::{at, seeded, user};

fn identity(provider: &str, subject: &str, user_id: &str) -> IdentityRecord {
    IdentityRecord {
        provider: provider.into(),
        subject: subject.into(),
        user_id: user_id.into(),
        email: Some(format!("{subject}@example.com")),
        email_verified: true,
        tokens_sealed: None,
        created_at: at(1),
        last_used_at: None,
    }
}

pub async fn identities_link_once_per_subject_and_provider(store: Arc<dyn Store>) {
    seeded(&store).await;
    let (a, b) = (user(1), user(2));
    store.create_user(&a, &["user"], &[]).await.unwrap();
    store.create_user(&b, &["user"], &[]).await.unwrap();
    let g = identity("google", "g-1", &a.id);
    assert_eq!(store.add_identity(&g, &[]).await.unwrap(), Linking::Linked);
    assert_eq!(
        store.add_identity(&g, &[]).await.unwrap(),
        Linking::SubjectTaken
    );
    // The subject is another account's: refused.
    let stolen = identity("google", "g-1", &b.id);
    assert_eq!(
        store.add_identity(&stolen, &[]).await.unwrap(),
        Linking::SubjectTaken
    );
    // One identity per provider per account.
    let second = identity("google", "g-2", &a.id);
    assert_eq!(
        store.add_identity(&second, &[]).await.unwrap(),
        Linking::ProviderTaken
    );
    assert!(store.identity("google", "g-2").await.unwrap().is_none());
    let gh = IdentityRecord {
        created_at: at(2),
        ..identity("github", "7", &a.id)
    };
    assert_eq!(store.add_identity(&gh, &[]).await.unwrap(), Linking::Linked);
    assert_eq!(
        store.identity("google", "g-1").await.unwrap(),
        Some(g.clone())
    );
    let listed = store.identities(&a.id).await.unwrap();
    assert_eq!(listed, vec![g.clone(), gh.clone()]);
    assert!(store.identities(&b.id).await.unwrap().is_empty());
    // A use records what the provider said now.
    let used = IdentityRecord {
        email: Some("new@example.com".into()),
        email_verified: false,
        tokens_sealed: Some("sealed".into()),
        last_used_at: Some(at(9)),
        ..g.clone()
    };
    assert!(store.use_identity(&used).await.unwrap());
    assert_eq!(store.identity("google", "g-1").await.unwrap(), Some(used));
    assert!(
        !store
            .use_identity(&identity("google", "g-1", &b.id))
            .await
            .unwrap()
    );
    // An identity for an account that is gone.
    let ghost = identity("google", "g-9", "no-such-user");
    let err = store.add_identity(&ghost, &[]).await.unwrap_err();
    assert_eq!(err.code(), doorward::ErrorCode::NotFound);
    // Identities go with their account.
    store.delete_user(&a.id, &[]).await.unwrap();
    assert!(store.identity("google", "g-1").await.unwrap().is_none());
    assert!(store.identities(&a.id).await.unwrap().is_empty());
}

pub async fn racing_first_sign_ins_create_one_account(store: Arc<dyn Store>) {
    seeded(&store).await;
    // Eight callbacks of one new identity at once, each with its own
    // account (the address differs, as a provider's can between calls).
    let won = super::mfa::racing(8, || {
        let store = store.clone();
        async move {
            let mut u = user(rand_n());
            u.email_key = format!("{}@example.com", u.id);
            let id = identity("oidc", "same-subject", &u.id);
            store
                .create_user_with_identity(&u, &["user"], &id, &[])
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
    assert_eq!(store.count_users().await.unwrap(), 1);
    let linked = store
        .identity("oidc", "same-subject")
        .await
        .unwrap()
        .unwrap();
    assert!(store.user_by_id(&linked.user_id).await.unwrap().is_some());
    // An address taken is the account's error, and nothing is written.
    let mut dup = user(50);
    dup.email_key = store
        .user_by_id(&linked.user_id)
        .await
        .unwrap()
        .unwrap()
        .email_key;
    let err = store
        .create_user_with_identity(&dup, &["user"], &identity("oidc", "s-2", &dup.id), &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), doorward::ErrorCode::DuplicateEmail);
    assert!(store.identity("oidc", "s-2").await.unwrap().is_none());
}

fn rand_n() -> u32 {
    1000 + rand::random::<u32>() % 1_000_000
}

pub async fn unlinking_keeps_a_way_in(store: Arc<dyn Store>) {
    seeded(&store).await;
    let mut u = user(1);
    u.password_hash = doorward::password::unusable();
    store.create_user(&u, &["user"], &[]).await.unwrap();
    for (provider, subject) in [("google", "g"), ("github", "h")] {
        let id = identity(provider, subject, &u.id);
        assert_eq!(store.add_identity(&id, &[]).await.unwrap(), Linking::Linked);
    }
    assert_eq!(
        store.unlink_identity(&u.id, "apple", &[]).await.unwrap(),
        Unlinking::NotLinked
    );
    // Two unlinks at once of an account's two last identities: one wins,
    // one is refused.
    for _ in 0..3 {
        let results = {
            let (s1, s2, id1, id2) = (store.clone(), store.clone(), u.id.clone(), u.id.clone());
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let (b1, b2) = (barrier.clone(), barrier);
            let t1 = tokio::spawn(async move {
                b1.wait().await;
                s1.unlink_identity(&id1, "google", &[]).await.unwrap()
            });
            let t2 = tokio::spawn(async move {
                b2.wait().await;
                s2.unlink_identity(&id2, "github", &[]).await.unwrap()
            });
            [t1.await.unwrap(), t2.await.unwrap()]
        };
        let unlinked = results
            .iter()
            .filter(|r| **r == Unlinking::Unlinked)
            .count();
        assert_eq!(unlinked, 1, "{results:?}");
        assert!(results.contains(&Unlinking::LastMethod));
        assert_eq!(store.identities(&u.id).await.unwrap().len(), 1);
        // Put the removed one back for the next round.
        let left = &store.identities(&u.id).await.unwrap()[0];
        let (provider, subject) = if left.provider == "google" {
            ("github", "h")
        } else {
            ("google", "g")
        };
        let back = identity(provider, subject, &u.id);
        assert_eq!(
            store.add_identity(&back, &[]).await.unwrap(),
            Linking::Linked
        );
    }
    // With a password, the last identity may go.
    let mut with_password = user(2);
    with_password.password_hash = user(2).password_hash;
    store
        .create_user(&with_password, &["user"], &[])
        .await
        .unwrap();
    let id = identity("google", "p", &with_password.id);
    store.add_identity(&id, &[]).await.unwrap();
    assert_eq!(
        store
            .unlink_identity(&with_password.id, "google", &[])
            .await
            .unwrap(),
        Unlinking::Unlinked
    );
}
