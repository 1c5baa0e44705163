//! Host-wide readings: /proc/stat, /proc/meminfo, /proc/loadavg, /proc/uptime, identity.

use procfs::{Current, CurrentSI, KernelStats, LoadAverage as ProcLoad, Meminfo, Uptime};

use crate::model::{HostCpu, LoadAverage, Memory};
use crate::sample::SampleError;

/// Cumulative CPU counters of all CPUs, in clock ticks, kept between samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuCounters {
    user: u64,
    system: u64,
    iowait: u64,
    idle: u64,
    steal: u64,
}

impl CpuCounters {
    fn total(&self) -> u64 {
        self.user + self.system + self.iowait + self.idle + self.steal
    }

    /// The split of the time between `earlier` and `self`, in percent.
    pub fn split_since(&self, earlier: &CpuCounters) -> Option<HostCpu> {
        let total = self.total().checked_sub(earlier.total())?;
        if total == 0 {
            return None;
        }
        let pct = |now: u64, then: u64| now.saturating_sub(then) as f64 * 100.0 / total as f64;
        Some(HostCpu {
            user_pct: pct(self.user, earlier.user),
            system_pct: pct(self.system, earlier.system),
            iowait_pct: pct(self.iowait, earlier.iowait),
            idle_pct: pct(self.idle, earlier.idle),
            steal_pct: pct(self.steal, earlier.steal),
        })
    }
}

/// Each core's split between `earlier` and `now`, core by core in /proc/stat's order. Empty
/// when there is no earlier reading, the set of cores changed (a CPU went on- or offline), or a
/// core's counters did not advance: a partial list would put meters against the wrong cores.
pub fn core_splits(now: &[CpuCounters], earlier: &[CpuCounters]) -> Vec<HostCpu> {
    if now.len() != earlier.len() {
        return Vec::new();
    }
    now.iter()
        .zip(earlier)
        .map(|(now, earlier)| now.split_since(earlier))
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default()
}

/// One reading of the host-wide files.
pub struct HostReading {
    pub hostname: String,
    pub kernel: String,
    pub boot_time_secs: u64,
    /// Seconds since boot, on the clock process start times are measured against.
    pub uptime_secs: f64,
    pub cpu_count: u32,
    pub cpu: CpuCounters,
    /// The same counters for each online core (the `cpuN` lines).
    pub cores: Vec<CpuCounters>,
    pub load_average: LoadAverage,
    pub memory: Memory,
}

fn host_error(what: &'static str) -> impl FnOnce(procfs::ProcError) -> SampleError {
    move |source| SampleError::Host {
        what,
        reason: source.to_string(),
    }
}

fn read_trimmed(path: &'static str) -> Result<String, SampleError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| SampleError::Host {
            what: path,
            reason: e.to_string(),
        })
}

/// Reads the host-wide files. These are world-readable on every Linux we support, so a failure
/// here means /proc is missing or broken, and the whole sample fails.
pub fn read_host() -> Result<HostReading, SampleError> {
    let stats = KernelStats::current().map_err(host_error("/proc/stat"))?;
    let meminfo = Meminfo::current().map_err(host_error("/proc/meminfo"))?;
    let load = ProcLoad::current().map_err(host_error("/proc/loadavg"))?;
    let uptime = Uptime::current().map_err(host_error("/proc/uptime"))?;

    let cpu = counters_of(&stats.total);
    let cores = stats.cpu_time.iter().map(counters_of).collect();
    let available = meminfo.mem_available.unwrap_or(meminfo.mem_free);
    let memory = Memory {
        total_bytes: meminfo.mem_total,
        used_bytes: meminfo.mem_total.saturating_sub(available),
        available_bytes: available,
        swap_total_bytes: meminfo.swap_total,
        swap_used_bytes: meminfo.swap_total.saturating_sub(meminfo.swap_free),
    };
    Ok(HostReading {
        hostname: read_trimmed("/proc/sys/kernel/hostname")?,
        kernel: read_trimmed("/proc/sys/kernel/osrelease")?,
        boot_time_secs: stats.btime,
        uptime_secs: uptime.uptime,
        cpu_count: u32::try_from(stats.cpu_time.len())
            .unwrap_or(u32::MAX)
            .max(1),
        cpu,
        cores,
        // The kernel prints two decimals; widening the f32 would add digits it never had.
        load_average: LoadAverage {
            one: two_decimals(load.one),
            five: two_decimals(load.five),
            fifteen: two_decimals(load.fifteen),
        },
        memory,
    })
}

/// Folds the kernel's ten modes into the five the snapshot reports.
fn counters_of(t: &procfs::CpuTime) -> CpuCounters {
    CpuCounters {
        user: t.user + t.nice,
        system: t.system + t.irq.unwrap_or(0) + t.softirq.unwrap_or(0),
        iowait: t.iowait.unwrap_or(0),
        idle: t.idle,
        steal: t.steal.unwrap_or(0),
    }
}

fn two_decimals(value: f32) -> f64 {
    (f64::from(value) * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(user: u64, system: u64, idle: u64) -> CpuCounters {
        CpuCounters {
            user,
            system,
            iowait: 0,
            idle,
            steal: 0,
        }
    }

    #[test]
    fn each_core_gets_its_own_split() {
        let earlier = [counters(100, 50, 1000), counters(10, 10, 1000)];
        let now = [counters(175, 75, 1000), counters(10, 20, 1090)];
        let splits = core_splits(&now, &earlier);
        assert_eq!(splits.len(), 2);
        assert_eq!((splits[0].user_pct, splits[0].system_pct), (75.0, 25.0));
        assert_eq!((splits[1].system_pct, splits[1].idle_pct), (10.0, 90.0));
    }

    #[test]
    fn a_changed_set_of_cores_or_a_stalled_core_gives_no_splits() {
        let earlier = [counters(100, 50, 1000), counters(10, 10, 1000)];
        assert!(
            core_splits(&earlier[..1], &earlier).is_empty(),
            "a core went offline"
        );
        assert!(core_splits(&earlier, &[]).is_empty(), "first reading");
        let stalled = [counters(200, 50, 1000), earlier[1]];
        assert!(core_splits(&stalled, &earlier).is_empty());
    }
}
