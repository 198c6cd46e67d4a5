//! The HTTP client the OAuth crates call: doorward's reqwest, following
//! no redirects (a redirect from a provider's endpoint could send a code
//! or a secret elsewhere: the crates' own SSRF advice), with timeouts and
//! a cap on what a provider may answer.

use std::time::Duration;

use oauth2::http;
use oauth2::{HttpRequest, HttpResponse};

/// Largest answer read from a provider (discovery, keys, tokens, users).
const MAX_BODY: usize = 1024 * 1024;

/// Why a request to a provider failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    #[error("{0}")]
    Request(String),
    #[error("the answer is larger than {MAX_BODY} bytes")]
    TooLarge,
}

/// A reqwest client for providers. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
}

impl Http {
    pub(crate) fn new() -> crate::error::Result<Http> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("doorward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                crate::error::Error::Config(format!("cannot build an HTTP client: {e}"))
            })?;
        Ok(Http { client })
    }

    /// Send one request and read its answer, whatever its status.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let request =
            reqwest::Request::try_from(request).map_err(|e| HttpError::Request(without_url(e)))?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| HttpError::Request(without_url(e)))?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| HttpError::Request(without_url(e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body)
            .map_err(|e| HttpError::Request(e.to_string()))
    }
}

/// The OAuth crates' client: a boxed future, so that futures holding one
/// stay `Send` (a closure's borrowed future would not be provably so).
impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// reqwest's message without the URL, whose query may carry a code.
fn without_url(err: reqwest::Error) -> String {
    err.without_url().to_string()
}
