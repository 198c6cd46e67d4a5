//! Access tokens (JWT) and refresh tokens (opaque).
//!
//! Access tokens are short-lived JWTs a host or another service can verify
//! alone. Refresh tokens are 256 random bits, stored only as SHA-256 hashes,
//! rotated on every use; each login starts one family (a session), and a
//! token presented after it was rotated revokes the family.

pub(crate) mod access;
pub(crate) mod batch;
pub(crate) mod keys;
mod mint;
pub(crate) mod refresh;
mod verifier;

pub use access::{AccessClaims, LEEWAY_SECS, MAX_TOKEN_BYTES};
pub use keys::MIN_SECRET_BYTES;
pub use verifier::TokenVerifier;

use base64::Engine as _;

use crate::error::{Error, Result};

/// Header and claims of a JWT, **without verifying anything**: for people
/// inspecting a token (`doorward token decode`), never for deciding access.
///
/// ```
/// let (header, claims) = doorward::token::inspect(
///     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").unwrap();
/// assert_eq!(header["alg"], "HS256");
/// assert_eq!(claims["sub"], "x");
/// assert!(doorward::token::inspect("nope").is_err());
/// ```
pub fn inspect(token: &str) -> Result<(serde_json::Value, serde_json::Value)> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::token_invalid("too large"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Error::token_invalid("not a JWS compact token"));
    }
    let part = |text: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| Error::token_invalid("malformed base64"))?;
        serde_json::from_slice(&bytes).map_err(|_| Error::token_invalid("malformed JSON"))
    };
    Ok((part(parts[0])?, part(parts[1])?))
}
