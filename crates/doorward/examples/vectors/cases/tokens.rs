//! Access tokens, valid and hostile, against a stateless verifier (no
//! session lookup, so the verdict is the token's alone). Valid tokens
//! expire in 2100 and hostile times are decades away from now, so the
//! corpus holds whatever the date it runs on.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::{open, verdict, write};

const SECRET: &str = "vectors-hs256-secret-of-at-least-32-bytes";
const ISSUER: &str = "https://id.example.com";
const AUDIENCE: &str = "api";
const FAR_PAST: i64 = 978_307_200; // 2001-01-01
const ISSUED: i64 = 1_700_000_000; // 2023-11-14
const FAR_FUTURE: i64 = 4_102_444_800; // 2100-01-01
const LATER: i64 = 4_070_908_800; // 2099-01-01

fn key_pem(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/keys/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap()
}

fn configs() -> Value {
    json!({
        "hs256": {
            "jwt_algorithm": "HS256",
            "jwt_secret": SECRET,
            "jwt_key_id": "hs1",
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "stateless_verify": true,
        },
        "eddsa": {
            "jwt_algorithm": "EdDSA",
            "jwt_private_key": key_pem("ed25519.pem"),
            "jwt_public_key": key_pem("ed25519.pub.pem"),
            "jwt_key_id": "ed1",
            "jwt_issuer": ISSUER,
            "jwt_audience": AUDIENCE,
            "stateless_verify": true,
        },
    })
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

fn claims() -> Value {
    json!({
        "sub": "user-1",
        "sid": "session-1",
        "preferred_username": "ann",
        "roles": ["editor"],
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": ISSUED,
        "nbf": ISSUED,
        "exp": FAR_FUTURE,
        "jti": "jti-1",
        "amr": ["pwd"],
        "acr": "aal1",
        "auth_time": ISSUED,
    })
}

/// `header.claims.signature` over the exact texts given, so duplicate keys
/// and odd spacing survive.
fn signed_text(header: &str, claims: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

fn hs_key() -> EncodingKey {
    EncodingKey::from_secret(SECRET.as_bytes())
}

fn ed_key(file: &str) -> EncodingKey {
    EncodingKey::from_ed_pem(key_pem(file).as_bytes()).unwrap()
}

fn hs(header: &Value, claims: &Value) -> String {
    signed_text(
        &header.to_string(),
        &claims.to_string(),
        &hs_key(),
        Algorithm::HS256,
    )
}

fn ed(header: &Value, claims: &Value) -> String {
    signed_text(
        &header.to_string(),
        &claims.to_string(),
        &ed_key("ed25519.pem"),
        Algorithm::EdDSA,
    )
}

fn with(mut value: Value, key: &str, v: Value) -> Value {
    value[key] = v;
    value
}

fn without(mut value: Value, key: &str) -> Value {
    value.as_object_mut().unwrap().remove(key);
    value
}

/// Replace the signature part.
fn resigned(token: &str, signature: &str) -> String {
    let (message, _) = token.rsplit_once('.').unwrap();
    format!("{message}.{signature}")
}

struct Case {
    name: &'static str,
    config: &'static str,
    token: String,
    /// What the case must give; the generation stops if it does not.
    expect: &'static str,
}

fn cases() -> Vec<Case> {
    let h = header("HS256", "hs1");
    let c = claims();
    let valid = hs(&h, &c);
    let e = header("EdDSA", "ed1");
    let valid_ed = ed(&e, &c);
    let b64 = |text: &str| B64.encode(text);
    let payload = B64.encode(c.to_string());
    let case = |name, config, token: String, expect| Case {
        name,
        config,
        token,
        expect,
    };
    let mut out = vec![
        case("hs256_valid", "hs256", valid.clone(), "ok"),
        case(
            "hs256_typ_full_media_type",
            "hs256",
            hs(&with(h.clone(), "typ", json!("application/at+jwt")), &c),
            "ok",
        ),
        case(
            "hs256_typ_upper_case",
            "hs256",
            hs(&with(h.clone(), "typ", json!("AT+JWT")), &c),
            "ok",
        ),
        case(
            "hs256_without_optional_claims",
            "hs256",
            hs(
                &h,
                &without(without(without(c.clone(), "amr"), "acr"), "auth_time"),
            ),
            "ok",
        ),
        case("eddsa_valid", "eddsa", valid_ed.clone(), "ok"),
        // The algorithm.
        case(
            "alg_none_unsigned",
            "hs256",
            format!(
                "{}.{payload}.",
                b64(r#"{"alg":"none","typ":"at+jwt","kid":"hs1"}"#)
            ),
            "token_invalid",
        ),
        case(
            "alg_none_with_signature",
            "hs256",
            resigned(
                &format!(
                    "{}.{payload}.x",
                    b64(r#"{"alg":"none","typ":"at+jwt","kid":"hs1"}"#)
                ),
                valid.rsplit_once('.').unwrap().1,
            ),
            "token_invalid",
        ),
        case(
            "alg_hs512_same_secret",
            "hs256",
            signed_text(
                &header("HS512", "hs1").to_string(),
                &c.to_string(),
                &hs_key(),
                Algorithm::HS512,
            ),
            "token_invalid",
        ),
        case(
            "alg_lower_case",
            "hs256",
            resigned(
                &hs(&with(h.clone(), "alg", json!("hs256")), &c),
                valid.rsplit_once('.').unwrap().1,
            ),
            "token_invalid",
        ),
        case(
            "alg_confusion_hmac_with_the_public_key",
            "eddsa",
            signed_text(
                &header("HS256", "ed1").to_string(),
                &c.to_string(),
                &EncodingKey::from_secret(key_pem("ed25519.pub.pem").as_bytes()),
                Algorithm::HS256,
            ),
            "token_invalid",
        ),
        case(
            "alg_es256_header_on_an_ed25519_signature",
            "eddsa",
            resigned(
                &ed(&with(e.clone(), "alg", json!("ES256")), &c),
                valid_ed.rsplit_once('.').unwrap().1,
            ),
            "token_invalid",
        ),
        case(
            "alg_missing",
            "hs256",
            hs(&without(h.clone(), "alg"), &c),
            "token_invalid",
        ),
        // The type.
        case(
            "typ_missing",
            "hs256",
            hs(&without(h.clone(), "typ"), &c),
            "token_invalid",
        ),
        case(
            "typ_jwt",
            "hs256",
            hs(&with(h.clone(), "typ", json!("JWT")), &c),
            "token_invalid",
        ),
        case(
            "typ_with_parameters",
            "hs256",
            hs(&with(h.clone(), "typ", json!("at+jwt; x=1")), &c),
            "token_invalid",
        ),
        case(
            "typ_not_a_string",
            "hs256",
            hs(&with(h.clone(), "typ", json!(1)), &c),
            "token_invalid",
        ),
        // Header parameters doorward never issues.
        case(
            "crit",
            "hs256",
            hs(&with(h.clone(), "crit", json!(["exp"])), &c),
            "token_invalid",
        ),
        case(
            "jku",
            "hs256",
            hs(
                &with(
                    h.clone(),
                    "jku",
                    json!("https://attacker.example/jwks.json"),
                ),
                &c,
            ),
            "token_invalid",
        ),
        case(
            "jwk_embedded",
            "hs256",
            hs(
                &with(h.clone(), "jwk", json!({"kty": "oct", "k": b64(SECRET)})),
                &c,
            ),
            "token_invalid",
        ),
        case(
            "x5u",
            "hs256",
            hs(
                &with(h.clone(), "x5u", json!("https://attacker.example/cert.pem")),
                &c,
            ),
            "token_invalid",
        ),
        case(
            "x5c",
            "hs256",
            hs(&with(h.clone(), "x5c", json!(["MIIB"])), &c),
            "token_invalid",
        ),
        case(
            "cty",
            "hs256",
            hs(&with(h.clone(), "cty", json!("JWT")), &c),
            "token_invalid",
        ),
        // The key id.
        case(
            "kid_missing",
            "hs256",
            hs(&without(h.clone(), "kid"), &c),
            "token_invalid",
        ),
        case(
            "kid_unknown",
            "hs256",
            hs(&with(h.clone(), "kid", json!("hs2")), &c),
            "token_invalid",
        ),
        case(
            "kid_not_a_string",
            "hs256",
            hs(&with(h.clone(), "kid", json!(1)), &c),
            "token_invalid",
        ),
        case(
            "kid_path_traversal",
            "hs256",
            hs(&with(h.clone(), "kid", json!("../../../../etc/passwd")), &c),
            "token_invalid",
        ),
        case(
            "kid_sql",
            "hs256",
            hs(&with(h.clone(), "kid", json!("' OR '1'='1")), &c),
            "token_invalid",
        ),
        case(
            "eddsa_token_to_an_hs256_verifier",
            "hs256",
            valid_ed.clone(),
            "token_invalid",
        ),
        case(
            "hs256_token_to_an_eddsa_verifier",
            "eddsa",
            valid.clone(),
            "token_invalid",
        ),
        // Times.
        case(
            "expired",
            "hs256",
            hs(&h, &with(c.clone(), "exp", json!(FAR_PAST))),
            "token_expired",
        ),
        case(
            "not_yet_valid",
            "hs256",
            hs(&h, &with(c.clone(), "nbf", json!(LATER))),
            "token_invalid",
        ),
        case(
            "issued_in_the_future",
            "hs256",
            hs(&h, &with(c.clone(), "iat", json!(LATER))),
            "token_invalid",
        ),
        case(
            "exp_missing",
            "hs256",
            hs(&h, &without(c.clone(), "exp")),
            "token_invalid",
        ),
        case(
            "nbf_missing",
            "hs256",
            hs(&h, &without(c.clone(), "nbf")),
            "token_invalid",
        ),
        case(
            "exp_as_text",
            "hs256",
            hs(&h, &with(c.clone(), "exp", json!("4102444800"))),
            "token_invalid",
        ),
        case(
            "exp_fractional",
            "hs256",
            hs(&h, &with(c.clone(), "exp", json!(4102444800.5))),
            "token_invalid",
        ),
        case(
            "exp_huge",
            "hs256",
            hs(&h, &with(c.clone(), "exp", json!(1e300))),
            "token_invalid",
        ),
        // Issuer, audience, subject.
        case(
            "wrong_issuer",
            "hs256",
            hs(
                &h,
                &with(c.clone(), "iss", json!("https://evil.example.com")),
            ),
            "token_invalid",
        ),
        case(
            "wrong_audience",
            "hs256",
            hs(&h, &with(c.clone(), "aud", json!("other-api"))),
            "token_invalid",
        ),
        case(
            "audience_as_list",
            "hs256",
            hs(&h, &with(c.clone(), "aud", json!([AUDIENCE]))),
            "token_invalid",
        ),
        case(
            "issuer_missing",
            "hs256",
            hs(&h, &without(c.clone(), "iss")),
            "token_invalid",
        ),
        case(
            "subject_missing",
            "hs256",
            hs(&h, &without(c.clone(), "sub")),
            "token_invalid",
        ),
        case(
            "session_missing",
            "hs256",
            hs(&h, &without(c.clone(), "sid")),
            "token_invalid",
        ),
        case(
            "subject_not_a_string",
            "hs256",
            hs(&h, &with(c.clone(), "sub", json!(42))),
            "token_invalid",
        ),
        // Signatures.
        case(
            "signature_of_another_secret",
            "hs256",
            signed_text(
                &h.to_string(),
                &c.to_string(),
                &EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!!"),
                Algorithm::HS256,
            ),
            "token_invalid",
        ),
        case(
            "signature_empty",
            "hs256",
            resigned(&valid, ""),
            "token_invalid",
        ),
        case(
            "signature_one_bit_flipped",
            "hs256",
            flip_last(&valid),
            "token_invalid",
        ),
        case(
            "eddsa_signature_one_bit_flipped",
            "eddsa",
            flip_last(&valid_ed),
            "token_invalid",
        ),
        case(
            "eddsa_signed_by_another_key",
            "eddsa",
            signed_text(
                &e.to_string(),
                &c.to_string(),
                &ed_key("ed25519-other.pem"),
                Algorithm::EdDSA,
            ),
            "token_invalid",
        ),
        case(
            "claims_changed_after_signing",
            "hs256",
            format!(
                "{}.{}.{}",
                valid.split('.').next().unwrap(),
                B64.encode(with(c.clone(), "sub", json!("admin")).to_string()),
                valid.rsplit_once('.').unwrap().1
            ),
            "token_invalid",
        ),
        // Shape and encoding.
        case("empty", "hs256", String::new(), "token_invalid"),
        case(
            "two_parts",
            "hs256",
            valid.rsplit_once('.').unwrap().0.to_string(),
            "token_invalid",
        ),
        case("four_parts", "hs256", format!("{valid}.x"), "token_invalid"),
        case(
            "truncated",
            "hs256",
            valid[..valid.len() - 10].to_string(),
            "token_invalid",
        ),
        case(
            "leading_space",
            "hs256",
            format!(" {valid}"),
            "token_invalid",
        ),
        case(
            "trailing_newline",
            "hs256",
            format!("{valid}\n"),
            "token_invalid",
        ),
        case(
            "bearer_prefix",
            "hs256",
            format!("Bearer {valid}"),
            "token_invalid",
        ),
        case("nul_byte", "hs256", format!("{valid}\0"), "token_invalid"),
        case(
            "header_bad_base64",
            "hs256",
            format!("!!!.{payload}.x"),
            "token_invalid",
        ),
        case(
            "header_padded_base64",
            "hs256",
            format!("{}=.{payload}.x", valid.split('.').next().unwrap()),
            "token_invalid",
        ),
        case(
            "header_standard_base64",
            "hs256",
            {
                let header =
                    STANDARD.encode(r#"{"alg":"HS256","typ":"at+jwt","kid":"hs1","x":"??>>"}"#);
                format!("{header}.{payload}.x")
            },
            "token_invalid",
        ),
        case(
            "header_not_json",
            "hs256",
            signed_text("alg=HS256", &c.to_string(), &hs_key(), Algorithm::HS256),
            "token_invalid",
        ),
        case(
            "header_json_array",
            "hs256",
            signed_text(r#"["HS256"]"#, &c.to_string(), &hs_key(), Algorithm::HS256),
            "token_invalid",
        ),
        case(
            "claims_not_json",
            "hs256",
            signed_text(&h.to_string(), "sub=user-1", &hs_key(), Algorithm::HS256),
            "token_invalid",
        ),
        case(
            "claims_invalid_utf8",
            "hs256",
            {
                let message = format!(
                    "{}.{}",
                    B64.encode(h.to_string()),
                    B64.encode(b"{\"sub\":\"\xff\xfe\"}")
                );
                let sig =
                    jsonwebtoken::crypto::sign(message.as_bytes(), &hs_key(), Algorithm::HS256)
                        .unwrap();
                format!("{message}.{sig}")
            },
            "token_invalid",
        ),
        case(
            "oversize",
            "hs256",
            hs(
                &h,
                &with(c.clone(), "preferred_username", json!("a".repeat(9 * 1024))),
            ),
            "token_invalid",
        ),
        // Duplicate JSON keys: RFC 7515 §4 lets a parser reject them or
        // take the last; either way a token whose meaning depends on the
        // parser must not pass.
        case(
            "duplicate_header_alg",
            "hs256",
            signed_text(
                r#"{"alg":"none","alg":"HS256","typ":"at+jwt","kid":"hs1"}"#,
                &c.to_string(),
                &hs_key(),
                Algorithm::HS256,
            ),
            "token_invalid",
        ),
        case(
            "duplicate_claim_sub",
            "hs256",
            signed_text(
                &h.to_string(),
                &c.to_string().replacen("{", r#"{"sub":"admin","#, 1),
                &hs_key(),
                Algorithm::HS256,
            ),
            "token_invalid",
        ),
        case(
            "duplicate_claim_exp",
            "hs256",
            signed_text(
                &h.to_string(),
                &c.to_string()
                    .replacen("{", &format!(r#"{{"exp":{FAR_PAST},"#), 1),
                &hs_key(),
                Algorithm::HS256,
            ),
            "token_invalid",
        ),
    ];
    out.push(case(
        "unicode_in_token",
        "hs256",
        valid.replacen('.', "․", 1),
        "token_invalid",
    ));
    out
}

fn flip_last(token: &str) -> String {
    let (message, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = B64.decode(signature).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    format!("{message}.{}", B64.encode(bytes))
}

pub async fn write_corpus() {
    let configs = configs();
    let hs256 = open(&configs["hs256"]).await.unwrap();
    let eddsa = open(&configs["eddsa"]).await.unwrap();
    let mut out = Vec::new();
    let mut wrong = Vec::new();
    for case in cases() {
        let dw = if case.config == "hs256" {
            &hs256
        } else {
            &eddsa
        };
        let result = dw.auth().verify_token(&case.token).await;
        let got = verdict(&result);
        if got != case.expect {
            wrong.push(format!(
                "{}: expected {}, got {got}",
                case.name, case.expect
            ));
        }
        let mut entry = json!({
            "name": case.name,
            "config": case.config,
            "token": case.token,
            "expect": got,
        });
        if let Ok(principal) = result {
            entry["user_id"] = json!(principal.user_id);
            entry["session_id"] = json!(principal.session_id);
        }
        out.push(entry);
    }
    assert!(wrong.is_empty(), "token verdicts:\n{}", wrong.join("\n"));
    write(
        "tokens",
        "Access tokens against a stateless verifier: open doorward with base_config, then configs[case.config], call verify_token(case.token); expect is \"ok\" (then the principal's user_id and session_id are given) or the error code.",
        json!({"configs": configs, "cases": out}),
    );
}
