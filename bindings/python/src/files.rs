//! `dw.files`: objects in the store `files_url` names (a local folder,
//! memory, or S3), and the types that describe them.

use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView};

use crate::types::{page_class, q, q_opt};

sub_api!(
    /// Files: `dw.files`.
    Files,
    AsyncFiles
);

/// A body from Python: `bytes`, `bytearray` or `memoryview`, copied once
/// while the GIL is held, since the core keeps it past the call.
pub struct Data(bytes::Bytes);

impl Data {
    /// The bytes, for a core call that takes a `Vec` (the console's body).
    pub(crate) fn into_vec(self) -> Vec<u8> {
        self.0.into()
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Data {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(Data(bytes::Bytes::copy_from_slice(b.as_bytes())));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(Data(b.to_vec().into()));
        }
        if obj.cast::<PyMemoryView>().is_ok() {
            let b = obj.call_method0("tobytes")?;
            let b = b.cast::<PyBytes>()?;
            return Ok(Data(bytes::Bytes::copy_from_slice(b.as_bytes())));
        }
        Err(PyTypeError::new_err(format!(
            "data must be bytes, bytearray or memoryview, not {}",
            obj.get_type().name()?
        )))
    }
}

/// An object's bytes as Python `bytes`.
pub struct Blob(bytes::Bytes);

impl<'py> IntoPyObject<'py> for Blob {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = Infallible;

    fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
        Ok(PyBytes::new(py, &self.0))
    }
}

/// Seconds from Python as a `Duration`; out-of-range values (negative,
/// NaN, infinite) become ones the core refuses with its own message.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(if s > 0.0 {
        Duration::MAX
    } else {
        Duration::ZERO
    })
}

/// What is known of a stored object.
#[pyclass(frozen, eq, hash, get_all, module = "doorward")]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileInfo {
    key: String,
    size: u64,
    content_type: Option<String>,
    etag: Option<String>,
    created_at: DateTime<Utc>,
}

#[pymethods]
impl FileInfo {
    fn __repr__(&self) -> String {
        format!(
            "FileInfo(key={}, size={}, content_type={})",
            q(&self.key),
            self.size,
            q_opt(&self.content_type)
        )
    }

    /// The attributes as a dict, for JSON responses.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("key", &self.key)?;
        d.set_item("size", self.size)?;
        d.set_item("content_type", &self.content_type)?;
        d.set_item("etag", &self.etag)?;
        d.set_item("created_at", self.created_at)?;
        Ok(d)
    }
}

impl From<doorward::FileInfo> for FileInfo {
    fn from(i: doorward::FileInfo) -> Self {
        FileInfo {
            key: i.key,
            size: i.size,
            content_type: i.content_type,
            etag: i.etag,
            created_at: i.created_at,
        }
    }
}

page_class! {
    /// One page of objects, in key order, and where the next one starts.
    hash FilePage(FileInfo from doorward::FileInfo), "files"
}

twins! {
    Files, AsyncFiles;

    /// Store `data` under `key`, replacing what was there (at most
    /// `files_max_bytes`).
    #[pyo3(signature = (key, data, content_type = None))]
    fn put(dw, key: String, data: Data, content_type: Option<String>) -> FileInfo {
        dw.files().put(&key, data.0, content_type.as_deref()).await.map(FileInfo::from)
    }

    /// Store the file at `path` under `key`, streamed rather than read into
    /// memory.
    #[pyo3(signature = (key, path, content_type = None))]
    fn put_file(dw, key: String, path: PathBuf, content_type: Option<String>) -> FileInfo {
        dw.files().put_file(&key, &path, content_type.as_deref()).await.map(FileInfo::from)
    }

    /// The object under `key` and its bytes (`NotFoundError` if absent).
    fn get(dw, key: String) -> (FileInfo, Blob) {
        dw.files()
            .get(&key)
            .await
            .map(|(info, bytes)| (FileInfo::from(info), Blob(bytes)))
    }

    /// Write the object under `key` to `path` (through a temporary file
    /// renamed into place, so `path` is never half written).
    fn get_to_file(dw, key: String, path: PathBuf) -> FileInfo {
        dw.files().get_to_file(&key, &path).await.map(FileInfo::from)
    }

    /// What is known of the object under `key`, without its bytes.
    fn head(dw, key: String) -> FileInfo {
        dw.files().head(&key).await.map(FileInfo::from)
    }

    /// Delete the object under `key`; whether there was one.
    fn delete(dw, key: String) -> bool {
        dw.files().delete(&key).await
    }

    /// Objects under `prefix` in key order, `limit` (1 to 1000; None for
    /// the default, 50) at a time; pass `next_cursor` back for the next page.
    #[pyo3(signature = (prefix = None, cursor = None, limit = None))]
    fn list(dw, prefix: Option<String>, cursor: Option<String>, limit: Option<i64>) -> FilePage {
        dw.files()
            .list(prefix.as_deref(), cursor.as_deref(), crate::types::limit(limit))
            .await
            .map(FilePage::from)
    }

    /// A URL that fetches the object for `expires_in` seconds without
    /// credentials (S3 only).
    fn presign_get(dw, key: String, expires_in: f64) -> String {
        dw.files().presign_get(&key, seconds(expires_in)).await
    }

    /// A URL that uploads the object with a PUT for `expires_in` seconds
    /// without credentials (S3 only).
    fn presign_put(dw, key: String, expires_in: f64) -> String {
        dw.files().presign_put(&key, seconds(expires_in)).await
    }
}
