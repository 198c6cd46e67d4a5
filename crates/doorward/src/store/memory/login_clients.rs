//! Per-client login state in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use crate::error::Result;
use crate::store::login_clients::{LoginClient, LoginClientStore};

#[async_trait]
impl LoginClientStore for MemoryStore {
    async fn login_client(&self, user_id: &str, client: &str) -> Result<Option<LoginClient>> {
        let key = (user_id.to_string(), client.to_string());
        Ok(self.lock().login_clients.get(&key).cloned())
    }

    async fn client_failed(&self, user_id: &str, client: &str) -> Result<u32> {
        let mut st = self.lock();
        st.user_mut(user_id)?;
        let entry = st
            .login_clients
            .entry((user_id.to_string(), client.to_string()))
            .or_insert(LoginClient {
                failures: 0,
                locked_until: None,
                last_success_at: None,
            });
        entry.failures = entry.failures.saturating_add(1);
        Ok(entry.failures)
    }

    async fn lock_client(&self, user_id: &str, client: &str, until: DateTime<Utc>) -> Result<()> {
        let key = (user_id.to_string(), client.to_string());
        if let Some(entry) = self.lock().login_clients.get_mut(&key) {
            entry.locked_until = Some(until);
        }
        Ok(())
    }

    async fn client_succeeded(
        &self,
        user_id: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut st = self.lock();
        if st.users.contains_key(user_id) {
            st.login_clients.insert(
                (user_id.to_string(), client.to_string()),
                LoginClient {
                    failures: 0,
                    locked_until: None,
                    last_success_at: Some(now),
                },
            );
        }
        Ok(())
    }

    async fn unlock_clients(&self, user_id: &str) -> Result<bool> {
        let mut cleared = false;
        for ((user, _), entry) in self.lock().login_clients.iter_mut() {
            if user == user_id && (entry.failures > 0 || entry.locked_until.is_some()) {
                entry.failures = 0;
                entry.locked_until = None;
                cleared = true;
            }
        }
        Ok(cleared)
    }
}
