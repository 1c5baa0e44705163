//! How each measurement grew from one scale to the next: its cost per process and per socket
//! at both, and whether the growth is what its driver's growth predicts (linear) or more (a
//! step), so neither hides in two separate tables.
//!
//! Each measurement has a driver: processes (P), sockets (S) or both (P+S). Linear growth in P
//! or S alone multiplies the cost by that count's growth; a cost made of a part per process and
//! a part per socket, each linear, grows by a factor between the two counts' growths. Fixed
//! costs make growth look smaller than linear, never larger; so a growth above the band is a
//! step: something costs more per unit at the larger scale (a cache outgrown, a cap passed).

use wiretop::model::CollectionPhases;

use crate::report::{mib, phase, ratios, Medians};
use crate::ScaleRun;

/// How far from the linear factor growth may be and still be called linear.
const LINEAR_TOLERANCE: f64 = 0.15;

#[derive(Clone, Copy)]
enum Driver {
    Processes,
    Sockets,
    Both,
}

impl Driver {
    fn label(self) -> &'static str {
        match self {
            Driver::Processes => "P",
            Driver::Sockets => "S",
            Driver::Both => "P+S",
        }
    }
}

/// The processes and TCP sockets a run measured: what its costs are divided by.
struct Counts {
    processes: f64,
    sockets: f64,
}

impl Counts {
    /// As the host was once the load was up, when the rounds began.
    fn of(run: &ScaleRun) -> Counts {
        Counts {
            processes: run.host_before.processes as f64,
            sockets: run.host_before.tcp_sockets as f64,
        }
    }
}

/// What growth by `growth` means for a measurement driven by `driver`.
fn verdict(growth: f64, driver: Driver, processes: f64, sockets: f64) -> String {
    let (low, high) = match driver {
        Driver::Processes => (processes, processes),
        Driver::Sockets => (sockets, sockets),
        Driver::Both => (processes.min(sockets), processes.max(sockets)),
    };
    if growth > high * (1.0 + LINEAR_TOLERANCE) {
        format!("STEP {:.2}x over linear", growth / high)
    } else if growth < low * (1.0 - LINEAR_TOLERANCE) {
        format!("below linear ({:.2}x)", growth / low)
    } else {
        "linear".to_owned()
    }
}

/// The measurements compared, CPU medians in ms (phases: wall medians, as the sampler times
/// them).
fn rows(run: &ScaleRun) -> Vec<(&'static str, Driver, f64)> {
    let r = &run.results;
    let steady = |pick: fn(&CollectionPhases) -> f64| phase(&r.steady_phases, pick);
    vec![
        ("wiretop first snapshot", Driver::Both, r.first.median_cpu()),
        ("wiretop steady tick", Driver::Both, r.steady.median_cpu()),
        (
            "  same, traffic off",
            Driver::Both,
            r.steady_no_traffic.median_cpu(),
        ),
        (
            "  same, processes only",
            Driver::Processes,
            r.processes_only.median_cpu(),
        ),
        (
            "  phase processes (wall)",
            Driver::Processes,
            steady(|p| p.processes_ms),
        ),
        (
            "  phase socket tables (wall)",
            Driver::Sockets,
            steady(|p| p.socket_tables_ms),
        ),
        (
            "  phase ownership (wall)",
            Driver::Both,
            steady(|p| p.ownership_ms),
        ),
        (
            "  phase peers (wall)",
            Driver::Sockets,
            steady(|p| p.peers_ms),
        ),
        (
            "floor: stat preads + dump+info",
            Driver::Both,
            Medians::floor(r).cpu,
        ),
        (
            "  pread every /proc/<pid>/stat",
            Driver::Processes,
            r.stat_preads.median_cpu(),
        ),
        (
            "  sock_diag dump (raw)",
            Driver::Sockets,
            r.raw_dump.median_cpu(),
        ),
        (
            "  same, with tcp_info",
            Driver::Sockets,
            r.raw_dump_info.median_cpu(),
        ),
        ("ss -tanp", Driver::Both, r.ss.median_cpu()),
        ("ss -tanpi", Driver::Both, r.ss_info.median_cpu()),
        (
            "ps -eo pid,user,pcpu,rss,args",
            Driver::Processes,
            r.ps.median_cpu(),
        ),
    ]
}

/// The growth tables from scale `a` to scale `b`.
pub(crate) fn print_growth(a: &ScaleRun, b: &ScaleRun) {
    let (ca, cb) = (Counts::of(a), Counts::of(b));
    println!();
    println!(
        "== growth, scale {} -> {}: processes {:.0} -> {:.0} (x{:.2}), TCP sockets {:.0} -> \
         {:.0} (x{:.2}) ==",
        a.number,
        b.number,
        ca.processes,
        cb.processes,
        cb.processes / ca.processes,
        ca.sockets,
        cb.sockets,
        cb.sockets / ca.sockets
    );
    print_cost_growth(a, b);
    print_memory_growth(a, b);
    println!();
    print_ratio_growth(a, b);
}

/// Each measurement at both scales, per process and per socket, against its driver.
fn print_cost_growth(a: &ScaleRun, b: &ScaleRun) {
    let (ca, cb) = (Counts::of(a), Counts::of(b));
    let processes = cb.processes / ca.processes;
    let sockets = cb.sockets / ca.sockets;
    println!(
        "| {:<31} | {:>3} | {:>9} | {:>9} | {:>6} | {:>7} | {:>7} | {:>7} | {:>7} | {:<25} |",
        "cpu median ms",
        "by",
        format!("scale {}", a.number),
        format!("scale {}", b.number),
        "growth",
        format!("us/P @{}", a.number),
        format!("us/P @{}", b.number),
        format!("us/S @{}", a.number),
        format!("us/S @{}", b.number),
        "against its driver"
    );
    println!(
        "|{:-<33}|{:-<5}|{:->11}|{:->11}|{:->8}|{:->9}|{:->9}|{:->9}|{:->9}|{:-<27}|",
        "", "", "", "", "", "", "", "", "", ""
    );
    for ((name, driver, at_a), (_, _, at_b)) in rows(a).into_iter().zip(rows(b)) {
        let growth = at_b / at_a;
        println!(
            "| {:<31} | {:>3} | {:>9.2} | {:>9.2} | {:>5.2}x | {:>7.2} | {:>7.2} | {:>7.3} | {:>7.3} | {:<25} |",
            name,
            driver.label(),
            at_a,
            at_b,
            growth,
            at_a * 1000.0 / ca.processes,
            at_b * 1000.0 / cb.processes,
            at_a * 1000.0 / ca.sockets,
            at_b * 1000.0 / cb.sockets,
            verdict(growth, driver, processes, sockets)
        );
    }
    println!(
        "(us/P, us/S: the cost divided by the processes or the TCP sockets at that scale; \
         P+S is linear when its growth lies between x{:.2} and x{:.2}, within {:.0}%)",
        processes.min(sockets),
        processes.max(sockets),
        LINEAR_TOLERANCE * 100.0
    );
}

/// One sampler's peak memory over its start at both scales (memory.rs).
fn print_memory_growth(a: &ScaleRun, b: &ScaleRun) {
    let (ca, cb) = (Counts::of(a), Counts::of(b));
    let (ma, mb) = (
        a.memory.peak_growth_kib() as f64,
        b.memory.peak_growth_kib() as f64,
    );
    println!(
        "sampler peak memory over its start: {:.1} -> {:.1} MiB (x{:.2}); {:.2} -> {:.2} KiB a \
         process, {:.3} -> {:.3} KiB a socket; {}",
        mib(a.memory.peak_growth_kib()),
        mib(b.memory.peak_growth_kib()),
        mb / ma,
        ma / ca.processes,
        mb / cb.processes,
        ma / ca.sockets,
        mb / cb.sockets,
        verdict(
            mb / ma,
            Driver::Both,
            cb.processes / ca.processes,
            cb.sockets / ca.sockets
        )
    );
}

/// The ratios of the scale tables at both scales, and how they changed.
fn print_ratio_growth(a: &ScaleRun, b: &ScaleRun) {
    println!(
        "| {:<31} | {:>9} | {:>9} | {:>16} |",
        "ratio of cpu medians",
        format!("scale {}", a.number),
        format!("scale {}", b.number),
        "ratio of ratios"
    );
    println!("|{:-<33}|{:->11}|{:->11}|{:->18}|", "", "", "", "");
    for ((name, num_a, den_a), (_, num_b, den_b)) in
        ratios(&a.results).into_iter().zip(ratios(&b.results))
    {
        let (at_a, at_b) = (num_a.cpu / den_a.cpu, num_b.cpu / den_b.cpu);
        println!(
            "| {:<31} | {:>8.2}x | {:>8.2}x | {:>15.2}x |",
            name,
            at_a,
            at_b,
            at_b / at_a
        );
    }
    println!(
        "(ratio of ratios above 1: wiretop's cost grows faster than what it is compared with)"
    );
}
