//! Bulk inserts and searches: a chunk is written whole or not at all (a
//! key taken in the store or twice in the chunk writes nothing), taken
//! keys are reported, the search matches prefixes of either key, literally.

use std::sync::Arc;

use doorward::ErrorCode;
use doorward::store::{Store, UserFilter};

use super::{seeded, user};
use crate::common::ErrCode as _;

pub async fn bulk_inserts_are_all_or_nothing(store: Arc<dyn Store>) {
    seeded(&store).await;
    let existing = user(1);
    store.create_user(&existing, &["user"], &[]).await.unwrap();
    let rows: Vec<_> = (2..700)
        .map(|n| (user(n), vec!["user".to_string(), "moderator".to_string()]))
        .collect();
    store.insert_users(&rows, &[]).await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 699);
    assert_eq!(
        store.user_roles(&rows[650].0.id).await.unwrap(),
        ["moderator", "user"]
    );
    // One row taking a stored address: none of the chunk is written.
    let mut clash = user(1);
    clash.id = uuid::Uuid::now_v7().to_string();
    clash.username_key = "someone-else".into();
    let fresh = user(900);
    let batch = vec![(fresh.clone(), vec!["user".to_string()]), (clash, vec![])];
    let err = store.insert_users(&batch, &[]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DuplicateEmail);
    // Two rows of one chunk sharing a username.
    let mut twin = user(901);
    twin.username_key = user(902).username_key;
    let batch = vec![(user(902), vec![]), (twin, vec![])];
    assert_eq!(
        store.insert_users(&batch, &[]).await.err_code(),
        ErrorCode::DuplicateUsername
    );
    assert!(store.user_by_id(&fresh.id).await.unwrap().is_none());
    assert_eq!(store.count_users().await.unwrap(), 699);
    let taken = store
        .taken_keys(
            &["user5@example.com".into(), "new@example.com".into()],
            &["user6".into(), "nobody".into()],
            &[rows[0].0.id.clone(), uuid::Uuid::now_v7().to_string()],
        )
        .await
        .unwrap();
    assert_eq!(
        taken.emails.into_iter().collect::<Vec<_>>(),
        ["user5@example.com"]
    );
    assert_eq!(taken.usernames.into_iter().collect::<Vec<_>>(), ["user6"]);
    assert_eq!(
        taken.ids.into_iter().collect::<Vec<_>>(),
        [rows[0].0.id.clone()]
    );
}

fn prefix(start: &str) -> UserFilter<'_> {
    UserFilter {
        prefix: Some(start),
        role: None,
    }
}

pub async fn searches_match_prefixes_literally(store: Arc<dyn Store>) {
    seeded(&store).await;
    let mut percent = user(3);
    percent.username_key = "100%_real".into();
    percent.email_key = "pct@example.com".into();
    for u in [user(1), user(2), percent, user(11)] {
        store.create_user(&u, &["user"], &[]).await.unwrap();
    }
    let found = |rows: Vec<doorward::store::UserRecord>| {
        rows.into_iter().map(|u| u.username_key).collect::<Vec<_>>()
    };
    assert_eq!(
        found(store.list_users(None, &prefix("user1"), 10).await.unwrap()),
        ["user1", "user11"]
    );
    assert_eq!(
        found(store.list_users(None, &prefix("pct@"), 10).await.unwrap()),
        ["100%_real"]
    );
    // `%` and `_` are themselves, not wildcards.
    assert_eq!(
        found(store.list_users(None, &prefix("100%_"), 10).await.unwrap()),
        ["100%_real"]
    );
    assert!(
        store
            .list_users(None, &prefix("1%"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_users(None, &prefix("user_"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let first = store.list_users(None, &prefix("user"), 1).await.unwrap();
    let after = (first[0].created_at, first[0].id.clone());
    assert_eq!(
        found(
            store
                .list_users(Some(&after), &prefix("user"), 10)
                .await
                .unwrap()
        ),
        ["user2", "user11"]
    );
}

/// A role's holders: the role filter alone, with a prefix, and paged.
pub async fn lists_filter_by_role(store: Arc<dyn Store>) {
    seeded(&store).await;
    for n in [1, 2, 3, 4] {
        let roles: &[&str] = if n % 2 == 0 {
            &["user", "admin"]
        } else {
            &["user"]
        };
        store.create_user(&user(n), roles, &[]).await.unwrap();
    }
    let names = |rows: Vec<doorward::store::UserRecord>| {
        rows.into_iter().map(|u| u.username_key).collect::<Vec<_>>()
    };
    let admins = UserFilter {
        prefix: None,
        role: Some("admin"),
    };
    let all = store.list_users(None, &admins, 10).await.unwrap();
    assert_eq!(names(all.clone()), ["user2", "user4"]);
    let after = (all[0].created_at, all[0].id.clone());
    assert_eq!(
        names(store.list_users(Some(&after), &admins, 10).await.unwrap()),
        ["user4"]
    );
    let both = UserFilter {
        prefix: Some("user4"),
        role: Some("admin"),
    };
    assert_eq!(
        names(store.list_users(None, &both, 10).await.unwrap()),
        ["user4"]
    );
    let none = UserFilter {
        prefix: None,
        role: Some("no-such-role"),
    };
    assert!(store.list_users(None, &none, 10).await.unwrap().is_empty());
}
