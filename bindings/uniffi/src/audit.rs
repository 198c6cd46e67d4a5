//! The audit log: `doorward.audit()`. Append-only, hash-chained rows fed
//! from the outbox, so it records exactly the committed changes.

use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::error::{DoorwardError, call};
use crate::types::time;

/// One audited change.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditRecord {
    /// 1, 2, 3, ... with no gaps.
    pub seq: u64,
    /// The event it records.
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: SystemTime,
    /// Who did it (a user id; `null` for the host as administrator).
    pub actor: Option<String>,
    /// On whom or what.
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    /// The event's payload as JSON text.
    pub details: String,
    /// The previous row's hash (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over `prev_hash` and this row's fields.
    pub hash: String,
}

impl From<doorward::store::AuditRecord> for AuditRecord {
    fn from(r: doorward::store::AuditRecord) -> Self {
        AuditRecord {
            seq: r.seq,
            event_id: r.event_id,
            event_type: r.event_type,
            occurred_at: time(r.occurred_at),
            actor: r.actor,
            subject: r.subject,
            ip: r.ip,
            user_agent: r.user_agent,
            outcome: r.outcome,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// One page of audit rows, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    /// Pass back for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl From<doorward::events::AuditPage> for AuditPage {
    fn from(p: doorward::events::AuditPage) -> Self {
        AuditPage {
            items: p.items.into_iter().map(AuditRecord::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuditVerification {
    /// True when every row checks out.
    pub ok: bool,
    /// Rows checked.
    pub rows: u64,
    /// The first row that does not, if any.
    pub first_bad_seq: Option<u64>,
    /// What is wrong with it.
    pub problem: Option<String>,
    /// The hash of the last good row: record it elsewhere to detect a
    /// truncated log later.
    pub head: String,
}

impl From<doorward::events::AuditVerification> for AuditVerification {
    fn from(v: doorward::events::AuditVerification) -> Self {
        AuditVerification {
            ok: v.ok,
            rows: v.rows,
            first_bad_seq: v.first_bad_seq,
            problem: v.problem,
            head: v.head,
        }
    }
}

fn utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

/// The audit log: `doorward.audit()`.
#[derive(Debug, uniffi::Object)]
pub struct Audit {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Audit {
        /// Rows where `user_id` is the actor or the subject, of
        /// `event_type`, at or after `since` and before `until` (each
        /// filter off when `null`), oldest first, `limit` (1 to 1000; `null`
        /// for the default, 50) at a time after `cursor`.
        #[uniffi::method(default(user_id = None, event_type = None, since = None, until = None, cursor = None, limit = None))]
        #[allow(clippy::too_many_arguments)]
        pub async fn list(
            &self,
            user_id: Option<String>,
            event_type: Option<String>,
            since: Option<SystemTime>,
            until: Option<SystemTime>,
            cursor: Option<String>,
            limit: Option<u32>,
        ) -> Result<AuditPage, DoorwardError> {
            call(async {
                let filter = doorward::store::AuditFilter {
                    user_id,
                    event_type: event_type.map(|t| t.parse()).transpose()?,
                    since: since.map(utc),
                    until: until.map(utc),
                };
                self.dw.audit().list(&filter, cursor.as_deref(), limit).await
            })
            .await
            .map(AuditPage::from)
        }

        /// Every row at or after `since` (all when `null`) as JSON Lines,
        /// for shipping to a SIEM or cold storage.
        #[uniffi::method(default(since = None))]
        pub async fn export(&self, since: Option<SystemTime>) -> Result<String, DoorwardError> {
            call(self.dw.audit().export(since.map(utc))).await
        }

        /// Walk the whole chain and recompute every hash.
        pub async fn verify(&self) -> Result<AuditVerification, DoorwardError> {
            call(self.dw.audit().verify()).await.map(AuditVerification::from)
        }
    }
}
