//! `doorward::Error` as a rejected Promise the JavaScript layer can read.
//!
//! N-API errors carry a fixed status as `code`, so the stable doorward code,
//! the field and the retry-after travel as a small JSON document in the
//! message; `node/index.js` turns it into a `DoorwardError` with `.code`,
//! `.field` and `.retryAfter` before any caller sees it.

use napi::{Error, Status};
use std::future::Future;

/// The marker the JavaScript layer looks for.
const PREFIX: &str = "{\"doorward\":";

pub(crate) fn to_js(err: doorward::Error) -> Error {
    let payload = serde_json::json!({
        "doorward": {
            "code": err.code().as_str(),
            "message": err.to_string(),
            "field": err.field(),
            "retryAfter": err.retry_after().map(|d| d.as_secs_f64()),
        }
    });
    debug_assert!(payload.to_string().starts_with(PREFIX));
    Error::new(Status::GenericFailure, payload.to_string())
}

/// Runs a core future, turning its error (and a panic, as `internal`) into
/// the error above.
pub(crate) async fn guarded<T>(fut: impl Future<Output = doorward::Result<T>>) -> napi::Result<T> {
    doorward::error::catch_panics(fut).await.map_err(to_js)
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

/// The HTTP status of a code, for the middleware's error handler.
#[napi_derive::napi]
pub fn http_status(code: String) -> u16 {
    code.parse::<doorward::ErrorCode>()
        .map_or(500, doorward::ErrorCode::http_status)
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
