//! The binding's one tokio runtime, and the two ways Python drives a core
//! future: blocking with the GIL released (`Doorward`) or as an asyncio
//! awaitable (`AsyncDoorward`).
//!
//! The runtime is created on first use and again in a process that finds
//! itself forked (gunicorn, multiprocessing): tokio's worker threads do not
//! survive `fork()`, so the parent's runtime is abandoned, never dropped
//! (dropping would wait for threads that no longer exist).
//!
//! A panic inside the core is caught here, at the boundary, and becomes
//! `DoorwardError` with code `internal`; it never unwinds into Python.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use doorward::error::catch_panics;
use pyo3::conversion::IntoPyObject;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime};

use crate::error::to_py_err;

/// The runtime and the process it belongs to.
static RUNTIME: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);

/// This process's runtime, made on first use and after a fork.
pub(crate) fn runtime() -> Arc<tokio::runtime::Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return rt.clone();
    }
    if let Some(inherited) = slot.take() {
        // Its threads stayed in the parent: nothing here can shut it down.
        std::mem::forget(inherited);
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("doorward")
            .build()
            .expect("the tokio runtime starts"),
    );
    *slot = Some((pid, rt.clone()));
    rt
}

/// Stop the runtime before the interpreter finalizes (registered with
/// `atexit`): a worker finishing an awaitable then would call into a
/// half-torn-down interpreter. Waits, with the GIL released, at most a
/// second for running work; a runtime still shared elsewhere is left alone.
/// Then exports the spans still buffered when `otel_endpoint` is set, which
/// would otherwise be lost with the process.
#[pyfunction]
pub(crate) fn _shutdown(py: Python<'_>) {
    let taken = RUNTIME.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((pid, rt)) = taken
        && pid == std::process::id()
        && let Ok(rt) = Arc::try_unwrap(rt)
    {
        py.detach(|| rt.shutdown_timeout(std::time::Duration::from_secs(1)));
    }
    // A collector that is down at exit has nowhere to be reported.
    let _ = py.detach(doorward::telemetry::otel::flush);
}

/// Run `fut` to completion on the runtime with the GIL released, so other
/// Python threads run meanwhile.
pub(crate) fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = doorward::Result<T>> + Send,
    T: Send,
{
    py.detach(|| run(fut)).map_err(to_py_err)
}

/// Run `fut` to completion on the runtime, from a thread that does not
/// hold the GIL.
pub(crate) fn run<T>(fut: impl Future<Output = doorward::Result<T>>) -> doorward::Result<T> {
    runtime().block_on(catch_panics(fut))
}

/// `fut` as an asyncio awaitable of the running event loop, driven by the
/// runtime's threads.
pub(crate) fn awaitable<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = doorward::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<Tokio, _, T>(py, async move {
        catch_panics(fut).await.map_err(to_py_err)
    })
}

/// [`runtime`] as pyo3-async-runtimes sees it.
struct Tokio;

tokio::task_local! {
    static TASK_LOCALS: std::cell::OnceCell<TaskLocals>;
}

impl Runtime for Tokio {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(f)
    }
}

impl ContextExt for Tokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// Panics inside the core on purpose, through the same boundary as every
/// operation: how the tests prove a panic arrives as `internal`.
#[pyfunction]
#[pyo3(signature = (message, *, awaitable = false))]
pub(crate) fn _panic_for_tests<'py>(
    py: Python<'py>,
    message: String,
    awaitable: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let boom = async move {
        if !message.is_empty() {
            panic!("{message}");
        }
        Ok(())
    };
    if awaitable {
        self::awaitable(py, boom)
    } else {
        block_on(py, boom)?;
        Ok(py.None().into_bound(py))
    }
}
