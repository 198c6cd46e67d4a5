//! `events`, `webhooks` and `audit`.

use crate::common::{Env, stdout};

#[test]
fn events_webhooks_and_the_audit_log() {
    let env = Env::new();
    let alice = env.add_user("alice", "alice@example.com");
    env.json(&["role", "grant", "alice", "moderator"]);

    // Commands write events but do not deliver them.
    let page = env.json(&["events", "ls"]);
    let types: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, ["UserRegistered", "RoleGranted"]);
    assert_eq!(page["items"][0]["subject"], alice["id"]);
    let first = env.json(&["events", "ls", "--limit", "1"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = env.json(&["events", "ls", "--cursor", cursor]);
    assert_eq!(rest["items"][0]["type"], "RoleGranted");

    // Loopback is refused unless private targets are allowed.
    let add = [
        "webhook",
        "add",
        "http://127.0.0.1:9/hook",
        "-e",
        "UserRegistered",
    ];
    let refused = env.json_error(&add, &[]);
    assert_eq!(refused["field"], "url");
    let private = [("DOORWARD_WEBHOOK_ALLOW_PRIVATE", "true")];
    // A webhook to nowhere: added, tested (fails), listed, removed.
    let hook = env.json_with(&add, &private);
    let id = hook["id"].as_str().expect("id").to_string();
    assert!(
        hook["secret"]
            .as_str()
            .expect("secret")
            .starts_with("whsec_")
    );
    let bad = env.json_error(&["webhook", "add", "http://x/", "-e", "Nope"], &[]);
    assert_eq!(bad["field"], "event_type");
    let test = env.json_with(&["webhook", "test", &id], &private);
    assert_eq!(test["ok"], false);
    assert_eq!(test["error"], "connection failed");
    // Without the setting, the stored loopback webhook is not even tried.
    let test = env.json(&["webhook", "test", &id]);
    assert_eq!(test["error"], "address not allowed");
    let listed = env.json(&["webhook", "ls"]);
    assert_eq!(listed[0]["id"], id.as_str());
    env.json(&["webhook", "rm", &id]);
    assert_eq!(env.json(&["webhook", "ls"]), serde_json::json!([]));
    let gone = env.json_error(&["webhook", "rm", &id], &[]);
    assert_eq!(gone["code"], "not_found");

    // The audit log fills when events are delivered.
    assert_eq!(env.json(&["audit", "ls"])["items"], serde_json::json!([]));
    env.json(&["events", "flush"]);
    let audit = env.json(&["audit", "ls", "--user", alice["id"].as_str().expect("id")]);
    assert_eq!(audit["items"].as_array().expect("items").len(), 2);
    // Alice's two events, and the webhook's addition and removal.
    let verified = env.json(&["audit", "verify"]);
    assert_eq!(
        (verified["ok"].clone(), verified["rows"].clone()),
        (true.into(), 4.into())
    );
    let export = env.run(["audit", "export"]);
    assert!(export.status.success());
    assert_eq!(stdout(&export).lines().count(), 4);
    let bad = env.json_error(&["audit", "ls", "--since", "yesterday"], &[]);
    assert_eq!(bad["field"], "since");
    assert_eq!(env.json(&["events", "dead"]), serde_json::json!([]));
    let none = env.json_error(&["events", "replay", "42"], &[]);
    assert_eq!(none["code"], "not_found");
}
