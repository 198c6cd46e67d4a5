//! Retention: the outbox is a queue, not a history. Every login adds an
//! event, so an outbox that kept them all would grow without end; the
//! audit log is the lasting record. An event goes once every consumer has
//! passed it and `events_retention_secs` have gone by since it happened,
//! unless a webhook delivery of it is still pending or dead (a dead one
//! can be replayed). Delivered deliveries go with their event.
//!
//! Which consumers count: the built-in ones always (an event they have not
//! read is never removed, even before their first run); a durable
//! subscriber while it has run somewhere within the retention period, or
//! the longest retry wait if that is longer (as Kafka expires an idle
//! group's offsets, so a subscriber retired for good does not pin the
//! outbox forever); and this process's own subscribers. The newest event
//! always stays, so the outbox's last `seq`, where a new subscriber starts
//! and the backlog gauge counts from, is never lost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::dispatch;
use crate::core::Core;
use crate::error::Result;
use crate::store::now;

/// Events deleted per transaction: a long backlog is pruned in short
/// write transactions that let the host's writes in between.
const BATCH: u32 = 500;

/// Batches one pass deletes at most.
const MAX_BATCHES: u32 = 20;

/// The longest time between two prunes of one instance.
const EVERY: Duration = Duration::from_secs(600);

/// The consumers every dispatcher runs.
const BUILT_IN: &[&str] = &[
    dispatch::AUDIT,
    #[cfg(feature = "webhooks")]
    dispatch::WEBHOOKS,
];

/// Prune if retention is on and this instance has not pruned for a while
/// (at most every ten minutes, or every retention period if shorter).
/// `last` is the newest `seq`. One call deletes at most `MAX_BATCHES`
/// batches, so a long backlog (the first start after a large import, say)
/// is worked off over several passes instead of holding up delivery.
pub(crate) async fn prune_if_due(core: &Arc<Core>, last: u64) -> Result<u64> {
    let config = &core.config;
    let retention = config.events_retention_secs;
    let at = now();
    let before = if retention == 0 {
        None
    } else {
        ago(at, retention)
    };
    let Some(before) = before else {
        return Ok(0);
    };
    {
        let pruned_at = core.hub.pruned_at.lock().unwrap_or_else(|e| e.into_inner());
        let every = EVERY.min(Duration::from_secs(retention));
        if pruned_at.is_some_and(|at| at.elapsed() < every) {
            return Ok(0);
        }
    }
    // A subscriber that fails waits up to `events_retry_max_secs` between
    // tries and renews its lease only then: never idle before that.
    let retrying = config
        .events_retry_max_secs
        .saturating_add(config.events_lease_secs);
    let idle_since = ago(at, retention.max(retrying)).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let Some(through) = passed_by_all(core, idle_since).await? else {
        set_pruned_at(core, Some(Instant::now()));
        return Ok(0);
    };
    let through = through.min(last.saturating_sub(1));
    let mut removed = 0;
    let mut more = false;
    for _ in 0..MAX_BATCHES {
        let n = core.store.prune_events(through, before, BATCH).await?;
        removed += n;
        more = n == u64::from(BATCH);
        if !more {
            break;
        }
    }
    // Flows a day past their lifetime: still there to answer
    // `flow_expired` rather than `flow_invalid` for a while.
    if let Some(cutoff) = ago(at, 24 * 3600) {
        let n = core.store.prune_flows(cutoff).await?;
        if n > 0 {
            tracing::debug!(removed = n, "pruned expired account flows");
        }
    }
    // With more to do, the next pass goes on at once.
    set_pruned_at(core, (!more).then(Instant::now));
    if removed > 0 {
        core.metrics
            .add("doorward_events_pruned_total", &[], removed);
        tracing::debug!(removed, through, "pruned the outbox");
    }
    Ok(removed)
}

fn set_pruned_at(core: &Core, at: Option<Instant>) {
    *core.hub.pruned_at.lock().unwrap_or_else(|e| e.into_inner()) = at;
}

/// `secs` before `at`; `None` past the earliest time there is.
fn ago(at: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let delta = chrono::TimeDelta::try_seconds(i64::try_from(secs).ok()?)?;
    at.checked_sub_signed(delta)
}

/// The newest `seq` every counted consumer has passed; `None` while a
/// built-in consumer has never run. Durable subscribers of other processes
/// whose last lease ended before `idle_since` no longer count.
async fn passed_by_all(core: &Core, idle_since: DateTime<Utc>) -> Result<Option<u64>> {
    let stored = core.store.consumers().await?;
    let mut through = u64::MAX;
    for name in BUILT_IN {
        match stored.iter().find(|c| c.name == *name) {
            Some(c) => through = through.min(c.position),
            None => return Ok(None),
        }
    }
    let here = core.hub.subscriber_positions();
    for c in &stored {
        let subscribed_here = here.iter().any(|(n, _)| n.as_ref() == Some(&c.name));
        if !BUILT_IN.contains(&c.name.as_str()) && (subscribed_here || c.leased_until >= idle_since)
        {
            through = through.min(c.position);
        }
    }
    for (name, position) in here {
        // A durable subscriber's stored position is the one that counts,
        // unless it has not run yet and has none.
        if !name.is_some_and(|n| stored.iter().any(|c| c.name == n)) {
            through = through.min(position);
        }
    }
    Ok(Some(through))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_past_the_earliest_time_means_nothing_is_old_enough() {
        let at = now();
        assert_eq!(ago(at, 60), Some(at - chrono::TimeDelta::seconds(60)));
        assert_eq!(ago(at, 10_000_000_000_000), None);
        assert_eq!(ago(at, u64::MAX), None);
    }
}
