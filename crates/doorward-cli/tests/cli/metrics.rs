//! `metrics`: Prometheus text or JSON samples.

use crate::common::{Env, stderr, stdout};

#[test]
fn metrics_print_prometheus_text_or_json_samples() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    env.json(&["token", "issue", "alice"]);
    let out = env.run(["metrics"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("# TYPE doorward_active_sessions gauge"),
        "{text}"
    );
    assert!(text.contains("\ndoorward_active_sessions 1\n"), "{text}");
    let samples = env.json(&["metrics"]);
    let value = |name: &str| {
        samples
            .as_array()
            .expect("an array")
            .iter()
            .find(|s| s["name"] == name)
            .map(|s| s["value"].as_f64().expect("a number"))
    };
    assert_eq!(value("doorward_active_sessions"), Some(1.0));
    assert_eq!(value("doorward_webhook_deliveries_pending"), Some(0.0));
    // Delivered by `events flush`, the audit consumer has no backlog.
    env.json(&["events", "flush"]);
    let samples = env.json(&["metrics"]);
    let audit = samples
        .as_array()
        .expect("an array")
        .iter()
        .find(|s| s["name"] == "doorward_outbox_backlog" && s["labels"]["consumer"] == "audit")
        .expect("the audit consumer's backlog");
    assert_eq!(audit["value"], 0.0);
}
