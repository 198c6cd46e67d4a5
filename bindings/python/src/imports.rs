//! What an import answers and an export pages through: frozen like every
//! result object, with no hash and no email address in a `repr`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::types::{each, py_bool, q, q_opt};

/// An account an import created (or, in a dry run, would create).
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportedUser {
    index: u64,
    id: String,
    username: String,
}

#[pymethods]
impl ImportedUser {
    fn __repr__(&self) -> String {
        format!(
            "ImportedUser(index={}, id={}, username={})",
            self.index,
            q(&self.id),
            q(&self.username)
        )
    }
}

impl From<doorward::ImportedUser> for ImportedUser {
    fn from(u: doorward::ImportedUser) -> Self {
        ImportedUser {
            index: u.index,
            id: u.id,
            username: u.username,
        }
    }
}

/// A row an import refused: its position, the error code and field a
/// registration would have had, and why.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportFailure {
    index: u64,
    code: String,
    field: Option<String>,
    message: String,
}

#[pymethods]
impl ImportFailure {
    fn __repr__(&self) -> String {
        format!(
            "ImportFailure(index={}, code={}, field={}, message={})",
            self.index,
            q(&self.code),
            q_opt(&self.field),
            q(&self.message)
        )
    }
}

impl From<doorward::ImportFailure> for ImportFailure {
    fn from(f: doorward::ImportFailure) -> Self {
        ImportFailure {
            index: f.index,
            code: f.code.as_str().to_owned(),
            field: f.field,
            message: f.message,
        }
    }
}

/// What an import did (or, in a dry run, would do).
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportReport {
    dry_run: bool,
    total: u64,
    created: Vec<ImportedUser>,
    failed: Vec<ImportFailure>,
}

#[pymethods]
impl ImportReport {
    fn __repr__(&self) -> String {
        format!(
            "ImportReport(dry_run={}, total={}, created=<{} users>, failed=<{} rows>)",
            py_bool(self.dry_run),
            self.total,
            self.created.len(),
            self.failed.len()
        )
    }
}

impl From<doorward::ImportReport> for ImportReport {
    fn from(r: doorward::ImportReport) -> Self {
        ImportReport {
            dry_run: r.dry_run,
            total: r.total,
            created: each(r.created),
            failed: each(r.failed),
        }
    }
}

/// One page of accounts as import rows (`users.export_users`): plain dicts
/// that `users.import_users` takes back. The `repr` counts them; their
/// addresses and hashes stay out of it.
#[pyclass(frozen, eq, module = "doorward")]
#[derive(Debug, Clone, PartialEq)]
pub struct UserRowPage {
    rows: Vec<doorward::UserRow>,
    #[pyo3(get)]
    next_cursor: Option<String>,
}

#[pymethods]
impl UserRowPage {
    /// Fresh dicts on each read, so a caller's change stays its own; the
    /// keys are the core's (`UserRow`), `created_at` an aware `datetime`.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = PyList::empty(py);
        for row in &self.rows {
            let dict = pythonize::pythonize(py, row)?.cast_into::<PyDict>()?;
            if let Some(at) = row.created_at {
                dict.set_item("created_at", at)?;
            }
            items.append(dict)?;
        }
        Ok(items)
    }

    fn __repr__(&self) -> String {
        format!(
            "UserRowPage(items=<{} rows>, next_cursor={})",
            self.rows.len(),
            q_opt(&self.next_cursor)
        )
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }
}

impl From<doorward::Page<doorward::UserRow>> for UserRowPage {
    fn from(p: doorward::Page<doorward::UserRow>) -> Self {
        UserRowPage {
            rows: p.items,
            next_cursor: p.next_cursor,
        }
    }
}
