//! The dashboard's aggregates, in SQL: times are BIGINT microseconds in
//! both dialects, so a day or an hour is one integer division.

/// Implements [`crate::store::StatsStore`] for a [`super::Dialect`].
macro_rules! sql_stats {
    ($store:ty) => {
        const _: () = {
            use chrono::{DateTime, Utc};
            use $crate::error::Result;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::rows::{SESSION_COLUMNS, from_micros, session_from, to_micros};
            use $crate::store::{ListAfter, LoginsInHour, SessionRecord, StatsStore};

            const DAY: i64 = 86_400_000_000;
            const HOUR: i64 = 3_600_000_000;

            fn count(n: i64) -> u64 {
                u64::try_from(n).unwrap_or(0)
            }

            #[async_trait::async_trait]
            impl StatsStore for $store {
                async fn users_per_day(
                    &self,
                    since: DateTime<Utc>,
                ) -> Result<Vec<(DateTime<Utc>, u64)>> {
                    let rows: Vec<(i64, i64)> = sqlx::query_as(
                        "SELECT created_at / $1 AS day, COUNT(*) FROM users \
                         WHERE created_at >= $2 GROUP BY 1 ORDER BY 1",
                    )
                    .bind(DAY)
                    .bind(to_micros(since))
                    .fetch_all(self.reads())
                    .await?;
                    rows.into_iter()
                        .map(|(day, n)| Ok((from_micros(day * DAY)?, count(n))))
                        .collect()
                }

                async fn logins_per_hour(&self, since: DateTime<Utc>) -> Result<Vec<LoginsInHour>> {
                    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                        "SELECT occurred_at / $1 AS hour, \
                                SUM(CASE WHEN event_type = 'LoginSucceeded' THEN 1 ELSE 0 END), \
                                SUM(CASE WHEN event_type = 'LoginFailed' THEN 1 ELSE 0 END) \
                         FROM audit_log \
                         WHERE occurred_at >= $2 \
                           AND event_type IN ('LoginSucceeded', 'LoginFailed') \
                         GROUP BY 1 ORDER BY 1",
                    )
                    .bind(HOUR)
                    .bind(to_micros(since))
                    .fetch_all(self.reads())
                    .await?;
                    rows.into_iter()
                        .map(|(hour, succeeded, failed)| {
                            Ok(LoginsInHour {
                                hour: from_micros(hour * HOUR)?,
                                succeeded: count(succeeded),
                                failed: count(failed),
                            })
                        })
                        .collect()
                }

                async fn count_locked_users(&self, now: DateTime<Utc>) -> Result<u64> {
                    let n: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE locked_until > $1")
                            .bind(to_micros(now))
                            .fetch_one(self.reads())
                            .await?;
                    Ok(count(n))
                }

                async fn all_live_sessions(
                    &self,
                    now: DateTime<Utc>,
                    after: Option<&ListAfter>,
                    limit: u32,
                ) -> Result<Vec<SessionRecord>> {
                    let (at, id) = match after {
                        Some((at, id)) => (to_micros(*at), id.as_str()),
                        None => (i64::MIN, ""),
                    };
                    sqlx::query(&format!(
                        "SELECT {SESSION_COLUMNS} FROM sessions \
                         WHERE revoked_at IS NULL AND expires_at > $1 \
                           AND (created_at, id) > ($2, $3) \
                         ORDER BY created_at, id LIMIT $4"
                    ))
                    .bind(to_micros(now))
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(self.reads())
                    .await?
                    .iter()
                    .map(session_from)
                    .collect()
                }
            }
        };
    };
}
pub(crate) use sql_stats;
