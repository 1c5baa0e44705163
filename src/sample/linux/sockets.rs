//! Reading sockets for one pass: the socket tables of every network namespace a process is
//! in, which process holds each socket, and each connection's peer, ready to hand to the
//! processes that own them.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::model::{
    assemble_sockets_owned, AssembledSockets, ClosedConnection, Collection, Connection, Listening,
    NetworkIo, Ownership, Proto, SocketEntry, SocketState, Traffic, TrafficGap, UnownedSocket,
};
use crate::sample::closed::{ClosedBytes, ClosedTracker, ListenerOwners};
use crate::sample::traffic::{CookieOrder, TrafficHistory};

use super::fds::{FdCandidate, OwnershipTracker};
use super::ms_since;
use super::net::{self, DiagSockets};
use super::net_dev::{read_net_dev, InterfaceHistory};
use super::process::{parse_ns_link, Field, ProcessKey, ProcessReading};
use super::process_table::DetailsCache;
use super::sock_destroy::DestroyFeed;

/// What the socket reading keeps from pass to pass: who owns which inode, a sock_diag socket
/// per namespace, and the last counters of every TCP socket.
#[derive(Default)]
pub struct SocketReaders {
    pub ownership: OwnershipTracker,
    pub diag: DiagSockets,
    pub traffic: TrafficHistory,
    /// Interface counters of the other namespaces, for their rates.
    pub interfaces: InterfaceHistory,
    /// The subscriptions to sockets closing, one per network namespace (started at the first
    /// pass), or why there are none.
    pub destroy: Option<Result<DestroyFeed, String>>,
    /// Closed connections pinned on their processes.
    pub closed: ClosedTracker,
    /// Closed sockets that were still in the last dump: taken at the next pass.
    pub deferred_closed: Vec<SocketEntry>,
    /// Data totals (sent, received) of each live process's connections that closed while we
    /// watched, by process (pid and start: a reused pid starts over).
    pub closed_totals: FxHashMap<ProcessKey, (u64, u64)>,
}

impl SocketReaders {
    /// Reads the TCP and interface counters of every namespace `pids` are in, so the first
    /// pass's traffic rates have something to start from (a one-shot snapshot is a priming
    /// and one pass).
    pub fn prime_traffic(&mut self, pids: &[u32]) {
        let own = own_netns();
        let mut members: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        if let Some(own) = own {
            members.entry(own).or_default().push(std::process::id());
        }
        for pid in pids {
            let link = std::fs::read_link(format!("/proc/{pid}/ns/net"));
            if let Some(netns) = link.ok().and_then(|l| parse_ns_link(&l.to_string_lossy())) {
                members.entry(netns).or_default().push(*pid);
            }
        }
        let counted = net::read_tcp_counters(&members, own, &mut self.diag);
        self.traffic.remember(&counted, Instant::now());
        namespace_interfaces(&members, own, &mut self.interfaces);
    }
}

/// The sockets of one pass, waiting to be handed to their owners.
pub struct PassSockets {
    assembled: AssembledSockets,
    /// Recently closed connections by pid, and what those closed since the last pass moved.
    recently_closed: FxHashMap<u32, Vec<ClosedConnection>>,
    closed_bytes: ClosedBytes,
    closed_totals: FxHashMap<u32, (u64, u64)>,
    window_secs: Option<f64>,
    /// Interface figures of every namespace but our own, by inode as text.
    namespace_network: BTreeMap<String, NetworkIo>,
    /// Why a process's fds could not be read, by pid.
    unreadable: HashMap<u32, String>,
}

/// What one process holds.
#[derive(Default)]
pub struct HeldSockets {
    pub listening: Vec<Listening>,
    pub connections: Vec<Connection>,
    /// Its TCP connections that closed in the last minute.
    pub recently_closed: Vec<ClosedConnection>,
    /// Bytes (sent, received) its connections that closed since the last pass moved since
    /// then, and the seconds that was over: they count in its rates.
    pub closed_bytes: (u64, u64),
    /// Data totals of all its connections that closed while wiretop watched.
    pub closed_totals: (u64, u64),
    pub window_secs: Option<f64>,
    /// Why its sockets may be incomplete.
    pub unreadable: Option<String>,
}

impl PassSockets {
    /// Hands over the sockets `pid` holds; a second call for the same pid gets nothing.
    pub fn take(&mut self, pid: u32) -> HeldSockets {
        HeldSockets {
            listening: self.assembled.listening.remove(&pid).unwrap_or_default(),
            connections: self.assembled.connections.remove(&pid).unwrap_or_default(),
            recently_closed: self.recently_closed.remove(&pid).unwrap_or_default(),
            closed_bytes: self.closed_bytes.0.remove(&pid).unwrap_or_default(),
            closed_totals: self.closed_totals.remove(&pid).unwrap_or_default(),
            window_secs: self.window_secs,
            unreadable: self.unreadable.remove(&pid),
        }
    }

    /// Listening sockets and established connections on the host, owned or not.
    pub fn host_counts(&self) -> (u32, u32) {
        (
            self.assembled.listening_count,
            self.assembled.established_count,
        )
    }

    /// Interface figures of every namespace but the sampler's own.
    pub fn namespace_network(&self) -> BTreeMap<String, NetworkIo> {
        self.namespace_network.clone()
    }

    /// The sockets no process holds.
    pub fn into_unowned(self) -> Vec<UnownedSocket> {
        self.assembled.unowned
    }
}

/// Reads the tables of every namespace the processes are in, works out ownership (from the
/// tracker's cache plus the processes that changed) and peers, and records the namespaces,
/// warnings and phase timings in `collection`.
pub fn read_sockets(
    readings: &[ProcessReading],
    details: &DetailsCache,
    readers: &mut SocketReaders,
    collect_traffic: bool,
    collection: &mut Collection,
) -> PassSockets {
    let own_netns = own_netns();
    let members = namespace_members(readings, details, own_netns);

    let phase_start = Instant::now();
    let tables = net::read_tables(&members, own_netns, collect_traffic, &mut readers.diag);
    let read_at = Instant::now();
    collection.phases.socket_tables_ms = ms_since(phase_start);
    collection.network_namespaces = tables.namespaces;
    collection.warnings.extend(tables.warnings);
    collection.traffic_unavailable = tables
        .traffic_unavailable
        .into_iter()
        .map(|(netns, reason)| (netns.to_string(), reason))
        .collect();
    if !collect_traffic {
        let off = || "collect_traffic is off".to_owned();
        collection.traffic_unavailable = members.keys().map(|n| (n.to_string(), off())).collect();
    }
    let ownership = &mut readers.ownership;

    let phase_start = Instant::now();
    let candidates: Vec<FdCandidate> = readings
        .iter()
        .filter(|r| !r.kernel_thread)
        .map(|r| FdCandidate {
            key: r.key,
            uid: r.uid,
            netns: details.netns_of(&r.key),
            fd_count: match r.fd_count {
                Field::Read(n) => Some(n),
                _ => None,
            },
        })
        .collect();
    let pass = ownership.pass(&candidates, &tables.entries);
    collection.full_ownership_scan = pass.full_scan;
    collection.phases.ownership_ms = ms_since(phase_start);

    let phase_start = Instant::now();
    // One shared copy of each name, however many connections point at its process.
    let names: rustc_hash::FxHashMap<u32, std::sync::Arc<str>> = readings
        .iter()
        .map(|r| (r.key.pid, r.name.as_str().into()))
        .collect();
    let (closed_bytes, window_secs) = if collect_traffic {
        let window_secs = readers.traffic.window_secs(read_at);
        let closed = closed_since_last_pass(
            readers,
            &members,
            &tables.entries,
            &pass.ownership,
            collection,
        );
        (closed, window_secs)
    } else {
        // Switched off: no counters were asked for, no notifications are followed (dropping
        // the feed stops its thread), and switching back on starts the rates afresh.
        readers.destroy = None;
        readers.traffic = TrafficHistory::default();
        collection.closed_connections_unavailable = collection.traffic_unavailable.clone();
        (ClosedBytes::default(), None)
    };
    let traffic = collect_traffic.then(|| readers.traffic.pass(&tables.entries, read_at));
    let assembled = assemble_sockets_owned(
        &tables.entries,
        &pass.ownership,
        &pass.row_owners,
        |pid| names.get(&pid).cloned(),
        |row, entry, role| match &traffic {
            Some(traffic) => traffic.figures(row, entry, role),
            None => Traffic::unavailable(TrafficGap::NotCollected),
        },
    );
    drop(traffic);
    if collect_traffic {
        readers.traffic.remember(&tables.entries, read_at);
    }
    readers.closed.remember_owners(pass.ownership);
    let alive: rustc_hash::FxHashSet<u32> = readings.iter().map(|r| r.key.pid).collect();
    readers.closed.keep_processes(&alive);
    let closed_totals = accumulate_closed_totals(readings, &closed_bytes, readers);
    let recently_closed = readers.closed.all_recent();
    collection.phases.peers_ms = ms_since(phase_start);
    let namespace_network = namespace_interfaces(&members, own_netns, &mut readers.interfaces);
    PassSockets {
        assembled,
        recently_closed,
        closed_bytes,
        closed_totals,
        window_secs,
        namespace_network,
        unreadable: pass.unreadable,
    }
}

/// The processes through which each network namespace's tables can be read, our own
/// namespace first through ourselves (always readable).
fn namespace_members(
    readings: &[ProcessReading],
    details: &DetailsCache,
    own_netns: Option<u64>,
) -> BTreeMap<u64, Vec<u32>> {
    let mut members: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    if let Some(own) = own_netns {
        members.entry(own).or_default().push(std::process::id());
    }
    for r in readings.iter().filter(|r| !r.kernel_thread) {
        if let Some(netns) = details.netns_of(&r.key) {
            members.entry(netns).or_default().push(r.key.pid);
        }
    }
    members
}

/// Takes the sockets that closed since the last pass from the destroy feed (starting it at
/// the first pass, and subscribing in every namespace of `members`), pins them on their
/// owners, and returns what they moved since.
fn closed_since_last_pass(
    readers: &mut SocketReaders,
    members: &BTreeMap<u64, Vec<u32>>,
    entries: &[SocketEntry],
    ownership: &Ownership,
    collection: &mut Collection,
) -> ClosedBytes {
    let feed = readers.destroy.get_or_insert_with(DestroyFeed::start);
    let unavailable: BTreeMap<u64, String> = match feed {
        Ok(feed) => feed.cover(members, own_netns()),
        Err(reason) => members.keys().map(|n| (*n, reason.clone())).collect(),
    };
    collection.closed_connections_unavailable = unavailable
        .into_iter()
        .map(|(netns, reason)| (netns.to_string(), reason))
        .collect();
    let Ok(feed) = feed else {
        return ClosedBytes::default();
    };
    let (mut closed, dropped) = feed.take();
    if dropped > 0 {
        collection.warnings.push(format!(
            "{dropped} notifications of closed connections lost (too many at once)"
        ));
    }
    // A socket in this pass's dump that closed since is counted there up to the dump: its
    // end waits for the next pass, whose last counters and owners are this pass's, so no byte
    // counts twice.
    closed.append(&mut readers.deferred_closed);
    if closed.is_empty() {
        // The common tick: what closed a minute ago still goes.
        readers.closed.prune(crate::time::now_ms());
        return ClosedBytes::default();
    }
    // Sorted once, and only on a tick where something closed.
    let order = CookieOrder::of(entries);
    let (later, now): (Vec<SocketEntry>, Vec<SocketEntry>) = closed.into_iter().partition(|e| {
        e.counters
            .is_some_and(|c| order.has_counted(entries, e.netns, c.cookie))
    });
    readers.deferred_closed = later;
    let closed = now;
    // Each notification carries its namespace, and is matched only against that namespace's
    // listeners (closed.rs).
    let listeners: Vec<ListenerOwners> = entries
        .iter()
        .filter(|e| e.proto == Proto::Tcp && e.state == SocketState::Listen && e.inode != 0)
        .map(|e| ListenerOwners {
            netns: e.netns,
            local: e.local,
            owners: ownership.owners(e.inode).to_vec(),
        })
        .filter(|l| !l.owners.is_empty())
        .collect();
    let now_ms = crate::time::now_ms();
    readers
        .closed
        .record(&closed, &listeners, &readers.traffic, now_ms)
}

/// Adds this pass's closed totals to each process's, forgets processes gone, and returns the
/// totals by pid.
fn accumulate_closed_totals(
    readings: &[ProcessReading],
    closed: &ClosedBytes,
    readers: &mut SocketReaders,
) -> FxHashMap<u32, (u64, u64)> {
    let live: std::collections::HashSet<ProcessKey> = readings.iter().map(|r| r.key).collect();
    readers.closed_totals.retain(|key, _| live.contains(key));
    let mut by_pid = FxHashMap::default();
    for r in readings {
        let added = closed.1.get(&r.key.pid).copied().unwrap_or_default();
        let total = readers.closed_totals.entry(r.key).or_default();
        total.0 = total.0.saturating_add(added.0);
        total.1 = total.1.saturating_add(added.1);
        if *total != (0, 0) {
            by_pid.insert(r.key.pid, *total);
        }
    }
    readers.closed_totals.retain(|_, total| *total != (0, 0));
    by_pid
}

/// Interface figures of each namespace but `own`, read through its first member that still
/// lives there.
fn namespace_interfaces(
    members: &BTreeMap<u64, Vec<u32>>,
    own: Option<u64>,
    history: &mut InterfaceHistory,
) -> BTreeMap<String, NetworkIo> {
    let now = Instant::now();
    let mut out = BTreeMap::new();
    let mut present = Vec::new();
    for (netns, pids) in members.iter().filter(|(netns, _)| Some(**netns) != own) {
        if let Some(totals) = pids.iter().find_map(|pid| read_net_dev(Some(*pid))) {
            present.push(*netns);
            out.insert(netns.to_string(), history.figures(*netns, now, totals));
        }
    }
    history.keep_only(&present);
    out
}

fn own_netns() -> Option<u64> {
    std::fs::read_link("/proc/self/ns/net")
        .ok()
        .and_then(|link| parse_ns_link(&link.to_string_lossy()))
}
