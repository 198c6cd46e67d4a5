//! `dw.stats()`: the numbers an administrator's dashboard shows, from the
//! store (so every instance sees the same) rather than one process's
//! counters.

use std::sync::Arc;

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use serde::Serialize;

use crate::core::Core;
use crate::error::Result;
use crate::store::{DeliveryStatus, now};
use crate::telemetry::operation;

/// Days of accounts created, and hours of logins, a dashboard covers.
const DAYS: i64 = 30;
const HOURS: i64 = 24;
/// Dead letters are counted up to this many.
const DEAD_COUNTED: u32 = 1000;

/// Accounts created on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// The day's start.
    pub day: DateTime<Utc>,
    /// Accounts created that day.
    pub count: u64,
}

/// Logins in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourLogins {
    /// The hour's start.
    pub hour: DateTime<Utc>,
    /// Successful logins.
    pub succeeded: u64,
    /// Refused logins (wrong passwords, unknown accounts, lockouts).
    pub failed: u64,
}

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// Accounts, disabled ones included.
    pub users_total: u64,
    /// Accounts created per day over the last 30 days, oldest first, every
    /// day present.
    pub users_per_day: Vec<DayCount>,
    /// Logins per hour over the last 24 hours, oldest first, every hour
    /// present (from the audit log: what the dispatcher has delivered).
    pub logins_per_hour: Vec<HourLogins>,
    /// Live sessions.
    pub active_sessions: u64,
    /// Accounts locked out now.
    pub locked_accounts: u64,
    /// Events not yet handled by the slowest consumer.
    pub outbox_backlog: u64,
    /// Webhook deliveries waiting.
    pub pending_deliveries: u64,
    /// Webhook deliveries given up on (counted up to 1000).
    pub dead_letters: u64,
}

/// The statistics service.
#[derive(Debug, Clone)]
pub struct Stats {
    pub(crate) core: Arc<Core>,
}

impl Stats {
    /// The dashboard's numbers, as of now.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let dw = doorward::Doorward::open_in_memory_for_docs().await;
    /// dw.auth().register_user("ann", "ann@example.com", "correct horse battery", None).await.unwrap();
    /// let d = dw.stats().dashboard().await.unwrap();
    /// assert_eq!((d.users_total, d.active_sessions), (1, 1));
    /// assert_eq!(d.users_per_day.len(), 30);
    /// assert_eq!(d.users_per_day.last().unwrap().count, 1);
    /// assert_eq!(d.logins_per_hour.len(), 24);
    /// # });
    /// ```
    pub async fn dashboard(&self) -> Result<Dashboard> {
        self.core
            .observe(operation!("stats.dashboard"), async {
                let at = now();
                let store = self.core.store.for_reads();
                let today = at.duration_trunc(TimeDelta::days(1)).unwrap_or(at);
                let this_hour = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
                let first_day = today - TimeDelta::days(DAYS - 1);
                let first_hour = this_hour - TimeDelta::hours(HOURS - 1);
                let days = store.users_per_day(first_day).await?;
                let users_per_day = (0..DAYS)
                    .map(|n| {
                        let day = first_day + TimeDelta::days(n);
                        let count = days.iter().find(|(d, _)| *d == day).map_or(0, |(_, c)| *c);
                        DayCount { day, count }
                    })
                    .collect();
                let hours = store.logins_per_hour(first_hour).await?;
                let logins_per_hour = (0..HOURS)
                    .map(|n| {
                        let hour = first_hour + TimeDelta::hours(n);
                        let found = hours.iter().find(|h| h.hour == hour);
                        HourLogins {
                            hour,
                            succeeded: found.map_or(0, |h| h.succeeded),
                            failed: found.map_or(0, |h| h.failed),
                        }
                    })
                    .collect();
                let last = store.last_event_seq().await?;
                let outbox_backlog = store
                    .consumers()
                    .await?
                    .iter()
                    .map(|c| last.saturating_sub(c.position))
                    .max()
                    .unwrap_or(0);
                let dead = store
                    .deliveries(Some(DeliveryStatus::Dead), 0, DEAD_COUNTED)
                    .await?;
                Ok(Dashboard {
                    users_total: store.count_users().await?,
                    users_per_day,
                    logins_per_hour,
                    active_sessions: store.count_live_sessions(at).await?,
                    locked_accounts: store.count_locked_users(at).await?,
                    outbox_backlog,
                    pending_deliveries: store.pending_deliveries().await?,
                    dead_letters: dead.len() as u64,
                })
            })
            .await
    }
}
