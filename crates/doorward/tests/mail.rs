//! The welcome mail: sent through the outbox on registration, over SMTP to
//! a loopback sink, with the host's template and mailer; and a mail server
//! that is down neither fails nor slows registration.
#![cfg(all(feature = "sqlite", feature = "mail"))]

mod common;

use common::SignedIn as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{PASSWORD, flush_until};
use doorward::mail::{MailError, Mailer, MemoryMailer, Message};
use doorward::{Config, Doorward, ErrorCode};

fn config(mail_url: &str) -> Config {
    Config {
        mail_url: Some(mail_url.into()),
        mail_from: "Example <noreply@example.com>".into(),
        events_poll_interval_ms: 20,
        events_retry_base_ms: 20,
        events_retry_max_secs: 1,
        mail_timeout_ms: 2_000,
        // These tests are about the welcome mail alone (the verification
        // mail registration also sends has its own, in tests/flows.rs).
        verify_email_on_register: false,
        ..common::config("sqlite::memory:")
    }
}

#[tokio::test]
async fn the_welcome_mail_reaches_an_smtp_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = common::smtp::sink(listener);
    let dw = Doorward::open(config(&url)).await.unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    flush_until(&dw, "the mail", || !inbox.lock().unwrap().is_empty()).await;
    let mail = inbox.lock().unwrap()[0].clone();
    assert_eq!(mail.from, "noreply@example.com");
    assert_eq!(mail.to, ["john@example.com"]);
    assert!(
        mail.data.contains("Subject: Welcome, john"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("Hello john,"), "{}", mail.data);
    assert!(!mail.data.contains(PASSWORD));
    // Once, however often the dispatcher runs.
    dw.events().flush().await.unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 1);
    // The host's own mail goes out through the same server, at once.
    dw.mail()
        .send("john@example.com", "Your report", "attached")
        .await
        .unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 2);
    assert!(!reg.user.id.is_empty());
}

#[tokio::test]
async fn registration_succeeds_while_the_mail_server_is_down_and_the_mail_follows() {
    // A port nobody listens on: reserve it, then close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dw = Doorward::open(config(&format!("smtp://127.0.0.1:{port}")))
        .await
        .unwrap();
    // Registration commits without touching the mail server...
    dw.auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    // ...and the dispatcher's first attempt fails without stopping it.
    dw.events().flush().await.unwrap();
    dw.auth()
        .login("john", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    // The server comes back; the retry delivers.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let inbox = common::smtp::sink(listener);
    flush_until(&dw, "the mail", || !inbox.lock().unwrap().is_empty()).await;
    assert_eq!(inbox.lock().unwrap()[0].to, ["john@example.com"]);
}

#[tokio::test]
async fn the_template_is_the_hosts_and_mail_is_only_sent_to_new_users() {
    let dw = Doorward::open(Config {
        welcome_subject: "Welcome to Example, {username}".into(),
        welcome_text: "Your id is {user_id}; we will write to {email}.".into(),
        ..config("memory://")
    })
    .await
    .unwrap();
    let reg = dw
        .auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth()
        .login("john", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    dw.events().flush().await.unwrap();
    let sent = dw.mail().sent().unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].from, "Example <noreply@example.com>");
    assert_eq!(sent[0].subject, "Welcome to Example, john");
    assert_eq!(
        sent[0].text,
        format!(
            "Your id is {}; we will write to john@example.com.",
            reg.user.id
        )
    );
}

#[tokio::test]
async fn welcome_mail_can_be_turned_off() {
    let dw = Doorward::open(Config {
        welcome_mail: false,
        ..config("memory://")
    })
    .await
    .unwrap();
    dw.auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.events().flush().await.unwrap();
    assert!(dw.mail().sent().unwrap().is_empty());
}

/// Fails its first `failures` sends, then keeps what it is given.
#[derive(Debug)]
struct Flaky {
    failures: AtomicU32,
    inner: MemoryMailer,
}

#[async_trait::async_trait]
impl Mailer for Flaky {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MailError::transient("421 try again later"));
        }
        self.inner.send(message).await
    }
}

#[tokio::test]
async fn a_host_mailer_replaces_the_configured_one_and_failures_are_retried() {
    let mut config = common::config("sqlite::memory:");
    config.events_retry_base_ms = 10;
    // Fewer than the mailer's failures: the welcome mail outlasts them.
    config.events_max_attempts = 2;
    let dw = Doorward::open(config).await.unwrap();
    // No mailer yet: sending is a configuration error, and nothing queues.
    let err = dw.mail().send("a@example.com", "x", "y").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    let flaky = Arc::new(Flaky {
        failures: AtomicU32::new(4),
        inner: MemoryMailer::default(),
    });
    dw.mail().set_mailer(flaky.clone()).await.unwrap();
    dw.auth()
        .register_user("john", "john@example.com", PASSWORD, None)
        .await
        .unwrap();
    flush_until(&dw, "the mail", || !flaky.inner.sent().is_empty()).await;
    assert_eq!(flaky.inner.sent()[0].to, "john@example.com");
    assert_eq!(flaky.failures.load(Ordering::SeqCst), 0);
}

/// Refuses one address for good, takes the rest.
#[derive(Debug, Default)]
struct Refusing {
    attempts: AtomicU32,
    inner: MemoryMailer,
}

#[async_trait::async_trait]
impl Mailer for Refusing {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        if message.to == "nobody@example.com" {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            return Err(MailError::permanent("550 no such mailbox"));
        }
        self.inner.send(message).await
    }
}

#[tokio::test]
async fn a_mail_refused_for_good_is_dropped_and_later_mails_go_out() {
    let dw = Doorward::open(Config {
        verify_email_on_register: false,
        ..common::config("sqlite::memory:")
    })
    .await
    .unwrap();
    let mailer = Arc::new(Refusing::default());
    dw.mail().set_mailer(mailer.clone()).await.unwrap();
    for (name, email) in [
        ("nobody", "nobody@example.com"),
        ("jane", "jane@example.com"),
    ] {
        dw.auth()
            .register_user(name, email, PASSWORD, None)
            .await
            .unwrap();
    }
    flush_until(&dw, "the mail", || !mailer.inner.sent().is_empty()).await;
    assert_eq!(mailer.inner.sent()[0].to, "jane@example.com");
    assert_eq!(mailer.attempts.load(Ordering::SeqCst), 1, "not retried");
}

#[tokio::test]
async fn a_password_in_the_mail_url_is_refused() {
    let err = Doorward::open(config("smtp://user:hunter2@127.0.0.1:25"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    assert!(!err.to_string().contains("hunter2"));
}
