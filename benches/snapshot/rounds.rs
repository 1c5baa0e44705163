//! The measured rounds at one scale: every measurement once a round, so that noise from
//! anything else on the machine (other builds) lands on all of them alike instead of on
//! whichever ran last.
//!
//! A round, in order:
//! 1. `ss -tanp`, `ss -tanpi` and `ps` as subprocesses;
//! 2. the floor and the kernel's share: a pread of every process's stat, a read of
//!    /proc/net/tcp, the sock_diag dump without and with tcp_info;
//! 3. a fresh sampler's first snapshot (its full /proc/*/fd scan);
//! 4. one unmeasured tick of each steady sampler, then a pause until wiretop's interval has
//!    passed since, then the measured ticks in the same order. A tick pays for what changed
//!    since the last one (details falling due for their refresh, processes whose fds changed),
//!    so its predecessor is one interval back, as in wiretop, however long the round's other
//!    measurements took (seconds at 50,000 sockets).
//!
//! Descriptors: a sampler holds four /proc files for each of up to 8,192 processes, and one
//! process may have no more than its hard RLIMIT_NOFILE open. So only the two samplers whose
//! difference is the point (with and without the traffic figures) live through all rounds; the
//! processes-only sampler is started each round for step 4 (its first pass is its unmeasured
//! tick), the fresh one for step 3, and the floor's stat files are open for step 2 only. At most
//! three samplers' files are open at a time; all of them are in this process, so none of them
//! is in another sampler's ownership scan (a sampler skips its own process's /proc files).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use wiretop::model::{CollectionPhases, Snapshot};
use wiretop::sample::{Sampler, SamplerSettings};

use crate::cost::{measure_command, measure_here, Series};
use crate::floor;

const SS_ARGS: &[&str] = &["ss", "-tanp"];
/// What an on-call engineer runs for the traffic figures wiretop now reads: `ss` with tcp_info.
const SS_INFO_ARGS: &[&str] = &["ss", "-tanpi"];
const PS_ARGS: &[&str] = &["ps", "-eo", "pid,user,pcpu,rss,args"];

/// Everything gathered over the measured rounds.
#[derive(Default)]
pub(crate) struct Results {
    pub(crate) first: Series,
    pub(crate) steady: Series,
    /// The steady tick with `collect_traffic: false`: what the traffic figures cost.
    pub(crate) steady_no_traffic: Series,
    /// The steady tick with `collect_connections: false`: the process part alone.
    pub(crate) processes_only: Series,
    pub(crate) raw_tcp_table: Series,
    /// A pread of every process's held-open /proc/<pid>/stat: the least a tick that reads
    /// every process can cost.
    pub(crate) stat_preads: Series,
    /// Processes the preads read, fewest over the rounds.
    pub(crate) stat_files_read: usize,
    /// The sock_diag dump of every TCP socket (parsed), without and with tcp_info.
    pub(crate) raw_dump: Series,
    pub(crate) raw_dump_info: Series,
    pub(crate) ss: Series,
    pub(crate) ss_info: Series,
    pub(crate) ps: Series,
    /// The sampler's own `collection.duration_ms`, to cross-check our wall times.
    pub(crate) first_reported_ms: Vec<f64>,
    pub(crate) steady_reported_ms: Vec<f64>,
    /// The sampler's own per-phase split of each snapshot.
    pub(crate) first_phases: Vec<CollectionPhases>,
    pub(crate) steady_phases: Vec<CollectionPhases>,
    pub(crate) steady_no_traffic_phases: Vec<CollectionPhases>,
    /// First snapshots not flagged as a full scan (should be 0).
    pub(crate) first_without_full_scan: usize,
    /// Steady ticks (measured or not) that made a full scan: the sampler makes one a minute.
    pub(crate) steady_full_scans: usize,
    /// ...of which measured.
    pub(crate) measured_full_scans: usize,
    pub(crate) warnings: BTreeSet<String>,
}

impl Results {
    fn note(&mut self, snapshot: &Snapshot) {
        self.warnings
            .extend(snapshot.collection.warnings.iter().cloned());
    }

    /// The floor (stat preads + the dump with tcp_info), CPU medians in ms.
    pub(crate) fn floor_cpu_ms(&self) -> f64 {
        floor::tick_cpu_ms(&self.stat_preads, &self.raw_dump_info)
    }

    /// The floor's wall time, medians in ms.
    pub(crate) fn floor_wall_ms(&self) -> f64 {
        self.stat_preads.median_wall() + self.raw_dump_info.median_wall()
    }
}

/// The two steady samplers that live through all rounds.
struct Steady<'a> {
    /// Default settings; warmed up by the caller, who checks its first snapshot.
    with_traffic: &'a mut Sampler,
    without_traffic: Sampler,
}

/// Measures `runs` rounds; returns the results and the last steady snapshot (for the checks).
pub(crate) fn measure(runs: usize, steady: &mut Sampler) -> Result<(Results, Snapshot)> {
    let mut results = Results {
        stat_files_read: usize::MAX,
        ..Results::default()
    };
    let mut without_traffic = Sampler::new(SamplerSettings {
        collect_traffic: false,
        ..SamplerSettings::default()
    });
    without_traffic.prime()?;
    without_traffic.sample()?;
    let mut samplers = Steady {
        with_traffic: steady,
        without_traffic,
    };
    let mut last_steady = None;
    for round in 1..=runs {
        eprint!("\r  round {round}/{runs}");
        measure_commands(&mut results)?;
        measure_floor(&mut results)?;
        measure_first(&mut results)?;
        // The ticks with and without traffic take turns going first: whichever comes first
        // after the pause finds the caches and the allocator in another state, which would
        // otherwise count as a cost of the traffic figures (or of their absence).
        let traffic_first = round % 2 == 1;
        last_steady = Some(measure_ticks(&mut samplers, traffic_first, &mut results)?);
    }
    eprintln!();
    let last_steady = last_steady.context("no rounds ran")?;
    Ok((results, last_steady))
}

fn measure_commands(results: &mut Results) -> Result<()> {
    results.ss.push(measure_command(SS_ARGS)?);
    results.ss_info.push(measure_command(SS_INFO_ARGS)?);
    results.ps.push(measure_command(PS_ARGS)?);
    Ok(())
}

fn measure_floor(results: &mut Results) -> Result<()> {
    let (cost, read) = floor::stat_preads();
    results.stat_preads.push(cost);
    results.stat_files_read = results.stat_files_read.min(read);
    let (table, cost) = measure_here(|| std::fs::read("/proc/net/tcp"));
    table.context("reading /proc/net/tcp")?;
    results.raw_tcp_table.push(cost);
    results.raw_dump.push(floor::dump(false)?);
    results.raw_dump_info.push(floor::dump(true)?);
    Ok(())
}

/// A fresh sampler's first snapshot: its full ownership scan.
fn measure_first(results: &mut Results) -> Result<()> {
    let mut fresh = Sampler::new(SamplerSettings::default());
    fresh.prime()?;
    let (snapshot, cost) = measure_here(|| fresh.sample());
    let snapshot = snapshot?;
    results.first.push(cost);
    results
        .first_reported_ms
        .push(snapshot.collection.duration_ms);
    results.first_phases.push(snapshot.collection.phases);
    results.first_without_full_scan += usize::from(!snapshot.collection.full_ownership_scan);
    results.note(&snapshot);
    Ok(())
}

/// Which sampler a tick is taken with.
#[derive(Clone, Copy, PartialEq)]
enum Tick {
    WithTraffic,
    WithoutTraffic,
    ProcessesOnly,
}

impl Tick {
    fn sampler<'s>(
        self,
        steady: &'s mut Steady<'_>,
        processes_only: &'s mut Sampler,
    ) -> &'s mut Sampler {
        match self {
            Tick::WithTraffic => &mut *steady.with_traffic,
            Tick::WithoutTraffic => &mut steady.without_traffic,
            Tick::ProcessesOnly => processes_only,
        }
    }
}

/// One unmeasured tick of each sampler, a pause of wiretop's interval, then the measured ticks
/// in the same order. Returns the measured snapshot of the default sampler.
fn measure_ticks(
    samplers: &mut Steady<'_>,
    traffic_first: bool,
    results: &mut Results,
) -> Result<Snapshot> {
    let order = if traffic_first {
        [Tick::WithTraffic, Tick::WithoutTraffic, Tick::ProcessesOnly]
    } else {
        [Tick::WithoutTraffic, Tick::WithTraffic, Tick::ProcessesOnly]
    };
    let mut processes_only = Sampler::new(SamplerSettings {
        collect_connections: false,
        ..SamplerSettings::default()
    });
    processes_only.prime()?;

    let prepared = Instant::now();
    for tick in order {
        let sampler = tick.sampler(samplers, &mut processes_only);
        let snapshot = sampler.sample()?;
        if tick == Tick::WithTraffic {
            results.steady_full_scans += usize::from(snapshot.collection.full_ownership_scan);
        }
        results.note(&snapshot);
    }
    std::thread::sleep(interval().saturating_sub(prepared.elapsed()));

    let mut last_steady = None;
    for tick in order {
        let sampler = tick.sampler(samplers, &mut processes_only);
        let (snapshot, cost) = measure_here(|| sampler.sample());
        let snapshot = snapshot?;
        results.note(&snapshot);
        match tick {
            Tick::WithTraffic => {
                results.steady.push(cost);
                results
                    .steady_reported_ms
                    .push(snapshot.collection.duration_ms);
                results.steady_phases.push(snapshot.collection.phases);
                let full = usize::from(snapshot.collection.full_ownership_scan);
                results.steady_full_scans += full;
                results.measured_full_scans += full;
                last_steady = Some(snapshot);
            }
            Tick::WithoutTraffic => {
                results.steady_no_traffic.push(cost);
                results
                    .steady_no_traffic_phases
                    .push(snapshot.collection.phases);
            }
            Tick::ProcessesOnly => results.processes_only.push(cost),
        }
    }
    last_steady.context("the default sampler took no measured tick")
}

/// wiretop's default interval: the time between a measured tick and the one before it.
pub(crate) fn interval() -> Duration {
    SamplerSettings::default().interval
}
