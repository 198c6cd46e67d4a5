//! `dw.audit`: the append-only, hash-chained audit log.

use chrono::{DateTime, Utc};
use napi_derive::napi;

use crate::error::guarded;
use crate::types::{each, limit};

/// One audit row.
#[napi(object)]
#[derive(Debug)]
pub struct AuditRecord {
    /// 1, 2, 3, ... with no gaps.
    pub seq: f64,
    pub event_id: String,
    #[napi(ts_type = "import('./index').EventType")]
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[napi(ts_type = "'success' | 'failure'")]
    pub outcome: String,
    /// The event's payload as the JSON text the hash covers.
    pub details: String,
    /// The previous row's hash (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 over `prevHash` and this row's fields.
    pub hash: String,
}

impl From<doorward::store::AuditRecord> for AuditRecord {
    fn from(r: doorward::store::AuditRecord) -> Self {
        AuditRecord {
            seq: r.seq as f64,
            event_id: r.event_id,
            event_type: r.event_type,
            occurred_at: r.occurred_at,
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
#[napi(object)]
#[derive(Debug)]
pub struct AuditPage {
    pub items: Vec<AuditRecord>,
    pub next_cursor: Option<String>,
}

impl From<doorward::events::AuditPage> for AuditPage {
    fn from(p: doorward::events::AuditPage) -> Self {
        AuditPage {
            items: each(p.items),
            next_cursor: p.next_cursor,
        }
    }
}

/// What `verify` found.
#[napi(object)]
#[derive(Debug)]
pub struct AuditVerification {
    /// Every row checks out.
    pub ok: bool,
    /// Rows checked.
    pub rows: f64,
    /// The first row that does not, if any.
    pub first_bad_seq: Option<f64>,
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
            rows: v.rows as f64,
            first_bad_seq: v.first_bad_seq.map(|s| s as f64),
            problem: v.problem,
            head: v.head,
        }
    }
}

/// Which rows `list` returns: about `userId` (as actor or subject), of
/// `type`, at or after `since`, before `until`; after `cursor`, `limit`
/// (1 to 1000, default 50) at a time.
#[napi(object)]
#[derive(Debug, Default)]
pub struct AuditListOptions {
    pub user_id: Option<String>,
    #[napi(js_name = "type", ts_type = "import('./index').EventType")]
    pub event_type: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<String>,
    pub limit: Option<f64>,
}

/// Where `export` starts.
#[napi(object)]
#[derive(Debug, Default)]
pub struct AuditExportOptions {
    pub since: Option<DateTime<Utc>>,
}

/// The audit log: `dw.audit`.
#[napi]
#[derive(Debug)]
pub struct Audit {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Audit {
    /// Rows matching the options, oldest first; pass `nextCursor` back for
    /// the next page.
    #[napi]
    pub async fn list(&self, options: Option<AuditListOptions>) -> napi::Result<AuditPage> {
        let options = options.unwrap_or_default();
        let limit = limit(options.limit);
        guarded(async {
            let filter = doorward::store::AuditFilter {
                user_id: options.user_id,
                event_type: options.event_type.as_deref().map(str::parse).transpose()?,
                since: options.since,
                until: options.until,
            };
            self.dw
                .audit()
                .list(&filter, options.cursor.as_deref(), limit)
                .await
        })
        .await
        .map(AuditPage::from)
    }

    /// Every row (at or after `since`) as JSON Lines, for a SIEM or cold
    /// storage.
    #[napi]
    pub async fn export(&self, options: Option<AuditExportOptions>) -> napi::Result<String> {
        let since = options.unwrap_or_default().since;
        guarded(self.dw.audit().export(since)).await
    }

    /// Walk the whole chain and recompute every hash.
    #[napi]
    pub async fn verify(&self) -> napi::Result<AuditVerification> {
        guarded(self.dw.audit().verify())
            .await
            .map(AuditVerification::from)
    }
}
