//! A counter bumped on the hot paths (`can`, a verified token) by every
//! thread at once. `AtomicU64::fetch_add` on one shared counter is a locked
//! instruction: a full fence, which stops the next call's loads from
//! starting early, and a cache line that moves between cores. Each thread
//! here adds to a cell of its own with a plain load and store, and a read
//! sums the cells; a cell outlives its thread (the next thread given the
//! same id continues it), so nothing counted is lost.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use thread_local::ThreadLocal;

#[derive(Default)]
pub(crate) struct Tally(ThreadLocal<AtomicU64>);

impl Tally {
    /// Count one.
    #[inline]
    pub(crate) fn bump(&self) {
        let cell = self.0.get_or_default();
        // Only this thread writes the cell: no read-modify-write needed.
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// The count over every thread; bumps running meanwhile may be missed.
    pub(crate) fn total(&self) -> u64 {
        self.0.iter().fold(0, |sum, cell| {
            sum.wrapping_add(cell.load(Ordering::Relaxed))
        })
    }
}

impl fmt::Debug for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_thread_and_survives_their_exit() {
        let tally = Tally::default();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| (0..1_000).for_each(|_| tally.bump()));
            }
        });
        assert_eq!(tally.total(), 8_000);
        // New threads reuse the ids of the ones gone and continue their cells.
        std::thread::scope(|s| {
            s.spawn(|| tally.bump());
        });
        tally.bump();
        assert_eq!(tally.total(), 8_002);
        assert_eq!(format!("{tally:?}"), "8002");
    }
}
