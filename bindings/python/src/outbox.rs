//! What the outbox holds, as Python sees it: `Event`, a page of them, and a
//! webhook delivery's record.

use std::hash::{Hash, Hasher};

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::types::{page_class, q, q_opt};

/// JSON (an event's payload, an audit row's details) as a new dict or
/// list, so the frozen object it comes from stays unchanged.
pub(crate) fn json_to_py<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// One change the core made: ids and names only, never a secret.
#[pyclass(frozen, eq, module = "doorward")]
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// UUIDv7: receivers deduplicate on it.
    #[pyo3(get)]
    id: String,
    /// Position in the outbox (commit order).
    #[pyo3(get)]
    seq: u64,
    /// `UserRegistered`, `LoginSucceeded`, ...
    #[pyo3(get, name = "type")]
    event_type: &'static str,
    /// Version of the payload's shape for this type.
    #[pyo3(get)]
    version: u32,
    #[pyo3(get)]
    occurred_at: DateTime<Utc>,
    /// A user id, or None for the host acting as administrator.
    #[pyo3(get)]
    actor: Option<String>,
    /// A user id, a role name or a file key.
    #[pyo3(get)]
    subject: Option<String>,
    #[pyo3(get)]
    ip: Option<String>,
    #[pyo3(get)]
    user_agent: Option<String>,
    payload: serde_json::Value,
}

#[pymethods]
impl Event {
    /// Type-specific details, as a new dict on every access.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.payload)
    }

    /// Events are unique by id.
    fn __hash__(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.id.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "Event(seq={}, type={}, id={}, subject={})",
            self.seq,
            q(self.event_type),
            q(&self.id),
            q_opt(&self.subject)
        )
    }

    /// The event as the webhooks send it (`type`, not `event_type`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", &self.id)?;
        d.set_item("seq", self.seq)?;
        d.set_item("type", self.event_type)?;
        d.set_item("version", self.version)?;
        d.set_item("occurred_at", self.occurred_at)?;
        d.set_item("actor", &self.actor)?;
        d.set_item("subject", &self.subject)?;
        d.set_item("ip", &self.ip)?;
        d.set_item("user_agent", &self.user_agent)?;
        d.set_item("payload", self.payload(py)?)?;
        Ok(d)
    }
}

impl From<doorward::Event> for Event {
    fn from(e: doorward::Event) -> Self {
        Event {
            id: e.id,
            seq: e.seq,
            event_type: e.event_type.as_str(),
            version: e.version,
            occurred_at: e.occurred_at,
            actor: e.actor,
            subject: e.subject,
            ip: e.ip,
            user_agent: e.user_agent,
            payload: e.payload,
        }
    }
}

page_class! {
    /// One page of the outbox, in commit order.
    EventPage(Event from doorward::Event), "events"
}

/// One event on its way to one webhook.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeliveryRecord {
    /// What `events.replay` takes.
    id: u64,
    webhook_id: String,
    event_seq: u64,
    event_id: String,
    event_type: String,
    /// `pending`, `delivered` or `dead`.
    status: &'static str,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed (an HTTP status or a transport error).
    last_error: Option<String>,
    updated_at: DateTime<Utc>,
}

#[pymethods]
impl DeliveryRecord {
    fn __repr__(&self) -> String {
        format!(
            "DeliveryRecord(id={}, webhook_id={}, event_type={}, status={}, attempts={})",
            self.id,
            q(&self.webhook_id),
            q(&self.event_type),
            q(self.status),
            self.attempts
        )
    }

    /// The attributes as a dict, for JSON responses.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("id", self.id)?;
        d.set_item("webhook_id", &self.webhook_id)?;
        d.set_item("event_seq", self.event_seq)?;
        d.set_item("event_id", &self.event_id)?;
        d.set_item("event_type", &self.event_type)?;
        d.set_item("status", self.status)?;
        d.set_item("attempts", self.attempts)?;
        d.set_item("next_attempt_at", self.next_attempt_at)?;
        d.set_item("last_error", &self.last_error)?;
        d.set_item("updated_at", self.updated_at)?;
        Ok(d)
    }
}

impl From<doorward::store::DeliveryRecord> for DeliveryRecord {
    fn from(r: doorward::store::DeliveryRecord) -> Self {
        DeliveryRecord {
            id: r.id,
            webhook_id: r.webhook_id,
            event_seq: r.event_seq,
            event_id: r.event_id,
            event_type: r.event_type,
            status: r.status.as_str(),
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            updated_at: r.updated_at,
        }
    }
}
