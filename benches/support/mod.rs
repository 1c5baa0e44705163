//! What the bench binaries share: reading their size knobs from the environment, the machine
//! line, medians and percentiles, the closing list of problems.
//!
//! The files next to this one are included by path by the benches that use them (each needs
//! `crate::support` and `crate::system`, which the scrub bench does not have):
//! `load.rs` (idle processes and loopback connections held by helper processes), `limits.rs`
//! (how big a load this machine allows), `cost.rs` (what a call costs in wall and CPU time) and
//! `floor.rs` (the kernel's floor under one steady tick).

use anyhow::{Context, Result};

/// A whole number from the environment variable `name`, or `default` when it is unset.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{name}={text:?} is not a whole number")),
        Err(std::env::VarError::NotPresent) => Ok(default),
        Err(error) => Err(error).with_context(|| format!("reading {name}")),
    }
}

/// `20,000`: a count with its thousands grouped, as the tables print them.
#[allow(dead_code)] // the scrub and uplink benches print no load sizes
pub fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `2 CPUs (model), kernel 6.1.0`: what the figures were measured on.
pub fn machine_line() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "?".to_owned());
    format!("{cpus} CPUs ({model}), kernel {kernel}")
}

/// The 1, 5 and 15 minute load averages, to show how busy the machine was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// The median; NaN for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Nearest-rank percentile: with 20 values, p95 is the 19th smallest. NaN for no values.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The bench's last lines: what looked wrong in the run (too few samples, a load that did not
/// start), so a figure is never read without its caveats.
#[allow(dead_code)] // the scrub bench has no load that could fail to start
pub fn print_problems(problems: &[String]) {
    if problems.is_empty() {
        println!("problems: none seen");
    } else {
        println!("problems:");
        for problem in problems {
            println!("  - {problem}");
        }
    }
}
