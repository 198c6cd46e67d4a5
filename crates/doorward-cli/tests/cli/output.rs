//! What every command shares: JSON output, error codes and exit statuses,
//! and arguments that are not UTF-8.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;

use serde_json::Value;

use crate::common::{Env, PASSWORD, Vars, bare_cmd, describe, parse, stderr};

#[test]
fn every_command_speaks_json() {
    let env = Env::new();
    let password = [("DOORWARD_PASSWORD", PASSWORD)];
    // A token to verify and decode, from a user the list below leaves alone.
    env.add_user("carol", "carol@example.com");
    let pair = env.json(&["token", "issue", "carol"]);
    let access = pair["access_token"].as_str().expect("access").to_string();
    let mut commands: Vec<(Vec<&str>, Vars<'_>)> = vec![
        (vec!["migrate"], vec![]),
        (
            vec!["user", "add", "alice", "alice@example.com"],
            password.to_vec(),
        ),
        (
            vec!["user", "add", "bob", "bob@example.com"],
            password.to_vec(),
        ),
        (vec!["user", "list"], vec![]),
        (vec!["user", "show", "alice"], vec![]),
        (
            vec!["user", "passwd", "alice"],
            vec![("DOORWARD_PASSWORD", "a new fine passphrase")],
        ),
        (vec!["user", "disable", "bob"], vec![]),
        (vec!["user", "enable", "bob"], vec![]),
        (vec!["role", "create", "editor", "-p", "posts:*"], vec![]),
        (vec!["role", "grant", "alice", "editor"], vec![]),
        (vec!["role", "revoke", "alice", "editor"], vec![]),
        (vec!["role", "list"], vec![]),
        (vec!["role", "delete", "editor"], vec![]),
        (vec!["token", "issue", "alice"], vec![]),
        (vec!["token", "jwks"], vec![]),
        (vec!["user", "unlock", "alice"], vec![]),
        (vec!["cache", "stats"], vec![]),
        (vec!["cache", "flush"], vec![]),
        (vec!["user", "delete", "bob"], vec![]),
        // failures are JSON too
        (vec!["user", "show", "nobody"], vec![]),
        (vec!["token", "verify"], vec![]),
    ];
    commands.push((
        vec!["token", "verify"],
        vec![("DOORWARD_TOKEN", access.as_str())],
    ));
    commands.push((
        vec!["token", "decode"],
        vec![("DOORWARD_TOKEN", access.as_str())],
    ));

    for (args, vars) in &commands {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = env.run_with(&all, vars);
        let doc = parse(&out);
        match out.status.code() {
            Some(0) => assert!(doc.get("error").is_none(), "{args:?}: {doc}"),
            Some(1) => assert!(doc["error"]["code"].is_string(), "{args:?}: {doc}"),
            other => panic!("{args:?} exited {other:?}: {}", describe(&out)),
        }
        assert!(
            stderr(&out).is_empty(),
            "{args:?} wrote to stderr: {}",
            describe(&out)
        );
    }

    // A usage error stays a usage error (exit 2), but in JSON.
    let out = env.run(["--json", "user", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(parse(&out)["error"]["code"], "usage_error");
    let out = env.run(["user", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("frobnicate"));
    assert!(out.stdout.is_empty());
}

#[test]
fn doorward_errors_exit_1_with_their_code() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");

    let dup = env.json_error(
        &["user", "add", "alice2", "ALICE@example.com"],
        &[("DOORWARD_PASSWORD", PASSWORD)],
    );
    assert_eq!(dup["code"], "duplicate_email");
    assert_eq!(dup["field"], Value::Null);
    assert!(
        dup["message"]
            .as_str()
            .expect("message")
            .contains("already exists")
    );
    let dup = env.json_error(
        &["user", "add", "Alice", "other@example.com"],
        &[("DOORWARD_PASSWORD", PASSWORD)],
    );
    assert_eq!(dup["code"], "duplicate_username");

    // Human form: the code on stderr, nothing on stdout.
    let out = env.run_with(
        &["user", "add", "alice3", "alice@example.com"],
        &[("DOORWARD_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).starts_with("error[duplicate_email]: "),
        "{}",
        describe(&out)
    );

    for args in [
        vec!["user", "show", "nobody"],
        vec!["user", "show", "nobody@example.com"],
        vec!["user", "show", "01234567-89ab-7def-8123-456789abcdef"],
        vec!["user", "delete", "nobody"],
        vec!["user", "unlock", "nobody"],
        vec!["role", "grant", "nobody", "moderator"],
        vec!["token", "issue", "nobody"],
        vec!["role", "delete", "nope"],
    ] {
        let err = env.json_error(&args, &[]);
        assert_eq!(err["code"], "not_found", "{args:?}");
    }
    let out = env.run(["user", "show", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error[not_found]: user not found\n");

    assert_eq!(env.user_count(), 1);
}

#[test]
fn invalid_utf8_arguments_are_validation_errors_and_write_nothing() {
    let env = Env::new();
    env.json(&["migrate"]);
    let bad = OsString::from_vec(vec![b'a', b'b', 0xff, b'c']);
    let email = OsString::from("x@example.com");

    let cases: Vec<(Vec<OsString>, &str)> = vec![
        (
            vec!["user".into(), "add".into(), bad.clone(), email.clone()],
            "username",
        ),
        (
            vec!["user".into(), "add".into(), "valid".into(), bad.clone()],
            "email",
        ),
        (vec!["user".into(), "show".into(), bad.clone()], "user"),
        (vec!["user".into(), "unlock".into(), bad.clone()], "user"),
        (
            vec![
                "--redis".into(),
                bad.clone(),
                "cache".into(),
                "stats".into(),
            ],
            "redis",
        ),
        (vec!["role".into(), "create".into(), bad.clone()], "role"),
        (
            vec![
                "role".into(),
                "create".into(),
                "ok".into(),
                "-p".into(),
                bad.clone(),
            ],
            "permission",
        ),
        (
            vec!["user".into(), "list".into(), "--cursor".into(), bad.clone()],
            "cursor",
        ),
    ];
    for (args, field) in cases {
        let out = env
            .cmd(std::iter::once(OsString::from("--json")).chain(args.iter().cloned()))
            .env("DOORWARD_PASSWORD", PASSWORD)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let err = &parse(&out)["error"];
        assert_eq!(err["code"], "validation_error", "{args:?}");
        assert_eq!(err["field"], field, "{args:?}");
        assert!(
            stderr(&out).is_empty(),
            "no panic message: {}",
            describe(&out)
        );

        // The human form too, without a panic.
        let out = env
            .cmd(args.iter().cloned())
            .env("DOORWARD_PASSWORD", PASSWORD)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            stderr(&out),
            format!("error[validation_error]: invalid {field}: must be valid UTF-8\n")
        );
    }
    assert_eq!(env.user_count(), 0);
    assert_eq!(
        env.json(&["role", "list"]).as_array().expect("roles").len(),
        3
    );

    // The database URL itself: nothing is created at all.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut url = format!("sqlite://{}/", dir.path().display()).into_bytes();
    url.extend_from_slice(&[0xff, b'.', b'd', b'b']);
    let out = bare_cmd()
        .arg("--json")
        .arg("--database")
        .arg(OsString::from_vec(url))
        .arg("migrate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(parse(&out)["error"]["field"], "database");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}
