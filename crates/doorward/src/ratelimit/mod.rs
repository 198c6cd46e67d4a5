//! Rate limits with the generic cell rate algorithm (GCRA).
//!
//! GCRA keeps one number per key, the *theoretical arrival time* (TAT), so a
//! check is one read-modify-write: cheap in memory and one atomic script in
//! Redis, where several instances then share a limit. A [`Quota`] of
//! `burst` per `period` admits `burst` calls at once and then one every
//! `period / burst`, smoothly, with no window edges to game.
//!
//! The same arithmetic (`gcra`) runs in memory and, transcribed, in the
//! Redis script, so both backends decide alike. (`governor` offers GCRA in
//! memory only, with one quota per limiter; doorward needs per-call quotas and
//! the shared Redis backend with identical semantics.)

mod client;
mod memory;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::core::Core;
use crate::error::{Error, Result};
use crate::telemetry::operation;

pub use client::{DEFAULT_IPV6_PREFIX, client_key};
pub(crate) use memory::MemoryLimiter;

/// How many calls per period a key may make.
///
/// ```
/// use doorward::ratelimit::Quota;
/// use std::time::Duration;
/// let q: Quota = "10/5m".parse().unwrap();
/// assert_eq!(q, Quota::new(10, Duration::from_secs(300)).unwrap());
/// assert_eq!("100/h".parse::<Quota>().unwrap().period(), Duration::from_secs(3600));
/// assert!("0/1m".parse::<Quota>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    burst: u32,
    #[serde(serialize_with = "as_secs")]
    period: Duration,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Longest period a quota may have: a day.
const MAX_PERIOD: Duration = Duration::from_secs(24 * 3600);

impl Quota {
    /// `burst` calls per `period` (1 ms to 1 day).
    pub fn new(burst: u32, period: Duration) -> Result<Quota> {
        if burst == 0 {
            return Err(Error::validation("quota", "must allow at least one call"));
        }
        if period < Duration::from_millis(1) || period > MAX_PERIOD {
            return Err(Error::validation(
                "quota",
                "period must be between 1 ms and 1 day",
            ));
        }
        Ok(Quota { burst, period })
    }

    /// Calls admitted at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The period the burst refills over.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Time between calls at the sustained rate.
    pub(crate) fn interval(&self) -> Duration {
        self.period / self.burst
    }

    /// A configuration value: a quota, or `off` for none. An empty value
    /// is an error, not `off`: a variable a deployment template left empty
    /// (`DOORWARD_RATE_LIMIT_LOGIN_ACCOUNT=`) must not turn a brute-force
    /// limit off unseen.
    pub(crate) fn parse_setting(text: &str) -> Result<Option<Quota>> {
        match text.trim() {
            "off" => Ok(None),
            "" => Err(Error::Config(
                "a rate limit is empty: give a quota such as 10/5m, or off".into(),
            )),
            other => other.parse().map(Some),
        }
    }
}

impl FromStr for Quota {
    type Err = Error;

    /// `N/P`: `N` calls per period `P`, where `P` is a number with a unit
    /// (`ms`, `s`, `m`, `h`, `d`) or a unit alone (`10/m`).
    fn from_str(text: &str) -> Result<Quota> {
        let bad = || {
            Error::validation(
                "quota",
                "must look like `10/1m`: calls, a slash, a period in ms, s, m, h or d",
            )
        };
        let (burst, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let burst: u32 = burst.trim().parse().map_err(|_| bad())?;
        let period = period.trim();
        let split = period.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (count, unit) = period.split_at(split);
        let count: u64 = if count.is_empty() {
            1
        } else {
            count.parse().map_err(|_| bad())?
        };
        let unit_ms: u64 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        let ms = count.checked_mul(unit_ms).ok_or_else(bad)?;
        Quota::new(burst, Duration::from_millis(ms))
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}ms", self.burst, self.period.as_millis())
    }
}

/// The outcome of an admitted call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Calls still admitted right now.
    pub remaining: u32,
    /// Time until the key is back to a full burst.
    pub reset_after: Duration,
}

/// What [`gcra`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Admitted; store `tat` for `ttl`.
    Allow {
        tat: i64,
        ttl: i64,
        decision: Decision,
    },
    /// Refused; retry after this many microseconds.
    Deny { retry_after: i64 },
}

/// One GCRA step in microseconds. `tat` is the stored theoretical arrival
/// time (absent for a new key). The Redis script repeats exactly this.
pub(crate) fn gcra(now: i64, tat: Option<i64>, quota: &Quota) -> Verdict {
    let interval = quota.interval().as_micros().max(1) as i64;
    let period = quota.period.as_micros() as i64;
    let tat = tat.unwrap_or(now).max(now);
    let new_tat = tat + interval;
    let allow_at = new_tat - period;
    if now < allow_at {
        return Verdict::Deny {
            retry_after: allow_at - now,
        };
    }
    let reset_after = new_tat - now;
    Verdict::Allow {
        tat: new_tat,
        ttl: reset_after,
        decision: decision(reset_after, interval, period),
    }
}

/// Remaining calls and reset time once the key's TAT is `reset_after`
/// microseconds ahead.
pub(crate) fn decision(reset_after: i64, interval: i64, period: i64) -> Decision {
    Decision {
        remaining: ((period - reset_after).max(0) / interval) as u32,
        reset_after: Duration::from_micros(reset_after.max(0) as u64),
    }
}

fn micros(d: i64) -> Duration {
    Duration::from_micros(d.max(0) as u64)
}

/// The built-in limits, resolved from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuiltinQuotas {
    pub login_account: Option<Quota>,
    pub login_ip: Option<Quota>,
    pub register_ip: Option<Quota>,
    /// Account mails per address, and per client address.
    pub flow_address: Option<Quota>,
    pub flow_ip: Option<Quota>,
    /// One account mail per purpose and address per `flow_resend_cooldown`.
    pub flow_cooldown: Option<Quota>,
    /// `rate_limit_ipv6_prefix`.
    pub ipv6_prefix: u8,
}

impl BuiltinQuotas {
    pub(crate) fn from_config(config: &crate::Config) -> Result<Self> {
        Ok(BuiltinQuotas {
            login_account: Quota::parse_setting(&config.rate_limit_login_account)?,
            login_ip: Quota::parse_setting(&config.rate_limit_login_ip)?,
            register_ip: Quota::parse_setting(&config.rate_limit_register_ip)?,
            flow_address: Quota::parse_setting(&config.rate_limit_flow_address)?,
            flow_ip: Quota::parse_setting(&config.rate_limit_flow_ip)?,
            flow_cooldown: match config.flow_resend_cooldown {
                0 => None,
                secs => Some(Quota::new(1, Duration::from_secs(secs))?),
            },
            ipv6_prefix: config.rate_limit_ipv6_prefix,
        })
    }

    /// The key the per-address limits count a client address under (see
    /// [`client_key`]).
    pub(crate) fn client_key(&self, address: &str) -> String {
        client_key(address, self.ipv6_prefix)
    }
}

impl Core {
    /// One check of `key` (already namespaced) against `quota`: in Redis when
    /// configured and reachable, else in this process.
    pub(crate) async fn rate_check(&self, key: &str, quota: &Quota) -> Result<Decision> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.redis {
            // A failure is counted and logged by the connection; limiting
            // then goes on in this process rather than not at all.
            if let Ok(verdict) = redis.gcra(key, quota).await {
                return verdict_to_result(verdict);
            }
        }
        verdict_to_result(self.limiter.check(key, quota))
    }
}

fn verdict_to_result(verdict: Verdict) -> Result<Decision> {
    match verdict {
        Verdict::Allow { decision, .. } => Ok(decision),
        Verdict::Deny { retry_after } => Err(Error::RateLimited {
            retry_after: micros(retry_after),
        }),
    }
}

/// Rate limits for the host's own endpoints: `dw.limits()`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub(crate) core: Arc<Core>,
}

impl Limits {
    /// Count one call of `key` against `quota`: the decision when admitted,
    /// `rate_limited` with a retry-after when not. With `redis_url` set every
    /// instance shares the count.
    ///
    /// Keys are the host's own (`"{user_id}:export"`, an address, ...): they
    /// live in their own namespace, apart from doorward's built-in limits.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// let quota = "2/1m".parse().unwrap();
    /// assert_eq!(dw.limits().limit("u1:export", &quota).await.unwrap().remaining, 1);
    /// dw.limits().limit("u1:export", &quota).await.unwrap();
    /// let err = dw.limits().limit("u1:export", &quota).await.unwrap_err();
    /// assert_eq!(err.code().as_str(), "rate_limited");
    /// assert!(err.retry_after().unwrap().as_secs() >= 29);
    /// # });
    /// ```
    pub async fn limit(&self, key: &str, quota: &Quota) -> Result<Decision> {
        self.core
            .observe(operation!("limits.limit", %key), async {
                if key.is_empty() || key.len() > 512 {
                    return Err(Error::validation("key", "must be 1 to 512 bytes"));
                }
                self.core.rate_check(&format!("app:{key}"), quota).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(v: Verdict) -> (i64, Decision) {
        match v {
            Verdict::Allow { tat, decision, .. } => (tat, decision),
            Verdict::Deny { .. } => panic!("denied"),
        }
    }

    #[test]
    fn burst_then_steady_rate() {
        let q = Quota::new(3, Duration::from_secs(3)).unwrap();
        let mut tat = None;
        for remaining in [2, 1, 0] {
            let (t, d) = allow(gcra(0, tat, &q));
            assert_eq!(d.remaining, remaining);
            tat = Some(t);
        }
        assert_eq!(
            gcra(0, tat, &q),
            Verdict::Deny {
                retry_after: 1_000_000
            }
        );
        // One interval later exactly one more call fits.
        let (t, d) = allow(gcra(1_000_000, tat, &q));
        assert_eq!(d.remaining, 0);
        assert!(matches!(gcra(1_000_000, Some(t), &q), Verdict::Deny { .. }));
        // After a full period the burst is back.
        let (_, d) = allow(gcra(10_000_000, Some(t), &q));
        assert_eq!(d.remaining, 2);
    }

    #[test]
    fn parses_settings() {
        assert_eq!(Quota::parse_setting("off").unwrap(), None);
        // Empty is a mistake, never a silent `off`.
        for empty in ["", "  "] {
            assert_eq!(
                Quota::parse_setting(empty).unwrap_err().code(),
                crate::ErrorCode::ConfigError
            );
        }
        assert_eq!(
            Quota::parse_setting("5/30s").unwrap(),
            Some(Quota::new(5, Duration::from_secs(30)).unwrap())
        );
        for bad in ["5", "x/1m", "5/1y", "5/", "5/99999999999999999d", "5/2d"] {
            assert!(Quota::parse_setting(bad).is_err(), "{bad}");
        }
    }
}
