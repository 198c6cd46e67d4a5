//! `user import|export|bulk`, `role import|export`: files in and out,
//! lines named in errors, dry runs and `--atomic` writing nothing, hashes
//! exported only when asked, and bulk actions over a file or a search.

use std::io::Write as _;

use serde_json::{Value, json};

use crate::common::{Env, describe, parse, stdout, with_stdin};

/// Django 5.2's `make_password(PASSWORD)` (PBKDF2-SHA256, 1,000,000 rounds).
const DJANGO: &str =
    "pbkdf2_sha256$1000000$Z6UiN484FtQUmb8JyMQul8$ka1npXBBNElwAjmBmpFlLbwnt9/fkUCxFeXrKKJEi0A=";

fn file(env: &Env, name: &str, text: &str) -> String {
    let path = env._dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path.display().to_string()
}

fn lines(out: &std::process::Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn import_jsonl_names_bad_lines_and_keeps_the_good_ones() {
    let env = Env::new();
    env.add_user("taken", "taken@example.com");
    let jsonl = format!(
        "{}\n\n{}\n{}\n{}\n{}\n",
        json!({"email": "dj@example.com", "username": "django", "password_hash": DJANGO, "roles": ["user", "moderator"]}),
        json!({"email": "taken@example.com"}),
        "{not json",
        json!({"email": "x@example.com", "pasword": "typo"}),
        json!({"email": "csvless@example.com", "email_verified": true}),
    );
    let path = file(&env, "users.jsonl", &jsonl);

    let dry = env.run(["--json", "user", "import", &path, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1), "{}", describe(&dry));
    let report = parse(&dry);
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        (report["total"].as_u64(), report["created"].as_u64()),
        (Some(5), Some(2))
    );
    let failed: Vec<(u64, String)> = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (3, "duplicate_email".into()),
            (4, "validation_error".into()),
            (5, "validation_error".into())
        ]
    );
    assert!(
        report["failed"][2]["message"]
            .as_str()
            .unwrap()
            .contains("pasword")
    );
    assert_eq!(env.user_count(), 1);

    let atomic = env.run(["--json", "user", "import", &path, "--atomic"]);
    assert_eq!(atomic.status.code(), Some(1));
    assert_eq!(parse(&atomic)["created"], 0);
    assert_eq!(env.user_count(), 1);

    let done = env.run(["user", "import", &path]);
    assert_eq!(done.status.code(), Some(1));
    let text = stdout(&done);
    assert!(text.starts_with("imported 2 of 5 accounts"), "{text}");
    assert!(text.contains("line 3: duplicate_email"), "{text}");
    assert!(!text.contains(DJANGO) && !text.contains("typo"), "{text}");
    let shown = env.json(&["user", "show", "django"]);
    assert_eq!(shown["roles"], json!(["moderator", "user"]));
    // Kept as it came until a login replaces it (tests/import.rs).
    assert_eq!(hash_of(&env, "django"), DJANGO);
}

fn hash_of(env: &Env, username: &str) -> String {
    let out = env.run(["user", "export", "--with-hashes"]);
    assert!(out.status.success(), "{}", describe(&out));
    lines(&out)
        .into_iter()
        .find(|row| row["username"] == username)
        .and_then(|row| row["password_hash"].as_str().map(str::to_owned))
        .expect("exported")
}

#[test]
fn csv_from_stdin_and_export_round_trip() {
    let env = Env::new();
    let csv = format!(
        "email,username,password_hash,roles,email_verified,disabled,created_at\n\
         ann@example.com,ann,{DJANGO},user;moderator,true,false,2020-01-02T03:04:05Z\n\
         bob@example.com,,,,,yes,\n\
         bad,,,,,,\n\
         cyd@example.com,,,,maybe,,\n"
    );
    let out = with_stdin(
        env.cmd(["--json", "user", "import", "-", "--format", "csv"]),
        &csv,
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = parse(&out);
    assert_eq!(report["created"], 2);
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed[0]["line"], 4);
    assert_eq!(failed[0]["field"], "email");
    assert_eq!(failed[1]["line"], 5);
    assert!(
        failed[1]["message"]
            .as_str()
            .unwrap()
            .contains("email_verified")
    );

    let plain = env.run(["user", "export"]);
    let rows = lines(&plain);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["created_at"], "2020-01-02T03:04:05Z");
    assert_eq!(rows[0]["email_verified"], true);
    assert!(
        rows[0].get("password_hash").is_none(),
        "hashes only when asked"
    );
    assert_eq!(rows[1]["username"], "bob");
    assert_eq!(rows[1]["disabled"], true);

    // The export (with hashes) is an import file for another store.
    let with_hashes = stdout(&env.run(["user", "export", "--with-hashes"]));
    let other = Env::new();
    let out = with_stdin(other.cmd(["--json", "user", "import", "-"]), &with_hashes);
    assert!(out.status.success(), "{}", describe(&out));
    assert_eq!(
        stdout(&other.run(["user", "export", "--with-hashes"])),
        with_hashes
    );

    let roles = stdout(&env.run(["role", "export"]));
    assert!(roles.lines().any(|l| l.contains("\"admin\"")), "{roles}");
    let extra = format!(
        "{roles}{}\n{}\n",
        json!({"name": "editor", "permissions": ["posts:*"]}),
        json!({"name": "user", "permissions": ["everything:*"]})
    );
    let out = with_stdin(other.cmd(["--json", "role", "import", "-"]), &extra);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = parse(&out);
    assert_eq!(report["created"], json!(["editor"]));
    assert_eq!(report["unchanged"].as_array().unwrap().len(), 3);
    assert_eq!(report["failed"][0]["line"], 5);
}

#[test]
fn bulk_actions_over_a_file_or_a_search() {
    let env = Env::new();
    for name in ["team-ann", "team-bob", "other"] {
        env.add_user(name, &format!("{name}@example.com"));
    }
    let dry = env.json(&["user", "bulk", "disable", "--filter", "TEAM-", "--dry-run"]);
    assert_eq!(dry["matched"], 2);
    assert_eq!(env.json(&["user", "show", "team-ann"])["disabled"], false);
    let done = env.json(&["user", "bulk", "disable", "--filter", "team-"]);
    assert_eq!(done["changed"].as_array().unwrap().len(), 2);
    assert_eq!(env.json(&["user", "show", "team-bob"])["disabled"], true);
    env.json(&["user", "bulk", "enable", "--filter", "team-"]);
    assert_eq!(env.json(&["user", "show", "team-bob"])["disabled"], false);

    let ids = file(
        &env,
        "ids.txt",
        "# who gets the role\nteam-ann\nother@example.com\nnobody\n\n",
    );
    let out = env.run([
        "--json",
        "user",
        "bulk",
        "grant",
        "moderator",
        "--ids",
        &ids,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = parse(&out);
    assert_eq!(report["changed"].as_array().unwrap().len(), 2);
    assert_eq!(report["failed"][0]["line"], 4);
    assert_eq!(report["failed"][0]["code"], "not_found");
    assert_eq!(
        env.json(&["user", "show", "other"])["roles"],
        json!(["moderator", "user"])
    );

    let refused = env.json_error(&["user", "bulk", "delete", "--filter", "team-"], &[]);
    assert_eq!(refused["field"], "yes");
    env.json(&["user", "bulk", "delete", "--filter", "team-", "--yes"]);
    assert_eq!(env.user_count(), 1);
    let usage = env.run(["user", "bulk", "disable"]);
    assert_eq!(usage.status.code(), Some(2), "a target is required");
}

#[test]
fn console_serves_its_page_on_its_own_origin() {
    use std::io::{BufRead as _, BufReader, Read as _};
    let env = Env::new();
    let mut child = env
        .cmd(["--json", "console", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn doorward console");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url: Value = serde_json::from_str(&first).unwrap();
    let addr = url["console"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-security-policy: default-src 'self'"),
        "{answer}"
    );
    assert!(answer.contains("/assets/app-"), "{answer}");
}
