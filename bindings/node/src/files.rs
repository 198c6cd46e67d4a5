//! `dw.files`: objects in the store `filesUrl` names (a folder, memory or
//! S3). Keys, sizes and backends are the core's business; this converts
//! buffers, sizes and dates.

use std::time::Duration;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Buffer, Uint8Array};
use napi_derive::napi;

use crate::error::guarded;
use crate::types::{each, limit};

/// What is known of a stored object.
#[napi(object)]
#[derive(Debug)]
pub struct FileInfo {
    pub key: String,
    /// Bytes.
    pub size: f64,
    /// As stored; absent in `list` pages, which stores do not fill.
    pub content_type: Option<String>,
    /// Changes whenever the object does.
    pub etag: Option<String>,
    /// When the object was last written.
    pub created_at: DateTime<Utc>,
}

impl From<doorward::FileInfo> for FileInfo {
    fn from(f: doorward::FileInfo) -> Self {
        FileInfo {
            key: f.key,
            // Exact up to 2^53 bytes (8 PiB), past any files_max_bytes.
            size: f.size as f64,
            content_type: f.content_type,
            etag: f.etag,
            created_at: f.created_at,
        }
    }
}

/// An object with its bytes.
#[napi(object)]
pub struct FileData {
    pub info: FileInfo,
    pub data: Buffer,
}

impl std::fmt::Debug for FileData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileData")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// One page of `list`, in key order.
#[napi(object)]
#[derive(Debug)]
pub struct FilePage {
    pub items: Vec<FileInfo>,
    pub next_cursor: Option<String>,
}

impl From<doorward::FilePage> for FilePage {
    fn from(p: doorward::FilePage) -> Self {
        FilePage {
            items: each(p.items),
            next_cursor: p.next_cursor,
        }
    }
}

/// Which objects `list` returns: under `prefix` (whole segments), after
/// `cursor`, `limit` (1 to 1000, default 50) at a time.
#[napi(object)]
#[derive(Debug, Default)]
pub struct FileListOptions {
    pub prefix: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<f64>,
}

/// Objects: `dw.files`.
#[napi]
#[derive(Debug)]
pub struct Files {
    pub(crate) dw: doorward::Doorward,
}

/// Seconds as the core's duration. A negative, fractional or absurd
/// number becomes one the core refuses (`validation_error` on
/// `expires_in`), rather than a panic here.
fn seconds(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO)
}

#[napi]
impl Files {
    /// Store `data` under `key`, replacing what was there. Over
    /// `filesMaxBytes` is a `validation_error` on `data` and writes nothing.
    #[napi(
        ts_args_type = "key: string, data: Buffer | Uint8Array, contentType?: string | undefined | null"
    )]
    pub async fn put(
        &self,
        key: String,
        data: Uint8Array,
        content_type: Option<String>,
    ) -> napi::Result<FileInfo> {
        // Copied: the caller may reuse its buffer while the upload runs.
        let bytes = doorward::files::Bytes::copy_from_slice(&data);
        drop(data);
        guarded(self.dw.files().put(&key, bytes, content_type.as_deref()))
            .await
            .map(FileInfo::from)
    }

    /// Store the file at `path` under `key`, streamed (big files go up in
    /// parts, so memory stays small).
    #[napi]
    pub async fn put_file(
        &self,
        key: String,
        path: String,
        content_type: Option<String>,
    ) -> napi::Result<FileInfo> {
        guarded(
            self.dw
                .files()
                .put_file(&key, &path, content_type.as_deref()),
        )
        .await
        .map(FileInfo::from)
    }

    /// The object under `key` with its bytes (`not_found` if absent).
    #[napi]
    pub async fn get(&self, key: String) -> napi::Result<FileData> {
        let (info, bytes) = guarded(self.dw.files().get(&key)).await?;
        Ok(FileData {
            info: info.into(),
            data: Buffer::from(Vec::from(bytes)),
        })
    }

    /// Write the object under `key` to the file at `path`, streamed; the
    /// file appears only once complete.
    #[napi]
    pub async fn get_to_file(&self, key: String, path: String) -> napi::Result<FileInfo> {
        guarded(self.dw.files().get_to_file(&key, &path))
            .await
            .map(FileInfo::from)
    }

    /// What is known of the object under `key`, without its bytes.
    #[napi]
    pub async fn head(&self, key: String) -> napi::Result<FileInfo> {
        guarded(self.dw.files().head(&key))
            .await
            .map(FileInfo::from)
    }

    /// Remove the object under `key`; whether there was one.
    #[napi]
    pub async fn delete(&self, key: String) -> napi::Result<bool> {
        guarded(self.dw.files().delete(&key)).await
    }

    /// Objects in key order; pass `nextCursor` back for the next page.
    #[napi]
    pub async fn list(&self, options: Option<FileListOptions>) -> napi::Result<FilePage> {
        let options = options.unwrap_or_default();
        let limit = limit(options.limit);
        guarded(
            self.dw
                .files()
                .list(options.prefix.as_deref(), options.cursor.as_deref(), limit),
        )
        .await
        .map(FilePage::from)
    }

    /// A URL that GETs the object for `expiresInSecs` (1 s to 7 days)
    /// without credentials. S3 only (`config_error` elsewhere).
    #[napi]
    pub async fn presign_get(&self, key: String, expires_in_secs: f64) -> napi::Result<String> {
        guarded(self.dw.files().presign_get(&key, seconds(expires_in_secs))).await
    }

    /// A URL that PUTs an object under `key` for `expiresInSecs`. S3 only;
    /// S3 cannot cap its size, so `filesMaxBytes` does not apply.
    #[napi]
    pub async fn presign_put(&self, key: String, expires_in_secs: f64) -> napi::Result<String> {
        guarded(self.dw.files().presign_put(&key, seconds(expires_in_secs))).await
    }
}
