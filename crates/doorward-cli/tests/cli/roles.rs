//! `role`: creating, granting, revoking and deleting roles.

use crate::common::{Env, stdout};

#[test]
fn role_lifecycle() {
    let env = Env::new();
    let alice = env.add_user("alice", "alice@example.com");

    let role = env.json(&[
        "role",
        "create",
        "editor",
        "--permission",
        "posts:read",
        "-p",
        "posts:*",
        "--description",
        "Writes posts",
    ]);
    assert_eq!(role["name"], "editor");
    assert_eq!(
        role["permissions"],
        serde_json::json!(["posts:read", "posts:*"])
    );
    assert_eq!(role["builtin"], false);
    let bad = env.json_error(&["role", "create", "bad", "-p", "posts"], &[]);
    assert_eq!(bad["code"], "validation_error");
    assert_eq!(bad["field"], "permission");

    let granted = env.json(&["role", "grant", "alice", "editor"]);
    assert_eq!(granted["changed"], true);
    assert_eq!(granted["user_id"], alice["id"]);
    assert_eq!(granted["roles"], serde_json::json!(["editor", "user"]));
    let again = env.json(&["role", "grant", "alice", "editor"]);
    assert_eq!(again["changed"], false);
    let missing = env.json_error(&["role", "grant", "alice", "nope"], &[]);
    assert_eq!(missing["code"], "not_found");

    // The grant shows in new tokens.
    let pair = env.json(&["token", "issue", "alice"]);
    let access = pair["access_token"].as_str().expect("access token");
    let principal = env.json_with(&["token", "verify"], &[("DOORWARD_TOKEN", access)]);
    assert_eq!(principal["roles"], serde_json::json!(["editor", "user"]));

    let list = env.json(&["role", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["admin", "editor", "moderator", "user"]);
    let human = stdout(&env.run(["role", "list"]));
    assert!(
        human.contains("editor     custom    posts:read posts:*"),
        "{human}"
    );

    let revoked = env.json(&["role", "revoke", "alice", "editor"]);
    assert_eq!(revoked["changed"], true);
    assert_eq!(revoked["roles"], serde_json::json!(["user"]));

    let deleted = env.json(&["role", "delete", "editor"]);
    assert_eq!(deleted["deleted"], true);
    let builtin = env.json_error(&["role", "delete", "admin"], &[]);
    assert_eq!(builtin["code"], "validation_error");
    assert_eq!(builtin["field"], "role");
    let names = env.json(&["role", "list"]);
    assert_eq!(names.as_array().expect("roles").len(), 3);
}
