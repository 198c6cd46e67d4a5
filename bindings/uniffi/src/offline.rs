//! `TokenVerifier`: access tokens verified on the device from the server's
//! JWKS document, and `can` answered from their role claims.

use crate::error::DoorwardError;
use crate::types::{Principal, Role, each};

/// Verifies doorward access tokens without a store or a secret.
#[derive(Debug, uniffi::Object)]
pub struct TokenVerifier {
    inner: doorward::token::TokenVerifier,
}

export! {
    sync impl TokenVerifier {
        /// A verifier for `issuer` / `audience` with the keys of a JWKS JSON
        /// document (what `Doorward.jwks()` or `GET /.well-known/jwks.json`
        /// gives) and the seeded roles.
        #[uniffi::constructor(default(issuer = "doorward", audience = "doorward"))]
        pub fn new(jwks: String, issuer: String, audience: String) -> Result<Self, DoorwardError> {
            Ok(TokenVerifier {
                inner: doorward::token::TokenVerifier::new(&jwks, &issuer, &audience)?,
            })
        }

        /// Replace the keys with a newer JWKS document the host fetched.
        pub fn update_jwks(&self, jwks: String) -> Result<(), DoorwardError> {
            Ok(self.inner.update_jwks(&jwks)?)
        }

        /// Replace the role table `can` reads (the server's roles).
        pub fn set_roles(&self, roles: Vec<Role>) {
            let roles: Vec<doorward::Role> = each(roles);
            self.inner.set_roles(&roles);
        }

        /// Who a valid, unexpired access token speaks for.
        pub fn verify(&self, access_token: String) -> Result<Principal, DoorwardError> {
            Ok(self.inner.verify(&access_token)?.into())
        }

        /// Whether the principal's roles grant `permission`.
        pub fn can(&self, principal: Principal, permission: String) -> Result<bool, DoorwardError> {
            Ok(self.inner.can(&principal.into(), &permission)?)
        }

        /// Like `can`, but a missing permission throws `Forbidden`.
        pub fn require(&self, principal: Principal, permission: String) -> Result<(), DoorwardError> {
            Ok(self.inner.require(&principal.into(), &permission)?)
        }
    }
}
