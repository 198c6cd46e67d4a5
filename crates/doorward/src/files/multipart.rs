//! Uploads that need not fit in memory: a reader or a file streamed up as a
//! multipart upload of [`PART_BYTES`] parts with at most two in flight, so
//! an upload holds about three parts however big the body. Multipart
//! uploads are atomic: the object appears when the last part is in, and a
//! failure part-way (the size cap, a read error) aborts it.

use std::path::Path as FsPath;

use object_store::path::Path;
use object_store::{PutMultipartOptions, WriteMultipart};
use tokio::io::{AsyncRead, AsyncReadExt as _};

use super::backend::Backend;
use super::content_type::{attributes, check_content_type};
use super::{Bytes, FileInfo, Files, PART_BYTES, key};
use crate::error::{Error, Result};
use crate::telemetry::operation;

/// Parts uploaded at once: enough to keep the network busy while the next
/// part is read, few enough to keep memory at about three parts.
pub(super) const PARTS_IN_FLIGHT: usize = 2;

impl Files {
    /// Store what `reader` yields under `key`, holding at most a few 8 MiB
    /// parts in memory however long it is.
    ///
    /// Up to 8 MiB is one upload; beyond, a multipart upload. Crossing
    /// `files_max_bytes` part-way aborts the upload (`validation_error` on
    /// `data`) and leaves nothing, as does a read error.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let info = dw.files().put_stream("exports/a.csv", &b"id,name\n1,john\n"[..], Some("text/csv")).await?;
    /// assert_eq!(info.size, 15);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn put_stream<R>(
        &self,
        key: &str,
        mut reader: R,
        content_type: Option<&str>,
    ) -> Result<FileInfo>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.core
            .observe(operation!("files.put_stream", %key), async {
                let path = key::check_key(key)?;
                check_content_type(content_type)?;
                let max = self.max_bytes();
                // A whole part, then one more read, tells a single upload from a
                // multipart one without holding more than a part.
                let mut first = Vec::with_capacity(PART_BYTES);
                let ended = fill(&mut reader, &mut first, PART_BYTES).await?;
                let mut buf = vec![0u8; 256 * 1024];
                let mut pending = if ended {
                    0
                } else {
                    read(&mut reader, &mut buf).await?
                };
                if pending == 0 {
                    return self.put(key, first, content_type).await;
                }
                let mut total = (first.len() + pending) as u64;
                if total > max {
                    return Err(self.too_big());
                }
                let backend = self.backend().await?;
                let mut upload = self.start_multipart(backend, &path, content_type).await?;
                upload.put(Bytes::from(first));
                let failure = loop {
                    upload.write(&buf[..pending]);
                    if let Err(e) = upload.wait_for_capacity(PARTS_IN_FLIGHT).await {
                        break backend.write_error(e);
                    }
                    pending = match read(&mut reader, &mut buf).await {
                        Ok(0) => {
                            self.finish_multipart(backend, upload).await?;
                            return self.written(backend, &path, content_type).await;
                        }
                        Ok(n) => n,
                        Err(e) => break e,
                    };
                    total += pending as u64;
                    if total > max {
                        break self.too_big();
                    }
                };
                abort(backend, upload).await;
                Err(failure)
            })
            .await
    }

    /// Store the file at `path` under `key` (see [`Files::put_stream`]); a
    /// file over `files_max_bytes` is refused before it is read.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let path = dir.path().join("report.pdf");
    /// std::fs::write(&path, b"%PDF-1.7").unwrap();
    /// let info = dw.files().put_file("reports/1.pdf", &path, Some("application/pdf")).await?;
    /// assert_eq!(info.size, 8);
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn put_file(
        &self,
        key: &str,
        path: impl AsRef<FsPath>,
        content_type: Option<&str>,
    ) -> Result<FileInfo> {
        self.core
            .observe(operation!("files.put_file", %key), async {
                key::check_key(key)?;
                check_content_type(content_type)?;
                let path = path.as_ref();
                let file = tokio::fs::File::open(path).await.map_err(|e| {
                    Error::validation("path", format!("cannot open {}: {e}", path.display()))
                })?;
                let len = file
                    .metadata()
                    .await
                    .map_err(|e| {
                        Error::validation("path", format!("cannot read {}: {e}", path.display()))
                    })?
                    .len();
                if len > self.max_bytes() {
                    return Err(self.too_big());
                }
                self.put_stream(key, file, content_type).await
            })
            .await
    }

    pub(super) async fn start_multipart(
        &self,
        backend: &Backend,
        path: &Path,
        content_type: Option<&str>,
    ) -> Result<WriteMultipart> {
        let opts = PutMultipartOptions::from(attributes(backend, content_type));
        let upload = backend
            .store
            .put_multipart_opts(path, opts)
            .await
            .map_err(|e| backend.write_error(e))?;
        Ok(WriteMultipart::new_with_chunk_size(upload, PART_BYTES))
    }

    pub(super) async fn finish_multipart(
        &self,
        backend: &Backend,
        upload: WriteMultipart,
    ) -> Result<()> {
        // `finish` aborts the upload itself when a part or the completion fails.
        upload.finish().await.map_err(|e| backend.write_error(e))?;
        Ok(())
    }
}

async fn read<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> Result<usize> {
    reader
        .read(buf)
        .await
        .map_err(|e| Error::Storage(format!("cannot read the upload: {e}")))
}

/// Drops a failed multipart upload's parts; a failure to do so is logged,
/// the caller reports the error that caused it.
pub(super) async fn abort(backend: &Backend, upload: WriteMultipart) {
    if let Err(e) = upload.abort().await {
        tracing::warn!(error = %backend.error(e), "aborting a multipart upload failed");
    }
}

/// Reads until `buf` holds `want` bytes or the reader ends; true if it ended.
async fn fill<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    want: usize,
) -> Result<bool> {
    while buf.len() < want {
        let room = want - buf.len();
        let n = (&mut *reader)
            .take(room as u64)
            .read_buf(buf)
            .await
            .map_err(|e| Error::Storage(format!("cannot read the upload: {e}")))?;
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}
