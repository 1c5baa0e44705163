//! The sampler's memory at one scale, measured in a child process of its own.
//!
//! Why a child: a process's peak RSS (VmHWM) only ever grows, and by the time a scale is
//! measured the bench process has run the scales before it, three samplers at once and the
//! floor: its own peak says little about one sampler at this scale. The child is this binary
//! started again in the probe role ([`PROBE_ARG`]) with the load up; it holds one sampler with
//! wiretop's default settings, as `wiretop` does, and reports its VmRSS before sampling, its
//! peak after the first snapshot (the full ownership scan) and after [`TICKS`] ticks at
//! wiretop's interval (each built while the last is still held, as the explorer holds the
//! snapshot it shows), and its VmRSS at the end. It runs after the bench's own samplers are
//! dropped, so their held /proc files are not in its scan, and it times nothing.

use std::io::Read;
use std::process::{Command, Stdio};

use anyhow::{ensure, Context, Result};
use wiretop::sample::{Sampler, SamplerSettings};

use crate::system;

/// First argument that turns this binary into the memory probe.
pub(crate) const PROBE_ARG: &str = "__wiretop_bench_memory";
/// Steady ticks after the first snapshot.
pub(crate) const TICKS: usize = 5;

/// What the probe reports, in KiB.
pub(crate) struct Memory {
    pub(crate) rss_before_kib: u64,
    pub(crate) peak_after_first_kib: u64,
    pub(crate) peak_kib: u64,
    pub(crate) rss_end_kib: u64,
}

impl Memory {
    /// How far the peak rose above the process before it sampled: the sampler's own share.
    pub(crate) fn peak_growth_kib(&self) -> u64 {
        self.peak_kib.saturating_sub(self.rss_before_kib)
    }
}

/// The probe role: samples as described above and prints one line for the bench.
pub(crate) fn run_probe() -> Result<()> {
    let rss_before = own("VmRSS:")?;
    let settings = SamplerSettings::default();
    let interval = settings.interval;
    let mut sampler = Sampler::new(settings);
    sampler.prime()?;
    let mut shown = sampler.sample()?;
    let peak_after_first = own("VmHWM:")?;
    for _ in 0..TICKS {
        std::thread::sleep(interval);
        // The new snapshot is built before the one shown is let go.
        shown = sampler.sample()?;
    }
    let peak = own("VmHWM:")?;
    let rss_end = own("VmRSS:")?;
    drop(shown);
    println!("memory {rss_before} {peak_after_first} {peak} {rss_end}");
    Ok(())
}

/// Starts the probe, waits for it and returns what it reported.
pub(crate) fn probe() -> Result<Memory> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let mut child = system::dies_with_us(&Command::new(exe))
        .arg(PROBE_ARG)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the memory probe")?;
    let mut text = String::new();
    child
        .stdout
        .take()
        .context("the probe's stdout was not piped")?
        .read_to_string(&mut text)
        .context("reading the memory probe's report")?;
    let status = child.wait().context("waiting for the memory probe")?;
    ensure!(
        status.success(),
        "the memory probe failed ({status}; its error is on stderr above)"
    );
    let numbers: Vec<u64> = text
        .trim()
        .strip_prefix("memory ")
        .with_context(|| format!("the memory probe said {text:?}"))?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("the memory probe said {text:?}"))?;
    match numbers[..] {
        [rss_before_kib, peak_after_first_kib, peak_kib, rss_end_kib] => Ok(Memory {
            rss_before_kib,
            peak_after_first_kib,
            peak_kib,
            rss_end_kib,
        }),
        _ => anyhow::bail!("the memory probe said {text:?}"),
    }
}

/// A VmRSS or VmHWM figure of this process, in KiB.
fn own(field: &str) -> Result<u64> {
    system::status_field(std::process::id(), field)
        .with_context(|| format!("no {field} in /proc/self/status"))
}
