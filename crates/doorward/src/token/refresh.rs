//! Opaque refresh tokens: `dwr_` and 43 base64url characters (256 bits).
//! High-entropy tokens need no slow hash: SHA-256 of the token is the
//! lookup key, and the token itself is never stored.
//!
//! A session's first token is random; each later one is its predecessor's
//! [`successor`], a keyed function of it. A client that retries a refresh
//! whose answer it lost (within `refresh_reuse_grace`) is handed the very
//! token it missed, so a retry never forks a second chain.

use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

const PREFIX: &str = "dwr_";
const RANDOM_BYTES: usize = 32;
const ENCODED_LEN: usize = 43;

/// A new refresh token and the hash to store.
pub(crate) fn generate() -> (String, String) {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = encode(&bytes);
    let hash = hash(&token);
    (token, hash)
}

/// The token that replaces `token` when it is rotated, and the hash to
/// store: HMAC-SHA256 under `key` (a secret of the signing key's), so only
/// the server can derive it, and the same on every instance.
pub(crate) fn successor(key: &[u8; 32], token: &str) -> Result<(String, String)> {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key)
        .map_err(|_| Error::Internal("refresh successor key rejected".into()))?;
    mac.update(token.as_bytes());
    let token = encode(&mac.finalize().into_bytes());
    let hash = hash(&token);
    Ok((token, hash))
}

fn encode(bytes: &[u8]) -> String {
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The stored form of a presented token, after checking its shape so junk
/// never reaches the store.
pub(crate) fn parse(token: &str) -> Result<String> {
    let body = token
        .strip_prefix(PREFIX)
        .ok_or_else(|| Error::token_invalid("not a refresh token"))?;
    if body.len() != ENCODED_LEN
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::token_invalid("malformed refresh token"));
    }
    Ok(hash(token))
}

fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_to_their_hash() {
        let (token, stored) = generate();
        assert_eq!(token.len(), PREFIX.len() + ENCODED_LEN);
        assert_eq!(parse(&token).unwrap(), stored);
        assert_ne!(generate().0, token);
    }

    #[test]
    fn successors_are_keyed_and_parse_to_their_hash() {
        let (token, _) = generate();
        let (next, stored) = successor(&[7; 32], &token).unwrap();
        assert_eq!(parse(&next).unwrap(), stored);
        assert_eq!(successor(&[7; 32], &token).unwrap().0, next);
        assert_ne!(successor(&[8; 32], &token).unwrap().0, next);
        assert_ne!(successor(&[7; 32], &next).unwrap().0, next);
    }

    #[test]
    fn junk_is_rejected() {
        for junk in [
            "",
            "dwr_",
            "dwr_short",
            "abc",
            &format!("dwr_{}", "!".repeat(43)),
        ] {
            assert_eq!(
                parse(junk).unwrap_err().code(),
                crate::ErrorCode::TokenInvalid
            );
        }
    }
}
