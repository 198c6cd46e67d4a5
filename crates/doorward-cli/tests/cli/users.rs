//! `user`: the account lifecycle, passwords never read from a pipe, and
//! unlocking a real lockout.

use serde_json::Value;

use crate::common::{Env, PASSWORD, SECRET, describe, parse, stderr, stdout, with_stdin};

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
fn user_count_counts_every_account() {
    let env = Env::new();
    assert_eq!(env.json(&["user", "count"])["users"], 0);
    env.add_user("alice", "alice@example.com");
    env.add_user("bob", "bob@example.com");
    let out = env.run(["user", "disable", "bob"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(env.json(&["user", "count"])["users"], 2);
    let human = env.run(["user", "count"]);
    assert_eq!(stdout(&human).trim(), "2 users");
}

#[test]
fn user_verify_email_and_send_reset() {
    let env = Env::new();
    env.add_user("alice", "alice@example.com");
    assert_eq!(
        env.json(&["user", "show", "alice"])["email_verified_at"],
        Value::Null
    );
    let verified = env.json(&["user", "verify-email", "alice"]);
    assert!(verified["email_verified_at"].is_string(), "{verified}");
    let shown = env.run(["user", "show", "alice"]);
    assert!(
        stdout(&shown).contains("verified    yes"),
        "{}",
        stdout(&shown)
    );

    let queued = env.json(&["user", "send-reset", "alice@example.com"]);
    let flow_id = queued["flow_id"].as_str().expect("flow id").to_string();
    assert_eq!(queued["expires_in"], 3600);
    // The next instance that delivers events sends it, with a link and a
    // code for that flow.
    let config = doorward::Config::default()
        .with_overrides([
            ("database_url", env.url.clone()),
            ("jwt_secret", SECRET.to_string()),
            ("mail_url", "memory://".to_string()),
        ])
        .expect("config");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sent = runtime.block_on(async {
        let dw = doorward::Doorward::open(config).await.expect("open");
        for _ in 0..100 {
            dw.events().flush().await.expect("flush");
            let sent = dw.mail().sent().expect("memory mailer");
            if sent.iter().any(|m| m.subject == "Reset your password") {
                return sent;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the reset mail never left");
    });
    let mail = sent
        .iter()
        .find(|m| m.subject == "Reset your password")
        .unwrap();
    assert_eq!(mail.to, "alice@example.com");
    assert!(
        mail.text.contains(&format!("flow={flow_id}&secret=")),
        "{}",
        mail.text
    );
    let human = env.run(["user", "send-reset", "alice"]);
    assert!(human.status.success(), "{}", describe(&human));
    assert!(
        stdout(&human).contains("reset mail for alice queued"),
        "{}",
        describe(&human)
    );
}
