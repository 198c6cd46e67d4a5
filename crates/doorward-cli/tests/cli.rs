//! The `doorward` binary end to end, each test on its own SQLite file.
//!
//! Hashing is made cheap through the environment (as any deployment could),
//! except in the demo test that checks the real defaults are announced.
//!
//! The Redis tests use `DOORWARD_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`) when it is reachable, each under a prefix of
//! its own, and skip otherwise; `DOORWARD_REQUIRE_SERVICES=1` turns a
//! missing Redis into a failure.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::unix::ffi::OsStringExt as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const SECRET: &str = "test-secret-of-at-least-32-bytes-long!!";
const PASSWORD: &str = "a perfectly fine passphrase";

/// A fresh database and the environment every command runs with.
struct Env {
    _dir: tempfile::TempDir,
    url: String,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Env { _dir: dir, url }
    }

    /// A fresh schema of the test PostgreSQL, if reachable.
    fn postgres() -> Option<Self> {
        let url = service(services::postgres_url())?;
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Env { _dir: dir, url })
    }

    /// The binary with `--database` set, no inherited `DOORWARD_*`
    /// variables and stdin closed (never a terminal).
    fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bare_cmd();
        cmd.arg("--database").arg(&self.url).args(args);
        cmd
    }

    fn run<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd(args).output().expect("run doorward")
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.cmd(args);
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("run doorward")
    }

    /// Runs a `--json` command that must succeed, and returns its document.
    fn json(&self, args: &[&str]) -> Value {
        self.json_with(args, &[])
    }

    fn json_with(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_with(&all, env);
        assert!(out.status.success(), "{args:?} failed: {}", describe(&out));
        parse(&out)
    }

    /// Runs a `--json` command that must fail with exit code 1, and returns
    /// its error object.
    fn json_error(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_with(&all, env);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        parse(&out)["error"].clone()
    }

    fn add_user(&self, username: &str, email: &str) -> Value {
        self.json_with(
            &["user", "add", username, email],
            &[("DOORWARD_PASSWORD", PASSWORD)],
        )
    }

    fn user_count(&self) -> usize {
        self.json(&["user", "list"])["items"]
            .as_array()
            .expect("items")
            .len()
    }
}

/// Environment variables for one command.
type Vars<'a> = Vec<(&'a str, &'a str)>;

fn bare_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_doorward"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("DOORWARD_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("DOORWARD_JWT_SECRET", SECRET)
        .env("DOORWARD_ARGON2_MEMORY_KIB", "64")
        .env("DOORWARD_ARGON2_ITERATIONS", "1")
        .stdin(Stdio::null());
    cmd
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// The whole of stdout as exactly one JSON document on one line.
fn parse(out: &Output) -> Value {
    let text = stdout(out);
    assert_eq!(text.lines().count(), 1, "one JSON line expected: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doorward");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait doorward")
}

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
fn user_lifecycle() {
    let env = Env::new();

    // add
    let alice = env.add_user("alice", "Alice@Example.com");
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["email"], "Alice@example.com");
    assert_eq!(alice["disabled"], false);
    let id = alice["id"].as_str().expect("id").to_string();
    let human = env.run_with(
        &["user", "add", "bob", "bob@example.com"],
        &[("DOORWARD_PASSWORD", PASSWORD)],
    );
    assert!(human.status.success(), "{}", describe(&human));
    assert!(stdout(&human).contains("created user bob"));
    assert!(
        !stdout(&human).contains(PASSWORD) && !stderr(&human).contains(PASSWORD),
        "the password must never be echoed"
    );

    // list, human and paged
    let list = env.run(["user", "list"]);
    let text = stdout(&list);
    assert!(text.starts_with("ID"), "{text}");
    assert!(text.contains("alice") && text.contains("bob"), "{text}");
    let page = env.json(&["user", "list", "--limit", "1"]);
    assert_eq!(page["items"][0]["username"], "alice");
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let rest = env.json(&["user", "list", "--limit", "1", "--cursor", cursor]);
    assert_eq!(rest["items"][0]["username"], "bob");
    assert_eq!(rest["next_cursor"], Value::Null);
    let bad = env.json_error(&["user", "list", "--cursor", "junk"], &[]);
    assert_eq!(bad["code"], "validation_error");
    assert_eq!(bad["field"], "cursor");

    // show: by id (any case), email (any case) and username
    for who in [
        id.as_str(),
        &id.to_uppercase(),
        "ALICE@example.com",
        "Alice",
    ] {
        let shown = env.json(&["user", "show", who]);
        assert_eq!(shown["id"], id.as_str(), "{who}");
        assert_eq!(shown["roles"], serde_json::json!(["user"]));
        assert_eq!(shown["sessions"], serde_json::json!([]));
    }

    // passwd ends every session
    let pair = env.json(&["token", "issue", "alice"]);
    let access = pair["access_token"].as_str().expect("access token");
    let new_password = "an even better passphrase";
    let changed = env.json_with(
        &["user", "passwd", "alice"],
        &[("DOORWARD_PASSWORD", new_password)],
    );
    assert_eq!(changed["password_changed"], true);
    assert_eq!(changed["user_id"], id.as_str());
    let revoked = env.json_error(&["token", "verify"], &[("DOORWARD_TOKEN", access)]);
    assert_eq!(revoked["code"], "token_revoked");
    let weak = env.json_error(
        &["user", "passwd", "alice"],
        &[("DOORWARD_PASSWORD", "short")],
    );
    assert_eq!(weak["code"], "validation_error");
    assert_eq!(weak["field"], "password");

    // disable / enable
    let disabled = env.json(&["user", "disable", "alice"]);
    assert_eq!(disabled["disabled"], true);
    let refused = env.json_error(&["token", "issue", "alice"], &[]);
    assert_eq!(refused["code"], "user_disabled");
    let human = env.run(["user", "show", "alice"]);
    assert!(stdout(&human).contains("status      disabled"));
    let enabled = env.json(&["user", "enable", &id]);
    assert_eq!(enabled["disabled"], false);
    env.json(&["token", "issue", "alice"]);

    // delete
    let deleted = env.json(&["user", "delete", "alice@example.com"]);
    assert_eq!(deleted["deleted"], true);
    assert_eq!(deleted["user"]["id"], id.as_str());
    assert_eq!(env.user_count(), 1);
    let gone = env.json_error(&["user", "show", &id], &[]);
    assert_eq!(gone["code"], "not_found");
}

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

#[test]
fn a_password_is_never_read_from_a_pipe() {
    let env = Env::new();
    env.json(&["migrate"]);

    // stdin closed, no DOORWARD_PASSWORD
    let err = env.json_error(&["user", "add", "alice", "alice@example.com"], &[]);
    assert_eq!(err["code"], "validation_error");
    assert_eq!(err["field"], "password");
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("DOORWARD_PASSWORD")
    );

    // A password piped on stdin is not taken either.
    let out = with_stdin(
        env.cmd(["--json", "user", "add", "alice", "alice@example.com"]),
        &format!("{PASSWORD}\n{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(parse(&out)["error"]["field"], "password");
    assert!(!stdout(&out).contains(PASSWORD) && !stderr(&out).contains(PASSWORD));
    assert_eq!(env.user_count(), 0);

    // passwd likewise leaves the old password in place.
    env.add_user("alice", "alice@example.com");
    let err = env.json_error(&["user", "passwd", "alice"], &[]);
    assert_eq!(err["field"], "password");
}

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

#[test]
fn configuration_file_then_environment_then_database_flag() {
    let dir = tempfile::tempdir().expect("temp dir");
    let from_file = format!("sqlite://{}", dir.path().join("file.db").display());
    let from_flag = format!("sqlite://{}", dir.path().join("flag.db").display());
    let config = dir.path().join("doorward.toml");
    std::fs::write(
        &config,
        format!("database_url = \"{from_file}\"\njwt_secret = \"{SECRET}\"\naccess_ttl = 120\n"),
    )
    .expect("write config");
    let run = |extra: &[&str], args: &[&str]| {
        let mut cmd = bare_cmd();
        cmd.env_remove("DOORWARD_JWT_SECRET")
            .env("DOORWARD_PASSWORD", PASSWORD)
            .arg("--json")
            .arg("--config")
            .arg(&config)
            .args(extra)
            .args(args);
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        parse(&out)
    };

    // The file names the database and the key.
    run(&[], &["user", "add", "alice", "alice@example.com"]);
    let pair = run(&[], &["token", "issue", "alice"]);
    assert_eq!(pair["expires_in"], 120);
    // The environment overrides the file...
    let mut cmd = bare_cmd();
    cmd.env_remove("DOORWARD_JWT_SECRET")
        .env("DOORWARD_ACCESS_TTL", "60")
        .args(["--json", "--config"])
        .arg(&config)
        .args(["token", "issue", "alice"]);
    let out = cmd.output().expect("run");
    assert_eq!(parse(&out)["expires_in"], 60, "{}", describe(&out));
    // ...and --database overrides both.
    let flagged = run(&["--database", &from_flag], &["user", "list"]);
    assert_eq!(flagged["items"], serde_json::json!([]));
    let in_file = run(&[], &["user", "list"]);
    assert_eq!(in_file["items"][0]["username"], "alice");

    // A misspelt key is an error, not silently ignored.
    std::fs::write(&config, "jwt_isuer = \"typo\"\n").expect("write config");
    let out = bare_cmd()
        .args(["--json", "--config"])
        .arg(&config)
        .arg("migrate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(parse(&out)["error"]["code"], "config_error");
}

#[test]
fn misspelt_environment_variables_are_warned_about_on_stderr() {
    let env = Env::new();
    let out = env.run_with(
        &["--json", "user", "list"],
        &[
            ("DOORWARD_ACESS_TTL", "60"),
            ("DOORWARD_JWT_SECRTE", "env-secret-value"),
            ("DOORWARD_REQUIRE_SERVICES", "1"),
            ("DOORWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            ("DOORWARD_PASSWORD", PASSWORD),
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    // stdout is still the JSON document alone.
    assert_eq!(parse(&out)["items"], serde_json::json!([]));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("DOORWARD_ACESS_TTL") && l.contains("DOORWARD_ACCESS_TTL")),
        "{err}"
    );
    assert!(
        lines.iter().any(|l| l.contains("DOORWARD_JWT_SECRTE")),
        "{err}"
    );
    for quiet in [
        "env-secret-value",
        "REQUIRE_SERVICES",
        "DOORWARD_TEST_",
        "DOORWARD_PASSWORD",
        "DOORWARD_ARGON2",
        PASSWORD,
    ] {
        assert!(!err.contains(quiet), "{quiet} in {err}");
    }
}

/// A login through the library itself, on the CLI's database, as a server
/// would make it: lockout after two wrong passwords, no per-account rate
/// limit to get there first.
fn library_login(env: &Env, login: &str, password: &str) -> doorward::Result<()> {
    let config = doorward::Config::default()
        .with_overrides([
            ("database_url", env.url.clone()),
            ("jwt_secret", SECRET.to_string()),
            ("argon2_memory_kib", "64".to_string()),
            ("argon2_iterations", "1".to_string()),
            ("lockout_threshold", "2".to_string()),
            ("rate_limit_login_account", "off".to_string()),
        ])
        .expect("config");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dw = doorward::Doorward::open(config).await.expect("open");
        dw.auth().login(login, password, None).await.map(drop)
    })
}

#[test]
fn user_unlock_lifts_a_real_lockout() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    let fresh = env.json(&["user", "show", "alice"]);
    assert_eq!(fresh["failed_logins"], 0);
    assert_eq!(fresh["locked_until"], Value::Null);

    for _ in 0..2 {
        let err = library_login(&env, "alice", "not the password at all").expect_err("wrong");
        assert!(
            matches!(
                err.code(),
                doorward::ErrorCode::InvalidCredentials | doorward::ErrorCode::AccountLocked
            ),
            "{err}"
        );
    }
    let locked = library_login(&env, "alice", PASSWORD).expect_err("locked out");
    assert_eq!(locked.code(), doorward::ErrorCode::AccountLocked);

    // The lock shows in show and list.
    let shown = env.json(&["user", "show", "alice"]);
    assert_eq!(shown["failed_logins"], 2);
    assert!(shown["locked_until"].is_string(), "{shown}");
    let human = stdout(&env.run(["user", "show", "alice"]));
    assert!(human.contains("status      locked"), "{human}");
    assert!(human.contains("failed      2 login(s) in a row"), "{human}");
    assert!(human.contains("locked      until "), "{human}");
    let list = stdout(&env.run(["user", "list"]));
    assert!(list.contains("FAILED"), "{list}");
    assert!(list.contains("locked  2"), "{list}");

    // Unlock, by email this time.
    let unlocked = env.json(&["user", "unlock", "alice@example.com"]);
    assert_eq!(unlocked["cleared"], true);
    assert_eq!(unlocked["user"]["username"], "alice");
    assert_eq!(unlocked["user"]["failed_logins"], 0);
    let shown = env.json(&["user", "show", "alice"]);
    assert_eq!(shown["failed_logins"], 0);
    assert_eq!(shown["locked_until"], Value::Null);
    library_login(&env, "alice", PASSWORD).expect("logs in again");

    // Nothing left to clear.
    let again = env.json(&["user", "unlock", "alice"]);
    assert_eq!(again["cleared"], false);
    let human = stdout(&env.run(["user", "unlock", "alice"]));
    assert!(human.contains("nothing to clear"), "{human}");
}

#[test]
fn user_unlock_of_an_unknown_user_is_not_found() {
    let env = Env::new();
    env.json(&["migrate"]);
    let err = env.json_error(&["user", "unlock", "nobody"], &[]);
    assert_eq!(err["code"], "not_found");
    let out = env.run(["user", "unlock", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error[not_found]: user not found\n");
}

#[test]
fn cache_stats_and_flush_without_redis() {
    let env = Env::new();
    let doc = env.json(&["cache", "stats"]);
    assert_eq!(doc["stats"]["redis"], false);
    assert_eq!(doc["stats"]["redis_up"], false);
    assert!(doc["stats"]["l1_hits"].is_u64(), "{doc}");
    assert_eq!(doc["redis_usage"], Value::Null);
    assert!(doc.get("error").is_none(), "{doc}");
    let out = env.run(["cache", "stats"]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.starts_with("COUNTER"), "{text}");
    assert!(text.contains("\nredis                   no\n"), "{text}");

    let flushed = env.json(&["cache", "flush"]);
    assert_eq!(
        flushed,
        serde_json::json!({ "flushed": true, "redis": false })
    );
}

/// The core's service helpers, shared rather than copied.
#[path = "../../doorward/tests/common/services.rs"]
mod services;

/// Runs one of the async service helpers from a plain test.
fn service<T>(probe: impl std::future::Future<Output = Option<T>>) -> Option<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(probe)
}

/// The test Redis, if reachable (see the module documentation).
fn test_redis() -> Option<String> {
    service(services::redis_url())
}

#[test]
fn cache_stats_and_flush_with_redis() {
    let Some(redis) = test_redis() else {
        return;
    };
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    let prefix = format!("dwclitest:{}:", uuid::Uuid::new_v4());
    let vars = [("DOORWARD_REDIS_PREFIX", prefix.as_str())];
    let with_redis = |args: &[&str]| {
        let mut all = vec!["--redis", redis.as_str()];
        all.extend_from_slice(args);
        env.json_with(&all, &vars)
    };

    let doc = with_redis(&["cache", "stats"]);
    assert_eq!(doc["stats"]["redis"], true);
    assert_eq!(doc["stats"]["redis_up"], true);
    assert_eq!(
        doc["redis_usage"],
        serde_json::json!({ "cache_entries": 0, "sessions": 0, "rate_limit_keys": 0 })
    );
    assert!(doc.get("error").is_none(), "{doc}");

    // A session lives in Redis under the prefix; a flush leaves it there.
    with_redis(&["token", "issue", "alice"]);
    let doc = with_redis(&["cache", "stats"]);
    assert_eq!(doc["redis_usage"]["sessions"], 1, "{doc}");
    let flushed = with_redis(&["cache", "flush"]);
    assert_eq!(
        flushed,
        serde_json::json!({ "flushed": true, "redis": true })
    );
    let doc = with_redis(&["cache", "stats"]);
    assert_eq!(doc["redis_usage"]["cache_entries"], 0, "{doc}");
    assert_eq!(doc["redis_usage"]["sessions"], 1, "{doc}");

    let mut cmd = env.cmd(["--redis", redis.as_str(), "cache", "stats"]);
    let out = cmd.envs(vars).output().expect("run");
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        stdout(&out).contains("\nredis sessions          1\n"),
        "{}",
        describe(&out)
    );
}

#[test]
fn cache_stats_reports_an_unreachable_redis_and_exits_1() {
    let env = Env::new();
    let gone = ["--redis", "redis://127.0.0.1:1"];

    // JSON: the counters, no usage, and the error in the same document.
    let mut args = vec!["--json"];
    args.extend_from_slice(&gone);
    args.extend_from_slice(&["cache", "stats"]);
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let doc = parse(&out);
    assert_eq!(doc["stats"]["redis"], true);
    assert_eq!(doc["stats"]["redis_up"], false);
    assert!(doc["stats"]["redis_errors"].as_u64() > Some(0), "{doc}");
    assert_eq!(doc["redis_usage"], Value::Null);
    assert_eq!(doc["error"]["code"], "storage_error");
    assert!(stderr(&out).is_empty(), "{}", describe(&out));

    // Human: the table on stdout, the error on stderr.
    let out = env.run(gone.iter().chain(&["cache", "stats"]));
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("\nredis_up                no\n"), "{text}");
    assert!(
        text.contains("\nredis usage             unavailable\n"),
        "{text}"
    );
    assert!(
        stderr(&out).starts_with("error[storage_error]: "),
        "{}",
        describe(&out)
    );

    // A flush that cannot reach Redis is a plain error.
    let mut args = vec!["--json"];
    args.extend_from_slice(&gone);
    args.extend_from_slice(&["cache", "flush"]);
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert_eq!(parse(&out)["error"]["code"], "storage_error");
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
    let verified = env.json(&["audit", "verify"]);
    assert_eq!(
        (verified["ok"].clone(), verified["rows"].clone()),
        (true.into(), 2.into())
    );
    let export = env.run(["audit", "export"]);
    assert!(export.status.success());
    assert_eq!(stdout(&export).lines().count(), 2);
    let bad = env.json_error(&["audit", "ls", "--since", "yesterday"], &[]);
    assert_eq!(bad["field"], "since");
    assert_eq!(env.json(&["events", "dead"]), serde_json::json!([]));
    let none = env.json_error(&["events", "replay", "42"], &[]);
    assert_eq!(none["code"], "not_found");
}

/// `files` on the embedded default: a `doorward-files` folder beside the
/// SQLite file, every subcommand in JSON.
#[test]
fn files_put_get_head_ls_rm() {
    let env = Env::new();
    let dir = env._dir.path();
    let source = dir.join("hello.txt");
    std::fs::write(&source, b"hello, files").unwrap();
    let src = source.to_str().unwrap();

    let put = env.json(&[
        "files",
        "put",
        "docs/hello.txt",
        src,
        "--content-type",
        "text/plain",
    ]);
    assert_eq!(put["key"], "docs/hello.txt");
    assert_eq!(put["size"], 12);
    assert_eq!(put["content_type"], "text/plain");
    assert!(put["created_at"].is_string());
    assert_eq!(
        std::fs::read(dir.join("doorward-files/docs/hello.txt")).unwrap(),
        b"hello, files"
    );
    env.json(&["files", "put", "docs/other.bin", src]);

    let head = env.json(&["files", "head", "docs/hello.txt"]);
    assert_eq!(head, put);

    let copy = dir.join("copy.txt");
    let got = env.json(&["files", "get", "docs/hello.txt", copy.to_str().unwrap()]);
    assert_eq!(got, put);
    assert_eq!(std::fs::read(&copy).unwrap(), b"hello, files");
    // Without --json and without a path, the body is the output.
    let out = env.run(["files", "get", "docs/hello.txt"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(out.stdout, b"hello, files");
    let out = env.run(["files", "get", "docs/hello.txt", "-"]);
    assert_eq!(out.stdout, b"hello, files");
    let err = env.json_error(&["files", "get", "docs/hello.txt"], &[]);
    assert_eq!(
        (err["code"].as_str(), err["field"].as_str()),
        (Some("validation_error"), Some("path"))
    );

    let page = env.json(&["files", "ls", "--prefix", "docs", "--limit", "1"]);
    assert_eq!(page["items"][0]["key"], "docs/hello.txt");
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    let page = env.json(&["files", "ls", "--prefix", "docs", "--cursor", &cursor]);
    assert_eq!(page["items"][0]["key"], "docs/other.bin");
    assert!(page["next_cursor"].is_null());
    let text = stdout(&env.run(["files", "ls"]));
    assert!(text.starts_with("KEY"), "{text}");
    assert!(text.contains("docs/other.bin"), "{text}");

    let removed = env.json(&["files", "rm", "docs/hello.txt"]);
    assert_eq!(
        removed,
        serde_json::json!({ "key": "docs/hello.txt", "deleted": true })
    );
    for args in [
        ["files", "rm", "docs/hello.txt"],
        ["files", "head", "docs/hello.txt"],
    ] {
        assert_eq!(env.json_error(&args, &[])["code"], "not_found");
    }
}

#[test]
fn files_refuses_bad_keys_and_oversize_files() {
    let env = Env::new();
    let source = env._dir.path().join("data.bin");
    std::fs::write(&source, vec![7u8; 2048]).unwrap();
    let src = source.to_str().unwrap();
    for key in ["../escape", "/abs", "a//b", "a\\b"] {
        let err = env.json_error(&["files", "put", key, src], &[]);
        assert_eq!(err["code"], "validation_error", "{key}");
        assert_eq!(err["field"], "key", "{key}");
    }
    let err = env.json_error(
        &["files", "put", "big.bin", src],
        &[("DOORWARD_FILES_MAX_BYTES", "1024")],
    );
    assert_eq!(
        (err["code"].as_str(), err["field"].as_str()),
        (Some("validation_error"), Some("data"))
    );
    assert!(
        env.json(&["files", "ls"])["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(!env._dir.path().join("escape").exists());
    let missing = env._dir.path().join("missing.bin");
    let err = env.json_error(&["files", "put", "x", missing.to_str().unwrap()], &[]);
    assert_eq!(err["field"], "path");
    // Human form: the code on stderr, exit 1.
    let out = env.run(["files", "put", "../x", src]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("error[validation_error]"),
        "{}",
        describe(&out)
    );
}

/// Standard input as the body, and the in-memory store from the
/// configuration.
#[test]
fn files_put_from_stdin() {
    let env = Env::new();
    let mut cmd = env.cmd(["--json", "files", "put", "in.txt", "-"]);
    cmd.env("DOORWARD_FILES_URL", "memory://");
    let out = with_stdin(cmd, "from a pipe");
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(parse(&out)["size"], 11);
}

/// S3 through the usual `AWS_*` variables (the bucket through
/// DOORWARD_FILES_URL), against the test S3 server.
#[test]
fn files_on_s3_from_aws_variables() {
    let Some((endpoint, bucket)) = service(services::s3_bucket()) else {
        return;
    };
    let env = Env::new();
    let url = format!("s3://{bucket}");
    let vars: Vars<'_> = vec![
        ("DOORWARD_FILES_URL", &url),
        ("AWS_ENDPOINT_URL", &endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "cli-test-key"),
        ("AWS_SECRET_ACCESS_KEY", "cli-test-secret"),
    ];
    let source = env._dir.path().join("up.json");
    std::fs::write(&source, b"{\"ok\":true}").unwrap();
    let put = env.json_with(
        &[
            "files",
            "put",
            "cfg/up.json",
            source.to_str().unwrap(),
            "--content-type",
            "application/json",
        ],
        &vars,
    );
    assert_eq!(put["size"], 11);
    assert!(put["etag"].is_string());
    let head = env.json_with(&["files", "head", "cfg/up.json"], &vars);
    assert_eq!(head["content_type"], "application/json");
    let page = env.json_with(&["files", "ls"], &vars);
    assert_eq!(page["items"][0]["key"], "cfg/up.json");
    env.json_with(&["files", "rm", "cfg/up.json"], &vars);
    let page = env.json_with(&["files", "ls"], &vars);
    assert!(page["items"].as_array().unwrap().is_empty());
}

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
