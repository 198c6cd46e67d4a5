//! Files: `doorward.files()`, objects in the store `files_url` names
//! (a local folder, memory or S3). Bodies cross as `ByteArray` / `Data`;
//! for big files, `putFile` and `getToFile` stream from and to a path so
//! the bytes never sit in the app's heap.

use std::time::{Duration, SystemTime};

use crate::error::{DoorwardError, call};
use crate::types::time;

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct FileInfo {
    /// The key it is stored under.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The content type it was stored with; `null` in `list` pages, which
    /// stores do not fill (`head` has it).
    pub content_type: Option<String>,
    /// The store's version tag: changes whenever the object does.
    pub etag: Option<String>,
    /// When the object was last written.
    pub created_at: SystemTime,
}

impl From<doorward::FileInfo> for FileInfo {
    fn from(f: doorward::FileInfo) -> Self {
        FileInfo {
            key: f.key,
            size: f.size,
            content_type: f.content_type,
            etag: f.etag,
            created_at: time(f.created_at),
        }
    }
}

/// An object and its bytes, from `get`. Equality and hashing come from
/// Rust, so they compare the bytes: a Kotlin data class compares a
/// `ByteArray` field by identity.
#[derive(Clone, PartialEq, Eq, Hash, uniffi::Record)]
#[uniffi::export(Eq, Hash)]
pub struct FileContent {
    pub info: FileInfo,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for FileContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileContent")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// One page of `list`, in key order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FilePage {
    pub items: Vec<FileInfo>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl From<doorward::FilePage> for FilePage {
    fn from(p: doorward::FilePage) -> Self {
        FilePage {
            items: p.items.into_iter().map(FileInfo::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// Files: `doorward.files()`.
#[derive(Debug, uniffi::Object)]
pub struct Files {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Files {
        /// Store `data` under `key`, replacing what was there. A bad key is
        /// `Validation` on `key`; a body over `files_max_bytes` is
        /// `Validation` on `data` and writes nothing.
        #[uniffi::method(default(content_type = None))]
        pub async fn put(&self, key: String, data: Vec<u8>, content_type: Option<String>) -> Result<FileInfo, DoorwardError> {
            call(self.dw.files().put(&key, data, content_type.as_deref())).await.map(FileInfo::from)
        }

        /// Store the file at `path` under `key`, streaming it (a few 8 MiB
        /// parts in memory at most, however big the file).
        #[uniffi::method(default(content_type = None))]
        pub async fn put_file(&self, key: String, path: String, content_type: Option<String>) -> Result<FileInfo, DoorwardError> {
            call(self.dw.files().put_file(&key, &path, content_type.as_deref())).await.map(FileInfo::from)
        }

        /// The object under `key` with its bytes (`NotFound` if absent).
        pub async fn get(&self, key: String) -> Result<FileContent, DoorwardError> {
            let (info, data) = call(self.dw.files().get(&key)).await?;
            Ok(FileContent { info: info.into(), data: data.to_vec() })
        }

        /// Write the object under `key` to the file at `path`, streaming;
        /// the file appears only once complete.
        pub async fn get_to_file(&self, key: String, path: String) -> Result<FileInfo, DoorwardError> {
            call(self.dw.files().get_to_file(&key, &path)).await.map(FileInfo::from)
        }

        /// What is known of the object under `key`, without its bytes.
        pub async fn head(&self, key: String) -> Result<FileInfo, DoorwardError> {
            call(self.dw.files().head(&key)).await.map(FileInfo::from)
        }

        /// Remove the object under `key`; whether there was one.
        pub async fn delete(&self, key: String) -> Result<bool, DoorwardError> {
            call(self.dw.files().delete(&key)).await
        }

        /// Objects under `prefix` (whole segments) in key order, `limit`
        /// (1 to 1000; `null` for the default, 50) at a time, after `cursor`.
        #[uniffi::method(default(prefix = None, cursor = None, limit = None))]
        pub async fn list(&self, prefix: Option<String>, cursor: Option<String>, limit: Option<u32>) -> Result<FilePage, DoorwardError> {
            call(self.dw.files().list(prefix.as_deref(), cursor.as_deref(), limit)).await.map(FilePage::from)
        }

        /// A URL that lets whoever holds it download the object for
        /// `expires_in_secs` (1 s to 7 days). S3 only: `Config` elsewhere.
        pub async fn presign_get(&self, key: String, expires_in_secs: u64) -> Result<String, DoorwardError> {
            call(self.dw.files().presign_get(&key, Duration::from_secs(expires_in_secs))).await
        }

        /// A URL that lets whoever holds it upload an object under `key`
        /// for `expires_in_secs` (1 s to 7 days). S3 only: `Config`
        /// elsewhere. S3 cannot cap its size; `head` it afterwards.
        pub async fn presign_put(&self, key: String, expires_in_secs: u64) -> Result<String, DoorwardError> {
            call(self.dw.files().presign_put(&key, Duration::from_secs(expires_in_secs))).await
        }
    }
}
