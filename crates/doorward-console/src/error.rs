//! Errors as the API answers them: the core's status and JSON body
//! (`{"error": {"code", "message", "field"}}`), never a 500 for bad input.

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An answer that is an error: a doorward error, or one the console makes
/// (a missing CSRF token, a route that needs more permission).
#[derive(Debug)]
pub struct ApiError(pub doorward::Error);

impl From<doorward::Error> for ApiError {
    fn from(err: doorward::Error) -> Self {
        ApiError(err)
    }
}

impl ApiError {
    pub(crate) fn forbidden(permission: &str) -> Self {
        ApiError(doorward::Error::Forbidden {
            permission: permission.to_string(),
        })
    }

    pub(crate) fn invalid(field: &str, message: &str) -> Self {
        ApiError(doorward::Error::validation(field, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let answer = self.0.http_response();
        if answer.status >= 500 {
            tracing::error!(code = %self.0.code(), error = %self.0, "console request failed");
        }
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&answer.body)).into_response();
        for (name, value) in &answer.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

/// What a handler returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A JSON body whose rejection (not JSON, wrong fields, wrong content
/// type) is a `validation_error` on `body`, like every other bad input.
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            // Fixed words: serde's message may quote a value (a password).
            Err(rejection) => Err(ApiError::invalid(
                "body",
                match rejection {
                    axum::extract::rejection::JsonRejection::JsonDataError(_) => {
                        "the body does not have the expected fields and types"
                    }
                    axum::extract::rejection::JsonRejection::JsonSyntaxError(_) => {
                        "the body is not valid JSON"
                    }
                    axum::extract::rejection::JsonRejection::MissingJsonContentType(_) => {
                        "send the body as Content-Type: application/json"
                    }
                    _ => "the body could not be read",
                },
            )),
        }
    }
}

/// Query parameters, rejected like [`Body`] (on `query`).
#[derive(Debug)]
pub(crate) struct Params<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Params(value)),
            Err(_) => Err(ApiError::invalid(
                "query",
                "the query parameters do not have the expected names and types",
            )),
        }
    }
}
