//! A store in process memory: for tests, demos and single-process hosts that
//! can lose their users on restart. One mutex makes every call atomic, so it
//! keeps the same uniqueness and rotation guarantees as the SQL backends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::login_clients::LoginClient;
use super::{
    AuditRecord, DeliveryRecord, Lease, ListAfter, RefreshRecord, SessionRecord, Store, UserRecord,
    WebhookRecord,
};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::rbac::Role;

mod events;
mod flows;
mod identities;
mod imports;
mod login_clients;
mod mfa;
mod passkeys;
mod roles;
mod sessions;
mod stats;
mod users;

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
    /// By `(user_id, client)`.
    login_clients: HashMap<(String, String), LoginClient>,
    refresh: HashMap<String, RefreshRecord>,
    /// By `seq`; pruning leaves gaps, as a SQL table does.
    outbox: BTreeMap<u64, Event>,
    last_seq: u64,
    consumers: HashMap<String, Consumer>,
    audit: Vec<AuditRecord>,
    webhooks: Vec<WebhookRecord>,
    deliveries: BTreeMap<u64, Delivery>,
    /// One-time secrets by flow id.
    flows: HashMap<String, super::FlowRecord>,
    /// TOTP factors by user id.
    totp: HashMap<String, super::TotpRecord>,
    /// Recovery codes by user id: keyed hash → when it was spent.
    recovery: HashMap<String, HashMap<String, Option<DateTime<Utc>>>>,
    /// Passkeys by credential id.
    passkeys: HashMap<String, super::PasskeyRecord>,
    /// Linked identities by `(provider, subject)`.
    identities: HashMap<(String, String), super::IdentityRecord>,
}

#[derive(Debug)]
struct Consumer {
    position: u64,
    owner: Option<String>,
    until: DateTime<Utc>,
}

#[derive(Debug)]
struct Delivery {
    record: DeliveryRecord,
    subject: Option<String>,
    lease: Option<(String, DateTime<Utc>)>,
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
    /// Number and append events: the outbox write of a change.
    fn emit(&mut self, events: &[Event]) {
        for event in events {
            let mut event = event.clone();
            self.last_seq += 1;
            event.seq = self.last_seq;
            self.outbox.insert(event.seq, event);
        }
    }

    fn holds(&self, lease: &Lease, now: DateTime<Utc>) -> bool {
        self.consumers
            .get(&lease.name)
            .is_some_and(|c| c.owner.as_deref() == Some(lease.owner.as_str()) && c.until > now)
    }

    fn advance(&mut self, lease: &Lease) {
        if let Some(c) = self.consumers.get_mut(&lease.name) {
            c.position = lease.position;
        }
    }
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

    /// Use up `user_id`'s open flows for `purpose`; how many.
    fn cancel_flows(&mut self, user_id: &str, purpose: &str, now: DateTime<Utc>) -> u64 {
        let mut closed = 0;
        for flow in self.flows.values_mut() {
            if flow.user_id.as_deref() == Some(user_id)
                && flow.purpose == purpose
                && flow.consumed_at.is_none()
            {
                flow.consumed_at = Some(now);
                closed += 1;
            }
        }
        closed
    }

    fn user_mut(&mut self, user_id: &str) -> Result<&mut UserRecord> {
        self.users
            .get_mut(user_id)
            .ok_or_else(|| Error::not_found("user"))
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
