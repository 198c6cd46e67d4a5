//! The tracing spans reach an OTLP/HTTP collector (a loopback receiver
//! standing in for one) when `otel_endpoint` is set. Its own test binary:
//! it installs the process-wide subscriber.
#![cfg(feature = "otel")]

mod common;

use std::time::{Duration, Instant};

use common::PASSWORD;
use common::receiver::receiver;
use doorward::Doorward;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp() {
    let (hook, received) = receiver(vec![]).await;
    let endpoint = hook.trim_end_matches("/hook").to_string();
    let dw = Doorward::open(doorward::Config {
        otel_endpoint: Some(endpoint),
        otel_service_name: "doorward-test".into(),
        ..common::config("memory://")
    })
    .await
    .unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.users().get(&reg.user.id).await.unwrap();
    tokio::task::spawn_blocking(doorward::telemetry::otel::flush)
        .await
        .unwrap()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let all: String = received
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|(_, _, _, body)| body.as_str())
            .collect();
        if all.contains("users.get") || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // OTLP protobuf carries names and string attributes as plain UTF-8.
    for name in [
        "doorward-test",
        "user_registration",
        "validate_input",
        "create_user",
        "users.get",
        reg.user.id.as_str(),
    ] {
        assert!(body.contains(name), "{name} not exported");
    }
    assert!(!body.contains(PASSWORD));
    assert!(!body.contains(&reg.tokens.refresh_token));
}
