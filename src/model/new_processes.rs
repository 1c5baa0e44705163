//! Which processes are new: those that started after a reference time (when a baseline was
//! saved, or the first reading of a one-shot snapshot).
//!
//! Process start times (`start_time_ms`) are the kernel's boot time, in whole seconds, plus the
//! start in clock ticks since boot. A reference taken from the wall clock would sit up to a
//! second apart from that scale, so a process started just after it could count as older. The
//! references here are taken on the same scale instead: the snapshot's boot time plus its
//! uptime, both read in the same pass as the start times. Within one boot the comparison is
//! then exact to a clock tick (10 ms), whatever the wall clock says.

use super::Snapshot;

impl Snapshot {
    /// When this snapshot was taken, in ms since the epoch, on the scale process start times
    /// are counted on (see the module documentation). Within a second of `host.taken_at_ms`.
    pub fn start_clock_ms(&self) -> u64 {
        let uptime_ms = (self.host.uptime_secs.max(0.0) * 1000.0).round() as u64;
        self.host.boot_time_ms.saturating_add(uptime_ms)
    }

    /// When the first of the two readings behind this snapshot was taken, on the same scale:
    /// `host.interval_ms` before it (250 ms for `wiretop snapshot`; for the explorer's first
    /// snapshot, when it launched).
    pub fn first_reading_ms(&self) -> u64 {
        self.start_clock_ms().saturating_sub(self.host.interval_ms)
    }

    /// Sets `new` on every process according to whether it started after `since_ms` (a time
    /// from [`Self::start_clock_ms`] or [`Self::first_reading_ms`], or a baseline's `saved_at`).
    pub fn mark_new_since(&mut self, since_ms: u64) {
        for process in &mut self.processes {
            process.new = process.start_time_ms > since_ms;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Process, Snapshot};

    #[test]
    fn a_process_is_new_when_it_started_after_the_reference_not_at_it() {
        let mut snapshot = Snapshot::example(vec![
            Process::example(1, "root"),
            Process::example(2, "root"),
            Process::example(3, "root"),
        ]);
        let first = snapshot.first_reading_ms();
        assert_eq!(
            snapshot.start_clock_ms() - first,
            snapshot.host.interval_ms,
            "the first reading is one interval before the snapshot"
        );
        let starts = [first - 10, first, first + 10];
        for (process, start) in snapshot.processes.iter_mut().zip(starts) {
            process.start_time_ms = start;
        }
        snapshot.mark_new_since(first);
        let new: Vec<bool> = snapshot.processes.iter().map(|p| p.new).collect();
        assert_eq!(new, [false, false, true]);
        // Marking again against a later reference clears what no longer holds.
        snapshot.mark_new_since(first + 10);
        assert!(snapshot.processes.iter().all(|p| !p.new));
    }

    #[test]
    fn the_start_clock_is_boot_time_plus_uptime() {
        let mut snapshot = Snapshot::example(Vec::new());
        snapshot.host.boot_time_ms = 1_700_000_000_000;
        snapshot.host.uptime_secs = 12.345;
        assert_eq!(snapshot.start_clock_ms(), 1_700_000_012_345);
    }
}
