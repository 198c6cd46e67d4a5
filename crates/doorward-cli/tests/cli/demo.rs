//! `demo`: the guided flow on a fresh database of its own.

use serde_json::Value;

use crate::common::{Env, bare_cmd, describe, stderr, stdout};

#[test]
fn demo_walks_the_flow_and_shows_reuse_detection() {
    let out = bare_cmd()
        .args(["demo", "--json"])
        .output()
        .expect("run demo");
    assert!(out.status.success(), "{}", describe(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 10, "setup, 8 steps, summary");
    assert_eq!(lines[0]["event"], "setup");
    assert_eq!(lines[0]["temporary"], true);
    let steps: Vec<&Value> = lines.iter().filter(|l| l["event"] == "step").collect();
    let numbers: Vec<u64> = steps.iter().filter_map(|s| s["step"].as_u64()).collect();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
    let names: Vec<&str> = steps.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "register",
            "login",
            "verify",
            "permissions",
            "grant",
            "refresh",
            "reuse",
            "logout"
        ]
    );

    let outcome = |name: &str| &steps.iter().find(|s| s["name"] == name).expect(name)["outcome"];
    assert_eq!(outcome("register")["username"], "john");
    assert!(
        outcome("register")["access_token"]
            .as_str()
            .expect("prefix")
            .ends_with('…'),
        "only token prefixes are shown"
    );
    assert_eq!(outcome("verify")["principal"]["username"], "john");
    assert_eq!(
        outcome("verify")["principal"]["roles"],
        serde_json::json!(["user"])
    );
    let checks = &outcome("permissions")["checks"];
    assert_eq!(checks[0]["permission"], "users:write");
    assert_eq!(checks[0]["can"], false);
    assert_eq!(checks[0]["require"], "forbidden");
    assert_eq!(checks[1]["permission"], "users:read");
    assert_eq!(checks[1]["can"], true);
    assert_eq!(outcome("grant")["can"]["users:write"], true);
    let reuse = outcome("reuse");
    assert_eq!(reuse["old_refresh_token"], "token_reused");
    assert_eq!(reuse["newest_refresh_token"], "token_revoked");
    assert_eq!(reuse["newest_access_token"], "token_revoked");
    assert_eq!(outcome("logout")["verify_after_logout"], "token_revoked");

    let summary = lines.last().expect("summary");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["steps"], 8);
    assert_eq!(summary["database_kept"], false);

    // Tokens appear only as 12-character prefixes.
    let text = stdout(&out);
    let tokens: Vec<&str> = text
        .split('"')
        .filter(|s| s.starts_with("eyJ") || s.starts_with("dwr_"))
        .collect();
    assert_eq!(tokens.len(), 6, "three pairs shown: {tokens:?}");
    for token in tokens {
        assert_eq!(token.chars().count(), 13, "{token}");
        assert!(token.ends_with('…'), "{token}");
    }
}

#[test]
fn demo_in_human_form_with_a_generated_secret_and_default_hashing() {
    let mut cmd = bare_cmd();
    cmd.env_remove("DOORWARD_JWT_SECRET")
        .env_remove("DOORWARD_ARGON2_MEMORY_KIB")
        .env_remove("DOORWARD_ARGON2_ITERATIONS")
        .arg("demo");
    let out = cmd.output().expect("run demo");
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(
        text.contains("random secret generated for this run"),
        "{text}"
    );
    assert!(text.contains("argon2id, 19456 KiB, 2 iterations"), "{text}");
    for n in 1..=8 {
        assert!(
            text.contains(&format!("\n{n}. ")),
            "step {n} missing: {text}"
        );
    }
    assert!(text.contains("old refresh token → token_reused"), "{text}");
    assert!(
        text.contains("verify after logout → token_revoked"),
        "{text}"
    );
    assert!(
        text.contains("Done: 8 steps, every outcome as expected"),
        "{text}"
    );
    assert!(stderr(&out).is_empty(), "{}", describe(&out));
}

#[test]
fn demo_refuses_a_database_that_has_users() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    let err = env.json_error(&["demo"], &[]);
    assert_eq!(err["code"], "validation_error");
    assert_eq!(err["field"], "database");
    assert_eq!(env.user_count(), 1);

    // An empty one named with --database is used, and keeps the data.
    let fresh = Env::new();
    let out = fresh.run(["demo"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(stdout(&out).contains(&format!("The data stays in {}", fresh.url)));
    let users = fresh.json(&["user", "show", "john"]);
    assert_eq!(users["roles"], serde_json::json!(["moderator", "user"]));
}

#[test]
fn the_demo_ignores_a_database_url_from_the_environment() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    let out = bare_cmd()
        .env("DOORWARD_DATABASE_URL", &env.url)
        .args(["--json", "demo"])
        .output()
        .expect("run demo");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(env.user_count(), 1);
    // ...while every other command follows it.
    let out = bare_cmd()
        .env("DOORWARD_DATABASE_URL", &env.url)
        .args(["--json", "user", "show", "alice"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", describe(&out));
}
