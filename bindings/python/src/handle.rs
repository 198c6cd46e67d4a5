//! An open core that survives `fork()`.
//!
//! A pre-forking server (gunicorn `--preload`, multiprocessing) may open
//! doorward in the parent and use it in each child. The parent's pools,
//! Redis connections and background tasks live on threads the child does
//! not have, so the first call in a child opens the same configuration
//! afresh there, abandoning the inherited copy without touching it.

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use crate::runtime::{block_on, runtime};

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
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 != pid {
            // Make sure the runtime is this process's before opening on it.
            drop(runtime());
            let fresh = block_on(py, doorward::Doorward::open(self.config.clone()))?;
            let inherited = std::mem::replace(&mut *open, (pid, fresh));
            std::mem::forget(inherited);
        }
        Ok(open.1.clone())
    }
}
