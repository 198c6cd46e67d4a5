//! One-time secrets in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::flows::{Consumption, FlowRecord, FlowStore};

#[async_trait]
impl FlowStore for MemoryStore {
    async fn create_flow(&self, flow: &FlowRecord, events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        if let Some(user_id) = &flow.user_id {
            st.user_mut(user_id)?;
        }
        if st.flows.contains_key(&flow.id) {
            return Err(Error::Storage("flow id already stored".into()));
        }
        st.flows.insert(flow.id.clone(), flow.clone());
        st.emit(events);
        Ok(())
    }

    async fn flow(&self, id: &str) -> Result<Option<FlowRecord>> {
        Ok(self.lock().flows.get(id).cloned())
    }

    async fn consume_flow(
        &self,
        id: &str,
        purpose: &str,
        link_hash: &str,
        code_hash: &str,
        now: DateTime<Utc>,
        max_attempts: u32,
    ) -> Result<Consumption> {
        let mut st = self.lock();
        let Some(flow) = st.flows.get_mut(id) else {
            return Ok(Consumption::Unusable(None));
        };
        if flow.purpose != purpose
            || flow.consumed_at.is_some()
            || flow.expires_at <= now
            || flow.attempts >= max_attempts
        {
            return Ok(Consumption::Unusable(Some(flow.clone())));
        }
        flow.attempts += 1;
        if flow.link_hash == link_hash || flow.code_hash == code_hash {
            flow.consumed_at = Some(now);
            Ok(Consumption::Consumed(flow.clone()))
        } else {
            Ok(Consumption::Wrong {
                attempts: flow.attempts,
            })
        }
    }

    async fn clear_sealed(&self, id: &str) -> Result<()> {
        if let Some(flow) = self.lock().flows.get_mut(id) {
            flow.sealed = None;
        }
        Ok(())
    }

    async fn cancel_flows(&self, user_id: &str, purpose: &str, now: DateTime<Utc>) -> Result<u64> {
        Ok(self.lock().cancel_flows(user_id, purpose, now))
    }

    async fn prune_flows(&self, before: DateTime<Utc>) -> Result<u64> {
        let mut st = self.lock();
        let count = st.flows.len();
        st.flows.retain(|_, f| f.expires_at >= before);
        Ok((count - st.flows.len()) as u64)
    }

    async fn set_email_verified(
        &self,
        user_id: &str,
        email_key: &str,
        at: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        if user.email_key != email_key || user.email_verified_at.is_some() {
            return Ok(false);
        }
        user.email_verified_at = Some(at);
        st.emit(events);
        Ok(true)
    }

    async fn change_email(
        &self,
        user_id: &str,
        email: &str,
        email_key: &str,
        at: DateTime<Utc>,
        events: &[Event],
    ) -> Result<()> {
        let mut st = self.lock();
        if st.by_email.get(email_key).is_some_and(|id| id != user_id) {
            return Err(Error::DuplicateEmail);
        }
        let user = st.user_mut(user_id)?;
        let old_key = std::mem::replace(&mut user.email_key, email_key.to_string());
        user.email = email.to_string();
        user.email_verified_at = Some(at);
        user.updated_at = at;
        st.by_email.remove(&old_key);
        st.by_email
            .insert(email_key.to_string(), user_id.to_string());
        st.emit(events);
        Ok(())
    }
}
