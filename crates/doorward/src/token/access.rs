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
use std::mem::MaybeUninit;

use chrono::{DateTime, Utc};
use jsonwebtoken::Header;
use serde::{Deserialize, Serialize};

use super::keys::{KeyRing, MalformedSignature, VerifyingKey, algorithm_name};
use crate::auth::Principal;
use crate::auth::assurance::aal_of;
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

    /// Check a token and say whom it speaks for. `check_exp: false` is for
    /// logout, which must work with an expired token.
    pub(crate) fn verify(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        check_exp: bool,
    ) -> Result<Principal> {
        verify_with(&self.verifying, token, issuer, audience, check_exp)
    }
}

/// Check a token against `keys` (by `kid`) and say whom it speaks for: the
/// whole of doorward's verification, shared by [`KeyRing`] and
/// [`super::TokenVerifier`].
pub(crate) fn verify_with(
    keys: &HashMap<String, VerifyingKey>,
    token: &str,
    issuer: &str,
    audience: &str,
    check_exp: bool,
) -> Result<Principal> {
    checked_claims(keys, token, issuer, audience, check_exp, |c| {
        Principal::from(c)
    })
}

/// `then` of a token's claims once they have passed every check.
///
/// Each part is decoded and parsed once: the key checks the signature
/// ([`VerifyingKey::verifies`]), and the claim checks
/// `jsonwebtoken::decode` would make with a `Validation` (`exp`, `nbf`
/// with the leeway, `iss`, `aud`, the required claims, which the typed
/// claims make required) are made here on the claims as parsed, instead of
/// on a second parse of their own. The claims borrow from the decoded text,
/// so `then` keeps what it needs and the rest is never copied.
pub(crate) fn checked_claims<T>(
    keys: &HashMap<String, VerifyingKey>,
    token: &str,
    issuer: &str,
    audience: &str,
    check_exp: bool,
    then: impl FnOnce(ClaimsIn<'_>) -> T,
) -> Result<T> {
    let signed = Signed::of(keys, token)?;
    signed.check_signature()?;
    signed.claims(issuer, audience, check_exp, then)
}

/// A token whose header has passed and whose key is known, its signature
/// not yet checked. The steps of [`checked_claims`], apart, so that
/// token/batch.rs can check the signatures of many as one.
pub(crate) struct Signed<'t, 'k> {
    pub key: &'k VerifyingKey,
    /// `header.payload`, the bytes the signature signs.
    pub message: &'t str,
    pub signature: &'t str,
    payload: &'t str,
}

impl<'t, 'k> Signed<'t, 'k> {
    /// The checks before the signature: the size cap, the three parts, and
    /// the header (see [`header_key`]).
    pub(crate) fn of(keys: &'k HashMap<String, VerifyingKey>, token: &'t str) -> Result<Self> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::token_invalid("too large"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::token_invalid("not a JWS compact token"));
        };
        Ok(Signed {
            key: header_key(keys, header)?,
            message: &token[..header.len() + 1 + payload.len()],
            signature,
            payload,
        })
    }

    /// The signature, checked by the key alone.
    pub(crate) fn check_signature(&self) -> Result<()> {
        match self.key.verifies(self.signature, self.message.as_bytes()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::token_invalid("bad signature")),
            Err(MalformedSignature) => Err(Error::token_invalid("malformed")),
        }
    }

    /// `then` of the claims once they pass every check, the signature
    /// having passed.
    pub(crate) fn claims<T>(
        &self,
        issuer: &str,
        audience: &str,
        check_exp: bool,
        then: impl FnOnce(ClaimsIn<'_>) -> T,
    ) -> Result<T> {
        let (mut stack, mut heap) = ([MaybeUninit::uninit(); CLAIMS_BYTES], Vec::new());
        let bytes = decode(self.payload, &mut stack, &mut heap)
            .ok_or_else(|| Error::token_invalid("malformed"))?;
        let claims = parse_claims(bytes)?;
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
        Ok(then(claims))
    }
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

/// The key the header names, once the header has passed: only the three
/// parameters we issue, the `typ`, and the `alg` the key is pinned to.
fn header_key<'k>(
    keys: &'k HashMap<String, VerifyingKey>,
    encoded: &str,
) -> Result<&'k VerifyingKey> {
    let (mut stack, mut heap) = ([MaybeUninit::uninit(); HEADER_BYTES], Vec::new());
    let bytes = decode(encoded, &mut stack, &mut heap)
        .ok_or_else(|| Error::token_invalid("malformed header"))?;
    // UTF-8 checked whole, as for the claims (see `parse_claims`).
    let json = std::str::from_utf8(bytes).map_err(|_| Error::token_invalid("malformed header"))?;
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
    let key = keys
        .get(kid.as_ref())
        .ok_or_else(|| Error::token_invalid("unknown key id"))?;
    if alg != algorithm_name(key.alg) {
        return Err(Error::token_invalid("algorithm not allowed for this key"));
    }
    Ok(key)
}

/// The claims of an access token as a check reads them: what a
/// [`Principal`] keeps is owned, what is only compared (`iss`, `aud`) or
/// not kept (`jti`, `acr`) borrows from the decoded text. The same members
/// as [`AccessClaims`], required and defaulted alike.
#[derive(Deserialize)]
pub(crate) struct ClaimsIn<'a> {
    pub sub: String,
    pub sid: String,
    pub preferred_username: String,
    pub roles: Vec<String>,
    #[serde(borrow)]
    pub iss: Cow<'a, str>,
    #[serde(borrow)]
    pub aud: Cow<'a, str>,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    /// Required, as in [`AccessClaims`], and otherwise unused here.
    #[serde(borrow, rename = "jti")]
    _jti: Cow<'a, str>,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default, borrow)]
    pub acr: Cow<'a, str>,
    #[serde(default)]
    pub auth_time: i64,
}

impl From<ClaimsIn<'_>> for Principal {
    fn from(claims: ClaimsIn<'_>) -> Self {
        // Tokens from before `auth_time` was recorded carry 0: read as `iat`.
        let auth_time = if claims.auth_time > 0 {
            claims.auth_time
        } else {
            claims.iat
        };
        Principal {
            aal: aal_of(&claims.acr),
            amr: claims.amr,
            auth_time: to_datetime(auth_time),
            user_id: claims.sub,
            username: claims.preferred_username,
            session_id: claims.sid,
            roles: claims.roles,
            expires_at: to_datetime(claims.exp),
        }
    }
}

/// RFC 7519 §7.2 requires the claims set to be UTF-8 JSON as a whole. The
/// JSON parser checks only the strings it keeps and skips the members
/// doorward does not read unexamined, so the whole text is checked first.
fn parse_claims(bytes: &[u8]) -> Result<ClaimsIn<'_>> {
    let json = std::str::from_utf8(bytes).map_err(|_| Error::token_invalid("malformed"))?;
    serde_json::from_str(json).map_err(|_| Error::token_invalid("malformed"))
}

/// Room on the stack for a decoded header and claims set: doorward's own
/// come to about 60 and 400 bytes.
const HEADER_BYTES: usize = 192;
const CLAIMS_BYTES: usize = 1024;

/// `encoded` decoded into `stack` when it fits, as doorward's own headers
/// and claims do, else into `heap`: a verification then allocates for
/// nothing but what it returns. `None` unless `encoded` is unpadded
/// base64url.
///
/// Decoded by `base64-simd` (SSSE3/AVX2, chosen at run time), which takes
/// about a third of the `base64` crate's time on a token's 500 characters.
/// It refuses the same inputs: padding, non-alphabet bytes, a dangling
/// character, and non-zero bits after the last byte. The stack buffer is
/// left uninitialised: the decoder writes what is read.
fn decode<'b>(
    encoded: &str,
    stack: &'b mut [MaybeUninit<u8>],
    heap: &'b mut Vec<u8>,
) -> Option<&'b [u8]> {
    let engine = base64_simd::URL_SAFE_NO_PAD;
    let src = encoded.as_bytes();
    let len = engine.decoded_length(src).ok()?;
    if len > stack.len() {
        *heap = engine.decode_to_vec(src).ok()?;
        return Some(heap);
    }
    let decoded = engine
        .decode(src, base64_simd::Out::from_uninit_slice(&mut stack[..len]))
        .ok()?;
    Some(decoded)
}

pub(crate) fn to_datetime(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ring() -> KeyRing {
        let config = Config {
            jwt_secret: Some("a-secret-of-at-least-thirty-two-bytes".to_string().into()),
            jwt_key_id: Some("hs1".into()),
            ..Config::default()
        };
        KeyRing::from_config(&config).unwrap().unwrap()
    }

    fn claims(roles: Vec<String>) -> AccessClaims {
        let now = Utc::now().timestamp();
        AccessClaims {
            sub: "u1".into(),
            sid: "s1".into(),
            preferred_username: "ann".into(),
            roles,
            iss: "doorward".into(),
            aud: "doorward".into(),
            iat: now,
            nbf: now,
            exp: now + 60,
            jti: "j1".into(),
            amr: vec!["pwd".into()],
            acr: "aal1".into(),
            auth_time: now,
        }
    }

    /// Parts too long for the stack buffers are decoded on the heap and
    /// checked alike: many roles (claims past 1 KiB), a long `kid`.
    #[test]
    fn long_parts_take_the_heap_and_pass_the_same_checks() {
        let ring = ring();
        let roles: Vec<String> = (0..100).map(|i| format!("role-{i}")).collect();
        let token = ring.sign(&claims(roles.clone())).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        assert!(payload.len() * 3 / 4 > CLAIMS_BYTES);
        let principal = ring.verify(&token, "doorward", "doorward", true).unwrap();
        assert_eq!(principal.roles, roles);
        assert_eq!(principal.username, "ann");

        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.typ = Some(TYP.into());
        header.kid = Some("k".repeat(300));
        let long = jsonwebtoken::encode(&header, &claims(vec![]), &ring.signing.key).unwrap();
        assert!(long.split('.').next().unwrap().len() * 3 / 4 > HEADER_BYTES);
        let err = ring
            .verify(&long, "doorward", "doorward", true)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            Error::token_invalid("unknown key id").to_string()
        );
    }

    /// Only canonical unpadded base64url decodes, on either buffer.
    #[test]
    fn parts_decode_only_from_canonical_base64url() {
        let both = |text: &str| {
            let (mut heap, mut heap_only) = (Vec::new(), Vec::new());
            let on_stack =
                decode(text, &mut [MaybeUninit::uninit(); 4], &mut heap).map(<[u8]>::to_vec);
            let on_heap = decode(text, &mut [], &mut heap_only).map(<[u8]>::to_vec);
            assert_eq!(on_stack, on_heap, "{text}");
            assert!(heap.is_empty(), "{text} fits the stack buffer");
            on_stack
        };
        assert_eq!(both(""), Some(vec![]));
        assert_eq!(both("AA"), Some(vec![0]));
        assert_eq!(both("AAA"), Some(vec![0, 0]));
        assert_eq!(both("ab-_"), Some(vec![105, 191, 191]));
        for bad in ["A", "AB", "AAB", "AA==", "ab+c", "ab/c", "a b=", "é"] {
            assert_eq!(both(bad), None, "{bad}");
        }
    }
}
