//! What the kernel's process events add to a snapshot's events: the exit status and runtime
//! of processes the snapshots saw exit, and the processes no snapshot saw at all (started and
//! ended between two of them). Where the kernel's events cannot be had (unprivileged, in a
//! container, switched off), the snapshot says why and its events are the diff's alone.

use rustc_hash::{FxHashMap, FxHashSet};

use super::linux::proc_events::{
    self, ExecDetails, ExitDetails, ProcEvent, ProcEventKind, ProcEvents, ProcEventsSettings,
};
use super::SamplerSettings;
use crate::model::{EventSource, ExitStatus, LifecycleEvent, LifecycleKind, Snapshot};

/// The subscription, or why there is none.
pub enum KernelFeed {
    On(ProcEvents),
    Off(String),
}

impl KernelFeed {
    pub fn start(settings: &SamplerSettings) -> KernelFeed {
        if !settings.process_events {
            return KernelFeed::Off("process_events is off".to_owned());
        }
        match ProcEvents::start(ProcEventsSettings::from_sampler(settings)) {
            Ok(feed) => KernelFeed::On(feed),
            Err(why) => KernelFeed::Off(why.to_string()),
        }
    }

    /// Why the kernel's process events are not followed, if they are not.
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            KernelFeed::On(_) => None,
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
        let KernelFeed::On(feed) = self else {
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
        if let Some(previous) = previous {
            let reported = Reported::of(drained.events);
            merge(reported, previous, snapshot, events, users);
        }
        if let Some(why) = drained.stopped {
            tracing::warn!("process events stopped: {why}");
            *self = KernelFeed::Off(format!("stopped: {why}"));
        }
    }
}

/// uid to user name, looked up once per uid.
#[derive(Default)]
pub struct UserNames(FxHashMap<u32, Option<String>>);

impl UserNames {
    fn name_of(&mut self, uid: u32, snapshot: &Snapshot) -> Option<String> {
        if let Some(p) = snapshot.processes.iter().find(|p| p.uid == uid) {
            return p.user.clone();
        }
        self.0
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .clone()
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

fn merge(
    mut reported: Reported,
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
        let Some((at_ms, _, exit)) = reported.exits.remove(&event.pid) else {
            continue;
        };
        event.observed_at_ms = at_ms;
        event.exit = Some(model_status(exit.status));
        event.runtime_ms = exit
            .lifetime
            .map(|l| duration_ms(l.runtime))
            .or_else(|| at_ms.checked_sub(event.start_time_ms));
        event.source = EventSource::Kernel;
    }
    let listed: FxHashSet<u32> = previous
        .processes
        .iter()
        .chain(&snapshot.processes)
        .map(|p| p.pid)
        .collect();
    // The processes no snapshot listed: each started and ended in between.
    let mut short_lived: Vec<(u32, u64, Option<u32>, ExitDetails)> = reported
        .exits
        .into_iter()
        .filter(|(pid, _)| !listed.contains(pid))
        .map(|(pid, (at_ms, ppid, exit))| (pid, at_ms, ppid, exit))
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
        let user = details
            .and_then(|d| d.uid)
            .and_then(|uid| users.name_of(uid, snapshot));
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
