//! 4b: the idle window again, on a host made busy by the bench itself (benches/support/load.rs:
//! idle processes and loopback connections held by this binary in its helper role), with the
//! kernel's floor under one wiretop tick measured on the same load (benches/support/floor.rs,
//! as the snapshot bench measures it).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::floor::Floor;
use crate::idle::{idle_cost, print_idle, IdleWindow, Tool};
use crate::limits::{self, Fitted};
use crate::load::{Load, Scale};
use crate::{targets, Config};

/// Rounds of the floor measurement (medians are taken).
const FLOOR_RUNS: usize = 20;

/// Files a sampler holds for each of up to 2,048 processes (src/sample/linux/held_fds.rs).
const SAMPLER_HELD_PROCESSES: usize = 2048;
const SAMPLER_FILES_PER_PROCESS: usize = 3;

pub(crate) struct UnderLoad {
    pub(crate) requested: Scale,
    pub(crate) fitted: Fitted,
    pub(crate) floor: Floor,
    pub(crate) window: IdleWindow,
    pub(crate) setup: Duration,
    pub(crate) teardown: Duration,
}

/// Descriptors one process needs with `processes` on the host: this bench the floor's stat
/// files, wiretop (started under the same limit) its held /proc files.
fn own_fds(processes: usize) -> u64 {
    processes.max(SAMPLER_FILES_PER_PROCESS * processes.min(SAMPLER_HELD_PROCESSES)) as u64
}

/// Builds the load (scaled down to what fits, saying why), measures the floor, runs the idle
/// window, tears the load down.
pub(crate) fn idle_under_load(config: &Config, tools: &[Tool], home: &Path) -> Result<UnderLoad> {
    let fitted = limits::fit(config.idle_scale, own_fds);
    for reason in &fitted.reasons {
        eprintln!("idle under load: {reason}");
    }
    eprintln!("idle under load: starting the load, {}", fitted.scale);
    let started = Instant::now();
    let load = Load::start(fitted.scale)?;
    let setup = started.elapsed();
    // Before the tools start, so the measurement neither competes with their window nor
    // finds them in the middle of a tick.
    let floor = Floor::measure(FLOOR_RUNS)?;
    let window = idle_cost(config, tools, home)?;
    let started = Instant::now();
    load.stop()?;
    Ok(UnderLoad {
        requested: config.idle_scale,
        fitted,
        floor,
        window,
        setup,
        teardown: started.elapsed(),
    })
}

pub(crate) fn print_under_load(busy: &UnderLoad, config: &Config) {
    print_idle(
        &format!("4b. Idle cost under load ({})", busy.fitted.scale),
        &busy.window,
        config,
    );
    for reason in &busy.fitted.reasons {
        println!("note: asked for {}, scaled down: {reason}", busy.requested);
    }
    println!(
        "load built by the bench in {:.1} s, torn down in {:.1} s; limits: {}",
        busy.setup.as_secs_f64(),
        busy.teardown.as_secs_f64(),
        busy.fitted.limits
    );
    let interval = wiretop::config::Config::default().process_agent.interval.0;
    targets::print_load_targets(&busy.window, &busy.floor, interval);
}
