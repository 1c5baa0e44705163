//! What one call costs: its wall time and its CPU time (this process's for a call made here,
//! the child's own for a command), in milliseconds, and series of such costs.
#![allow(dead_code)] // each bench uses a different part of this module

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{ensure, Context, Result};

use crate::support;
use crate::system;

/// Wall and CPU time of one measured call, in milliseconds.
pub struct Cost {
    pub wall_ms: f64,
    pub cpu_ms: f64,
}

/// The costs of one measurement over the rounds.
#[derive(Default)]
pub struct Series {
    pub wall_ms: Vec<f64>,
    pub cpu_ms: Vec<f64>,
}

impl Series {
    pub fn push(&mut self, cost: Cost) {
        self.wall_ms.push(cost.wall_ms);
        self.cpu_ms.push(cost.cpu_ms);
    }

    pub fn len(&self) -> usize {
        self.wall_ms.len()
    }

    pub fn median_wall(&self) -> f64 {
        support::median(&self.wall_ms)
    }

    pub fn median_cpu(&self) -> f64 {
        support::median(&self.cpu_ms)
    }
}

/// Runs `f` and measures it in this process (CPU time of all its threads).
pub fn measure_here<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    let cpu_before = system::process_cpu_time();
    let started = Instant::now();
    let value = f();
    let wall = started.elapsed();
    let cpu = system::process_cpu_time() - cpu_before;
    let cost = Cost {
        wall_ms: wall.as_secs_f64() * 1000.0,
        cpu_ms: cpu.as_secs_f64() * 1000.0,
    };
    (value, cost)
}

/// Runs a command with its output thrown away. Wall time covers spawn to exit, as a user would
/// experience it; CPU time is the child's own, from the kernel's accounting of reaped children.
pub fn measure_command(argv: &[&str]) -> Result<Cost> {
    let started = Instant::now();
    let child = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("running `{}` (is it installed?)", argv.join(" ")))?;
    let (status, user, system) = system::wait_with_cpu(child)
        .with_context(|| format!("waiting for `{}`", argv.join(" ")))?;
    let wall = started.elapsed();
    ensure!(status.success(), "`{}` failed ({status})", argv.join(" "));
    Ok(Cost {
        wall_ms: wall.as_secs_f64() * 1000.0,
        cpu_ms: (user + system).as_secs_f64() * 1000.0,
    })
}
