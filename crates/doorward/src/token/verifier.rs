//! Verifying doorward's access tokens where no doorward store is: a mobile
//! app, or another service, holding only the JWKS document the issuing
//! server publishes (`Auth::jwks`, `doorward token jwks`).
//!
//! The checks are the server's own (header allow-list, `typ`, the algorithm
//! pinned to the key the `kid` names, `iss`, `aud`, `exp`, `nbf`, `iat`, the
//! size cap), but no session is looked up: a revoked session's tokens pass
//! until they expire, which `access_ttl` bounds. Permissions come from the
//! token's role claims and a role table the host provides (the seeded roles
//! unless told otherwise).

use std::collections::HashMap;
use std::sync::RwLock;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::access::verify_with;
use super::keys::VerifyingKey;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::rbac::{PermissionSet, Role, seeded_roles, validate_permission};

/// Verifies access tokens offline from a JWKS document.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward::{Config, Doorward, token::TokenVerifier};
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/keys");
/// let server = Doorward::open(Config {
///     database_url: "memory://".into(),
///     jwt_algorithm: "EdDSA".into(),
///     jwt_private_key: Some(dir.join("ed25519.pem").display().to_string().into()),
///     jwt_public_key: Some(dir.join("ed25519.pub.pem").display().to_string()),
///     argon2_memory_kib: 64,
///     argon2_iterations: 1,
///     ..Config::default()
/// }).await.unwrap();
/// let reg = server.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
///
/// // On the device: only the public keys.
/// let jwks = server.auth().jwks().unwrap().to_string();
/// let verifier = TokenVerifier::new(&jwks, "doorward", "doorward").unwrap();
/// let principal = verifier.verify(&reg.tokens.access_token).unwrap();
/// assert_eq!(principal.username, "ann");
/// assert!(verifier.can(&principal, "users:read").unwrap());
/// assert!(!verifier.can(&principal, "users:write").unwrap());
/// # });
/// ```
#[derive(Debug)]
pub struct TokenVerifier {
    issuer: String,
    audience: String,
    keys: RwLock<HashMap<String, VerifyingKey>>,
    roles: RwLock<HashMap<String, PermissionSet>>,
}

impl TokenVerifier {
    /// A verifier for tokens of `issuer` for `audience`, with the keys of a
    /// JWKS document (`{"keys": [...]}`) and the seeded roles.
    pub fn new(jwks: &str, issuer: &str, audience: &str) -> Result<Self> {
        let verifier = TokenVerifier {
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            keys: RwLock::new(parse_jwks(jwks)?),
            roles: RwLock::new(HashMap::new()),
        };
        verifier.set_roles(&seeded_roles());
        Ok(verifier)
    }

    /// Replace the keys with those of a newer JWKS document (key rotation on
    /// the server). A document that does not parse changes nothing.
    pub fn update_jwks(&self, jwks: &str) -> Result<()> {
        let keys = parse_jwks(jwks)?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
        Ok(())
    }

    /// Replace the role table `can` reads (the server's `roles().list()`).
    pub fn set_roles(&self, roles: &[Role]) {
        let table = roles
            .iter()
            .map(|r| (r.name.clone(), PermissionSet::new(&r.permissions)))
            .collect();
        *self.roles.write().unwrap_or_else(|e| e.into_inner()) = table;
    }

    /// Who the token speaks for, if it is a valid, unexpired doorward access
    /// token signed by one of the keys.
    pub fn verify(&self, access_token: &str) -> Result<Principal> {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        verify_with(&keys, access_token, &self.issuer, &self.audience, true)
    }

    /// Whether the principal's roles (as its token states them) grant
    /// `permission`; roles missing from the table grant nothing.
    pub fn can(&self, principal: &Principal, permission: &str) -> Result<bool> {
        validate_permission(permission)?;
        let roles = self.roles.read().unwrap_or_else(|e| e.into_inner());
        Ok(principal
            .roles
            .iter()
            .filter_map(|name| roles.get(name))
            .any(|set| set.allows(permission)))
    }

    /// Like [`TokenVerifier::can`], but a missing permission is `forbidden`.
    pub fn require(&self, principal: &Principal, permission: &str) -> Result<()> {
        if self.can(principal, permission)? {
            Ok(())
        } else {
            Err(Error::Forbidden {
                permission: permission.to_string(),
            })
        }
    }
}

fn parse_jwks(text: &str) -> Result<HashMap<String, VerifyingKey>> {
    let set: JwkSet = serde_json::from_str(text)
        .map_err(|e| Error::Config(format!("not a JWKS document: {e}")))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let kid = jwk
            .common
            .key_id
            .clone()
            .ok_or_else(|| Error::Config("a JWKS key has no kid".into()))?;
        let key =
            verifying_key(jwk).map_err(|e| Error::Config(format!("JWKS key `{kid}`: {e}")))?;
        if keys.insert(kid.clone(), key).is_some() {
            return Err(Error::Config(format!("JWKS key id `{kid}` is used twice")));
        }
    }
    if keys.is_empty() {
        return Err(Error::Config(
            "the JWKS document has no keys (an HS256 server publishes none: tokens signed with a shared secret cannot be verified offline)".into(),
        ));
    }
    Ok(keys)
}

/// A public JWK as a key bound to its one algorithm.
fn verifying_key(jwk: &Jwk) -> std::result::Result<VerifyingKey, String> {
    let alg = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::OctetKey(_) => return Err("shared secrets are never accepted".into()),
        _ => return Err("unsupported key type or curve".into()),
    };
    let declared = jwk.common.key_algorithm;
    let matches = match declared {
        None => true,
        Some(KeyAlgorithm::EdDSA) => alg == Algorithm::EdDSA,
        Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
        Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
        Some(_) => false,
    };
    if !matches {
        return Err("its alg does not fit its key type".into());
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    VerifyingKey::public(alg, key, None)
}
