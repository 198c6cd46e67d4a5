//! Presigned URLs: a GET or PUT of one object, for a limited time, without
//! credentials, so a browser can download or upload straight from or to S3.
//! Other backends have nothing to sign with: a `config_error`, since it is
//! the configuration, not the call, that would have to change.

use std::time::Duration;

use super::{Files, key};
use crate::error::{Error, Result};
use crate::telemetry::operation;

/// Longest a presigned URL may live: S3's own limit, 7 days.
pub const MAX_PRESIGN: Duration = Duration::from_secs(7 * 24 * 3600);

impl Files {
    /// A URL that lets whoever holds it GET the object under `key` for
    /// `expires_in` (1 s to 7 days), without credentials: for handing a
    /// download to a browser. S3 only (`config_error` elsewhere).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let err = dw.files().presign_get("a", std::time::Duration::from_secs(60)).await.unwrap_err();
    /// assert_eq!(err.code(), doorward::ErrorCode::ConfigError);
    /// # });
    /// ```
    pub async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String> {
        self.core
            .observe(operation!("files.presign_get", %key), async {
                self.presign(key, expires_in, false).await
            })
            .await
    }

    /// A URL that lets whoever holds it PUT an object under `key` for
    /// `expires_in` (1 s to 7 days): for uploads straight from a browser.
    /// S3 only (`config_error` elsewhere).
    ///
    /// S3 cannot cap the size of a presigned PUT, so `files_max_bytes` does
    /// not apply to it; check [`Files::head`] afterwards if size matters.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let err = dw.files().presign_put("a", std::time::Duration::from_secs(60)).await.unwrap_err();
    /// assert_eq!(err.code(), doorward::ErrorCode::ConfigError);
    /// # });
    /// ```
    pub async fn presign_put(&self, key: &str, expires_in: Duration) -> Result<String> {
        self.core
            .observe(operation!("files.presign_put", %key), async {
                self.presign(key, expires_in, true).await
            })
            .await
    }

    async fn presign(&self, key: &str, expires_in: Duration, put: bool) -> Result<String> {
        let path = key::check_key(key)?;
        if expires_in < Duration::from_secs(1) || expires_in > MAX_PRESIGN {
            return Err(Error::validation(
                "expires_in",
                "must be between 1 second and 7 days",
            ));
        }
        let backend = self.backend().await?;
        #[cfg(feature = "s3")]
        if let Some(signer) = &backend.signer {
            use object_store::signer::{Method, Signer as _};
            let method = if put { Method::PUT } else { Method::GET };
            let url = signer
                .signed_url(method, &path, expires_in)
                .await
                .map_err(|e| backend.error(e))?;
            return Ok(url.to_string());
        }
        let _ = (path, put, backend);
        Err(Error::Config(
            "presigned URLs need an s3:// files_url".into(),
        ))
    }
}
