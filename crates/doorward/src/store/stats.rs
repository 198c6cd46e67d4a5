//! Counts over many rows, for an administrator's dashboard: accounts made
//! per day, logins per hour, accounts locked out now, and live sessions
//! across accounts. Each is one indexed query, grouped in the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::store::{ListAfter, SessionRecord};

/// Logins in one hour, from the audit log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoginsInHour {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    /// `LoginSucceeded` entries.
    pub succeeded: u64,
    /// `LoginFailed` entries.
    pub failed: u64,
}

/// Aggregates for the console.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Accounts created at or after `since`, per UTC day (the day's
    /// start), oldest first; days without any are absent.
    async fn users_per_day(&self, since: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, u64)>>;
    /// Successful and failed logins the audit log holds at or after
    /// `since`, per hour, oldest first; hours without any are absent.
    async fn logins_per_hour(&self, since: DateTime<Utc>) -> Result<Vec<LoginsInHour>>;
    /// Accounts whose lockout lasts past `now`.
    async fn count_locked_users(&self, now: DateTime<Utc>) -> Result<u64>;
    /// Live sessions of every account, by `(created_at, id)`, after `after`.
    async fn all_live_sessions(
        &self,
        now: DateTime<Utc>,
        after: Option<&ListAfter>,
        limit: u32,
    ) -> Result<Vec<SessionRecord>>;
}
