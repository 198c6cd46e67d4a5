//! Webhook fan-out and delivery, signed as the Standard Webhooks
//! specification says (<https://www.standardwebhooks.com/>): headers
//! `webhook-id` (the event id, stable across retries, for deduplication),
//! `webhook-timestamp` (Unix seconds of this attempt) and
//! `webhook-signature` (`v1,` + base64 HMAC-SHA256 over
//! `{id}.{timestamp}.{body}` with the key inside the `whsec_` secret).
//!
//! Each delivery is retried with exponential backoff and jitter until the
//! receiver answers 2xx, and dead-lettered after `events_max_attempts`;
//! `events().replay(id)` queues a dead one again. Deliveries to one webhook
//! about one subject go out in event order: a later one waits until every
//! earlier one is delivered or dead.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::Event;
use crate::core::Core;
use crate::error::{Error, Result};
use crate::store::{AttemptOutcome, DeliveryJob, Lease, now};

/// The metrics label of webhook deliveries.
const WEBHOOK: &[(&str, &str)] = &[("consumer", "webhook")];

/// Deliveries claimed per pass (and sent concurrently).
const CLAIM: u32 = 64;

/// Queue a delivery of each event to every webhook whose filter takes it,
/// moving the fan-out consumer in the same transaction.
pub(crate) async fn fan_out(core: &Core, events: &[Event], lease: &Lease) -> Result<bool> {
    let hooks = core.store.webhooks().await?;
    let mut queued = Vec::new();
    for e in events {
        for h in &hooks {
            let wanted = if h.event_types.is_empty() {
                !e.event_type.is_webhook_administration()
            } else {
                h.event_types.contains(&e.event_type)
            };
            if wanted {
                queued.push((h.id.clone(), e.clone()));
            }
        }
    }
    let moved = core.store.enqueue_deliveries(&queued, lease, now()).await?;
    if moved && !queued.is_empty() {
        // The new deliveries are due now.
        core.hub.wake.notify_one();
    }
    Ok(moved)
}

/// Claim due deliveries and attempt them; true if there may be more.
pub(crate) async fn deliver_due(core: &Core) -> Result<bool> {
    let at = now();
    let until = at + chrono::Duration::seconds(core.config.events_lease_secs as i64);
    let jobs = core
        .store
        .claim_deliveries(&core.hub.owner, at, until, CLAIM)
        .await?;
    let full = jobs.len() == CLAIM as usize;
    let attempts = jobs.into_iter().map(|job| attempt(core, job));
    for result in futures_util::future::join_all(attempts).await {
        result?;
    }
    Ok(full)
}

async fn attempt(core: &Core, job: DeliveryJob) -> Result<()> {
    let body = body(&job.event);
    let sent = send(
        core,
        &job.webhook.url,
        &job.webhook.secret,
        &job.event.id,
        &body,
    )
    .await;
    let metrics = &core.metrics;
    let outcome = match sent {
        Ok(()) => {
            metrics.count("doorward_events_delivered_total", WEBHOOK);
            AttemptOutcome::Delivered
        }
        Err(error) => {
            metrics.count("doorward_events_failed_total", WEBHOOK);
            let attempts = job.attempts + 1;
            tracing::warn!(
                webhook_id = %job.webhook.id, event_id = %job.event.id, attempts, error,
                "webhook delivery failed"
            );
            if attempts >= core.config.events_max_attempts {
                metrics.count("doorward_events_dead_total", WEBHOOK);
                AttemptOutcome::Dead { error }
            } else {
                AttemptOutcome::Retry {
                    error,
                    at: now() + super::backoff(&core.config, attempts),
                }
            }
        }
    };
    core.store
        .finish_delivery(job.id, &core.hub.owner, &outcome, now())
        .await?;
    Ok(())
}

/// The request body: Standard Webhooks' `type` / `timestamp` / `data`
/// envelope around the whole event.
pub(crate) fn body(event: &Event) -> String {
    json!({
        "type": event.event_type.as_str(),
        "timestamp": event.occurred_at,
        "data": event,
    })
    .to_string()
}

/// POST `body` signed with `secret`; `Err` with a short reason unless 2xx.
/// Only to a public address unless `webhook_allow_private` (see
/// [`super::targets`]).
pub(crate) async fn send(
    core: &Core,
    url: &str,
    secret: &str,
    msg_id: &str,
    body: &str,
) -> std::result::Result<(), String> {
    super::targets::check_literal(url, core.config.webhook_allow_private)?;
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(secret, msg_id, timestamp, body).map_err(|e| e.to_string())?;
    let response = core
        .hub
        .http
        .post(url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("doorward/", env!("CARGO_PKG_VERSION")),
        )
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

/// A transport error without the URL (which may carry credentials).
fn transport_error(e: &reqwest::Error) -> String {
    let kind = if super::targets::refused_by_resolver(e) {
        super::targets::NOT_ALLOWED
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_string()
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
///
/// ```
/// // The example from the Standard Webhooks specification's test vectors.
/// let sig = doorward::events::sign_webhook(
///     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
///     "msg_p5jXN8AQM9LWM0D4loKWxJek",
///     1614265330,
///     r#"{"test": 2432232314}"#,
/// ).unwrap();
/// assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// ```
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Result<String> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Error::validation("secret", "is not a usable HMAC key"))?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Check a delivery as its receiver does (the Standard Webhooks scheme
/// [`sign`] follows): `signature_header` is the `webhook-signature` header,
/// which may carry several space-separated signatures (during a secret
/// rotation) and versions other than `v1`, which are skipped; one `v1`
/// signature must match, compared in constant time; and `timestamp` (the
/// `webhook-timestamp` header) must be within `tolerance_secs` of `now`,
/// so a captured delivery cannot be replayed later.
///
/// ```
/// use doorward::events::{sign_webhook, verify_webhook};
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// let body = r#"{"test": 2432232314}"#;
/// let sig = sign_webhook(secret, "msg_1", 1614265330, body).unwrap();
/// assert!(verify_webhook(secret, "msg_1", 1614265330, &format!("v1,bogus {sig}"), body, 1614265400, 300).is_ok());
/// assert!(verify_webhook(secret, "msg_1", 1614265330, &sig, "{}", 1614265400, 300).is_err());
/// assert!(verify_webhook(secret, "msg_1", 1614265330, &sig, body, 1614275330, 300).is_err());
/// ```
pub fn verify(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    signature_header: &str,
    body: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<()> {
    if now.abs_diff(timestamp) > tolerance_secs.max(0).unsigned_abs() {
        return Err(Error::validation(
            "webhook-timestamp",
            "is too far from the current time",
        ));
    }
    let key = secret_key(secret)?;
    let mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Error::validation("secret", "is not a usable HMAC key"))?
        .chain_update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    let matched = signature_header
        .split(' ')
        .filter_map(|part| part.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .any(|candidate| mac.clone().verify_slice(&candidate).is_ok());
    if matched {
        Ok(())
    } else {
        Err(Error::validation(
            "webhook-signature",
            "no signature matches",
        ))
    }
}

/// The key bytes inside a `whsec_` secret.
fn secret_key(secret: &str) -> Result<Vec<u8>> {
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or_else(|| Error::validation("secret", "must start with whsec_"))?;
    STANDARD
        .decode(encoded)
        .map_err(|_| Error::validation("secret", "is not base64 after whsec_"))
}
