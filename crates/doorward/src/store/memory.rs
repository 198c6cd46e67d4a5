//! A store in process memory: for tests, demos and single-process hosts that
//! can lose their users on restart. One mutex makes every call atomic, so it
//! keeps the same uniqueness and rotation guarantees as the SQL backends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    EndSessions, ListAfter, RefreshRecord, RoleStore, SessionRecord, SessionStore, Store,
    UserRecord, UserStore,
};
use crate::error::{Error, Result};
use crate::rbac::Role;

/// The in-memory backend (`database_url = "memory://"`).
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, UserRecord>,
    by_email: HashMap<String, String>,
    by_username: HashMap<String, String>,
    by_created: BTreeSet<ListAfter>,
    roles: BTreeMap<String, Role>,
    grants: HashMap<String, BTreeSet<String>>,
    sessions: HashMap<String, SessionRecord>,
    refresh: HashMap<String, RefreshRecord>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-made change:
        // every mutation below checks first and writes after.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn revoke_where(
        &mut self,
        now: DateTime<Utc>,
        reason: &str,
        pick: impl Fn(&SessionRecord) -> bool,
    ) -> Vec<String> {
        let mut ended = Vec::new();
        for s in self.sessions.values_mut() {
            if s.revoked_at.is_none() && s.expires_at > now && pick(s) {
                s.revoked_at = Some(now);
                s.revoked_reason = Some(reason.to_string());
                ended.push(s.id.clone());
            }
        }
        ended.sort_unstable();
        ended
    }

    fn user_mut(&mut self, user_id: &str) -> Result<&mut UserRecord> {
        self.users
            .get_mut(user_id)
            .ok_or_else(|| Error::not_found("user"))
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &UserRecord, roles: &[&str]) -> Result<()> {
        let mut st = self.lock();
        if st.by_email.contains_key(&user.email_key) {
            return Err(Error::DuplicateEmail);
        }
        if st.by_username.contains_key(&user.username_key) {
            return Err(Error::DuplicateUsername);
        }
        if let Some(missing) = roles.iter().find(|r| !st.roles.contains_key(**r)) {
            return Err(Error::Internal(format!(
                "initial role `{missing}` does not exist"
            )));
        }
        st.by_email.insert(user.email_key.clone(), user.id.clone());
        st.by_username
            .insert(user.username_key.clone(), user.id.clone());
        st.by_created.insert((user.created_at, user.id.clone()));
        st.grants.insert(
            user.id.clone(),
            roles.iter().map(|r| r.to_string()).collect(),
        );
        st.users.insert(user.id.clone(), user.clone());
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

    async fn list_users(&self, after: Option<&ListAfter>, limit: u32) -> Result<Vec<UserRecord>> {
        let st = self.lock();
        let range: Box<dyn Iterator<Item = &ListAfter>> = match after {
            Some(after) => Box::new(st.by_created.range((
                std::ops::Bound::Excluded(after.clone()),
                std::ops::Bound::Unbounded,
            ))),
            None => Box::new(st.by_created.iter()),
        };
        Ok(range
            .take(limit as usize)
            .filter_map(|(_, id)| st.users.get(id).cloned())
            .collect())
    }

    async fn update_identity(&self, user: &UserRecord) -> Result<()> {
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
        Ok(())
    }

    async fn update_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now: DateTime<Utc>,
        end: EndSessions<'_>,
    ) -> Result<Vec<String>> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        user.password_hash = password_hash.to_string();
        user.updated_at = now;
        Ok(match end {
            EndSessions::AllExcept(keep) => st.revoke_where(now, "password_changed", |s| {
                s.user_id == user_id && Some(s.id.as_str()) != keep
            }),
            EndSessions::None => Vec::new(),
        })
    }

    async fn set_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        user.disabled = disabled;
        user.updated_at = now;
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

    async fn record_failed_login(&self, user_id: &str) -> Result<u32> {
        let mut st = self.lock();
        let user = st.user_mut(user_id)?;
        user.failed_logins = user.failed_logins.saturating_add(1);
        Ok(user.failed_logins)
    }

    async fn lock_user(&self, user_id: &str, until: DateTime<Utc>) -> Result<()> {
        self.lock().user_mut(user_id)?.locked_until = Some(until);
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

    async fn delete_user(&self, user_id: &str) -> Result<Option<Vec<String>>> {
        let mut st = self.lock();
        let Some(user) = st.users.remove(user_id) else {
            return Ok(None);
        };
        let now = super::now();
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
        st.sessions.retain(|_, s| s.user_id != user_id);
        st.refresh.retain(|_, r| r.user_id != user_id);
        Ok(Some(live))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &SessionRecord, refresh: &RefreshRecord) -> Result<()> {
        let mut st = self.lock();
        if !st.users.contains_key(&session.user_id) {
            return Err(Error::not_found("user"));
        }
        st.sessions.insert(session.id.clone(), session.clone());
        st.refresh
            .insert(refresh.token_hash.clone(), refresh.clone());
        Ok(())
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

    async fn revoke_session(&self, id: &str, now: DateTime<Utc>, reason: &str) -> Result<bool> {
        Ok(!self
            .lock()
            .revoke_where(now, reason, |s| s.id == id)
            .is_empty())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<&str>,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<Vec<String>> {
        Ok(self.lock().revoke_where(now, reason, |s| {
            s.user_id == user_id && Some(s.id.as_str()) != except
        }))
    }

    async fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshRecord>> {
        Ok(self.lock().refresh.get(token_hash).cloned())
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        new: &RefreshRecord,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        match st.refresh.get_mut(old_hash) {
            Some(old) if old.used_at.is_none() => old.used_at = Some(now),
            _ => return Ok(false),
        }
        if let Some(session) = st.sessions.get_mut(&new.session_id) {
            session.expires_at = new.expires_at;
            session.last_refreshed_at = Some(now);
        }
        st.refresh.insert(new.token_hash.clone(), new.clone());
        Ok(true)
    }

    async fn add_refresh(&self, new: &RefreshRecord, now: DateTime<Utc>) -> Result<()> {
        let mut st = self.lock();
        let Some(session) = st.sessions.get_mut(&new.session_id) else {
            return Err(Error::not_found("session"));
        };
        session.expires_at = new.expires_at;
        session.last_refreshed_at = Some(now);
        st.refresh.insert(new.token_hash.clone(), new.clone());
        Ok(())
    }
}

#[async_trait]
impl RoleStore for MemoryStore {
    async fn ensure_roles(&self, roles: &[Role]) -> Result<()> {
        let mut st = self.lock();
        for role in roles {
            st.roles
                .entry(role.name.clone())
                .or_insert_with(|| role.clone());
        }
        Ok(())
    }

    async fn create_role(&self, role: &Role) -> Result<()> {
        let mut st = self.lock();
        if st.roles.contains_key(&role.name) {
            return Err(Error::validation(
                "role",
                "a role with this name already exists",
            ));
        }
        st.roles.insert(role.name.clone(), role.clone());
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<bool> {
        let mut st = self.lock();
        if st.roles.remove(name).is_none() {
            return Ok(false);
        }
        for held in st.grants.values_mut() {
            held.remove(name);
        }
        Ok(true)
    }

    async fn role(&self, name: &str) -> Result<Option<Role>> {
        Ok(self.lock().roles.get(name).cloned())
    }

    async fn list_roles(&self) -> Result<Vec<Role>> {
        Ok(self.lock().roles.values().cloned().collect())
    }

    async fn grant_role(&self, user_id: &str, role: &str, _now: DateTime<Utc>) -> Result<bool> {
        let mut st = self.lock();
        if !st.users.contains_key(user_id) {
            return Err(Error::not_found("user"));
        }
        if !st.roles.contains_key(role) {
            return Err(Error::not_found("role"));
        }
        Ok(st
            .grants
            .entry(user_id.to_string())
            .or_default()
            .insert(role.to_string()))
    }

    async fn revoke_role(&self, user_id: &str, role: &str) -> Result<bool> {
        Ok(self
            .lock()
            .grants
            .get_mut(user_id)
            .is_some_and(|held| held.remove(role)))
    }

    async fn user_roles(&self, user_id: &str) -> Result<Vec<String>> {
        Ok(self
            .lock()
            .grants
            .get(user_id)
            .map(|held| held.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn user_permissions(&self, user_id: &str) -> Result<Vec<String>> {
        let st = self.lock();
        if st.users.get(user_id).is_none_or(|u| u.disabled) {
            return Ok(Vec::new());
        }
        Ok(st
            .grants
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|name| st.roles.get(name))
            .flat_map(|role| role.permissions.iter().cloned())
            .collect())
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn migrate(&self) -> Result<()> {
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "memory"
    }

    fn for_reads(&self) -> &dyn Store {
        self
    }
}
