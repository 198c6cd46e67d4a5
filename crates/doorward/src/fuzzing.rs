//! Fuzz targets: each takes arbitrary bytes, drives one parser or check
//! that sees hostile input, and panics only when a property that must hold
//! for every input is broken. The same functions run under libFuzzer
//! (`fuzz/`, cargo-fuzz, nightly) and on stable from a seed corpus
//! (`examples/fuzz.rs`, `scripts/fuzz`). Not an API: built only with the
//! `fuzzing` feature.

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::config::Config;
use crate::rbac::{PermissionSet, validate_permission};
use crate::token::access::{LEEWAY_SECS, checked_claims};
use crate::token::keys::{KeyRing, VerifyingKey};

/// The issuer and audience the token target's keys verify for.
pub const ISSUER: &str = "https://id.example.com";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "api";
/// The HS256 secret (key id `hs1`) of the token target: the token
/// corpus's (tests/vectors/tokens.json), so its tokens seed this target.
pub const SECRET: &str = "vectors-hs256-secret-of-at-least-32-bytes";
/// The Ed25519 private key (key id `ed1`) of the token target.
/// (tests/keys/ed25519.pem, a test key.)
pub const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIMFa3IYQNUObYjjoK+1KU1K1XGO2ymXbCIHCNgRj2iJK
-----END PRIVATE KEY-----
";

/// Its public key (tests/keys/ed25519.pub.pem).
pub const ED25519_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEADhUU+/OUQOrCjPoS4ht9CWPB4JQI9GiQbO2fbj+7qGo=
-----END PUBLIC KEY-----
";

static KEYS: LazyLock<HashMap<String, VerifyingKey>> = LazyLock::new(|| {
    let mut keys = HashMap::new();
    for config in [
        Config {
            jwt_secret: Some(SECRET.to_string().into()),
            jwt_key_id: Some("hs1".into()),
            ..Config::default()
        },
        Config {
            jwt_algorithm: "EdDSA".into(),
            jwt_private_key: Some(ED25519_PEM.to_string().into()),
            jwt_public_key: Some(ED25519_PUBLIC_PEM.to_string()),
            jwt_key_id: Some("ed1".into()),
            ..Config::default()
        },
    ] {
        let ring = KeyRing::from_config(&config).unwrap().unwrap();
        keys.extend(ring.verifying);
    }
    keys
});

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// The access-token verifier. An accepted token names our issuer and
/// audience, is not expired, and carries the algorithm of its key.
pub fn token(data: &[u8]) {
    let token = text(data);
    let _ = checked_claims(&KEYS, &token, ISSUER, AUDIENCE, true, |claims| {
        let now = chrono::Utc::now().timestamp();
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert!(claims.exp + LEEWAY_SECS as i64 >= now);
        assert!(claims.nbf <= now + LEEWAY_SECS as i64);
        assert!(claims.iat <= now + LEEWAY_SECS as i64);
    });
}

/// Tokens verified together (one per line, at most 16): each gets the
/// answer it gets alone, however the batch of their Ed25519 signatures
/// fares (token/batch.rs).
pub fn token_batch(data: &[u8]) {
    use crate::token::batch::{Cooldown, verify_many};
    let text = text(data);
    let tokens: Vec<&str> = text.split('\n').take(16).collect();
    let together = verify_many(&KEYS, &Cooldown::default(), &tokens, ISSUER, AUDIENCE);
    for (token, together) in tokens.iter().zip(together) {
        let alone = checked_claims(&KEYS, token, ISSUER, AUDIENCE, true, |claims| {
            crate::auth::Principal::from(claims)
        });
        match (together, alone) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (a, b) => panic!("together {:?}, alone {:?}", a.is_ok(), b.is_ok()),
        }
    }
}

/// Stored password hashes: what an import checks before keeping one
/// (the parsing verification does before any hashing). Never hashes: an
/// argon2 string that passes names costs within the caps.
pub fn phc(data: &[u8]) {
    let stored = text(data);
    if crate::password::check_importable(&stored).is_ok()
        && let Some(params) = crate::password::argon2_costs(&stored)
    {
        assert!(params.memory_kib <= crate::password::MAX_MEMORY_KIB);
        assert!(params.iterations <= crate::password::MAX_ITERATIONS);
        assert!(params.parallelism <= crate::password::MAX_PARALLELISM);
    }
}

/// Permission checks against a reference written from the rules: the
/// first line is the query, the others the grants.
pub fn permission(data: &[u8]) {
    let input = text(data);
    let mut lines = input.split('\n');
    let query = lines.next().unwrap_or_default();
    let grants: Vec<&str> = lines.collect();
    let set = PermissionSet::new(&grants);
    if validate_permission(query).is_err() {
        return;
    }
    let split = |p: &str| {
        p.split_once(':')
            .map(|(r, a)| (r.to_string(), a.to_string()))
    };
    let expected = grants
        .iter()
        .filter(|g| validate_permission(g).is_ok())
        .any(|g| {
            if *g == "*" || *g == "*:*" || *g == query {
                return true;
            }
            match (split(g), split(query)) {
                (Some((gr, ga)), Some((qr, qa))) => {
                    (ga == "*" && gr == qr) || (gr == "*" && ga == qa)
                }
                _ => false,
            }
        });
    assert_eq!(
        set.allows(query),
        expected,
        "query {query:?}, grants {grants:?}"
    );
}

/// Configuration from TOML and JSON text: never a panic, and a secret
/// that loads never shows in the configuration's `Debug`.
pub fn config(data: &[u8]) {
    let input = text(data);
    let mut loaded = Vec::new();
    if let Ok(config) = Config::from_toml_str(&input) {
        loaded.push(config);
    }
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&input)
        && let Ok(config) = Config::from_json(value)
    {
        loaded.push(config);
    }
    for config in loaded {
        use secrecy::ExposeSecret as _;
        let _ = config.validate();
        let shown = format!("{config:?}");
        // The same configuration without its secrets: a secret that is
        // also a key name or a default value (`lockout_base_delay`) shows
        // there as often, which is no leak.
        let bare = format!(
            "{:?}",
            Config {
                jwt_secret: None,
                jwt_private_key: None,
                ..config.clone()
            }
        );
        let secrets = [config.jwt_secret.as_ref(), config.jwt_private_key.as_ref()];
        for secret in secrets.into_iter().flatten() {
            let secret = secret.expose_secret();
            if secret.len() >= 8 {
                assert_eq!(
                    shown.matches(secret).count(),
                    bare.matches(secret).count(),
                    "a secret in Debug"
                );
            }
        }
    }
}

/// URLs and addresses: redaction is idempotent and removes the password;
/// the rate-limit key of an address never panics.
pub fn url(data: &[u8]) {
    let input = text(data);
    let once = crate::config::redact_url(&input);
    let twice = crate::config::redact_url(&once);
    assert_eq!(once, twice, "redaction is not idempotent");
    if let Some((scheme, rest)) = input.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && password.len() >= 4
            && !scheme.is_empty()
            && !once.contains("[redacted]")
        {
            panic!("a password was not redacted");
        }
    }
    for prefix in [0u8, 1, 48, 64, 128, 200] {
        let _ = crate::ratelimit::client_key(&input, prefix);
    }
}

/// Usernames, email addresses and passwords. What is accepted keeps the
/// promises of `users::validate`: ASCII usernames of 3 to 64 characters,
/// one `@` in an address of at most 254 bytes, no NUL in a password.
pub fn identity(data: &[u8]) {
    let input = text(data);
    use crate::users::validate;
    if let Ok(username) = validate::username(&input) {
        let shown = username.display;
        assert!(shown.is_ascii(), "a non-ASCII username: {shown:?}");
        assert!((3..=64).contains(&shown.len()));
    }
    if let Ok(email) = validate::email(&input) {
        let shown = email.display;
        assert_eq!(shown.matches('@').count(), 1, "{shown:?}");
        assert!(shown.len() <= 254);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
    if let Ok(password) = validate::password(&input, 8, &["ann", "ann@example.com"]) {
        assert!(!password.contains('\0'));
        assert!(password.len() <= validate::MAX_PASSWORD_BYTES * 4);
    }
}

/// Webhook signatures as a receiver checks them: a signature made with
/// the secret always verifies, the fuzzed header only when it carries it.
#[cfg(feature = "webhooks")]
pub fn webhook(data: &[u8]) {
    use crate::events::{sign_webhook, verify_webhook};
    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let input = text(data);
    let (header, body) = input.split_once('\n').unwrap_or((&input, ""));
    let signed = sign_webhook(KEY, "msg_1", 1_700_000_000, body).unwrap();
    assert!(
        verify_webhook(
            KEY,
            "msg_1",
            1_700_000_000,
            &signed,
            body,
            1_700_000_000,
            300
        )
        .is_ok()
    );
    let verified = verify_webhook(
        KEY,
        "msg_1",
        1_700_000_000,
        header,
        body,
        1_700_000_000,
        300,
    )
    .is_ok();
    assert_eq!(
        verified,
        header.split(' ').any(|part| part == signed),
        "header {header:?}"
    );
    let _ = verify_webhook(header, "msg_1", 0, header, body, i64::MAX, i64::MIN);
}

/// A target: its name and its function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("token", token),
    ("token_batch", token_batch),
    ("phc", phc),
    ("permission", permission),
    ("config", config),
    ("url", url),
    ("identity", identity),
    #[cfg(feature = "webhooks")]
    ("webhook", webhook),
];
