//! Where the configuration comes from: file, environment, flags, and
//! warnings about misspelt variables.

use crate::common::{Env, PASSWORD, SECRET, bare_cmd, describe, parse, stderr};

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
