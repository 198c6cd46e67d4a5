//! GCRA state in this process: one TAT per key in a bounded moka cache,
//! each entry expiring when its key is back to a full burst (an absent key
//! and a fully reset one decide alike, so eviction never loosens a limit
//! that is still in force).

use std::time::{Duration, Instant};

use moka::sync::Cache;

use super::{Quota, Verdict, gcra};

#[derive(Debug, Clone, Copy)]
struct Cell {
    tat: i64,
    ttl: Duration,
}

struct UntilReset;

impl moka::Expiry<String, Cell> for UntilReset {
    fn expire_after_create(&self, _: &String, cell: &Cell, _: Instant) -> Option<Duration> {
        Some(cell.ttl)
    }

    fn expire_after_update(
        &self,
        _: &String,
        cell: &Cell,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(cell.ttl)
    }
}

/// In-process limiter; also the fallback while Redis is unreachable.
#[derive(Clone)]
pub(crate) struct MemoryLimiter {
    cells: Cache<String, Cell>,
}

impl std::fmt::Debug for MemoryLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryLimiter")
            .field("keys", &self.cells.entry_count())
            .finish()
    }
}

impl MemoryLimiter {
    pub(crate) fn new(max_keys: u64) -> Self {
        MemoryLimiter {
            cells: Cache::builder()
                .max_capacity(max_keys)
                .expire_after(UntilReset)
                .build(),
        }
    }

    /// One atomic GCRA step for `key`.
    pub(crate) fn check(&self, key: &str, quota: &Quota) -> Verdict {
        let now = crate::store::now().timestamp_micros();
        let mut verdict = Verdict::Deny { retry_after: 0 };
        self.cells.entry_by_ref(key).and_compute_with(|current| {
            verdict = gcra(now, current.map(|e| e.into_value().tat), quota);
            match verdict {
                Verdict::Allow { tat, ttl, .. } => moka::ops::compute::Op::Put(Cell {
                    tat,
                    ttl: Duration::from_micros(ttl.max(1) as u64),
                }),
                Verdict::Deny { .. } => moka::ops::compute::Op::Nop,
            }
        });
        verdict
    }

    // Used once throttling is wired into login (issue 3).
    #[allow(dead_code)]
    pub(crate) fn clear(&self) {
        self.cells.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_one_count_across_threads() {
        let limiter = MemoryLimiter::new(1000);
        let quota = Quota::new(100, Duration::from_secs(3600)).unwrap();
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        (0..50)
                            .filter(|_| matches!(limiter.check("k", &quota), Verdict::Allow { .. }))
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 100);
    }
}
