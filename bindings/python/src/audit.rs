//! `dw.audit`: the hash-chained audit log, and the types that describe it.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::outbox::json_to_py;
use crate::types::{page_class, py_bool, q, q_opt};

sub_api!(
    /// The audit log: `dw.audit`.
    Audit,
    AsyncAudit
);

/// One row of the audit log, with its place in the hash chain.
#[pyclass(frozen, eq, module = "doorward")]
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3, ... with no gaps.
    #[pyo3(get)]
    seq: u64,
    #[pyo3(get)]
    event_id: String,
    #[pyo3(get)]
    event_type: String,
    #[pyo3(get)]
    occurred_at: DateTime<Utc>,
    #[pyo3(get)]
    actor: Option<String>,
    #[pyo3(get)]
    subject: Option<String>,
    #[pyo3(get)]
    ip: Option<String>,
    #[pyo3(get)]
    user_agent: Option<String>,
    /// `success` or `failure`.
    #[pyo3(get)]
    outcome: String,
    /// The event's payload (the chain hashes its JSON text).
    details: serde_json::Value,
    /// The previous row's hash (64 zeros for the first).
    #[pyo3(get)]
    prev_hash: String,
    /// Hex SHA-256 over `prev_hash` and this row's fields.
    #[pyo3(get)]
    hash: String,
}

#[pymethods]
impl AuditRecord {
    /// The event's payload, as a new dict on every access.
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.details)
    }

    /// Rows are unique by their hash.
    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditRecord(seq={}, event_type={}, subject={}, outcome={})",
            self.seq,
            q(&self.event_type),
            q_opt(&self.subject),
            q(&self.outcome)
        )
    }

    /// The attributes as a dict, for JSON responses.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("seq", self.seq)?;
        d.set_item("event_id", &self.event_id)?;
        d.set_item("event_type", &self.event_type)?;
        d.set_item("occurred_at", self.occurred_at)?;
        d.set_item("actor", &self.actor)?;
        d.set_item("subject", &self.subject)?;
        d.set_item("ip", &self.ip)?;
        d.set_item("user_agent", &self.user_agent)?;
        d.set_item("outcome", &self.outcome)?;
        d.set_item("details", self.details(py)?)?;
        d.set_item("prev_hash", &self.prev_hash)?;
        d.set_item("hash", &self.hash)?;
        Ok(d)
    }
}

impl From<doorward::store::AuditRecord> for AuditRecord {
    fn from(r: doorward::store::AuditRecord) -> Self {
        AuditRecord {
            seq: r.seq,
            event_id: r.event_id,
            event_type: r.event_type,
            occurred_at: r.occurred_at,
            actor: r.actor,
            subject: r.subject,
            ip: r.ip,
            user_agent: r.user_agent,
            outcome: r.outcome,
            // The core writes the text from a JSON value; should a row ever
            // hold something else, it is shown as the string it is.
            details: serde_json::from_str(&r.details)
                .unwrap_or(serde_json::Value::String(r.details)),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

page_class! {
    /// One page of audit rows, oldest first.
    AuditPage(AuditRecord from doorward::store::AuditRecord), "records"
}

/// What `audit.verify()` found: `ok` when every row checks out, otherwise
/// the first bad row and what is wrong with it. `head` is the hash of the
/// last good row: record it elsewhere to detect a truncated log later.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditVerification {
    ok: bool,
    rows: u64,
    first_bad_seq: Option<u64>,
    problem: Option<String>,
    head: String,
}

#[pymethods]
impl AuditVerification {
    fn __repr__(&self) -> String {
        format!(
            "AuditVerification(ok={}, rows={}, first_bad_seq={}, problem={})",
            py_bool(self.ok),
            self.rows,
            self.first_bad_seq
                .map_or_else(|| "None".to_string(), |s| s.to_string()),
            q_opt(&self.problem)
        )
    }

    fn __bool__(&self) -> bool {
        self.ok
    }
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

twins! {
    Audit, AsyncAudit;

    /// Rows where `user_id` is the actor or the subject, of event `type`,
    /// at or after `since` and before `until` (aware datetimes), oldest
    /// first, `limit` (1 to 1000; None for the default, 50) at a time.
    // One Python keyword argument per filter field: a signature, not a design smell.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (user_id = None, r#type = None, since = None, until = None, cursor = None, limit = None))]
    fn list(
        dw,
        user_id: Option<String>,
        r#type: Option<String>,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        cursor: Option<String>,
        limit: Option<i64>,
    ) -> AuditPage {
        let filter = doorward::store::AuditFilter {
            user_id,
            event_type: r#type.as_deref().map(str::parse).transpose()?,
            since,
            until,
        };
        dw.audit()
            .list(&filter, cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(AuditPage::from)
    }

    /// Every row at or after `since` as JSON Lines, for a SIEM or cold
    /// storage.
    #[pyo3(signature = (since = None))]
    fn export(dw, since: Option<DateTime<Utc>>) -> String {
        dw.audit().export(since).await
    }

    /// Walk the whole chain and recompute every hash.
    fn verify(dw) -> AuditVerification {
        dw.audit().verify().await.map(AuditVerification::from)
    }
}
