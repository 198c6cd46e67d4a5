//! Signing and verification keys, and their JWKS export.
//!
//! One key signs; every configured key (the signing one and the previous
//! ones) verifies, looked up by `kid`. Each key is bound to one algorithm, and
//! a token is only checked with the algorithm of the key its `kid` names:
//! that is what makes `alg: none` and HS256-with-an-RSA-public-key
//! (algorithm confusion) fail before any signature is computed.

use std::collections::HashMap;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::{DecodeSliceError, Engine as _};
use hmac::{Hmac, Mac as _};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, Result};

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

pub(crate) struct SigningKey {
    pub kid: String,
    pub alg: Algorithm,
    pub key: EncodingKey,
}

pub(crate) struct VerifyingKey {
    pub alg: Algorithm,
    check: Check,
    /// The public JWK, for asymmetric keys; shared secrets are never exported.
    pub jwk: Option<Value>,
}

/// How a key checks a signature.
enum Check {
    /// HS256: HMAC-SHA256 keyed once. Each check clones the keyed state
    /// instead of keying anew from the secret, which hashes two padded key
    /// blocks every time: a third of the work of checking a short token.
    Hmac(Hmac<Sha256>),
    /// Ed25519, by ed25519-dalek, which also checks several signatures as
    /// one batch (token/batch.rs). Its single check is AWS-LC's: the
    /// cofactorless equation, with `s` and `R` canonical. It took 0.89x
    /// AWS-LC's time on an AMD EPYC host (criterion's `ed25519_verify`
    /// group in doorward-peers weighs them side by side).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// RS256 and ES256, checked by jsonwebtoken (on AWS-LC).
    Public(DecodingKey),
}

/// A signature that is not base64url at all (as opposed to one that does
/// not match).
pub(crate) struct MalformedSignature;

impl VerifyingKey {
    fn shared_secret(secret: &[u8]) -> Result<VerifyingKey> {
        let mac = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|_| Error::Config("the secret is not usable as an HMAC key".into()))?;
        Ok(VerifyingKey {
            alg: Algorithm::HS256,
            check: Check::Hmac(mac),
            jwk: None,
        })
    }

    /// A public key for `alg`. An Ed25519 key must be a point of the
    /// curve's large prime-order group: with a key of small order (the
    /// identity, or one of the seven others), `s·B = R + h·A` holds for
    /// `R = s·B` whatever the message, so anyone could sign for it.
    pub(crate) fn public(
        alg: Algorithm,
        key: DecodingKey,
        jwk: Option<Value>,
    ) -> std::result::Result<VerifyingKey, String> {
        let check = match alg {
            Algorithm::EdDSA => {
                let raw: &[u8; 32] = key
                    .as_bytes()
                    .try_into()
                    .map_err(|_| "not an Ed25519 key".to_string())?;
                let point = ed25519_dalek::VerifyingKey::from_bytes(raw)
                    .map_err(|_| "not a point of Ed25519".to_string())?;
                if point.is_weak() {
                    return Err("a key of small order, which anyone can sign for".into());
                }
                Check::Ed25519(point)
            }
            _ => Check::Public(key),
        };
        Ok(VerifyingKey { alg, check, jwk })
    }

    /// This key as ed25519-dalek's, if it is an Ed25519 key.
    pub(crate) fn ed25519(&self) -> Option<&ed25519_dalek::VerifyingKey> {
        match &self.check {
            Check::Ed25519(point) => Some(point),
            _ => None,
        }
    }

    /// Whether `signature`, base64url as it stands in a token, signs
    /// `message` with this key (compared in constant time).
    pub(crate) fn verifies(
        &self,
        signature: &str,
        message: &[u8],
    ) -> std::result::Result<bool, MalformedSignature> {
        match &self.check {
            Check::Hmac(mac) => Ok(signature_bytes::<32>(signature)?
                .is_some_and(|tag| mac.clone().chain_update(message).verify_slice(&tag).is_ok())),
            Check::Ed25519(point) => {
                use ed25519_dalek::Verifier as _;
                Ok(signature_bytes::<64>(signature)?.is_some_and(|bytes| {
                    let signature = ed25519_dalek::Signature::from_bytes(&bytes);
                    point.verify(message, &signature).is_ok()
                }))
            }
            Check::Public(key) => {
                match jsonwebtoken::crypto::verify(signature, message, key, self.alg) {
                    Ok(ok) => Ok(ok),
                    Err(e) if matches!(e.kind(), ErrorKind::Base64(_)) => Err(MalformedSignature),
                    Err(_) => Ok(false),
                }
            }
        }
    }
}

/// A signature as it stands in a token (base64url), decoded if it is `N`
/// bytes long; `Ok(None)` if it is another length, which no key's
/// signature has.
pub(crate) fn signature_bytes<const N: usize>(
    signature: &str,
) -> std::result::Result<Option<[u8; N]>, MalformedSignature> {
    // Room for the longest fixed-size signature here (64) and base64's
    // estimate of it.
    let mut buffer = [0u8; 72];
    match URL_SAFE_NO_PAD.decode_slice(signature, &mut buffer) {
        Ok(len) => Ok(buffer[..len].try_into().ok()),
        Err(DecodeSliceError::DecodeError(_)) => Err(MalformedSignature),
        // Too long for any: wrong, or not base64url.
        Err(DecodeSliceError::OutputSliceTooSmall) => match URL_SAFE_NO_PAD.decode(signature) {
            Ok(_) => Ok(None),
            Err(_) => Err(MalformedSignature),
        },
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The keys a [`crate::Doorward`] signs and verifies with.
pub(crate) struct KeyRing {
    pub signing: SigningKey,
    pub verifying: HashMap<String, VerifyingKey>,
    /// Derives each refresh token's successor from it (see
    /// [`crate::token::refresh::successor`]); drawn from the signing key's
    /// material, so every instance with the same key derives the same one.
    pub successor_key: [u8; 32],
    /// Whether the next Ed25519 signatures are checked one by one, after a
    /// batch failed (token/batch.rs).
    pub cooldown: super::batch::Cooldown,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<_> = self.verifying.keys().collect();
        kids.sort();
        f.debug_struct("KeyRing")
            .field("signing_kid", &self.signing.kid)
            .field("signing_alg", &self.signing.alg)
            .field("verifying_kids", &kids)
            .finish()
    }
}

pub(crate) fn parse_algorithm(name: &str) -> Result<Algorithm> {
    match name {
        "HS256" => Ok(Algorithm::HS256),
        "EdDSA" => Ok(Algorithm::EdDSA),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(Error::Config(format!(
            "jwt algorithm `{other}` is not supported (HS256, EdDSA, RS256, ES256)"
        ))),
    }
}

/// PEM given inline, or the path of a file holding it.
fn pem_text(value: &str, what: &str) -> Result<Vec<u8>> {
    if value.trim_start().starts_with("-----BEGIN") {
        return Ok(value.as_bytes().to_vec());
    }
    std::fs::read(value.trim()).map_err(|e| {
        Error::Config(format!(
            "{what}: not PEM text and not a readable file ({e})"
        ))
    })
}

/// A PEM's base64 body without its armour lines and line breaks, so the
/// same key read from a file or given inline is the same material.
fn pem_body(pem: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(pem)
        .lines()
        .filter(|line| !line.trim_start().starts_with("-----"))
        .flat_map(|line| line.bytes().filter(|b| !b.is_ascii_whitespace()))
        .collect()
}

/// A key for one purpose, drawn from secret key material (HMAC-SHA256 with
/// the material as key and the purpose as message), so the signing key is
/// never used twice for different things.
fn derive_key(material: &[u8], purpose: &[u8]) -> Result<[u8; 32]> {
    let mut mac = Hmac::<Sha256>::new_from_slice(material)
        .map_err(|_| Error::Config("the signing key is not usable key material".into()))?;
    mac.update(purpose);
    Ok(mac.finalize().into_bytes().into())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hmac_key(secret: &SecretString, what: &str) -> Result<(EncodingKey, VerifyingKey)> {
    let bytes = secret.expose_secret().as_bytes();
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(Error::Config(format!(
            "{what} must be at least {MIN_SECRET_BYTES} bytes"
        )));
    }
    Ok((
        EncodingKey::from_secret(bytes),
        VerifyingKey::shared_secret(bytes)?,
    ))
}

/// A `kid` for a shared secret that reveals nothing usable about it.
fn secret_kid(secret: &SecretString) -> String {
    let digest = Sha256::new()
        .chain_update(b"doorward kid\0")
        .chain_update(secret.expose_secret().as_bytes())
        .finalize();
    format!("hs256-{}", &b64(&digest)[..12])
}

/// Public key PEM → decoding key and its JWK (with an RFC 7638 thumbprint as `kid`).
fn public_key(alg: Algorithm, pem: &[u8], kid: Option<&str>) -> Result<(String, VerifyingKey)> {
    let bad = |e: jsonwebtoken::errors::Error| {
        Error::Config(format!(
            "jwt public key is not a valid {alg:?} PEM public key: {e}"
        ))
    };
    let (key, members) = match alg {
        Algorithm::EdDSA => {
            let key = DecodingKey::from_ed_pem(pem).map_err(bad)?;
            let raw = key.as_bytes();
            if raw.len() != 32 {
                return Err(Error::Config("jwt public key is not an Ed25519 key".into()));
            }
            let members = json!({"crv": "Ed25519", "kty": "OKP", "x": b64(raw)});
            (key, members)
        }
        Algorithm::ES256 => {
            let key = DecodingKey::from_ec_pem(pem).map_err(bad)?;
            let point = key.as_bytes();
            if point.len() != 65 || point[0] != 4 {
                return Err(Error::Config("jwt public key is not a P-256 key".into()));
            }
            let members = json!({
                "crv": "P-256", "kty": "EC",
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            });
            (key, members)
        }
        Algorithm::RS256 => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let key = DecodingKey::from_rsa_pem(pem).map_err(bad)?;
            let public = rsa::RsaPublicKey::from_pkcs1_der(key.as_bytes())
                .map_err(|_| Error::Config("jwt public key is not an RSA public key".into()))?;
            if public.size() < 256 {
                return Err(Error::Config("RSA keys must be at least 2048 bits".into()));
            }
            let members = json!({
                "e": b64(&public.e().to_bytes_be()), "kty": "RSA",
                "n": b64(&public.n().to_bytes_be()),
            });
            (key, members)
        }
        _ => return Err(Error::Config("not an asymmetric algorithm".into())),
    };
    // serde_json orders object keys, which is the canonical form RFC 7638 wants.
    let thumbprint = b64(&Sha256::digest(members.to_string().as_bytes()));
    let kid = kid.map(str::to_string).unwrap_or(thumbprint);
    let mut jwk = members;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(algorithm_name(alg));
    jwk["use"] = json!("sig");
    let key = VerifyingKey::public(alg, key, Some(jwk))
        .map_err(|e| Error::Config(format!("jwt public key `{kid}`: {e}")))?;
    Ok((kid, key))
}

pub(crate) fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::EdDSA => "EdDSA",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        _ => "unsupported",
    }
}

fn private_key(alg: Algorithm, pem: &[u8]) -> Result<EncodingKey> {
    let key = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem),
        _ => return Err(Error::Config("not an asymmetric algorithm".into())),
    };
    key.map_err(|_| {
        Error::Config(format!(
            "jwt_private_key is not a valid {alg:?} PEM private key"
        ))
    })
}

impl KeyRing {
    /// The key ring the configuration describes, or `None` when it names no
    /// key at all (a `Doorward` can then manage users but not issue tokens).
    pub(crate) fn from_config(config: &Config) -> Result<Option<KeyRing>> {
        let alg = parse_algorithm(&config.jwt_algorithm)?;
        let kid_override = config.jwt_key_id.as_deref();
        let (signing, current, material) = match alg {
            Algorithm::HS256 => {
                let Some(secret) = &config.jwt_secret else {
                    if config.jwt_private_key.is_some() {
                        return Err(Error::Config(
                            "jwt_private_key is set but jwt_algorithm is HS256".into(),
                        ));
                    }
                    return Ok(None);
                };
                let (enc, dec) = hmac_key(secret, "jwt_secret")?;
                let kid = kid_override
                    .map(str::to_string)
                    .unwrap_or_else(|| secret_kid(secret));
                (
                    SigningKey {
                        kid: kid.clone(),
                        alg,
                        key: enc,
                    },
                    (kid, dec),
                    secret.expose_secret().as_bytes().to_vec(),
                )
            }
            _ => {
                let (Some(private), Some(public)) =
                    (&config.jwt_private_key, &config.jwt_public_key)
                else {
                    return Err(Error::Config(format!(
                        "jwt_algorithm {} needs both jwt_private_key and jwt_public_key",
                        config.jwt_algorithm
                    )));
                };
                if config.jwt_secret.is_some() {
                    return Err(Error::Config(format!(
                        "jwt_secret is set but jwt_algorithm is {}",
                        config.jwt_algorithm
                    )));
                }
                let pem = pem_text(private.expose_secret(), "jwt_private_key")?;
                let enc = private_key(alg, &pem)?;
                let (kid, verifying) =
                    public_key(alg, &pem_text(public, "jwt_public_key")?, kid_override)?;
                (
                    SigningKey {
                        kid: kid.clone(),
                        alg,
                        key: enc,
                    },
                    (kid, verifying),
                    pem_body(&pem),
                )
            }
        };
        let mut verifying = HashMap::new();
        verifying.insert(current.0, current.1);
        for previous in &config.jwt_previous_keys {
            let alg = parse_algorithm(&previous.algorithm)?;
            let key = match (alg, &previous.secret, &previous.public_key) {
                (Algorithm::HS256, Some(secret), None) => {
                    hmac_key(secret, "a previous key's secret")?.1
                }
                (Algorithm::HS256, _, _) => {
                    return Err(Error::Config(format!(
                        "previous key `{}`: HS256 needs `secret` and no `public_key`",
                        previous.kid
                    )));
                }
                (_, None, Some(public)) => {
                    public_key(
                        alg,
                        &pem_text(public, "a previous key's public_key")?,
                        Some(&previous.kid),
                    )?
                    .1
                }
                _ => {
                    return Err(Error::Config(format!(
                        "previous key `{}`: {} needs `public_key` and no `secret`",
                        previous.kid, previous.algorithm
                    )));
                }
            };
            if verifying.insert(previous.kid.clone(), key).is_some() {
                return Err(Error::Config(format!(
                    "key id `{}` is used twice",
                    previous.kid
                )));
            }
        }
        let ring = KeyRing {
            signing,
            verifying,
            successor_key: derive_key(&material, b"doorward refresh successor v1")?,
            cooldown: Default::default(),
        };
        ring.self_check()?;
        Ok(Some(ring))
    }

    /// Sign and verify a probe, so a private key that does not match its
    /// public key fails at open, not at the first login.
    fn self_check(&self) -> Result<()> {
        let message = b"doorward key check";
        let signature = jsonwebtoken::crypto::sign(message, &self.signing.key, self.signing.alg)
            .map_err(|e| Error::Config(format!("signing key cannot sign: {e}")))?;
        let ok = self.verifying[&self.signing.kid]
            .verifies(&signature, message)
            .map_err(|_| Error::Config("the signing key's signature is not base64url".into()))?;
        if !ok {
            return Err(Error::Config(
                "jwt_private_key and jwt_public_key are not a pair".into(),
            ));
        }
        Ok(())
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`); shared
    /// secrets are never included.
    pub(crate) fn jwks(&self) -> Value {
        let mut keys: Vec<&Value> = self
            .verifying
            .values()
            .filter_map(|k| k.jwk.as_ref())
            .collect();
        keys.sort_by_key(|k| k["kid"].as_str().unwrap_or_default().to_string());
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-secret-of-at-least-thirty-two-bytes!";

    fn sign(message: &[u8], secret: &[u8]) -> String {
        jsonwebtoken::crypto::sign(message, &EncodingKey::from_secret(secret), Algorithm::HS256)
            .unwrap()
    }

    fn verifies(signature: &str, message: &[u8]) -> Option<bool> {
        VerifyingKey::shared_secret(SECRET)
            .unwrap()
            .verifies(signature, message)
            .ok()
    }

    /// The keyed-once HMAC accepts exactly what jsonwebtoken's HS256 signs,
    /// and tells a wrong signature from one that is not base64url.
    #[test]
    fn hmac_checks_what_jsonwebtoken_signs() {
        let message = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm4ifQ";
        let good = sign(message, SECRET);
        assert_eq!(verifies(&good, message), Some(true));
        // The same key checks again: the keyed state is cloned, not used up.
        assert_eq!(verifies(&good, message), Some(true));
        assert_eq!(verifies(&good, b"another message"), Some(false));
        let other = sign(message, b"another-secret-of-thirty-two-bytes!!");
        assert_eq!(verifies(&other, message), Some(false));
        // A tag cut short, one too long, an empty one.
        assert_eq!(verifies(&good[..40], message), Some(false)); // 30 bytes
        assert_eq!(
            verifies(&URL_SAFE_NO_PAD.encode([7u8; 64]), message),
            Some(false)
        );
        assert_eq!(verifies("", message), Some(false));
        // Not base64url: the standard alphabet, padding, a space.
        let standard = good.replace('-', "+").replace('_', "/");
        assert_eq!(verifies(&format!("{standard}+"), message), None);
        assert_eq!(verifies(&format!("{good}="), message), None);
        assert_eq!(verifies(&format!("{good}{good} !"), message), None);
    }

    /// An Ed25519 public key of small order verifies `R = s·B` for any
    /// message, so anyone could sign for it: refused as a previous key and
    /// in a JWKS document, where only public keys are given.
    #[test]
    fn ed25519_keys_of_small_order_are_refused() {
        let mut minus_one = [0xff_u8; 32];
        (minus_one[0], minus_one[31]) = (0xec, 0x7f);
        let mut identity = [0_u8; 32];
        identity[0] = 1;
        // What the identity would accept: R = B and s = 1, on any message.
        let mut forged = [0x66_u8; 64];
        forged[0] = 0x58;
        forged[32..].fill(0);
        forged[32] = 1;
        for message in [&b"any message"[..], b"another"] {
            let key = DecodingKey::from_ed_der(&identity);
            assert!(
                jsonwebtoken::crypto::verify(&b64(&forged), message, &key, Algorithm::EdDSA)
                    .unwrap()
            );
        }
        for point in [identity, minus_one] {
            let der = [
                &[
                    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
                ][..],
                &point,
            ]
            .concat();
            let pem = format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(&der)
            );
            let config = Config {
                jwt_secret: Some("a-secret-of-at-least-thirty-two-bytes".to_string().into()),
                jwt_previous_keys: vec![crate::config::VerificationKeyConfig {
                    kid: "weak".into(),
                    algorithm: "EdDSA".into(),
                    secret: None,
                    public_key: Some(pem),
                }],
                ..Config::default()
            };
            let err = KeyRing::from_config(&config).unwrap_err().to_string();
            assert!(err.contains("small order"), "{err}");

            let jwks = json!({"keys": [{
                "kty": "OKP", "crv": "Ed25519", "kid": "weak", "x": b64(&point),
            }]});
            let err = crate::token::TokenVerifier::new(&jwks.to_string(), "i", "a").unwrap_err();
            assert!(err.to_string().contains("small order"), "{err}");
        }
    }
}
