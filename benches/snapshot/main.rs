//! What one snapshot costs on a busy host, next to the tools people would otherwise run, at two
//! sizes of host in one run, and how each cost grows from one to the other.
//!
//! `cargo bench --bench snapshot` measures at each scale in turn (by default 1,000 idle
//! processes with 10,000 established loopback TCP connections, i.e. 20,000 sockets, then 5,000
//! with 25,000, i.e. 50,000 sockets). For each it builds the load (benches/support/load.rs),
//! scaled down to what this machine's pid and descriptor limits allow (saying why), checks that
//! wiretop owns and pairs every load socket, measures in interleaved rounds (rounds.rs):
//!
//! * wiretop's first snapshot (fresh `Sampler`: full `/proc/*/fd` ownership scan),
//! * wiretop's steady-state tick (same `Sampler` again: cached ownership), one interval after
//!   the tick before it, with its phases,
//! * the same tick with `collect_traffic: false` (connections without their counters), whose
//!   difference from the steady tick, less the kernel's own extra cost for tcp_info, is what
//!   wiretop's traffic bookkeeping costs,
//! * the same tick with `collect_connections: false`, the process part alone,
//! * the floor and the kernel's share: a pread of every process's held-open /proc/<pid>/stat,
//!   a plain read of /proc/net/tcp and the sock_diag dump without and with tcp_info (parsed);
//!   the first and the last with tcp_info make the floor a tick cannot go below
//!   (benches/support/floor.rs),
//! * `ss -tanp`, `ss -tanpi` (with tcp_info, the same figures wiretop reads) and
//!   `ps -eo pid,user,pcpu,rss,args` as subprocesses, output to /dev/null,
//!
//! then the peak memory of one sampler at that scale in a child of its own (memory.rs), prints
//! that scale's tables and tears the load down before building the next. Last, a growth table
//! per pair of consecutive scales (growth.rs): each measurement's cost per process and per
//! socket at both, and the ratios to the floor and to `ss` at both.
//!
//! Knobs: `WIRETOP_BENCH_SCALES` (processes x connections, comma-separated; default
//! `1000x10000,5000x25000`); `WIRETOP_BENCH_PROCS` and `WIRETOP_BENCH_CONNS` (one scale of that
//! size, each defaulting to the first scale's, when `WIRETOP_BENCH_SCALES` is not set);
//! `WIRETOP_BENCH_RUNS` (measured rounds a scale, default 20).
//!
//! The load is held by this same binary started again in a helper role, and the memory probe is
//! this binary in another, so the bench needs nothing beyond `sleep`, `setpriv`, `ss` and `ps`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/cost.rs"]
mod cost;
#[path = "../support/floor.rs"]
mod floor;
#[path = "../support/limits.rs"]
mod limits;
#[path = "../support/load.rs"]
mod load;

#[path = "../../tests/common/system.rs"]
mod system;

mod coverage;
mod growth;
mod memory;
mod report;
mod rounds;

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use wiretop::sample::{Sampler, SamplerSettings};

use coverage::{coverage, ss_view, Coverage};
use limits::Fitted;
use load::{count_established, Established, HostSize, Load, Scale};
use memory::Memory;
use rounds::Results;

const DEFAULT_SCALES: [Scale; 2] = [
    Scale {
        procs: 1000,
        conns: 10_000,
    },
    Scale {
        procs: 5000,
        conns: 25_000,
    },
];

/// Processes a sampler holds the /proc files of at most, four files each
/// (`MAX_HELD_PROCESSES` and `FDS_PER_PROCESS` in src/sample/linux/held_fds.rs).
const SAMPLER_HELD_PROCESSES: usize = 8192;
const SAMPLER_FILES_PER_PROCESS: usize = 4;
/// Samplers this bench holds at once (rounds.rs).
const SAMPLERS_AT_ONCE: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((first, rest)) if first == load::HELPER_ARG => load::run_helper(rest),
        Some((first, _)) if first == memory::PROBE_ARG => memory::run_probe(),
        _ => run_bench(),
    };
    if let Err(error) = outcome {
        eprintln!("snapshot bench failed: {error:#}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

struct Config {
    scales: Vec<Scale>,
    runs: usize,
}

impl Config {
    fn from_env() -> Result<Config> {
        let scales = match std::env::var("WIRETOP_BENCH_SCALES") {
            Ok(text) => Scale::parse_list(&text)?,
            Err(_)
                if std::env::var_os("WIRETOP_BENCH_PROCS").is_some()
                    || std::env::var_os("WIRETOP_BENCH_CONNS").is_some() =>
            {
                vec![Scale {
                    procs: support::env_number("WIRETOP_BENCH_PROCS", DEFAULT_SCALES[0].procs)?,
                    conns: support::env_number("WIRETOP_BENCH_CONNS", DEFAULT_SCALES[0].conns)?,
                }]
            }
            Err(_) => DEFAULT_SCALES.to_vec(),
        };
        let config = Config {
            scales,
            runs: support::env_number("WIRETOP_BENCH_RUNS", 20)?,
        };
        ensure!(config.runs >= 1, "WIRETOP_BENCH_RUNS must be at least 1");
        Ok(config)
    }
}

/// Descriptors this process needs with `processes` on the host: the samplers it holds at once
/// (rounds.rs), or two of them and the floor's stat files, whichever is more.
fn own_fds(processes: usize) -> u64 {
    let sampler = SAMPLER_FILES_PER_PROCESS * processes.min(SAMPLER_HELD_PROCESSES);
    let samplers = SAMPLERS_AT_ONCE * sampler;
    let floor = (SAMPLERS_AT_ONCE - 1) * sampler + processes;
    samplers.max(floor) as u64
}

// ---------------------------------------------------------------------------------------------
// One scale
// ---------------------------------------------------------------------------------------------

/// Everything measured at one scale.
pub(crate) struct ScaleRun {
    /// 1 for the first scale of the run.
    pub(crate) number: usize,
    pub(crate) requested: Scale,
    pub(crate) fitted: Fitted,
    pub(crate) kernel_view: Established,
    /// The host once the load is up, and after measuring: another load on a shared machine
    /// shows as a change.
    pub(crate) host_before: HostSize,
    pub(crate) host_after: HostSize,
    pub(crate) ss_estab: usize,
    pub(crate) ss_owned: usize,
    pub(crate) warmup: Coverage,
    pub(crate) last_steady: Coverage,
    pub(crate) results: Results,
    pub(crate) memory: Memory,
    pub(crate) load_before: String,
    pub(crate) load_after: String,
    pub(crate) setup: Duration,
    pub(crate) measuring: Duration,
    pub(crate) probing: Duration,
    pub(crate) teardown: Duration,
}

impl ScaleRun {
    pub(crate) fn scale(&self) -> Scale {
        self.fitted.scale
    }

    /// What looks wrong at this scale, so it is not missed in a wall of numbers.
    fn problems(&self) -> Vec<String> {
        let results = &self.results;
        let mut found: Vec<String> = self
            .fitted
            .reasons
            .iter()
            .map(|reason| format!("asked for {}: {reason}", self.requested))
            .collect();
        found.extend(
            results
                .warnings
                .iter()
                .map(|w| format!("sampler warning: {w}")),
        );
        if self.host_before.changed(&self.host_after) {
            found.push(format!(
                "the host changed while measuring ({} once the load was up, {} after): \
                 something else ran or stopped, the figures are suspect",
                self.host_before, self.host_after
            ));
        }
        if results.first_without_full_scan > 0 {
            found.push(format!(
                "{} first snapshots were not flagged full_ownership_scan",
                results.first_without_full_scan
            ));
        }
        // The steady sampler rescans everything once a minute; more often means it lost track.
        let scheduled = (self.measuring.as_secs() / 60) as usize;
        if results.steady_full_scans > scheduled {
            found.push(format!(
                "{} steady ticks made a full ownership scan in {:.0} s (the sampler schedules \
                 one a minute)",
                results.steady_full_scans,
                self.measuring.as_secs_f64()
            ));
        }
        if results.stat_files_read < self.scale().procs {
            found.push(format!(
                "the floor read the stat of only {} processes, fewer than the {} idle ones",
                results.stat_files_read,
                self.scale().procs
            ));
        }
        found.extend(coverage::problems("warm-up", &self.warmup, self.scale()));
        found.extend(coverage::problems(
            "last steady tick",
            &self.last_steady,
            self.scale(),
        ));
        found
    }
}

/// Builds the load of `requested` (or the most of it that fits), measures, tears it down.
fn run_scale(number: usize, of: usize, requested: Scale, runs: usize) -> Result<ScaleRun> {
    let fitted = limits::fit(requested, own_fds);
    let scale = fitted.scale;
    for reason in &fitted.reasons {
        eprintln!("scale {number}: {reason}");
    }
    let load_before = support::load_average();
    eprintln!("scale {number} of {of}: starting the load, {scale}");
    let setup_started = Instant::now();
    let load = Load::start(scale)?;
    let setup = setup_started.elapsed();
    eprintln!("  load up in {setup:.1?}");

    let kernel_view = count_established(&load.ports())?;
    let host_before = HostSize::now()?;
    let (ss_estab, ss_owned) = ss_view()?;

    // The steady sampler's warm-up (its own first, full snapshot) is checked for what it saw.
    let mut steady = Sampler::new(SamplerSettings::default());
    steady.prime()?;
    let warmup = coverage(&steady.sample()?, &load);

    let measure_started = Instant::now();
    let (results, last_steady) = rounds::measure(runs, &mut steady)?;
    let measuring = measure_started.elapsed();
    let last_steady = coverage(&last_steady, &load);
    drop(steady);
    let host_after = HostSize::now()?;
    let load_after = support::load_average();

    eprintln!("  memory probe");
    let probe_started = Instant::now();
    let memory = memory::probe()?;
    let probing = probe_started.elapsed();

    let teardown_started = Instant::now();
    load.stop()?;
    let teardown = teardown_started.elapsed();

    Ok(ScaleRun {
        number,
        requested,
        fitted,
        kernel_view,
        host_before,
        host_after,
        ss_estab,
        ss_owned,
        warmup,
        last_steady,
        results,
        memory,
        load_before,
        load_after,
        setup,
        measuring,
        probing,
        teardown,
    })
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

fn run_bench() -> Result<()> {
    let config = Config::from_env()?;
    let started = Instant::now();
    let of = config.scales.len();

    let fd_limit = limits::raise_fd_limit_for_root();
    println!();
    println!("wiretop snapshot bench");
    println!("machine: {}", support::machine_line());
    println!("descriptors: {fd_limit}");
    println!(
        "scales: {}; {} measured rounds each",
        config
            .scales
            .iter()
            .map(Scale::to_string)
            .collect::<Vec<_>>()
            .join(", then "),
        config.runs
    );

    let mut runs: Vec<ScaleRun> = Vec::new();
    let mut problems = Vec::new();
    for (i, requested) in config.scales.iter().enumerate() {
        let run = run_scale(i + 1, of, *requested, config.runs)?;
        report::print_scale(&run, of);
        problems.extend(
            run.problems()
                .into_iter()
                .map(|p| format!("scale {}: {p}", run.number)),
        );
        runs.push(run);
    }
    for pair in runs.windows(2) {
        growth::print_growth(&pair[0], &pair[1]);
    }
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
    support::print_problems(&problems);
    Ok(())
}
