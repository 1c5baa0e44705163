//! The sampler: reads the operating system into [`Snapshot`]s and publishes them.
//!
//! This is the only part of wiretop that touches the operating system. It never knows who reads
//! its snapshots: the explorer and the uplink receive each one through the callback given to
//! [`spawn`], on the sampler's thread, and never wait for a scan; `wiretop snapshot` takes one
//! from [`sample_once`]. Between snapshots, [`proc_events`] hears of every fork, exec and exit
//! from the kernel (when privileged), so processes too short-lived for any snapshot are seen.

mod attribution;
mod closed;
mod events;
mod exclude;
mod kernel_events;
mod linux;
mod rates;
mod settings;
mod traffic;

pub use attribution::AttributionSettings;
pub use linux::{proc_events, NICE_RANGE};
pub use settings::SamplerSettings;

/// The parsers of process-controlled `/proc` text, reachable only for the fuzz targets in
/// `fuzz/` (they link the crate from outside, so `pub(crate)` would hide them). Not an API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::linux::fuzzing::*;
}

/// For the benchmarks: the kernel's share of the socket part of a tick. Not an API.
#[doc(hidden)]
pub mod measure {
    pub use super::linux::raw_tcp_dump;
}

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::model::Snapshot;

use linux::Collector;

/// The gap between the two readings of a one-shot sample: long enough for CPU figures to mean
/// something, short enough for an interactive command.
pub const ONE_SHOT_GAP: Duration = Duration::from_millis(250);

/// Failures that make a whole sample impossible. Per-process problems (an exited process, a
/// field we may not read) are not errors: they are recorded in the snapshot.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SampleError {
    /// A host-wide file could not be read: /proc is missing, not procfs, or broken.
    #[error("cannot read {what}: {reason}")]
    Host { what: &'static str, reason: String },
}

/// Why a signal was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("has exited")]
    Exited,
    /// The pid now belongs to a process that started later.
    #[error("has exited and its pid belongs to another process now")]
    Replaced,
    #[error("operation not permitted (EPERM)")]
    Denied,
    #[error("signal {0} does not exist")]
    Invalid(i32),
    #[error("{0}")]
    Other(String),
}

/// Sends `signal` to the process `pid` only if it is still the one that started at
/// `start_time_ms` (as snapshots report it): a pid reused since the snapshot is never signalled.
pub fn signal_process(pid: u32, start_time_ms: u64, signal: i32) -> Result<(), SignalError> {
    linux::signal_process(pid, start_time_ms, signal)
}

/// Why a process's nice value was not changed (or read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReniceError {
    #[error("has exited")]
    Exited,
    /// The pid now belongs to a process that started later.
    #[error("has exited and its pid belongs to another process now")]
    Replaced,
    /// A lower nice value (more priority) needs CAP_SYS_NICE.
    #[error("permission denied (EACCES): only root may raise a priority")]
    NeedsPrivilege,
    /// Another user's process.
    #[error("operation not permitted (EPERM)")]
    Denied,
    #[error("{0}")]
    Other(String),
}

/// Sets the nice value of the process `pid` (clamped to -20..=19) only if it is still the one
/// that started at `start_time_ms`, as [`signal_process`] does; returns the value set.
pub fn renice_process(pid: u32, start_time_ms: u64, nice: i32) -> Result<i32, ReniceError> {
    linux::renice_process(pid, start_time_ms, nice)
}

/// The nice value of the process `pid`, only if it is still the one that started at
/// `start_time_ms`.
pub fn nice_of(pid: u32, start_time_ms: u64) -> Result<i32, ReniceError> {
    linux::nice_of(pid, start_time_ms)
}

/// Takes snapshots on demand, keeping what rates and caches need between calls.
pub struct Sampler {
    collector: Collector,
    settings: SamplerSettings,
    events: events::EventTracker,
}

impl Sampler {
    /// A sampler with nothing read yet.
    pub fn new(settings: SamplerSettings) -> Self {
        Sampler {
            collector: Collector::new(),
            events: events::EventTracker::new(&settings),
            settings,
        }
    }

    /// Replaces the settings from the next snapshot on.
    pub fn update(&mut self, settings: SamplerSettings) {
        self.collector.forget_details();
        self.events.reconfigure(&settings);
        self.settings = settings;
    }

    /// Reads the counters that the first snapshot's rates are computed against.
    pub fn prime(&mut self) -> Result<(), SampleError> {
        self.collector.prime(&self.settings)
    }

    /// Takes one snapshot. Rates (CPU%, disk rates) cover the time since the previous call or
    /// [`Self::prime`]; without either they are null.
    /// Why the kernel's process events are not followed (so short-lived processes are
    /// missed), or None when they are.
    pub fn kernel_events_unavailable(&self) -> Option<String> {
        self.events
            .kernel_events_unavailable()
            .map(|why| format!("the kernel's process events are not followed ({why})"))
    }

    pub fn sample(&mut self) -> Result<Snapshot, SampleError> {
        let mut snapshot = self.collector.collect(&self.settings)?;
        self.events.observe(&mut snapshot);
        if let Some(baseline) = &self.settings.baseline {
            baseline.judge(&snapshot).apply(&mut snapshot);
        }
        Ok(snapshot)
    }
}

/// One snapshot with real CPU figures: a baseline reading, a short pause, then the snapshot.
pub fn sample_once(settings: &SamplerSettings) -> Result<Snapshot, SampleError> {
    // One snapshot has no events: no subscription to the kernel's (a thread, and a wait for
    // the kernel's answer) for nothing.
    let mut sampler = Sampler::new(SamplerSettings {
        process_events: false,
        ..settings.clone()
    });
    sampler.prime()?;
    std::thread::sleep(ONE_SHOT_GAP);
    sampler.sample()
}

/// A sampler running on its own thread. Dropping it stops the thread.
pub struct RunningSampler {
    control: Option<mpsc::Sender<Control>>,
    thread: Option<JoinHandle<()>>,
}

/// What the owner can ask of the sampler thread (dropping the sender stops it).
enum Control {
    /// New settings (remote configuration): they apply from the next snapshot on.
    Update(Box<SamplerSettings>),
}

impl RunningSampler {
    /// Stops the thread and waits for the scan in progress, if any, to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// Replaces the settings; the next snapshot uses them. Command lines already read are
    /// scrubbed again with the new scrubber.
    pub fn update(&self, settings: SamplerSettings) {
        if let Some(control) = &self.control {
            let _ = control.send(Control::Update(Box::new(settings)));
        }
    }

    fn shutdown(&mut self) {
        self.control.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningSampler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// What the sampler thread reports after each attempt.
pub enum SampleOutcome<'a> {
    /// A new snapshot.
    Published(&'a Arc<Snapshot>),
    /// The attempt failed; the next one comes at the next tick.
    Failed(&'a SampleError),
}

/// Starts the sampler thread. `on_publish` runs on that thread after each attempt; it must
/// return quickly (send on a channel, wake a loop).
pub fn spawn(
    settings: SamplerSettings,
    on_publish: impl Fn(SampleOutcome<'_>) + Send + 'static,
) -> std::io::Result<RunningSampler> {
    let (stop_tx, stop_rx) = mpsc::channel::<Control>();
    let thread = std::thread::Builder::new()
        .name("wiretop-sampler".to_owned())
        .spawn(move || run(settings, &stop_rx, &on_publish))?;
    Ok(RunningSampler {
        control: Some(stop_tx),
        thread: Some(thread),
    })
}

fn run(
    settings: SamplerSettings,
    control: &mpsc::Receiver<Control>,
    on_publish: &dyn Fn(SampleOutcome<'_>),
) {
    let mut interval = settings.interval;
    let mut sampler = Sampler::new(settings);
    // The first snapshot comes after a short baseline, not a whole interval, so a user sees
    // real figures within a second of starting.
    let mut next = Instant::now() + ONE_SHOT_GAP.min(interval);
    if let Err(e) = sampler.prime() {
        on_publish(SampleOutcome::Failed(&e));
    }
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match control.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Control::Update(settings)) => {
                let faster = settings.interval < interval;
                interval = settings.interval;
                sampler.update(*settings);
                if faster {
                    next = next.min(Instant::now() + interval);
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
        match sampler.sample() {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                on_publish(SampleOutcome::Published(&snapshot));
            }
            Err(e) => {
                on_publish(SampleOutcome::Failed(&e));
            }
        }
        // Keep to the schedule, but never queue up missed ticks after a slow scan.
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now + interval / 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::baseline::Baseline;

    /// With a baseline, each snapshot's processes come judged: against the host as it was, only
    /// what started since can be unexpected; against an empty host, every user process is.
    #[test]
    fn a_sampler_with_a_baseline_judges_every_snapshot() {
        let mut plain = Sampler::new(SamplerSettings::default());
        plain.prime().unwrap();
        let host = plain.sample().unwrap();
        assert!(host.processes.iter().all(|p| p.unexpected.is_none()));

        let empty = Baseline::from_snapshot(&Snapshot::example(Vec::new()));
        let mut judged = Sampler::new(SamplerSettings {
            baseline: Some(Arc::new(empty)),
            ..SamplerSettings::default()
        });
        judged.prime().unwrap();
        let snapshot = judged.sample().unwrap();
        let me = snapshot
            .process(std::process::id())
            .expect("this test process is listed");
        assert_eq!(me.unexpected, Some(true), "{:?}", me.unexpected_reasons);
        assert!(snapshot
            .processes
            .iter()
            .filter(|p| p.kernel_thread)
            .all(|p| p.unexpected == Some(false)));
    }

    /// A child started under `nice -n 7` is listed with its nice value and the priority the
    /// kernel derives from it; the host has a CPU split for each of its cores.
    #[test]
    fn a_niced_child_and_each_core_are_in_the_snapshot() {
        let mut child = std::process::Command::new("nice")
            .args(["-n", "7", "sleep", "30"])
            .spawn()
            .expect("nice runs");
        crate::sample::linux::test_support::wait_for_exec(&child);
        let snapshot = sample_once(&SamplerSettings::default());
        let _ = child.kill();
        let _ = child.wait();
        let snapshot = snapshot.unwrap();
        let sleeper = snapshot.process(child.id()).expect("the child is listed");
        assert_eq!(sleeper.name, "sleep");
        assert_eq!((sleeper.nice, sleeper.priority), (Some(7), Some(27)));
        let me = snapshot.process(std::process::id()).expect("this test");
        assert_eq!(me.nice, Some(0));

        let host = &snapshot.host;
        assert_eq!(host.cpus.len(), host.cpu_count as usize);
        for core in &host.cpus {
            let sum =
                core.user_pct + core.system_pct + core.iowait_pct + core.idle_pct + core.steal_pct;
            assert!((sum - 100.0).abs() < 0.01, "{core:?}");
        }
    }
}
