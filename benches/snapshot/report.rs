//! The printed block of one scale: what was asked for and achieved, the checks, the timing
//! and ratio tables, phases, the traffic and floor lines and the sampler's memory.

use wiretop::model::CollectionPhases;

use crate::cost::Series;
use crate::coverage::print_coverage;
use crate::rounds::{interval, Results};
use crate::support;
use crate::ScaleRun;

/// Width of the first column of both tables.
const NAME: usize = 31;

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Everything measured at one scale, as soon as it is measured.
pub(crate) fn print_scale(run: &ScaleRun, of: usize) {
    let scale = run.scale();
    println!();
    println!("== scale {} of {of}: {scale} ==", run.number);
    if run.fitted.reasons.is_empty() {
        println!("limits (all fit): {}", run.fitted.limits);
    } else {
        println!("asked for {}, scaled down to fit:", run.requested);
        for reason in &run.fitted.reasons {
            println!("  - {reason}");
        }
        println!("limits: {}", run.fitted.limits);
    }
    println!(
        "load average: {} before, {} after measuring",
        run.load_before, run.load_after
    );
    println!(
        "load: {} idle processes, {} loopback TCP connections over {} client and {} server \
         processes",
        support::grouped(scale.procs),
        support::grouped(scale.conns),
        scale.client_processes(),
        scale.server_processes(),
    );
    let k = &run.kernel_view;
    println!(
        "load achieved (kernel): {} ESTABLISHED sockets at load ports (expected {}), {} \
         ESTABLISHED TCP sockets in total, {} TCP sockets in any state; ss -tanp: {} ESTAB \
         rows, {} with an owner",
        k.ours,
        scale.sockets(),
        k.total,
        k.rows,
        run.ss_estab,
        run.ss_owned
    );
    println!(
        "host: {} once the load was up, {} after measuring{}",
        run.host_before,
        run.host_after,
        if run.host_before.changed(&run.host_after) {
            " (CHANGED: something else ran)"
        } else {
            ""
        }
    );
    print_coverage("wiretop warm-up (full scan)", &run.warmup, scale);
    print_coverage("wiretop last steady tick", &run.last_steady, scale);
    println!();
    print_timing_table(&run.results);
    println!(
        "(wall: median and nearest-rank p95; cpu: this process's CPU time for in-process rows, \
         the child's own user+sys from wait4 for ss and ps; each measured tick comes {} s \
         after an unmeasured one of the same sampler, wiretop's interval; the processes-only \
         sampler is started each round and its first pass is that unmeasured tick)",
        interval().as_secs_f64()
    );
    println!();
    print_ratio_table(&run.results);
    println!();
    print_lines(run);
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
        "| {:<NAME$} | {:>4} | {:>10} | {:>9} | {:>14} | {:>11} |",
        "measurement", "runs", "median ms", "p95 ms", "cpu median ms", "cpu p95 ms"
    );
    println!(
        "|{:-<w$}|{:->6}|{:->12}|{:->11}|{:->16}|{:->13}|",
        "",
        "",
        "",
        "",
        "",
        "",
        w = NAME + 2
    );
    for (name, series) in rows {
        println!(
            "| {:<NAME$} | {:>4} | {:>10.2} | {:>9.2} | {:>14.2} | {:>11.2} |",
            name,
            series.len(),
            series.median_wall(),
            support::percentile(&series.wall_ms, 95.0),
            series.median_cpu(),
            support::percentile(&series.cpu_ms, 95.0),
        );
    }
}

/// Wall and CPU medians of a measurement, or of the floor (the sum of its two parts' medians).
#[derive(Clone, Copy)]
pub(crate) struct Medians {
    pub(crate) wall: f64,
    pub(crate) cpu: f64,
}

impl Medians {
    pub(crate) fn of(series: &Series) -> Medians {
        Medians {
            wall: series.median_wall(),
            cpu: series.median_cpu(),
        }
    }

    pub(crate) fn floor(results: &Results) -> Medians {
        Medians {
            wall: results.floor_wall_ms(),
            cpu: results.floor_cpu_ms(),
        }
    }

    fn over(self, other: Medians) -> (f64, f64) {
        (self.wall / other.wall, self.cpu / other.cpu)
    }
}

/// The ratios both the scale's table and the growth table show: (name, numerator,
/// denominator).
pub(crate) fn ratios(results: &Results) -> Vec<(&'static str, Medians, Medians)> {
    let first = Medians::of(&results.first);
    let steady = Medians::of(&results.steady);
    let floor = Medians::floor(results);
    let ss = Medians::of(&results.ss);
    let ss_info = Medians::of(&results.ss_info);
    let ps = Medians::of(&results.ps);
    vec![
        ("wiretop steady / floor", steady, floor),
        ("wiretop first / floor", first, floor),
        ("wiretop first / ss -tanp", first, ss),
        ("wiretop steady / ss -tanp", steady, ss),
        ("wiretop steady / ss -tanpi", steady, ss_info),
        ("wiretop first / ps", first, ps),
        ("wiretop steady / ps", steady, ps),
        ("wiretop steady / first", steady, first),
    ]
}

fn print_ratio_table(results: &Results) {
    println!(
        "| {:<NAME$} | {:>11} | {:>10} |",
        "ratio of medians", "wall", "cpu"
    );
    println!("|{:-<w$}|{:->13}|{:->12}|", "", "", "", w = NAME + 2);
    for (name, a, b) in ratios(results) {
        let (wall, cpu) = a.over(b);
        println!("| {:<NAME$} | {:>10.2}x | {:>9.2}x |", name, wall, cpu);
    }
}

/// Median of one phase over a series of snapshots.
pub(crate) fn phase(phases: &[CollectionPhases], pick: fn(&CollectionPhases) -> f64) -> f64 {
    support::median(&phases.iter().map(pick).collect::<Vec<_>>())
}

fn print_lines(run: &ScaleRun) {
    let results = &run.results;
    println!(
        "wiretop's own collection.duration_ms (median): first {:.2} ms, steady {:.2} ms",
        support::median(&results.first_reported_ms),
        support::median(&results.steady_reported_ms)
    );
    for (name, phases) in [
        ("first snapshot", &results.first_phases),
        ("steady tick", &results.steady_phases),
        ("same, traffic off", &results.steady_no_traffic_phases),
    ] {
        println!(
            "{name} phases (median): processes {:.2} ms, socket tables {:.2} ms, ownership \
             {:.2} ms, peers {:.2} ms",
            phase(phases, |p| p.processes_ms),
            phase(phases, |p| p.socket_tables_ms),
            phase(phases, |p| p.ownership_ms),
            phase(phases, |p| p.peers_ms)
        );
    }
    let traffic_cost = results.steady.median_cpu() - results.steady_no_traffic.median_cpu();
    let kernel_cost = results.raw_dump_info.median_cpu() - results.raw_dump.median_cpu();
    println!(
        "traffic figures (cpu medians): the tick costs {traffic_cost:.2} ms more with them; \
         the kernel's part (dump with tcp_info - without) {kernel_cost:.2} ms; wiretop's own \
         {:.2} ms",
        traffic_cost - kernel_cost
    );
    let floor = results.floor_cpu_ms();
    println!(
        "floor (a pread of each of {} processes' held stat + the dump with tcp_info, cpu \
         medians): {floor:.2} ms; steady tick / floor {:.2}x",
        support::grouped(results.stat_files_read),
        results.steady.median_cpu() / floor
    );
    println!(
        "steady ticks with a full ownership scan (the sampler makes one a minute): {} \
         measured of {}, {} in all; first snapshots without: {}/{}",
        results.measured_full_scans,
        results.steady.len(),
        results.steady_full_scans,
        results.first_without_full_scan,
        results.first.len()
    );
    let m = &run.memory;
    println!(
        "sampler memory (a child holding one default sampler: first snapshot, then {} ticks \
         {} s apart): VmRSS {:.1} MiB before sampling; peak (VmHWM) {:.1} MiB after the first \
         snapshot, {:.1} MiB at the end ({:+.1} MiB over the start); VmRSS {:.1} MiB at the end",
        crate::memory::TICKS,
        interval().as_secs_f64(),
        mib(m.rss_before_kib),
        mib(m.peak_after_first_kib),
        mib(m.peak_kib),
        mib(m.peak_growth_kib()),
        mib(m.rss_end_kib),
    );
    println!(
        "time: setup {:.1} s, measuring {:.1} s, memory probe {:.1} s, teardown {:.1} s",
        run.setup.as_secs_f64(),
        run.measuring.as_secs_f64(),
        run.probing.as_secs_f64(),
        run.teardown.as_secs_f64(),
    );
}
