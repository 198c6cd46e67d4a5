//! `migrate` and the PostgreSQL store administered end to end.

use crate::common::{Env, PASSWORD, describe, stdout};

#[test]
fn migrate_creates_the_schema_and_reports_the_backend() {
    let env = Env::new();
    let out = env.run(["migrate"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("sqlite backend"), "{text}");
    assert!(text.contains("admin, moderator, user"), "{text}");

    let doc = env.json(&["migrate"]);
    assert_eq!(doc["migrated"], true);
    assert_eq!(doc["backend"], "sqlite");
    assert_eq!(
        doc["roles"],
        serde_json::json!(["admin", "moderator", "user"])
    );
    assert_eq!(env.user_count(), 0);
}

#[test]
fn administers_a_postgres_store() {
    let Some(env) = Env::postgres() else {
        return;
    };
    let migrated = env.json(&["migrate"]);
    assert_eq!(migrated["backend"], "postgres");
    assert_eq!(
        migrated["roles"],
        serde_json::json!(["admin", "moderator", "user"])
    );
    env.json(&["migrate"]); // idempotent
    env.add_user("alice", "alice@example.com");
    env.add_user("bob", "bob@example.com");
    assert_eq!(env.user_count(), 2);
    let err = env.json_error(
        &["user", "add", "alice2", "ALICE@example.com"],
        &[("DOORWARD_PASSWORD", PASSWORD)],
    );
    assert_eq!(err["code"], "duplicate_email");
    env.json(&["role", "grant", "alice", "moderator"]);
    let shown = env.json(&["user", "show", "alice"]);
    assert_eq!(shown["roles"], serde_json::json!(["moderator", "user"]));
    let issued = env.json(&["token", "issue", "alice"]);
    let token = issued["access_token"].as_str().expect("token");
    let verified = env.json_with(&["token", "verify"], &[("DOORWARD_TOKEN", token)]);
    assert_eq!(verified["username"], "alice");
    assert_eq!(env.json(&["user", "unlock", "bob"])["cleared"], false);
    env.json(&["user", "delete", "bob"]);
    assert_eq!(env.user_count(), 1);
}
