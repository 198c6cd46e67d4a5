//! No password, token, hash, key or email address reaches a `Debug` print or
//! a log line, at any level.

mod common;

use common::SignedIn as _;
use common::capture::Capture;

use common::{PASSWORD, SECRET, config};
use doorward::Doorward;

#[tokio::test(flavor = "current_thread")]
async fn nothing_secret_in_debug_or_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let url = if cfg!(feature = "sqlite") {
        format!("sqlite://{}", dir.path().join("secrets.db").display())
    } else {
        "memory://".into()
    };
    let mut cfg = config(&url);
    cfg.mail_url = Some("memory://".into());
    // Eight digits, so the code cannot turn up by chance in a timestamp.
    cfg.flow_code_digits = 8;
    let mut printed = vec![format!("{cfg:?}")];
    let dw = Doorward::open(cfg).await.unwrap();
    printed.push(format!("{dw:?}"));

    let email = "secret.person@example.com";
    let reg = dw
        .auth()
        .register_user("walt", email, PASSWORD, None)
        .await
        .unwrap();
    printed.push(format!("{reg:?}"));
    let _ = dw
        .auth()
        .login("walt", "a wrong password guess", None)
        .await
        .signed_in();
    let _ = dw
        .auth()
        .login(email, "a wrong password guess", None)
        .await
        .signed_in();
    let pair = dw
        .auth()
        .login(email, PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    printed.push(format!("{pair:?}"));
    let p = dw.auth().verify_token(&pair.access_token).await.unwrap();
    printed.push(format!("{p:?}"));
    let next = dw.auth().refresh_token(&pair.refresh_token).await.unwrap();
    let reuse = dw
        .auth()
        .refresh_token(&pair.refresh_token)
        .await
        .unwrap_err();
    printed.push(format!("{reuse:?} {reuse}"));
    let bad = dw
        .auth()
        .verify_token(&format!("{}x", next.access_token))
        .await
        .unwrap_err();
    printed.push(format!("{bad:?} {bad}"));
    let dup = dw
        .auth()
        .register_user("walt2", email, PASSWORD, None)
        .await
        .unwrap_err();
    printed.push(format!("{dup:?} {dup}"));
    let weak = dw
        .auth()
        .register_user("walt3", "w3@example.com", "password1", None)
        .await
        .unwrap_err();
    printed.push(format!("{weak:?} {weak}"));
    dw.users()
        .change_password(&p.user_id, PASSWORD, "another long passphrase", None)
        .await
        .unwrap();
    let user = dw.users().get(&p.user_id).await.unwrap();
    printed.push(format!("{user:?}"));
    printed.push(format!(
        "{:?}",
        dw.sessions().list(&p.user_id).await.unwrap()
    ));

    // The welcome mail (which holds the address), the verification mail
    // (which holds a link secret and a code, used here) and the metrics.
    dw.events().flush().await.unwrap();
    let sent = dw.mail().sent().unwrap();
    assert_eq!(sent.len(), 2);
    let verification = sent
        .iter()
        .find(|m| m.subject == "Confirm your email address")
        .unwrap();
    let words: Vec<&str> = verification.text.split_whitespace().collect();
    let link = words.iter().find(|w| w.contains("?flow=")).unwrap();
    let (flow_id, link_secret) = link
        .split_once("flow=")
        .unwrap()
        .1
        .split_once("&secret=")
        .unwrap();
    let code = words
        .iter()
        .map(|w| w.trim_end_matches('.'))
        .find(|w| w.len() == 8 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap();
    let wrong = dw.auth().verify_email(flow_id, "000000").await.unwrap_err();
    printed.push(format!("{wrong:?} {wrong}"));
    let verified = dw.auth().verify_email(flow_id, code).await.unwrap();
    printed.push(format!("{verified:?}"));
    printed.push(format!("{:?}", dw.events().list(None, 1000).await.unwrap()));
    printed.push(dw.metrics_text().await.unwrap());

    let logs = capture.text();
    assert!(logs.contains("login"), "the logs were captured: {logs}");
    assert!(logs.contains("welcome mail sent"), "{logs}");
    printed.push(logs);
    let all = printed.join("\n");

    let secrets = [
        PASSWORD,
        "a wrong password guess",
        "another long passphrase",
        "password1",
        SECRET,
        email,
        "secret.person",
        "$argon2",
        &reg.tokens.access_token,
        &reg.tokens.refresh_token,
        &pair.access_token,
        &pair.refresh_token,
        &next.refresh_token,
        &pair.access_token[pair.access_token.rfind('.').unwrap() + 1..],
        link_secret,
        code,
    ];
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "found a secret ({} chars) in:\n{all}",
            secret.len()
        );
    }
}

/// Passwords inside URL-valued keys (`postgres://user:pw@…`,
/// `redis://:pw@…`) are secrets too: neither the configuration's `Debug`
/// nor the open instance's shows them.
#[tokio::test(flavor = "current_thread")]
async fn url_passwords_stay_out_of_debug() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut every = config("postgres://app:pg-primary-pw@db.internal:5432/app");
    every.database_read_urls = vec![
        "postgres://reader:pg-replica-pw@db2.internal/app".into(),
        "postgresql://db3.internal/app?user=r&password=pg-query-pw".into(),
    ];
    every.redis_url = Some("redis://:redis-pw@cache.internal:6379/0".into());
    every.files_url = Some("s3://files-user:files-pw@bucket".into());
    every.files_s3_endpoint = Some("https://key:s3-endpoint-pw@minio.internal".into());
    every.mail_url = Some("smtps://mailer:mail-url-pw@smtp.internal".into());
    every.otel_endpoint = Some("https://otel:otel-pw@collector.internal:4318".into());
    let shown = format!("{every:?}");
    for secret in [
        "pg-primary-pw",
        "pg-replica-pw",
        "pg-query-pw",
        "redis-pw",
        "files-pw",
        "s3-endpoint-pw",
        "mail-url-pw",
        "otel-pw",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // What is not secret still helps whoever reads it.
    for visible in [
        "db.internal:5432/app",
        "postgres://reader:",
        "@db2.internal/app",
        "cache.internal",
    ] {
        assert!(shown.contains(visible), "{visible} missing from {shown}");
    }

    // An open instance, on PostgreSQL when the test server is reachable
    // (its trust authentication accepts any password), with a Redis URL
    // that holds a password (Redis connects lazily: nothing is needed).
    let mut secrets = vec![];
    let mut cfg = config("memory://");
    #[cfg(feature = "postgres")]
    if let Some(url) = common::services::postgres_url().await {
        let with_password = url.replacen("://postgres@", "://postgres:pg-open-pw@", 1);
        if with_password != url {
            secrets.push("pg-open-pw");
            cfg.database_url = with_password.clone();
            cfg.database_read_urls = vec![with_password];
        }
    }
    if cfg!(feature = "redis") {
        secrets.push("redis-open-pw");
        cfg.redis_url = Some("redis://:redis-open-pw@127.0.0.1:9/0".into());
        cfg.redis_timeout_ms = 100;
    }
    let mut printed = vec![format!("{cfg:?}")];
    let dw = Doorward::open(cfg).await.unwrap();
    printed.push(format!("{dw:?}"));
    printed.push(format!("{:#?}", dw));
    printed.push(capture.text());
    let all = printed.join("\n");
    for secret in secrets {
        assert!(!all.contains(secret), "{secret} in:\n{all}");
    }

    // A PostgreSQL server that is not there: the error does not repeat
    // the URL.
    #[cfg(feature = "postgres")]
    {
        let mut down = config("postgres://app:pg-down-pw@127.0.0.1:9/app");
        down.database_acquire_timeout = 1;
        let err = Doorward::open(down).await.unwrap_err();
        let shown = format!("{err} {err:?} {}", capture.text());
        assert!(!shown.contains("pg-down-pw"), "{shown}");
    }
}

/// A misspelt `DOORWARD_*` variable is not silently ignored: reading the
/// environment warns with its name (never its value), and the project's
/// own non-configuration variables stay quiet.
#[test]
fn unknown_environment_names_are_warned_about_without_their_values() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = doorward::Config::default()
        .with_env_from([
            ("DOORWARD_ACESS_TTL", "61"),
            ("DOORWARD_JWT_SECRTE", "env-secret-value-1"),
            ("doorward_refresh_ttl", "62"),
            ("DOORWARD_ACCESS_TTL", "120"),
            ("DOORWARD_REQUIRE_SERVICES", "1"),
            ("DOORWARD_INSTALL", "1"),
            ("DOORWARD_TEST_REDIS_URL", "redis://127.0.0.1:6379"),
            (
                "DOORWARD_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1/test",
            ),
            ("DOORWARD_TEST_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("DOORWARD_TEST_CHILD_DATABASE", "sqlite://x.db"),
            ("DOORWARD_BENCH_FILES_CHILD", "1"),
            ("DOORWARD_PASSWORD", "env-password-value-2"),
            ("DOORWARD_TOKEN", "env-token-value-3"),
            ("DOORWARD_CONFIG", "doorward.toml"),
            ("PATH", "/usr/bin"),
        ])
        .unwrap();
    assert_eq!(config.access_ttl, 120);

    let logs = capture.text();
    let warned: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert_eq!(warned.len(), 3, "{logs}");
    for (name, meant) in [
        ("DOORWARD_ACESS_TTL", "DOORWARD_ACCESS_TTL"),
        ("DOORWARD_JWT_SECRTE", "DOORWARD_JWT_SECRET"),
        ("doorward_refresh_ttl", "DOORWARD_REFRESH_TTL"),
    ] {
        assert!(
            warned.iter().any(|l| l.contains(name) && l.contains(meant)),
            "{name} (meant {meant}) in {logs}"
        );
    }
    for quiet in [
        "env-secret-value-1",
        "env-password-value-2",
        "env-token-value-3",
        "REQUIRE_SERVICES",
        "DOORWARD_INSTALL",
        "DOORWARD_TEST_",
        "DOORWARD_BENCH_",
        "DOORWARD_PASSWORD",
        "DOORWARD_TOKEN",
        "DOORWARD_CONFIG",
        "PATH",
    ] {
        assert!(!logs.contains(quiet), "{quiet} in {logs}");
    }
}
