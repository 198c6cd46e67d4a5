//! An open core that survives `fork()`.
//!
//! A pre-forking server (gunicorn `--preload`, multiprocessing) may open
//! doorward in the parent and use it in each child. The parent's pools,
//! Redis connections and background tasks live on threads the child does
//! not have, so the first call in a child opens the same configuration
//! afresh there, abandoning the inherited copy without touching it.
//!
//! Around the fork itself (`os.register_at_fork`, set up when the module
//! loads) every open core's event dispatcher is paused, so no background
//! database work is mid-call on a parent thread when the child is made: a
//! library lock held at that instant would stay held in the child forever.
//! Event subscriptions stay with the parent: the child's copy of a
//! `Subscription` reports itself closed.

use std::sync::{Arc, Mutex, TryLockError, Weak};

use pyo3::prelude::*;

use crate::error::to_py_err;
use crate::runtime::{block_on, run};

#[derive(Debug)]
pub(crate) struct Handle {
    config: doorward::Config,
    open: Mutex<(u32, doorward::Doorward)>,
    /// Held from just before a fork until just after it.
    paused: Mutex<Option<doorward::events::DispatchPause>>,
}

/// Every handle opened in this process, for the fork hooks.
static HANDLES: Mutex<Vec<Weak<Handle>>> = Mutex::new(Vec::new());

fn live_handles() -> Vec<Arc<Handle>> {
    let mut all = HANDLES.lock().unwrap_or_else(|e| e.into_inner());
    all.retain(|h| h.strong_count() > 0);
    all.iter().filter_map(Weak::upgrade).collect()
}

/// `os.register_at_fork(before=...)`: pause every dispatcher of this
/// process, waiting (GIL released) for a pass in progress to end. A pass
/// may be calling a Python event handler, which takes the GIL back to
/// finish. An event handler that forks is itself that pass, which would
/// never end while the fork waits: there the dispatcher is not paused (it
/// is busy with this very call).
#[pyfunction]
pub(crate) fn _before_fork(py: Python<'_>) {
    if crate::subscription::in_handler() {
        return;
    }
    let pid = std::process::id();
    py.detach(|| {
        for handle in live_handles() {
            let dw = {
                let open = handle.open.lock().unwrap_or_else(|e| e.into_inner());
                (open.0 == pid).then(|| open.1.clone())
            };
            if let Some(dw) = dw {
                let pause = crate::runtime::run(async { Ok(dw.events().pause().await) });
                *handle.paused.lock().unwrap_or_else(|e| e.into_inner()) = pause.ok();
            }
        }
    });
}

/// `after_in_parent`: let the dispatchers run again.
#[pyfunction]
pub(crate) fn _after_fork_in_parent() {
    for handle in live_handles() {
        drop(
            handle
                .paused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
    }
}

/// `after_in_child`: the pauses belong to the parent's cores, which the
/// child abandons; forget them without touching those cores.
#[pyfunction]
pub(crate) fn _after_fork_in_child() {
    for handle in live_handles() {
        std::mem::forget(
            handle
                .paused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
    }
}

impl Handle {
    /// Open `config` (migrations and role seeding included), GIL released.
    pub(crate) fn open(py: Python<'_>, config: doorward::Config) -> PyResult<Arc<Handle>> {
        let dw = block_on(py, doorward::Doorward::open(config.clone()))?;
        let handle = Arc::new(Handle {
            config,
            open: Mutex::new((std::process::id(), dw)),
            paused: Mutex::new(None),
        });
        HANDLES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&handle));
        Ok(handle)
    }

    /// The core for this process.
    pub(crate) fn get(&self, py: Python<'_>) -> PyResult<doorward::Doorward> {
        let pid = std::process::id();
        match self.open.try_lock() {
            Ok(open) if open.0 == pid => return Ok(open.1.clone()),
            Err(TryLockError::Poisoned(e)) if e.get_ref().0 == pid => {
                return Ok(e.into_inner().1.clone());
            }
            _ => {}
        }
        // Busy, or the first call after a fork: wait for the lock with the
        // GIL released, since whoever holds it may be reopening the core
        // and need the GIL back to finish.
        py.detach(|| self.current(pid)).map_err(to_py_err)
    }

    /// The core for process `pid`, opened afresh if the one held belongs to
    /// the parent of a fork (abandoned, never dropped: its threads are gone).
    fn current(&self, pid: u32) -> doorward::Result<doorward::Doorward> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 != pid {
            let fresh = run(doorward::Doorward::open(self.config.clone()))?;
            std::mem::forget(std::mem::replace(&mut *open, (pid, fresh)));
        }
        Ok(open.1.clone())
    }
}
