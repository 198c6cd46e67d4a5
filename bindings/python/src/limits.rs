//! `dw.limits`: rate limits for the host's own endpoints.

use crate::types::Decision;

sub_api!(
    /// Rate limits: `dw.limits`.
    Limits,
    AsyncLimits
);

twins! {
    Limits, AsyncLimits;

    /// Admit one call under `key` by `quota` (`"10/1m"`: a burst of 10,
    /// then one every 6 s), or raise `RateLimitedError` with `retry_after`.
    /// Shared by every instance when Redis is configured.
    fn limit(dw, key: String, quota: String) -> Decision {
        let quota: doorward::Quota = quota.parse()?;
        dw.limits().limit(&key, &quota).await.map(Decision::from)
    }
}
