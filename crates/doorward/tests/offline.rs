//! What a device does without a server: verify tokens from a JWKS document,
//! answer `can` from role claims, and keep its session in host storage.

mod common;

use common::SignedIn as _;
use std::sync::{Arc, Mutex};

use common::{ErrCode as _, PASSWORD, keys_dir};
use doorward::device::{DeviceSession, TokenStore};
use doorward::token::TokenVerifier;
use doorward::{Config, Doorward, ErrorCode, Role, TokenPair};

fn key(name: &str) -> String {
    keys_dir().join(name).display().to_string()
}

async fn server(alg: &str, private: &str, public: &str) -> Doorward {
    Doorward::open(Config {
        jwt_secret: None,
        jwt_algorithm: alg.into(),
        jwt_private_key: Some(key(private).into()),
        jwt_public_key: Some(key(public)),
        ..common::config("memory://")
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn tokens_verify_offline_for_every_asymmetric_algorithm() {
    for (alg, private, public) in [
        ("EdDSA", "ed25519.pem", "ed25519.pub.pem"),
        ("RS256", "rsa.pem", "rsa.pub.pem"),
        ("ES256", "ec.pem", "ec.pub.pem"),
    ] {
        let dw = server(alg, private, public).await;
        let reg = dw
            .auth()
            .register_user("ann", "ann@example.com", PASSWORD, None)
            .await
            .unwrap();
        let jwks = dw.auth().jwks().unwrap().to_string();
        let verifier = TokenVerifier::new(&jwks, "doorward", "doorward").unwrap();
        let offline = verifier.verify(&reg.tokens.access_token).unwrap();
        let online = dw
            .auth()
            .verify_token(&reg.tokens.access_token)
            .await
            .unwrap();
        assert_eq!(offline, online, "{alg}");

        // The server's rules, offline too.
        let wrong_audience = TokenVerifier::new(&jwks, "doorward", "elsewhere").unwrap();
        assert_eq!(
            wrong_audience.verify(&reg.tokens.access_token).err_code(),
            ErrorCode::TokenInvalid
        );
        let mut forged = reg.tokens.access_token.clone();
        forged.pop();
        forged.push(if reg.tokens.access_token.ends_with('A') {
            'B'
        } else {
            'A'
        });
        assert_eq!(verifier.verify(&forged).err_code(), ErrorCode::TokenInvalid);
        assert_eq!(
            verifier.verify(&"x".repeat(9000)).err_code(),
            ErrorCode::TokenInvalid
        );
    }
}

#[tokio::test]
async fn keys_rotate_through_a_new_jwks_document() {
    let old = server("EdDSA", "ed25519.pem", "ed25519.pub.pem").await;
    let new = server("EdDSA", "ed25519-other.pem", "ed25519-other.pub.pem").await;
    let token = old
        .auth()
        .register_user("ann", "ann@example.com", PASSWORD, None)
        .await
        .unwrap()
        .tokens
        .access_token;
    let fresh = new
        .auth()
        .register_user("bob", "bob@example.com", PASSWORD, None)
        .await
        .unwrap()
        .tokens
        .access_token;
    let verifier = TokenVerifier::new(
        &old.auth().jwks().unwrap().to_string(),
        "doorward",
        "doorward",
    )
    .unwrap();
    verifier.verify(&token).unwrap();
    assert_eq!(verifier.verify(&fresh).err_code(), ErrorCode::TokenInvalid);
    verifier
        .update_jwks(&new.auth().jwks().unwrap().to_string())
        .unwrap();
    verifier.verify(&fresh).unwrap();
    assert_eq!(verifier.verify(&token).err_code(), ErrorCode::TokenInvalid);
    // A broken document changes nothing.
    assert_eq!(
        verifier.update_jwks("{}").err_code(),
        ErrorCode::ConfigError
    );
    verifier.verify(&fresh).unwrap();
}

#[tokio::test]
async fn documents_without_usable_public_keys_are_refused() {
    let hs256 = common::open("memory://").await;
    let empty = hs256.auth().jwks().unwrap().to_string();
    let err = TokenVerifier::new(&empty, "doorward", "doorward").unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    assert!(err.to_string().contains("shared secret"), "{err}");
    for document in [
        "not json",
        r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"s","alg":"HS256"}]}"#,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"k","alg":"RS256"}]}"#,
    ] {
        assert_eq!(
            TokenVerifier::new(document, "doorward", "doorward").err_code(),
            ErrorCode::ConfigError,
            "{document}"
        );
    }
}

#[tokio::test]
async fn permissions_come_from_role_claims_and_the_role_table() {
    let dw = server("EdDSA", "ed25519.pem", "ed25519.pub.pem").await;
    let reg = dw
        .auth()
        .register_user("ann", "ann@example.com", PASSWORD, None)
        .await
        .unwrap();
    dw.roles().create("editor", &["posts:*"], "").await.unwrap();
    dw.roles().grant(&reg.user.id, "editor").await.unwrap();
    let token = dw.auth().issue_tokens(&reg.user.id, None).await.unwrap();
    let verifier = TokenVerifier::new(
        &dw.auth().jwks().unwrap().to_string(),
        "doorward",
        "doorward",
    )
    .unwrap();
    let principal = verifier.verify(&token.access_token).unwrap();
    assert_eq!(principal.roles, ["editor", "user"]);
    assert!(verifier.can(&principal, "users:read").unwrap());
    // `editor` is not a seeded role: unknown here until the table says so.
    assert!(!verifier.can(&principal, "posts:write").unwrap());
    assert_eq!(
        verifier.require(&principal, "posts:write").err_code(),
        ErrorCode::Forbidden
    );
    let roles: Vec<Role> = dw.roles().list().await.unwrap();
    verifier.set_roles(&roles);
    assert!(verifier.can(&principal, "posts:write").unwrap());
    assert_eq!(
        verifier.can(&principal, "not a permission").err_code(),
        ErrorCode::ValidationError
    );
}

#[derive(Debug, Default)]
struct Vault {
    pair: Mutex<Option<TokenPair>>,
    saves: Mutex<u32>,
}

impl TokenStore for Vault {
    fn load(&self) -> doorward::Result<Option<TokenPair>> {
        Ok(self.pair.lock().unwrap().clone())
    }
    fn save(&self, pair: &TokenPair) -> doorward::Result<()> {
        *self.saves.lock().unwrap() += 1;
        *self.pair.lock().unwrap() = Some(pair.clone());
        Ok(())
    }
    fn clear(&self) -> doorward::Result<()> {
        *self.pair.lock().unwrap() = None;
        Ok(())
    }
}

#[tokio::test]
async fn a_device_session_keeps_its_tokens_in_the_host_store() {
    let dw = common::open("memory://").await;
    let user = dw
        .users()
        .create("ann", "ann@example.com", PASSWORD)
        .await
        .unwrap();
    let vault = Arc::new(Vault::default());
    let session = DeviceSession::new(dw.clone(), vault.clone());
    assert!(session.current().await.unwrap().is_none());
    assert_eq!(
        session
            .login("ann", "wrong password here", None)
            .await
            .signed_in()
            .err_code(),
        ErrorCode::InvalidCredentials
    );
    assert!(vault.pair.lock().unwrap().is_none());

    let principal = session
        .login("ann", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    assert_eq!(principal.user_id, user.id);
    let token = session.access_token().await.unwrap().unwrap();
    assert_eq!(
        dw.auth().verify_token(&token).await.unwrap().user_id,
        user.id
    );

    // Ended elsewhere (an administrator, another device): forgotten here.
    dw.sessions().revoke(&principal.session_id).await.unwrap();
    assert!(session.current().await.unwrap().is_none());
    assert!(vault.pair.lock().unwrap().is_none());

    session
        .login("ann", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    session.logout().await.unwrap();
    assert!(vault.pair.lock().unwrap().is_none());
    assert_eq!(
        dw.auth().verify_token(&token).await.err_code(),
        ErrorCode::TokenRevoked
    );
}

#[tokio::test]
async fn an_expired_device_session_is_forgotten() {
    let dw = Doorward::open(Config {
        refresh_ttl: 1,
        ..common::config("memory://")
    })
    .await
    .unwrap();
    dw.users()
        .create("ann", "ann@example.com", PASSWORD)
        .await
        .unwrap();
    let vault = Arc::new(Vault::default());
    let session = DeviceSession::new(dw, vault.clone());
    session
        .login("ann", PASSWORD, None)
        .await
        .signed_in()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(session.current().await.unwrap().is_none());
    assert!(vault.pair.lock().unwrap().is_none());
}
