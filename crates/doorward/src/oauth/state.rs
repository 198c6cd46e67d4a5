//! The authorizations doorward started, kept server-side until their
//! callback: a one-time flow per `state`, so any instance finishes what
//! another started, each `state` is answered once (one conditional
//! statement, also when two callbacks race), and nothing that proves the
//! flow (the PKCE verifier, the nonce) ever leaves the store unsealed.
//!
//! The flow is a sealed one-time flow named by the state, under the OAuth
//! key (see `flows/sealed.rs`).

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::sealing::Keys;

/// Seconds an authorization may take: ten minutes.
pub(crate) const AUTHORIZATION_SECS: u64 = 600;
const PURPOSE: &str = "oauth";

/// An authorization waiting for its callback.
#[derive(Serialize, Deserialize)]
pub(crate) struct Pending {
    pub provider: String,
    pub redirect_uri: String,
    pub verifier: String,
    pub nonce: String,
    /// Link to the flow's user rather than sign in.
    pub link: bool,
}

/// What a callback carries, from its query or its form body.
#[derive(Default)]
pub(crate) struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

impl Callback {
    /// Parse a callback URL, its query (`?code=…&state=…`) or a form
    /// post's body.
    pub(crate) fn parse(callback: &str) -> Result<Callback> {
        if callback.len() > 16 * 1024 {
            return Err(Error::validation("callback", "is too long"));
        }
        let query = match callback.split_once('?') {
            Some((_, query)) => query,
            None => callback,
        };
        let query = query.split('#').next().unwrap_or_default();
        let mut found = Callback::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "state" => &mut found.state,
                "code" => &mut found.code,
                "error" => &mut found.error,
                "error_description" => &mut found.error_description,
                "iss" => &mut found.iss,
                _ => continue,
            };
            if slot.is_some() {
                // A repeated parameter is an attack or a bug, never a sign-in.
                return Err(Error::validation("callback", format!("repeats `{key}`")));
            }
            *slot = Some(value.into_owned());
        }
        Ok(found)
    }
}

impl Core {
    pub(crate) fn oauth_keys(&self) -> Result<&Keys> {
        self.oauth_keys.as_ref().ok_or_else(|| {
            Error::Config(
                "OAuth sign-in needs an mfa_encryption_key (or a flow_key or jwt_secret)".into(),
            )
        })
    }

    /// Keep `pending` for the authorization of `state`.
    pub(crate) async fn begin_authorization(
        &self,
        state: &str,
        user_id: Option<&str>,
        pending: &Pending,
    ) -> Result<()> {
        self.keep_sealed(
            self.oauth_keys()?,
            PURPOSE,
            state,
            user_id,
            pending,
            AUTHORIZATION_SECS,
        )
        .await
    }

    /// Use up the authorization of `state`: its pending request and the
    /// user it links to. `oauth_state_invalid` for an unknown, used or
    /// expired state, or one other than `expected` (the state the host
    /// kept in the browser that started it).
    pub(crate) async fn end_authorization(
        &self,
        state: Option<&str>,
        expected: Option<&str>,
    ) -> Result<(Pending, Option<String>)> {
        let keys = self.oauth_keys()?;
        let state = state
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or(Error::OAuthStateInvalid)?;
        if let Some(expected) = expected
            && !bool::from(expected.as_bytes().ct_eq(state.as_bytes()))
        {
            return Err(Error::OAuthStateInvalid);
        }
        self.take_sealed(keys, PURPOSE, state)
            .await
            .map_err(|e| match e {
                Error::FlowInvalid { .. } | Error::FlowExpired => Error::OAuthStateInvalid,
                other => other,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_parse_from_urls_queries_and_bodies() {
        for text in [
            "https://app.example/cb?code=abc&state=s%201",
            "?code=abc&state=s+1",
            "code=abc&state=s%201&user=%7B%7D",
        ] {
            let c = Callback::parse(text).unwrap();
            assert_eq!(c.code.as_deref(), Some("abc"), "{text}");
            assert_eq!(c.state.as_deref(), Some("s 1"), "{text}");
        }
        let c = Callback::parse("error=access_denied&state=x&iss=https%3A%2F%2Fi").unwrap();
        assert_eq!(c.error.as_deref(), Some("access_denied"));
        assert_eq!(c.iss.as_deref(), Some("https://i"));
        assert!(Callback::parse("state=a&state=b").is_err());
        assert!(Callback::parse(&"a".repeat(20_000)).is_err());
    }
}
