//! `doorward::Error` as a rejected Promise the JavaScript layer can read.
//!
//! N-API errors carry a fixed status as `code`, so the stable doorward code,
//! the field, the retry-after and an OAuth failure's provider, `error` and
//! description travel as a small JSON document in the message;
//! `node/lib/errors.ts` turns it into a `DoorwardError` with `.code`,
//! `.field`, `.retryAfter`, `.provider`, `.oauthError` and `.description`
//! before any caller sees it. The way back: the middleware hands a
//! `DoorwardError` to `httpErrorResponse` for the core's HTTP answer to it.

use napi::{Error, Status};
use std::collections::HashMap;
use std::future::Future;

/// The marker the JavaScript layer looks for.
const PREFIX: &str = "{\"doorward\":";

pub(crate) fn to_js(err: doorward::Error) -> Error {
    let payload = transported(&err);
    debug_assert!(payload.to_string().starts_with(PREFIX));
    Error::new(Status::GenericFailure, payload.to_string())
}

/// The JSON document an error travels as: `{"doorward": {...}}`.
pub(crate) fn transported(err: &doorward::Error) -> serde_json::Value {
    // What an OAuth failure says beyond its code: the provider, and the
    // provider's own `error` and description.
    let (provider, oauth_error, description) = match err {
        doorward::Error::OAuthProviderError {
            provider,
            error,
            description,
        } => (
            Some(provider.as_str()),
            Some(error.as_str()),
            description.as_deref(),
        ),
        doorward::Error::AccountExists { provider } => (Some(provider.as_str()), None, None),
        _ => (None, None, None),
    };
    serde_json::json!({
        "doorward": {
            "code": err.code().as_str(),
            "message": err.to_string(),
            "field": err.field(),
            "retryAfter": err.retry_after().map(|d| d.as_secs_f64()),
            "provider": provider,
            "oauthError": oauth_error,
            "description": description,
        }
    })
}

/// Runs a core future, turning its error (and a panic, as `internal`) into
/// the error above.
pub(crate) async fn guarded<T>(fut: impl Future<Output = doorward::Result<T>>) -> napi::Result<T> {
    doorward::error::catch_panics(fut).await.map_err(to_js)
}

/// Runs a synchronous core call, turning its error (and a panic, as
/// `internal`) into the error above.
pub(crate) fn guarded_sync<T>(call: impl FnOnce() -> doorward::Result<T>) -> napi::Result<T> {
    doorward::error::catch_panics_sync(call).map_err(to_js)
}

/// A synchronous core call with `would_block` as `None`: the caller then
/// makes the async call.
pub(crate) fn in_memory<T>(call: impl FnOnce() -> doorward::Result<T>) -> napi::Result<Option<T>> {
    match doorward::error::catch_panics_sync(call) {
        Ok(value) => Ok(Some(value)),
        Err(doorward::Error::WouldBlock) => Ok(None),
        Err(e) => Err(to_js(e)),
    }
}

/// Every stable error code, in documentation order: what the TypeScript
/// `ErrorCode` union is checked against.
#[napi_derive::napi]
pub fn error_codes() -> Vec<&'static str> {
    doorward::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// The HTTP status of a code, for the middleware's `HTTP_STATUS` table.
#[napi_derive::napi]
pub fn http_status(code: String) -> u16 {
    code.parse::<doorward::ErrorCode>()
        .map_or(500, doorward::ErrorCode::http_status)
}

/// A `DoorwardError` as the middleware holds it.
#[napi_derive::napi(object)]
#[derive(Debug)]
pub struct ErrorParts {
    pub code: String,
    pub message: String,
    /// The input a validation error is about.
    pub field: Option<String>,
    /// Seconds until a retry may succeed.
    pub retry_after: Option<f64>,
    /// The request had no bearer token at all.
    pub missing_token: Option<bool>,
}

/// The core's HTTP answer to an error.
#[napi_derive::napi(object)]
#[derive(Debug)]
pub struct HttpErrorResponse {
    pub status: u16,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub headers: HashMap<String, String>,
    /// `{"error":{"code","message","field"}}`, as JSON text.
    pub body: String,
}

/// The HTTP answer to an error, as every binding gives it
/// (`doorward::error::HttpErrorResponse::from_parts`): what the
/// middleware's `errorHandler` sends.
#[napi_derive::napi]
pub fn http_error_response(error: ErrorParts) -> HttpErrorResponse {
    let answer = doorward::error::HttpErrorResponse::from_parts(&doorward::error::ErrorParts {
        code: &error.code,
        message: &error.message,
        field: error.field.as_deref(),
        retry_after: error.retry_after,
        missing_token: error.missing_token.unwrap_or(false),
    });
    HttpErrorResponse {
        status: answer.status,
        body: answer.body_json(),
        headers: answer.header_map(),
    }
}

/// Panics inside the core on purpose, through the same boundary as every
/// operation: how the tests prove a panic rejects with `internal`.
#[napi_derive::napi(js_name = "_panicForTests")]
pub async fn panic_for_tests(message: String) -> napi::Result<()> {
    guarded(async move {
        if !message.is_empty() {
            panic!("{message}");
        }
        Ok(())
    })
    .await
}
