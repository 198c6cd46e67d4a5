//! `files` on the local folder, from standard input and on S3.

use crate::common::{Env, Vars, describe, parse, service, services, stderr, stdout, with_stdin};

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
