//! The account flows end to end: each flow through the outbox and a mailer
//! (the in-memory one, and a real SMTP exchange with a loopback server),
//! on every backend, with the attempt cap, expiry, enumeration and races.

mod common;

use common::SignedIn as _;
use std::sync::Arc;

use common::{PASSWORD, flush_until};
use doorward::mail::Message;
use doorward::{ClientInfo, Config, Doorward, ErrorCode};

const NEW_PASSWORD: &str = "a brand new passphrase";

fn config(database_url: &str) -> Config {
    Config {
        mail_url: Some("memory://".into()),
        app_url: "https://app.example.com".into(),
        events_poll_interval_ms: 20,
        // The tests ask again at once; the cooldown has its own test.
        flow_resend_cooldown: 0,
        ..common::config(database_url)
    }
}

async fn open(config: Config) -> Doorward {
    Doorward::open(config).await.unwrap()
}

/// The newest mail `pick` accepts, flushing the outbox until there is one.
async fn first_mail(dw: &Doorward, what: &str, pick: impl Fn(&Message) -> bool) -> Message {
    let find = || {
        dw.mail()
            .sent()
            .unwrap()
            .into_iter()
            .rev()
            .find(|m| pick(m))
    };
    flush_until(dw, what, || find().is_some()).await;
    find().unwrap()
}

/// The newest mail to `to` with `subject`, and what it says.
async fn mailed(dw: &Doorward, to: &str, subject: &str) -> (Message, Mailed) {
    let message = first_mail(dw, subject, |m| m.to == to && m.subject == subject).await;
    let mailed = Mailed::parse(&message.text);
    (message, mailed)
}

/// The mail of flow `flow_id` (the one a request answered), and what it says.
async fn mail_of(dw: &Doorward, flow_id: &str) -> (Message, Mailed) {
    let needle = format!("flow={flow_id}&");
    let message = first_mail(dw, "the flow's mail", |m| m.text.contains(&needle)).await;
    let mailed = Mailed::parse(&message.text);
    (message, mailed)
}

/// What a user reads in an account mail.
#[derive(Debug, Clone)]
struct Mailed {
    flow_id: String,
    secret: String,
    code: String,
}

impl Mailed {
    fn parse(text: &str) -> Mailed {
        let link = text
            .split_whitespace()
            .find(|w| w.starts_with("https://app.example.com/"))
            .unwrap_or_else(|| panic!("no link in {text}"));
        let query = link.split_once('?').unwrap().1;
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_string()
        };
        let code = text
            .split_whitespace()
            .map(|w| w.trim_end_matches('.'))
            .find(|w| w.len() >= 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in {text}"))
            .to_string();
        Mailed {
            flow_id: param("flow"),
            secret: param("secret"),
            code,
        }
    }
}

#[tokio::test]
async fn registration_mails_a_verification_that_either_secret_completes() {
    for url in common::backends().await {
        let dw = open(config(&url)).await;
        let reg = dw
            .auth()
            .register_user("ann", "Ann@Example.com", PASSWORD, None)
            .await
            .unwrap();
        assert_eq!(reg.user.email_verified_at, None);
        let (message, first) = mailed(&dw, "Ann@example.com", "Confirm your email address").await;
        assert!(message.text.contains("Hello ann,"), "{}", message.text);
        assert!(
            message
                .text
                .contains("https://app.example.com/verify?flow=")
        );
        assert!(message.text.contains("24 hours"), "{}", message.text);
        // The code, on the page the flow id came with.
        let user = dw
            .auth()
            .verify_email(&first.flow_id, &first.code)
            .await
            .unwrap();
        assert!(user.email_verified_at.is_some(), "{url}");
        assert!(
            dw.users()
                .get(&reg.user.id)
                .await
                .unwrap()
                .email_verified_at
                .is_some()
        );
        // Used: the link of the same mail no longer works.
        let again = dw.auth().verify_email(&first.flow_id, &first.secret).await;
        assert_eq!(again.unwrap_err().code(), ErrorCode::FlowInvalid);
        // A verified address needs no second mail.
        let err = dw
            .auth()
            .request_email_verification(&reg.user.id)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("email"));
    }
}

#[tokio::test]
async fn a_link_survives_a_scanner_and_codes_have_five_attempts() {
    let dw = open(config("memory://")).await;
    let reg = dw
        .auth()
        .register_user("bob", "bob@example.com", PASSWORD, None)
        .await
        .unwrap();
    let (_, m) = mailed(&dw, "bob@example.com", "Confirm your email address").await;
    // The link verifies; a wrong secret first costs one attempt of five.
    for left in [4, 3] {
        let err = dw
            .auth()
            .verify_email(&m.flow_id, "000000")
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::FlowInvalid);
        assert!(
            err.to_string().contains(&format!("{left} attempts left")),
            "{err}"
        );
    }
    dw.auth().verify_email(&m.flow_id, &m.secret).await.unwrap();

    // A second flow, guessed five times, is dead even to the right code.
    let started = dw
        .auth()
        .request_sign_in("bob@example.com", None)
        .await
        .unwrap();
    let (_, s) = mailed(&dw, "bob@example.com", "Your sign-in link").await;
    assert_eq!(started.flow_id, s.flow_id);
    for n in 1..=5 {
        let err = dw
            .auth()
            .complete_sign_in(&s.flow_id, "999999", None)
            .await
            .signed_in()
            .unwrap_err();
        let want = if n < 5 {
            ErrorCode::FlowInvalid
        } else {
            ErrorCode::FlowExpired
        };
        assert_eq!(err.code(), want, "attempt {n}");
    }
    let dead = dw
        .auth()
        .complete_sign_in(&s.flow_id, &s.code, None)
        .await
        .signed_in();
    assert_eq!(dead.unwrap_err().code(), ErrorCode::FlowExpired);
    // Input that is not a flow is a validation error, not an attempt.
    let err = dw
        .auth()
        .verify_email("not-a-flow", "123456")
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("flow_id"));
    assert!(!reg.user.id.is_empty());
}

#[tokio::test]
async fn a_password_reset_ends_every_session_and_every_other_link() {
    for url in common::backends().await {
        let dw = open(config(&url)).await;
        let reg = dw
            .auth()
            .register_user("cyd", "cyd@example.com", PASSWORD, None)
            .await
            .unwrap();
        let other = dw
            .auth()
            .login("cyd", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let older = dw
            .auth()
            .request_password_reset("cyd@example.com", None)
            .await
            .unwrap();
        mail_of(&dw, &older.flow_id).await;
        let newer = dw
            .auth()
            .request_password_reset("CYD@example.com", None)
            .await
            .unwrap();
        let (message, m) = mail_of(&dw, &newer.flow_id).await;
        assert_eq!(message.subject, "Reset your password");
        assert_eq!(message.to, "cyd@example.com", "to the address as stored");
        assert_ne!(older.flow_id, m.flow_id);
        assert!(message.text.contains("https://app.example.com/reset?flow="));
        // A weak password costs no attempt and spends nothing.
        let weak = dw
            .auth()
            .reset_password(&m.flow_id, &m.secret, "cyd")
            .await
            .unwrap_err();
        assert_eq!(weak.field(), Some("password"));
        dw.auth()
            .reset_password(&m.flow_id, &m.secret, NEW_PASSWORD)
            .await
            .unwrap();
        for tokens in [&reg.tokens, &other] {
            let err = dw
                .auth()
                .verify_token(&tokens.access_token)
                .await
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::TokenRevoked, "{url}");
            let err = dw
                .auth()
                .refresh_token(&tokens.refresh_token)
                .await
                .unwrap_err();
            assert_ne!(err.code(), ErrorCode::Internal);
        }
        let old = dw
            .auth()
            .login("cyd", PASSWORD, None)
            .await
            .signed_in()
            .unwrap_err();
        assert_eq!(old.code(), ErrorCode::InvalidCredentials);
        dw.auth()
            .login("cyd", NEW_PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        // The other link died with the reset; the mail proved the address.
        let dead = dw
            .auth()
            .reset_password(&older.flow_id, "x", "another fine passphrase")
            .await;
        assert_eq!(dead.unwrap_err().code(), ErrorCode::FlowInvalid);
        assert!(
            dw.users()
                .get(&reg.user.id)
                .await
                .unwrap()
                .email_verified_at
                .is_some()
        );
        // Any later password change cancels outstanding reset links too.
        let third = dw
            .auth()
            .request_password_reset("cyd@example.com", None)
            .await
            .unwrap();
        let (_, pending) = mail_of(&dw, &third.flow_id).await;
        dw.users()
            .change_password(&reg.user.id, NEW_PASSWORD, "yet another passphrase", None)
            .await
            .unwrap();
        let late = dw
            .auth()
            .reset_password(&pending.flow_id, &pending.code, "sneaky passphrase!")
            .await;
        assert_eq!(late.unwrap_err().code(), ErrorCode::FlowInvalid, "{url}");
    }
}

#[tokio::test]
async fn a_reset_lifts_a_lockout() {
    let dw = open(Config {
        lockout_threshold: 2,
        rate_limit_login_account: "off".into(),
        ..config("memory://")
    })
    .await;
    dw.auth()
        .register_user("dina", "dina@example.com", PASSWORD, None)
        .await
        .unwrap();
    for _ in 0..3 {
        let _ = dw
            .auth()
            .login("dina", "wrong password!", None)
            .await
            .signed_in();
    }
    let locked = dw
        .auth()
        .login("dina", PASSWORD, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(locked.code(), ErrorCode::AccountLocked);
    dw.auth()
        .request_password_reset("dina@example.com", None)
        .await
        .unwrap();
    let (_, m) = mailed(&dw, "dina@example.com", "Reset your password").await;
    dw.auth()
        .reset_password(&m.flow_id, &m.code, NEW_PASSWORD)
        .await
        .unwrap();
    dw.auth()
        .login("dina", NEW_PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_after_the_same_work() {
    for url in common::backends().await {
        let dw = open(config(&url)).await;
        dw.auth()
            .register_user("eddy", "eddy@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.events().flush().await.unwrap();
        let sent_before = dw.mail().sent().unwrap().len();
        let (hashes, flows) = (dw.hash_operations(), dw.flow_operations());
        let known = dw
            .auth()
            .request_password_reset("eddy@example.com", None)
            .await
            .unwrap();
        let known_work = (dw.hash_operations() - hashes, dw.flow_operations() - flows);
        let (hashes, flows) = (dw.hash_operations(), dw.flow_operations());
        let unknown = dw
            .auth()
            .request_password_reset("nobody@example.com", None)
            .await
            .unwrap();
        let unknown_work = (dw.hash_operations() - hashes, dw.flow_operations() - flows);
        assert_eq!(known_work, unknown_work, "{url}");
        assert_eq!(known_work, (0, 3), "two keyed hashes and one seal");
        assert_eq!(known.expires_in, unknown.expires_in);
        assert_eq!(known.flow_id.len(), unknown.flow_id.len());
        // The same for sign-in; and completing an unknown flow answers
        // like a wrong code on a known one.
        let a = dw
            .auth()
            .request_sign_in("eddy@example.com", None)
            .await
            .unwrap();
        let b = dw
            .auth()
            .request_sign_in("nobody@example.com", None)
            .await
            .unwrap();
        for flow in [&a, &b] {
            let err = dw
                .auth()
                .complete_sign_in(&flow.flow_id, "123123", None)
                .await
                .signed_in()
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::FlowInvalid);
            assert!(err.to_string().contains("4 attempts left"), "{err}");
        }
        flush_until(&dw, "the known address's mails", || {
            dw.mail().sent().unwrap().len() == sent_before + 2
        })
        .await;
        dw.events().flush().await.unwrap();
        let sent = dw.mail().sent().unwrap();
        assert_eq!(
            sent.len(),
            sent_before + 2,
            "nothing goes to an unknown address"
        );
        assert!(sent.iter().all(|m| m.to != "nobody@example.com"));
    }
}

#[tokio::test]
async fn unknown_addresses_may_be_told_and_quotas_count_them_alike() {
    let dw = open(Config {
        unknown_address_mail: true,
        rate_limit_flow_address: "2/1h".into(),
        ..config("memory://")
    })
    .await;
    dw.auth()
        .register_user("fay", "fay@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.auth()
        .request_password_reset("nobody@example.com", None)
        .await
        .unwrap();
    let notice = first_mail(&dw, "the notice", |m| m.to == "nobody@example.com").await;
    assert_eq!(notice.subject, "Someone used this address");
    assert!(
        notice.text.contains("https://app.example.com"),
        "{}",
        notice.text
    );
    // The registration's verification mail was the first of fa's two.
    for address in ["fay@example.com", "nobody@example.com"] {
        let mut refused = None;
        for _ in 0..3 {
            if let Err(e) = dw.auth().request_password_reset(address, None).await {
                refused = Some(e);
                break;
            }
        }
        let refused = refused.unwrap_or_else(|| panic!("{address} was never throttled"));
        assert_eq!(refused.code(), ErrorCode::RateLimited);
    }
}

#[tokio::test]
async fn asking_again_waits_for_the_cooldown() {
    let dw = open(Config {
        flow_resend_cooldown: 60,
        verify_email_on_register: false,
        ..config("memory://")
    })
    .await;
    dw.auth()
        .register_user("gil", "gil@example.com", PASSWORD, None)
        .await
        .unwrap();
    let client = ClientInfo {
        ip: Some("203.0.113.9".into()),
        user_agent: None,
    };
    dw.auth()
        .request_sign_in("gil@example.com", Some(client.clone()))
        .await
        .unwrap();
    let err = dw
        .auth()
        .request_sign_in("GIL@example.com", Some(client))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert!(err.retry_after().unwrap().as_secs() >= 59);
    // Another purpose has its own cooldown.
    dw.auth()
        .request_password_reset("gil@example.com", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_by_email_starts_a_session_and_may_sign_up() {
    for url in common::backends().await {
        let dw = open(config(&url)).await;
        let reg = dw
            .auth()
            .register_user("hugh", "hugh@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.auth()
            .request_sign_in("hugh@example.com", None)
            .await
            .unwrap();
        let (message, m) = mailed(&dw, "hugh@example.com", "Your sign-in link").await;
        assert!(message.text.contains("/sign-in/email?flow="));
        assert!(message.text.contains("10 minutes"), "{}", message.text);
        let client = ClientInfo {
            ip: Some("198.51.100.7".into()),
            user_agent: Some("tests".into()),
        };
        let tokens = dw
            .auth()
            .complete_sign_in(&m.flow_id, &m.secret, Some(client))
            .await
            .signed_in()
            .unwrap();
        let who = dw.auth().verify_token(&tokens.access_token).await.unwrap();
        assert_eq!(who.user_id, reg.user.id, "{url}");
        assert!(
            dw.users()
                .get(&reg.user.id)
                .await
                .unwrap()
                .email_verified_at
                .is_some()
        );
    }
    // Off by default: an unknown address gets no account and no mail.
    let dw = open(Config {
        sign_in_creates_users: true,
        ..config("memory://")
    })
    .await;
    dw.auth()
        .request_sign_in("New.Person@example.com", None)
        .await
        .unwrap();
    let (message, m) = mailed(&dw, "New.Person@example.com", "Your sign-in link").await;
    assert!(
        message.text.contains("Hello New.Person,"),
        "{}",
        message.text
    );
    let tokens = dw
        .auth()
        .complete_sign_in(&m.flow_id, &m.code, None)
        .await
        .signed_in()
        .unwrap();
    let who = dw.auth().verify_token(&tokens.access_token).await.unwrap();
    let user = dw.users().get(&who.user_id).await.unwrap();
    assert_eq!(
        (user.username.as_str(), user.email.as_str()),
        ("New.Person", "New.Person@example.com")
    );
    assert!(user.email_verified_at.is_some());
}

#[tokio::test]
async fn an_email_change_is_confirmed_from_the_new_address() {
    for url in common::backends().await {
        let dw = open(config(&url)).await;
        let reg = dw
            .auth()
            .register_user("ivy", "ivy@example.com", PASSWORD, None)
            .await
            .unwrap();
        dw.auth()
            .register_user("joe", "joe@example.com", PASSWORD, None)
            .await
            .unwrap();
        let users = dw.users();
        let wrong = users
            .request_email_change(&reg.user.id, "ivy@new.example", "not the password")
            .await;
        assert_eq!(wrong.unwrap_err().code(), ErrorCode::InvalidCredentials);
        let taken = users
            .request_email_change(&reg.user.id, "joe@example.com", PASSWORD)
            .await;
        assert_eq!(taken.unwrap_err().code(), ErrorCode::DuplicateEmail);
        users
            .request_email_change(&reg.user.id, "Ivy@New.Example", PASSWORD)
            .await
            .unwrap();
        let notice = first_mail(&dw, "the notice", |m| {
            m.subject == "Your email address is being changed"
        })
        .await;
        assert_eq!(notice.to, "ivy@example.com");
        let (message, m) = mailed(&dw, "Ivy@new.example", "Confirm your new email address").await;
        assert!(message.text.contains("/email-change?flow="));
        // Until confirmed the old address stays.
        assert_eq!(
            users.get(&reg.user.id).await.unwrap().email,
            "ivy@example.com"
        );
        let user = users
            .confirm_email_change(&m.flow_id, &m.code)
            .await
            .unwrap();
        assert_eq!(user.email, "Ivy@new.example", "{url}");
        assert!(user.email_verified_at.is_some());
        assert_eq!(
            users.get(&reg.user.id).await.unwrap().email,
            "Ivy@new.example"
        );
        dw.auth()
            .login("ivy@new.example", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let old = dw
            .auth()
            .login("ivy@example.com", PASSWORD, None)
            .await
            .signed_in()
            .unwrap_err();
        assert_eq!(old.code(), ErrorCode::InvalidCredentials);
    }
}

#[tokio::test]
async fn unverified_accounts_may_be_refused_at_login() {
    let dw = open(Config {
        require_verified_email_for_login: true,
        ..config("memory://")
    })
    .await;
    let reg = dw
        .auth()
        .register_user("kofi", "kofi@example.com", PASSWORD, None)
        .await
        .unwrap();
    let wrong = dw
        .auth()
        .login("kofi", "not the password", None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(
        wrong.code(),
        ErrorCode::InvalidCredentials,
        "only the right password learns more"
    );
    let err = dw
        .auth()
        .login("kofi", PASSWORD, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EmailNotVerified);
    assert_eq!(err.http_response().status, 403);
    dw.users().mark_email_verified(&reg.user.id).await.unwrap();
    dw.auth()
        .login("kofi", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
}

#[tokio::test]
async fn flows_expire() {
    let dw = open(Config {
        sign_in_ttl: 1,
        ..config("memory://")
    })
    .await;
    dw.auth()
        .register_user("luke", "luke@example.com", PASSWORD, None)
        .await
        .unwrap();
    let started = dw
        .auth()
        .request_sign_in("luke@example.com", None)
        .await
        .unwrap();
    assert_eq!(started.expires_in, 1);
    let (message, m) = mailed(&dw, "luke@example.com", "Your sign-in link").await;
    assert!(message.text.contains("1 second"), "{}", message.text);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let err = dw
        .auth()
        .complete_sign_in(&m.flow_id, &m.code, None)
        .await
        .signed_in()
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::FlowExpired);
    assert_eq!(err.http_response().status, 410);
}

#[tokio::test]
async fn of_two_racing_sign_ins_exactly_one_wins() {
    for url in common::backends().await {
        let dw = Arc::new(open(config(&url)).await);
        dw.auth()
            .register_user("moe", "moe@example.com", PASSWORD, None)
            .await
            .unwrap();
        for round in 0..3 {
            let started = dw
                .auth()
                .request_sign_in("moe@example.com", None)
                .await
                .unwrap();
            let (_, m) = mail_of(&dw, &started.flow_id).await;
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let racers: Vec<_> = [m.secret.clone(), m.code.clone()]
                .into_iter()
                .map(|secret| {
                    let (dw, barrier, flow) = (dw.clone(), barrier.clone(), m.flow_id.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        dw.auth()
                            .complete_sign_in(&flow, &secret, None)
                            .await
                            .signed_in()
                    })
                })
                .collect();
            let mut won = 0;
            for r in racers {
                match r.await.unwrap() {
                    Ok(_) => won += 1,
                    Err(e) => assert_eq!(e.code(), ErrorCode::FlowInvalid),
                }
            }
            assert_eq!(won, 1, "{url}, round {round}");
        }
    }
}

#[tokio::test]
async fn no_secret_reaches_an_event_or_a_debug_print() {
    let dw = open(config("memory://")).await;
    dw.auth()
        .register_user("nyla", "nyla@example.com", PASSWORD, None)
        .await
        .unwrap();
    let (_, m) = mailed(&dw, "nyla@example.com", "Confirm your email address").await;
    dw.auth()
        .request_password_reset("nyla@example.com", None)
        .await
        .unwrap();
    let (_, r) = mailed(&dw, "nyla@example.com", "Reset your password").await;
    dw.auth().verify_email(&m.flow_id, &m.code).await.unwrap();
    let page = dw.events().list(None, 1000).await.unwrap();
    let text = format!("{:?} {}", page, serde_json::to_string(&page.items).unwrap());
    for secret in [&m.secret, &m.code, &r.secret, &r.code] {
        assert!(!text.contains(secret.as_str()), "a secret is in the events");
    }
    assert!(
        !text.contains("nyla@example.com"),
        "an address is in the events"
    );
    let types: Vec<String> = page
        .items
        .iter()
        .map(|e| e.event_type.to_string())
        .collect();
    for t in [
        "EmailVerificationRequested",
        "PasswordResetRequested",
        "EmailVerified",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
    }
}

#[cfg(feature = "mail")]
#[tokio::test]
async fn every_flow_crosses_a_real_smtp_exchange() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let inbox = common::smtp::sink(listener);
    let dw = open(Config {
        mail_url: Some(url),
        welcome_mail: false,
        ..config("memory://")
    })
    .await;
    // The next mail to `to` with `subject`, as the server received it; its
    // body is quoted-printable: undo its soft line breaks and `=3D`.
    let received = |to: &'static str, subject: &'static str| {
        let (dw, inbox) = (&dw, inbox.clone());
        async move {
            let find = || {
                let mut inbox = inbox.lock().unwrap();
                let at = inbox.iter().position(|m| {
                    m.to == [to]
                        && m.data
                            .lines()
                            .any(|l| l.trim_end() == format!("Subject: {subject}"))
                })?;
                Some(inbox.remove(at))
            };
            let found = std::cell::RefCell::new(None);
            flush_until(dw, subject, || {
                if found.borrow().is_none() {
                    *found.borrow_mut() = find();
                }
                found.borrow().is_some()
            })
            .await;
            let body = found
                .into_inner()
                .unwrap()
                .data
                .replace("\r\n", "\n")
                .replace("=\n", "")
                .replace("=3D", "=");
            Mailed::parse(&body)
        }
    };
    let reg = dw
        .auth()
        .register_user("ole", "ole@example.com", PASSWORD, None)
        .await
        .unwrap();
    let m = received("ole@example.com", "Confirm your email address").await;
    dw.auth().verify_email(&m.flow_id, &m.secret).await.unwrap();
    dw.auth()
        .request_password_reset("ole@example.com", None)
        .await
        .unwrap();
    let m = received("ole@example.com", "Reset your password").await;
    dw.auth()
        .reset_password(&m.flow_id, &m.code, NEW_PASSWORD)
        .await
        .unwrap();
    dw.auth()
        .login("ole", NEW_PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    dw.auth()
        .request_sign_in("ole@example.com", None)
        .await
        .unwrap();
    let m = received("ole@example.com", "Your sign-in link").await;
    let tokens = dw
        .auth()
        .complete_sign_in(&m.flow_id, &m.secret, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(
        dw.auth()
            .verify_token(&tokens.access_token)
            .await
            .unwrap()
            .user_id,
        reg.user.id
    );
    dw.users()
        .request_email_change(&reg.user.id, "ole@new.example", NEW_PASSWORD)
        .await
        .unwrap();
    let m = received("ole@new.example", "Confirm your new email address").await;
    let user = dw
        .users()
        .confirm_email_change(&m.flow_id, &m.code)
        .await
        .unwrap();
    assert_eq!(user.email, "ole@new.example");
}

#[tokio::test]
async fn a_sign_in_by_email_asks_for_the_second_factor_too() {
    use totp_rs::{Algorithm, Builder, Secret};
    let dw = open(config("memory://")).await;
    let reg = dw
        .auth()
        .register_user("tia", "tia@example.com", PASSWORD, None)
        .await
        .unwrap();
    let enrolment = dw.mfa().start_totp(&reg.user.id).await.unwrap();
    let app = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(
            Secret::try_from_base32(&enrolment.secret)
                .unwrap()
                .as_bytes()
                .to_vec(),
        )
        .build()
        .unwrap();
    let at = |ahead: i64| (chrono::Utc::now().timestamp() + ahead * 30) as u64;
    dw.mfa()
        .confirm_totp(&reg.user.id, &app.generate(at(0)).to_string())
        .await
        .unwrap();
    let started = dw
        .auth()
        .request_sign_in("tia@example.com", None)
        .await
        .unwrap();
    let (_, m) = mail_of(&dw, &started.flow_id).await;
    let challenge = match dw
        .auth()
        .complete_sign_in(&m.flow_id, &m.code, None)
        .await
        .unwrap()
    {
        doorward::LoginResult::MfaRequired(c) => c,
        doorward::LoginResult::Tokens(_) => {
            panic!("the mailbox alone signed in past the second factor")
        }
    };
    let tokens = dw
        .auth()
        .complete_mfa(
            &challenge.flow_id,
            "totp",
            &app.generate(at(1)).to_string(),
            None,
        )
        .await
        .unwrap();
    let me = dw.auth().verify_token(&tokens.access_token).await.unwrap();
    // A mailbox and an authenticator are both things one has: level 1.
    assert_eq!(
        (me.amr, me.aal),
        (vec!["email".to_string(), "otp".into()], 1)
    );
}
