//! The secrets of a flow: made here, stored as keyed hashes, sealed for the
//! mail that carries them.
//!
//! Two keys are derived from `flow_key` (or from `jwt_secret`, under a label
//! of their own, when it is unset): an HMAC-SHA-256 key for the hashes the
//! store keeps, as Ory Kratos keeps its codes, so a copy of the database
//! alone lets nobody use a link or brute-force a six-digit code; and an
//! XChaCha20-Poly1305 key that seals both secrets in the flow's row until
//! the outbox has handed them to the mailer, so a mail server outage delays
//! the mail without the secrets ever lying in the database in the clear.

use base64::Engine as _;
use rand::{Rng, RngCore};
use secrecy::ExposeSecret as _;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::sealing::{B64, Keys};

/// The keys of the flows. `Debug` shows neither.
pub(crate) struct FlowKey {
    keys: Keys,
    /// HMACs and seals computed: what the enumeration tests compare.
    operations: AtomicU64,
}

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowKey([redacted])")
    }
}

/// A link secret and a code, as mailed. `Debug` shows neither.
pub(crate) struct Secrets {
    /// 32 random bytes, base64url.
    pub link: String,
    /// Decimal digits.
    pub code: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([redacted])")
    }
}

/// The stored forms of a presented secret: what it hashes to as a link
/// secret and as a code.
pub(crate) struct Hashes {
    pub link: String,
    pub code: String,
}

/// 32 random bytes, base64url: a link's secret, or a password nobody knows.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    B64.encode(bytes)
}

impl FlowKey {
    /// The keys `flow_key` (or, unset, `jwt_secret`) gives; `None` when the
    /// configuration has neither.
    pub(crate) fn from_config(config: &Config) -> Option<FlowKey> {
        let (root, label): (&[u8], &[u8]) = match (&config.flow_key, &config.jwt_secret) {
            (Some(key), _) => (key.expose_secret().as_bytes(), b"doorward flows"),
            (None, Some(jwt)) => (
                jwt.expose_secret().as_bytes(),
                b"doorward flows from jwt_secret",
            ),
            (None, None) => return None,
        };
        Some(FlowKey {
            keys: Keys::derive(root, label),
            operations: AtomicU64::new(0),
        })
    }

    /// The HMACs and seals computed with these keys so far.
    pub(crate) fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    /// Fresh secrets: a link secret and a code of `digits` digits.
    pub(crate) fn generate(digits: u32) -> Secrets {
        let mut rng = rand::thread_rng();
        let code = (0..digits)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect();
        Secrets {
            link: random_token(),
            code,
        }
    }

    /// Both stored forms of `secret` in flow `flow_id` of `purpose`: the
    /// same two HMACs whatever is presented, and whoever asks.
    pub(crate) fn hashes(&self, purpose: &str, flow_id: &str, secret: &str) -> Hashes {
        Hashes {
            link: self.hash(purpose, flow_id, "link", secret),
            code: self.hash(purpose, flow_id, "code", secret),
        }
    }

    /// The stored forms of freshly made secrets.
    pub(crate) fn stored(&self, purpose: &str, flow_id: &str, secrets: &Secrets) -> Hashes {
        Hashes {
            link: self.hash(purpose, flow_id, "link", &secrets.link),
            code: self.hash(purpose, flow_id, "code", &secrets.code),
        }
    }

    /// Bound to the flow, its purpose and the kind of secret, so a code is
    /// worth nothing outside its own flow.
    fn hash(&self, purpose: &str, flow_id: &str, kind: &str, secret: &str) -> String {
        self.operations.fetch_add(1, Ordering::Relaxed);
        self.keys.mac(&[purpose, flow_id, kind, secret])
    }

    /// Seal `secrets` for the mail of flow `flow_id` (the flow id is bound
    /// as associated data, so a sealed value cannot be moved to another row).
    pub(crate) fn seal(&self, flow_id: &str, secrets: &Secrets) -> Result<String> {
        self.operations.fetch_add(1, Ordering::Relaxed);
        let plain = format!("{}\n{}", secrets.link, secrets.code);
        Ok(self.keys.seal(flow_id, plain.as_bytes()))
    }

    /// What [`FlowKey::seal`] sealed; `config_error` when it was sealed
    /// under another key (the flow key changed meanwhile).
    pub(crate) fn open(&self, flow_id: &str, sealed: &str) -> Result<Secrets> {
        let bad = || Error::Config("a flow was sealed under another flow_key".into());
        let plain = self.keys.open(flow_id, sealed).map_err(|_| bad())?;
        let plain = String::from_utf8(plain).map_err(|_| bad())?;
        let (link, code) = plain.split_once('\n').ok_or_else(bad)?;
        Ok(Secrets {
            link: link.to_string(),
            code: code.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FlowKey {
        FlowKey::from_config(&Config {
            flow_key: Some("a-flow-key-of-at-least-thirty-two-bytes".into()),
            ..Config::default()
        })
        .unwrap()
    }

    #[test]
    fn codes_have_the_digits_asked_for() {
        for digits in 6..=8 {
            let s = FlowKey::generate(digits);
            assert_eq!(s.code.len(), digits as usize);
            assert!(s.code.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(B64.decode(&s.link).unwrap().len(), 32);
        }
    }

    #[test]
    fn hashes_are_bound_to_the_flow_and_the_kind() {
        let k = key();
        let s = FlowKey::generate(6);
        let stored = k.stored("sign_in", "f1", &s);
        assert_eq!(k.hashes("sign_in", "f1", &s.code).code, stored.code);
        assert_eq!(k.hashes("sign_in", "f1", &s.link).link, stored.link);
        assert_ne!(k.hashes("sign_in", "f2", &s.code).code, stored.code);
        assert_ne!(k.hashes("reset_password", "f1", &s.code).code, stored.code);
        assert_ne!(k.hashes("sign_in", "f1", &s.code).link, stored.code);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_flow_and_key() {
        let k = key();
        let s = FlowKey::generate(8);
        let sealed = k.seal("f1", &s).unwrap();
        assert!(!sealed.contains(&s.code) && !sealed.contains(&s.link));
        let opened = k.open("f1", &sealed).unwrap();
        assert_eq!((&opened.link, &opened.code), (&s.link, &s.code));
        assert!(k.open("f2", &sealed).is_err());
        let other = FlowKey::from_config(&Config {
            jwt_secret: Some("another-secret-of-at-least-thirty-two-bytes".into()),
            ..Config::default()
        })
        .unwrap();
        assert!(other.open("f1", &sealed).is_err());
        assert!(format!("{k:?}{s:?}").contains("redacted"));
    }
}
