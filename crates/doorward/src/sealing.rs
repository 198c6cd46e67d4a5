//! Keys kept out of the database: a MAC key for the keyed hashes the store
//! keeps of one-time secrets, and an XChaCha20-Poly1305 key for what the
//! store must give back (a TOTP secret, a flow's secrets until their mail
//! is out). A copy of the database alone then lets nobody use a code, read
//! a TOTP secret or brute-force either.
//!
//! Both keys are derived from one configured root under a label, so the
//! account flows and the second factors never share a key even when they
//! fall back to the same `jwt_secret`.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub(crate) const B64: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A MAC key and a sealing key. `Debug` shows neither.
pub(crate) struct Keys {
    mac: [u8; 32],
    seal: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

/// Sealed under another key, or not sealed at all.
#[derive(Debug)]
pub(crate) struct Unsealable;

impl Keys {
    /// The two keys of `root` under `label`.
    pub(crate) fn derive(root: &[u8], label: &[u8]) -> Keys {
        let derive = |purpose: &[u8]| {
            let mut mac =
                <HmacSha256 as Mac>::new_from_slice(root).expect("HMAC takes any key length");
            mac.update(label);
            mac.update(b"\0");
            mac.update(purpose);
            <[u8; 32]>::from(mac.finalize().into_bytes())
        };
        Keys {
            mac: derive(b"hash"),
            seal: derive(b"seal"),
        }
    }

    /// The keys of `purpose` (`mfa`, `oauth`): from `mfa_encryption_key`,
    /// else `flow_key`, else `jwt_secret`, each under its own label, so no
    /// two purposes and no two roots share a key.
    pub(crate) fn from_config(config: &crate::config::Config, purpose: &str) -> Option<Keys> {
        use secrecy::ExposeSecret as _;
        let (root, from) = match (
            &config.mfa_encryption_key,
            &config.flow_key,
            &config.jwt_secret,
        ) {
            (Some(key), _, _) => (key.expose_secret(), ""),
            (None, Some(key), _) => (key.expose_secret(), " from flow_key"),
            (None, None, Some(key)) => (key.expose_secret(), " from jwt_secret"),
            (None, None, None) => return None,
        };
        let label = format!("doorward {purpose}{from}");
        Some(Keys::derive(root.as_bytes(), label.as_bytes()))
    }

    /// Hex HMAC-SHA-256 of `parts`, each length-prefixed so no two lists
    /// of parts hash alike.
    pub(crate) fn mac(&self, parts: &[&str]) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.mac).expect("HMAC takes any key length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// `plain` encrypted with a fresh nonce and bound to `aad` (the row it
    /// belongs to, so a sealed value cannot be moved to another), base64url.
    pub(crate) fn seal(&self, aad: &str, plain: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    /// What [`Keys::seal`] sealed under these keys for `aad`.
    pub(crate) fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let bytes = B64.decode(sealed).map_err(|_| Unsealable)?;
        if bytes.len() < 24 {
            return Err(Unsealable);
        }
        let (nonce, body) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| Unsealable)?;
        XChaCha20Poly1305::new((&self.seal).into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_row_and_key() {
        let keys = Keys::derive(b"root", b"label");
        let sealed = keys.seal("row-1", b"secret");
        assert!(!sealed.contains("secret"));
        assert_eq!(keys.open("row-1", &sealed).unwrap(), b"secret");
        assert!(keys.open("row-2", &sealed).is_err());
        assert!(
            Keys::derive(b"root", b"other")
                .open("row-1", &sealed)
                .is_err()
        );
        assert!(keys.open("row-1", "not base64 !").is_err());
        assert!(format!("{keys:?}").contains("redacted"));
    }

    #[test]
    fn macs_are_keyed_and_unambiguous() {
        let keys = Keys::derive(b"root", b"label");
        assert_eq!(keys.mac(&["a", "bc"]), keys.mac(&["a", "bc"]));
        assert_ne!(keys.mac(&["a", "bc"]), keys.mac(&["ab", "c"]));
        assert_ne!(
            keys.mac(&["a"]),
            Keys::derive(b"root", b"other").mac(&["a"])
        );
    }
}
