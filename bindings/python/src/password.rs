//! `doorward.PasswordHasher`: the core's argon2id hashing on its own, for
//! hosts that hash other secrets or migrate from argon2-cffi (whose
//! `PasswordHasher` it mirrors).

use doorward::password::{HashParams, Hasher, Verdict};
use pyo3::prelude::*;

use crate::error::to_py_err;
use crate::runtime::block_on;

/// Argon2id hashing with the core's parameters and caps; blocking calls that
/// release the GIL, at most `concurrency` at once.
#[pyclass(frozen, module = "doorward")]
pub struct PasswordHasher {
    hasher: Hasher,
}

#[pymethods]
impl PasswordHasher {
    /// OWASP's parameters unless given (m=19456 KiB, t=2, p=1);
    /// `concurrency` defaults to the number of cores.
    #[new]
    #[pyo3(signature = (memory_kib = None, iterations = None, parallelism = None, concurrency = None))]
    fn new(
        memory_kib: Option<u32>,
        iterations: Option<u32>,
        parallelism: Option<u32>,
        concurrency: Option<usize>,
    ) -> PyResult<Self> {
        let defaults = HashParams::default();
        let params = HashParams {
            memory_kib: memory_kib.unwrap_or(defaults.memory_kib),
            iterations: iterations.unwrap_or(defaults.iterations),
            parallelism: parallelism.unwrap_or(defaults.parallelism),
        };
        let concurrency = concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let hasher = Hasher::new(params, concurrency).map_err(to_py_err)?;
        Ok(PasswordHasher { hasher })
    }

    /// A PHC string (`$argon2id$v=19$m=...`) with a fresh random salt.
    fn hash(&self, py: Python<'_>, password: String) -> PyResult<String> {
        let hasher = self.hasher.clone();
        block_on(py, async move { hasher.hash(&password).await })
    }

    /// Whether `password` matches the PHC string `hash`. A hash that cannot
    /// be parsed, or asks for more than the caps allow (1 GiB, 64 passes,
    /// 64 lanes), raises `InternalError`.
    fn verify(&self, py: Python<'_>, password: String, hash: String) -> PyResult<bool> {
        let hasher = self.hasher.clone();
        let verdict = block_on(py, async move { hasher.verify(&password, &hash).await })?;
        Ok(verdict != Verdict::Invalid)
    }

    /// Memory cost in KiB.
    #[getter]
    fn memory_kib(&self) -> u32 {
        self.hasher.params().memory_kib
    }

    /// Passes over memory.
    #[getter]
    fn iterations(&self) -> u32 {
        self.hasher.params().iterations
    }

    /// Lanes.
    #[getter]
    fn parallelism(&self) -> u32 {
        self.hasher.params().parallelism
    }

    fn __repr__(&self) -> String {
        let p = self.hasher.params();
        format!(
            "PasswordHasher(memory_kib={}, iterations={}, parallelism={})",
            p.memory_kib, p.iterations, p.parallelism
        )
    }
}
