//! An open core that survives `fork()`.
//!
//! A pre-forking server (gunicorn `--preload`, multiprocessing) may open
//! doorward in the parent and use it in each child. The parent's pools,
//! Redis connections and background tasks live on threads the child does
//! not have, so the first call in a child opens the same configuration
//! afresh there, abandoning the inherited copy without touching it.

use std::sync::{Arc, Mutex, TryLockError};

use pyo3::prelude::*;

use crate::error::to_py_err;
use crate::runtime::{block_on, run};

#[derive(Debug)]
pub(crate) struct Handle {
    config: doorward::Config,
    open: Mutex<(u32, doorward::Doorward)>,
}

impl Handle {
    /// Open `config` (migrations and role seeding included), GIL released.
    pub(crate) fn open(py: Python<'_>, config: doorward::Config) -> PyResult<Arc<Handle>> {
        let dw = block_on(py, doorward::Doorward::open(config.clone()))?;
        Ok(Arc::new(Handle {
            config,
            open: Mutex::new((std::process::id(), dw)),
        }))
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
