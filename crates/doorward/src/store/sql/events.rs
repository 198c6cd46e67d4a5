//! The outbox, its consumers, webhooks and the audit log, in SQL.
//!
//! Every read here goes to the primary: consumers must see what was just
//! committed. Deliveries are claimed under
//! [`Dialect::SKIP_LOCKED`](super::Dialect::SKIP_LOCKED), so instances
//! polling at once take disjoint rows (SQLite has one writer at a time, so
//! there the claim is a plain read and update inside the write
//! transaction). Outbox inserts go through
//! [`Dialect::order_outbox`](super::Dialect::order_outbox), so `seq` is
//! handed out in commit order.

/// Implements [`crate::store::EventStore`] for a [`super::Dialect`], and
/// `insert_events`, which every write that emits events calls inside its
/// transaction.
macro_rules! sql_events {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::Result;
            use $crate::events::{Event, EventType};
            use $crate::store::sql::Dialect;
            use $crate::store::sql::rows::{
                AUDIT_COLUMNS, CLAIMED_COLUMNS, CONSUMER_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS,
                PRUNABLE_EVENTS, WEBHOOK_COLUMNS, audit_from, claimed_jobs, consumer_from,
                delivery_from, event_from, list_text, payload_text, signed, to_micros,
                webhook_from,
            };
            use $crate::store::{
                AttemptOutcome, AuditFilter, AuditRecord, ConsumerState, DeliveryJob,
                DeliveryRecord, DeliveryStatus, EventStore, Lease, WebhookRecord,
            };

            type Tx = sqlx::Transaction<'static, <$store as Dialect>::Db>;

            impl $store {
                /// Write events as part of the transaction of the change
                /// they describe. Called last, just before the commit, so
                /// the outbox's ordering lock is held briefly and never
                /// while waiting for a row lock.
                async fn insert_events(tx: &mut Tx, events: &[Event]) -> Result<()> {
                    if events.is_empty() {
                        return Ok(());
                    }
                    <$store as Dialect>::order_outbox(tx).await?;
                    for e in events {
                        sqlx::query(
                            "INSERT INTO outbox (id, event_type, version, occurred_at, actor, \
                             subject, ip, user_agent, payload) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(&e.id)
                        .bind(e.event_type.as_str())
                        .bind(i64::from(e.version))
                        .bind(to_micros(e.occurred_at))
                        .bind(&e.actor)
                        .bind(&e.subject)
                        .bind(&e.ip)
                        .bind(&e.user_agent)
                        .bind(payload_text(e)?)
                        .execute(&mut **tx)
                        .await?;
                    }
                    Ok(())
                }

                /// Write `events` and commit.
                async fn commit_with(mut tx: Tx, events: &[Event]) -> Result<()> {
                    Self::insert_events(&mut tx, events).await?;
                    tx.commit().await?;
                    Ok(())
                }

                /// Commit with `events` if the change touched exactly one
                /// row, else roll back: whether it did.
                async fn commit_one(tx: Tx, changed: u64, events: &[Event]) -> Result<bool> {
                    if changed != 1 {
                        return Ok(false);
                    }
                    Self::commit_with(tx, events).await?;
                    Ok(true)
                }

                /// Move a consumer inside `tx` if `lease` still holds;
                /// false if lost.
                async fn advance_in(tx: &mut Tx, lease: &Lease, now: DateTime<Utc>) -> Result<bool> {
                    let done = sqlx::query(
                        "UPDATE event_consumers SET position = $1 \
                         WHERE name = $2 AND lease_owner = $3 AND lease_until > $4",
                    )
                    .bind(signed(lease.position))
                    .bind(&lease.name)
                    .bind(&lease.owner)
                    .bind(to_micros(now))
                    .execute(&mut **tx)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }

        #[async_trait::async_trait]
        impl EventStore for $store {
            async fn append_events(&self, events: &[Event]) -> Result<()> {
                let tx = self.begin().await?;
                Self::commit_with(tx, events).await?;
                Ok(())
            }

            async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<Event>> {
                sqlx::query(&format!(
                    "SELECT {EVENT_COLUMNS} FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(signed(after))
                .bind(i64::from(limit))
                .fetch_all(self.writes())
                .await?
                .iter()
                .map(event_from)
                .collect()
            }

            async fn last_event_seq(&self) -> Result<u64> {
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM outbox")
                    .fetch_one(self.writes())
                    .await?;
                Ok(last.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
            }

            async fn lease_consumer(
                &self,
                name: &str,
                owner: &str,
                start: u64,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
            ) -> Result<Option<u64>> {
                let mut tx = self.begin().await?;
                sqlx::query(
                    "INSERT INTO event_consumers (name, position, lease_owner, lease_until) \
                     VALUES ($1, $2, NULL, 0) ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(signed(start))
                .execute(&mut *tx)
                .await?;
                let position: Option<i64> = sqlx::query_scalar(
                    "UPDATE event_consumers SET lease_owner = $1, lease_until = $2 \
                     WHERE name = $3 AND (lease_owner = $1 OR lease_owner IS NULL OR lease_until <= $4) \
                     RETURNING position",
                )
                .bind(owner)
                .bind(to_micros(until))
                .bind(name)
                .bind(to_micros(now))
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(position.map(|n| u64::try_from(n).unwrap_or(0)))
            }

            async fn advance_consumer(&self, lease: &Lease, now: DateTime<Utc>) -> Result<bool> {
                let mut tx = self.begin().await?;
                let held = Self::advance_in(&mut tx, lease, now).await?;
                tx.commit().await?;
                Ok(held)
            }

            async fn append_audit(
                &self,
                rows: &[AuditRecord],
                lease: &Lease,
                now: DateTime<Utc>,
            ) -> Result<bool> {
                let mut tx = self.begin().await?;
                if !Self::advance_in(&mut tx, lease, now).await? {
                    return Ok(false);
                }
                // The chain has one writer, the audit consumer's lease holder; the
                // primary key on `seq` turns a stale holder's append into an error.
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
                    .fetch_one(&mut *tx)
                    .await?;
                let next = last.map_or(1, |n| n + 1);
                if rows.first().is_some_and(|r| signed(r.seq) != next) {
                    return Ok(false);
                }
                for r in rows {
                    sqlx::query(&format!(
                        "INSERT INTO audit_log ({AUDIT_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                    ))
                    .bind(signed(r.seq))
                    .bind(&r.event_id)
                    .bind(&r.event_type)
                    .bind(to_micros(r.occurred_at))
                    .bind(&r.actor)
                    .bind(&r.subject)
                    .bind(&r.ip)
                    .bind(&r.user_agent)
                    .bind(&r.outcome)
                    .bind(&r.details)
                    .bind(&r.prev_hash)
                    .bind(&r.hash)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn last_audit(&self) -> Result<Option<AuditRecord>> {
                sqlx::query(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"
                ))
                .fetch_optional(self.writes())
                .await?
                .as_ref()
                .map(audit_from)
                .transpose()
            }

            async fn audit_rows(
                &self,
                filter: &AuditFilter,
                after: u64,
                limit: u32,
            ) -> Result<Vec<AuditRecord>> {
                sqlx::query(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 \
                     AND ($2 IS NULL OR actor = $2 OR subject = $2) \
                     AND ($3 IS NULL OR event_type = $3) \
                     AND ($4 IS NULL OR occurred_at >= $4) \
                     AND ($5 IS NULL OR occurred_at < $5) \
                     ORDER BY seq LIMIT $6"
                ))
                .bind(signed(after))
                .bind(&filter.user_id)
                .bind(filter.event_type.map(EventType::as_str))
                .bind(filter.since.map(to_micros))
                .bind(filter.until.map(to_micros))
                .bind(i64::from(limit))
                .fetch_all(self.writes())
                .await?
                .iter()
                .map(audit_from)
                .collect()
            }

            async fn create_webhook(&self, webhook: &WebhookRecord, events: &[Event]) -> Result<()> {
                let mut tx = self.begin().await?;
                let types: Vec<&str> = webhook.event_types.iter().map(|t| t.as_str()).collect();
                sqlx::query(
                    "INSERT INTO webhooks (id, url, secret, event_types, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&webhook.id)
                .bind(&webhook.url)
                .bind(&webhook.secret)
                .bind(list_text(&types))
                .bind(to_micros(webhook.created_at))
                .execute(&mut *tx)
                .await?;
                Self::commit_with(tx, events).await?;
                Ok(())
            }

            async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
                sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"
                ))
                .fetch_all(self.writes())
                .await?
                .iter()
                .map(webhook_from)
                .collect()
            }

            async fn delete_webhook(&self, id: &str, events: &[Event]) -> Result<bool> {
                let mut tx = self.begin().await?;
                let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                Self::commit_one(tx, done.rows_affected(), events).await
            }

            async fn enqueue_deliveries(
                &self,
                deliveries: &[(String, Event)],
                lease: &Lease,
                now: DateTime<Utc>,
            ) -> Result<bool> {
                let mut tx = self.begin().await?;
                if !Self::advance_in(&mut tx, lease, now).await? {
                    return Ok(false);
                }
                for (webhook_id, event) in deliveries {
                    sqlx::query(
                        "INSERT INTO webhook_deliveries \
                         (webhook_id, event_seq, subject, status, attempts, next_attempt_at, updated_at) \
                         SELECT id, $2, $3, 'pending', 0, $4, $4 FROM webhooks WHERE id = $1 \
                         ON CONFLICT (webhook_id, event_seq) DO NOTHING",
                    )
                    .bind(webhook_id)
                    .bind(signed(event.seq))
                    .bind(&event.subject)
                    .bind(to_micros(now))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn claim_deliveries(
                &self,
                owner: &str,
                now: DateTime<Utc>,
                until: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<DeliveryJob>> {
                // Looked for first outside a transaction: most passes find nothing
                // due, and should not queue behind (or hold up) the host's writes.
                let due: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM webhook_deliveries WHERE status = 'pending' \
                     AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) LIMIT 1",
                )
                .bind(to_micros(now))
                .fetch_optional(self.writes())
                .await?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin().await?;
                let sql = format!(
                    "SELECT d.id FROM webhook_deliveries d \
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                       AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                           WHERE e.webhook_id = d.webhook_id AND e.subject = d.subject \
                             AND e.event_seq < d.event_seq AND e.status = 'pending') \
                     ORDER BY d.event_seq LIMIT $2{}",
                    <$store as Dialect>::SKIP_LOCKED
                );
                let ids: Vec<i64> = sqlx::query_scalar(&sql)
                .bind(to_micros(now))
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                if ids.is_empty() {
                    tx.commit().await?;
                    return Ok(Vec::new());
                }
                // One statement each for the leases, the webhooks and the events,
                // whatever the batch size.
                let claimed = sqlx::query(&format!(
                    "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2 \
                     WHERE id {} RETURNING {CLAIMED_COLUMNS}",
                    <$store as Dialect>::in_list(3)
                ))
                .bind(owner)
                .bind(to_micros(until))
                .bind(<$store as Dialect>::id_list(&ids))
                .fetch_all(&mut *tx)
                .await?;
                let webhooks = sqlx::query(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id IN \
                     (SELECT webhook_id FROM webhook_deliveries WHERE id {})",
                    <$store as Dialect>::in_list(1)
                ))
                .bind(<$store as Dialect>::id_list(&ids))
                .fetch_all(&mut *tx)
                .await?;
                let events = sqlx::query(&format!(
                    "SELECT {EVENT_COLUMNS} FROM outbox WHERE seq IN \
                     (SELECT event_seq FROM webhook_deliveries WHERE id {})",
                    <$store as Dialect>::in_list(1)
                ))
                .bind(<$store as Dialect>::id_list(&ids))
                .fetch_all(&mut *tx)
                .await?;
                let jobs = claimed_jobs(&claimed, &webhooks, &events)?;
                tx.commit().await?;
                Ok(jobs)
            }

            async fn finish_delivery(
                &self,
                id: u64,
                owner: &str,
                outcome: &AttemptOutcome,
                now: DateTime<Utc>,
            ) -> Result<bool> {
                let (status, error, next) = match outcome {
                    AttemptOutcome::Delivered => ("delivered", None, now),
                    AttemptOutcome::Retry { error, at } => ("pending", Some(error.as_str()), *at),
                    AttemptOutcome::Dead { error } => ("dead", Some(error.as_str()), now),
                };
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, last_error = $2, next_attempt_at = $3, \
                     attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, updated_at = $4 \
                     WHERE id = $5 AND lease_owner = $6 AND status = 'pending'",
                )
                .bind(status)
                .bind(error)
                .bind(to_micros(next))
                .bind(to_micros(now))
                .bind(signed(id))
                .bind(owner)
                .execute(self.writes())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn deliveries(
                &self,
                status: Option<DeliveryStatus>,
                after: u64,
                limit: u32,
            ) -> Result<Vec<DeliveryRecord>> {
                sqlx::query(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
                     JOIN outbox o ON o.seq = d.event_seq \
                     WHERE d.id > $1 AND ($2 IS NULL OR d.status = $2) ORDER BY d.id LIMIT $3"
                ))
                .bind(signed(after))
                .bind(status.map(DeliveryStatus::as_str))
                .bind(i64::from(limit))
                .fetch_all(self.writes())
                .await?
                .iter()
                .map(delivery_from)
                .collect()
            }

            async fn replay_delivery(
                &self,
                id: u64,
                now: DateTime<Utc>,
                events: &[Event],
            ) -> Result<bool> {
                let mut tx = self.begin().await?;
                let done = sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, \
                     next_attempt_at = $1, updated_at = $1, lease_owner = NULL, lease_until = NULL \
                     WHERE id = $2 AND status = 'dead'",
                )
                .bind(to_micros(now))
                .bind(signed(id))
                .execute(&mut *tx)
                .await?;
                Self::commit_one(tx, done.rows_affected(), events).await
            }

            async fn pending_deliveries(&self) -> Result<u64> {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                        .fetch_one(self.writes())
                        .await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn consumers(&self) -> Result<Vec<ConsumerState>> {
                let rows = sqlx::query(&format!(
                    "SELECT {CONSUMER_COLUMNS} FROM event_consumers ORDER BY name"
                ))
                .fetch_all(self.writes())
                .await?;
                rows.iter().map(consumer_from).collect()
            }

            async fn prune_events(&self, through: u64, before: DateTime<Utc>, limit: u32) -> Result<u64> {
                let mut tx = self.begin().await?;
                let seqs: Vec<i64> = sqlx::query_scalar(PRUNABLE_EVENTS)
                    .bind(signed(through))
                    .bind(to_micros(before))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                if seqs.is_empty() {
                    tx.commit().await?;
                    return Ok(0);
                }
                let in_seqs = <$store as Dialect>::in_list(1);
                sqlx::query(&format!("DELETE FROM webhook_deliveries WHERE event_seq {in_seqs}"))
                    .bind(<$store as Dialect>::id_list(&seqs))
                    .execute(&mut *tx)
                    .await?;
                let gone = sqlx::query(&format!("DELETE FROM outbox WHERE seq {in_seqs}"))
                    .bind(<$store as Dialect>::id_list(&seqs))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(gone)
            }
        }
        };
    };
}
pub(crate) use sql_events;
