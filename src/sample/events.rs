//! The events of each snapshot: what changed since the sampler's previous one (`diff_snapshots`)
//! plus the first connection each process makes to a destination it had not used since the
//! sampler started. Every consumer (explorer, `wiretop events`, uplink) reads them from the
//! snapshot, so all of them see the same events.
//!
//! Memory is bounded: at most [`MAX_DESTINATIONS`] destinations are remembered in all, and at
//! most [`MAX_DESTINATIONS_PER_PROCESS`] per process; a process past its share (a crawler, a
//! scanner) gets no more first-connection events, and the snapshot says so.

use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

use super::kernel_events::KernelFeed;
use super::linux::UserNames;
use super::SamplerSettings;
use crate::model::{
    diff_snapshots, process_event, Direction, LifecycleKind, Process, Proto, Role, Snapshot,
    SocketState,
};

/// Destinations remembered in all (about 40 bytes each).
pub const MAX_DESTINATIONS: usize = 200_000;
/// Destinations remembered for one process.
pub const MAX_DESTINATIONS_PER_PROCESS: usize = 1_000;

/// A process's identity: a pid alone is not one, since the kernel reuses pids.
type Identity = (u32, u64);
type Destination = (Proto, IpAddr, u16);

/// What the sampler remembers between snapshots to tell what happened.
pub struct EventTracker {
    /// The kernel's process events, or why there are none.
    kernel: KernelFeed,
    users: UserNames,
    /// The previous snapshot without its connections (the diff does not look at them).
    previous: Option<Snapshot>,
    /// When the sampler started (its first reading, on the process start-time clock): the
    /// processes started after it are `new`.
    launched_ms: Option<u64>,
    destinations: FxHashMap<Identity, FxHashSet<Destination>>,
    remembered: usize,
    /// Processes that reached their share of destinations, reported once each.
    full: FxHashSet<Identity>,
}

impl EventTracker {
    /// A tracker that follows the kernel's process events when `settings` ask for them and
    /// they can be had.
    pub fn new(settings: &SamplerSettings) -> Self {
        EventTracker {
            kernel: KernelFeed::start(settings),
            users: UserNames::default(),
            previous: None,
            launched_ms: None,
            destinations: FxHashMap::default(),
            remembered: 0,
            full: FxHashSet::default(),
        }
    }

    /// Follows the kernel's events under new settings, or stops: the listener is started
    /// again, since it scrubs command lines and matches exclude patterns as it reads them, and
    /// must do so with the new words and patterns from the first event on.
    pub fn reconfigure(&mut self, settings: &SamplerSettings) {
        self.kernel = KernelFeed::Off("restarting".to_owned());
        self.kernel = KernelFeed::start(settings);
    }

    /// Why short-lived processes are missed (the kernel's events are not followed), if so.
    pub fn kernel_events_unavailable(&self) -> Option<&str> {
        self.kernel.unavailable()
    }

    /// Fills `snapshot.events` with what happened since the previous snapshot.
    pub fn observe(&mut self, snapshot: &mut Snapshot) {
        let first = self.previous.is_none();
        let launched_ms = *self
            .launched_ms
            .get_or_insert_with(|| snapshot.first_reading_ms());
        snapshot.mark_new_since(launched_ms);
        let mut events = match &self.previous {
            Some(previous) => diff_snapshots(previous, snapshot),
            None => Vec::new(),
        };
        self.kernel.fold_into(
            self.previous.as_ref(),
            snapshot,
            &mut events,
            &mut self.users,
        );
        let live: FxHashSet<Identity> = snapshot.processes.iter().map(identity).collect();
        self.forget_gone(&live);
        for process in &snapshot.processes {
            let fresh = self.remember_destinations(process);
            // What a process was connected to when the sampler started is not news.
            if first {
                continue;
            }
            for (proto, addr, port) in fresh {
                let kind = LifecycleKind::FirstConnection { proto, addr, port };
                events.push(process_event(kind, process, snapshot.host.taken_at_ms));
            }
        }
        if !self.full.is_empty() {
            snapshot.collection.warnings.push(format!(
                "first connections not followed for {} processes (more than {} destinations \
                 each, or {} in all)",
                self.full.len(),
                MAX_DESTINATIONS_PER_PROCESS,
                MAX_DESTINATIONS
            ));
        }
        events.sort_by_key(|e| (e.pid, e.start_time_ms, e.kind.rank(), e.kind.endpoint()));
        snapshot.events.append(&mut events);
        self.previous = Some(without_connections(snapshot));
    }

    fn forget_gone(&mut self, live: &FxHashSet<Identity>) {
        let mut forgotten = 0;
        self.destinations.retain(|id, seen| {
            let keep = live.contains(id);
            if !keep {
                forgotten += seen.len();
            }
            keep
        });
        self.remembered -= forgotten;
        self.full.retain(|id| live.contains(id));
    }

    /// Remembers the remote ends of `process`'s outbound connections; returns those it had
    /// not used before.
    fn remember_destinations(&mut self, process: &Process) -> Vec<Destination> {
        let mut fresh = Vec::new();
        let id = identity(process);
        for c in &process.connections {
            // Opened by this process: to a remote server, or the client end of a connection
            // on this host.
            let outbound = c.direction == Direction::Outbound || c.role == Some(Role::Client);
            let live = !matches!(c.state, SocketState::Listen | SocketState::Close);
            if !outbound || !live || c.remote_port == 0 {
                continue;
            }
            let destination = (c.proto, c.remote_addr, c.remote_port);
            let seen = self.destinations.entry(id).or_default();
            if seen.contains(&destination) {
                continue;
            }
            if seen.len() >= MAX_DESTINATIONS_PER_PROCESS || self.remembered >= MAX_DESTINATIONS {
                self.full.insert(id);
                continue;
            }
            seen.insert(destination);
            self.remembered += 1;
            fresh.push(destination);
        }
        fresh
    }
}

fn identity(p: &Process) -> Identity {
    (p.pid, p.start_time_ms)
}

/// A copy of `snapshot` for the next diff, without the connections (tens of thousands on a
/// busy host, which the diff does not look at): each process's are set aside while it is
/// cloned, not cloned and dropped.
fn without_connections(snapshot: &mut Snapshot) -> Snapshot {
    let processes = snapshot
        .processes
        .iter_mut()
        .map(|p| {
            let connections = std::mem::take(&mut p.connections);
            let copy = p.clone();
            p.connections = connections;
            copy
        })
        .collect();
    Snapshot {
        schema_version: snapshot.schema_version,
        host: snapshot.host.clone(),
        processes,
        unowned_sockets: Vec::new(),
        collection: snapshot.collection.clone(),
        events: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Connection, LifecycleEvent};

    /// A tracker of the snapshots alone: these tests hand it made-up snapshots.
    fn tracker() -> EventTracker {
        EventTracker::new(&SamplerSettings {
            process_events: false,
            ..SamplerSettings::default()
        })
    }

    fn client_to(port: u16, inode: u64) -> Connection {
        Connection::example_loopback(40_000 + port, port, Role::Client, (99, "server"), inode)
    }

    fn snapshot(at_ms: u64, processes: Vec<Process>) -> Snapshot {
        let mut snapshot = Snapshot::example(processes);
        snapshot.host.taken_at_ms = at_ms;
        snapshot
    }

    fn firsts(events: &[LifecycleEvent]) -> Vec<(u32, u16)> {
        events
            .iter()
            .filter_map(|e| match e.kind {
                LifecycleKind::FirstConnection { port, .. } => Some((e.pid, port)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn connections_at_the_first_snapshot_are_not_news_and_later_new_destinations_are() {
        let mut tracker = tracker();
        let mut app = Process::example(10, "app");
        app.connections.push(client_to(5432, 1));
        let mut first = snapshot(1_000, vec![app.clone()]);
        tracker.observe(&mut first);
        assert!(first.events.is_empty(), "{:?}", first.events);

        // Another connection to the same destination is not a first; one to a new port is.
        app.connections.push(client_to(5432, 2));
        app.connections.push(client_to(6379, 3));
        // The server end of a connection on this host is nobody's first connection.
        let mut server_end = client_to(8080, 4);
        server_end.role = Some(Role::Server);
        app.connections.push(server_end);
        let mut second = snapshot(2_000, vec![app.clone()]);
        tracker.observe(&mut second);
        assert_eq!(firsts(&second.events), vec![(10, 6379)]);
        assert!(second.events.iter().all(|e| e.observed_at_ms == 2_000));

        let mut third = snapshot(3_000, vec![app]);
        tracker.observe(&mut third);
        assert!(third.events.is_empty(), "{:?}", third.events);
    }

    #[test]
    fn a_process_started_later_gets_its_start_and_its_first_connections() {
        let mut tracker = tracker();
        let mut first = snapshot(1_000, vec![Process::example(10, "app")]);
        tracker.observe(&mut first);
        let mut newcomer = Process::example(11, "app");
        newcomer.start_time_ms = first.start_clock_ms() + 1_500;
        newcomer.connections.push(client_to(443, 7));
        let mut second = snapshot(2_000, vec![Process::example(10, "app"), newcomer]);
        tracker.observe(&mut second);
        let kinds: Vec<&str> = second.events.iter().map(|e| e.kind.label()).collect();
        assert_eq!(kinds, vec!["started", "connect"]);
        let new: Vec<(u32, bool)> = second.processes.iter().map(|p| (p.pid, p.new)).collect();
        assert_eq!(
            new,
            vec![(10, false), (11, true)],
            "new since the first snapshot"
        );
    }

    #[test]
    fn a_process_past_its_share_of_destinations_stops_giving_events_and_says_so() {
        let mut tracker = tracker();
        tracker.observe(&mut snapshot(1_000, vec![Process::example(10, "app")]));
        let mut scanner = Process::example(10, "app");
        let ports = MAX_DESTINATIONS_PER_PROCESS + 50;
        for port in 0..ports {
            let port = u16::try_from(port + 1).unwrap();
            scanner.connections.push(client_to(port, u64::from(port)));
        }
        let mut second = snapshot(2_000, vec![scanner]);
        tracker.observe(&mut second);
        assert_eq!(
            firsts(&second.events).len(),
            MAX_DESTINATIONS_PER_PROCESS,
            "no more than its share"
        );
        assert!(
            second
                .collection
                .warnings
                .iter()
                .any(|w| w.contains("first connections not followed for 1 process")),
            "{:?}",
            second.collection.warnings
        );
        // Once it exits, what it used is forgotten.
        tracker.observe(&mut snapshot(3_000, vec![]));
        assert_eq!(tracker.remembered, 0);
        assert!(tracker.destinations.is_empty());
    }
}
