//! Passkeys end to end with a software authenticator (webauthn-authenticator-rs'
//! SoftPasskey) on every backend: registration, sign-in, use as a second
//! factor and for step-up, replays refused, management.

mod common;

use common::{ErrCode as _, PASSWORD, backends};
use doorward::{Config, Doorward, ErrorCode, LoginResult};
use serde_json::Value;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

const ORIGIN: &str = "https://app.example.com";

fn config(url: &str) -> Config {
    Config {
        app_url: ORIGIN.into(),
        mfa_encryption_key: Some("an-mfa-key-of-at-least-thirty-two-bytes".into()),
        ..common::config(url)
    }
}

/// A user's authenticator, answering in the browser's JSON.
struct Device(SoftPasskey);

impl Device {
    fn new() -> Device {
        // `true`: it reports user verification, as a PIN or biometric would.
        Device(SoftPasskey::new(true))
    }

    fn create(&mut self, options: Value, origin: &str) -> Value {
        let options = serde_json::from_value(options).unwrap();
        let response = self
            .0
            .do_registration(Url::parse(origin).unwrap(), options)
            .unwrap();
        serde_json::to_value(response).unwrap()
    }

    fn get(&mut self, options: Value, origin: &str) -> Value {
        let options = serde_json::from_value(options).unwrap();
        let response = self
            .0
            .do_authentication(Url::parse(origin).unwrap(), options)
            .unwrap();
        serde_json::to_value(response).unwrap()
    }
}

/// `response` as a client at `origin` would have sent it: a phishing
/// page's answer (an honest client refuses to make one, so it is forged).
fn from_origin(mut response: Value, origin: &str) -> Value {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let field = &mut response["response"]["clientDataJSON"];
    let mut data: Value =
        serde_json::from_slice(&b64.decode(field.as_str().unwrap()).unwrap()).unwrap();
    data["origin"] = origin.into();
    *field = b64.encode(serde_json::to_vec(&data).unwrap()).into();
    response
}

async fn with_passkey(dw: &Doorward, name: &str) -> (String, Device) {
    let id = dw
        .auth()
        .register_user(name, &format!("{name}@example.com"), PASSWORD, None)
        .await
        .unwrap()
        .user
        .id;
    let mut device = Device::new();
    let options = dw.passkeys().start_registration(&id).await.unwrap();
    let response = device.create(options, ORIGIN);
    dw.passkeys()
        .finish_registration(&id, &response, "laptop")
        .await
        .unwrap();
    (id, device)
}

#[tokio::test]
async fn a_passkey_registers_once_and_signs_in_at_level_two() {
    for url in backends().await {
        let dw = Doorward::open(config(&url)).await.unwrap();
        let id = dw
            .auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap()
            .user
            .id;
        let mut device = Device::new();
        let options = dw.passkeys().start_registration(&id).await.unwrap();
        assert_eq!(options["publicKey"]["rp"]["id"], "app.example.com");
        assert_eq!(
            options["publicKey"]["authenticatorSelection"]["residentKey"],
            "preferred"
        );
        let response = device.create(options, ORIGIN);
        // Another account presenting it gets nothing, and leaves the
        // ceremony to its user.
        let other = dw
            .auth()
            .register_user("eve", "eve@example.com", PASSWORD, None)
            .await
            .unwrap()
            .user
            .id;
        assert_eq!(
            dw.passkeys()
                .finish_registration(&other, &response, "stolen")
                .await
                .err_code(),
            ErrorCode::FlowInvalid
        );
        let info = dw
            .passkeys()
            .finish_registration(&id, &response, " laptop ")
            .await
            .unwrap();
        assert_eq!(info.name, "laptop");
        // The ceremony is spent: the same response registers nothing more.
        assert_eq!(
            dw.passkeys()
                .finish_registration(&id, &response, "again")
                .await
                .err_code(),
            ErrorCode::FlowInvalid,
            "{url}"
        );
        // A response for an origin the relying party does not serve.
        let options = dw.passkeys().start_registration(&id).await.unwrap();
        let foreign = from_origin(
            Device::new().create(options, ORIGIN),
            "https://evil.example.net",
        );
        assert_eq!(
            dw.passkeys()
                .finish_registration(&id, &foreign, "evil")
                .await
                .err_code(),
            ErrorCode::ValidationError
        );

        let options = dw
            .passkeys()
            .start_authentication(Some("ann"))
            .await
            .unwrap();
        assert_eq!(
            options["publicKey"]["allowCredentials"][0]["id"],
            Value::from(info.id.clone())
        );
        let assertion = device.get(options, ORIGIN);
        let tokens = dw
            .passkeys()
            .finish_authentication(&assertion, None)
            .await
            .unwrap();
        let me = dw.auth().verify_token(&tokens.access_token).await.unwrap();
        assert_eq!(me.user_id, id);
        assert_eq!(me.aal, 2, "{url}");
        assert!(me.amr.contains(&"user".to_string()) && me.amr.contains(&"mfa".to_string()));
        assert!(me.amr.contains(&"hwk".to_string()) || me.amr.contains(&"swk".to_string()));
        // The same assertion again: its ceremony is used up.
        assert_eq!(
            dw.passkeys()
                .finish_authentication(&assertion, None)
                .await
                .err_code(),
            ErrorCode::FlowInvalid,
            "{url}"
        );
        let listed = dw.passkeys().list(&id).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_at.is_some());
        assert!(listed[0].sign_count >= 1);
        dw.passkeys()
            .rename(&id, &info.id, "work laptop")
            .await
            .unwrap();
        assert_eq!(
            dw.passkeys().list(&id).await.unwrap()[0].name,
            "work laptop"
        );
        assert_eq!(
            dw.passkeys().rename(&id, "nope", "x").await.err_code(),
            ErrorCode::NotFound
        );
    }
}

#[tokio::test]
async fn assertions_for_another_origin_or_account_are_refused() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let (_, mut ann) = with_passkey(&dw, "ann").await;
    let (bob_id, mut bob) = with_passkey(&dw, "bob").await;
    let options = dw
        .passkeys()
        .start_authentication(Some("ann"))
        .await
        .unwrap();
    let phished = from_origin(ann.get(options, ORIGIN), "https://app.example.org");
    assert_eq!(
        dw.passkeys()
            .finish_authentication(&phished, None)
            .await
            .err_code(),
        ErrorCode::InvalidCredentials
    );
    // Ann's passkey is no second factor for Bob.
    let totp = dw.mfa().start_totp(&bob_id).await.unwrap();
    let app = totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_secret(
            totp_rs::Secret::try_from_base32(&totp.secret)
                .unwrap()
                .as_bytes()
                .to_vec(),
        )
        .build()
        .unwrap();
    dw.mfa()
        .confirm_totp(&bob_id, &app.generate_current().to_string())
        .await
        .unwrap();
    let LoginResult::MfaRequired(challenge) = dw.auth().login("bob", PASSWORD, None).await.unwrap()
    else {
        panic!("bob has a second factor");
    };
    assert_eq!(challenge.methods, ["totp", "recovery_code", "passkey"]);
    let options = dw
        .passkeys()
        .start_authentication(Some("ann"))
        .await
        .unwrap();
    let anns = ann.get(options, ORIGIN).to_string();
    assert_eq!(
        dw.auth()
            .complete_mfa(&challenge.flow_id, "passkey", &anns, None)
            .await
            .err_code(),
        ErrorCode::InvalidCredentials
    );
    // Bob's own passkey completes the login.
    let options = dw
        .passkeys()
        .start_authentication(Some("bob"))
        .await
        .unwrap();
    let bobs = bob.get(options, ORIGIN).to_string();
    let tokens = dw
        .auth()
        .complete_mfa(&challenge.flow_id, "passkey", &bobs, None)
        .await
        .unwrap();
    let me = dw.auth().verify_token(&tokens.access_token).await.unwrap();
    assert_eq!(me.aal, 2);
    assert!(me.amr.contains(&"pwd".to_string()) && me.amr.contains(&"user".to_string()));
}

#[tokio::test]
async fn a_passkey_is_a_second_factor_and_a_step_up() {
    for url in backends().await {
        let dw = Doorward::open(Config {
            fresh_auth_max_age: 1,
            ..config(&url)
        })
        .await
        .unwrap();
        let (id, mut device) = with_passkey(&dw, "cat").await;
        // Passkeys alone do not make password logins ask for more.
        let tokens = dw
            .auth()
            .login("cat", PASSWORD, None)
            .await
            .unwrap()
            .tokens()
            .expect("no TOTP: a password login is complete");
        let me = dw.auth().verify_token(&tokens.access_token).await.unwrap();
        assert_eq!(me.aal, 1);
        // Step up with the passkey: level 2, a new session.
        let options = dw
            .passkeys()
            .start_authentication(Some("cat"))
            .await
            .unwrap();
        let proof = device.get(options, ORIGIN).to_string();
        let stepped = dw
            .auth()
            .step_up(&tokens.access_token, "passkey", &proof, None)
            .await
            .unwrap();
        let fresh = dw.auth().verify_token(&stepped.access_token).await.unwrap();
        assert_eq!(fresh.aal, 2, "{url}");
        assert!(fresh.amr.contains(&"pwd".to_string()));
        // Removal needs a fresh authentication.
        let info = dw.passkeys().list(&id).await.unwrap().remove(0);
        tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        assert_eq!(
            dw.passkeys()
                .remove(&stepped.access_token, &info.id)
                .await
                .err_code(),
            ErrorCode::StepUpRequired
        );
        let options = dw
            .passkeys()
            .start_authentication(Some("cat"))
            .await
            .unwrap();
        let proof = device.get(options, ORIGIN).to_string();
        let again = dw
            .auth()
            .step_up(&stepped.access_token, "passkey", &proof, None)
            .await
            .unwrap();
        dw.passkeys()
            .remove(&again.access_token, &info.id)
            .await
            .unwrap();
        assert!(dw.passkeys().list(&id).await.unwrap().is_empty());
        // With its passkey gone, the device cannot sign in.
        let options = dw
            .passkeys()
            .start_authentication(Some("cat"))
            .await
            .unwrap();
        assert!(
            options["publicKey"]["allowCredentials"]
                .as_array()
                .is_none_or(|a| a.is_empty())
        );
    }
}
