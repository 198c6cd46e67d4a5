//! Tracing spans on the public operations. Alone in its binary: a scoped
//! subscriber misses spans whose callsites other test threads registered
//! first.

mod common;

use common::capture::Capture;
use common::{PASSWORD, config};
use doorward::Doorward;

#[tokio::test(flavor = "current_thread")]
async fn public_operations_run_in_spans_with_ids_as_fields() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.users().get(&reg.user.id).await.unwrap();
    dw.roles().grant(&reg.user.id, "moderator").await.unwrap();
    let logs = capture.text();
    let closed = |path: &str| {
        logs.lines()
            .any(|l| l.contains(path) && l.contains("close"))
    };
    // The seed's span tree: registration, with validation and creation inside.
    assert!(closed("user_registration:validate_input"), "{logs}");
    assert!(closed("user_registration:create_user"), "{logs}");
    let id = &reg.user.id;
    assert!(closed(&format!("users.get{{user_id={id}}}")), "{logs}");
    assert!(
        closed(&format!("roles.grant{{user_id={id} name=moderator}}")),
        "{logs}"
    );
    assert!(!logs.contains(PASSWORD));
}
