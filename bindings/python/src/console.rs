//! `Console`: the admin console (`doorward_console::Mount`) for an ASGI
//! host. Python's `doorward.console` hands each request over as plain
//! data and writes back the answer; sign-in, cookies, CSRF, rights and
//! pages are all the Rust router's.
//!
//! Like the clients, a console survives `fork()`: its router holds the
//! core of the process that made it, so the first request in a child
//! builds it again over the child's core.

use std::sync::{Arc, Mutex};

use doorward_console::{MAX_BODY, Mount, MountRequest, MountResponse};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::client::{AsyncDoorward, Doorward};
use crate::error::to_py_err;
use crate::files::Data;
use crate::handle::Handle;
use crate::types::q;

/// The admin console under a path prefix, over a `Doorward` or an
/// `AsyncDoorward`: `await console.handle(method, path, headers, body,
/// client_ip)` answers one request.
#[pyclass(frozen, module = "doorward")]
pub struct Console {
    handle: Arc<Handle>,
    prefix: String,
    /// The router, and the process it was built in.
    mount: Mutex<(u32, Mount)>,
}

/// What the console answers: `status`, `headers` (`set-cookie` may repeat)
/// and `body`. Its `repr` shows the status alone: the headers carry the
/// session cookies and a sign-in's body its CSRF token.
#[pyclass(frozen, module = "doorward")]
pub struct ConsoleResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl From<MountResponse> for ConsoleResponse {
    fn from(r: MountResponse) -> Self {
        ConsoleResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

#[pymethods]
impl ConsoleResponse {
    /// The HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// Every header as a (name, value) pair, a fresh list on each read.
    #[getter]
    fn headers(&self) -> Vec<(String, String)> {
        self.headers.clone()
    }

    /// The body.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.body)
    }

    fn __repr__(&self) -> String {
        format!("ConsoleResponse(status={})", self.status)
    }
}

/// The core handle of a `Doorward` or an `AsyncDoorward`.
fn handle_of(dw: &Bound<'_, PyAny>) -> PyResult<Arc<Handle>> {
    if let Ok(dw) = dw.cast::<Doorward>() {
        return Ok(dw.get().handle.clone());
    }
    if let Ok(dw) = dw.cast::<AsyncDoorward>() {
        return Ok(dw.get().handle.clone());
    }
    Err(PyTypeError::new_err(format!(
        "Console needs a Doorward or an AsyncDoorward, not {}",
        dw.get_type().name()?
    )))
}

impl Console {
    /// The router for this process, built again after a fork. The core is
    /// fetched before the lock is taken: fetching may release the GIL.
    fn mount(&self, py: Python<'_>) -> PyResult<Mount> {
        let pid = std::process::id();
        {
            let held = self.mount.lock().unwrap_or_else(|e| e.into_inner());
            if held.0 == pid {
                return Ok(held.1.clone());
            }
        }
        let fresh = Mount::new(self.handle.get(py)?, &self.prefix).map_err(to_py_err)?;
        let mut held = self.mount.lock().unwrap_or_else(|e| e.into_inner());
        if held.0 != pid {
            // The parent's router holds the parent's core: abandoned, as
            // the handle abandons that core, never dropped here.
            std::mem::forget(std::mem::replace(&mut *held, (pid, fresh.clone())));
        }
        Ok(held.1.clone())
    }
}

#[pymethods]
impl Console {
    /// The largest request body the console reads, in bytes.
    #[classattr]
    const MAX_BODY: usize = MAX_BODY;

    /// The console answering under `prefix` (`/admin`; `""` for the root).
    #[new]
    #[pyo3(signature = (dw, prefix = String::new()), text_signature = "(dw, prefix='')")]
    fn new(py: Python<'_>, dw: &Bound<'_, PyAny>, prefix: String) -> PyResult<Self> {
        let handle = handle_of(dw)?;
        let mount = Mount::new(handle.get(py)?, &prefix).map_err(to_py_err)?;
        Ok(Console {
            handle,
            prefix: prefix.trim_end_matches('/').to_string(),
            mount: Mutex::new((std::process::id(), mount)),
        })
    }

    /// The path the console answers under (`""` for the root).
    #[getter]
    fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Answer one request: an awaitable of a `ConsoleResponse`, worked out
    /// on the binding's runtime with the GIL released.
    #[pyo3(signature = (method, path, headers, body = None, client_ip = None))]
    fn handle<'py>(
        &self,
        py: Python<'py>,
        method: String,
        path: String,
        headers: Vec<(String, String)>,
        body: Option<Data>,
        client_ip: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mount = self.mount(py)?;
        let request = MountRequest {
            method,
            path,
            headers,
            body: body.map(Data::into_vec).unwrap_or_default(),
            client_ip,
        };
        crate::runtime::awaitable(py, async move {
            Ok(ConsoleResponse::from(mount.handle(request).await))
        })
    }

    fn __repr__(&self) -> String {
        format!("Console(prefix={})", q(&self.prefix))
    }
}
