//! Rates from counters: a process's CPU percentages and disk bytes per second, worked out from
//! two readings of its cumulative counters. Pure arithmetic, so every edge (a process born
//! between passes, a counter that went backwards, the first pass) is tested without /proc.

use crate::model::{CpuUsage, DiskIo};

/// Windows shorter than this give percentages that are mostly rounding noise: no rate at all
/// is more honest.
const SHORTEST_WINDOW_SECS: f64 = 0.01;

/// The cumulative counters of one process that its rates are differences of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessCounters {
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// Bytes read and written from storage; None when /proc/<pid>/io was unreadable.
    pub io: Option<(u64, u64)>,
}

/// The clock of one pass, shared by every process in it.
#[derive(Debug, Clone, Copy)]
pub struct PassClock {
    /// Seconds since the previous pass; None on the first.
    pub window_secs: Option<f64>,
    /// Seconds since boot at this pass.
    pub uptime_secs: f64,
    pub ticks_per_sec: f64,
    pub cpu_count: u32,
}

impl PassClock {
    /// The time a process's counters grew over: the whole window for one seen last pass, and
    /// for one born since then, the part of the window it was alive for, as all its CPU time
    /// falls inside it. None when no rate can be given.
    pub fn window_of(&self, start_ticks: u64, seen_last_pass: bool) -> Option<f64> {
        let window = self.window_secs?;
        let window = if seen_last_pass {
            window
        } else {
            let alive = self.uptime_secs - start_ticks as f64 / self.ticks_per_sec;
            window.min(alive)
        };
        (window > SHORTEST_WINDOW_SECS).then_some(window)
    }

    /// CPU use and disk I/O of a process from its counters now and at the last pass (None for
    /// one born since, whose counters started at zero). `io_now` is None when unreadable.
    pub fn rates(
        &self,
        start_ticks: u64,
        now: &ProcessCounters,
        previous: Option<&ProcessCounters>,
    ) -> (Option<CpuUsage>, Option<DiskIo>) {
        let window = self.window_of(start_ticks, previous.is_some());
        let base = previous.copied().unwrap_or(ProcessCounters {
            utime_ticks: 0,
            stime_ticks: 0,
            io: Some((0, 0)),
        });
        let cpu = window.map(|window| self.cpu_usage(now, &base, window));
        let disk = now.io.map(|(read, written)| {
            // A counter that went backwards (never, short of a kernel bug) gives zero, not a
            // huge rate from wrapping.
            let rate =
                |now: u64, then: Option<u64>| Some(now.saturating_sub(then?) as f64 / window?);
            DiskIo {
                read_bytes_per_sec: rate(read, base.io.map(|io| io.0)),
                write_bytes_per_sec: rate(written, base.io.map(|io| io.1)),
                read_bytes_total: read,
                write_bytes_total: written,
            }
        });
        (cpu, disk)
    }

    /// Percent of one CPU, capped at all of them: tick accounting can overshoot by a tick.
    fn cpu_usage(&self, now: &ProcessCounters, base: &ProcessCounters, window: f64) -> CpuUsage {
        let cap = f64::from(self.cpu_count) * 100.0;
        let pct = |now: u64, then: u64| {
            (now.saturating_sub(then) as f64 / self.ticks_per_sec / window * 100.0).min(cap)
        };
        let user_pct = pct(now.utime_ticks, base.utime_ticks);
        let system_pct = pct(now.stime_ticks, base.stime_ticks);
        CpuUsage {
            total_pct: (user_pct + system_pct).min(cap),
            user_pct,
            system_pct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two CPUs, 100 ticks a second, 2 s since the last pass, 1000 s since boot.
    fn clock() -> PassClock {
        PassClock {
            window_secs: Some(2.0),
            uptime_secs: 1000.0,
            ticks_per_sec: 100.0,
            cpu_count: 2,
        }
    }

    fn counters(utime_ticks: u64, stime_ticks: u64, io: Option<(u64, u64)>) -> ProcessCounters {
        ProcessCounters {
            utime_ticks,
            stime_ticks,
            io,
        }
    }

    #[test]
    fn a_process_seen_last_pass_is_measured_over_the_whole_window() {
        let then = counters(1000, 500, Some((4096, 0)));
        let now = counters(1100, 550, Some((4096 + 8192, 1000)));
        let (cpu, disk) = clock().rates(0, &now, Some(&then));
        let cpu = cpu.expect("a window");
        // 100 ticks = 1 s of CPU in 2 s: 50 %; 50 ticks: 25 %.
        assert_eq!(
            (cpu.user_pct, cpu.system_pct, cpu.total_pct),
            (50.0, 25.0, 75.0)
        );
        let disk = disk.expect("io read");
        assert_eq!(disk.read_bytes_per_sec, Some(4096.0));
        assert_eq!(disk.write_bytes_per_sec, Some(500.0));
        assert_eq!(
            (disk.read_bytes_total, disk.write_bytes_total),
            (12288, 1000)
        );
    }

    #[test]
    fn a_process_born_since_the_last_pass_is_measured_over_its_life() {
        // Started 0.5 s ago (99 950 ticks after boot), used 25 ticks = 0.25 s: 50 %, not the
        // 12.5 % the whole window would say.
        let now = counters(25, 0, Some((1000, 0)));
        let (cpu, disk) = clock().rates(99_950, &now, None);
        assert_eq!(cpu.map(|c| c.total_pct), Some(50.0));
        assert_eq!(disk.and_then(|d| d.read_bytes_per_sec), Some(2000.0));
    }

    #[test]
    fn the_first_pass_has_totals_but_no_rates() {
        let first = PassClock {
            window_secs: None,
            ..clock()
        };
        let (cpu, disk) = first.rates(0, &counters(10, 10, Some((5, 6))), None);
        assert_eq!(cpu, None);
        let disk = disk.expect("io read");
        assert_eq!(
            (disk.read_bytes_per_sec, disk.write_bytes_per_sec),
            (None, None)
        );
        assert_eq!((disk.read_bytes_total, disk.write_bytes_total), (5, 6));
    }

    #[test]
    fn too_short_a_window_gives_no_rate() {
        // Born 5 ms before this pass.
        let (cpu, disk) = clock().rates(99_999, &counters(1, 0, Some((10, 0))), None);
        assert_eq!(cpu, None);
        assert_eq!(disk.and_then(|d| d.read_bytes_per_sec), None);
        let tiny = PassClock {
            window_secs: Some(0.005),
            ..clock()
        };
        assert_eq!(tiny.window_of(0, true), None);
    }

    #[test]
    fn cpu_is_capped_at_every_cpu_busy() {
        // 1000 ticks in 2 s on two CPUs would be 500 %.
        let (cpu, _) = clock().rates(0, &counters(1000, 1000, None), Some(&counters(0, 0, None)));
        let cpu = cpu.expect("a window");
        assert_eq!(
            (cpu.user_pct, cpu.system_pct, cpu.total_pct),
            (200.0, 200.0, 200.0)
        );
    }

    #[test]
    fn counters_that_go_backwards_give_zero() {
        let then = counters(500, 500, Some((100, 100)));
        let (cpu, disk) = clock().rates(0, &counters(400, 400, Some((50, 50))), Some(&then));
        assert_eq!(cpu.map(|c| c.total_pct), Some(0.0));
        assert_eq!(disk.and_then(|d| d.write_bytes_per_sec), Some(0.0));
    }

    #[test]
    fn io_unreadable_now_or_then() {
        let (_, disk) = clock().rates(0, &counters(0, 0, None), Some(&counters(0, 0, None)));
        assert_eq!(disk, None, "unreadable now: no disk figures at all");
        let (_, disk) = clock().rates(
            0,
            &counters(0, 0, Some((7, 8))),
            Some(&counters(0, 0, None)),
        );
        let disk = disk.expect("readable now");
        assert_eq!(
            disk.read_bytes_per_sec, None,
            "unreadable then: totals only"
        );
        assert_eq!(disk.read_bytes_total, 7);
    }
}
