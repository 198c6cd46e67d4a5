//! Sessions and refresh-token families in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::{RefreshRecord, Rotation, SessionRecord, SessionStore};

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(
        &self,
        session: &SessionRecord,
        refresh: &RefreshRecord,
        credentials_version: i64,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        let Some(user) = st.users.get(&session.user_id) else {
            return Err(Error::not_found("user"));
        };
        if user.disabled || user.credentials_version != credentials_version {
            return Ok(false);
        }
        st.sessions.insert(session.id.clone(), session.clone());
        st.refresh
            .insert(refresh.token_hash.clone(), refresh.clone());
        st.emit(events);
        Ok(true)
    }

    async fn session(&self, id: &str) -> Result<Option<SessionRecord>> {
        Ok(self.lock().sessions.get(id).cloned())
    }

    async fn live_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<SessionRecord>> {
        let st = self.lock();
        let mut live: Vec<_> = st
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && s.revoked_at.is_none() && s.expires_at > now)
            .cloned()
            .collect();
        live.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        Ok(live)
    }

    async fn count_live_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(self
            .lock()
            .sessions
            .values()
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
            .count() as u64)
    }

    async fn revoke_session(
        &self,
        id: &str,
        now: DateTime<Utc>,
        reason: &str,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        let ended = !st.revoke_where(now, reason, |s| s.id == id).is_empty();
        if ended {
            st.emit(events);
        }
        Ok(ended)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        now: DateTime<Utc>,
        reason: &str,
        events: &[Event],
    ) -> Result<Vec<String>> {
        let mut st = self.lock();
        let ended = st.revoke_where(now, reason, |s| {
            s.user_id == user_id && Some(s.id.as_str()) != except
        });
        if !ended.is_empty() {
            st.emit(events);
        }
        Ok(ended)
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        Ok(self.lock().refresh.get(token_hash).cloned())
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new: &RefreshRecord,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<Rotation> {
        let mut st = self.lock();
        match st.refresh.get(old_hash) {
            None => return Ok(Rotation::Ended),
            Some(old) if old.used_at.is_some() => return Ok(Rotation::AlreadyUsed),
            Some(_) => {}
        }
        let live = st.sessions.get(&new.session_id).is_some_and(|s| {
            s.revoked_at.is_none() && st.users.get(&s.user_id).is_some_and(|u| !u.disabled)
        });
        if !live {
            return Ok(Rotation::Ended);
        }
        if let Some(old) = st.refresh.get_mut(old_hash) {
            old.used_at = Some(now);
        }
        if let Some(session) = st.sessions.get_mut(&new.session_id) {
            session.expires_at = new.expires_at;
            session.last_refreshed_at = Some(now);
        }
        st.refresh.insert(new.token_hash.clone(), new.clone());
        st.emit(events);
        Ok(Rotation::Rotated)
    }
}
