use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};

use super::MemoryStore;
use crate::error::Result;
use crate::store::{ListAfter, LoginsInHour, SessionRecord, StatsStore};

fn start_of(at: DateTime<Utc>, unit: TimeDelta) -> DateTime<Utc> {
    at.duration_trunc(unit).unwrap_or(at)
}

#[async_trait]
impl StatsStore for MemoryStore {
    async fn users_per_day(&self, since: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, u64)>> {
        let st = self.lock();
        let mut days: BTreeMap<DateTime<Utc>, u64> = BTreeMap::new();
        for user in st.users.values().filter(|u| u.created_at >= since) {
            *days
                .entry(start_of(user.created_at, TimeDelta::days(1)))
                .or_default() += 1;
        }
        Ok(days.into_iter().collect())
    }

    async fn logins_per_hour(&self, since: DateTime<Utc>) -> Result<Vec<LoginsInHour>> {
        let st = self.lock();
        let mut hours: BTreeMap<DateTime<Utc>, LoginsInHour> = BTreeMap::new();
        for row in st.audit.iter().filter(|r| r.occurred_at >= since) {
            let hour = start_of(row.occurred_at, TimeDelta::hours(1));
            let entry = hours.entry(hour).or_insert(LoginsInHour {
                hour,
                ..LoginsInHour::default()
            });
            match row.event_type.as_str() {
                "LoginSucceeded" => entry.succeeded += 1,
                "LoginFailed" => entry.failed += 1,
                _ => {}
            }
        }
        Ok(hours
            .into_values()
            .filter(|h| h.succeeded + h.failed > 0)
            .collect())
    }

    async fn count_locked_users(&self, now: DateTime<Utc>) -> Result<u64> {
        let st = self.lock();
        Ok(st
            .users
            .values()
            .filter(|u| u.locked_until.is_some_and(|until| until > now))
            .count() as u64)
    }

    async fn all_live_sessions(
        &self,
        now: DateTime<Utc>,
        after: Option<&ListAfter>,
        limit: u32,
    ) -> Result<Vec<SessionRecord>> {
        let st = self.lock();
        let mut live: Vec<SessionRecord> = st
            .sessions
            .values()
            .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
            .filter(|s| after.is_none_or(|(at, id)| (s.created_at, &s.id) > (*at, id)))
            .cloned()
            .collect();
        live.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        live.truncate(limit as usize);
        Ok(live)
    }
}
