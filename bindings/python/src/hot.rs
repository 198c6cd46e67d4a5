//! The calls made on every request (`verify_token`, `can`, `require`),
//! answered on the calling thread when the answer needs no I/O (a
//! stateless token, or a session or permission set the process caches)
//! and, for tokens, when the check is cheap (HS256 keys: a public-key
//! signature keeps releasing the GIL and running on the runtime).
//! Then there is no hand-off to the runtime: no GIL release and
//! re-acquire, no thread wake-up, and for `AsyncDoorward` no asyncio
//! future, only an awaitable that is already done. When the answer needs
//! the database or Redis, the call goes the usual way. The `_sync` methods
//! give only in-memory answers and raise `WouldBlockError` otherwise.

use pyo3::BoundObject as _;
use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;

use crate::client::{AsyncDoorward, Doorward};
use crate::error::to_py_err;
use crate::runtime::{awaitable, block_on};
use crate::types::Principal;

/// A synchronous core call with `would_block` as `None`.
fn in_memory<T>(call: impl FnOnce() -> doorward::Result<T>) -> PyResult<Option<T>> {
    match doorward::error::catch_panics_sync(call) {
        Ok(value) => Ok(Some(value)),
        Err(doorward::Error::WouldBlock) => Ok(None),
        Err(e) => Err(to_py_err(e)),
    }
}

/// A synchronous core call, its error raised.
fn sync<T>(call: impl FnOnce() -> doorward::Result<T>) -> PyResult<T> {
    doorward::error::catch_panics_sync(call).map_err(to_py_err)
}

/// An awaitable whose outcome is already known: awaiting it returns the
/// value or raises the error at once, as awaiting the runtime's answer
/// would have, only sooner.
#[pyclass(module = "doorward")]
pub(crate) struct Ready {
    outcome: Option<PyResult<Py<PyAny>>>,
}

#[pymethods]
impl Ready {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> PyResult<Py<PyAny>> {
        match self.outcome.take() {
            Some(Ok(value)) => Err(PyStopIteration::new_err((value,))),
            Some(Err(err)) => Err(err),
            None => Err(PyRuntimeError::new_err(
                "this awaitable was already awaited",
            )),
        }
    }
}

/// `outcome` (of the in-memory road, `None` when it needs I/O) as a done
/// awaitable.
fn ready<'py, T>(py: Python<'py>, outcome: PyResult<T>) -> PyResult<Bound<'py, PyAny>>
where
    T: IntoPyObject<'py>,
{
    let outcome = outcome.and_then(|value| {
        value
            .into_pyobject(py)
            .map(|v| v.into_any().unbind())
            .map_err(Into::into)
    });
    Ok(Bound::new(
        py,
        Ready {
            outcome: Some(outcome),
        },
    )?
    .into_any())
}

fn forbidden_unless(allowed: bool, permission: &str) -> doorward::Result<()> {
    if allowed {
        Ok(())
    } else {
        Err(doorward::Error::Forbidden {
            permission: permission.to_string(),
        })
    }
}

#[pymethods]
impl Doorward {
    /// Who an access token speaks for; fails at once after logout,
    /// revocation or disabling. Answered on this thread when no I/O is
    /// needed.
    fn verify_token(&self, py: Python<'_>, access_token: String) -> PyResult<Principal> {
        let dw = self.handle.get(py)?;
        if dw.auth().verifies_inline()
            && let Some(principal) = in_memory(|| dw.auth().verify_token_sync(&access_token))?
        {
            return Ok(principal.into());
        }
        if dw.auth().verifies_without_io() {
            // A public-key check, with no I/O to wait for: on this thread
            // with the GIL released, so threads check on every core.
            return py
                .detach(|| sync(|| dw.auth().verify_token_sync(&access_token)))
                .map(Principal::from);
        }
        block_on(py, async move {
            dw.auth()
                .verify_token(&access_token)
                .await
                .map(Principal::from)
        })
    }

    /// `verify_token` without I/O: the answer for a stateless token or a
    /// session this process caches (``session_cache_ttl``), else
    /// `WouldBlockError`.
    fn verify_token_sync(&self, py: Python<'_>, access_token: String) -> PyResult<Principal> {
        let dw = self.handle.get(py)?;
        sync(|| dw.auth().verify_token_sync(&access_token)).map(Principal::from)
    }

    /// Whether a user holds a permission (`users:write`; `admin:*` and `*`
    /// grant by wildcard).
    fn can(&self, py: Python<'_>, user_id: String, permission: String) -> PyResult<bool> {
        let dw = self.handle.get(py)?;
        if let Some(allowed) = in_memory(|| dw.auth().can_sync(&user_id, &permission))? {
            return Ok(allowed);
        }
        block_on(
            py,
            async move { dw.auth().can(&user_id, &permission).await },
        )
    }

    /// `can` without I/O: the answer when this process caches the user's
    /// permissions, else `WouldBlockError`.
    fn can_sync(&self, py: Python<'_>, user_id: String, permission: String) -> PyResult<bool> {
        let dw = self.handle.get(py)?;
        sync(|| dw.auth().can_sync(&user_id, &permission))
    }

    /// Like `can`, but a missing permission raises `ForbiddenError`.
    fn require(&self, py: Python<'_>, user_id: String, permission: String) -> PyResult<()> {
        let dw = self.handle.get(py)?;
        if let Some(allowed) = in_memory(|| dw.auth().can_sync(&user_id, &permission))? {
            return forbidden_unless(allowed, &permission).map_err(to_py_err);
        }
        block_on(
            py,
            async move { dw.auth().require(&user_id, &permission).await },
        )
    }
}

#[pymethods]
impl AsyncDoorward {
    /// Who an access token speaks for; fails at once after logout,
    /// revocation or disabling. Already done when no I/O is needed.
    fn verify_token<'py>(
        &self,
        py: Python<'py>,
        access_token: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dw = self.handle.get(py)?;
        let answer = if dw.auth().verifies_inline() {
            in_memory(|| dw.auth().verify_token_sync(&access_token))
        } else {
            Ok(None)
        };
        match answer {
            Ok(None) => awaitable::<Principal, _>(py, async move {
                dw.auth()
                    .verify_token(&access_token)
                    .await
                    .map(Principal::from)
            }),
            Ok(Some(principal)) => ready(py, Ok(Principal::from(principal))),
            Err(e) => ready::<Principal>(py, Err(e)),
        }
    }

    /// `verify_token` without I/O, not awaited: the answer for a stateless
    /// token or a session this process caches (``session_cache_ttl``),
    /// else `WouldBlockError`.
    fn verify_token_sync(&self, py: Python<'_>, access_token: String) -> PyResult<Principal> {
        let dw = self.handle.get(py)?;
        sync(|| dw.auth().verify_token_sync(&access_token)).map(Principal::from)
    }

    /// Whether a user holds a permission (`users:write`; `admin:*` and `*`
    /// grant by wildcard).
    fn can<'py>(
        &self,
        py: Python<'py>,
        user_id: String,
        permission: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dw = self.handle.get(py)?;
        match in_memory(|| dw.auth().can_sync(&user_id, &permission)) {
            Ok(None) => {
                awaitable::<bool, _>(
                    py,
                    async move { dw.auth().can(&user_id, &permission).await },
                )
            }
            Ok(Some(allowed)) => ready(py, Ok(allowed)),
            Err(e) => ready::<bool>(py, Err(e)),
        }
    }

    /// `can` without I/O, not awaited: the answer when this process caches
    /// the user's permissions, else `WouldBlockError`.
    fn can_sync(&self, py: Python<'_>, user_id: String, permission: String) -> PyResult<bool> {
        let dw = self.handle.get(py)?;
        sync(|| dw.auth().can_sync(&user_id, &permission))
    }

    /// Like `can`, but a missing permission raises `ForbiddenError`.
    fn require<'py>(
        &self,
        py: Python<'py>,
        user_id: String,
        permission: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let dw = self.handle.get(py)?;
        match in_memory(|| dw.auth().can_sync(&user_id, &permission)) {
            Ok(None) => awaitable::<crate::types::Done, _>(py, async move {
                dw.auth()
                    .require(&user_id, &permission)
                    .await
                    .map(crate::types::Done::from)
            }),
            Ok(Some(allowed)) => ready(
                py,
                forbidden_unless(allowed, &permission)
                    .map(|()| py.None())
                    .map_err(to_py_err),
            ),
            Err(e) => ready::<()>(py, Err(e)),
        }
    }
}
