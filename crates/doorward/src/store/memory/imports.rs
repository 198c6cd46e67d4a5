use std::collections::HashSet;

use async_trait::async_trait;

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::{ImportStore, NewUser, TakenKeys};

#[async_trait]
impl ImportStore for MemoryStore {
    async fn insert_users(&self, users: &[NewUser], events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        // Every row is checked, against the store and the rest of the
        // batch, before any is inserted: all or nothing.
        let (mut emails, mut names, mut ids) = (HashSet::new(), HashSet::new(), HashSet::new());
        for (user, roles) in users {
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            st.check_new_user(user, &roles)?;
            if !emails.insert(user.email_key.as_str()) {
                return Err(Error::DuplicateEmail);
            }
            if !names.insert(user.username_key.as_str()) {
                return Err(Error::DuplicateUsername);
            }
            if st.users.contains_key(&user.id) || !ids.insert(user.id.as_str()) {
                return Err(Error::Internal(format!("user id {} is taken", user.id)));
            }
        }
        for (user, roles) in users {
            let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
            st.insert_user(user, &roles);
        }
        st.emit(events);
        Ok(())
    }

    async fn taken_keys(
        &self,
        email_keys: &[String],
        username_keys: &[String],
        ids: &[String],
    ) -> Result<TakenKeys> {
        let st = self.lock();
        Ok(TakenKeys {
            emails: email_keys
                .iter()
                .filter(|k| st.by_email.contains_key(*k))
                .cloned()
                .collect(),
            usernames: username_keys
                .iter()
                .filter(|k| st.by_username.contains_key(*k))
                .cloned()
                .collect(),
            ids: ids
                .iter()
                .filter(|id| st.users.contains_key(*id))
                .cloned()
                .collect(),
        })
    }
}
