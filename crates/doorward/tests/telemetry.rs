//! Metrics as Prometheus text (counters, latency histograms, gauges) and
//! tracing spans on the public operations.

mod common;

use common::SignedIn as _;
use std::sync::{Arc, Mutex};

use common::{PASSWORD, config};
use doorward::Doorward;

/// The value of the sample `name` (with its labels, as rendered), if any.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn counters_histograms_and_gauges_render_as_prometheus_text() {
    let dw = Doorward::open(doorward::Config {
        lockout_threshold: 2,
        rate_limit_login_account: "3/5m".into(),
        ..config("memory://")
    })
    .await
    .unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth()
        .register_user("jane", "jane@example.com", PASSWORD, None)
        .await
        .unwrap();
    let pair = dw
        .auth()
        .login("jane", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    for _ in 0..2 {
        let _ = dw
            .auth()
            .login("john", "not the password", None)
            .await
            .signed_in();
    }
    let _ = dw.auth().login("john", PASSWORD, None).await.signed_in(); // locked
    let _ = dw.auth().login("john", PASSWORD, None).await.signed_in(); // rate limited
    dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
    let _ = dw.auth().refresh_token(&pair.refresh_token).await; // reuse
    dw.auth()
        .verify_token(&reg.tokens.access_token)
        .await
        .unwrap();
    dw.auth().can(&reg.user.id, "users:read").await.unwrap();
    dw.auth().can(&reg.user.id, "users:read").await.unwrap();

    let text = dw.metrics_text().await.unwrap();
    let value = |name: &str| sample(&text, name).unwrap_or_else(|| panic!("{name} in\n{text}"));
    assert_eq!(value("doorward_registrations_total"), 2.0);
    assert_eq!(value("doorward_logins_total{outcome=\"success\"}"), 1.0);
    assert_eq!(
        value("doorward_logins_total{outcome=\"invalid_credentials\"}"),
        2.0
    );
    assert_eq!(
        value("doorward_logins_total{outcome=\"account_locked\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_logins_total{outcome=\"rate_limited\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_rate_limited_total{operation=\"auth.login\"}"),
        1.0
    );
    assert_eq!(value("doorward_account_lockouts_total"), 1.0);
    assert_eq!(
        value("doorward_token_refreshes_total{outcome=\"success\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_token_refreshes_total{outcome=\"token_reused\"}"),
        1.0
    );
    assert_eq!(value("doorward_token_reuse_detected_total"), 1.0);
    assert!(value("doorward_cache_hits_total{level=\"l1\"}") >= 1.0);
    assert!(value("doorward_cache_misses_total{level=\"l1\"}") >= 1.0);
    // john's registration session; jane's was revoked by the reuse.
    assert_eq!(value("doorward_active_sessions"), 2.0);
    assert_eq!(
        value("doorward_operation_duration_seconds_count{operation=\"auth.login\"}"),
        5.0
    );
    // The first check waited on the store; the second was answered from
    // the cache, counted without a span or a latency sample.
    assert_eq!(
        value("doorward_operation_duration_seconds_count{operation=\"auth.can\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_fast_path_total{operation=\"auth.can\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_operation_duration_seconds_count{operation=\"auth.verify_token\"}"),
        1.0
    );
    assert_eq!(
        value("doorward_fast_path_total{operation=\"auth.verify_token\"}"),
        0.0
    );
    assert!(text.contains(
        "doorward_operation_duration_seconds_bucket{operation=\"auth.register_user\",le=\"0.005\"}"
    ));
    assert!(text.contains("# TYPE doorward_operation_duration_seconds histogram"));
    assert!(text.contains("# HELP doorward_logins_total Login attempts"));
}

#[tokio::test]
async fn event_delivery_and_the_outbox_backlog_are_counted() {
    let dw = Doorward::open(doorward::Config {
        events_dispatch: true,
        ..config("memory://")
    })
    .await
    .unwrap();
    let seen = Arc::new(Mutex::new(0));
    let counter = seen.clone();
    let _sub = dw
        .events()
        .subscribe(None, &[], move |_| {
            *counter.lock().unwrap() += 1;
            async { Ok(()) }
        })
        .await
        .unwrap();
    dw.auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    let paused = dw.events().pause().await;
    let text = dw.metrics_text().await.unwrap();
    drop(paused);
    // The audit consumer has not taken the registration's two events yet
    // (UserRegistered, LoginSucceeded) unless the dispatcher already ran.
    let backlog = sample(&text, "doorward_outbox_backlog{consumer=\"audit\"}");
    assert!(backlog.is_none_or(|b| b <= 2.0), "{text}");
    dw.events().flush().await.unwrap();
    let text = dw.metrics_text().await.unwrap();
    assert_eq!(
        sample(&text, "doorward_outbox_backlog{consumer=\"audit\"}"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "doorward_events_delivered_total{consumer=\"subscriber\"}"
        ),
        Some(*seen.lock().unwrap() as f64)
    );
    assert_eq!(
        sample(&text, "doorward_webhook_deliveries_pending"),
        Some(0.0)
    );
}
