//! Linked identities in memory.

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::error::Result;
use crate::events::Event;
use crate::store::UserRecord;
use crate::store::identities::{IdentityRecord, IdentityStore, Linking, Unlinking};

impl State {
    fn linking(&self, identity: &IdentityRecord) -> Linking {
        let key = (identity.provider.clone(), identity.subject.clone());
        if self.identities.contains_key(&key) {
            Linking::SubjectTaken
        } else if self
            .identities
            .values()
            .any(|i| i.user_id == identity.user_id && i.provider == identity.provider)
        {
            Linking::ProviderTaken
        } else {
            Linking::Linked
        }
    }

    fn link(&mut self, identity: &IdentityRecord) {
        let key = (identity.provider.clone(), identity.subject.clone());
        self.identities.insert(key, identity.clone());
    }
}

#[async_trait]
impl IdentityStore for MemoryStore {
    async fn add_identity(&self, identity: &IdentityRecord, events: &[Event]) -> Result<Linking> {
        let mut st = self.lock();
        st.user_mut(&identity.user_id)?;
        let linking = st.linking(identity);
        if linking == Linking::Linked {
            st.link(identity);
            st.emit(events);
        }
        Ok(linking)
    }

    async fn create_user_with_identity(
        &self,
        user: &UserRecord,
        roles: &[&str],
        identity: &IdentityRecord,
        events: &[Event],
    ) -> Result<bool> {
        let mut st = self.lock();
        st.check_new_user(user, roles)?;
        if st.linking(identity) != Linking::Linked {
            return Ok(false);
        }
        st.insert_user(user, roles);
        st.link(identity);
        st.emit(events);
        Ok(true)
    }

    async fn identity(&self, provider: &str, subject: &str) -> Result<Option<IdentityRecord>> {
        let key = (provider.to_string(), subject.to_string());
        Ok(self.lock().identities.get(&key).cloned())
    }

    async fn identities(&self, user_id: &str) -> Result<Vec<IdentityRecord>> {
        let mut found: Vec<IdentityRecord> = self
            .lock()
            .identities
            .values()
            .filter(|i| i.user_id == user_id)
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.provider).cmp(&(b.created_at, &b.provider)));
        Ok(found)
    }

    async fn use_identity(&self, identity: &IdentityRecord) -> Result<bool> {
        let mut st = self.lock();
        let key = (identity.provider.clone(), identity.subject.clone());
        match st
            .identities
            .get_mut(&key)
            .filter(|i| i.user_id == identity.user_id)
        {
            Some(stored) => {
                stored.email = identity.email.clone();
                stored.email_verified = identity.email_verified;
                stored.tokens_sealed = identity.tokens_sealed.clone();
                stored.last_used_at = identity.last_used_at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn unlink_identity(
        &self,
        user_id: &str,
        provider: &str,
        events: &[Event],
    ) -> Result<Unlinking> {
        let mut st = self.lock();
        let Some(user) = st.users.get(user_id) else {
            return Ok(Unlinking::NotLinked);
        };
        let password = !user
            .password_hash
            .starts_with(crate::password::UNUSABLE_PREFIX);
        let passkey = st.passkeys.values().any(|p| p.user_id == user_id);
        let mut mine = st.identities.values().filter(|i| i.user_id == user_id);
        let Some(linked) = mine.clone().find(|i| i.provider == provider) else {
            return Ok(Unlinking::NotLinked);
        };
        let other = mine.any(|i| i.provider != provider);
        if !(password || passkey || other) {
            return Ok(Unlinking::LastMethod);
        }
        let key = (linked.provider.clone(), linked.subject.clone());
        st.identities.remove(&key);
        st.emit(events);
        Ok(Unlinking::Unlinked)
    }
}
