//! Downloading an object to a file: streamed, written beside the target
//! under a temporary name and renamed into place once complete, so a
//! reader of `path` never sees half a file.

use std::path::Path as FsPath;

use futures_util::stream::TryStreamExt as _;
use tokio::io::AsyncWriteExt as _;

use super::{FileInfo, Files};
use crate::error::{Error, Result};
use crate::telemetry::operation;

impl Files {
    /// Write the object under `key` to the file at `path`, streaming. The
    /// file appears (replacing one already there) only once complete.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dir = tempfile::tempdir().unwrap();
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.files().put("a.txt", "hello", None).await?;
    /// let path = dir.path().join("a.txt");
    /// dw.files().get_to_file("a.txt", &path).await?;
    /// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    /// # Ok::<(), doorward::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_to_file(&self, key: &str, path: impl AsRef<FsPath>) -> Result<FileInfo> {
        self.core
            .observe(operation!("files.get_to_file", %key), async {
                let path = path.as_ref();
                let (info, mut stream) = self.get_stream(key).await?;
                let name = path
                    .file_name()
                    .ok_or_else(|| Error::validation("path", "must name a file"))?;
                let mut partial = name.to_os_string();
                partial.push(format!(".{}.part", uuid::Uuid::new_v4().simple()));
                let partial = path.with_file_name(partial);
                let io = |e: std::io::Error| {
                    Error::Storage(format!("cannot write {}: {e}", path.display()))
                };
                let written = async {
                    let mut file = tokio::fs::File::create(&partial).await.map_err(io)?;
                    while let Some(chunk) = stream.try_next().await? {
                        file.write_all(&chunk).await.map_err(io)?;
                    }
                    file.flush().await.map_err(io)?;
                    file.sync_all().await.map_err(io)?;
                    tokio::fs::rename(&partial, path).await.map_err(io)
                }
                .await;
                if written.is_err() {
                    let _ = tokio::fs::remove_file(&partial).await;
                }
                written.map(|()| info)
            })
            .await
    }
}
