//! Issue 13's targets for the idle explorer, printed as PASS or MISS under each idle table. They
//! are information: a miss does not fail the bench.
//!
//! On the quiet host wiretop should cost less CPU than htop and btop. Under load it should cost
//! less than htop, at most its tick floor rate plus an allowance, and stay within a resident
//! memory budget. The tick floor rate is what the kernel's floor under one steady tick (a pread
//! of every process's stat and the sock_diag dump with tcp_info) costs, spread over wiretop's
//! interval: wiretop cannot sample at that interval for less.

use std::time::Duration;

use crate::floor::Floor;
use crate::idle::{IdleWindow, BTOP, HTOP, WIRETOP};
use crate::support;

/// What wiretop may cost beyond its tick floor rate, in CPU milliseconds a second.
pub(crate) const FLOOR_ALLOWANCE_MS_PER_S: f64 = 2.0;
/// wiretop's resident memory under load at most, in MiB.
pub(crate) const RSS_TARGET_MIB: f64 = 15.0;

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

/// "wiretop's CPU below `label`'s" against the tool of that label, if both ran.
fn below(window: &IdleWindow, label: &str) -> String {
    match (window.tool(WIRETOP), window.tool(label)) {
        (Some(w), Some(other)) => format!(
            "{} (wiretop {:.2} ms/s, {label} {:.2} ms/s)",
            verdict(w.cpu_ms_per_s() < other.cpu_ms_per_s()),
            w.cpu_ms_per_s(),
            other.cpu_ms_per_s()
        ),
        (None, _) => "n/a (wiretop did not run)".to_owned(),
        (_, None) => format!("n/a ({label} did not run)"),
    }
}

pub(crate) fn print_quiet_targets(window: &IdleWindow) {
    println!("targets on the quiet host (information; the bench does not fail on a miss):");
    println!(
        "  wiretop's CPU below htop's (-d 20): {}",
        below(window, HTOP)
    );
    println!("  wiretop's CPU below btop's: {}", below(window, BTOP));
}

pub(crate) fn print_load_targets(window: &IdleWindow, floor: &Floor, interval: Duration) {
    let tick_ms = floor.tick_cpu_ms();
    let floor_rate = tick_ms / interval.as_secs_f64();
    println!(
        "wiretop's tick floor: {tick_ms:.2} ms CPU a tick (a pread of each of {} processes' \
         stat {:.2} ms + the sock_diag dump with tcp_info {:.2} ms, medians of {} runs) / {} s \
         interval = {floor_rate:.2} ms/s",
        support::grouped(floor.processes),
        floor.stat_preads.median_cpu(),
        floor.dump_with_info.median_cpu(),
        floor.stat_preads.len(),
        interval.as_secs_f64()
    );
    println!("targets under load (information; the bench does not fail on a miss):");
    println!(
        "  wiretop's CPU below htop's (-d 20): {}",
        below(window, HTOP)
    );
    let Some(wiretop) = window.tool(WIRETOP) else {
        println!("  (wiretop did not run: no more targets)");
        return;
    };
    let rate = wiretop.cpu_ms_per_s();
    let allowed = floor_rate + FLOOR_ALLOWANCE_MS_PER_S;
    println!(
        "  wiretop's CPU at most its tick floor rate + {FLOOR_ALLOWANCE_MS_PER_S} ms/s: {} \
         (wiretop {rate:.2} ms/s = {:.2}x the floor rate, {:+.2} ms/s over it; allowed \
         {floor_rate:.2} + {FLOOR_ALLOWANCE_MS_PER_S:.2} = {allowed:.2} ms/s)",
        verdict(rate <= allowed),
        rate / floor_rate,
        rate - floor_rate
    );
    match wiretop.rss_kib {
        Some(kib) => {
            let rss = kib as f64 / 1024.0;
            println!(
                "  wiretop's RSS at most {RSS_TARGET_MIB} MiB: {} (VmRSS {rss:.1} MiB at the end \
                 of the window; peak {})",
                verdict(rss <= RSS_TARGET_MIB),
                wiretop.peak_kib.map_or_else(
                    || "?".to_owned(),
                    |k| format!("{:.1} MiB", k as f64 / 1024.0)
                )
            );
        }
        None => println!("  wiretop's RSS at most {RSS_TARGET_MIB} MiB: n/a (VmRSS unreadable)"),
    }
}
