//! Files: objects (avatars, attachments, exports) in a local folder, in
//! memory or in S3, through [`object_store`], behind one small API that keeps
//! the rules the same on every backend.
//!
//! - **Where:** `files_url` picks the backend (`file:///dir`, the embedded
//!   default beside the SQLite file; `memory://`; `s3://bucket` with the
//!   `s3` feature). See [`crate::Config::resolved_files_url`].
//! - **Keys** are checked before anything happens (`validation_error` on
//!   `key`): not empty, at most 1024 bytes, relative, no `.`/`..` or empty
//!   segments, no control characters, no backslash, not under the reserved
//!   `.doorward/`. The same key is valid on every backend, and no key can
//!   leave the folder on the local one.
//! - **Size:** a body over `files_max_bytes` is a `validation_error` on
//!   `data` and writes nothing. A streamed upload that crosses the cap mid-way
//!   is aborted, so no partial object is left either.
//! - **Memory:** bodies over 8 MiB from [`Files::put_stream`] and
//!   [`Files::put_file`] go up as a multipart upload of 8 MiB parts with at
//!   most two parts in flight, so an upload holds about three parts however
//!   big the file (docs/BENCHMARKS.md measures it). Multipart uploads are
//!   atomic too: the object appears when the last part is in.
//! - **Content types:** S3 and memory keep them with the object.
//!   object_store's local backend refuses object attributes, so on `file://`
//!   doorward keeps the content type in a small sidecar file under
//!   `.doorward/content-type/<key>` in the same folder (hence the reserved
//!   prefix). Nothing is guessed from the key's extension: a file stored
//!   without a content type has none, except that S3 itself gives such an
//!   object `binary/octet-stream`, which doorward reports as S3 does.
//! - **Listing** ([`Files::list`]) pages in key order with the last key as
//!   the cursor. Stores do not return content types when listing, so list
//!   items carry `content_type: None`; [`Files::head`] has it.
//! - **Presigned URLs** need S3: on other backends they are a
//!   `config_error`, since it is the configuration, not the call, that would
//!   have to change.
//!
//! Without the `files` feature this module is not built and
//! `Doorward::files` does not exist; setting `files_url` is then a
//! `config_error` at open, as `redis_url` is without `redis`.

mod backend;
mod content_type;
mod download;
pub(crate) mod key;
mod multipart;
mod presign;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{
    GetOptions, GetResult, ObjectMeta, ObjectStore as _, ObjectStoreExt as _, PutOptions,
    PutPayload,
};
use serde::Serialize;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::telemetry::operation;

pub(crate) use backend::Lazy;
use backend::{Backend, Kind};
use content_type::{
    attributes, check_content_type, forget_content_type, stored_attribute, stored_content_type,
};
pub use key::MAX_KEY_BYTES;
use multipart::{PARTS_IN_FLIGHT, abort};
pub use presign::MAX_PRESIGN;

/// The byte buffer bodies travel in, re-exported so hosts need not depend
/// on `bytes` themselves.
pub use bytes::Bytes;

/// Size of a multipart upload's parts, and the size above which an upload
/// is multipart.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// Largest page of [`Files::list`].
pub const MAX_LIST_LIMIT: usize = PageRequest::MAX_LIMIT as usize;

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// The key it is stored under.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// The content type it was stored with, if any. `None` in
    /// [`Files::list`] pages, which stores do not fill.
    pub content_type: Option<String>,
    /// The store's version tag: changes whenever the object does.
    pub etag: Option<String>,
    /// When the object was last written (an overwrite counts as a new
    /// object), as the store reports it.
    pub created_at: DateTime<Utc>,
}

/// One page of [`Files::list`]: objects in key order.
pub type FilePage = crate::Page<FileInfo>;

/// Objects in the store `files_url` names.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dw = doorward::Doorward::open_in_memory_for_docs().await; // files_url = memory://
/// let info = dw.files().put("avatars/42.png", &b"\x89PNG..."[..], Some("image/png")).await?;
/// assert_eq!(info.size, 7);
/// let (info, bytes) = dw.files().get("avatars/42.png").await?;
/// assert_eq!((info.content_type.as_deref(), &bytes[..]), (Some("image/png"), &b"\x89PNG..."[..]));
/// assert!(dw.files().delete("avatars/42.png").await?);
/// # Ok::<(), doorward::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Files {
    pub(crate) core: Arc<Core>,
}

impl Files {
    async fn backend(&self) -> Result<&Backend> {
        self.core.files.get(&self.core.config).await
    }

    fn max_bytes(&self) -> u64 {
        self.core.config.files_max_bytes
    }

    fn too_big(&self) -> Error {
        Error::validation(
            "data",
            format!(
                "is larger than files_max_bytes ({} bytes)",
                self.max_bytes()
            ),
        )
    }

    /// Store `data` under `key`, replacing what was there.
    ///
    /// A body over `files_max_bytes` is refused before anything is written.
    /// Over 8 MiB the body goes up in parts (S3 refuses single uploads over
    /// 5 GiB); for data not already in memory use [`Files::put_stream`] or
    /// [`Files::put_file`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let info = dw.files().put("notes/a.txt", "hello", Some("text/plain")).await?;
    /// assert_eq!((info.key.as_str(), info.size), ("notes/a.txt", 5));
    /// let err = dw.files().put("../escape", "x", None).await.unwrap_err();
    /// assert_eq!(err.field(), Some("key"));
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn put(
        &self,
        key: &str,
        data: impl Into<Bytes>,
        content_type: Option<&str>,
    ) -> Result<FileInfo> {
        self.core
            .observe(operation!("files.put", %key), async {
                let path = key::check_key(key)?;
                check_content_type(content_type)?;
                let data: Bytes = data.into();
                if data.len() as u64 > self.max_bytes() {
                    return Err(self.too_big());
                }
                let backend = self.backend().await?;
                if data.len() > PART_BYTES {
                    let mut upload = self.start_multipart(backend, &path, content_type).await?;
                    let mut rest = data;
                    while !rest.is_empty() {
                        if let Err(e) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
                            abort(backend, upload).await;
                            return Err(backend.write_error(e));
                        }
                        upload.put(rest.split_to(rest.len().min(PART_BYTES)));
                    }
                    self.finish_multipart(backend, upload).await?;
                } else {
                    let opts = PutOptions::from(attributes(backend, content_type));
                    backend
                        .store
                        .put_opts(&path, PutPayload::from(data), opts)
                        .await
                        .map_err(|e| backend.write_error(e))?;
                }
                self.written(backend, &path, content_type).await
            })
            .await
    }

    /// The object under `key` with its bytes, all in memory; for big
    /// objects see [`Files::get_stream`]. `not_found` when there is none.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let err = dw.files().get("missing").await.unwrap_err();
    /// assert_eq!(err.code(), doorward::ErrorCode::NotFound);
    /// # });
    /// ```
    pub async fn get(&self, key: &str) -> Result<(FileInfo, Bytes)> {
        self.core
            .observe(operation!("files.get", %key), async {
                let (info, result, backend) = self.open_get(key, false).await?;
                let bytes = result.bytes().await.map_err(|e| backend.error(e))?;
                Ok((info, bytes))
            })
            .await
    }

    /// The object under `key` and a stream of its bytes, read as they are
    /// consumed.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use futures_util::TryStreamExt as _;
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.files().put("big.bin", vec![7u8; 1000], None).await?;
    /// let (info, stream) = dw.files().get_stream("big.bin").await?;
    /// let chunks: Vec<bytes::Bytes> = stream.try_collect().await?;
    /// assert_eq!(chunks.iter().map(|c| c.len() as u64).sum::<u64>(), info.size);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<(FileInfo, BoxStream<'static, Result<Bytes>>)> {
        self.core
            .observe(operation!("files.get_stream", %key), async {
                let (info, result, _) = self.open_get(key, false).await?;
                let stream = result.into_stream().map_err(Error::from).boxed();
                Ok((info, stream))
            })
            .await
    }

    /// What is known of the object under `key`, without its bytes;
    /// `not_found` when there is none.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.files().put("a.json", "{}", Some("application/json")).await?;
    /// let info = dw.files().head("a.json").await?;
    /// assert_eq!((info.size, info.content_type.as_deref()), (2, Some("application/json")));
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn head(&self, key: &str) -> Result<FileInfo> {
        self.core
            .observe(operation!("files.head", %key), async {
                self.open_get(key, true).await.map(|(info, _, _)| info)
            })
            .await
    }

    /// Remove the object under `key`: `true` if there was one, `false` if
    /// there was nothing to remove (deleting is idempotent, so a retried
    /// delete is not an error). The check and the removal are two calls: a
    /// concurrent writer can make the answer stale, never the removal.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.files().put("a", "x", None).await?;
    /// assert!(dw.files().delete("a").await?);
    /// assert!(!dw.files().delete("a").await?);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn delete(&self, key: &str) -> Result<bool> {
        self.core
            .observe(operation!("files.delete", %key), async {
                let path = key::check_key(key)?;
                let backend = self.backend().await?;
                let existed = match backend.store.head(&path).await {
                    Ok(_) => true,
                    Err(object_store::Error::NotFound { .. }) => false,
                    Err(e) => return Err(backend.error(e)),
                };
                if existed {
                    match backend.store.delete(&path).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(backend.error(e)),
                    }
                }
                if backend.kind == Kind::Local {
                    forget_content_type(backend, &path).await?;
                }
                if existed {
                    let event = crate::events::Event::by_host(
                        crate::events::EventType::FileDeleted,
                        key,
                        serde_json::json!({ "key": key }),
                    );
                    self.core.store.append_events(&[event]).await?;
                    self.core.emitted();
                }
                Ok(existed)
            })
            .await
    }

    /// Objects in key order, `limit` (1 to 1000; `None` for
    /// [`PageRequest::DEFAULT_LIMIT`]) at a time: those under
    /// `prefix` (whole segments: `avatars` lists `avatars/…`, not
    /// `avatars2/…`), after `cursor` (the previous page's `next_cursor`).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// for key in ["a/1", "a/2", "a/3", "b/1"] {
    ///     dw.files().put(key, "x", None).await?;
    /// }
    /// let page = dw.files().list(Some("a"), None, 2).await?;
    /// assert_eq!(page.items.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["a/1", "a/2"]);
    /// let rest = dw.files().list(Some("a"), page.next_cursor.as_deref(), 2).await?;
    /// assert_eq!((rest.items.len(), rest.next_cursor), (1, None));
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn list(
        &self,
        prefix: Option<&str>,
        cursor: Option<&str>,
        limit: impl Into<Option<u32>>,
    ) -> Result<FilePage> {
        let limit = limit.into();
        self.core
            .observe(operation!("files.list", ?prefix), async {
                let page = PageRequest::new(cursor, limit);
                let limit = page.limit_within(PageRequest::MAX_LIMIT)? as usize;
                let prefix = key::check_prefix(prefix)?;
                let cursor = page
                    .cursor
                    .map(|c| {
                        key::check_key(c).map_err(|_| Error::validation("cursor", "is not a key"))
                    })
                    .transpose()?;
                let backend = self.backend().await?;
                let mut stream = match &cursor {
                    Some(after) => backend.store.list_with_offset(prefix.as_ref(), after),
                    None => backend.store.list(prefix.as_ref()),
                };
                // S3 and memory list in key order, so a page stops early; the local
                // backend walks directories in no particular order, so the whole
                // listing is read keeping the smallest keys.
                let sorted = backend.kind != Kind::Local;
                let mut keep = std::collections::BinaryHeap::<OrderedMeta>::new();
                while let Some(meta) = stream.try_next().await.map_err(|e| backend.error(e))? {
                    if meta
                        .location
                        .as_ref()
                        .split('/')
                        .next()
                        .is_some_and(key::is_reserved)
                    {
                        continue;
                    }
                    keep.push(OrderedMeta(meta));
                    if keep.len() > limit + 1 {
                        keep.pop();
                    }
                    if sorted && keep.len() == limit + 1 {
                        break;
                    }
                }
                let mut metas: Vec<ObjectMeta> =
                    keep.into_sorted_vec().into_iter().map(|m| m.0).collect();
                let more = metas.len() > limit;
                metas.truncate(limit);
                let items: Vec<FileInfo> = metas.into_iter().map(|m| info(m, None)).collect();
                let next_cursor = if more {
                    items.last().map(|i| i.key.clone())
                } else {
                    None
                };
                Ok(FilePage { items, next_cursor })
            })
            .await
    }

    async fn open_get(&self, key: &str, head: bool) -> Result<(FileInfo, GetResult, &Backend)> {
        let path = key::check_key(key)?;
        let backend = self.backend().await?;
        let opts = GetOptions::new().with_head(head);
        let result = backend
            .store
            .get_opts(&path, opts)
            .await
            .map_err(|e| backend.error(e))?;
        let content_type = match backend.kind {
            Kind::Local => stored_content_type(backend, &path).await?,
            Kind::Memory | Kind::S3 => stored_attribute(&result.attributes),
        };
        Ok((info(result.meta.clone(), content_type), result, backend))
    }

    /// What was stored, recorded as a FileStored event. An object store
    /// has no transaction to share with the database, so the event follows
    /// the object: a crash in between can lose the event, never announce
    /// an object that is not there.
    async fn written(
        &self,
        backend: &Backend,
        path: &Path,
        content_type: Option<&str>,
    ) -> Result<FileInfo> {
        let info = self.stored_info(backend, path, content_type).await?;
        let event = crate::events::Event::by_host(
            crate::events::EventType::FileStored,
            &info.key,
            serde_json::json!({
                "key": info.key,
                "size": info.size,
                "content_type": info.content_type,
                "etag": info.etag,
            }),
        );
        self.core.store.append_events(&[event]).await?;
        self.core.emitted();
        Ok(info)
    }
}

fn info(meta: ObjectMeta, content_type: Option<String>) -> FileInfo {
    FileInfo {
        key: meta.location.to_string(),
        size: meta.size,
        content_type,
        etag: meta.e_tag,
        created_at: meta.last_modified,
    }
}

/// Object metadata ordered by key, for keeping the first keys of an
/// unordered listing in a heap.
struct OrderedMeta(ObjectMeta);

impl PartialEq for OrderedMeta {
    fn eq(&self, other: &Self) -> bool {
        self.0.location == other.0.location
    }
}
impl Eq for OrderedMeta {}
impl PartialOrd for OrderedMeta {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedMeta {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.location.as_ref().cmp(other.0.location.as_ref())
    }
}
