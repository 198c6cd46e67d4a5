//! A store in process memory: for tests, demos and single-process hosts that
//! can lose their users on restart. One mutex makes every call atomic, so it
//! keeps the same uniqueness and rotation guarantees as the SQL backends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::login_clients::LoginClient;
use super::{
    AttemptOutcome, AuditFilter, AuditRecord, ConsumerState, DeliveryJob, DeliveryRecord,
    DeliveryStatus, EndSessions, EventStore, Lease, ListAfter, RefreshRecord, RoleStore, Rotation,
    SessionRecord, SessionStore, Store, UserRecord, UserStore, WebhookRecord,
};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::rbac::Role;

mod login_clients;

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

    fn user_mut(&mut self, user_id: &str) -> Result<&mut UserRecord> {
        self.users
            .get_mut(user_id)
            .ok_or_else(|| Error::not_found("user"))
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &UserRecord, roles: &[&str], events: &[Event]) -> Result<()> {
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
        st.login_clients.retain(|(user, _), _| user != user_id);
        st.sessions.retain(|_, s| s.user_id != user_id);
        st.refresh.retain(|_, r| r.user_id != user_id);
        st.emit(events);
        Ok(Some(live))
    }
}

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

#[async_trait]
impl EventStore for MemoryStore {
    async fn append_events(&self, events: &[Event]) -> Result<()> {
        self.lock().emit(events);
        Ok(())
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<Event>> {
        Ok(self
            .lock()
            .outbox
            .range(after.saturating_add(1)..)
            .take(limit as usize)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn last_event_seq(&self) -> Result<u64> {
        let st = self.lock();
        Ok(st.outbox.last_key_value().map_or(0, |(seq, _)| *seq))
    }

    async fn lease_consumer(
        &self,
        name: &str,
        owner: &str,
        start: u64,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<u64>> {
        let mut st = self.lock();
        let consumer = st.consumers.entry(name.to_string()).or_insert(Consumer {
            position: start,
            owner: None,
            until: now,
        });
        let free = consumer.owner.as_deref() == Some(owner) || consumer.until <= now;
        if !free {
            return Ok(None);
        }
        consumer.owner = Some(owner.to_string());
        consumer.until = until;
        Ok(Some(consumer.position))
    }

    async fn advance_consumer(&self, lease: &Lease, now: DateTime<Utc>) -> Result<bool> {
        let mut st = self.lock();
        if !st.holds(lease, now) {
            return Ok(false);
        }
        st.advance(lease);
        Ok(true)
    }

    async fn append_audit(
        &self,
        rows: &[AuditRecord],
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        let next = st.audit.len() as u64 + 1;
        if !st.holds(lease, now) || rows.first().is_some_and(|r| r.seq != next) {
            return Ok(false);
        }
        st.audit.extend(rows.iter().cloned());
        st.advance(lease);
        Ok(true)
    }

    async fn last_audit(&self) -> Result<Option<AuditRecord>> {
        Ok(self.lock().audit.last().cloned())
    }

    async fn audit_rows(
        &self,
        filter: &AuditFilter,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let st = self.lock();
        Ok(st
            .audit
            .iter()
            .filter(|r| r.seq > after && audit_matches(filter, r))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn create_webhook(&self, webhook: &WebhookRecord) -> Result<()> {
        self.lock().webhooks.push(webhook.clone());
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        Ok(self.lock().webhooks.clone())
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let mut st = self.lock();
        let before = st.webhooks.len();
        st.webhooks.retain(|w| w.id != id);
        st.deliveries.retain(|_, d| d.record.webhook_id != id);
        Ok(st.webhooks.len() != before)
    }

    async fn enqueue_deliveries(
        &self,
        deliveries: &[(String, Event)],
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        if !st.holds(lease, now) {
            return Ok(false);
        }
        for (webhook_id, event) in deliveries {
            let queued = st
                .deliveries
                .values()
                .any(|d| d.record.webhook_id == *webhook_id && d.record.event_seq == event.seq);
            if queued || !st.webhooks.iter().any(|w| w.id == *webhook_id) {
                continue;
            }
            let id = st.deliveries.keys().next_back().map_or(1, |last| last + 1);
            st.deliveries.insert(
                id,
                Delivery {
                    record: DeliveryRecord {
                        id,
                        webhook_id: webhook_id.clone(),
                        event_seq: event.seq,
                        event_id: event.id.clone(),
                        event_type: event.event_type.as_str().to_string(),
                        status: DeliveryStatus::Pending,
                        attempts: 0,
                        next_attempt_at: now,
                        last_error: None,
                        updated_at: now,
                    },
                    subject: event.subject.clone(),
                    lease: None,
                },
            );
        }
        st.advance(lease);
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DeliveryJob>> {
        let mut st = self.lock();
        let mut blocked: std::collections::HashSet<(String, String)> = Default::default();
        let mut picked = Vec::new();
        for d in st.deliveries.values() {
            if d.record.status != DeliveryStatus::Pending {
                continue;
            }
            let key = d
                .subject
                .as_ref()
                .map(|s| (d.record.webhook_id.clone(), s.clone()));
            if let Some(key) = &key
                && blocked.contains(key)
            {
                continue;
            }
            // An earlier pending delivery on this (webhook, subject) holds
            // back every later one, claimable or not.
            if let Some(key) = key {
                blocked.insert(key);
            }
            let leased = d.lease.as_ref().is_some_and(|(_, t)| *t > now);
            if !leased && d.record.next_attempt_at <= now && picked.len() < limit as usize {
                picked.push(d.record.id);
            }
        }
        let mut jobs = Vec::new();
        for id in picked {
            let (webhook_id, event_seq, attempts) = {
                let d = st.deliveries.get_mut(&id).expect("picked above");
                d.lease = Some((owner.to_string(), until));
                (
                    d.record.webhook_id.clone(),
                    d.record.event_seq,
                    d.record.attempts,
                )
            };
            let webhook = st.webhooks.iter().find(|w| w.id == webhook_id).cloned();
            let event = st.outbox.get(&event_seq).cloned();
            if let (Some(webhook), Some(event)) = (webhook, event) {
                jobs.push(DeliveryJob {
                    id,
                    attempts,
                    webhook,
                    event,
                });
            }
        }
        Ok(jobs)
    }

    async fn finish_delivery(
        &self,
        id: u64,
        owner: &str,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut st = self.lock();
        let Some(d) = st.deliveries.get_mut(&id) else {
            return Ok(false);
        };
        if d.record.status != DeliveryStatus::Pending
            || d.lease.as_ref().is_none_or(|(o, _)| o != owner)
        {
            return Ok(false);
        }
        d.lease = None;
        d.record.attempts += 1;
        d.record.updated_at = now;
        match outcome {
            AttemptOutcome::Delivered => {
                d.record.status = DeliveryStatus::Delivered;
                d.record.last_error = None;
            }
            AttemptOutcome::Retry { error, at } => {
                d.record.next_attempt_at = *at;
                d.record.last_error = Some(error.clone());
            }
            AttemptOutcome::Dead { error } => {
                d.record.status = DeliveryStatus::Dead;
                d.record.last_error = Some(error.clone());
            }
        }
        Ok(true)
    }

    async fn deliveries(
        &self,
        status: Option<DeliveryStatus>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>> {
        let st = self.lock();
        Ok(st
            .deliveries
            .range(after + 1..)
            .map(|(_, d)| &d.record)
            .filter(|r| status.is_none_or(|s| r.status == s))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn replay_delivery(&self, id: u64, now: DateTime<Utc>) -> Result<bool> {
        let mut st = self.lock();
        match st.deliveries.get_mut(&id) {
            Some(d) if d.record.status == DeliveryStatus::Dead => {
                d.record.status = DeliveryStatus::Pending;
                d.record.attempts = 0;
                d.record.next_attempt_at = now;
                d.record.updated_at = now;
                d.lease = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        Ok(self
            .lock()
            .deliveries
            .values()
            .filter(|d| d.record.status == DeliveryStatus::Pending)
            .count() as u64)
    }

    async fn consumers(&self) -> Result<Vec<ConsumerState>> {
        let mut consumers: Vec<_> = self
            .lock()
            .consumers
            .iter()
            .map(|(name, c)| ConsumerState {
                name: name.clone(),
                position: c.position,
                leased_until: c.until,
            })
            .collect();
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(consumers)
    }

    async fn prune_events(&self, through: u64, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        let mut st = self.lock();
        let needed: BTreeSet<u64> = st
            .deliveries
            .values()
            .filter(|d| d.record.status != DeliveryStatus::Delivered)
            .map(|d| d.record.event_seq)
            .collect();
        let gone: Vec<u64> = st
            .outbox
            .range(..=through)
            .filter(|(seq, e)| e.occurred_at < before && !needed.contains(seq))
            .map(|(seq, _)| *seq)
            .take(limit as usize)
            .collect();
        for seq in &gone {
            st.outbox.remove(seq);
        }
        let gone: BTreeSet<u64> = gone.into_iter().collect();
        st.deliveries
            .retain(|_, d| !gone.contains(&d.record.event_seq));
        Ok(gone.len() as u64)
    }
}

fn audit_matches(filter: &AuditFilter, row: &AuditRecord) -> bool {
    filter.user_id.as_ref().is_none_or(|u| {
        row.actor.as_deref() == Some(u.as_str()) || row.subject.as_deref() == Some(u.as_str())
    }) && filter
        .event_type
        .is_none_or(|t| row.event_type == t.as_str())
        && filter.since.is_none_or(|t| row.occurred_at >= t)
        && filter.until.is_none_or(|t| row.occurred_at < t)
}
