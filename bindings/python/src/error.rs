//! `doorward::Error` as the Python exception of its code.
//!
//! The classes live in Python (`doorward/errors.py`), where a class can be
//! both a `DoorwardError` and a `ValueError` or `PermissionError`; this side
//! only hands over the code, the message, the field, the retry-after and
//! an OAuth error's provider, `error` and description, and hands back the
//! core's HTTP answer to such an error for `doorward.web`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The exception for `err`. Needs the GIL, which it takes if it must (the
/// async path maps errors on a runtime thread).
pub(crate) fn to_py_err(err: doorward::Error) -> PyErr {
    Python::attach(|py| {
        let make = || -> PyResult<PyErr> {
            let factory = FACTORY.get_or_try_init(py, || {
                py.import("doorward.errors")?
                    .getattr("_from_native")
                    .map(Bound::unbind)
            })?;
            let retry_after = err.retry_after().map(|d| d.as_secs_f64());
            let exc = factory.bind(py).call1((
                err.code().as_str(),
                err.to_string(),
                err.field(),
                retry_after,
                oauth_details(&err),
            ))?;
            Ok(PyErr::from_value(exc))
        };
        make().unwrap_or_else(|import_failed| {
            // Only if the package around the module is broken.
            PyRuntimeError::new_err(format!(
                "[{}] {err} (doorward.errors unavailable: {import_failed})",
                err.code()
            ))
        })
    })
}

/// The fields an OAuth error carries besides its message, by the names
/// every language gives them: `provider`, `oauth_error` (the provider's
/// `error`) and `description`; None for any other error.
fn oauth_details(err: &doorward::Error) -> Option<(&str, Option<&str>, Option<&str>)> {
    match err {
        doorward::Error::OAuthProviderError {
            provider,
            error,
            description,
        } => Some((provider, Some(error), description.as_deref())),
        doorward::Error::AccountExists { provider } => Some((provider, None, None)),
        _ => None,
    }
}

/// Every stable error code, in documentation order: what the Python
/// exception classes and the `ErrorCode` literal are checked against.
#[pyfunction]
pub(crate) fn error_codes() -> Vec<&'static str> {
    doorward::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// The HTTP status of each code, for the web helpers (`doorward.web`).
#[pyfunction]
pub(crate) fn http_statuses() -> Vec<(&'static str, u16)> {
    doorward::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), c.http_status()))
        .collect()
}

/// The core's HTTP answer to an error (`doorward.web.error_response`): the
/// status, the headers to add and the JSON body as a dict.
#[pyclass(frozen, eq, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpErrorResponse(doorward::error::HttpErrorResponse);

#[pymethods]
impl HttpErrorResponse {
    #[getter]
    fn status(&self) -> u16 {
        self.0.status
    }

    #[getter]
    fn headers(&self) -> Vec<(&'static str, String)> {
        self.0.headers.clone()
    }

    /// A fresh dict on each read, so a caller's change stays its own.
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize::pythonize(py, &self.0.body)?)
    }

    fn __repr__(&self) -> String {
        format!(
            "HttpErrorResponse(status={}, code={})",
            self.0.status,
            crate::types::q(&self.0.body.error.code)
        )
    }
}

/// The HTTP answer to an error a Python caller holds, by its parts
/// (`doorward::error::HttpErrorResponse::from_parts`).
#[pyfunction]
#[pyo3(signature = (code, message, *, field = None, retry_after = None, missing_token = false))]
pub(crate) fn http_error_response(
    code: &str,
    message: &str,
    field: Option<&str>,
    retry_after: Option<f64>,
    missing_token: bool,
) -> HttpErrorResponse {
    HttpErrorResponse(doorward::error::HttpErrorResponse::from_parts(
        &doorward::error::ErrorParts {
            code,
            message,
            field,
            retry_after,
            missing_token,
        },
    ))
}
