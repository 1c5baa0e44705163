//! How responsive the explorer is, and what it costs to leave it open.
//!
//! `cargo bench --bench explorer` measures, and prints as tables:
//!
//! 1. Render cost: a synthetic 5,000-process snapshot drawn into a ratatui `TestBackend` at
//!    200x50 and 80x24 (prepare + draw, including ratatui's buffer diff), for an unchanged view,
//!    the frame after a re-sort, a filter, five expanded rows, the tree view and a new snapshot
//!    arriving. Target: 2 ms per frame.
//! 2. In-process input-to-frame latency: `App::on_key` plus the frame it asks for. Target: 16 ms.
//! 3. End-to-end keypress-to-screen latency: `target/release/wiretop --interval 2s` in a real
//!    pty, read back through vt100, alternating the `N` and `P` sort keys and waiting for the
//!    sort marker in the title row to flip.
//! 4. Idle cost: wiretop at its default 2 s interval, htop (`-d 20`) and btop (update_ms 2000)
//!    side by side in ptys for `WIRETOP_BENCH_IDLE_SECS` (default 60) after a warm-up: CPU time
//!    from /proc/<pid>/stat (and per second), terminal output volume, each tool's resident
//!    memory. Twice: (a) on the quiet host, (b) under a load the bench builds and tears down
//!    itself, 1,000 idle processes and 10,000 loopback connections (20,000 sockets; knob
//!    `WIRETOP_BENCH_IDLE_SCALE`, processes x connections, default `1000x10000`), with
//!    wiretop's tick floor measured on that load. Issue 13's targets are printed as PASS/MISS
//!    (`targets.rs`); a miss does not fail the bench.
//!
//! Other knobs: `WIRETOP_BENCH_UI_PROCS` (synthetic processes, default 5000),
//! `WIRETOP_BENCH_FRAMES` (frames or keys per in-process row, default 200),
//! `WIRETOP_BENCH_KEY_SAMPLES` (pty keypresses, default 50), `WIRETOP_BENCH_WARMUP_SECS`
//! (default 5), `WIRETOP_BENCH_SHOW_SCREENS` (set: print each tool's screen at the end of the
//! idle window to stderr).
//!
//! Every child runs in a session of its own with its pty as controlling terminal; a guard kills
//! and reaps them however the bench ends (and the pty hang-up reaches them if the bench dies).
//! The measurements are in one file each (`frames`, `latency`, `idle`, `under_load`), the
//! synthetic host in `synthetic`; programs run in ptys through the tests' own harness
//! (`tests/common/pty.rs`). The load (benches/support/load.rs) is held by this binary started
//! again in a helper role, which `main` dispatches first.
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

#[path = "../../tests/common/pty.rs"]
mod pty;

#[path = "../../tests/common/system.rs"]
mod system;

mod frames;
mod idle;
mod latency;
mod programs;
mod synthetic;
mod targets;
mod under_load;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};

use frames::{input_rows, print_rows, render_rows};
use idle::{idle_cost, idle_problems, print_idle, tools};
use latency::{end_to_end, end_to_end_problems, print_end_to_end};
use programs::{wiretop_binary, ScratchDir};
use synthetic::{next_snapshot, snapshot_of, synthetic_processes};
use under_load::{idle_under_load, print_under_load};

/// When the synthetic snapshot was taken, and the "now" every frame is drawn at.
pub(crate) const TAKEN_AT_MS: u64 = wiretop::model::examples::TAKEN_AT_MS;
pub(crate) const NOW_MS: u64 = TAKEN_AT_MS + 2_000;

pub(crate) const FRAME_TARGET_MS: f64 = 2.0;
pub(crate) const INPUT_TARGET_MS: f64 = 16.0;
/// In-process terminal sizes (columns, rows).
pub(crate) const SIZES: [(u16, u16); 2] = [(200, 50), (80, 24)];
/// Untimed frames before each measured row, so allocations and caches settle.
pub(crate) const WARMUP_FRAMES: usize = 10;

pub(crate) const PTY_COLS: u16 = 120;
pub(crate) const PTY_ROWS: u16 = 40;
/// How long a child may take to show its first screen, and a key its effect.
pub(crate) const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const KEY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads from a pty closer together than this belong to the same screen update.
pub(crate) const BURST_GAP: Duration = Duration::from_millis(100);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((first, rest)) if first == load::HELPER_ARG => load::run_helper(rest),
        _ => run(),
    };
    match outcome {
        Ok(()) => {}
        Err(error) => {
            eprintln!("explorer bench failed: {error:#}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

pub(crate) struct Config {
    procs: usize,
    pub(crate) frames: usize,
    pub(crate) key_samples: usize,
    pub(crate) warmup_secs: u64,
    pub(crate) idle_secs: u64,
    /// The load of the second idle window.
    pub(crate) idle_scale: load::Scale,
}

impl Config {
    fn from_env() -> Result<Config> {
        let config = Config {
            procs: support::env_number("WIRETOP_BENCH_UI_PROCS", 5000)? as usize,
            frames: support::env_number("WIRETOP_BENCH_FRAMES", 200)? as usize,
            key_samples: support::env_number("WIRETOP_BENCH_KEY_SAMPLES", 50)? as usize,
            warmup_secs: support::env_number("WIRETOP_BENCH_WARMUP_SECS", 5)?,
            idle_secs: support::env_number("WIRETOP_BENCH_IDLE_SECS", 60)?,
            idle_scale: match std::env::var("WIRETOP_BENCH_IDLE_SCALE") {
                Ok(text) => load::Scale::parse(&text)?,
                Err(_) => load::Scale {
                    procs: 1000,
                    conns: 10_000,
                },
            },
        };
        ensure!(
            config.procs >= 10,
            "WIRETOP_BENCH_UI_PROCS must be at least 10"
        );
        ensure!(
            config.frames >= 1,
            "WIRETOP_BENCH_FRAMES must be at least 1"
        );
        ensure!(
            config.key_samples >= 1,
            "WIRETOP_BENCH_KEY_SAMPLES must be at least 1"
        );
        ensure!(
            config.idle_secs >= 1,
            "WIRETOP_BENCH_IDLE_SECS must be at least 1"
        );
        Ok(config)
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// Summary of a series of durations in milliseconds.
pub(crate) struct Summary {
    pub(crate) count: usize,
    pub(crate) median: f64,
    pub(crate) p95: f64,
    pub(crate) max: f64,
}

impl Summary {
    pub(crate) fn of(samples: &[f64]) -> Summary {
        Summary {
            count: samples.len(),
            median: support::median(samples),
            p95: support::percentile(samples, 95.0),
            max: samples.iter().copied().fold(f64::NAN, f64::max),
        }
    }

    pub(crate) fn verdict(&self, target_ms: f64) -> &'static str {
        if self.p95 <= target_ms {
            "ok"
        } else if self.median <= target_ms {
            "p95 over"
        } else {
            "OVER"
        }
    }
}

pub(crate) fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The shared machine line plus how many processes this host runs.
fn machine_line() -> String {
    let processes = std::fs::read_dir("/proc").map_or(0, |dir| {
        dir.filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .count()
    });
    format!(
        "{}, {processes} processes on this host",
        support::machine_line()
    )
}

fn run() -> Result<()> {
    // The explorer under load holds the /proc files of every process, as on a host whose hard
    // limit is the usual one; the child inherits what is raised here.
    let fd_limit = limits::raise_fd_limit_for_root();
    let config = Config::from_env()?;
    let started = Instant::now();
    let binary = wiretop_binary()?;
    let home = ScratchDir::new()?;
    let load_before = support::load_average();

    eprintln!("building a synthetic host of {} processes", config.procs);
    let a = Arc::new(snapshot_of(
        synthetic_processes(config.procs, 0x00c0_ffee_1234_5678),
        TAKEN_AT_MS,
    ));
    let b = Arc::new(next_snapshot(&a, 0x0bad_5eed));
    let listeners = a
        .processes
        .iter()
        .filter(|p| !p.listening.is_empty())
        .count();
    let with_conns = a
        .processes
        .iter()
        .filter(|p| !p.connections.is_empty())
        .count();

    eprintln!("1/4 render cost");
    let render = render_rows(&config, &a, &b)?;
    eprintln!("2/4 in-process input latency");
    let input = input_rows(&config, &a)?;
    eprintln!("3/4 end-to-end keypress latency in a pty");
    let e2e = end_to_end(&config, &binary, &home.0)?;
    eprintln!(
        "4/4 idle cost on the quiet host ({} s warm-up + {} s window)",
        config.warmup_secs, config.idle_secs
    );
    let (tools, tool_notes) = tools(&binary, &home.0)?;
    let mut quiet = idle_cost(&config, &tools, &home.0)?;
    quiet.notes.extend(tool_notes);
    eprintln!(
        "4/4 idle cost under load ({} s warm-up + {} s window)",
        config.warmup_secs, config.idle_secs
    );
    let busy = idle_under_load(&config, &tools, &home.0)?;
    let load_after = support::load_average();

    println!();
    println!("wiretop explorer bench");
    println!("machine: {}", machine_line());
    println!("descriptors: {fd_limit}");
    println!("load average: {load_before} before, {load_after} after");
    println!("binary: {}", binary.display());
    println!(
        "synthetic snapshot: {} processes ({} listening, {} with connections, {} listening \
         sockets, {} established), seeded, drawn at a fixed time",
        a.processes.len(),
        listeners,
        with_conns,
        a.host.counts.listening_sockets,
        a.host.counts.established_connections
    );
    println!();
    print_rows(
        &format!(
            "1. Render cost per frame (prepare + draw into ratatui TestBackend, colour theme), \
             target {FRAME_TARGET_MS} ms"
        ),
        &render,
        FRAME_TARGET_MS,
    );
    println!();
    print_rows(
        &format!(
            "2. In-process input-to-frame latency (App::on_key + prepare + draw), target \
             {INPUT_TARGET_MS} ms"
        ),
        &input,
        INPUT_TARGET_MS,
    );
    println!("(TestBackend stores cells only: the terminal write and the emulator are section 3)");
    println!();
    print_end_to_end(&e2e);
    println!();
    print_idle("4a. Idle cost on the quiet host", &quiet, &config);
    targets::print_quiet_targets(&quiet);
    println!();
    print_under_load(&busy, &config);
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());

    let mut problems = Vec::new();
    for row in render.iter().chain(&input) {
        let target = if render.iter().any(|r| std::ptr::eq(r, row)) {
            FRAME_TARGET_MS
        } else {
            INPUT_TARGET_MS
        };
        if row.summary.p95 > target {
            problems.push(format!(
                "{} at {}: p95 {:.2} ms over the {target} ms target",
                row.name, row.size, row.summary.p95
            ));
        }
    }
    problems.extend(end_to_end_problems(&e2e, &config));
    problems.extend(idle_problems("quiet host", &quiet));
    problems.extend(idle_problems("under load", &busy.window));
    problems.extend(
        busy.fitted
            .reasons
            .iter()
            .map(|reason| format!("idle under load, asked for {}: {reason}", busy.requested)),
    );
    support::print_problems(&problems);
    Ok(())
}
