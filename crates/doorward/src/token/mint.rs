//! Minting the tokens a session hands out: an access token signed with the
//! configured keys and TTL, and refresh tokens with the record the store
//! keeps of them. Login, registration, issuing and refresh all mint through
//! here, so every token carries the same claims and lifetimes.

use chrono::Utc;
use uuid::Uuid;

use crate::auth::assurance::{Assurance, acr};
use crate::core::Core;
use crate::error::Result;
use crate::store::{RefreshRecord, UserRecord, now};
use crate::token::access::AccessClaims;
use crate::token::refresh;

impl Core {
    pub(crate) fn access_token(
        &self,
        user: &UserRecord,
        session_id: &str,
        roles: Vec<String>,
        assurance: &Assurance,
    ) -> Result<(String, u64)> {
        let iat = Utc::now().timestamp();
        let ttl = self.config.access_ttl;
        let claims = AccessClaims {
            sub: user.id.clone(),
            sid: session_id.to_string(),
            preferred_username: user.username.clone(),
            roles,
            iss: self.config.jwt_issuer.clone(),
            aud: self.config.jwt_audience.clone(),
            iat,
            nbf: iat,
            exp: iat.saturating_add(ttl as i64),
            jti: Uuid::new_v4().to_string(),
            amr: assurance.amr.clone(),
            acr: acr(assurance.aal),
            auth_time: assurance.auth_time.timestamp(),
        };
        Ok((self.keys()?.sign(&claims)?, ttl))
    }

    /// A session's first refresh token, and what to store of it.
    pub(crate) fn new_refresh(&self, session_id: &str, user_id: &str) -> (String, RefreshRecord) {
        self.refresh_record(refresh::generate(), session_id, user_id)
    }

    /// The token that replaces `token` of `session_id` when it rotates, and
    /// what to store of it: the same on every call and every instance.
    pub(crate) fn successor_refresh(
        &self,
        token: &str,
        session_id: &str,
        user_id: &str,
    ) -> Result<(String, RefreshRecord)> {
        let next = refresh::successor(&self.keys()?.successor_key, token)?;
        Ok(self.refresh_record(next, session_id, user_id))
    }

    fn refresh_record(
        &self,
        (token, token_hash): (String, String),
        session_id: &str,
        user_id: &str,
    ) -> (String, RefreshRecord) {
        let created_at = now();
        let record = RefreshRecord {
            token_hash,
            session_id: session_id.to_string(),
            user_id: user_id.to_string(),
            created_at,
            expires_at: created_at + chrono::Duration::seconds(self.config.refresh_ttl as i64),
            used_at: None,
        };
        (token, record)
    }
}
