//! `dw.webhooks`: endpoints that receive events, signed per Standard
//! Webhooks. The secret is on the record so the receiver can be configured
//! with it; the package keeps it out of `util.inspect` and `JSON.stringify`.

use chrono::{DateTime, Utc};
use napi_derive::napi;

use crate::error::guarded;
use crate::types::each;

/// A webhook endpoint.
#[napi(object)]
pub struct Webhook {
    /// `wh_` + UUIDv7.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// `whsec_…`: the receiver verifies signatures with it. Read it as a
    /// property; it is hidden from `util.inspect` and `JSON.stringify`.
    pub secret: String,
    /// The event types it receives (all when empty).
    #[napi(ts_type = "import('./index').EventType[]")]
    pub event_types: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .finish_non_exhaustive()
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

/// How a test message went.
#[napi(object)]
#[derive(Debug)]
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

/// Webhook endpoints: `dw.webhooks`.
#[napi]
#[derive(Debug)]
pub struct Webhooks {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Webhooks {
    /// Register an http(s) `url` for `types` (all when absent or empty);
    /// events committed from now on are delivered to it.
    #[napi(ts_args_type = "url: string, types?: import('./index').EventType[] | undefined | null")]
    pub async fn add(&self, url: String, types: Option<Vec<String>>) -> napi::Result<Webhook> {
        let names = types.unwrap_or_default();
        guarded(async {
            let types = doorward::events::parse_types(&names)?;
            self.dw.webhooks().add(&url, &types).await
        })
        .await
        .map(Webhook::from)
    }

    /// Every webhook, oldest first.
    #[napi]
    pub async fn list(&self) -> napi::Result<Vec<Webhook>> {
        guarded(self.dw.webhooks().list()).await.map(each)
    }

    /// Remove a webhook and its queued deliveries (`not_found` if absent).
    #[napi]
    pub async fn remove(&self, id: String) -> napi::Result<()> {
        guarded(self.dw.webhooks().remove(&id)).await
    }

    /// Send a signed `doorward.test` message now, outside the queue, and
    /// report how the receiver answered.
    #[napi]
    pub async fn test(&self, id: String) -> napi::Result<WebhookTest> {
        guarded(self.dw.webhooks().test(&id))
            .await
            .map(WebhookTest::from)
    }
}
