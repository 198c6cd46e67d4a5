//! `cache stats` and `cache flush`, without Redis, with it and with an
//! unreachable one.

use serde_json::Value;

use crate::common::{Env, describe, parse, stderr, stdout, test_redis};

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
