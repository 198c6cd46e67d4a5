//! `Console`: the admin console (`doorward_console::Mount`) for a Node
//! host. The package's `consoleMiddleware` hands each Express request over
//! as plain data and writes back the answer; sign-in, cookies, CSRF,
//! rights and pages are all the Rust router's.

use doorward_console::{MAX_BODY, Mount, MountRequest, MountResponse};
use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;

use crate::client::Doorward;
use crate::error::{guarded, to_js};

/// The largest request body the console reads, in bytes (1 MiB): the
/// package's `Console.MAX_BODY`.
#[napi]
pub const CONSOLE_MAX_BODY: u32 = MAX_BODY as u32;
const _: () = assert!(MAX_BODY <= u32::MAX as usize, "MAX_BODY fits a u32");

/// One request, as the host's web layer received it.
#[napi(object)]
pub struct ConsoleRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The whole path asked for, the mount prefix and the query included
    /// (`/admin/api/users?q=ann`).
    pub path: String,
    /// Every header as a `[name, value]` pair; a repeated one appears twice.
    pub headers: Vec<(String, String)>,
    /// The body, at most `CONSOLE_MAX_BODY` bytes.
    #[napi(ts_type = "Buffer | Uint8Array")]
    pub body: Option<Uint8Array>,
    /// The client's address, for the sign-in's per-address limits.
    pub client_ip: Option<String>,
}

/// Only the method and path: the headers carry the session cookies.
impl std::fmt::Debug for ConsoleRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What the console answers.
#[napi(object)]
pub struct ConsoleResponse {
    /// The HTTP status.
    pub status: u16,
    /// Every header as a `[name, value]` pair; `set-cookie` may repeat.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Buffer,
}

/// Only the status: the headers carry the session cookies and a sign-in's
/// body its CSRF token.
impl std::fmt::Debug for ConsoleResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleResponse")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl From<MountResponse> for ConsoleResponse {
    fn from(r: MountResponse) -> Self {
        ConsoleResponse {
            status: r.status,
            headers: r.headers,
            body: Buffer::from(r.body),
        }
    }
}

/// The admin console under a path prefix, over an open doorward. The
/// package wraps it as `Console` and mounts it with `consoleMiddleware`.
#[napi]
#[derive(Debug)]
pub struct Console {
    mount: Mount,
    prefix: String,
}

#[napi]
impl Console {
    /// The console answering under `prefix` (`/admin`; `""` or absent for
    /// the root). A prefix that is not a plain path throws
    /// `validation_error`.
    #[napi(constructor)]
    pub fn new(dw: &Doorward, prefix: Option<String>) -> napi::Result<Self> {
        let prefix = prefix.unwrap_or_default();
        let mount = Mount::new(dw.dw.clone(), &prefix).map_err(to_js)?;
        Ok(Console {
            mount,
            prefix: prefix.trim_end_matches('/').to_string(),
        })
    }

    /// The path the console answers under (`""` for the root).
    #[napi(getter)]
    pub fn prefix(&self) -> String {
        self.prefix.clone()
    }

    /// Answer one request, on the addon's runtime. Never rejects for bad
    /// input: that is a 4xx answer with an error code, as in any console.
    #[napi]
    pub async fn handle(&self, request: ConsoleRequest) -> napi::Result<ConsoleResponse> {
        let ConsoleRequest {
            method,
            path,
            headers,
            body,
            client_ip,
        } = request;
        // Copied: the caller may reuse its buffer while the answer is made.
        let body = body.map(|b| b.to_vec()).unwrap_or_default();
        let request = MountRequest {
            method,
            path,
            headers,
            body,
            client_ip,
        };
        let mount = self.mount.clone();
        guarded(async move { Ok(ConsoleResponse::from(mount.handle(request).await)) }).await
    }
}
