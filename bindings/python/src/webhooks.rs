//! `dw.webhooks`: endpoints that receive events, signed per Standard
//! Webhooks, and the types that describe them.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::types::{Done, each, py_bool, q, q_list, q_opt};

sub_api!(
    /// Webhook endpoints: `dw.webhooks`.
    Webhooks,
    AsyncWebhooks
);

/// A webhook endpoint. `secret` (`whsec_...`) is what the receiver verifies
/// signatures with; it is readable here but never part of the `repr`.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Webhook {
    id: String,
    url: String,
    secret: String,
    /// The event types it receives (all when empty).
    event_types: Vec<String>,
    created_at: DateTime<Utc>,
}

#[pymethods]
impl Webhook {
    fn __repr__(&self) -> String {
        format!(
            "Webhook(id={}, url={}, event_types={}, secret=<hidden>)",
            q(&self.id),
            q(&self.url),
            q_list(&self.event_types)
        )
    }
}

impl From<doorward::Webhook> for Webhook {
    fn from(w: doorward::Webhook) -> Self {
        Webhook {
            id: w.id,
            url: w.url,
            secret: w.secret,
            event_types: w
                .event_types
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            created_at: w.created_at,
        }
    }
}

/// How a test message went: `ok` when the receiver answered 2xx,
/// otherwise `error` says why (`HTTP 500`, `connection failed`, `timeout`).
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookTest {
    ok: bool,
    error: Option<String>,
}

#[pymethods]
impl WebhookTest {
    fn __repr__(&self) -> String {
        format!(
            "WebhookTest(ok={}, error={})",
            py_bool(self.ok),
            q_opt(&self.error)
        )
    }

    fn __bool__(&self) -> bool {
        self.ok
    }
}

impl From<doorward::events::WebhookTest> for WebhookTest {
    fn from(t: doorward::events::WebhookTest) -> Self {
        WebhookTest {
            ok: t.ok,
            error: t.error,
        }
    }
}

twins! {
    Webhooks, AsyncWebhooks;

    /// POST events of `types` (all when None) committed from now on to
    /// `url` (http or https), signed with the new webhook's secret.
    #[pyo3(signature = (url, types = None))]
    fn add(dw, url: String, types: Option<Vec<String>>) -> Webhook {
        let types = doorward::events::parse_types(&types.unwrap_or_default())?;
        dw.webhooks().add(&url, &types).await.map(Webhook::from)
    }

    /// Every webhook, oldest first.
    fn list(dw) -> Vec<Webhook> {
        dw.webhooks().list().await.map(each)
    }

    /// Remove a webhook and its queued deliveries (`NotFoundError` if
    /// absent).
    fn remove(dw, webhook_id: String) -> Done {
        dw.webhooks().remove(&webhook_id).await
    }

    /// Send a signed `doorward.test` message now, outside the queue, and
    /// report how the receiver answered.
    fn test(dw, webhook_id: String) -> WebhookTest {
        dw.webhooks().test(&webhook_id).await.map(WebhookTest::from)
    }
}
