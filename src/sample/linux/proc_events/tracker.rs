//! From kernel events to [`ProcEvent`]s: ignores threads, remembers each process from its fork
//! (or exec) to its exit so the exit can carry a start, a runtime and a name, and leaves out
//! excluded processes. No I/O: an exec's details come from the reader through a closure.
//!
//! The memory is bounded: at most `capacity` processes are remembered; a new one past that
//! makes the one remembered longest be forgotten (counted), so a fork bomb, or exits the
//! kernel discarded, cannot grow it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::scrub::Scrubber;

use super::exec_details::ExecReading;
use super::wire::{Event, Kind};
use super::{ExitDetails, ExitStatus, Lifetime, ProcEvent, ProcEventKind};

pub struct Tracker {
    processes: HashMap<u32, Tracked>,
    /// The remembered pids by when they were first remembered, oldest first.
    order: BTreeMap<u64, u32>,
    next_order: u64,
    capacity: usize,
    forgotten: u64,
    scrubber: Arc<Scrubber>,
}

struct Tracked {
    /// Its key in `order`.
    order: u64,
    ppid: Option<u32>,
    start: Option<Start>,
    /// Scrubbed.
    name: Option<String>,
    excluded: bool,
}

#[derive(Clone, Copy)]
struct Start {
    at_ns: u64,
    at_ms: u64,
    from_exec: bool,
}

impl Tracker {
    pub fn new(capacity: usize, scrubber: Arc<Scrubber>) -> Self {
        Tracker {
            processes: HashMap::new(),
            order: BTreeMap::new(),
            next_order: 0,
            capacity,
            forgotten: 0,
            scrubber,
        }
    }

    /// How many processes are remembered.
    pub fn len(&self) -> usize {
        self.processes.len()
    }

    /// How many were forgotten to stay within the bound since the last call.
    pub fn take_forgotten(&mut self) -> u64 {
        std::mem::take(&mut self.forgotten)
    }

    /// The event to queue for `event`, which happened at `at_ms`, if any. `read_exec` is
    /// called for a process's exec only, never for a thread's event.
    pub fn on_event(
        &mut self,
        event: &Event,
        at_ms: u64,
        read_exec: impl FnOnce(u32) -> ExecReading,
    ) -> Option<ProcEvent> {
        let at = Start {
            at_ns: event.at_ns,
            at_ms,
            from_exec: false,
        };
        let (pid, ppid, kind) = match event.kind {
            Kind::Fork {
                parent_tgid,
                child_pid,
                child_tgid,
            } => {
                // A thread: same process, nothing to record.
                if child_pid != child_tgid {
                    return None;
                }
                let parent = self.processes.get(&parent_tgid);
                let excluded = parent.is_some_and(|p| p.excluded);
                let name = parent.and_then(|p| p.name.clone());
                // Already remembered: a pid reused after its exit was lost. Another process.
                self.forget(child_tgid);
                let child = self.remember(child_tgid);
                child.ppid = Some(parent_tgid);
                child.start = Some(at);
                child.name = name;
                child.excluded = excluded;
                if excluded {
                    return None;
                }
                (child_tgid, Some(parent_tgid), ProcEventKind::Fork)
            }
            Kind::Exec { tgid, .. } => {
                let reading = read_exec(tgid);
                let process = self.remember(tgid);
                process.start.get_or_insert(Start {
                    from_exec: true,
                    ..at
                });
                process.ppid = reading.ppid.or(process.ppid);
                process.name.clone_from(&reading.details.name);
                process.excluded = reading.excluded;
                if reading.excluded {
                    return None;
                }
                (tgid, process.ppid, ProcEventKind::Exec(reading.details))
            }
            Kind::Uid {
                pid,
                tgid,
                real,
                effective,
            } => {
                let ppid = self.process_event(pid, tgid)?;
                (tgid, ppid, ProcEventKind::Uid { real, effective })
            }
            Kind::Comm { pid, tgid, name } => {
                let ppid = self.process_event(pid, tgid)?;
                let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                let raw = String::from_utf8_lossy(&name[..end]);
                let name = self.scrubber.scrub_name(&raw).into_owned();
                if let Some(process) = self.processes.get_mut(&tgid) {
                    process.name = Some(name.clone());
                }
                (tgid, ppid, ProcEventKind::Comm { name })
            }
            Kind::Exit {
                pid,
                tgid,
                status,
                parent_tgid,
            } => {
                // A thread ended; the process lives on.
                if pid != tgid {
                    return None;
                }
                let process = self.forget(tgid);
                if process.as_ref().is_some_and(|p| p.excluded) {
                    return None;
                }
                let (ppid, start, name) = match process {
                    Some(p) => (p.ppid, p.start, p.name),
                    None => (None, None, None),
                };
                let lifetime = start.map(|start| Lifetime {
                    started_at_ms: start.at_ms,
                    runtime: Duration::from_nanos(event.at_ns.saturating_sub(start.at_ns)),
                    from_exec: start.from_exec,
                });
                let exit = ExitDetails {
                    status: ExitStatus::from_wait_status(status),
                    lifetime,
                    name,
                };
                (tgid, parent_tgid.or(ppid), ProcEventKind::Exit(exit))
            }
            Kind::Ack { .. } | Kind::Other { .. } => return None,
        };
        Some(ProcEvent {
            pid,
            ppid,
            at_ms,
            kind,
        })
    }

    /// For an event of a task that is a whole process and not excluded: its parent, if known.
    fn process_event(&self, pid: u32, tgid: u32) -> Option<Option<u32>> {
        if pid != tgid {
            return None;
        }
        match self.processes.get(&tgid) {
            Some(process) if process.excluded => None,
            Some(process) => Some(process.ppid),
            None => Some(None),
        }
    }

    /// The entry of `pid`, made (blank) if it had none, forgetting the oldest one when full.
    fn remember(&mut self, pid: u32) -> &mut Tracked {
        if !self.processes.contains_key(&pid) {
            while self.processes.len() >= self.capacity.max(1) {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.processes.remove(&oldest);
                self.forgotten += 1;
            }
        }
        let Tracker {
            processes,
            order,
            next_order,
            ..
        } = self;
        processes.entry(pid).or_insert_with(|| {
            let key = *next_order;
            *next_order += 1;
            order.insert(key, pid);
            Tracked {
                order: key,
                ppid: None,
                start: None,
                name: None,
                excluded: false,
            }
        })
    }

    fn forget(&mut self, pid: u32) -> Option<Tracked> {
        let process = self.processes.remove(&pid)?;
        self.order.remove(&process.order);
        Some(process)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ExecDetails, Missing};
    use super::*;

    fn tracker(capacity: usize) -> Tracker {
        Tracker::new(capacity, Arc::new(Scrubber::default()))
    }

    fn at(at_ns: u64, kind: Kind) -> Event {
        Event { at_ns, kind }
    }

    fn fork(parent: u32, child: u32) -> Kind {
        Kind::Fork {
            parent_tgid: parent,
            child_pid: child,
            child_tgid: child,
        }
    }

    fn exit(pid: u32, status: u32) -> Kind {
        Kind::Exit {
            pid,
            tgid: pid,
            status,
            parent_tgid: None,
        }
    }

    fn reading(name: &str, excluded: bool) -> ExecReading {
        ExecReading {
            details: ExecDetails {
                cmdline: Some(vec![name.to_owned()]),
                cmdline_truncated: false,
                name: Some(name.to_owned()),
                exe: None,
                uid: Some(0),
                missing: None,
            },
            ppid: Some(1),
            excluded,
        }
    }

    fn no_read(pid: u32) -> ExecReading {
        panic!("read the details of {pid}")
    }

    fn exit_details(event: Option<ProcEvent>) -> ExitDetails {
        match event.map(|e| e.kind) {
            Some(ProcEventKind::Exit(exit)) => exit,
            other => panic!("not an exit: {other:?}"),
        }
    }

    #[test]
    fn a_process_exit_carries_its_start_runtime_name_and_status() {
        let mut t = tracker(10);
        let forked = t.on_event(&at(1_000_000, fork(1, 50)), 5_000, no_read);
        assert_eq!(
            forked,
            Some(ProcEvent {
                pid: 50,
                ppid: Some(1),
                at_ms: 5_000,
                kind: ProcEventKind::Fork
            })
        );
        let exec = t.on_event(
            &at(2_000_000, Kind::Exec { pid: 50, tgid: 50 }),
            5_001,
            |_| reading("sh", false),
        );
        assert!(matches!(exec.map(|e| e.kind), Some(ProcEventKind::Exec(_))));
        let exit = exit_details(t.on_event(&at(13_000_000, exit(50, 0x300)), 5_012, no_read));
        assert_eq!(exit.status, ExitStatus::Code(3));
        assert_eq!(exit.name.as_deref(), Some("sh"));
        assert_eq!(
            exit.lifetime,
            Some(Lifetime {
                started_at_ms: 5_000,
                runtime: Duration::from_millis(12),
                from_exec: false
            })
        );
        assert_eq!(t.len(), 0, "an exited process is forgotten");
    }

    #[test]
    fn threads_are_ignored_without_reading_anything() {
        let mut t = tracker(10);
        let thread_fork = Kind::Fork {
            parent_tgid: 1,
            child_pid: 61,
            child_tgid: 60,
        };
        assert_eq!(t.on_event(&at(1, thread_fork), 1, no_read), None);
        let thread_exit = Kind::Exit {
            pid: 61,
            tgid: 60,
            status: 0,
            parent_tgid: Some(1),
        };
        assert_eq!(t.on_event(&at(1, thread_exit), 1, no_read), None);
        let thread_comm = Kind::Comm {
            pid: 61,
            tgid: 60,
            name: [b'a'; 16],
        };
        assert_eq!(t.on_event(&at(1, thread_comm), 1, no_read), None);
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn signals_and_core_dumps_are_decoded_from_the_wait_status() {
        let mut t = tracker(10);
        let killed = exit_details(t.on_event(&at(1, exit(7, 9)), 1, no_read));
        assert_eq!(
            killed.status,
            ExitStatus::Signal {
                signal: 9,
                core_dumped: false
            }
        );
        assert_eq!(killed.lifetime, None, "its start was never seen");
        let dumped = exit_details(t.on_event(&at(1, exit(8, 0x80 | 11)), 1, no_read));
        assert_eq!(
            dumped.status,
            ExitStatus::Signal {
                signal: 11,
                core_dumped: true
            }
        );
    }

    #[test]
    fn a_fork_bomb_is_remembered_only_up_to_the_bound() {
        let mut t = tracker(100);
        for child in 2..10_002 {
            t.on_event(&at(u64::from(child), fork(1, child)), 1, no_read);
            assert!(t.len() <= 100);
        }
        assert_eq!(t.len(), 100);
        assert_eq!(t.take_forgotten(), 9_900);
        assert_eq!(t.order.len(), 100, "the order holds the same entries");
        // The newest are remembered, the oldest are not.
        assert!(
            exit_details(t.on_event(&at(1, exit(10_001, 0)), 1, no_read))
                .lifetime
                .is_some()
        );
        assert!(exit_details(t.on_event(&at(1, exit(2, 0)), 1, no_read))
            .lifetime
            .is_none());
    }

    #[test]
    fn a_reused_pid_starts_afresh() {
        let mut t = tracker(10);
        t.on_event(&at(1_000, fork(1, 9)), 1, no_read);
        // Its exit was lost: the next fork of pid 9 is another process.
        t.on_event(&at(5_000, fork(2, 9)), 2, no_read);
        assert_eq!((t.len(), t.order.len()), (1, 1));
        let exit = t.on_event(&at(6_000, exit(9, 0)), 3, no_read);
        assert_eq!(exit.as_ref().and_then(|e| e.ppid), Some(2));
        assert_eq!(
            exit_details(exit).lifetime.map(|l| l.runtime),
            Some(Duration::from_nanos(1_000))
        );
    }

    #[test]
    fn an_excluded_process_and_its_children_stay_out() {
        let mut t = tracker(10);
        let _ = t.on_event(&at(1, fork(1, 20)), 1, no_read);
        let exec = t.on_event(&at(2, Kind::Exec { pid: 20, tgid: 20 }), 1, |_| {
            reading("backup", true)
        });
        assert_eq!(exec, None);
        assert_eq!(t.on_event(&at(3, fork(20, 21)), 1, no_read), None);
        let uid = Kind::Uid {
            pid: 20,
            tgid: 20,
            real: 0,
            effective: 0,
        };
        assert_eq!(t.on_event(&at(4, uid), 1, no_read), None);
        assert_eq!(t.on_event(&at(5, exit(21, 0)), 1, no_read), None);
        assert_eq!(t.on_event(&at(6, exit(20, 0)), 1, no_read), None);
    }

    #[test]
    fn an_exec_without_a_fork_counts_from_the_exec() {
        let mut t = tracker(10);
        let exec = t.on_event(&at(1_000, Kind::Exec { pid: 30, tgid: 30 }), 7, |_| {
            let mut r = reading("x", false);
            r.details.missing = Some(Missing::Exited);
            r
        });
        assert_eq!(exec.and_then(|e| e.ppid), Some(1), "the parent from status");
        let exit = exit_details(t.on_event(&at(3_000, exit(30, 0)), 8, no_read));
        assert!(exit
            .lifetime
            .is_some_and(|l| l.from_exec && l.started_at_ms == 7));
    }

    #[test]
    fn a_rename_is_scrubbed_and_remembered_for_the_exit() {
        let mut t = tracker(10);
        t.on_event(&at(1, fork(1, 40)), 1, no_read);
        let mut name = [0u8; 16];
        name[..15].copy_from_slice(b"PASSWORD=hunter");
        let comm = t.on_event(
            &at(
                2,
                Kind::Comm {
                    pid: 40,
                    tgid: 40,
                    name,
                },
            ),
            1,
            no_read,
        );
        let Some(ProcEventKind::Comm { name }) = comm.map(|e| e.kind) else {
            panic!("no comm event");
        };
        assert!(!name.contains("hunter"), "{name}");
        let exit = exit_details(t.on_event(&at(3, exit(40, 0)), 1, no_read));
        assert_eq!(exit.name, Some(name));
    }
}
