//! Users and their credentials in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::{EndSessions, ListAfter, UserFilter, UserRecord, UserStore};

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &UserRecord, roles: &[&str], events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        st.check_new_user(user, roles)?;
        st.insert_user(user, roles);
        st.emit(events);
        Ok(())
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn user_by_email_key(&self, email_key: &str) -> Result<Option<UserRecord>> {
        let st = self.lock();
        Ok(st
            .by_email
            .get(email_key)
            .and_then(|id| st.users.get(id))
            .cloned())
    }

    async fn user_by_username_key(&self, username_key: &str) -> Result<Option<UserRecord>> {
        let st = self.lock();
        Ok(st
            .by_username
            .get(username_key)
            .and_then(|id| st.users.get(id))
            .cloned())
    }

    async fn list_users(
        &self,
        after: Option<&ListAfter>,
        filter: &UserFilter<'_>,
        limit: u32,
    ) -> Result<Vec<UserRecord>> {
        let st = self.lock();
        let range: Box<dyn Iterator<Item = &ListAfter>> = match after {
            Some(after) => Box::new(st.by_created.range((
                std::ops::Bound::Excluded(after.clone()),
                std::ops::Bound::Unbounded,
            ))),
            None => Box::new(st.by_created.iter()),
        };
        Ok(range
            .filter_map(|(_, id)| st.users.get(id))
            .filter(|u| {
                filter
                    .prefix
                    .is_none_or(|p| u.email_key.starts_with(p) || u.username_key.starts_with(p))
            })
            .filter(|u| {
                filter
                    .role
                    .is_none_or(|role| st.grants.get(&u.id).is_some_and(|held| held.contains(role)))
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn count_users(&self) -> Result<u64> {
        Ok(self.lock().users.len() as u64)
    }

    async fn update_identity(&self, user: &UserRecord, events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        let Some(old) = st.users.get(&user.id).cloned() else {
            return Err(Error::not_found("user"));
        };
        if st
            .by_email
            .get(&user.email_key)
            .is_some_and(|id| *id != user.id)
        {
            return Err(Error::DuplicateEmail);
        }
        if st
            .by_username
            .get(&user.username_key)
            .is_some_and(|id| *id != user.id)
        {
            return Err(Error::DuplicateUsername);
        }
        st.by_email.remove(&old.email_key);
        st.by_username.remove(&old.username_key);
        st.by_email.insert(user.email_key.clone(), user.id.clone());
        st.by_username
            .insert(user.username_key.clone(), user.id.clone());
        let stored = st.users.get_mut(&user.id).expect("checked above");
        stored.username = user.username.clone();
        stored.username_key = user.username_key.clone();
        stored.email = user.email.clone();
        stored.email_key = user.email_key.clone();
        stored.updated_at = user.updated_at;
        stored.email_verified_at = user.email_verified_at;
        st.emit(events);
        Ok(())
    }

    async fn update_password(
        &self,
        user_id: &str,
        password_hash: &str,
        replaces: Option<&str>,
        now: DateTime<Utc>,
        end: EndSessions<'_>,
        events: &[Event],
    ) -> Result<Vec<String>> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        if replaces.is_some_and(|old| old != user.password_hash) {
            return Err(Error::InvalidCredentials);
        }
        user.password_hash = password_hash.to_string();
        user.updated_at = now;
        user.credentials_version += 1;
        for purpose in ["reset_password", "mfa_password", "mfa_email"] {
            st.cancel_flows(user_id, purpose, now);
        }
        st.emit(events);
        Ok(match end {
            EndSessions::AllExcept(keep) => st.revoke_where(now, "password_changed", |s| {
                s.user_id == user_id && Some(s.id.as_str()) != keep
            }),
            EndSessions::None => Vec::new(),
        })
    }

    async fn rehash_password(&self, user_id: &str, verified: &str, rehashed: &str) -> Result<bool> {
        let mut st = self.lock();
        match st.users.get_mut(user_id) {
            Some(user) if user.password_hash == verified => {
                user.password_hash = rehashed.to_string();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn set_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<Vec<String>> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        user.disabled = disabled;
        user.updated_at = now;
        st.emit(events);
        Ok(if disabled {
            st.revoke_where(now, "disabled", |s| s.user_id == user_id)
        } else {
            Vec::new()
        })
    }

    async fn touch_login(&self, user_id: &str, now: DateTime<Utc>) -> Result<()> {
        if let Some(user) = self.lock().users.get_mut(user_id) {
            user.last_login_at = Some(now);
            user.failed_logins = 0;
            user.locked_until = None;
        }
        Ok(())
    }

    async fn record_failed_login(&self, user_id: &str, events: &[Event]) -> Result<u32> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        user.failed_logins = user.failed_logins.saturating_add(1);
        let count = user.failed_logins;
        st.emit(events);
        Ok(count)
    }

    async fn lock_user(&self, user_id: &str, until: DateTime<Utc>, events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        st.user_mut(user_id)?.locked_until = Some(until);
        st.emit(events);
        Ok(())
    }

    async fn unlock_user(&self, user_id: &str) -> Result<bool> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        let had = user.failed_logins > 0 || user.locked_until.is_some();
        user.failed_logins = 0;
        user.locked_until = None;
        Ok(had)
    }

    async fn delete_user(&self, user_id: &str, events: &[Event]) -> Result<Option<Vec<String>>> {
        let mut st = self.lock();
        let Some(user) = st.users.remove(user_id) else {
            return Ok(None);
        };
        let now = crate::store::now();
        let mut live: Vec<String> = st
            .sessions
            .values()
            .filter(|s| s.user_id == user_id && s.revoked_at.is_none() && s.expires_at > now)
            .map(|s| s.id.clone())
            .collect();
        live.sort_unstable();
        st.by_email.remove(&user.email_key);
        st.by_username.remove(&user.username_key);
        st.by_created.remove(&(user.created_at, user.id.clone()));
        st.grants.remove(user_id);
        st.login_clients.retain(|(user, _), _| user != user_id);
        st.sessions.retain(|_, s| s.user_id != user_id);
        st.refresh.retain(|_, r| r.user_id != user_id);
        st.flows
            .retain(|_, f| f.user_id.as_deref() != Some(user_id));
        st.totp.remove(user_id);
        st.recovery.remove(user_id);
        st.passkeys.retain(|_, p| p.user_id != user_id);
        st.identities.retain(|_, i| i.user_id != user_id);
        st.emit(events);
        Ok(Some(live))
    }
}

impl super::State {
    /// Refuse a new account that the unique indexes would.
    pub(super) fn check_new_user(&self, user: &UserRecord, roles: &[&str]) -> Result<()> {
        if self.by_email.contains_key(&user.email_key) {
            return Err(Error::DuplicateEmail);
        }
        if self.by_username.contains_key(&user.username_key) {
            return Err(Error::DuplicateUsername);
        }
        if let Some(missing) = roles.iter().find(|r| !self.roles.contains_key(**r)) {
            return Err(Error::Internal(format!(
                "initial role `{missing}` does not exist"
            )));
        }
        Ok(())
    }

    /// Insert a checked new account with its initial roles.
    pub(super) fn insert_user(&mut self, user: &UserRecord, roles: &[&str]) {
        self.by_email
            .insert(user.email_key.clone(), user.id.clone());
        self.by_username
            .insert(user.username_key.clone(), user.id.clone());
        self.by_created.insert((user.created_at, user.id.clone()));
        self.grants.insert(
            user.id.clone(),
            roles.iter().map(|r| r.to_string()).collect(),
        );
        self.users.insert(user.id.clone(), user.clone());
    }
}
