//! Passkeys in memory.

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::Result;
use crate::events::Event;
use crate::store::passkeys::{PasskeyRecord, PasskeyStore, PasskeyUse};

#[async_trait]
impl PasskeyStore for MemoryStore {
    async fn add_passkey(&self, passkey: &PasskeyRecord, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        st.user_mut(&passkey.user_id)?;
        if st.passkeys.contains_key(&passkey.id) {
            return Ok(false);
        }
        st.passkeys.insert(passkey.id.clone(), passkey.clone());
        st.emit(events);
        Ok(true)
    }

    async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRecord>> {
        let mut keys: Vec<PasskeyRecord> = self
            .lock()
            .passkeys
            .values()
            .filter(|p| p.user_id == user_id)
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }

    async fn passkey(&self, id: &str) -> Result<Option<PasskeyRecord>> {
        Ok(self.lock().passkeys.get(id).cloned())
    }

    async fn use_passkey(&self, id: &str, used: &PasskeyUse) -> Result<bool> {
        let mut st = self.lock();
        let Some(key) = st.passkeys.get_mut(id) else {
            return Ok(false);
        };
        if !(key.sign_count < used.sign_count || (key.sign_count == 0 && used.sign_count == 0)) {
            return Ok(false);
        }
        key.credential = used.credential.clone();
        key.sign_count = used.sign_count;
        key.backup_eligible = used.backup_eligible;
        key.backup_state = used.backup_state;
        key.last_used_at = Some(used.at);
        Ok(true)
    }

    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str) -> Result<bool> {
        let mut st = self.lock();
        match st.passkeys.get_mut(id).filter(|p| p.user_id == user_id) {
            Some(key) => {
                key.name = name.to_string();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_passkey(&self, user_id: &str, id: &str, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        if st.passkeys.get(id).is_none_or(|p| p.user_id != user_id) {
            return Ok(false);
        }
        st.passkeys.remove(id);
        st.emit(events);
        Ok(true)
    }
}
