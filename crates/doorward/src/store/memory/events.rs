//! The outbox, consumers, webhooks and audit log in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::MemoryStore;
use super::{Consumer, Delivery};
use crate::error::Result;
use crate::events::Event;
use crate::store::{
    AttemptOutcome, AuditFilter, AuditRecord, ConsumerState, DeliveryJob, DeliveryRecord,
    DeliveryStatus, EventStore, Lease, WebhookRecord,
};

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

    async fn create_webhook(&self, webhook: &WebhookRecord, events: &[Event]) -> Result<()> {
        let mut st = self.lock();
        st.webhooks.push(webhook.clone());
        st.emit(events);
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        Ok(self.lock().webhooks.clone())
    }

    async fn delete_webhook(&self, id: &str, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        let before = st.webhooks.len();
        st.webhooks.retain(|w| w.id != id);
        if st.webhooks.len() == before {
            return Ok(false);
        }
        st.deliveries.retain(|_, d| d.record.webhook_id != id);
        st.emit(events);
        Ok(true)
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

    async fn replay_delivery(&self, id: u64, now: DateTime<Utc>, events: &[Event]) -> Result<bool> {
        let mut st = self.lock();
        match st.deliveries.get_mut(&id) {
            Some(d) if d.record.status == DeliveryStatus::Dead => {
                d.record.status = DeliveryStatus::Pending;
                d.record.attempts = 0;
                d.record.next_attempt_at = now;
                d.record.updated_at = now;
                d.lease = None;
                st.emit(events);
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
        let needed: std::collections::BTreeSet<u64> = st
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
        let gone: std::collections::BTreeSet<u64> = gone.into_iter().collect();
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
