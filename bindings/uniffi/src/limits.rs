//! Rate limits for the app's own calls: `doorward.limits()`.

use crate::error::{DoorwardError, call};
use crate::types::Decision;

/// Rate limits: `doorward.limits()`.
#[derive(Debug, uniffi::Object)]
pub struct Limits {
    pub(crate) dw: doorward::Doorward,
}

export! {
    impl Limits {
        /// Admit one call under `key` by `quota` (`"10/1m"`), or throw
        /// `RateLimited` with the wait.
        pub async fn limit(&self, key: String, quota: String) -> Result<Decision, DoorwardError> {
            call(async {
                let quota: doorward::Quota = quota.parse()?;
                self.dw.limits().limit(&key, &quota).await
            })
            .await
            .map(Decision::from)
        }
    }
}
