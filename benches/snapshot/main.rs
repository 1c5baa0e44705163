//! What one snapshot costs on a busy host, next to the tools people would otherwise run.
//!
//! `cargo bench --bench snapshot` builds its own load (idle processes plus established loopback
//! TCP connections spread over several processes), then measures in interleaved rounds:
//!
//! * wiretop's first snapshot (fresh `Sampler`: full `/proc/*/fd` ownership scan),
//! * wiretop's steady-state tick (same `Sampler` again: cached ownership),
//! * the same tick with `collect_traffic: false` (connections without their counters), whose
//!   difference from the steady tick, less the kernel's own extra cost for tcp_info, is what
//!   wiretop's traffic bookkeeping costs,
//! * the same tick with `collect_connections: false`, which splits the steady cost into the
//!   process part and the socket part,
//! * for reference, a pread of every process's held-open /proc/<pid>/stat, a plain read of
//!   /proc/net/tcp and the sock_diag dump without and with tcp_info (parsed): the kernel's
//!   share; the first and the last with tcp_info make the floor a tick cannot go below,
//! * `ss -tanp`, `ss -tanpi` (with tcp_info, the same figures wiretop reads) and
//!   `ps -eo pid,user,pcpu,rss,args` as subprocesses, output to /dev/null.
//!
//! Sizes come from `WIRETOP_BENCH_PROCS` (idle processes, default 1000), `WIRETOP_BENCH_CONNS`
//! (TCP connections, default 10000) and `WIRETOP_BENCH_RUNS` (measured rounds, default 20).
//!
//! The load (benches/support/load.rs) is held by this same binary started again in a helper
//! role, so the bench needs nothing beyond `sleep`, `ss` and `ps`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/cost.rs"]
mod cost;
#[path = "../support/load.rs"]
mod load;

#[path = "../../tests/common/system.rs"]
mod system;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use wiretop::model::{Snapshot, SocketState};
use wiretop::sample::{Sampler, SamplerSettings};

use cost::{measure_command, measure_here, Series};
use load::{count_established, Load, Scale};

const SS_ARGS: &[&str] = &["ss", "-tanp"];
/// What an on-call engineer runs for the traffic figures wiretop now reads: `ss` with tcp_info.
const SS_INFO_ARGS: &[&str] = &["ss", "-tanpi"];
const PS_ARGS: &[&str] = &["ps", "-eo", "pid,user,pcpu,rss,args"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((first, rest)) if first == load::HELPER_ARG => load::run_helper(rest),
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
    procs: usize,
    conns: usize,
    runs: usize,
}

impl Config {
    fn from_env() -> Result<Config> {
        let config = Config {
            procs: support::env_number("WIRETOP_BENCH_PROCS", 1000)?,
            conns: support::env_number("WIRETOP_BENCH_CONNS", 10_000)?,
            runs: support::env_number("WIRETOP_BENCH_RUNS", 20)?,
        };
        ensure!(config.runs >= 1, "WIRETOP_BENCH_RUNS must be at least 1");
        Ok(config)
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

/// Everything gathered over the measured rounds.
#[derive(Default)]
struct Results {
    first: Series,
    steady: Series,
    processes_only: Series,
    /// The steady tick with `collect_traffic: false`: what the traffic figures cost.
    steady_no_traffic: Series,
    steady_no_traffic_phases: Vec<wiretop::model::CollectionPhases>,
    raw_tcp_table: Series,
    /// A pread of every process's held-open /proc/<pid>/stat: the least a tick that reads
    /// every process can cost.
    stat_preads: Series,
    /// The sock_diag dump of every TCP socket (parsed), without and with tcp_info.
    raw_dump: Series,
    raw_dump_info: Series,
    ss: Series,
    ss_info: Series,
    ps: Series,
    /// The sampler's own `collection.duration_ms`, to cross-check our wall times.
    first_reported_ms: Vec<f64>,
    steady_reported_ms: Vec<f64>,
    /// The sampler's own per-phase split of each steady tick.
    steady_phases: Vec<wiretop::model::CollectionPhases>,
    /// First snapshots not flagged as a full scan (should be 0).
    first_without_full_scan: usize,
    /// Steady ticks that fell back to a full scan (should be 0 unless a minute passed).
    steady_full_scans: usize,
    warnings: BTreeSet<String>,
}

impl Results {
    fn note(&mut self, snapshot: &Snapshot) {
        self.warnings
            .extend(snapshot.collection.warnings.iter().cloned());
    }
}

/// Interleaves the measurements round by round, so that noise from anything else on the
/// machine (other builds) lands on all of them alike instead of on whichever ran last.
fn measure(config: &Config, steady: &mut Sampler) -> Result<(Results, Snapshot)> {
    let mut results = Results::default();
    let stat_files = held_stat_files();
    let mut last_steady = None;
    let mut processes_only = Sampler::new(SamplerSettings {
        collect_connections: false,
        ..SamplerSettings::default()
    });
    processes_only.prime()?;
    processes_only.sample()?;
    let mut no_traffic = Sampler::new(SamplerSettings {
        collect_traffic: false,
        ..SamplerSettings::default()
    });
    no_traffic.prime()?;
    no_traffic.sample()?;
    for round in 1..=config.runs {
        eprint!("\rround {round}/{}", config.runs);

        let mut fresh = Sampler::new(SamplerSettings::default());
        fresh.prime()?;
        let (snapshot, cost) = measure_here(|| fresh.sample());
        let snapshot = snapshot?;
        results.first.push(cost);
        results
            .first_reported_ms
            .push(snapshot.collection.duration_ms);
        results.first_without_full_scan += usize::from(!snapshot.collection.full_ownership_scan);
        results.note(&snapshot);
        drop((snapshot, fresh));

        // The ticks with and without traffic take turns going first: whichever follows the
        // fresh sampler's full scan finds the caches and the allocator in a worse state, which
        // would otherwise count as a cost of the traffic figures (or of their absence).
        let traffic_first = round % 2 == 1;
        if !traffic_first {
            measure_without_traffic(&mut no_traffic, &mut results)?;
        }
        let (snapshot, cost) = measure_here(|| steady.sample());
        let snapshot = snapshot?;
        results.steady.push(cost);
        results
            .steady_reported_ms
            .push(snapshot.collection.duration_ms);
        results.steady_phases.push(snapshot.collection.phases);
        results.steady_full_scans += usize::from(snapshot.collection.full_ownership_scan);
        results.note(&snapshot);
        last_steady = Some(snapshot);
        if traffic_first {
            measure_without_traffic(&mut no_traffic, &mut results)?;
        }

        let (snapshot, cost) = measure_here(|| processes_only.sample());
        results.processes_only.push(cost);
        results.note(&snapshot?);

        let (_, cost) = measure_here(|| pread_all(&stat_files));
        results.stat_preads.push(cost);

        let (table, cost) = measure_here(|| std::fs::read("/proc/net/tcp"));
        table.context("reading /proc/net/tcp")?;
        results.raw_tcp_table.push(cost);
        let (dump, cost) = measure_here(|| wiretop::sample::measure::raw_tcp_dump(false));
        dump.map_err(anyhow::Error::msg)?;
        results.raw_dump.push(cost);
        let (dump, cost) = measure_here(|| wiretop::sample::measure::raw_tcp_dump(true));
        dump.map_err(anyhow::Error::msg)?;
        results.raw_dump_info.push(cost);

        results.ss.push(measure_command(SS_ARGS)?);
        results.ss_info.push(measure_command(SS_INFO_ARGS)?);
        results.ps.push(measure_command(PS_ARGS)?);
    }
    eprintln!();
    let last_steady = last_steady.context("no rounds ran")?;
    Ok((results, last_steady))
}

/// One steady tick of the sampler with `collect_traffic: false`.
fn measure_without_traffic(sampler: &mut Sampler, results: &mut Results) -> Result<()> {
    let (snapshot, cost) = measure_here(|| sampler.sample());
    let snapshot = snapshot?;
    results.steady_no_traffic.push(cost);
    results
        .steady_no_traffic_phases
        .push(snapshot.collection.phases);
    results.note(&snapshot);
    Ok(())
}

/// Every process's /proc/<pid>/stat, opened once (processes that exit later read nothing).
fn held_stat_files() -> Vec<std::fs::File> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter_map(|e| std::fs::File::open(e.path().join("stat")).ok())
        .collect()
}

/// Reads each held file from its start; returns the bytes read (so nothing is optimized away).
fn pread_all(files: &[std::fs::File]) -> usize {
    use std::os::unix::fs::FileExt;
    let mut buffer = [0u8; 1024];
    files
        .iter()
        .map(|f| f.read_at(&mut buffer, 0).unwrap_or(0))
        .sum()
}

// ---------------------------------------------------------------------------------------------
// Checks on what the snapshot saw
// ---------------------------------------------------------------------------------------------

/// How much of the load a snapshot saw, and whether it got ownership and peers right.
struct Coverage {
    processes: usize,
    idle_seen: usize,
    established_count: u32,
    /// ESTABLISHED connections at a load port attributed to a helper process.
    load_owned: usize,
    /// ...of which owned by the right kind of helper and with the right peer process.
    load_peer_correct: usize,
    unowned_sockets: usize,
    unreadable_processes: u32,
    /// Why sockets were unowned and which process fields were unreadable, with counts.
    unowned_reasons: BTreeMap<String, usize>,
    unreadable_fields: BTreeMap<String, usize>,
}

fn coverage(snapshot: &Snapshot, load: &Load) -> Coverage {
    let idle = load.idle_pids();
    let helpers = load.helper_pids();
    let clients = load.client_pids();
    let server_by_port = load.server_by_port();
    let mut load_owned = 0;
    let mut load_peer_correct = 0;
    for process in snapshot
        .processes
        .iter()
        .filter(|p| helpers.contains(&p.pid))
    {
        for conn in &process.connections {
            if conn.state != SocketState::Established {
                continue;
            }
            // Server side: we listen on the port, the peer is some client.
            // Client side: the peer is exactly the server behind the remote port.
            let correct = if let Some(&server) = server_by_port.get(&conn.local_port) {
                process.pid == server && conn.peer_pid.is_some_and(|p| clients.contains(&p))
            } else if let Some(&server) = server_by_port.get(&conn.remote_port) {
                clients.contains(&process.pid) && conn.peer_pid == Some(server)
            } else {
                continue;
            };
            load_owned += 1;
            load_peer_correct += usize::from(correct);
        }
    }
    let mut unowned_reasons = BTreeMap::new();
    for socket in &snapshot.unowned_sockets {
        let key = format!(
            "{:?} {}: {}",
            socket.proto,
            socket.state.as_str(),
            socket.reason
        );
        *unowned_reasons.entry(key).or_default() += 1;
    }
    let mut unreadable_fields = BTreeMap::new();
    for process in &snapshot.processes {
        for (field, reason) in &process.unreadable {
            let key = format!("{field} of {} ({reason})", process.name);
            *unreadable_fields.entry(key).or_default() += 1;
        }
    }
    Coverage {
        processes: snapshot.processes.len(),
        idle_seen: snapshot
            .processes
            .iter()
            .filter(|p| idle.contains(&p.pid))
            .count(),
        established_count: snapshot.host.counts.established_connections,
        load_owned,
        load_peer_correct,
        unowned_sockets: snapshot.unowned_sockets.len(),
        unreadable_processes: snapshot.collection.processes_with_unreadable_fields,
        unowned_reasons,
        unreadable_fields,
    }
}

/// What `ss -tanp` itself sees: ESTABLISHED rows, and how many of them name an owner.
fn ss_view() -> Result<(usize, usize)> {
    let output = Command::new(SS_ARGS[0])
        .args(&SS_ARGS[1..])
        .output()
        .context("running ss -tanp")?;
    ensure!(
        output.status.success(),
        "ss -tanp failed: {}",
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let estab: Vec<&str> = text.lines().filter(|l| l.starts_with("ESTAB")).collect();
    let with_owner = estab.iter().filter(|l| l.contains("users:(")).count();
    Ok((estab.len(), with_owner))
}

// ---------------------------------------------------------------------------------------------
// Memory and machine
// ---------------------------------------------------------------------------------------------

/// VmRSS and VmHWM of this process, in KiB.
fn own_memory_kib() -> Result<(u64, u64)> {
    let field = |name: &str| {
        system::status_field(std::process::id(), name)
            .with_context(|| format!("no {name} in /proc/self/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_timing_table(results: &Results) {
    let rows = [
        ("wiretop first snapshot", &results.first),
        ("wiretop steady tick", &results.steady),
        ("  same, traffic off", &results.steady_no_traffic),
        ("  same, processes only", &results.processes_only),
        ("  pread every /proc/<pid>/stat", &results.stat_preads),
        ("  read /proc/net/tcp (raw)", &results.raw_tcp_table),
        ("  sock_diag dump (raw)", &results.raw_dump),
        ("  same, with tcp_info", &results.raw_dump_info),
        ("ss -tanp", &results.ss),
        ("ss -tanpi (with tcp_info)", &results.ss_info),
        ("ps -eo pid,user,pcpu,rss,args", &results.ps),
    ];
    println!(
        "| {:<29} | {:>4} | {:>10} | {:>9} | {:>14} | {:>11} |",
        "measurement", "runs", "median ms", "p95 ms", "cpu median ms", "cpu p95 ms"
    );
    println!(
        "|{:-<31}|{:->6}|{:->12}|{:->11}|{:->16}|{:->13}|",
        "", "", "", "", "", ""
    );
    for (name, series) in rows {
        println!(
            "| {:<29} | {:>4} | {:>10.2} | {:>9.2} | {:>14.2} | {:>11.2} |",
            name,
            series.wall_ms.len(),
            support::median(&series.wall_ms),
            support::percentile(&series.wall_ms, 95.0),
            support::median(&series.cpu_ms),
            support::percentile(&series.cpu_ms, 95.0),
        );
    }
}

fn print_ratio_table(results: &Results) {
    let ratio = |a: &Series, b: &Series| {
        (
            support::median(&a.wall_ms) / support::median(&b.wall_ms),
            support::median(&a.cpu_ms) / support::median(&b.cpu_ms),
        )
    };
    let rows = [
        (
            "wiretop first / ss -tanp",
            ratio(&results.first, &results.ss),
        ),
        (
            "wiretop steady / ss -tanp",
            ratio(&results.steady, &results.ss),
        ),
        (
            "wiretop steady / ss -tanpi",
            ratio(&results.steady, &results.ss_info),
        ),
        ("wiretop first / ps", ratio(&results.first, &results.ps)),
        ("wiretop steady / ps", ratio(&results.steady, &results.ps)),
        (
            "wiretop steady / first",
            ratio(&results.steady, &results.first),
        ),
    ];
    println!(
        "| {:<29} | {:>11} | {:>10} |",
        "ratio of medians", "wall", "cpu"
    );
    println!("|{:-<31}|{:->13}|{:->12}|", "", "", "");
    for (name, (wall, cpu)) in rows {
        println!("| {:<29} | {:>10.2}x | {:>9.2}x |", name, wall, cpu);
    }
}

fn print_coverage(label: &str, c: &Coverage, conns: usize) {
    println!(
        "{label}: {} processes ({} of the idle ones), established_connections={}, \
         load sockets owned {}/{} with correct owner+peer {}/{}, unowned sockets {}, \
         processes with unreadable fields {}",
        c.processes,
        c.idle_seen,
        c.established_count,
        c.load_owned,
        2 * conns,
        c.load_peer_correct,
        2 * conns,
        c.unowned_sockets,
        c.unreadable_processes,
    );
    for (what, count) in &c.unowned_reasons {
        println!("    unowned: {count} x {what}");
    }
    for (what, count) in &c.unreadable_fields {
        println!("    unreadable: {count} x {what}");
    }
}

/// Things that look wrong, so they are not missed in a wall of numbers.
fn problems(config: &Config, results: &Results, covers: &[&Coverage]) -> Vec<String> {
    let mut found: Vec<String> = results
        .warnings
        .iter()
        .map(|w| format!("sampler warning: {w}"))
        .collect();
    if results.first_without_full_scan > 0 {
        found.push(format!(
            "{} first snapshots were not flagged full_ownership_scan",
            results.first_without_full_scan
        ));
    }
    if results.steady_full_scans > 0 {
        found.push(format!(
            "{} of {} steady ticks fell back to a full ownership scan",
            results.steady_full_scans, config.runs
        ));
    }
    for c in covers {
        if c.idle_seen < config.procs {
            found.push(format!(
                "only {} of {} idle processes in a snapshot",
                c.idle_seen, config.procs
            ));
        }
        if c.load_owned < 2 * config.conns || c.load_peer_correct < 2 * config.conns {
            found.push(format!(
                "load sockets owned {} / peer-correct {} of {}",
                c.load_owned,
                c.load_peer_correct,
                2 * config.conns
            ));
        }
        if (c.established_count as usize) < 2 * config.conns {
            found.push(format!(
                "established_connections {} is below the {} load sockets",
                c.established_count,
                2 * config.conns
            ));
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

fn run_bench() -> Result<()> {
    let config = Config::from_env()?;
    let bench_started = Instant::now();
    let load_before = support::load_average();

    eprintln!(
        "starting load: {} idle processes, {} loopback TCP connections",
        config.procs, config.conns
    );
    let setup_started = Instant::now();
    let scale = Scale {
        procs: config.procs,
        conns: config.conns,
    };
    let load = Load::start(scale)?;
    let setup = setup_started.elapsed();
    eprintln!("load up in {setup:.1?}");

    let kernel_view = count_established(&load.ports())?;
    let (ss_estab, ss_owned) = ss_view()?;

    // Memory before this process has sampled anything, then the steady sampler's warm-up
    // (its own first, full snapshot), which is also checked for what it saw.
    let (rss_before, hwm_before) = own_memory_kib()?;
    let mut steady = Sampler::new(SamplerSettings::default());
    steady.prime()?;
    let warmup = steady.sample()?;
    let warmup_coverage = coverage(&warmup, &load);
    drop(warmup);

    let measure_started = Instant::now();
    let (results, last_steady) = measure(&config, &mut steady)?;
    let measuring = measure_started.elapsed();
    let steady_coverage = coverage(&last_steady, &load);
    drop(last_steady);
    let (rss_after, hwm_after) = own_memory_kib()?;
    drop(steady);
    let load_after = support::load_average();

    let teardown_started = Instant::now();
    drop(load);
    let teardown = teardown_started.elapsed();

    println!();
    println!("wiretop snapshot bench");
    println!("machine: {}", support::machine_line());
    println!("load average: {load_before} before, {load_after} after measuring");
    println!(
        "load requested: {} idle processes, {} loopback TCP connections over {} client and {} \
         server processes",
        config.procs,
        config.conns,
        scale.client_processes(),
        scale.server_processes(),
    );
    println!(
        "load achieved (kernel): {} ESTABLISHED sockets at load ports (expected {}), {} \
         ESTABLISHED TCP sockets in total, {} TCP sockets in any state; ss -tanp: {} ESTAB \
         rows, {} with an owner",
        kernel_view.ours,
        2 * config.conns,
        kernel_view.total,
        kernel_view.rows,
        ss_estab,
        ss_owned
    );
    print_coverage(
        "wiretop warm-up (full scan)",
        &warmup_coverage,
        config.conns,
    );
    print_coverage("wiretop last steady tick", &steady_coverage, config.conns);
    println!();
    print_timing_table(&results);
    println!(
        "(wall: median and nearest-rank p95; cpu: this process's CPU time for in-process rows, \
         the child's own user+sys from wait4 for ss and ps)"
    );
    println!();
    print_ratio_table(&results);
    println!();
    println!(
        "wiretop's own collection.duration_ms (median): first {:.2} ms, steady {:.2} ms",
        support::median(&results.first_reported_ms),
        support::median(&results.steady_reported_ms)
    );
    for (name, phases) in [
        ("steady tick", &results.steady_phases),
        ("same, traffic off", &results.steady_no_traffic_phases),
    ] {
        let phase = |pick: fn(&wiretop::model::CollectionPhases) -> f64| {
            support::median(&phases.iter().map(pick).collect::<Vec<_>>())
        };
        println!(
            "{name} phases (median): processes {:.2} ms, socket tables {:.2} ms, ownership {:.2} ms, peers {:.2} ms",
            phase(|p| p.processes_ms),
            phase(|p| p.socket_tables_ms),
            phase(|p| p.ownership_ms),
            phase(|p| p.peers_ms)
        );
    }
    let median_cpu = |series: &Series| support::median(&series.cpu_ms);
    let traffic_cost = median_cpu(&results.steady) - median_cpu(&results.steady_no_traffic);
    let kernel_cost = median_cpu(&results.raw_dump_info) - median_cpu(&results.raw_dump);
    println!(
        "traffic figures (cpu medians): the tick costs {traffic_cost:.2} ms more with them; \
         the kernel's part (dump with tcp_info - without) {kernel_cost:.2} ms; wiretop's own \
         {:.2} ms",
        traffic_cost - kernel_cost
    );
    let floor = median_cpu(&results.stat_preads) + median_cpu(&results.raw_dump_info);
    println!(
        "floor (a pread of every process's held stat + the dump with tcp_info, cpu medians): \
         {floor:.2} ms; steady tick / floor {:.2}x",
        median_cpu(&results.steady) / floor
    );
    println!(
        "steady ticks with a full ownership scan: {}/{}; first snapshots without: {}/{}",
        results.steady_full_scans, config.runs, results.first_without_full_scan, config.runs
    );
    println!(
        "bench process memory: VmRSS {:.1} MiB before sampling, {:.1} MiB after all runs \
         (steady sampler alive; {:+.1} MiB), VmHWM {:.1} MiB before, {:.1} MiB after \
         (peak growth {:+.1} MiB)",
        mib(rss_before),
        mib(rss_after),
        mib(rss_after) - mib(rss_before),
        mib(hwm_before),
        mib(hwm_after),
        mib(hwm_after) - mib(rss_before),
    );
    println!(
        "time: setup {:.1} s, measuring {:.1} s, teardown {:.1} s, total {:.1} s",
        setup.as_secs_f64(),
        measuring.as_secs_f64(),
        teardown.as_secs_f64(),
        bench_started.elapsed().as_secs_f64()
    );
    let problems = problems(&config, &results, &[&warmup_coverage, &steady_coverage]);
    support::print_problems(&problems);
    Ok(())
}
