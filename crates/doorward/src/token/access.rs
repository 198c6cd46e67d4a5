//! JWT access tokens (RFC 9068 shape: `typ: at+jwt`).
//!
//! The key checks the signature (HMAC-SHA256 keyed once, or
//! `jsonwebtoken` for a public key). Before it: a size cap, a header
//! allow-list (`alg`, `typ`, `kid` only: no `jku`, `x5u`, `jwk`, `x5c`,
//! `crit`), the `typ`, and the algorithm pinned to the key the `kid` names.
//! After it: UTF-8 throughout the claims, the required claims, `exp`, `nbf`
//! (with [`LEEWAY_SECS`]), `iss`, `aud`, and `iat` not in the future.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::Header;
use serde::{Deserialize, Serialize};

use super::keys::{KeyRing, MalformedSignature, VerifyingKey, algorithm_name};
use crate::error::{Error, Result};

/// Largest token accepted, in bytes; larger ones are refused unparsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;
/// The `typ` doorward writes. RFC 7515 §4.1.9 reads a `typ` without a `/`
/// as `application/` + it, and media types compare case-insensitively, so
/// `application/at+jwt` (RFC 9068 uses both) and any casing of either are
/// the same type and verify alike; parameters (`; x=1`) are not ours.
const TYP: &str = "at+jwt";
const TYP_FULL: &str = "application/at+jwt";

/// The claims of a doorward access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// Username at issue time.
    pub preferred_username: String,
    /// Role names at issue time.
    pub roles: Vec<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires at.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// RFC 8176 methods that authenticated the session (none in tokens
    /// from before they were recorded).
    #[serde(default)]
    pub amr: Vec<String>,
    /// `aal1` or `aal2`.
    #[serde(default)]
    pub acr: String,
    /// When the user last proved who they are (seconds since the epoch);
    /// 0 in tokens from before it was recorded, read as `iat`.
    #[serde(default)]
    pub auth_time: i64,
}

impl KeyRing {
    pub(crate) fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let mut header = Header::new(self.signing.alg);
        header.typ = Some(TYP.into());
        header.kid = Some(self.signing.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.signing.key)
            .map_err(|e| Error::Internal(format!("signing failed: {e}")))
    }

    /// Check a token and return its claims. `check_exp: false` is for logout,
    /// which must work with an expired token.
    pub(crate) fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        check_exp: bool,
    ) -> Result<AccessClaims> {
        verify_with(&self.verifying, token, issuer, audience, check_exp)
    }
}

/// Check a token against `keys` (by `kid`) and return its claims: the whole
/// of doorward's verification, shared by [`KeyRing`] and
/// [`super::TokenVerifier`].
///
/// Each part is decoded and parsed once: the key checks the signature
/// ([`VerifyingKey::verifies`]), and the claim checks
/// `jsonwebtoken::decode` would make with a `Validation` (`exp`, `nbf`
/// with the leeway, `iss`, `aud`, the required claims, which the typed
/// claims make required) are made here on the claims as parsed, instead of
/// on a second parse of their own.
pub(crate) fn verify_with(
    keys: &HashMap<String, VerifyingKey>,
    token: &str,
    issuer: &str,
    audience: &str,
    check_exp: bool,
) -> Result<AccessClaims> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Error::token_invalid("too large"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::token_invalid("not a JWS compact token"));
    };
    let checked = check_header(header)?;
    let key = keys
        .get(checked.kid.as_str())
        .ok_or_else(|| Error::token_invalid("unknown key id"))?;
    if checked.alg != algorithm_name(key.alg) {
        return Err(Error::token_invalid("algorithm not allowed for this key"));
    }
    let signed = &token[..header.len() + 1 + payload.len()];
    match key.verifies(signature, signed.as_bytes()) {
        Ok(true) => {}
        Ok(false) => return Err(Error::token_invalid("bad signature")),
        Err(MalformedSignature) => return Err(Error::token_invalid("malformed")),
    }
    let claims = parse_claims(payload)?;
    let now = Utc::now().timestamp();
    let leeway = LEEWAY_SECS as i64;
    if check_exp && claims.exp < now - leeway {
        return Err(Error::TokenExpired);
    }
    if claims.nbf > now + leeway {
        return Err(Error::token_invalid("not valid yet"));
    }
    if claims.iss != issuer {
        return Err(Error::token_invalid("wrong issuer"));
    }
    if claims.aud != audience {
        return Err(Error::token_invalid("wrong audience"));
    }
    if claims.iat > now + leeway {
        return Err(Error::token_invalid("issued in the future"));
    }
    Ok(claims)
}

/// The three header parameters doorward issues, and no other: an unknown
/// one (`jku`, `x5u`, `jwk`, `x5c`, `crit`, ...) or a repeated one fails
/// the parse.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
}

struct CheckedHeader {
    alg: String,
    kid: String,
}

/// Reads the header ourselves, so only the three parameters we issue pass.
fn check_header(encoded: &str) -> Result<CheckedHeader> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::token_invalid("malformed header"))?;
    // UTF-8 checked whole, as for the claims (see `parse_claims`).
    let json = std::str::from_utf8(&bytes).map_err(|_| Error::token_invalid("malformed header"))?;
    let header: RawHeader<'_> = serde_json::from_str(json).map_err(|_| {
        Error::token_invalid("malformed header, or a parameter other than alg, typ and kid")
    })?;
    let typ = header.typ.as_deref().unwrap_or_default();
    if !(typ.eq_ignore_ascii_case(TYP) || typ.eq_ignore_ascii_case(TYP_FULL)) {
        return Err(Error::token_invalid("not an access token"));
    }
    let alg = header
        .alg
        .ok_or_else(|| Error::token_invalid("missing alg"))?;
    let kid = header
        .kid
        .ok_or_else(|| Error::token_invalid("missing kid"))?;
    Ok(CheckedHeader {
        alg: alg.into_owned(),
        kid: kid.into_owned(),
    })
}

/// RFC 7519 §7.2 requires the claims set to be UTF-8 JSON as a whole. The
/// JSON parser checks only the strings it keeps and skips the members
/// doorward does not read unexamined, so the whole text is checked first.
fn parse_claims(encoded: &str) -> Result<AccessClaims> {
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| Error::token_invalid("malformed"))?;
    let json = std::str::from_utf8(&bytes).map_err(|_| Error::token_invalid("malformed"))?;
    serde_json::from_str(json).map_err(|_| Error::token_invalid("malformed"))
}

pub(crate) fn to_datetime(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
