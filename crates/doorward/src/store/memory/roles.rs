//! Roles and grants in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::rbac::Role;
use crate::store::RoleStore;

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

    async fn create_role(&self, role: &Role, events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        if st.roles.contains_key(&role.name) {
            return Err(Error::validation(
                "role",
                "a role with this name already exists",
            ));
        }
        st.roles.insert(role.name.clone(), role.clone());
        st.emit(events);
        Ok(())
    }

    async fn delete_role(&self, name: &str, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        if st.roles.remove(name).is_none() {
            return Ok(false);
        }
        for held in st.grants.values_mut() {
            held.remove(name);
        }
        st.emit(events);
        Ok(true)
    }

    async fn role(&self, name: &str) -> Result<Option<Role>> {
        Ok(self.lock().roles.get(name).cloned())
    }

    async fn list_roles(&self) -> Result<Vec<Role>> {
        Ok(self.lock().roles.values().cloned().collect())
    }

    async fn grant_role(
        &self,
        user_id: &str,
        role: &str,
        _now: DateTime<Utc>,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        if !st.users.contains_key(user_id) {
            return Err(Error::not_found("user"));
        }
        if !st.roles.contains_key(role) {
            return Err(Error::not_found("role"));
        }
        let granted = st
            .grants
            .entry(user_id.to_string())
            .or_default()
            .insert(role.to_string());
        if granted {
            st.emit(events);
        }
        Ok(granted)
    }

    async fn revoke_role(&self, user_id: &str, role: &str, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        let revoked = st
            .grants
            .get_mut(user_id)
            .is_some_and(|held| held.remove(role));
        if revoked {
            st.emit(events);
        }
        Ok(revoked)
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
