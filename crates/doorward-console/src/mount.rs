//! The console for hosts whose web layer is not Rust: a Python ASGI app or
//! an Express middleware hands each request to [`Mount::handle`] as plain
//! data and writes back the answer. The request goes through the same
//! [`router`](crate::router) a Rust host nests, so there is one console,
//! whatever the host's language.

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use axum::response::IntoResponse;
use doorward::Doorward;
use tower::ServiceExt as _;

use crate::ApiError;

/// The largest request body the console reads (its biggest is a role's
/// list of permissions or a webhook's URL: kilobytes).
pub const MAX_BODY: usize = 1 << 20;

/// One request, as the host's web layer received it.
#[derive(Clone, Default)]
pub struct MountRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The whole path the client asked for, mount prefix and query
    /// included (`/admin/api/users?q=ann`).
    pub path: String,
    /// Every header, names in any case; a repeated header appears twice.
    pub headers: Vec<(String, String)>,
    /// The body, at most [`MAX_BODY`] bytes.
    pub body: Vec<u8>,
    /// The client's address, for the per-address limits of the sign-in.
    pub client_ip: Option<String>,
}

/// Only the method and path: headers carry the session cookies.
impl std::fmt::Debug for MountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The answer to write back.
#[derive(Clone)]
pub struct MountResponse {
    /// The HTTP status.
    pub status: u16,
    /// Every header; `set-cookie` may appear more than once.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// Only the status: headers carry the session cookies.
impl std::fmt::Debug for MountResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The console mounted under a path of a host's own server.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use doorward_console::{Mount, MountRequest};
/// let dw = doorward::Doorward::open_in_memory_for_docs().await;
/// let mount = Mount::new(dw, "/admin").unwrap();
/// let answer = mount
///     .handle(MountRequest {
///         method: "GET".into(),
///         path: "/admin/api/session".into(),
///         ..MountRequest::default()
///     })
///     .await;
/// assert_eq!(answer.status, 401);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Mount {
    router: Router,
    /// The page's own path with a trailing slash (`/admin/`), which an
    /// axum nest does not match but a host's mount point hands over
    /// (Starlette redirects `/admin` there).
    slashed: Option<String>,
}

impl Mount {
    /// The console answering under `prefix` (`/admin`; `""` or `/` for the
    /// root). A prefix must start with `/` and hold only path characters.
    pub fn new(dw: Doorward, prefix: &str) -> doorward::Result<Self> {
        let prefix = prefix.trim_end_matches('/');
        let console = crate::router(dw);
        if prefix.is_empty() {
            return Ok(Mount {
                router: console,
                slashed: None,
            });
        }
        let valid = prefix.starts_with('/')
            && !prefix.contains("//")
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-._~".contains(c))
            && !prefix.split('/').any(|part| part == "..");
        if !valid {
            return Err(doorward::Error::validation(
                "prefix",
                "must be a path such as /admin",
            ));
        }
        // Nested, so the router sees its own paths and the page names its
        // files under the prefix, exactly as in a Rust host.
        Ok(Mount {
            router: Router::new().nest(prefix, console),
            slashed: Some(format!("{prefix}/")),
        })
    }

    /// Answer one request. Never fails: a request that cannot be read
    /// (an unknown method, a malformed path or header, a body over
    /// [`MAX_BODY`]) gets a 400 with the error code, as any bad input.
    pub async fn handle(&self, request: MountRequest) -> MountResponse {
        let answer = match self.build(request) {
            Ok(request) => match self.router.clone().oneshot(request).await {
                Ok(answer) => answer,
                Err(never) => match never {},
            },
            Err(err) => err.into_response(),
        };
        let answer = crate::assets::harden(answer).await;
        let status = answer.status().as_u16();
        let headers = answer
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let body = match axum::body::to_bytes(answer.into_body(), usize::MAX).await {
            Ok(bytes) => bytes.to_vec(),
            Err(err) => {
                tracing::error!(error = %err, "console answer could not be read");
                Vec::new()
            }
        };
        MountResponse {
            status,
            headers,
            body,
        }
    }

    fn build(&self, request: MountRequest) -> Result<Request<Body>, ApiError> {
        if request.body.len() > MAX_BODY {
            return Err(ApiError::invalid(
                "body",
                "is larger than the console reads",
            ));
        }
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| ApiError::invalid("method", "is not an HTTP method"))?;
        if !request.path.starts_with('/') {
            return Err(ApiError::invalid("path", "must start with /"));
        }
        let path = request.path.split('?').next().unwrap_or_default();
        let uri = match &self.slashed {
            // Drop the one trailing slash, keeping any query after it.
            Some(slashed) if path == slashed => {
                request
                    .path
                    .replacen(slashed.as_str(), &slashed[..slashed.len() - 1], 1)
            }
            _ => request.path.clone(),
        };
        let mut built = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from(request.body))
            .map_err(|_| ApiError::invalid("path", "is not a valid request path"))?;
        for (name, value) in request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ApiError::invalid("headers", "hold an invalid header name"))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| ApiError::invalid("headers", "hold an invalid header value"))?;
            built.headers_mut().append(name, value);
        }
        if let Some(ip) = request.client_ip.as_deref() {
            // An address the host could not parse is left out: the limits
            // then count the request without one, as behind an unknown proxy.
            if let Ok(ip) = ip.trim_start_matches("::ffff:").parse::<IpAddr>() {
                built
                    .extensions_mut()
                    .insert(ConnectInfo(SocketAddr::new(ip, 0)));
            }
        }
        Ok(built)
    }
}
