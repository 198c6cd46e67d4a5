//! Configuration and quota parsing: each case opens doorward with
//! `base_config` and the case's keys, and gives `"ok"` or `config_error`
//! (never a panic, never another code). Nothing here reaches the network,
//! and no verdict depends on the store backends a build has (the Rust
//! suite also runs with the memory store alone).
//!
//! Cases marked `"typed": false` set a key that does not exist or give a
//! value of the wrong type: a binding whose configuration is a typed
//! record (Kotlin, Swift) cannot express them, because its compiler
//! refuses them first, and skips them.

use serde_json::{Value, json};

use crate::{open, verdict, write};

fn quota(text: &str) -> Value {
    json!({"rate_limit_login_account": text})
}

fn cases() -> Vec<(&'static str, Value, bool)> {
    let typed = |name, config| (name, config, true);
    let untyped = |name, config| (name, config, false);
    vec![
        typed("defaults", json!({})),
        // Quotas: `N/period`, or `off`.
        typed("quota_per_five_minutes", quota("10/5m")),
        typed("quota_off", quota("off")),
        typed("quota_per_second", quota("1/1s")),
        typed("quota_per_hour", quota("100/1h")),
        typed("quota_per_day", quota("5/1d")),
        typed("quota_bare_unit", quota("10/m")),
        typed("quota_zero_count", quota("0/1m")),
        typed("quota_zero_period", quota("10/0s")),
        typed("quota_no_period", quota("10")),
        typed("quota_empty_period", quota("10/")),
        typed("quota_no_count", quota("/5m")),
        typed("quota_unknown_unit", quota("10/5x")),
        typed("quota_negative", quota("-1/1m")),
        typed("quota_spaces", quota(" 10 / 5m ")),
        typed("quota_upper_case_unit", quota("10/5M")),
        typed("quota_huge_count", quota("18446744073709551616/1s")),
        typed("quota_huge_period", quota("1/99999999999999d")),
        typed("quota_fraction", quota("1.5/1m")),
        typed("quota_empty", quota("")),
        typed("quota_off_upper_case", quota("OFF")),
        typed("quota_ip", json!({"rate_limit_login_ip": "nope"})),
        typed("quota_register", json!({"rate_limit_register_ip": "3/1h"})),
        // Tokens.
        typed("jwt_algorithm_none", json!({"jwt_algorithm": "none"})),
        typed("jwt_algorithm_hs384", json!({"jwt_algorithm": "HS384"})),
        typed(
            "jwt_algorithm_lower_case",
            json!({"jwt_algorithm": "hs256"}),
        ),
        typed("jwt_secret_short", json!({"jwt_secret": "short"})),
        typed(
            "jwt_secret_32_bytes",
            json!({"jwt_secret": "0123456789abcdef0123456789abcdef"}),
        ),
        typed(
            "jwt_private_key_not_pem",
            json!({"jwt_algorithm": "EdDSA", "jwt_private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}),
        ),
        typed("access_ttl_zero", json!({"access_ttl": 0})),
        typed("access_ttl_ten_years", json!({"access_ttl": 315_360_000})),
        typed(
            "access_ttl_over_ten_years",
            json!({"access_ttl": 315_360_001}),
        ),
        typed(
            "refresh_ttl_below_access_ttl",
            json!({"access_ttl": 3600, "refresh_ttl": 60}),
        ),
        typed("jwt_issuer_empty", json!({"jwt_issuer": ""})),
        // Passwords and hashing.
        typed(
            "password_min_length_300",
            json!({"password_min_length": 300}),
        ),
        typed(
            "password_min_length_zero",
            json!({"password_min_length": 0}),
        ),
        typed("argon2_memory_too_small", json!({"argon2_memory_kib": 4})),
        typed(
            "argon2_memory_over_the_cap",
            json!({"argon2_memory_kib": 2_000_000}),
        ),
        typed("argon2_iterations_zero", json!({"argon2_iterations": 0})),
        typed("argon2_parallelism_zero", json!({"argon2_parallelism": 0})),
        typed("hash_concurrency_zero", json!({"hash_concurrency": 0})),
        // Limits and lockout.
        typed("ipv6_prefix_zero", json!({"rate_limit_ipv6_prefix": 0})),
        typed("ipv6_prefix_64", json!({"rate_limit_ipv6_prefix": 64})),
        typed("ipv6_prefix_129", json!({"rate_limit_ipv6_prefix": 129})),
        typed("ipv6_prefix_300", json!({"rate_limit_ipv6_prefix": 300})),
        typed("lockout_threshold_zero", json!({"lockout_threshold": 0})),
        typed(
            "lockout_max_below_base",
            json!({"lockout_base_delay": 60, "lockout_max_delay": 1}),
        ),
        // Stores and services, refused before any connection.
        typed(
            "database_url_unknown_scheme",
            json!({"database_url": "ftp://db.example.com/app"}),
        ),
        typed("database_url_empty", json!({"database_url": ""})),
        typed(
            "read_urls_without_postgres",
            json!({"database_read_urls": ["postgres://replica/app"]}),
        ),
        typed(
            "redis_url_unknown_scheme",
            json!({"redis_url": "ftp://cache:6379"}),
        ),
        typed(
            "redis_cluster_url_without_nodes",
            json!({"redis_url": "redis+cluster://"}),
        ),
        typed("redis_timeout_zero", json!({"redis_timeout_ms": 0})),
        typed(
            "redis_timeout_over_a_day",
            json!({"redis_timeout_ms": 86_400_001}),
        ),
        typed(
            "redis_session_policy_unknown",
            json!({"redis_session_policy": "sometimes"}),
        ),
        typed(
            "redis_session_policy_database",
            json!({"redis_session_policy": "database"}),
        ),
        // Account flows.
        typed("app_url_not_a_url", json!({"app_url": "not a url"})),
        typed(
            "app_url_javascript",
            json!({"app_url": "javascript:alert(1)"}),
        ),
        typed("flow_code_digits_five", json!({"flow_code_digits": 5})),
        typed("flow_code_digits_nine", json!({"flow_code_digits": 9})),
        typed("flow_key_short", json!({"flow_key": "short"})),
        // What only a map can say.
        untyped("unknown_key", json!({"acess_ttl": 60})),
        untyped("access_ttl_text", json!({"access_ttl": "ten minutes"})),
        untyped("access_ttl_negative", json!({"access_ttl": -1})),
        untyped("access_ttl_fraction", json!({"access_ttl": 1.5})),
        untyped("stateless_verify_text", json!({"stateless_verify": "yes"})),
        untyped("read_urls_not_a_list", json!({"database_read_urls": 5})),
        untyped(
            "argon2_memory_huge",
            json!({"argon2_memory_kib": 99_999_999_999u64}),
        ),
    ]
}

pub async fn write_corpus() {
    let mut out = Vec::new();
    let mut ok = 0;
    for (name, config, typed) in cases() {
        let result = open(&config).await;
        let got = verdict(&result);
        assert!(
            got == "ok" || got == "config_error",
            "{name}: a configuration gave {got}"
        );
        ok += usize::from(got == "ok");
        let mut entry = json!({"name": name, "config": config, "expect": got});
        if !typed {
            entry["typed"] = json!(false);
        }
        out.push(entry);
    }
    assert!(ok > 5 && ok < out.len() - 20);
    write(
        "config",
        "Configuration and quotas: open doorward with base_config and then case.config (keys in snake_case); expect is \"ok\" or the error code. Cases with \"typed\": false cannot be written in a typed configuration record.",
        json!({"cases": out}),
    );
}
