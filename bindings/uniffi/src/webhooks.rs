//! Webhook endpoints: `doorward.webhooks()`. Deliveries are signed per
//! Standard Webhooks (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`) with the endpoint's `whsec_` secret.

use std::time::SystemTime;

use crate::error::{DoorwardError, call};
use crate::types::{each, time};

/// A webhook endpoint. `secret` is here so the receiver can be configured
/// with it, but printing the record never shows it: a Kotlin data class's
/// generated `toString()` (and Swift's `description`) would print every
/// field into logs, so both come from the redacting Rust `Display` and
/// `Debug` below instead. Read it only as `webhook.secret`.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug, Display)]
pub struct Webhook {
    /// `wh_` + UUIDv7.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// `whsec_` + base64 key: the receiver verifies signatures with it.
    pub secret: String,
    /// The event types it receives (all when empty).
    pub event_types: Vec<String>,
    pub created_at: SystemTime,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"[redacted]")
            .field("event_types", &self.event_types)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Display for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Webhook(id={}, url={}, eventTypes={:?}, secret hidden)",
            self.id, self.url, self.event_types
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
            created_at: time(w.created_at),
        }
    }
}

/// How a test message went.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WebhookTest {
    /// The receiver answered 2xx.
    pub ok: bool,
    /// Otherwise why not (`HTTP 500`, `connection failed`, `timeout`).
    pub error: Option<String>,
}

impl From<doorward::events::WebhookTest> for WebhookTest {
    fn from(t: doorward::events::WebhookTest) -> Self {
        WebhookTest {
            ok: t.ok,
            error: t.error,
        }
    }
}

/// Webhook endpoints: `doorward.webhooks()`.
#[derive(Debug, uniffi::Object)]
pub struct Webhooks {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Webhooks {
        /// Register `url` (http or https) for `event_types` (all when
        /// empty); events committed from now on are POSTed to it.
        #[uniffi::method(default(event_types = []))]
        pub async fn add(&self, url: String, event_types: Vec<String>) -> Result<Webhook, DoorwardError> {
            call(async {
                let types = doorward::events::parse_types(&event_types)?;
                self.dw.webhooks().add(&url, &types).await
            })
            .await
            .map(Webhook::from)
        }

        /// Every webhook, oldest first.
        pub async fn list(&self) -> Result<Vec<Webhook>, DoorwardError> {
            call(self.dw.webhooks().list()).await.map(each)
        }

        /// Remove a webhook and its queued deliveries (`NotFound` if absent).
        pub async fn remove(&self, id: String) -> Result<(), DoorwardError> {
            call(self.dw.webhooks().remove(&id)).await
        }

        /// Send a signed `doorward.test` message now, outside the queue, and
        /// report how the receiver answered.
        pub async fn test(&self, id: String) -> Result<WebhookTest, DoorwardError> {
            call(self.dw.webhooks().test(&id)).await.map(WebhookTest::from)
        }
    }
}
