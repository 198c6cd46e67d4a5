//! `doorward cache ...`.

use doorward::{CacheStats, RedisUsage, Result};
use serde::Serialize;

use super::{Ctx, Outcome};
use crate::args::CacheCommand;
use crate::output::{error_object, table};

/// `cache stats`' document. `redis_usage` is null without Redis, and also
/// when Redis could not be reached, which `error` then says.
#[derive(Debug, Serialize)]
struct StatsReport {
    stats: CacheStats,
    redis_usage: Option<RedisUsage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct Flushed {
    flushed: bool,
    redis: bool,
}

pub async fn run(ctx: &Ctx, command: CacheCommand) -> Result<Outcome> {
    match command {
        CacheCommand::Stats => {
            let dw = ctx.open().await?;
            // Counting first, so the counters below include its outcome.
            let usage = dw.cache().redis_usage().await;
            let stats = dw.cache().stats();
            let (redis_usage, failure) = match usage {
                Ok(usage) => (usage, None),
                Err(err) => (None, Some(err)),
            };
            let report = StatsReport {
                stats,
                redis_usage,
                error: failure.as_ref().map(error_object),
            };
            ctx.out.emit(&report, |w| {
                let s = &report.stats;
                let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
                let mut rows = vec![
                    ("l1_entries", s.l1_entries.to_string()),
                    ("l1_hits", s.l1_hits.to_string()),
                    ("l1_misses", s.l1_misses.to_string()),
                    ("l2_hits", s.l2_hits.to_string()),
                    ("l2_misses", s.l2_misses.to_string()),
                    ("loads", s.loads.to_string()),
                    ("invalidations_sent", s.invalidations_sent.to_string()),
                    (
                        "invalidations_received",
                        s.invalidations_received.to_string(),
                    ),
                    ("resyncs", s.resyncs.to_string()),
                    ("redis", yes_no(s.redis)),
                ];
                if s.redis {
                    rows.push(("redis_up", yes_no(s.redis_up)));
                    rows.push(("redis_errors", s.redis_errors.to_string()));
                    match &report.redis_usage {
                        Some(u) => {
                            rows.push(("redis cache_entries", u.cache_entries.to_string()));
                            rows.push(("redis sessions", u.sessions.to_string()));
                            rows.push(("redis rate_limit_keys", u.rate_limit_keys.to_string()));
                        }
                        None => rows.push(("redis usage", "unavailable".to_string())),
                    }
                }
                let rows: Vec<Vec<String>> = rows
                    .into_iter()
                    .map(|(name, value)| vec![name.to_string(), value])
                    .collect();
                table(w, &["COUNTER", "VALUE"], &rows)?;
                writeln!(
                    w,
                    "(hits, misses and invalidations are this command's own process)"
                )
            })?;
            match failure {
                None => Ok(Outcome::Done),
                Some(err) => {
                    // In JSON the document above already carries the error.
                    if !ctx.out.json {
                        ctx.out.error(&err);
                    }
                    Ok(Outcome::Partial)
                }
            }
        }
        CacheCommand::Flush => {
            let dw = ctx.open().await?;
            dw.cache().flush().await?;
            let report = Flushed {
                flushed: true,
                redis: dw.cache().stats().redis,
            };
            ctx.out.emit(&report, |w| {
                if report.redis {
                    writeln!(
                        w,
                        "cache flushed: Redis's cached entries removed, every instance told to empty its own"
                    )
                } else {
                    writeln!(
                        w,
                        "cache flushed; without Redis each process's cache is its own, so nothing shared was there to empty"
                    )
                }
            })?;
            Ok(Outcome::Done)
        }
    }
}
