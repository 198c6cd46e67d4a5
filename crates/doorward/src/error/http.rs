//! The HTTP answer to an error, decided once for every web host.
//!
//! Python's framework helpers, the Node middleware and Kotlin/Swift hosts all
//! answer a doorward error the same way — status, RFC 6750 challenge,
//! `Retry-After`, a JSON body that hides server-side details — because they
//! all ask this module instead of keeping a table of their own.

use serde::Serialize;

use super::Error;

/// An error as a host holds it: the input of [`HttpErrorResponse::from_parts`].
///
/// Hosts answer errors they hold as their own exceptions (a Python
/// `DoorwardError`, a Node `Error` with `.code`), sometimes ones they made
/// themselves, so the answer is computed from these parts rather than from
/// an [`Error`]. A code this version does not know is answered as a 500.
///
/// ```
/// use doorward::error::{ErrorParts, HttpErrorResponse};
/// let answer = HttpErrorResponse::from_parts(&ErrorParts {
///     code: "token_invalid",
///     message: "a bearer access token is required",
///     missing_token: true,
///     ..ErrorParts::default()
/// });
/// assert_eq!(answer.status, 401);
/// assert_eq!(answer.header("WWW-Authenticate"), Some("Bearer"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ErrorParts<'a> {
    /// The stable code (`"rate_limited"`, ...).
    pub code: &'a str,
    /// The error's message; a 5xx answer leaves it out.
    pub message: &'a str,
    /// The input a validation error is about.
    pub field: Option<&'a str>,
    /// Seconds until a retry may succeed, as hosts carry it (a float).
    pub retry_after: Option<f64>,
    /// The request had no bearer token at all. RFC 6750 §3.1: the challenge
    /// then carries no `error`, which is only for a token that was refused.
    pub missing_token: bool,
}

/// What a web host answers a doorward error with.
///
/// - `status`: the code's HTTP status ([`ErrorCode::http_status`](super::ErrorCode::http_status)),
///   500 for an unknown code;
/// - `headers`: on a 401 `WWW-Authenticate: Bearer`, with
///   `error="invalid_token"` when a presented token was refused (RFC 6750
///   §3.1); on a 429 `Retry-After` in whole seconds, rounded up, at least 1;
/// - `body`: `{"error": {"code", "message", "field"}}`, as JSON; a 5xx says
///   no more than its code, so nothing about the deployment (hosts, paths,
///   a panic's message) reaches a client.
///
/// The body's media type is `application/json`; setting it is left to the
/// host's framework.
///
/// ```
/// use doorward::Error;
/// let answer = Error::validation("email", "must contain exactly one @").http_response();
/// assert_eq!(answer.status, 422);
/// assert!(answer.headers.is_empty());
/// assert_eq!(
///     answer.body_json(),
///     r#"{"error":{"code":"validation_error","message":"invalid email: must contain exactly one @","field":"email"}}"#
/// );
///
/// let hidden = Error::Storage("could not connect to db.internal:5432".into()).http_response();
/// assert_eq!(hidden.status, 503);
/// assert_eq!(hidden.body.error.message, "the server could not complete the request");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpErrorResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers to add, by their canonical names (`WWW-Authenticate`, `Retry-After`).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body ([`HttpErrorResponse::body_json`] serialises it).
    pub body: ErrorBody,
}

/// The JSON body of an error answer: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorBodyDetail,
}

/// The inside of [`ErrorBody`], serialised in this field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBodyDetail {
    /// The stable code.
    pub code: String,
    /// The error's message, or [`HttpErrorResponse::SERVER_ERROR_MESSAGE`] for a 5xx.
    pub message: String,
    /// The input a validation error is about (`null` otherwise).
    pub field: Option<String>,
}

impl HttpErrorResponse {
    /// The message of every 5xx body, in place of the error's own.
    pub const SERVER_ERROR_MESSAGE: &'static str = "the server could not complete the request";

    /// The answer to an error a host holds (see [`ErrorParts`]).
    ///
    /// ```
    /// use doorward::error::{ErrorParts, HttpErrorResponse};
    /// let answer = HttpErrorResponse::from_parts(&ErrorParts {
    ///     code: "rate_limited",
    ///     message: "rate limited; retry in 1s",
    ///     retry_after: Some(1.2),
    ///     ..ErrorParts::default()
    /// });
    /// assert_eq!(answer.status, 429);
    /// assert_eq!(answer.header("Retry-After"), Some("2"));
    /// ```
    pub fn from_parts(parts: &ErrorParts<'_>) -> Self {
        let code = parts.code.parse::<super::ErrorCode>().ok();
        let status = code.map_or(500, super::ErrorCode::http_status);
        let mut headers = Vec::new();
        if status == 401 {
            let refused = code
                .and_then(super::ErrorCode::bearer_error)
                .filter(|_| !parts.missing_token);
            headers.push((
                "WWW-Authenticate",
                match refused {
                    Some(error) => format!("Bearer error=\"{error}\""),
                    None => "Bearer".to_string(),
                },
            ));
        }
        if let (429, Some(seconds)) = (status, parts.retry_after) {
            // Whole seconds, never early, never 0 (which would invite an
            // immediate retry); `as` saturates, and maps NaN to 0.
            let whole = (seconds.ceil() as u64).max(1);
            headers.push(("Retry-After", whole.to_string()));
        }
        let message = if status >= 500 {
            Self::SERVER_ERROR_MESSAGE
        } else {
            parts.message
        };
        HttpErrorResponse {
            status,
            headers,
            body: ErrorBody {
                error: ErrorBodyDetail {
                    code: parts.code.to_string(),
                    message: message.to_string(),
                    field: parts.field.map(str::to_string),
                },
            },
        }
    }

    /// The body as compact JSON text.
    pub fn body_json(&self) -> String {
        // Cannot fail: the body is strings only.
        serde_json::to_string(&self.body).unwrap_or_default()
    }

    /// The headers as owned pairs in the collection a host wants (a map of
    /// strings for Node and Kotlin).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let answer = doorward::Error::TokenRevoked.http_response();
    /// let headers: HashMap<String, String> = answer.header_map();
    /// assert_eq!(headers["WWW-Authenticate"], r#"Bearer error="invalid_token""#);
    /// ```
    pub fn header_map<M: FromIterator<(String, String)>>(&self) -> M {
        self.headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    /// The value of header `name` (ASCII case-insensitive), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Error {
    /// The HTTP answer to this error: see [`HttpErrorResponse`].
    ///
    /// ```
    /// use doorward::Error;
    /// let answer = Error::TokenExpired.http_response();
    /// assert_eq!(answer.status, 401);
    /// assert_eq!(answer.header("WWW-Authenticate"), Some(r#"Bearer error="invalid_token""#));
    /// ```
    pub fn http_response(&self) -> HttpErrorResponse {
        let message = self.to_string();
        HttpErrorResponse::from_parts(&ErrorParts {
            code: self.code().as_str(),
            message: &message,
            field: self.field(),
            retry_after: self.retry_after().map(|d| d.as_secs_f64()),
            missing_token: false,
        })
    }
}
