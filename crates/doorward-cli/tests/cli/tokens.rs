//! `token`: issue, verify, decode and the JWKS document.

use crate::common::{Env, describe, parse, stdout, with_stdin};

#[test]
fn token_issue_verify_decode_jwks() {
    let env = Env::new();
    let alice = env.add_user("alice", "alice@example.com");
    let id = alice["id"].as_str().expect("id");

    let pair = env.json(&["token", "issue", "alice"]);
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().expect("access").to_string();
    assert!(
        pair["refresh_token"]
            .as_str()
            .expect("refresh")
            .starts_with("dwr_")
    );

    // verify: from the environment, and from one line of stdin
    let principal = env.json_with(&["token", "verify"], &[("DOORWARD_TOKEN", &access)]);
    assert_eq!(principal["user_id"], id);
    assert_eq!(principal["username"], "alice");
    let piped = with_stdin(
        env.cmd(["--json", "token", "verify"]),
        &format!("{access}\n"),
    );
    assert!(piped.status.success(), "{}", describe(&piped));
    assert_eq!(parse(&piped)["session_id"], principal["session_id"]);
    let human = with_stdin(env.cmd(["token", "verify"]), &access);
    assert!(stdout(&human).contains("username    alice"));

    // A forged signature is refused; decode still shows it, labelled.
    let mut forged = access.clone();
    forged.truncate(access.rfind('.').expect("three parts") + 1);
    forged.push_str("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let invalid = env.json_error(&["token", "verify"], &[("DOORWARD_TOKEN", &forged)]);
    assert_eq!(invalid["code"], "token_invalid");
    let decoded = env.json_with(&["token", "decode"], &[("DOORWARD_TOKEN", &forged)]);
    assert_eq!(decoded["verified"], false);
    assert!(
        decoded["warning"]
            .as_str()
            .expect("warning")
            .contains("UNVERIFIED")
    );
    assert_eq!(decoded["header"]["alg"], "HS256");
    assert_eq!(decoded["header"]["typ"], "at+jwt");
    assert_eq!(decoded["claims"]["sub"], id);
    assert_eq!(decoded["claims"]["preferred_username"], "alice");
    let human = with_stdin(env.cmd(["token", "decode"]), &access);
    let text = stdout(&human);
    assert!(text.starts_with("UNVERIFIED"), "{text}");
    assert!(text.contains("\"preferred_username\": \"alice\""), "{text}");

    // No token at all.
    let none = env.json_error(&["token", "verify"], &[]);
    assert_eq!(none["code"], "validation_error");
    assert_eq!(none["field"], "token");
    let junk = env.json_error(&["token", "decode"], &[("DOORWARD_TOKEN", "junk")]);
    assert_eq!(junk["code"], "token_invalid");

    // HS256 publishes nothing.
    let jwks = env.json(&["token", "jwks"]);
    assert_eq!(jwks, serde_json::json!({ "keys": [] }));

    // Without any key, token commands say so.
    let mut cmd = env.cmd(["--json", "token", "issue", "alice"]);
    cmd.env_remove("DOORWARD_JWT_SECRET");
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(parse(&out)["error"]["code"], "config_error");
}
