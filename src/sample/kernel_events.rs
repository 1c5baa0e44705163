//! What the kernel's process events add to a snapshot's events: the exit status and runtime
//! of processes the snapshots saw exit, and the processes no snapshot saw at all (started and
//! ended between two of them). Where the kernel's events cannot be had (unprivileged, in a
//! container, switched off), the snapshot says why and its events are the diff's alone.

use rustc_hash::{FxHashMap, FxHashSet};

use super::linux::proc_events::{
    self, ExecDetails, ExitDetails, ProcEvent, ProcEventKind, ProcEvents, ProcEventsSettings,
};
use super::linux::UserNames;
use super::SamplerSettings;
use crate::model::{EventSource, ExitStatus, LifecycleEvent, LifecycleKind, Snapshot};

/// The subscription, or why there is none.
pub enum KernelFeed {
    On(ProcEvents, Carried),
    Off(String),
}

/// What one drain hands to the next: the kernel's events arrive as they happen, the snapshots
/// every interval, and a drain falls between a process's /proc read and its exit, or between
/// its exec and its exit.
#[derive(Default)]
pub struct Carried {
    /// Execs not yet matched: kept until the process exits, or a snapshot lists it.
    execs: FxHashMap<u32, (u64, Option<u32>, ExecDetails)>,
    /// Exits of processes the snapshot of their drain still listed (read just before they
    /// exited, or zombies): matched when a later diff sees them go.
    exits: FxHashMap<u32, (u64, Option<u32>, ExitDetails)>,
}

/// Processes carried between drains, at most (of each kind): the oldest go first.
const MAX_CARRIED: usize = 4_096;

impl KernelFeed {
    pub fn start(settings: &SamplerSettings) -> KernelFeed {
        if !settings.process_events {
            return KernelFeed::Off("process_events is off".to_owned());
        }
        match ProcEvents::start(ProcEventsSettings::from_sampler(settings)) {
            Ok(feed) => KernelFeed::On(feed, Carried::default()),
            Err(why) => KernelFeed::Off(why.to_string()),
        }
    }

    /// Why the kernel's process events are not followed, if they are not.
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            KernelFeed::On(..) => None,
            KernelFeed::Off(why) => Some(why),
        }
    }

    /// Folds what the kernel reported since the last call into `events` (the diff between
    /// `previous` and `snapshot`), and records in the snapshot what was lost or why nothing
    /// came.
    pub fn fold_into(
        &mut self,
        previous: Option<&Snapshot>,
        snapshot: &mut Snapshot,
        events: &mut Vec<LifecycleEvent>,
        users: &mut UserNames,
    ) {
        let KernelFeed::On(feed, carried) = self else {
            snapshot.collection.process_events_unavailable = self.unavailable().map(str::to_owned);
            return;
        };
        let drained = feed.drain();
        if drained.dropped > 0 {
            snapshot.collection.process_events_dropped = drained.dropped;
            snapshot.collection.warnings.push(format!(
                "{} process events lost (more than the queue holds between two samples, or the \
                 kernel's buffer overran {} times)",
                drained.dropped, drained.kernel_overruns
            ));
        }
        // A snapshot's first pass has nothing to compare with: what the kernel said before it
        // is the state the snapshot shows.
        let mut reported = Reported::of(drained.events);
        carried.carry_into(&mut reported);
        if let Some(previous) = previous {
            merge(&mut reported, previous, snapshot, events, users);
        }
        carried.keep(reported, snapshot);
        if let Some(why) = drained.stopped {
            tracing::warn!("process events stopped: {why}");
            *self = KernelFeed::Off(format!("stopped: {why}"));
        }
    }
}

/// The kernel's events of one interval, by pid: the last exec and fork, and the exit.
#[derive(Default)]
struct Reported {
    forks: FxHashMap<u32, (u64, Option<u32>)>,
    execs: FxHashMap<u32, (u64, Option<u32>, ExecDetails)>,
    exits: FxHashMap<u32, (u64, Option<u32>, ExitDetails)>,
}

impl Reported {
    fn of(events: Vec<ProcEvent>) -> Reported {
        let mut reported = Reported::default();
        for ProcEvent {
            pid,
            ppid,
            at_ms,
            kind,
        } in events
        {
            match kind {
                ProcEventKind::Fork => {
                    reported.forks.insert(pid, (at_ms, ppid));
                }
                ProcEventKind::Exec(details) => {
                    reported.execs.insert(pid, (at_ms, ppid, details));
                }
                ProcEventKind::Exit(details) => {
                    reported.exits.insert(pid, (at_ms, ppid, details));
                }
                // Seen in the snapshots' diff (user or name changed) when they last.
                ProcEventKind::Uid { .. } | ProcEventKind::Comm { .. } => {}
            }
        }
        reported
    }
}

impl Carried {
    /// Adds what earlier drains left unmatched to this drain's events (this drain's win).
    fn carry_into(&mut self, reported: &mut Reported) {
        for (pid, exec) in self.execs.drain() {
            reported.execs.entry(pid).or_insert(exec);
        }
        for (pid, exit) in self.exits.drain() {
            reported.exits.entry(pid).or_insert(exit);
        }
    }

    /// Keeps, for the next drain, the execs of processes still running and not listed, and the
    /// exits of processes the snapshot still lists.
    fn keep(&mut self, reported: Reported, snapshot: &Snapshot) {
        let listed: FxHashSet<u32> = snapshot.processes.iter().map(|p| p.pid).collect();
        let exited: FxHashSet<u32> = reported.exits.keys().copied().collect();
        self.execs = bounded(
            reported
                .execs
                .into_iter()
                .filter(|(pid, _)| !listed.contains(pid) && !exited.contains(pid)),
        );
        self.exits = bounded(
            reported
                .exits
                .into_iter()
                .filter(|(pid, _)| listed.contains(pid)),
        );
    }
}

/// The newest [`MAX_CARRIED`] of `items` (by their time, the first of each value).
fn bounded<T>(
    items: impl Iterator<Item = (u32, (u64, Option<u32>, T))>,
) -> FxHashMap<u32, (u64, Option<u32>, T)> {
    let mut items: Vec<_> = items.collect();
    if items.len() > MAX_CARRIED {
        items.sort_by_key(|(_, (at_ms, _, _))| std::cmp::Reverse(*at_ms));
        items.truncate(MAX_CARRIED);
    }
    items.into_iter().collect()
}

fn merge(
    reported: &mut Reported,
    previous: &Snapshot,
    snapshot: &Snapshot,
    events: &mut Vec<LifecycleEvent>,
    users: &mut UserNames,
) {
    // The exits the snapshots saw get the kernel's time, status and runtime.
    for event in events
        .iter_mut()
        .filter(|e| e.kind == LifecycleKind::Exited)
    {
        // Gone: its exec (if the listener saw one) is no longer news either.
        reported.execs.remove(&event.pid);
        let Some((at_ms, _, exit)) = reported.exits.remove(&event.pid) else {
            continue;
        };
        event.observed_at_ms = at_ms;
        event.exit = Some(model_status(exit.status));
        // The snapshots know when it really started; the listener only since it saw a fork or
        // exec (an exec of a process forked before wiretop would count from the exec).
        event.runtime_ms = at_ms
            .checked_sub(event.start_time_ms)
            .or_else(|| exit.lifetime.map(|l| duration_ms(l.runtime)));
        event.source = EventSource::Kernel;
    }
    let listed: FxHashSet<u32> = previous
        .processes
        .iter()
        .chain(&snapshot.processes)
        .map(|p| p.pid)
        .collect();
    // The processes no snapshot listed: each started and ended in between. Only those whose
    // exec the listener saw: it read (and scrubbed, and matched against the exclude patterns)
    // their command line then. An exit with no exec is a fork that never exec'd, or a process
    // started before wiretop that no snapshot listed because it is excluded: neither is news,
    // and the second must stay unreported.
    let gone: Vec<u32> = reported
        .exits
        .keys()
        .copied()
        .filter(|pid| !listed.contains(pid) && reported.execs.contains_key(pid))
        .collect();
    let mut short_lived: Vec<(u32, u64, Option<u32>, ExitDetails)> = gone
        .into_iter()
        .filter_map(|pid| {
            let (at_ms, ppid, exit) = reported.exits.remove(&pid)?;
            Some((pid, at_ms, ppid, exit))
        })
        .collect();
    short_lived.sort_by_key(|(pid, at_ms, _, _)| (*at_ms, *pid));
    for (pid, ended_ms, ppid, exit) in short_lived {
        let exec = reported.execs.remove(&pid);
        let fork = reported.forks.remove(&pid);
        let started_ms = exit
            .lifetime
            .map(|l| l.started_at_ms)
            .or(fork.map(|(at, _)| at))
            .or(exec.as_ref().map(|(at, _, _)| *at))
            .unwrap_or(ended_ms);
        let details = exec.as_ref().map(|(_, _, details)| details);
        let name = details
            .and_then(|d| d.name.clone())
            .or_else(|| exit.name.clone())
            .unwrap_or_default();
        let cmdline = details.and_then(|d| d.cmdline.clone()).unwrap_or_default();
        // The sampler's cache, looked up once a uid (a scan of the snapshot per event would
        // cost thousands of comparisons an event in an exec storm).
        let user = details
            .and_then(|d| d.uid)
            .and_then(|uid| users.name_of(uid));
        let ppid = ppid
            .or(exec.as_ref().and_then(|(_, p, _)| *p))
            .or(fork.and_then(|(_, p)| p));
        let event = |kind, at_ms| LifecycleEvent {
            kind,
            pid,
            ppid,
            name: name.clone(),
            cmdline: cmdline.clone(),
            user: user.clone(),
            start_time_ms: started_ms,
            observed_at_ms: at_ms,
            exit: None,
            runtime_ms: None,
            short_lived: true,
            source: EventSource::Kernel,
        };
        events.push(event(LifecycleKind::Started, started_ms));
        let mut exited = event(LifecycleKind::Exited, ended_ms);
        exited.exit = Some(model_status(exit.status));
        exited.runtime_ms = exit
            .lifetime
            .map(|l| duration_ms(l.runtime))
            .or_else(|| ended_ms.checked_sub(started_ms));
        events.push(exited);
    }
}

fn model_status(status: proc_events::ExitStatus) -> ExitStatus {
    match status {
        proc_events::ExitStatus::Code(code) => ExitStatus::Code(code),
        proc_events::ExitStatus::Signal { signal, .. } => ExitStatus::Signal(signal),
    }
}

fn duration_ms(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
