//! Content types: checked as the HTTP header values they become, kept as
//! an object attribute by S3 and memory, and on `file://` (whose backend
//! refuses attributes) in a sidecar object under
//! `.doorward/content-type/<key>` in the same folder.

use object_store::path::Path;
use object_store::{
    Attribute, AttributeValue, Attributes, GetOptions, ObjectStore as _, ObjectStoreExt as _,
    PutPayload,
};

use super::backend::{Backend, Kind};
use super::{FileInfo, Files, info, key};
use crate::error::{Error, Result};

/// Longest content type accepted.
const MAX_CONTENT_TYPE_BYTES: usize = 255;

impl Files {
    /// After a write: the local backend's content type, then what the store
    /// now holds. A failed content-type write removes the object, so a put
    /// either fully happens or reports an error.
    pub(super) async fn stored_info(
        &self,
        backend: &Backend,
        path: &Path,
        content_type: Option<&str>,
    ) -> Result<FileInfo> {
        if backend.kind == Kind::Local {
            let kept = match content_type {
                Some(ct) => backend
                    .store
                    .put(&sidecar(path), PutPayload::from(ct.to_string()))
                    .await
                    .map(|_| ())
                    .map_err(|e| backend.write_error(e)),
                None => forget_content_type(backend, path).await,
            };
            if let Err(e) = kept {
                let _ = backend.store.delete(path).await;
                return Err(e);
            }
        }
        if backend.kind == Kind::Local {
            let meta = backend
                .store
                .head(path)
                .await
                .map_err(|e| backend.error(e))?;
            return Ok(info(meta, content_type.map(str::to_string)));
        }
        // Read back rather than echo `content_type`: S3 fills in its own
        // default for an object stored without one, and put should report
        // what head will.
        let result = backend
            .store
            .get_opts(path, GetOptions::new().with_head(true))
            .await
            .map_err(|e| backend.error(e))?;
        Ok(info(result.meta, stored_attribute(&result.attributes)))
    }
}

pub(super) fn stored_attribute(attributes: &Attributes) -> Option<String> {
    attributes
        .get(&Attribute::ContentType)
        .map(|v| v.to_string())
}

/// Content types travel as HTTP headers: printable ASCII, bounded.
pub(super) fn check_content_type(content_type: Option<&str>) -> Result<()> {
    let Some(ct) = content_type else {
        return Ok(());
    };
    if ct.is_empty() || ct.len() > MAX_CONTENT_TYPE_BYTES {
        return Err(Error::validation(
            "content_type",
            "must be 1 to 255 characters",
        ));
    }
    if !ct.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::validation("content_type", "must be printable ASCII"));
    }
    Ok(())
}

pub(super) fn attributes(backend: &Backend, content_type: Option<&str>) -> Attributes {
    let mut attributes = Attributes::new();
    if let (Some(ct), false) = (content_type, backend.kind == Kind::Local) {
        attributes.insert(Attribute::ContentType, AttributeValue::from(ct.to_string()));
    }
    attributes
}

fn sidecar(path: &Path) -> Path {
    Path::from_iter(
        [key::RESERVED, "content-type"]
            .into_iter()
            .map(object_store::path::PathPart::from)
            .chain(path.parts()),
    )
}

pub(super) async fn stored_content_type(backend: &Backend, path: &Path) -> Result<Option<String>> {
    match backend.store.get(&sidecar(path)).await {
        Ok(result) => {
            let bytes = result.bytes().await.map_err(|e| backend.error(e))?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(backend.error(e)),
    }
}

pub(super) async fn forget_content_type(backend: &Backend, path: &Path) -> Result<()> {
    match backend.store.delete(&sidecar(path)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(backend.error(e)),
    }
}
