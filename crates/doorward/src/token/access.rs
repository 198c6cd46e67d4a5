//! JWT access tokens (RFC 9068 shape: `typ: at+jwt`).
//!
//! `jsonwebtoken` checks the signature, `exp`, `nbf`, `iss` and `aud`. What
//! it leaves to us, we do before it sees the token: a size cap, a header
//! allow-list (`alg`, `typ`, `kid` only: no `jku`, `x5u`, `jwk`, `x5c`,
//! `crit`), the `typ`, the algorithm pinned to the key the `kid` names, and
//! UTF-8 throughout header and claims. After it: `iat` not in the future.

use std::collections::HashMap;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::{KeyRing, VerifyingKey, algorithm_name};
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
const ALLOWED_HEADER: [&str; 3] = ["alg", "typ", "kid"];

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
    let kid = check_header(token)?;
    check_claims_text(token)?;
    let key = keys
        .get(&kid.kid)
        .ok_or_else(|| Error::token_invalid("unknown key id"))?;
    if kid.alg != algorithm_name(key.alg) {
        return Err(Error::token_invalid("algorithm not allowed for this key"));
    }
    let mut validation = Validation::new(key.alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = check_exp;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let data =
        jsonwebtoken::decode::<AccessClaims>(token, &key.key, &validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::ExpiredSignature => Error::TokenExpired,
            ErrorKind::InvalidSignature => Error::token_invalid("bad signature"),
            ErrorKind::InvalidIssuer => Error::token_invalid("wrong issuer"),
            ErrorKind::InvalidAudience => Error::token_invalid("wrong audience"),
            ErrorKind::ImmatureSignature => Error::token_invalid("not valid yet"),
            ErrorKind::InvalidAlgorithm => Error::token_invalid("algorithm not allowed"),
            ErrorKind::MissingRequiredClaim(_) => Error::token_invalid("missing claim"),
            _ => Error::token_invalid("malformed"),
        })?;
    let claims = data.claims;
    if claims.iat > Utc::now().timestamp() + LEEWAY_SECS as i64 {
        return Err(Error::token_invalid("issued in the future"));
    }
    Ok(claims)
}

struct CheckedHeader {
    alg: String,
    kid: String,
}

/// Reads the header ourselves, so only the three parameters we issue pass.
fn check_header(token: &str) -> Result<CheckedHeader> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::token_invalid("not a JWS compact token"));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| Error::token_invalid("malformed header"))?;
    // UTF-8 checked whole, as for the claims (see `check_claims_text`).
    let json = std::str::from_utf8(&bytes).map_err(|_| Error::token_invalid("malformed header"))?;
    let value: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|_| Error::token_invalid("malformed header"))?;
    if value.keys().any(|k| !ALLOWED_HEADER.contains(&k.as_str())) {
        return Err(Error::token_invalid("header parameter not allowed"));
    }
    let text = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let typ = text("typ").unwrap_or_default();
    if !(typ.eq_ignore_ascii_case(TYP) || typ.eq_ignore_ascii_case(TYP_FULL)) {
        return Err(Error::token_invalid("not an access token"));
    }
    let alg = text("alg").ok_or_else(|| Error::token_invalid("missing alg"))?;
    let kid = text("kid").ok_or_else(|| Error::token_invalid("missing kid"))?;
    Ok(CheckedHeader { alg, kid })
}

/// RFC 7519 §7.2 requires the claims set to be UTF-8 JSON as a whole. The
/// JSON parser checks only the strings it keeps and skips the members
/// doorward does not read unexamined, so the whole text is checked here.
fn check_claims_text(token: &str) -> Result<()> {
    let claims = token.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .map_err(|_| Error::token_invalid("malformed"))?;
    std::str::from_utf8(&bytes).map_err(|_| Error::token_invalid("malformed"))?;
    Ok(())
}

pub(crate) fn to_datetime(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}
