//! `dw.mail`: sending mail through the configured mailer, and what the
//! in-memory mailer holds.

use pyo3::prelude::*;

use crate::types::{Done, each, q};

sub_api!(
    /// Outgoing mail: `dw.mail`.
    Mail,
    AsyncMail
);

/// One plain-text message to one recipient: `from_` (`from` is a Python
/// keyword), `to`, `subject`, `text`. The address and the body are readable
/// here but never part of the `repr`.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Message {
    /// `Name <address>` or a bare address.
    #[pyo3(name = "from_")]
    from: String,
    to: String,
    subject: String,
    text: String,
}

#[pymethods]
impl Message {
    fn __repr__(&self) -> String {
        format!(
            "Message(subject={}, to=<hidden>, text=<hidden>)",
            q(&self.subject)
        )
    }
}

impl From<doorward::mail::Message> for Message {
    fn from(m: doorward::mail::Message) -> Self {
        Message {
            from: m.from,
            to: m.to,
            subject: m.subject,
            text: m.text,
        }
    }
}

/// What the in-memory mailer holds (`ConfigError` unless it is in force).
fn sent(handle: &crate::handle::Handle, py: Python<'_>) -> PyResult<Vec<Message>> {
    handle
        .get(py)?
        .mail()
        .sent()
        .map(each)
        .map_err(crate::error::to_py_err)
}

twins! {
    Mail, AsyncMail;

    /// Send a plain-text message from `mail_from` now, through the mailer
    /// `mail_url` names (`ConfigError` without one).
    fn send(dw, to: String, subject: String, text: String) -> Done {
        dw.mail().send(&to, &subject, &text).await
    }
}

#[pymethods]
impl Mail {
    /// What the in-memory mailer (`mail_url="memory://"`) holds, oldest
    /// first; `ConfigError` when another mailer is in force.
    fn sent(&self, py: Python<'_>) -> PyResult<Vec<Message>> {
        sent(&self.handle, py)
    }
}

#[pymethods]
impl AsyncMail {
    /// What the in-memory mailer (`mail_url="memory://"`) holds, oldest
    /// first; `ConfigError` when another mailer is in force.
    fn sent(&self, py: Python<'_>) -> PyResult<Vec<Message>> {
        sent(&self.handle, py)
    }
}
