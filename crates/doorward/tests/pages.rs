//! Every paged listing applies the one rule of `PageRequest`: no limit is
//! the default page, 1 to the listing's largest page is used as given, and
//! anything else is a `validation_error` on `limit`, never clamped.

mod common;

use doorward::store::AuditFilter;
use doorward::{PageRequest, users};

/// Limits just outside a listing whose largest page is `max`.
fn outside(max: u32) -> [u32; 3] {
    [0, max + 1, u32::MAX]
}

#[tokio::test]
async fn every_listing_refuses_a_limit_out_of_its_range() {
    let dw = common::open("memory://").await;
    for limit in outside(users::MAX_PAGE) {
        let err = dw.users().list(None, limit).await.unwrap_err();
        assert_eq!(err.field(), Some("limit"), "users.list({limit})");
    }
    for limit in outside(PageRequest::MAX_LIMIT) {
        let err = dw.events().list(None, limit).await.unwrap_err();
        assert_eq!(err.field(), Some("limit"), "events.list({limit})");
        let err = dw.events().deliveries(None, None, limit).await.unwrap_err();
        assert_eq!(err.field(), Some("limit"), "events.deliveries({limit})");
        let err = dw
            .audit()
            .list(&AuditFilter::default(), None, limit)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("limit"), "audit.list({limit})");
        #[cfg(feature = "files")]
        {
            let err = dw.files().list(None, None, limit).await.unwrap_err();
            assert_eq!(err.field(), Some("limit"), "files.list({limit})");
        }
    }
    // The largest page itself is a page.
    dw.users().list(None, users::MAX_PAGE).await.unwrap();
    dw.events()
        .list(None, PageRequest::MAX_LIMIT)
        .await
        .unwrap();
    dw.events()
        .deliveries(None, None, PageRequest::MAX_LIMIT)
        .await
        .unwrap();
    dw.audit()
        .list(&AuditFilter::default(), None, PageRequest::MAX_LIMIT)
        .await
        .unwrap();
}

#[tokio::test]
async fn without_a_limit_every_listing_returns_the_default_page() {
    let dw = common::open("memory://").await;
    let more = PageRequest::DEFAULT_LIMIT as usize + 1;
    for i in 0..more {
        let name = format!("user{i}");
        dw.users()
            .create(&name, &format!("{name}@example.com"), common::PASSWORD)
            .await
            .unwrap();
        #[cfg(feature = "files")]
        dw.files()
            .put(&format!("f/{i:03}"), "x", None)
            .await
            .unwrap();
    }
    let page = dw.users().list(None, None).await.unwrap();
    assert_eq!(page.items.len(), more - 1);
    let rest = dw
        .users()
        .list(page.next_cursor.as_deref(), None)
        .await
        .unwrap();
    assert_eq!((rest.items.len(), rest.next_cursor), (1, None));

    let events = dw.events().list(None, None).await.unwrap();
    assert_eq!(events.items.len(), more - 1);
    assert!(events.next_cursor.is_some());

    #[cfg(feature = "files")]
    {
        let files = dw.files().list(Some("f"), None, None).await.unwrap();
        assert_eq!(files.items.len(), more - 1);
        assert_eq!(files.next_cursor.as_deref(), Some("f/049"));
    }
}
