//! A Python callable as a core event handler, and the `Subscription` it
//! returns.
//!
//! The core's dispatcher awaits each handler before moving on, in commit
//! order. The callable runs on one of the runtime's blocking threads, never
//! on an async worker: it takes the GIL there, and may call the blocking
//! `Doorward` API (which would panic on a worker thread, where `block_on`
//! is not allowed). An exception is logged to the `doorward.events` logger
//! and becomes the `Err` that has the core deliver the event again.

use std::cell::Cell;
use std::pin::Pin;
use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::outbox::Event;

thread_local! {
    /// Set while this thread runs a Python handler for the dispatcher.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread is inside an event handler: the dispatcher
/// pass that called it is waiting for it to return, so waiting for that
/// pass from here (`flush`, the fork hook's pause) would never end.
pub(crate) fn in_handler() -> bool {
    IN_HANDLER.with(Cell::get)
}

/// Refuse, in a handler, what waits for the dispatcher.
pub(crate) fn not_in_handler(what: &str) -> PyResult<()> {
    if in_handler() {
        return Err(PyRuntimeError::new_err(format!(
            "{what} cannot be called from an event handler: the dispatcher is waiting for the handler to return"
        )));
    }
    Ok(())
}

/// A Python callable as a core handler (the `handler` argument of
/// `subscribe`). A coroutine function is refused: its coroutine would never
/// be awaited (`AsyncEvents.stream` is the async way).
pub struct PyHandler(pub(crate) doorward::events::Handler);

impl<'a, 'py> FromPyObject<'a, 'py> for PyHandler {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        handler(obj.py(), obj.to_owned().unbind()).map(PyHandler)
    }
}

fn handler(py: Python<'_>, callable: Py<PyAny>) -> PyResult<doorward::events::Handler> {
    let bound = callable.bind(py);
    if !bound.is_callable() {
        return Err(PyTypeError::new_err("the event handler must be callable"));
    }
    let is_coroutine = py
        .import("inspect")?
        .call_method1("iscoroutinefunction", (bound,))?
        .is_truthy()?;
    if is_coroutine {
        return Err(PyTypeError::new_err(
            "the event handler must be a plain callable; use `events.stream()` to consume events with async code",
        ));
    }
    let callable = Arc::new(callable);
    Ok(Arc::new(
        move |event| -> Pin<Box<dyn Future<Output = _> + Send>> {
            let callable = callable.clone();
            Box::pin(async move {
                tokio::task::spawn_blocking(move || call(&callable, event))
                    .await
                    .unwrap_or_else(|e| Err(format!("the handler did not finish: {e}")))
            })
        },
    ))
}

/// Call the handler with the GIL held; the reason for a retry names the
/// exception's type only (its message, host text, stays in Python's log).
/// Once the interpreter is shutting down nothing is called: the event stays
/// undelivered (a durable subscriber gets it in the next process).
fn call(callable: &Py<PyAny>, event: doorward::Event) -> Result<(), String> {
    Python::try_attach(|py| {
        let kind = event.event_type.as_str();
        let id = event.id.clone();
        IN_HANDLER.with(|h| h.set(true));
        let outcome = Py::new(py, Event::from(event)).and_then(|e| callable.call1(py, (e,)));
        IN_HANDLER.with(|h| h.set(false));
        match outcome {
            Ok(_) => Ok(()),
            Err(err) => {
                let reason = err
                    .get_type(py)
                    .name()
                    .map_or_else(|_| "an exception".to_string(), |n| n.to_string());
                log_failure(py, kind, &id, err);
                Err(format!("the handler raised {reason}"))
            }
        }
    })
    .unwrap_or_else(|| Err("the Python interpreter is shutting down".into()))
}

/// `logging.getLogger("doorward.events").error(..., exc_info=err)`, or
/// Python's unraisable hook if logging itself fails.
fn log_failure(py: Python<'_>, kind: &str, id: &str, err: PyErr) {
    let logged = (|| -> PyResult<()> {
        let logger = py
            .import("logging")?
            .call_method1("getLogger", ("doorward.events",))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("exc_info", err.clone_ref(py).into_value(py))?;
        logger.call_method(
            "error",
            (
                "event handler failed on %s %s (it is delivered again until events_max_attempts)",
                kind,
                id,
            ),
            Some(&kwargs),
        )?;
        Ok(())
    })();
    if let Err(log_err) = logged {
        log_err.write_unraisable(py, None);
    }
}

/// A live subscription: `close()` it (or leave a `with` block) to stop
/// deliveries. It belongs to the process that made it: after `fork()` the
/// child's copy is closed.
#[pyclass(frozen, module = "doorward")]
pub struct Subscription {
    inner: doorward::Subscription,
    pid: u32,
}

impl Subscription {
    pub(crate) fn new(inner: doorward::Subscription) -> Self {
        Subscription {
            inner,
            pid: std::process::id(),
        }
    }

    fn here(&self) -> bool {
        self.pid == std::process::id()
    }
}

impl From<doorward::Subscription> for Subscription {
    fn from(inner: doorward::Subscription) -> Self {
        Subscription::new(inner)
    }
}

#[pymethods]
impl Subscription {
    /// Stop delivering. A handler call in progress finishes; nothing is
    /// handed over after it. Closing twice is harmless.
    fn close(&self) {
        // In a forked child the core it belongs to is the parent's,
        // abandoned there: not touched.
        if self.here() {
            self.inner.close();
        }
    }

    /// Whether events are still delivered to it.
    #[getter]
    fn is_open(&self) -> bool {
        self.here() && self.inner.is_open()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Subscription(is_open={})",
            crate::types::py_bool(self.is_open())
        )
    }
}
