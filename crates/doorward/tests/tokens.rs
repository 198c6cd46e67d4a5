//! Access tokens: every algorithm really signs and verifies, keys rotate,
//! JWKS exports what others need, and hostile tokens are refused.

mod common;

use base64::Engine as _;
use common::{ErrCode as _, PASSWORD, SECRET, config, keys_dir};
use doorward::config::VerificationKeyConfig;
use doorward::{Config, Doorward, ErrorCode};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

fn key(name: &str) -> String {
    keys_dir().join(name).display().to_string()
}

fn asymmetric(alg: &str, private: &str, public: &str) -> Config {
    Config {
        jwt_secret: None,
        jwt_algorithm: alg.into(),
        jwt_private_key: Some(key(private).into()),
        jwt_public_key: Some(key(public)),
        ..config("memory://")
    }
}

async fn issued(dw: &Doorward) -> (String, Value) {
    let reg = dw
        .auth()
        .register_user("tess", "tess@example.com", PASSWORD, None)
        .await
        .unwrap();
    let token = reg.tokens.access_token;
    let claims = doorward::token::inspect(&token).unwrap().1;
    (token, claims)
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A token with any header and claims, HS256-signed with `secret`.
fn forge(header: &Value, claims: &Value, secret: &[u8]) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let sig = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{message}.{sig}")
}

fn header(dw_kid: &str) -> Value {
    json!({"alg": "HS256", "typ": "at+jwt", "kid": dw_kid})
}

#[tokio::test]
async fn every_algorithm_signs_and_verifies() {
    let configs = [
        ("HS256", config("memory://")),
        (
            "EdDSA",
            asymmetric("EdDSA", "ed25519.pem", "ed25519.pub.pem"),
        ),
        ("RS256", asymmetric("RS256", "rsa.pem", "rsa.pub.pem")),
        ("ES256", asymmetric("ES256", "ec.pem", "ec.pub.pem")),
    ];
    for (alg, c) in configs {
        let dw = Doorward::open(c).await.unwrap();
        let (token, _) = issued(&dw).await;
        let (head, claims) = doorward::token::inspect(&token).unwrap();
        assert_eq!(head["alg"], alg);
        assert_eq!(head["typ"], "at+jwt");
        assert!(head["kid"].is_string());
        for claim in [
            "sub", "sid", "iat", "nbf", "exp", "iss", "aud", "jti", "roles",
        ] {
            assert!(!claims[claim].is_null(), "{alg}: missing {claim}");
        }
        assert_eq!(
            dw.auth().verify_token(&token).await.unwrap().username,
            "tess"
        );
    }
}

#[tokio::test]
async fn jwks_verifies_tokens_elsewhere_and_never_holds_a_secret() {
    for (alg, private, public) in [
        ("EdDSA", "ed25519.pem", "ed25519.pub.pem"),
        ("RS256", "rsa.pem", "rsa.pub.pem"),
        ("ES256", "ec.pem", "ec.pub.pem"),
    ] {
        let dw = Doorward::open(asymmetric(alg, private, public))
            .await
            .unwrap();
        let (token, _) = issued(&dw).await;
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(dw.auth().jwks().unwrap()).unwrap();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let jwk = jwks.find(&kid).expect("the signing key is published");
        let mut validation = Validation::new(jsonwebtoken::decode_header(&token).unwrap().alg);
        validation.set_audience(&["doorward"]);
        validation.set_issuer(&["doorward"]);
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(data.claims["preferred_username"], "tess");
    }
    let hs = Doorward::open(config("memory://")).await.unwrap();
    assert_eq!(hs.auth().jwks().unwrap(), json!({"keys": []}));
    assert!(!hs.auth().jwks().unwrap().to_string().contains(SECRET));
}

#[tokio::test]
async fn previous_keys_keep_verifying_after_rotation() {
    let old = Doorward::open(asymmetric("EdDSA", "ed25519.pem", "ed25519.pub.pem"))
        .await
        .unwrap();
    let (old_token, _) = issued(&old).await;
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();
    drop(old);

    // The same memory store is gone, so verify statelessly: this test is about keys.
    let rotated = Config {
        stateless_verify: true,
        jwt_previous_keys: vec![VerificationKeyConfig {
            kid: old_kid.clone(),
            algorithm: "EdDSA".into(),
            secret: None,
            public_key: Some(key("ed25519.pub.pem")),
        }],
        ..asymmetric("EdDSA", "ed25519-other.pem", "ed25519-other.pub.pem")
    };
    let dw = Doorward::open(rotated).await.unwrap();
    assert_eq!(
        dw.auth().verify_token(&old_token).await.unwrap().username,
        "tess"
    );
    let jwks = dw.auth().jwks().unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let (new_token, _) = issued(&dw).await;
    assert_ne!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .unwrap(),
        old_kid
    );

    // Without the previous key, old tokens are refused.
    let mut forgetful = asymmetric("EdDSA", "ed25519-other.pem", "ed25519-other.pub.pem");
    forgetful.stateless_verify = true;
    let dw = Doorward::open(forgetful).await.unwrap();
    assert_eq!(
        dw.auth().verify_token(&old_token).await.err_code(),
        ErrorCode::TokenInvalid
    );
}

#[tokio::test]
async fn mismatched_key_pairs_fail_at_open() {
    let err = Doorward::open(asymmetric("EdDSA", "ed25519.pem", "ed25519-other.pub.pem"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
    let err = Doorward::open(asymmetric("RS256", "ec.pem", "ec.pub.pem"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ConfigError);
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    let dw = Doorward::open(config("memory://")).await.unwrap();
    let (good, claims) = issued(&dw).await;
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    let now = chrono::Utc::now().timestamp();
    let with = |changes: Value| {
        let mut c = claims.clone();
        for (k, v) in changes.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let secret = SECRET.as_bytes();
    let invalid = ErrorCode::TokenInvalid;
    let cases: Vec<(&str, String, ErrorCode)> = vec![
        (
            "signed with another key",
            forge(
                &header(&kid),
                &claims,
                b"another-secret-that-is-32-bytes-long!!",
            ),
            invalid,
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
                b64(&claims)
            ),
            invalid,
        ),
        (
            "alg none, no kid",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "at+jwt"})),
                b64(&claims)
            ),
            invalid,
        ),
        (
            "expired",
            forge(
                &header(&kid),
                &with(json!({"exp": now - 3600, "iat": now - 7200, "nbf": now - 7200})),
                secret,
            ),
            ErrorCode::TokenExpired,
        ),
        (
            "wrong audience",
            forge(&header(&kid), &with(json!({"aud": "someone-else"})), secret),
            invalid,
        ),
        (
            "wrong issuer",
            forge(&header(&kid), &with(json!({"iss": "evil"})), secret),
            invalid,
        ),
        (
            "not yet valid",
            forge(&header(&kid), &with(json!({"nbf": now + 3600})), secret),
            invalid,
        ),
        (
            "issued in the future",
            forge(&header(&kid), &with(json!({"iat": now + 3600})), secret),
            invalid,
        ),
        (
            "exp as a string",
            forge(
                &header(&kid),
                &with(json!({"exp": (now + 600).to_string()})),
                secret,
            ),
            invalid,
        ),
        (
            "no exp",
            forge(
                &header(&kid),
                &{
                    let mut c = claims.clone();
                    c.as_object_mut().unwrap().remove("exp");
                    c
                },
                secret,
            ),
            invalid,
        ),
        (
            "jku header",
            forge(
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid, "jku": "https://evil/jwks"}),
                &claims,
                secret,
            ),
            invalid,
        ),
        (
            "crit header",
            forge(
                &json!({"alg": "HS256", "typ": "at+jwt", "kid": kid, "crit": ["exp"]}),
                &claims,
                secret,
            ),
            invalid,
        ),
        (
            "typ JWT",
            forge(
                &json!({"alg": "HS256", "typ": "JWT", "kid": kid}),
                &claims,
                secret,
            ),
            invalid,
        ),
        (
            "unknown kid",
            forge(&header("someone-elses-key"), &claims, secret),
            invalid,
        ),
        (
            "alg swapped to HS384",
            {
                let h = json!({"alg": "HS384", "typ": "at+jwt", "kid": kid});
                let m = format!("{}.{}", b64(&h), b64(&claims));
                let sig = jsonwebtoken::crypto::sign(
                    m.as_bytes(),
                    &EncodingKey::from_secret(secret),
                    Algorithm::HS384,
                )
                .unwrap();
                format!("{m}.{sig}")
            },
            invalid,
        ),
        (
            "oversized",
            format!("{}.{}.sig", b64(&header(&kid)), "A".repeat(9000)),
            invalid,
        ),
        ("empty", String::new(), invalid),
        ("garbage", "not.a.jwt".into(), invalid),
        ("two parts", "abc.def".into(), invalid),
        ("NUL bytes", "eyJ\0.x.y".into(), invalid),
        (
            "refresh token as access token",
            "dwr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            invalid,
        ),
    ];
    for (what, token, code) in cases {
        let err = dw.auth().verify_token(&token).await.unwrap_err();
        assert_eq!(err.code(), code, "{what}: {err}");
    }
    // The forging helper itself is sound: with the right secret and claims it verifies.
    dw.auth()
        .verify_token(&forge(&header(&kid), &claims, secret))
        .await
        .unwrap();
}

#[tokio::test]
async fn algorithm_confusion_with_the_public_key_is_refused() {
    let dw = Doorward::open(asymmetric("RS256", "rsa.pem", "rsa.pub.pem"))
        .await
        .unwrap();
    let (good, claims) = issued(&dw).await;
    let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
    // The classic attack: HS256 keyed with the (public) RSA key PEM.
    let public_pem = std::fs::read(key("rsa.pub.pem")).unwrap();
    let forged = forge(&header(&kid), &claims, &public_pem);
    let err = dw.auth().verify_token(&forged).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::TokenInvalid);
    // And a token from another RSA key under our kid.
    let other = Header {
        kid: Some(kid),
        typ: Some("at+jwt".into()),
        ..Header::new(Algorithm::RS256)
    };
    let rsa = jsonwebtoken::encode(
        &other,
        &claims,
        &EncodingKey::from_ed_pem(&std::fs::read(key("ed25519.pem")).unwrap()).unwrap(),
    );
    assert!(rsa.is_err(), "an Ed key cannot sign RS256");
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn refresh_tokens_are_opaque_and_stored_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hashed.db").display());
    let dw = common::open(&url).await;
    let reg = dw
        .auth()
        .register_user("uma", "uma@example.com", PASSWORD, None)
        .await
        .unwrap();
    let rt = &reg.tokens.refresh_token;
    assert!(rt.starts_with("dwr_"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&rt[4..])
        .unwrap();
    assert_eq!(raw.len(), 32, "256 random bits");
    drop(dw);
    let bytes = std::fs::read(dir.path().join("hashed.db")).unwrap();
    let wal = std::fs::read(dir.path().join("hashed.db-wal")).unwrap_or_default();
    for file in [&bytes, &wal] {
        assert!(
            !file.windows(rt.len()).any(|w| w == rt.as_bytes()),
            "refresh token stored in the clear"
        );
        assert!(
            !file
                .windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes()),
            "password stored in the clear"
        );
    }
}

/// Every algorithm's configuration, with the key that signs for it, so a
/// test can sign any bytes as header and payload exactly as the server
/// would: what it checks then is the parsing, not the signature.
fn signers() -> Vec<(Algorithm, Config, EncodingKey)> {
    let pem = |name: &str| std::fs::read(key(name)).unwrap();
    vec![
        (
            Algorithm::HS256,
            config("memory://"),
            EncodingKey::from_secret(SECRET.as_bytes()),
        ),
        (
            Algorithm::EdDSA,
            asymmetric("EdDSA", "ed25519.pem", "ed25519.pub.pem"),
            EncodingKey::from_ed_pem(&pem("ed25519.pem")).unwrap(),
        ),
        (
            Algorithm::RS256,
            asymmetric("RS256", "rsa.pem", "rsa.pub.pem"),
            EncodingKey::from_rsa_pem(&pem("rsa.pem")).unwrap(),
        ),
        (
            Algorithm::ES256,
            asymmetric("ES256", "ec.pem", "ec.pub.pem"),
            EncodingKey::from_ec_pem(&pem("ec.pem")).unwrap(),
        ),
    ]
}

/// `header.payload.signature` over raw bytes (which need not be UTF-8).
fn sign_raw(alg: Algorithm, key: &EncodingKey, header: &[u8], payload: &[u8]) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let message = format!("{}.{}", b64(header), b64(payload));
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{sig}")
}

/// The JSON text of `value` with one more string member in front, whose
/// value is `raw` as it stands (bytes that may not be UTF-8).
fn with_raw_member(value: &Value, name: &str, raw: &[u8]) -> Vec<u8> {
    let text = value.to_string();
    let mut bytes = format!("{{\"{name}\":\"").into_bytes();
    bytes.extend_from_slice(raw);
    bytes.extend_from_slice(b"\",");
    bytes.extend_from_slice(&text.as_bytes()[1..]);
    bytes
}

/// RFC 7519 §7.2: the claims set must be UTF-8 JSON as a whole, so a
/// signed token with invalid UTF-8 in a claim doorward never reads is
/// refused too (a JSON parser skipping unknown members does not look at
/// their bytes), on the server and offline.
#[tokio::test]
async fn claims_or_headers_that_are_not_utf8_are_refused_with_every_algorithm() {
    let invalid: [(&str, &[u8]); 4] = [
        ("a 0xFF byte", b"\xFF"),
        ("an overlong '/'", b"\xC0\xAF"),
        ("an encoded surrogate", b"\xED\xA0\x80"),
        ("a truncated sequence", b"\xE2\x82"),
    ];
    for (alg, config, signing) in signers() {
        let dw = Doorward::open(config).await.unwrap();
        let (good, claims) = issued(&dw).await;
        let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
        let header = json!({"alg": format!("{alg:?}"), "typ": "at+jwt", "kid": kid});
        let offline = (alg != Algorithm::HS256).then(|| {
            let jwks = dw.auth().jwks().unwrap().to_string();
            doorward::token::TokenVerifier::new(&jwks, "doorward", "doorward").unwrap()
        });
        let sign = |header: &[u8], payload: &[u8]| sign_raw(alg, &signing, header, payload);

        // The helper is sound: an unknown claim that is valid UTF-8 passes.
        let fine = sign(
            header.to_string().as_bytes(),
            &with_raw_member(&claims, "note", "café".as_bytes()),
        );
        dw.auth().verify_token(&fine).await.unwrap();
        if let Some(verifier) = &offline {
            verifier.verify(&fine).unwrap();
        }

        for (what, raw) in invalid {
            let tokens = [
                (
                    "claims",
                    sign(
                        header.to_string().as_bytes(),
                        &with_raw_member(&claims, "note", raw),
                    ),
                ),
                (
                    "header",
                    sign(
                        &with_raw_member(&header, "typ", raw),
                        claims.to_string().as_bytes(),
                    ),
                ),
            ];
            for (part, token) in tokens {
                assert_eq!(
                    dw.auth().verify_token(&token).await.err_code(),
                    ErrorCode::TokenInvalid,
                    "{alg:?}: {what} in the {part}"
                );
                if let Some(verifier) = &offline {
                    assert_eq!(
                        verifier.verify(&token).err_code(),
                        ErrorCode::TokenInvalid,
                        "{alg:?} offline: {what} in the {part}"
                    );
                }
            }
        }
    }
}

/// RFC 7515 §4.1.9: a `typ` without a `/` means `application/` + it, and
/// media types compare case-insensitively, so `application/at+jwt` (which
/// RFC 9068 also uses) is the same type as `at+jwt`; nothing else is.
#[tokio::test]
async fn typ_takes_both_spellings_of_the_access_token_type_and_nothing_else() {
    let accepted = [
        "at+jwt",
        "AT+JWT",
        "At+Jwt",
        "application/at+jwt",
        "Application/At+Jwt",
        "APPLICATION/AT+JWT",
    ];
    let refused = [
        json!("jwt"),
        json!("JWT"),
        json!("application/jwt"),
        json!("at+jwt; x=1"),
        json!("application/at+jwt; x=1"),
        json!(" at+jwt"),
        json!("at+jwt "),
        json!("application/"),
        json!("text/at+jwt"),
        json!("application/application/at+jwt"),
        json!("application\\at+jwt"),
        json!(""),
        json!(null),
        json!(["at+jwt"]),
    ];
    for (alg, config, signing) in signers() {
        let dw = Doorward::open(config).await.unwrap();
        let (good, claims) = issued(&dw).await;
        let kid = jsonwebtoken::decode_header(&good).unwrap().kid.unwrap();
        let offline = (alg != Algorithm::HS256).then(|| {
            let jwks = dw.auth().jwks().unwrap().to_string();
            doorward::token::TokenVerifier::new(&jwks, "doorward", "doorward").unwrap()
        });
        let with_typ = |typ: &Value| {
            let header = json!({"alg": format!("{alg:?}"), "typ": typ, "kid": kid});
            sign_raw(
                alg,
                &signing,
                header.to_string().as_bytes(),
                claims.to_string().as_bytes(),
            )
        };
        for typ in accepted {
            let token = with_typ(&json!(typ));
            let principal = dw.auth().verify_token(&token).await;
            assert!(principal.is_ok(), "{alg:?}: typ {typ:?}: {principal:?}");
            if let Some(verifier) = &offline {
                let principal = verifier.verify(&token);
                assert!(principal.is_ok(), "{alg:?} offline: typ {typ:?}");
            }
        }
        for typ in &refused {
            let token = with_typ(typ);
            assert_eq!(
                dw.auth().verify_token(&token).await.err_code(),
                ErrorCode::TokenInvalid,
                "{alg:?}: typ {typ}"
            );
            if let Some(verifier) = &offline {
                assert_eq!(
                    verifier.verify(&token).err_code(),
                    ErrorCode::TokenInvalid,
                    "{alg:?} offline: typ {typ}"
                );
            }
        }
        // What doorward writes is unchanged.
        assert_eq!(doorward::token::inspect(&good).unwrap().0["typ"], "at+jwt");
    }
}
