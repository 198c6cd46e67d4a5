//! Second factors in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::Result;
use crate::events::Event;
use crate::store::mfa::{MfaStore, TotpRecord};

#[async_trait]
impl MfaStore for MemoryStore {
    async fn put_totp(
        &self,
        user_id: &str,
        secret_sealed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        st.user_mut(user_id)?;
        if st
            .totp
            .get(user_id)
            .is_some_and(|t| t.confirmed_at.is_some())
        {
            return Ok(false);
        }
        st.totp.insert(
            user_id.to_string(),
            TotpRecord {
                user_id: user_id.to_string(),
                secret_sealed: secret_sealed.to_string(),
                created_at: now,
                confirmed_at: None,
                last_used_step: None,
            },
        );
        Ok(true)
    }

    async fn totp(&self, user_id: &str) -> Result<Option<TotpRecord>> {
        Ok(self.lock().totp.get(user_id).cloned())
    }

    async fn confirm_totp(
        &self,
        user_id: &str,
        step: u64,
        recovery: &[String],
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        let Some(totp) = st
            .totp
            .get_mut(user_id)
            .filter(|t| t.confirmed_at.is_none())
        else {
            return Ok(false);
        };
        totp.confirmed_at = Some(now);
        totp.last_used_step = Some(step);
        st.recovery.insert(
            user_id.to_string(),
            recovery.iter().map(|h| (h.clone(), None)).collect(),
        );
        st.emit(events);
        Ok(true)
    }

    async fn use_totp_step(&self, user_id: &str, step: u64) -> Result<bool> {
        let mut st = self.lock();
        match st.totp.get_mut(user_id) {
            Some(t) if t.confirmed_at.is_some() && t.last_used_step.is_none_or(|s| s < step) => {
                t.last_used_step = Some(step);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn delete_totp(&self, user_id: &str, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        st.recovery.remove(user_id);
        let had = st.totp.remove(user_id).is_some();
        if had {
            st.emit(events);
        }
        Ok(had)
    }

    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        hashes: &[String],
        events: &[Event],
    ) -> Result<()> {
        let mut st = self.lock();
        st.user_mut(user_id)?;
        st.recovery.insert(
            user_id.to_string(),
            hashes.iter().map(|h| (h.clone(), None)).collect(),
        );
        st.emit(events);
        Ok(())
    }

    async fn use_recovery_code(
        &self,
        user_id: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        let code = st
            .recovery
            .get_mut(user_id)
            .and_then(|codes| codes.get_mut(hash))
            .filter(|used| used.is_none());
        Ok(match code {
            Some(used) => {
                *used = Some(now);
                true
            }
            None => false,
        })
    }

    async fn recovery_codes_left(&self, user_id: &str) -> Result<u32> {
        let st = self.lock();
        let left = st
            .recovery
            .get(user_id)
            .map_or(0, |codes| codes.values().filter(|u| u.is_none()).count());
        Ok(left as u32)
    }
}
