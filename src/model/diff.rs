//! Lifecycle events: what changed between two consecutive snapshots (the event types are in
//! `events.rs`).
//!
//! A snapshot is a state; backends also want the moments in between ("postgres started",
//! "sshd stopped listening on :22"). Comparing the previous snapshot with the current one
//! recovers them without the sampler keeping any history of its own. Pure: no clock, no I/O.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::events::{EventSource, LifecycleEvent, LifecycleKind};
use super::{Process, Proto, Snapshot};

/// A process's identity: a pid alone is not one, since the kernel reuses pids.
type Identity = (u32, u64);

/// What a listening socket is, as far as events go. Two sockets on the same address (one per
/// worker with SO_REUSEPORT, or the same port in two namespaces) count once: the process
/// listens there or it does not.
type ListenKey = (Proto, IpAddr, u16);

/// The lifecycle events between `previous` and `current`, sorted by pid, then by process start
/// time (a reused pid: the old process's events come first), then in the order they happen
/// (started, began listening, stopped listening, exited), then by address.
///
/// A process is identified by (pid, start time): a reused pid gives one `Exited` and one
/// `Started`. A started process that already listens also gets one `BeganListening` per
/// address, and an exiting one a `StoppedListening` per address, so listen events alone tell
/// what is open. Listening changes of a process present in both snapshots are only reported
/// when both snapshots could see its sockets: an unreadable or uncollected socket list means
/// "unknown", not "closed".
pub fn diff_snapshots(previous: &Snapshot, current: &Snapshot) -> Vec<LifecycleEvent> {
    let observed_at_ms = current.host.taken_at_ms;
    let before = by_identity(previous);
    let after = by_identity(current);
    let sockets_known =
        previous.collection.connections_collected && current.collection.connections_collected;

    let mut events = Vec::new();
    for (id, old) in &before {
        match after.get(id) {
            None => {
                for (proto, addr, port) in listen_keys(old) {
                    let kind = LifecycleKind::StoppedListening { proto, addr, port };
                    events.push(process_event(kind, old, observed_at_ms));
                }
                events.push(process_event(LifecycleKind::Exited, old, observed_at_ms));
            }
            Some(new) => {
                events.extend(identity_changes(old, new, observed_at_ms));
                if !(sockets_known && sockets_readable(old) && sockets_readable(new)) {
                    continue;
                }
                let was = listen_keys(old);
                let is = listen_keys(new);
                for &(proto, addr, port) in was.difference(&is) {
                    let kind = LifecycleKind::StoppedListening { proto, addr, port };
                    events.push(process_event(kind, new, observed_at_ms));
                }
                for &(proto, addr, port) in is.difference(&was) {
                    let kind = LifecycleKind::BeganListening { proto, addr, port };
                    events.push(process_event(kind, new, observed_at_ms));
                }
            }
        }
    }
    for (id, new) in &after {
        if before.contains_key(id) {
            continue;
        }
        events.push(process_event(LifecycleKind::Started, new, observed_at_ms));
        for (proto, addr, port) in listen_keys(new) {
            let kind = LifecycleKind::BeganListening { proto, addr, port };
            events.push(process_event(kind, new, observed_at_ms));
        }
    }
    events.sort_by_key(|e| (e.pid, e.start_time_ms, e.kind.rank(), e.kind.endpoint()));
    events
}

/// An exec (another executable, same pid and start) and a setuid (another uid without one),
/// when both snapshots could read what changed.
fn identity_changes(old: &Process, new: &Process, at_ms: u64) -> Vec<LifecycleEvent> {
    let mut events = Vec::new();
    // An upgrade that replaces a running binary makes its link read `… (deleted)`: the same
    // program, no exec.
    let program = |exe: &Option<String>| {
        exe.as_deref()
            .map(|e| e.strip_suffix(" (deleted)").unwrap_or(e).to_owned())
    };
    if old.exe.is_some() && new.exe.is_some() && program(&old.exe) != program(&new.exe) {
        let kind = LifecycleKind::ExeChanged {
            from: old.exe.clone(),
            to: new.exe.clone(),
        };
        events.push(process_event(kind, new, at_ms));
    }
    if old.uid != new.uid && !old.kernel_thread {
        let kind = LifecycleKind::UserChanged {
            from: old.user.clone().or_else(|| Some(old.uid.to_string())),
            to: new.user.clone().or_else(|| Some(new.uid.to_string())),
        };
        events.push(process_event(kind, new, at_ms));
    }
    events
}

fn by_identity(snapshot: &Snapshot) -> BTreeMap<Identity, &Process> {
    snapshot
        .processes
        .iter()
        .map(|p| ((p.pid, p.start_time_ms), p))
        .collect()
}

/// False when the sampler could not read this process's file descriptors, so its (empty)
/// socket lists say nothing.
fn sockets_readable(p: &Process) -> bool {
    !p.unreadable.contains_key("sockets")
}

fn listen_keys(p: &Process) -> BTreeSet<ListenKey> {
    p.listening
        .iter()
        .map(|l| (l.proto, l.addr, l.port))
        .collect()
}

/// Bytes of command line an event keeps, at most: events are many and outlive their snapshot
/// (the explorer keeps thousands, the uplink holds them while its backend is away), and a
/// process may have megabytes of arguments.
pub const EVENT_CMDLINE_BYTES: usize = 4096;

/// The arguments of `cmdline` up to [`EVENT_CMDLINE_BYTES`] in all, the last one cut (at a
/// character boundary) and marked with `…` when there was more.
pub fn bounded_cmdline(cmdline: &[String]) -> Vec<String> {
    let mut left = EVENT_CMDLINE_BYTES;
    let mut kept = Vec::new();
    for arg in cmdline {
        if arg.len() <= left {
            left -= arg.len();
            kept.push(arg.clone());
            continue;
        }
        let cut = (0..=left)
            .rev()
            .find(|i| arg.is_char_boundary(*i))
            .unwrap_or(0);
        kept.push(format!("{}…", &arg[..cut]));
        break;
    }
    kept
}

/// An event of process `p`, seen in the snapshots at `observed_at_ms`.
pub fn process_event(kind: LifecycleKind, p: &Process, observed_at_ms: u64) -> LifecycleEvent {
    LifecycleEvent {
        kind,
        pid: p.pid,
        name: p.name.clone(),
        cmdline: bounded_cmdline(&p.cmdline),
        user: p.user.clone(),
        start_time_ms: p.start_time_ms,
        observed_at_ms,
        ppid: Some(p.ppid),
        exit: None,
        runtime_ms: None,
        short_lived: false,
        source: EventSource::Snapshots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Family, Listening};

    fn snapshot(taken_at_ms: u64, processes: Vec<Process>) -> Snapshot {
        let mut snapshot = Snapshot::example(processes);
        snapshot.host.taken_at_ms = taken_at_ms;
        snapshot
    }

    fn process(pid: u32, start_time_ms: u64) -> Process {
        let mut p = Process::example(pid, "app");
        p.start_time_ms = start_time_ms;
        p
    }

    fn listening(mut p: Process, port: u16) -> Process {
        p.listening.push(Listening {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            addr: IpAddr::from([0, 0, 0, 0]),
            port,
            inode: u64::from(port),
            netns: None,
        });
        p
    }

    fn tcp(port: u16) -> (Proto, IpAddr, u16) {
        (Proto::Tcp, IpAddr::from([0, 0, 0, 0]), port)
    }

    fn kinds(events: &[LifecycleEvent]) -> Vec<(u32, LifecycleKind)> {
        events.iter().map(|e| (e.pid, e.kind.clone())).collect()
    }

    fn began((proto, addr, port): (Proto, IpAddr, u16)) -> LifecycleKind {
        LifecycleKind::BeganListening { proto, addr, port }
    }

    fn stopped((proto, addr, port): (Proto, IpAddr, u16)) -> LifecycleKind {
        LifecycleKind::StoppedListening { proto, addr, port }
    }

    #[test]
    fn identical_snapshots_give_no_events() {
        let a = snapshot(1_000, vec![listening(process(10, 5), 80), process(11, 5)]);
        let mut b = a.clone();
        b.host.taken_at_ms = 2_000;
        assert!(diff_snapshots(&a, &b).is_empty());
    }

    #[test]
    fn new_process_started_and_gone_process_exited_with_details_and_observation_time() {
        let a = snapshot(1_000, vec![process(10, 5)]);
        let b = snapshot(2_000, vec![process(11, 1_500)]);
        let events = diff_snapshots(&a, &b);
        assert_eq!(
            kinds(&events),
            vec![(10, LifecycleKind::Exited), (11, LifecycleKind::Started)]
        );
        let started = &events[1];
        assert_eq!(started.name, "proc11");
        assert_eq!(started.cmdline, vec!["/bin/proc11".to_owned()]);
        assert_eq!(started.user.as_deref(), Some("app"));
        assert_eq!(started.start_time_ms, 1_500);
        assert!(events.iter().all(|e| e.observed_at_ms == 2_000));
    }

    #[test]
    fn reused_pid_is_one_exit_then_one_start() {
        let a = snapshot(1_000, vec![process(10, 5)]);
        let b = snapshot(2_000, vec![process(10, 1_500)]);
        let events = diff_snapshots(&a, &b);
        assert_eq!(
            kinds(&events),
            vec![(10, LifecycleKind::Exited), (10, LifecycleKind::Started)]
        );
        assert_eq!(events[0].start_time_ms, 5);
        assert_eq!(events[1].start_time_ms, 1_500);
    }

    #[test]
    fn surviving_process_that_opens_and_closes_ports_gives_listen_events() {
        let a = snapshot(1_000, vec![listening(listening(process(10, 5), 80), 81)]);
        let b = snapshot(2_000, vec![listening(listening(process(10, 5), 81), 443)]);
        assert_eq!(
            kinds(&diff_snapshots(&a, &b)),
            vec![(10, began(tcp(443))), (10, stopped(tcp(80)))]
        );
    }

    #[test]
    fn started_listener_gets_began_listening_and_exited_one_stopped_listening() {
        let a = snapshot(1_000, vec![listening(process(20, 5), 5432)]);
        let b = snapshot(
            2_000,
            vec![listening(listening(process(10, 1_500), 443), 80)],
        );
        assert_eq!(
            kinds(&diff_snapshots(&a, &b)),
            vec![
                (10, LifecycleKind::Started),
                (10, began(tcp(80))),
                (10, began(tcp(443))),
                (20, stopped(tcp(5432))),
                (20, LifecycleKind::Exited),
            ]
        );
    }

    #[test]
    fn two_sockets_on_one_address_give_one_event() {
        let a = snapshot(1_000, vec![process(10, 5)]);
        let b = snapshot(2_000, vec![listening(listening(process(10, 5), 80), 80)]);
        assert_eq!(kinds(&diff_snapshots(&a, &b)), vec![(10, began(tcp(80)))]);
    }

    #[test]
    fn unknown_sockets_do_not_count_as_closed() {
        let a = snapshot(1_000, vec![listening(process(10, 5), 80)]);
        let mut unreadable = a.clone();
        unreadable.processes[0].listening.clear();
        unreadable.processes[0]
            .unreadable
            .insert("sockets".to_owned(), "permission denied".to_owned());
        assert!(diff_snapshots(&a, &unreadable).is_empty());

        let mut uncollected = a.clone();
        uncollected.processes[0].listening.clear();
        uncollected.collection.connections_collected = false;
        assert!(diff_snapshots(&a, &uncollected).is_empty());
        assert!(diff_snapshots(&uncollected, &a).is_empty());
    }

    #[test]
    fn an_exec_and_a_setuid_of_a_surviving_process_are_events() {
        let mut before = process(10, 5);
        before.exe = Some("/bin/sh".to_owned());
        before.uid = 0;
        before.user = Some("root".to_owned());
        let mut after = before.clone();
        after.exe = Some("/usr/bin/python3".to_owned());
        after.uid = 1000;
        after.user = Some("app".to_owned());
        let events = diff_snapshots(
            &snapshot(1_000, vec![before]),
            &snapshot(2_000, vec![after]),
        );
        assert_eq!(
            kinds(&events),
            vec![
                (
                    10,
                    LifecycleKind::ExeChanged {
                        from: Some("/bin/sh".to_owned()),
                        to: Some("/usr/bin/python3".to_owned()),
                    }
                ),
                (
                    10,
                    LifecycleKind::UserChanged {
                        from: Some("root".to_owned()),
                        to: Some("app".to_owned()),
                    }
                ),
            ]
        );
    }

    #[test]
    fn an_executable_that_could_not_be_read_is_no_exec() {
        let mut before = process(10, 5);
        before.exe = None;
        let mut after = before.clone();
        after.exe = Some("/bin/sh".to_owned());
        let events = diff_snapshots(
            &snapshot(1_000, vec![before]),
            &snapshot(2_000, vec![after]),
        );
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn a_replaced_binary_is_no_exec() {
        let mut before = process(10, 5);
        before.exe = Some("/usr/sbin/sshd".to_owned());
        let mut after = before.clone();
        after.exe = Some("/usr/sbin/sshd (deleted)".to_owned());
        let events = diff_snapshots(
            &snapshot(1_000, vec![before]),
            &snapshot(2_000, vec![after]),
        );
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn an_event_keeps_a_bounded_command_line() {
        let mut huge = process(10, 5);
        huge.cmdline = vec!["prog".to_owned(), "é".repeat(10_000), "tail".to_owned()];
        let b = snapshot(2_000, vec![huge]);
        let events = diff_snapshots(&snapshot(1_000, vec![]), &b);
        let kept = &events[0].cmdline;
        let bytes: usize = kept.iter().map(String::len).sum();
        assert!(bytes <= EVENT_CMDLINE_BYTES + '…'.len_utf8(), "{bytes}");
        assert_eq!(
            kept.len(),
            2,
            "the argument that did not fit is cut, the rest left out"
        );
        assert!(kept[1].ends_with('…'));
        let short = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(bounded_cmdline(&short), short);
    }
}
