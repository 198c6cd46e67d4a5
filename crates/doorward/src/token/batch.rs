//! Many tokens verified at once, their Ed25519 signatures checked as one
//! batch.
//!
//! A batch check (ed25519-dalek's `verify_batch`) weighs every signature
//! with a 128-bit coefficient drawn from all of them and checks one
//! multi-scalar equation: from 8 signatures up it costs less than 60% of
//! checking each alone. It says only whether all of them hold; when one
//! does not, each is checked alone, as on every other road, so a refusal
//! always comes from the single check.
//!
//! What it accepts is what the single check accepts, except signatures the
//! key's owner deliberately malformed (a nonce point with a small-order
//! component, or encoded non-canonically): the equations differ there, but
//! making such a signature needs the private key, and its owner could as
//! well have signed the same claims properly. Nobody else can make a batch
//! pass (a forgery passes with probability 2⁻¹²⁸), and keys of small order,
//! for which anyone could, are refused when a key is loaded
//! ([`VerifyingKey::public`]).
//!
//! A failed batch costs its check on top of the single ones. So that a
//! stream of forgeries cannot make verification dearer than checking one
//! by one, the tokens after a failed batch, [`COOLDOWN`] times as many as
//! it held, are checked one by one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::access::Signed;
use super::keys::{KeyRing, VerifyingKey, signature_bytes};
use crate::auth::Principal;
use crate::error::Result;

/// Tokens checked one by one after a failed batch, per token it held.
pub(crate) const COOLDOWN: usize = 4;

/// The fewest signatures checked as a batch: one alone costs more as a
/// batch than checked alone.
const SMALLEST: usize = 2;

/// How many tokens are still to be checked one by one after a failed
/// batch; shared by every call on one key ring.
#[derive(Debug, Default)]
pub(crate) struct Cooldown {
    owed: AtomicUsize,
}

impl Cooldown {
    /// Whether `n` tokens may be checked as a batch now; if not, they pay
    /// off that much of the debt.
    fn allows(&self, n: usize) -> bool {
        self.owed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |owed| {
                (owed > 0).then(|| owed.saturating_sub(n))
            })
            .is_err()
    }

    fn failed(&self, n: usize) {
        self.owed.fetch_add(COOLDOWN * n, Ordering::Relaxed);
    }

    #[cfg(test)]
    fn owed(&self) -> usize {
        self.owed.load(Ordering::Relaxed)
    }
}

impl KeyRing {
    /// Each token checked as [`KeyRing::verify`] checks it (`exp`
    /// included), in order, the Ed25519 signatures among them as one batch.
    pub(crate) fn verify_many<S: AsRef<str>>(
        &self,
        tokens: &[S],
        issuer: &str,
        audience: &str,
    ) -> Vec<Result<Principal>> {
        verify_many(&self.verifying, &self.cooldown, tokens, issuer, audience)
    }
}

/// A token on its way through [`verify_many`].
enum Pending<'t, 'k> {
    Answered(Result<Principal>),
    /// Header passed; its Ed25519 signature waits for the batch.
    Batched {
        signed: Signed<'t, 'k>,
        signature: ed25519_dalek::Signature,
        point: &'k ed25519_dalek::VerifyingKey,
    },
}

/// Each token's principal, as [`super::access::verify_with`] answers
/// for it (`exp` checked), in order; the Ed25519 signatures among them
/// checked as one batch.
pub(crate) fn verify_many<S: AsRef<str>>(
    keys: &HashMap<String, VerifyingKey>,
    cooldown: &Cooldown,
    tokens: &[S],
    issuer: &str,
    audience: &str,
) -> Vec<Result<Principal>> {
    let principal = |signed: &Signed<'_, '_>| {
        signed.claims(issuer, audience, true, |claims| Principal::from(claims))
    };
    let alone = |signed: &Signed<'_, '_>| {
        signed.check_signature()?;
        principal(signed)
    };
    let pending: Vec<Pending<'_, '_>> = tokens
        .iter()
        .map(|token| {
            let signed = match Signed::of(keys, token.as_ref()) {
                Ok(signed) => signed,
                Err(e) => return Pending::Answered(Err(e)),
            };
            match (
                signed.key.ed25519(),
                signature_bytes::<64>(signed.signature),
            ) {
                (Some(point), Ok(Some(bytes))) => Pending::Batched {
                    signed,
                    signature: ed25519_dalek::Signature::from_bytes(&bytes),
                    point,
                },
                _ => Pending::Answered(alone(&signed)),
            }
        })
        .collect();

    let mut messages = Vec::new();
    let mut signatures = Vec::new();
    let mut points = Vec::new();
    for waiting in &pending {
        if let Pending::Batched {
            signed,
            signature,
            point,
        } = waiting
        {
            messages.push(signed.message.as_bytes());
            signatures.push(*signature);
            points.push(**point);
        }
    }
    let n = signatures.len();
    let all_hold = n >= SMALLEST
        && cooldown.allows(n)
        && match ed25519_dalek::verify_batch(&messages, &signatures, &points) {
            Ok(()) => true,
            Err(_) => {
                cooldown.failed(n);
                false
            }
        };

    pending
        .into_iter()
        .map(|waiting| match waiting {
            Pending::Answered(answer) => answer,
            Pending::Batched { signed, .. } if all_hold => principal(&signed),
            Pending::Batched { signed, .. } => alone(&signed),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, VerificationKeyConfig};
    use crate::token::access::{AccessClaims, verify_with};
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::Utc;

    fn key_file(name: &str) -> String {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/keys")
            .join(name)
            .display()
            .to_string()
    }

    /// A ring signing with `signing` and also verifying with `previous`.
    fn ring(signing: &str, previous: &str) -> KeyRing {
        let config = Config {
            jwt_algorithm: "EdDSA".into(),
            jwt_private_key: Some(key_file(&format!("{signing}.pem")).into()),
            jwt_public_key: Some(key_file(&format!("{signing}.pub.pem"))),
            jwt_key_id: Some(signing.into()),
            jwt_previous_keys: vec![VerificationKeyConfig {
                kid: previous.into(),
                algorithm: "EdDSA".into(),
                public_key: Some(key_file(&format!("{previous}.pub.pem"))),
                secret: None,
            }],
            ..Config::default()
        };
        KeyRing::from_config(&config).unwrap().unwrap()
    }

    fn claims(user: &str, ttl: i64) -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            sub: user.into(),
            sid: format!("s-{user}"),
            preferred_username: user.into(),
            roles: vec!["user".into()],
            iss: "doorward".into(),
            aud: "doorward".into(),
            iat: now,
            nbf: now,
            exp: now + ttl,
            jti: format!("j-{user}"),
            amr: vec!["pwd".into()],
            acr: "aal1".into(),
            auth_time: now,
        }
    }

    /// `token` with its signature replaced by `bytes`.
    fn resigned(token: &str, bytes: &[u8]) -> String {
        let message = &token[..token.rfind('.').unwrap()];
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    fn batch(ring: &KeyRing, tokens: &[String]) -> Vec<Result<Principal>> {
        ring.verify_many(tokens, "doorward", "doorward")
    }

    fn alone(ring: &KeyRing, tokens: &[String]) -> Vec<Result<Principal>> {
        tokens
            .iter()
            .map(|t| verify_with(&ring.verifying, t, "doorward", "doorward", true))
            .collect()
    }

    fn same(a: &[Result<Principal>], b: &[Result<Principal>]) {
        assert_eq!(a.len(), b.len());
        for (i, (a, b)) in a.iter().zip(b).enumerate() {
            match (a, b) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "token {i}"),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "token {i}"),
                _ => panic!("token {i}: {a:?} as a batch, {b:?} alone"),
            }
        }
    }

    /// Every token gets the answer it gets alone, whatever shares its
    /// batch: good tokens of the signing key and of a previous one; and
    /// forged, truncated, non-canonical, expired and malformed ones.
    #[test]
    fn a_batch_answers_each_token_as_it_is_answered_alone() {
        let ring = ring("ed25519", "ed25519-other");
        let other = ring_signing_other();
        let good: Vec<String> = (0..12)
            .map(|i| ring.sign(&claims(&format!("u{i}"), 300)).unwrap())
            .collect();
        let by_previous = other.sign(&claims("old", 300)).unwrap();
        let all_good: Vec<String> = good.iter().cloned().chain([by_previous.clone()]).collect();
        let answers = batch(&ring, &all_good);
        assert!(answers.iter().all(Result::is_ok));
        same(&answers, &alone(&ring, &all_good));
        assert_eq!(ring.cooldown.owed(), 0, "no batch failed");

        // One forgery among good tokens: the batch fails, each is checked alone.
        let signature = URL_SAFE_NO_PAD
            .decode(good[0].rsplit('.').next().unwrap())
            .unwrap();
        let mut flipped = signature.clone();
        flipped[5] ^= 1;
        // s + ℓ: the same equation, a non-canonical scalar.
        let mut high = signature.clone();
        add_order(&mut high[32..]);
        let mixed: Vec<String> = vec![
            good[1].clone(),
            resigned(&good[2], &flipped),
            good[3].clone(),
            resigned(&good[4], &signature), // another token's signature
            resigned(&good[5], &signature[..63]), // one byte short
            resigned(&good[6], &high),      // non-canonical s
            format!("{}=", good[7]),        // not base64url
            ring.sign(&claims("late", -3600)).unwrap(), // expired
            "not.a.token".into(),
            good[8].clone(),
            by_previous,
        ];
        let answers = batch(&ring, &mixed);
        same(&answers, &alone(&ring, &mixed));
        let valid: Vec<bool> = answers.iter().map(Result::is_ok).collect();
        assert_eq!(
            valid,
            [
                true, false, true, false, false, false, false, false, false, true, true
            ]
        );
    }

    /// After a failed batch the next tokens are checked one by one, as
    /// many as [`COOLDOWN`] times the failed batch, and then batches resume.
    #[test]
    fn a_failed_batch_sends_the_next_tokens_one_by_one() {
        let ring = ring("ed25519", "ed25519-other");
        let good: Vec<String> = (0..4)
            .map(|i| ring.sign(&claims(&format!("u{i}"), 300)).unwrap())
            .collect();
        let mut forged = good.clone();
        forged[3] = resigned(&good[3], &[7; 64]);
        assert!(batch(&ring, &forged)[3].is_err());
        assert_eq!(ring.cooldown.owed(), COOLDOWN * 4);
        for left in (0..COOLDOWN).rev() {
            let answers = batch(&ring, &good);
            assert!(answers.iter().all(Result::is_ok));
            assert_eq!(ring.cooldown.owed(), left * 4);
        }
        batch(&ring, &good);
        assert_eq!(ring.cooldown.owed(), 0);
    }

    fn ring_signing_other() -> KeyRing {
        ring("ed25519-other", "ed25519")
    }

    /// `s += ℓ` on a little-endian scalar (ℓ = 2^252 + 27742317777372353535851937790883648493).
    fn add_order(s: &mut [u8]) {
        const ORDER: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, add) in s.iter_mut().zip(ORDER) {
            let sum = u16::from(*byte) + u16::from(add) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
    }
}
