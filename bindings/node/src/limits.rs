//! `dw.limits`: rate limits for the host's own endpoints.

use napi_derive::napi;

use crate::error::guarded;
use crate::types::Decision;

/// Rate limits: `dw.limits`.
#[napi]
#[derive(Debug)]
pub struct Limits {
    pub(crate) dw: doorward::Doorward,
}

#[napi]
impl Limits {
    /// Admit one call under `key` by `quota` (`"10/1m"`: a burst of 10, then
    /// one every 6 s), or reject with `rate_limited` and `retryAfter`.
    /// Shared by every instance when Redis is configured.
    #[napi]
    pub async fn limit(&self, key: String, quota: String) -> napi::Result<Decision> {
        guarded(async {
            let quota: doorward::Quota = quota.parse()?;
            self.dw.limits().limit(&key, &quota).await
        })
        .await
        .map(Decision::from)
    }
}
