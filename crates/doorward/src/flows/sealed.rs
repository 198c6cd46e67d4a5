//! One-time flows named by a value the other side hands back (a WebAuthn
//! challenge in the browser's response, an OAuth `state` in the callback),
//! holding state doorward must get back (a ceremony, a PKCE verifier and
//! nonce) sealed in their row.
//!
//! The flow's id and the hash it is consumed with are HMACs of that value
//! under the caller's keys, so the store holds neither the value nor the
//! state in the clear, and taking the flow is one conditional statement:
//! an answer presented twice, or by two instances at once, finds it used.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{MAX_ATTEMPTS, consumed_or_why, single_secret_flow};
use crate::core::Core;
use crate::error::{Error, Result};
use crate::sealing::Keys;
use crate::store::now;

/// The id of the `purpose` flow named by `name`.
pub(crate) fn sealed_flow_id(keys: &Keys, purpose: &str, name: &str) -> String {
    keys.mac(&["sealed flow", purpose, name])
}

fn sealed_flow_hash(keys: &Keys, purpose: &str, name: &str) -> String {
    keys.mac(&["sealed flow secret", purpose, name])
}

impl Core {
    /// Keep `state` for `ttl_secs` in a `purpose` flow named by `name`.
    pub(crate) async fn keep_sealed(
        &self,
        keys: &Keys,
        purpose: &str,
        name: &str,
        user_id: Option<&str>,
        state: &impl Serialize,
        ttl_secs: u64,
    ) -> Result<()> {
        let id = sealed_flow_id(keys, purpose, name);
        let plain = serde_json::to_vec(state)
            .map_err(|e| Error::Internal(format!("cannot keep a {purpose} flow: {e}")))?;
        let sealed = keys.seal(&id, &plain);
        let hash = sealed_flow_hash(keys, purpose, name);
        let flow = single_secret_flow(id, purpose, user_id, hash, Some(sealed), ttl_secs);
        self.store.create_flow(&flow, &[]).await
    }

    /// Use up the `purpose` flow named by `name`: its state and user.
    /// `flow_invalid` if there is none (never kept, taken already, another
    /// purpose's), `flow_expired` past its time.
    pub(crate) async fn take_sealed<T: DeserializeOwned>(
        &self,
        keys: &Keys,
        purpose: &str,
        name: &str,
    ) -> Result<(T, Option<String>)> {
        let id = sealed_flow_id(keys, purpose, name);
        let hash = sealed_flow_hash(keys, purpose, name);
        let consumed = self
            .store
            .consume_flow(&id, purpose, &hash, "", now(), MAX_ATTEMPTS)
            .await?;
        let flow = consumed_or_why(consumed, purpose)?;
        let sealed = flow.sealed.as_deref().unwrap_or_default();
        let plain = keys
            .open(&flow.id, sealed)
            .map_err(|_| Error::Config(format!("a {purpose} flow was sealed under another key")))?;
        let state = serde_json::from_slice(&plain)
            .map_err(|e| Error::Internal(format!("cannot read a {purpose} flow: {e}")))?;
        Ok((state, flow.user_id))
    }
}
