//! No password, token, hash, key or email address reaches a `Debug` print or
//! a log line, at any level.

mod common;

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
        .await;
    let _ = dw.auth().login(email, "a wrong password guess", None).await;
    let pair = dw.auth().login(email, PASSWORD, None).await.unwrap();
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

    // The welcome mail (which holds the address) and the metrics.
    dw.events().flush().await.unwrap();
    assert_eq!(dw.mail().sent().unwrap().len(), 1);
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
    ];
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "found a secret ({} chars) in:\n{all}",
            secret.len()
        );
    }
}
