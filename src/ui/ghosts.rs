//! Processes that have exited, kept in the table (greyed, marked) for a while after the
//! snapshot that no longer listed them: `ui.exited_linger`, or until the next refresh when that
//! is 0.
//!
//! Time is the snapshots' own (`host.taken_at_ms`), not a clock read here: a ghost is dropped by
//! the first snapshot taken at least the linger after the one it vanished from, so the rule is
//! pure, tests inject time through the snapshots they feed, and a paused explorer keeps its
//! ghosts as it keeps everything else. A wall clock set back cannot keep a ghost past the linger
//! (its time of going is pulled back with it).
//!
//! Bounded: an exec storm lists thousands of short processes in one snapshot and none in the
//! next; at most [`MAX_GHOSTS`] are kept, the longest gone dropped first.

use std::collections::HashSet;
use std::time::Duration;

use crate::model::{Process, Snapshot};

use super::state::ProcessId;

/// The most exited processes kept at once.
pub const MAX_GHOSTS: usize = 2_000;

/// The exited processes still listed, oldest first.
#[derive(Debug, Clone)]
pub struct Ghosts {
    linger_ms: u64,
    /// The processes, in the order they went (oldest first) ...
    processes: Vec<Process>,
    /// ... and, at the same index, when each was found gone (the `taken_at_ms` of the first
    /// snapshot without it).
    gone_at_ms: Vec<u64>,
}

impl Ghosts {
    pub fn new(linger: Duration) -> Ghosts {
        Ghosts {
            linger_ms: u64::try_from(linger.as_millis()).unwrap_or(u64::MAX),
            processes: Vec::new(),
            gone_at_ms: Vec::new(),
        }
    }

    /// The exited processes listed, oldest first.
    pub fn processes(&self) -> &[Process] {
        &self.processes
    }

    /// Moves on to `current`: drops the ghosts whose time is up (or that are listed again),
    /// then adds the processes of `previous` that `current` no longer lists, then keeps the
    /// newest [`MAX_GHOSTS`]. `live` holds the identities of `current`'s processes.
    pub fn advance(&mut self, previous: &Snapshot, current: &Snapshot, live: &HashSet<ProcessId>) {
        let now = current.host.taken_at_ms;
        let linger = self.linger_ms;
        let mut kept = 0;
        for i in 0..self.processes.len() {
            let gone_at = self.gone_at_ms[i].min(now);
            let expired = now - gone_at >= linger;
            if !expired && !live.contains(&ProcessId::of(&self.processes[i])) {
                self.processes.swap(kept, i);
                self.gone_at_ms[kept] = gone_at;
                kept += 1;
            }
        }
        self.processes.truncate(kept);
        self.gone_at_ms.truncate(kept);
        for process in &previous.processes {
            if !live.contains(&ProcessId::of(process)) {
                self.processes.push(process.clone());
                self.gone_at_ms.push(now);
            }
        }
        let excess = self.processes.len().saturating_sub(MAX_GHOSTS);
        if excess > 0 {
            self.processes.drain(..excess);
            self.gone_at_ms.drain(..excess);
        }
    }

    /// The ghost that is `id`, if it is listed.
    pub fn find(&self, id: ProcessId) -> Option<&Process> {
        self.processes.iter().find(|p| ProcessId::of(p) == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000;

    fn snapshot(at_ms: u64, pids: &[u32]) -> Snapshot {
        let mut s = Snapshot::example(
            pids.iter()
                .map(|&pid| Process::example(pid, "app"))
                .collect(),
        );
        s.host.taken_at_ms = at_ms;
        s
    }

    /// Feeds `snapshots` in turn; returns the ghosts' pids after each.
    fn run(linger: Duration, snapshots: &[Snapshot]) -> Vec<Vec<u32>> {
        let mut ghosts = Ghosts::new(linger);
        let mut out = Vec::new();
        for pair in snapshots.windows(2) {
            let live = pair[1].processes.iter().map(ProcessId::of).collect();
            ghosts.advance(&pair[0], &pair[1], &live);
            out.push(ghosts.processes().iter().map(|p| p.pid).collect());
        }
        out
    }

    #[test]
    fn a_ghost_stays_until_the_first_snapshot_a_linger_after_it_went() {
        let t0 = 1_700_000_000_000;
        let snapshots = [
            snapshot(t0, &[1, 2]),
            snapshot(t0 + 2 * SECOND, &[1]),
            snapshot(t0 + 4 * SECOND, &[1]),
            snapshot(t0 + 6 * SECOND, &[1]),
            snapshot(t0 + 7 * SECOND, &[1]),
            snapshot(t0 + 8 * SECOND, &[1]),
        ];
        let seen = run(Duration::from_secs(5), &snapshots);
        // Gone at t0+2s: kept at +4s, +6s (4 s on), dropped at +7s (5 s on).
        assert_eq!(seen, [vec![2], vec![2], vec![2], vec![], vec![]]);
    }

    #[test]
    fn zero_keeps_a_ghost_for_one_refresh() {
        let t0 = 1_700_000_000_000;
        let snapshots = [
            snapshot(t0, &[1, 2, 3]),
            snapshot(t0 + SECOND, &[1, 3]),
            snapshot(t0 + 2 * SECOND, &[1]),
            snapshot(t0 + 3 * SECOND, &[1]),
        ];
        let seen = run(Duration::ZERO, &snapshots);
        assert_eq!(seen, [vec![2], vec![3], vec![]]);
    }

    #[test]
    fn the_oldest_ghosts_go_first_past_the_cap() {
        let t0 = 1_700_000_000_000;
        let storm: Vec<u32> = (1_000..1_000 + MAX_GHOSTS as u32 + 500).collect();
        let mut before = storm.clone();
        before.push(1);
        let snapshots = [
            snapshot(t0, &[1, 2]),
            snapshot(t0 + SECOND, &before),
            snapshot(t0 + 2 * SECOND, &[1]),
        ];
        let seen = run(Duration::from_secs(60), &snapshots);
        assert_eq!(seen[0], vec![2]);
        let last = &seen[1];
        assert_eq!(last.len(), MAX_GHOSTS);
        assert!(!last.contains(&2), "the longest gone was dropped first");
        assert_eq!(last.first(), Some(&1_500), "then the first of the storm");
        assert_eq!(last.last(), storm.last());
    }

    #[test]
    fn a_ghost_listed_again_is_not_kept_twice() {
        let t0 = 1_700_000_000_000;
        let snapshots = [
            snapshot(t0, &[1, 2]),
            snapshot(t0 + SECOND, &[1]),
            snapshot(t0 + 2 * SECOND, &[1, 2]),
        ];
        let seen = run(Duration::from_secs(60), &snapshots);
        assert_eq!(seen, [vec![2], vec![]]);
    }

    #[test]
    fn a_clock_set_back_does_not_keep_a_ghost_past_its_linger() {
        let t0 = 1_700_000_000_000;
        let snapshots = [
            snapshot(t0, &[1, 2]),
            snapshot(t0 + SECOND, &[1]),
            // The wall clock jumps back an hour.
            snapshot(t0 + SECOND - 3_600 * SECOND, &[1]),
            snapshot(t0 + 6 * SECOND - 3_600 * SECOND, &[1]),
        ];
        let seen = run(Duration::from_secs(5), &snapshots);
        assert_eq!(seen, [vec![2], vec![2], vec![]]);
    }
}
