//! Second factors end to end on every backend: TOTP enrolment, logins that
//! wait for a second factor, recovery codes, replays refused, step-up and
//! the assurance claims of the tokens.

mod common;

use std::sync::Arc;

use common::{ErrCode as _, PASSWORD, SignedIn as _, backends};
use doorward::{Config, Doorward, ErrorCode, LoginResult, MfaChallenge, Principal, TokenPair};
use totp_rs::{Algorithm, Builder, Secret};

fn config(url: &str) -> Config {
    Config {
        mfa_encryption_key: Some("an-mfa-key-of-at-least-thirty-two-bytes".into()),
        ..common::config(url)
    }
}

/// An authenticator app holding `secret`: the code of the step `ahead`
/// steps from now.
struct App(totp_rs::Totp);

impl App {
    fn new(secret: &str) -> App {
        let bytes = Secret::try_from_base32(secret).unwrap().as_bytes().to_vec();
        App(Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_secret(bytes)
            .build()
            .unwrap())
    }

    fn code(&self, ahead: i64) -> String {
        let now = chrono::Utc::now().timestamp() + ahead * 30;
        self.0.generate(now as u64).to_string()
    }
}

async fn register(dw: &Doorward, name: &str) -> String {
    dw.auth()
        .register_user(name, &format!("{name}@example.com"), PASSWORD, None)
        .await
        .unwrap()
        .user
        .id
}

/// Register `name` with a confirmed authenticator; its app, whose code of
/// this step is spent, and the recovery codes.
async fn enrolled(dw: &Doorward, name: &str) -> (String, App, Vec<String>) {
    let id = register(dw, name).await;
    let enrolment = dw.mfa().start_totp(&id).await.unwrap();
    let app = App::new(&enrolment.secret);
    let codes = dw
        .mfa()
        .confirm_totp(&id, &app.code(0))
        .await
        .unwrap()
        .codes;
    (id, app, codes)
}

async fn challenge(dw: &Doorward, name: &str) -> MfaChallenge {
    match dw.auth().login(name, PASSWORD, None).await.unwrap() {
        LoginResult::MfaRequired(c) => c,
        LoginResult::Tokens(_) => panic!("{name} logged in without a second factor"),
    }
}

async fn principal(dw: &Doorward, tokens: &TokenPair) -> Principal {
    dw.auth().verify_token(&tokens.access_token).await.unwrap()
}

#[tokio::test]
async fn enrolment_then_logins_that_need_the_second_factor() {
    for url in backends().await {
        let dw = Doorward::open(config(&url)).await.unwrap();
        let id = register(&dw, "ann").await;
        // Pending until confirmed: logins are unchanged meanwhile.
        let enrolment = dw.mfa().start_totp(&id).await.unwrap();
        assert!(
            enrolment
                .uri
                .contains(&format!("secret={}", enrolment.secret))
        );
        assert!(
            dw.auth()
                .login("ann", PASSWORD, None)
                .await
                .unwrap()
                .tokens()
                .is_some()
        );
        assert!(!dw.mfa().status(&id).await.unwrap().enabled);
        let app = App::new(&enrolment.secret);
        assert_eq!(
            dw.mfa().confirm_totp(&id, "000000").await.err_code(),
            ErrorCode::InvalidCredentials,
            "{url}"
        );
        let codes = dw.mfa().confirm_totp(&id, &app.code(0)).await.unwrap();
        assert_eq!(codes.codes.len(), 10);
        assert_eq!(format!("{codes:?}"), "RecoveryCodes([10 redacted])");
        let status = dw.mfa().status(&id).await.unwrap();
        assert!(status.enabled && status.totp && status.recovery_codes_left == 10);
        // A second enrolment waits for the first to be removed.
        assert_eq!(
            dw.mfa().start_totp(&id).await.err_code(),
            ErrorCode::ValidationError
        );

        let c = challenge(&dw, "ann").await;
        assert_eq!(c.methods, ["totp", "recovery_code"]);
        assert!(!c.enrolment_required && c.expires_in == 300);
        assert!(!format!("{c:?}").contains(&c.flow_id));
        // The confirming code's step is spent: the same code is a replay.
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "totp", &app.code(0), None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials,
            "{url}"
        );
        // A typo does not spend the flow; the next step's code completes it.
        let tokens = dw
            .auth()
            .complete_mfa(&c.flow_id, "totp", &app.code(1), None)
            .await
            .unwrap();
        let me = principal(&dw, &tokens).await;
        assert_eq!(
            (me.amr.clone(), me.aal),
            (vec!["mfa".into(), "otp".into(), "pwd".into()], 2)
        );
        dw.auth().require_aal(&me, 2).unwrap();
        // The flow is single-use.
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "totp", &app.code(1), None)
                .await
                .err_code(),
            ErrorCode::FlowInvalid
        );
        // Refreshed tokens keep the assurance.
        let refreshed = dw
            .auth()
            .refresh_token(&tokens.refresh_token)
            .await
            .unwrap();
        let again = principal(&dw, &refreshed).await;
        assert_eq!(
            (again.amr, again.aal, again.auth_time),
            (me.amr, 2, me.auth_time)
        );

        // A recovery code works once; typed in capitals with spaces too.
        let c = challenge(&dw, "ann").await;
        let typed = codes.codes[0].to_uppercase().replace('-', " ");
        let tokens = dw
            .auth()
            .complete_mfa(&c.flow_id, "recovery_code", &typed, None)
            .await
            .unwrap();
        assert_eq!(principal(&dw, &tokens).await.aal, 2);
        let c = challenge(&dw, "ann").await;
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "recovery_code", &codes.codes[0], None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        assert_eq!(dw.mfa().status(&id).await.unwrap().recovery_codes_left, 9);
        // A wrong method name or flow is refused without an attempt.
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "sms", "123456", None)
                .await
                .err_code(),
            ErrorCode::ValidationError
        );
        assert_eq!(
            dw.auth()
                .complete_mfa("not-a-flow", "totp", "123456", None)
                .await
                .err_code(),
            ErrorCode::FlowInvalid
        );
        let forged = format!("{}.x", c.flow_id.split('.').next().unwrap());
        assert_eq!(
            dw.auth()
                .complete_mfa(&forged, "totp", &app.code(1), None)
                .await
                .err_code(),
            ErrorCode::FlowInvalid
        );
    }
}

#[tokio::test]
async fn a_pending_login_dies_after_five_wrong_codes_or_a_password_change() {
    for url in backends().await {
        let dw = Doorward::open(Config {
            // Five failures would lock the account out first otherwise.
            lockout_threshold: 0,
            lockout_account_threshold: 0,
            ..config(&url)
        })
        .await
        .unwrap();
        let (id, app, _) = enrolled(&dw, "bob").await;
        let c = challenge(&dw, "bob").await;
        for _ in 0..5 {
            assert_eq!(
                dw.auth()
                    .complete_mfa(&c.flow_id, "totp", "000000", None)
                    .await
                    .err_code(),
                ErrorCode::InvalidCredentials
            );
        }
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "totp", &app.code(1), None)
                .await
                .err_code(),
            ErrorCode::FlowExpired,
            "{url}"
        );
        let c = challenge(&dw, "bob").await;
        dw.users()
            .change_password(&id, PASSWORD, "another horse battery staple", None)
            .await
            .unwrap();
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "totp", &app.code(1), None)
                .await
                .err_code(),
            ErrorCode::FlowInvalid,
            "{url}"
        );
    }
}

#[tokio::test]
async fn wrong_second_factors_lock_the_account_like_wrong_passwords() {
    let dw = Doorward::open(Config {
        lockout_threshold: 3,
        ..config("memory://")
    })
    .await
    .unwrap();
    let (_, app, _) = enrolled(&dw, "cat").await;
    // The right password does not reset the count while the second factor
    // is wrong: three flows, one wrong code each, lock the account.
    for _ in 0..3 {
        let c = challenge(&dw, "cat").await;
        let _ = dw
            .auth()
            .complete_mfa(&c.flow_id, "totp", "000000", None)
            .await;
    }
    let c = dw.auth().login("cat", PASSWORD, None).await;
    assert_eq!(c.err_code(), ErrorCode::AccountLocked);
    drop(app);
}

#[tokio::test]
async fn one_code_completes_one_of_two_racing_logins() {
    for url in backends().await {
        let dw = Arc::new(Doorward::open(config(&url)).await.unwrap());
        let (_, app, _) = enrolled(&dw, "dan").await;
        // One round per backend: the window accepts only the next step.
        {
            let (a, b) = (challenge(&dw, "dan").await, challenge(&dw, "dan").await);
            let code = app.code(1);
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let race = |flow: String| {
                let (dw, code, barrier) = (dw.clone(), code.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    dw.auth().complete_mfa(&flow, "totp", &code, None).await
                })
            };
            let (x, y) = (race(a.flow_id), race(b.flow_id));
            let results = [x.await.unwrap(), y.await.unwrap()];
            let won = results.iter().filter(|r| r.is_ok()).count();
            assert_eq!(won, 1, "{url}: {results:?}");
        }
    }
}

#[tokio::test]
async fn a_role_that_requires_a_second_factor_enrols_during_login() {
    for url in backends().await {
        let dw = Doorward::open(Config {
            mfa_required_for_roles: vec!["admin".into()],
            ..config(&url)
        })
        .await
        .unwrap();
        let id = register(&dw, "eve").await;
        dw.roles().grant(&id, "admin").await.unwrap();
        let c = challenge(&dw, "eve").await;
        assert!(c.enrolment_required);
        assert_eq!(c.methods, ["totp"]);
        // Nothing but enrolment completes it.
        assert_eq!(
            dw.auth()
                .complete_mfa(&c.flow_id, "totp", "123456", None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        let enrolment = dw.mfa().start_totp(&c.user_id).await.unwrap();
        let app = App::new(&enrolment.secret);
        let code = app.code(0);
        dw.mfa().confirm_totp(&c.user_id, &code).await.unwrap();
        // The code that enrolled completes the login, once.
        let tokens = dw
            .auth()
            .complete_mfa(&c.flow_id, "totp", &code, None)
            .await
            .unwrap();
        assert_eq!(principal(&dw, &tokens).await.aal, 2, "{url}");
        let later = challenge(&dw, "eve").await;
        assert!(!later.enrolment_required);
        assert_eq!(
            dw.auth()
                .complete_mfa(&later.flow_id, "totp", &code, None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials,
            "{url}"
        );
    }
}

#[tokio::test]
async fn step_up_raises_the_level_and_freshness_guards_factor_changes() {
    for url in backends().await {
        let dw = Doorward::open(Config {
            fresh_auth_max_age: 1,
            ..config(&url)
        })
        .await
        .unwrap();
        // Without a second factor a password login is level 1.
        let id = register(&dw, "fay").await;
        let tokens = dw
            .auth()
            .login("fay", PASSWORD, None)
            .await
            .signed_in()
            .unwrap();
        let me = principal(&dw, &tokens).await;
        assert_eq!((me.amr.clone(), me.aal), (vec!["pwd".to_string()], 1));
        assert_eq!(
            dw.auth().require_aal(&me, 2).err_code(),
            ErrorCode::StepUpRequired
        );

        // Enrolled after login, a step-up with a code reaches level 2 in a
        // new session, and the old one ends.
        let enrolment = dw.mfa().start_totp(&id).await.unwrap();
        let app = App::new(&enrolment.secret);
        dw.mfa().confirm_totp(&id, &app.code(0)).await.unwrap();
        assert_eq!(
            dw.auth()
                .step_up(&tokens.access_token, "totp", &app.code(0), None)
                .await
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        let stepped = dw
            .auth()
            .step_up(&tokens.access_token, "totp", &app.code(1), None)
            .await
            .unwrap();
        let fresh = principal(&dw, &stepped).await;
        assert_eq!(
            (fresh.aal, fresh.amr.clone()),
            (2, vec!["mfa".into(), "otp".into(), "pwd".into()])
        );
        assert_ne!(fresh.session_id, me.session_id);
        assert_eq!(
            dw.auth()
                .verify_token(&tokens.access_token)
                .await
                .err_code(),
            ErrorCode::TokenRevoked,
            "{url}"
        );

        // Removing the factor needs a fresh authentication.
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        let stale = principal(&dw, &stepped).await;
        assert_eq!(
            dw.auth().require_recent_auth(&stale, 1).err_code(),
            ErrorCode::StepUpRequired
        );
        assert_eq!(
            dw.mfa()
                .disable_totp(&stepped.access_token)
                .await
                .err_code(),
            ErrorCode::StepUpRequired
        );
        assert_eq!(
            dw.mfa()
                .regenerate_recovery_codes(&stepped.access_token)
                .await
                .err_code(),
            ErrorCode::StepUpRequired
        );
        assert_eq!(
            dw.auth()
                .step_up(
                    &stepped.access_token,
                    "password",
                    "wrong password here",
                    None
                )
                .await
                .err_code(),
            ErrorCode::InvalidCredentials
        );
        let again = dw
            .auth()
            .step_up(&stepped.access_token, "password", PASSWORD, None)
            .await
            .unwrap();
        let new_codes = dw
            .mfa()
            .regenerate_recovery_codes(&again.access_token)
            .await
            .unwrap();
        assert_eq!(new_codes.codes.len(), 10);
        dw.mfa().disable_totp(&again.access_token).await.unwrap();
        assert!(!dw.mfa().status(&id).await.unwrap().enabled);
        assert!(
            dw.auth()
                .login("fay", PASSWORD, None)
                .await
                .unwrap()
                .tokens()
                .is_some()
        );
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn secrets_stay_sealed_and_out_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mfa.db").display());
    let dw = Doorward::open(config(&url)).await.unwrap();
    let id = register(&dw, "gus").await;
    let enrolment = dw.mfa().start_totp(&id).await.unwrap();
    let app = App::new(&enrolment.secret);
    let codes = dw.mfa().confirm_totp(&id, &app.code(0)).await.unwrap();
    let c = challenge(&dw, "gus").await;
    dw.auth()
        .complete_mfa(&c.flow_id, "recovery_code", &codes.codes[1], None)
        .await
        .unwrap();
    dw.events().flush().await.unwrap();
    let events = dw.events().list(None, 500).await.unwrap().items;
    let types: Vec<String> = events.iter().map(|e| e.event_type.to_string()).collect();
    for expected in [
        "MfaEnrolled",
        "MfaChallenged",
        "RecoveryCodeUsed",
        "LoginSucceeded",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    let text =
        serde_json::to_string(&events.iter().map(|e| &e.payload).collect::<Vec<_>>()).unwrap();
    let secret = c.flow_id.split('.').nth(1).unwrap();
    for leaked in [enrolment.secret.as_str(), codes.codes[1].as_str(), secret] {
        assert!(!text.contains(leaked));
    }
    drop(dw);
    let bytes = std::fs::read(dir.path().join("mfa.db")).unwrap();
    let file = String::from_utf8_lossy(&bytes);
    for leaked in [enrolment.secret.as_str(), codes.codes[2].as_str(), secret] {
        assert!(
            !file.contains(leaked),
            "the database file holds a secret in the clear"
        );
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn another_key_cannot_read_the_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    let dw = Doorward::open(config(&url)).await.unwrap();
    let (_, app, _) = enrolled(&dw, "hal").await;
    drop(dw);
    let other = Doorward::open(Config {
        mfa_encryption_key: Some("a-different-mfa-key-of-32-bytes-or-more".into()),
        ..config(&url)
    })
    .await
    .unwrap();
    let c = challenge(&other, "hal").await;
    assert_eq!(
        other
            .auth()
            .complete_mfa(&c.flow_id, "totp", &app.code(1), None)
            .await
            .err_code(),
        ErrorCode::ConfigError
    );
}
