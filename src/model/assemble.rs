//! Turns raw socket-table rows plus inode ownership into per-process listening sockets and
//! connections: who owns each socket, which end initiated, and which process is on the other end.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

// The index maps hash tens of thousands of address tuples per tick; SipHash's protection
// against crafted keys buys nothing here (the kernel chose the keys) and costs a third of the
// assembly time.
use rustc_hash::{FxHashMap, FxHashSet};

use super::traffic::Traffic;

use super::socket::{
    family_of, is_wildcard, unmap, Connection, Direction, Listening, Proto, Role, SocketEntry,
    SocketState, UnownedSocket,
};

/// Which processes hold a file descriptor to each socket inode.
///
/// Kept as two parallel vectors sorted by (inode, pid) rather than a map of vectors: a host
/// with 20,000 sockets would otherwise pay 20,000 small allocations every tick.
#[derive(Debug, Default, Clone)]
pub struct Ownership {
    inodes: Vec<u64>,
    pids: Vec<u32>,
}

impl Ownership {
    /// Builds the table from (inode, pid) pairs in any order; duplicates are dropped.
    pub fn from_pairs(mut pairs: Vec<(u64, u32)>) -> Self {
        pairs.sort_unstable();
        pairs.dedup();
        let (inodes, pids) = pairs.into_iter().unzip();
        Ownership { inodes, pids }
    }

    /// Records that `pid` holds `inode`.
    pub fn add(&mut self, inode: u64, pid: u32) {
        let at = self.range(inode);
        let offset = self.pids[at.clone()].binary_search(&pid);
        if let Err(i) = offset {
            self.inodes.insert(at.start + i, inode);
            self.pids.insert(at.start + i, pid);
        }
    }

    fn range(&self, inode: u64) -> std::ops::Range<usize> {
        let start = self.inodes.partition_point(|i| *i < inode);
        // Searched, not walked: a socket can have thousands of owners (a pre-fork server).
        let end = start + self.inodes[start..].partition_point(|i| *i == inode);
        start..end
    }

    /// The owners of `inode`, lowest pid first; empty when none is known.
    pub fn owners(&self, inode: u64) -> &[u32] {
        &self.pids[self.range(inode)]
    }

    /// Whether any visible process holds `inode`.
    pub fn is_owned(&self, inode: u64) -> bool {
        !self.owners(inode).is_empty()
    }

    /// The owners of every row, found in one walk over the rows' inodes in order rather than
    /// a search per row: at tens of thousands of sockets the searches' cache misses were
    /// most of the assembly's cost.
    pub fn owners_of_rows(&self, entries: &[SocketEntry]) -> RowOwners {
        let mut wanted: Vec<(u64, u32)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.inode != 0)
            .map(|(row, e)| (e.inode, u32::try_from(row).unwrap_or(u32::MAX)))
            .collect();
        wanted.sort_unstable();
        let mut spans = vec![(0u32, 0u32); entries.len()];
        let mut repeated = vec![false; entries.len()];
        let mut at = 0;
        let mut previous = None;
        for (inode, row) in wanted {
            // Sorted by (inode, row): a row with the inode of the one before lists a socket
            // again (two namespaces' tables, or a dump that went over a changed bucket twice);
            // the first row keeps it.
            if previous.replace(inode) == Some(inode) {
                if let Some(flag) = repeated.get_mut(row as usize) {
                    *flag = true;
                }
                continue;
            }
            at += self.inodes[at..].partition_point(|i| *i < inode);
            let len = self.inodes[at..].partition_point(|i| *i == inode);
            if let Some(span) = spans.get_mut(row as usize) {
                *span = (
                    u32::try_from(at).unwrap_or(u32::MAX),
                    u32::try_from(len).unwrap_or(0),
                );
            }
        }
        RowOwners { spans, repeated }
    }
}

/// Each row's owners, as a span of [`Ownership`]'s pids: worked out once a tick, for the
/// ownership tracker's search for unexplained sockets and for the assembly.
#[derive(Debug, Default)]
pub struct RowOwners {
    spans: Vec<(u32, u32)>,
    /// Rows that list a socket an earlier row already listed.
    repeated: Vec<bool>,
}

impl RowOwners {
    /// Whether `row` lists a socket an earlier row already listed (whose owners count).
    pub fn is_repeat(&self, row: usize) -> bool {
        self.repeated.get(row).copied().unwrap_or(false)
    }

    /// Whether a visible process holds the socket of `row`, which is not a repeat.
    pub fn is_owned(&self, row: usize) -> bool {
        self.spans.get(row).is_some_and(|(_, len)| *len > 0)
    }

    fn of<'o>(&self, row: usize, ownership: &'o Ownership) -> &'o [u32] {
        let (start, len) = self.spans.get(row).copied().unwrap_or_default();
        let (start, len) = (start as usize, len as usize);
        ownership.pids.get(start..start + len).unwrap_or_default()
    }
}

/// The result of [`assemble_sockets`].
#[derive(Debug, Default)]
pub struct AssembledSockets {
    /// Listening sockets by owning pid.
    pub listening: FxHashMap<u32, Vec<Listening>>,
    /// Connections by owning pid.
    pub connections: FxHashMap<u32, Vec<Connection>>,
    /// Sockets with no visible owner.
    pub unowned: Vec<UnownedSocket>,
    /// Listening sockets on the host (owned or not).
    pub listening_count: u32,
    /// Established sockets on the host (owned or not).
    pub established_count: u32,
}

/// An endpoint with any IPv4-mapped address unmapped, so a v4 client of a dual-stack listener
/// matches the v4 address its peer reports.
type Endpoint = (IpAddr, u16);

fn endpoint(addr: SocketAddr) -> Endpoint {
    (unmap(addr.ip()), addr.port())
}

/// Lookups built once over all socket rows.
struct SocketIndex<'a> {
    /// Each row's peer row in the same namespace (u32::MAX: none), see [`pair_peers`].
    same_netns_peer: Vec<u32>,
    /// (proto, local, remote) -> rows in any namespace, for peers across a veth or bridge.
    /// Left empty when there is only one namespace.
    by_ends_any_netns: FxHashMap<(Proto, Endpoint, Endpoint), Vec<u32>>,
    /// (netns, proto, port) -> listening rows.
    listeners: FxHashMap<(Option<u64>, Proto, u16), Vec<&'a SocketEntry>>,
    /// (proto, port) -> listening rows of every namespace, in row order.
    listeners_any_netns: FxHashMap<(Proto, u16), Vec<&'a SocketEntry>>,
    /// Every non-wildcard local address seen: addresses of this host, in some namespace.
    host_addrs: FxHashSet<IpAddr>,
    /// The rows the maps above point into (by position).
    entries: &'a [SocketEntry],
}

impl<'a> SocketIndex<'a> {
    fn new(entries: &'a [SocketEntry]) -> Self {
        let mut index = SocketIndex {
            same_netns_peer: pair_peers(entries),
            by_ends_any_netns: FxHashMap::default(),
            listeners: FxHashMap::default(),
            listeners_any_netns: FxHashMap::default(),
            host_addrs: FxHashSet::default(),
            entries,
        };
        // Rows from more than one namespace's tables: peers may sit across a veth.
        let several_netns = entries.windows(2).any(|w| w[0].netns != w[1].netns);
        for (row, entry) in entries.iter().enumerate() {
            let row = u32::try_from(row).unwrap_or(u32::MAX);
            let local = endpoint(entry.local);
            if !is_wildcard(local.0) {
                index.host_addrs.insert(local.0);
            }
            if entry.is_listening() {
                index
                    .listeners
                    .entry((entry.netns, entry.proto, local.1))
                    .or_default()
                    .push(entry);
                index
                    .listeners_any_netns
                    .entry((entry.proto, local.1))
                    .or_default()
                    .push(entry);
            } else {
                let remote = endpoint(entry.remote);
                if several_netns {
                    index
                        .by_ends_any_netns
                        .entry((entry.proto, local, remote))
                        .or_default()
                        .push(row);
                }
            }
        }
        index
    }

    /// A listener in `netns` that accepts on `(addr, port)`.
    fn listener_for(
        &self,
        netns: Option<u64>,
        proto: Proto,
        at: Endpoint,
    ) -> Option<&'a SocketEntry> {
        let candidates = self.listeners.get(&(netns, proto, at.1))?;
        // An exact address beats a wildcard, as in the kernel's own lookup.
        candidates
            .iter()
            .find(|l| unmap(l.local.ip()) == at.0)
            .or_else(|| candidates.iter().find(|l| is_wildcard(l.local.ip())))
            .copied()
    }

    fn listener_in_any_netns(&self, proto: Proto, at: Endpoint) -> Option<&'a SocketEntry> {
        self.listeners_any_netns
            .get(&(proto, at.1))?
            .iter()
            .find(|l| unmap(l.local.ip()) == at.0)
            .copied()
    }

    /// The row for the other end of `entry` (which is row `own_row`), if it is on this host.
    fn peer_row(&self, entry: &SocketEntry, own_row: usize) -> Option<usize> {
        let local = endpoint(entry.local);
        let remote = endpoint(entry.remote);
        let same_netns = self.same_netns_peer.get(own_row).copied();
        if let Some(row) = same_netns.filter(|row| *row != NO_ROW) {
            return Some(row as usize);
        }
        if remote.0.is_loopback() {
            // Loopback never leaves a namespace: a match elsewhere would be a different host.
            return None;
        }
        self.by_ends_any_netns
            .get(&(entry.proto, remote, local))
            .and_then(|rows| {
                rows.iter().map(|row| *row as usize).find(|row| {
                    self.entries
                        .get(*row)
                        .is_some_and(|r| r.netns != entry.netns)
                })
            })
    }
}

/// No row.
const NO_ROW: u32 = u32::MAX;

/// Finds each connection's peer row in its own namespace: the row whose ends are its own
/// swapped. Both ends of a connection share the unordered pair of ends, so the rows are
/// sorted by a hash of that pair and each peer sits next to its connection: at tens of
/// thousands of sockets this costs a fraction of a hash map of all 4-tuples, whose every
/// insert and lookup is a cache miss. The first matching row wins, a row never matches itself
/// (a socket connected to itself has no peer), and rows whose hashes collide are told apart
/// by their real ends.
fn pair_peers(entries: &[SocketEntry]) -> Vec<u32> {
    let mut keyed: Vec<(u64, u32)> = entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| !entry.is_listening())
        .map(|(row, entry)| (pair_hash(entry), u32::try_from(row).unwrap_or(NO_ROW)))
        .collect();
    keyed.sort_unstable();
    let mut peers = vec![NO_ROW; entries.len()];
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        if run.len() > SMALL_RUN {
            pair_within_large_run(entries, run, &mut peers);
            continue;
        }
        for (_, row) in run {
            let Some(entry) = entries.get(*row as usize) else {
                continue;
            };
            // The first row (by position) whose ends are this one's swapped.
            let first = run.iter().map(|(_, other)| *other).find(|other| {
                entries
                    .get(*other as usize)
                    .is_some_and(|o| is_peer(entry, o))
            });
            if let (Some(first), Some(slot)) = (first, peers.get_mut(*row as usize)) {
                if first != *row {
                    *slot = first;
                }
            }
        }
    }
    peers
}

/// Rows sharing one pair of ends beyond this many (UDP sockets sharing a port with
/// SO_REUSEPORT, all connected to one peer) are matched through a map rather than each
/// against all.
const SMALL_RUN: usize = 8;

/// [`pair_peers`] for a run of many rows with one hash: the first row of each exact
/// (namespace, protocol, local, remote) is every swapped row's peer.
fn pair_within_large_run(entries: &[SocketEntry], run: &[(u64, u32)], peers: &mut [u32]) {
    type Ends = (Option<u64>, Proto, Endpoint, Endpoint);
    let ends =
        |e: &SocketEntry| -> Ends { (e.netns, e.proto, endpoint(e.local), endpoint(e.remote)) };
    let mut first_by_ends: FxHashMap<Ends, u32> = FxHashMap::default();
    // Rows in position order, so the first row of each key is the lowest.
    let mut rows: Vec<u32> = run.iter().map(|(_, row)| *row).collect();
    rows.sort_unstable();
    for row in &rows {
        if let Some(entry) = entries.get(*row as usize) {
            first_by_ends.entry(ends(entry)).or_insert(*row);
        }
    }
    for row in rows {
        let Some(entry) = entries.get(row as usize) else {
            continue;
        };
        let (netns, proto, local, remote) = ends(entry);
        let peer = first_by_ends.get(&(netns, proto, remote, local)).copied();
        if let (Some(peer), Some(slot)) = (peer, peers.get_mut(row as usize)) {
            if peer != row {
                *slot = peer;
            }
        }
    }
}

/// Whether `other`'s ends are `entry`'s swapped, in the same namespace and protocol.
fn is_peer(entry: &SocketEntry, other: &SocketEntry) -> bool {
    entry.netns == other.netns
        && entry.proto == other.proto
        && endpoint(entry.local) == endpoint(other.remote)
        && endpoint(entry.remote) == endpoint(other.local)
}

/// A hash of (namespace, protocol, the unordered pair of ends), the same for both ends of a
/// connection.
fn pair_hash(entry: &SocketEntry) -> u64 {
    use std::hash::BuildHasher;
    let (local, remote) = (endpoint(entry.local), endpoint(entry.remote));
    let (low, high) = if local <= remote {
        (local, remote)
    } else {
        (remote, local)
    };
    rustc_hash::FxBuildHasher.hash_one((entry.netns, entry.proto, low, high))
}

/// Distributes socket rows to their owners and works out direction, role and peer for each
/// connection. `name_of` gives a process name for a pid in the same snapshot, `traffic_of`
/// a socket's traffic figures given its row (position in `entries`) and which end it is.
///
/// Built for tens of thousands of rows a tick, where the cost is memory traffic rather than
/// arithmetic: owners are found for every row in one sorted walk (not a search per row and
/// another per peer), and each process's connections are put in order as small keys first,
/// so every connection is written once, into a list of the right size, in its final place.
pub fn assemble_sockets(
    entries: &[SocketEntry],
    ownership: &Ownership,
    name_of: impl Fn(u32) -> Option<Arc<str>>,
    traffic_of: impl Fn(usize, &SocketEntry, Role) -> Traffic,
) -> AssembledSockets {
    let owners_of = ownership.owners_of_rows(entries);
    assemble_sockets_owned(entries, ownership, &owners_of, name_of, traffic_of)
}

/// [`assemble_sockets`] with the rows' owners already worked out (by
/// [`Ownership::owners_of_rows`] for these `entries` and this `ownership`).
pub fn assemble_sockets_owned(
    entries: &[SocketEntry],
    ownership: &Ownership,
    owners_of: &RowOwners,
    name_of: impl Fn(u32) -> Option<Arc<str>>,
    traffic_of: impl Fn(usize, &SocketEntry, Role) -> Traffic,
) -> AssembledSockets {
    let index = SocketIndex::new(entries);
    let mut out = AssembledSockets::default();
    // Every owned connection, once per owner.
    let mut placed: Vec<ConnectionOrder> = Vec::with_capacity(entries.len());

    for (row, entry) in entries.iter().enumerate() {
        // The same socket listed twice must not appear twice.
        if owners_of.is_repeat(row) {
            continue;
        }
        if entry.is_listening() {
            out.listening_count += 1;
        } else if entry.state == SocketState::Established {
            out.established_count += 1;
        }

        let owners = owners_of.of(row, ownership);
        if owners.is_empty() {
            out.unowned.push(unowned(entry));
            continue;
        }

        if entry.is_listening() {
            let local_addr = unmap(entry.local.ip());
            let listening = Listening {
                proto: entry.proto,
                family: family_of(local_addr),
                addr: local_addr,
                port: entry.local.port(),
                inode: entry.inode,
                netns: entry.netns,
            };
            give_to_owners(&mut out.listening, owners, listening);
            continue;
        }
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        placed.extend(
            owners
                .iter()
                .map(|pid| ConnectionOrder::of(*pid, entry, row)),
        );
    }

    for list in out.listening.values_mut() {
        list.sort_by_key(|l| (l.proto, l.port, l.addr));
    }
    placed.sort_unstable();
    // A socket several processes hold is worked out once and copied to the others.
    let mut shared: FxHashMap<u32, Connection> = FxHashMap::default();
    for group in placed.chunk_by(|a, b| a.pid() == b.pid()) {
        let mut list = Vec::with_capacity(group.len());
        for ConnectionOrder { row, .. } in group {
            if let Some(done) = shared.get(row) {
                list.push(done.clone());
                continue;
            }
            let Some(entry) = entries.get(*row as usize) else {
                continue;
            };
            let peer_owners = |peer_row: usize| owners_of.of(peer_row, ownership);
            let mut connection = connection(
                entry,
                *row as usize,
                &index,
                ownership,
                peer_owners,
                &name_of,
            );
            if let Some(role) = connection.role {
                connection.traffic = traffic_of(*row as usize, entry, role);
            }
            if owners_of.of(*row as usize, ownership).len() > 1 {
                shared.insert(*row, connection.clone());
            }
            list.push(connection);
        }
        out.connections.insert(group[0].pid(), list);
    }
    out
}

/// Where a connection goes: under its owner, then by protocol, local port, remote address
/// and port, and inode (which makes every key unique), as the explorer lists them. Packed into
/// integers (IPv4 before IPv6, as `IpAddr` orders them) because tens of thousands are sorted
/// every tick, and comparing small integers is several times cheaper than comparing enums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct ConnectionOrder {
    /// Owner pid, protocol, local port and the remote address's family.
    head: u64,
    /// The remote address, high and low halves.
    remote_addr: (u64, u64),
    remote_port: u16,
    inode: u64,
    /// Where the connection's row is (not part of the order: the inode already decides).
    row: u32,
}

impl ConnectionOrder {
    fn of(pid: u32, entry: &SocketEntry, row: u32) -> Self {
        let remote = endpoint(entry.remote);
        let (family, remote_addr) = match remote.0 {
            IpAddr::V4(v4) => (0u64, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (1u64, u128::from(v6)),
        };
        let proto = match entry.proto {
            Proto::Tcp => 0u64,
            Proto::Udp => 1u64,
        };
        ConnectionOrder {
            head: (u64::from(pid) << 32)
                | (proto << 24)
                | (u64::from(entry.local.port()) << 8)
                | family,
            remote_addr: ((remote_addr >> 64) as u64, remote_addr as u64),
            remote_port: remote.1,
            inode: entry.inode,
            row,
        }
    }

    fn pid(&self) -> u32 {
        (self.head >> 32) as u32
    }
}

/// Files `item` under each owner: copies for all but the last, which takes the original (one
/// owner, the common case, costs no copy).
fn give_to_owners<T: Clone>(by_pid: &mut FxHashMap<u32, Vec<T>>, owners: &[u32], item: T) {
    if let Some((last, rest)) = owners.split_last() {
        for pid in rest {
            by_pid.entry(*pid).or_default().push(item.clone());
        }
        by_pid.entry(*last).or_default().push(item);
    }
}

fn connection<'o>(
    entry: &SocketEntry,
    row: usize,
    index: &SocketIndex<'_>,
    ownership: &'o Ownership,
    owners_of_row: impl Fn(usize) -> &'o [u32],
    name_of: &impl Fn(u32) -> Option<Arc<str>>,
) -> Connection {
    let local = endpoint(entry.local);
    let remote = endpoint(entry.remote);

    let accepted_here = index
        .listener_for(entry.netns, entry.proto, local)
        .is_some();
    let role = if accepted_here {
        Role::Server
    } else {
        Role::Client
    };

    let peer_row = index.peer_row(entry, row);
    let mut peer_pid = peer_row.and_then(|row| owners_of_row(row).first().copied());
    if peer_pid.is_none() && role == Role::Client {
        // The server end may still sit in the accept queue (inode 0), or be a bound UDP socket
        // with no fixed peer: the listener's owner is the process we are talking to.
        let listener = index
            .listener_for(entry.netns, entry.proto, remote)
            .or_else(|| {
                if remote.0.is_loopback() {
                    None
                } else {
                    index.listener_in_any_netns(entry.proto, remote)
                }
            });
        peer_pid = listener.and_then(|row| ownership.owners(row.inode).first().copied());
    }

    let on_this_host = peer_pid.is_some()
        || peer_row.is_some()
        || remote.0.is_loopback()
        || index.host_addrs.contains(&remote.0);
    let direction = if on_this_host {
        Direction::Local
    } else if role == Role::Server {
        Direction::Inbound
    } else {
        Direction::Outbound
    };

    Connection {
        proto: entry.proto,
        family: family_of(local.0),
        local_addr: local.0,
        local_port: local.1,
        remote_addr: remote.0,
        remote_port: remote.1,
        state: entry.state,
        direction,
        role: Some(role),
        inode: entry.inode,
        netns: entry.netns,
        peer_pid,
        peer_name: peer_pid.and_then(name_of),
        traffic: Traffic::default(),
    }
}

fn unowned(entry: &SocketEntry) -> UnownedSocket {
    let local = endpoint(entry.local);
    let remote = endpoint(entry.remote);
    UnownedSocket {
        proto: entry.proto,
        family: family_of(local.0),
        local_addr: local.0,
        local_port: local.1,
        remote_addr: remote.0,
        remote_port: remote.1,
        state: entry.state,
        inode: entry.inode,
        netns: entry.netns,
        uid: entry.uid,
        reason: if entry.inode == 0 {
            "kernel"
        } else {
            "not_visible"
        }
        .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: Option<u64> = Some(4026531840);

    fn tcp(local: &str, remote: &str, state: SocketState, inode: u64) -> SocketEntry {
        SocketEntry {
            netns: NS,
            proto: Proto::Tcp,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state,
            inode,
            uid: 1000,
            counters: None,
        }
    }

    fn names(pid: u32) -> Option<Arc<str>> {
        match pid {
            100 => Some("node".into()),
            200 => Some("curl".into()),
            _ => None,
        }
    }

    /// node (pid 100) listens on 127.0.0.1:8080; curl (pid 200) is connected to it.
    fn curl_to_node() -> (Vec<SocketEntry>, Ownership) {
        let entries = vec![
            tcp("127.0.0.1:8080", "0.0.0.0:0", SocketState::Listen, 10),
            tcp(
                "127.0.0.1:8080",
                "127.0.0.1:50000",
                SocketState::Established,
                11,
            ),
            tcp(
                "127.0.0.1:50000",
                "127.0.0.1:8080",
                SocketState::Established,
                20,
            ),
        ];
        let mut own = Ownership::default();
        own.add(10, 100);
        own.add(11, 100);
        own.add(20, 200);
        (entries, own)
    }

    #[test]
    fn client_connection_names_server_as_peer() {
        let (entries, own) = curl_to_node();
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        let curl = &out.connections[&200][0];
        assert_eq!(curl.peer_pid, Some(100));
        assert_eq!(curl.peer_name.as_deref(), Some("node"));
        assert_eq!(curl.role, Some(Role::Client));
        assert_eq!(curl.direction, Direction::Local);
        let node = &out.connections[&100][0];
        assert_eq!(node.peer_pid, Some(200));
        assert_eq!(node.role, Some(Role::Server));
        assert_eq!(out.listening[&100][0].port, 8080);
        assert_eq!(out.listening_count, 1);
        assert_eq!(out.established_count, 2);
    }

    #[test]
    fn client_waiting_in_accept_queue_names_listener_owner() {
        let (mut entries, own) = curl_to_node();
        entries[1].inode = 0; // not yet accepted: no fd refers to it
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.connections[&200][0].peer_pid, Some(100));
        assert_eq!(out.unowned.len(), 1);
        assert_eq!(out.unowned[0].reason, "kernel");
    }

    /// Each owner's list comes out ordered by protocol, local port, remote address (IPv4
    /// before IPv6), remote port and inode, whatever order the tables listed the rows in, and
    /// every owner of a shared socket gets it with its peer.
    #[test]
    fn connections_are_listed_in_order_under_every_owner() {
        let mut entries = vec![
            tcp(
                "10.0.0.1:9000",
                "[2001:db8::1]:443",
                SocketState::Established,
                31,
            ),
            tcp(
                "10.0.0.1:9000",
                "10.0.0.9:443",
                SocketState::Established,
                32,
            ),
            tcp("10.0.0.1:80", "10.0.0.9:5000", SocketState::Established, 33),
            tcp("10.0.0.1:9000", "10.0.0.9:80", SocketState::Established, 34),
            tcp("10.0.0.1:9000", "10.0.0.9:80", SocketState::CloseWait, 35),
            tcp(
                "127.0.0.1:7000",
                "127.0.0.1:7001",
                SocketState::Established,
                36,
            ),
            tcp(
                "127.0.0.1:7001",
                "127.0.0.1:7000",
                SocketState::Established,
                37,
            ),
            tcp("10.0.0.1:9000", "[::1]:443", SocketState::Established, 38),
        ];
        entries[2].proto = Proto::Udp;
        let mut own = Ownership::default();
        for inode in [31, 32, 33, 34, 35, 36, 38] {
            own.add(inode, 300);
        }
        own.add(36, 301);
        own.add(37, 400);
        let expected = |entries: &[SocketEntry], pid: u32| -> Vec<u64> {
            let mut rows: Vec<&SocketEntry> = entries
                .iter()
                .filter(|e| own.owners(e.inode).contains(&pid))
                .collect();
            rows.sort_by_key(|e| {
                let remote = endpoint(e.remote);
                (e.proto, e.local.port(), remote.0, remote.1, e.inode)
            });
            rows.iter().map(|e| e.inode).collect()
        };
        for rotation in 0..entries.len() {
            let mut shuffled = entries.clone();
            shuffled.rotate_left(rotation);
            let middle = shuffled.len() / 2;
            shuffled.swap(0, middle);
            let out = assemble_sockets(&shuffled, &own, names, |_, _, _| Traffic::default());
            for pid in [300, 301, 400] {
                let got: Vec<u64> = out.connections[&pid].iter().map(|c| c.inode).collect();
                assert_eq!(
                    got,
                    expected(&entries, pid),
                    "pid {pid}, rotation {rotation}"
                );
            }
            // The shared socket 36 is under both its owners, each seeing the same peer.
            for pid in [300, 301] {
                let shared = out.connections[&pid]
                    .iter()
                    .find(|c| c.inode == 36)
                    .unwrap();
                assert_eq!(shared.peer_pid, Some(400), "pid {pid}");
            }
            let other_end = &out.connections[&400][0];
            assert_eq!(other_end.peer_pid, Some(300), "lowest owner of 36");
        }
        // The order puts IPv4 before IPv6 and UDP after TCP.
        let order = expected(&entries, 300);
        assert_eq!(order, vec![36, 34, 35, 32, 38, 31, 33]);
    }

    /// The sorted pairing finds the same peer as the obvious search (the first row, by
    /// position, whose ends are the row's swapped; never the row itself) for pairs, a socket
    /// connected to itself, two namespaces with the same 4-tuples, and a large run of
    /// sockets sharing one pair of ends.
    #[test]
    fn peers_pair_like_the_obvious_search() {
        let mut entries = vec![
            tcp(
                "127.0.0.1:5000",
                "127.0.0.1:5000",
                SocketState::Established,
                1,
            ),
            tcp("127.0.0.1:8080", "0.0.0.0:0", SocketState::Listen, 2),
        ];
        for i in 0..50u16 {
            let client = format!("127.0.0.1:{}", 40_000 + i);
            entries.push(tcp(&client, "127.0.0.1:8080", SocketState::Established, 0));
            entries.push(tcp("127.0.0.1:8080", &client, SocketState::Established, 0));
        }
        let mut other_ns: Vec<SocketEntry> = entries[2..12].to_vec();
        for e in &mut other_ns {
            e.netns = Some(7);
        }
        entries.extend(other_ns);
        for i in 0..(2 * SMALL_RUN as u64) {
            let (a, b) = ("10.0.0.1:53", "10.0.0.2:53");
            let (local, remote) = if i % 3 == 0 { (b, a) } else { (a, b) };
            let mut udp = tcp(local, remote, SocketState::Established, 100 + i);
            udp.proto = Proto::Udp;
            entries.push(udp);
        }
        // Two UDP sockets sharing one port (SO_REUSEPORT), each connected to that port.
        for inode in [200, 201] {
            let mut udp = tcp(
                "127.0.0.1:6000",
                "127.0.0.1:6000",
                SocketState::Established,
                inode,
            );
            udp.proto = Proto::Udp;
            entries.push(udp);
        }
        entries.swap(5, 60);
        entries.swap(17, 90);
        let peers = pair_peers(&entries);
        for (row, entry) in entries.iter().enumerate() {
            let obvious = if entry.is_listening() {
                None
            } else {
                entries
                    .iter()
                    .position(|o| !o.is_listening() && is_peer(entry, o))
                    .filter(|first| *first != row)
            };
            let paired = peers.get(row).copied().filter(|p| *p != NO_ROW);
            assert_eq!(paired.map(|p| p as usize), obvious, "row {row}: {entry:?}");
        }
        assert_eq!(peers[0], NO_ROW, "connected to itself: no peer");
    }

    /// A socket listed twice in one namespace's table (a dump that went over a bucket that
    /// changed under it) is counted and handed out once, the first row keeping it.
    #[test]
    fn a_socket_listed_twice_in_one_namespace_appears_once() {
        let (mut entries, own) = curl_to_node();
        entries.push(entries[2].clone());
        entries.push(entries[0].clone());
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.connections[&200].len(), 1);
        assert_eq!(out.connections[&100].len(), 1);
        assert_eq!(out.listening[&100].len(), 1);
        assert_eq!((out.established_count, out.listening_count), (2, 1));
        let mut unowned = entries[1].clone();
        unowned.inode = 99;
        entries.push(unowned.clone());
        entries.push(unowned);
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.unowned.len(), 1);
    }

    #[test]
    fn shared_socket_appears_under_every_owner() {
        let (entries, mut own) = curl_to_node();
        own.add(10, 101); // a pre-forked worker shares the listener
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.listening[&100].len(), 1);
        assert_eq!(out.listening[&101].len(), 1);
    }

    #[test]
    fn mapped_v4_client_of_dual_stack_listener_is_resolved_and_shown_as_v4() {
        let entries = vec![
            tcp("[::]:9000", "[::]:0", SocketState::Listen, 10),
            tcp(
                "[::ffff:127.0.0.1]:9000",
                "[::ffff:127.0.0.1]:40000",
                SocketState::Established,
                11,
            ),
            tcp(
                "127.0.0.1:40000",
                "127.0.0.1:9000",
                SocketState::Established,
                20,
            ),
        ];
        let mut own = Ownership::default();
        own.add(10, 100);
        own.add(11, 100);
        own.add(20, 200);
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        let server_side = &out.connections[&100][0];
        assert_eq!(server_side.local_addr.to_string(), "127.0.0.1");
        assert_eq!(server_side.family, super::super::Family::Ipv4);
        assert_eq!(server_side.peer_pid, Some(200));
        assert_eq!(out.connections[&200][0].peer_pid, Some(100));
    }

    #[test]
    fn loopback_peer_in_another_namespace_is_not_matched() {
        let (mut entries, own) = curl_to_node();
        for e in &mut entries[..2] {
            e.netns = Some(1); // node lives in a container with its own loopback
        }
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.connections[&200][0].peer_pid, None);
    }

    #[test]
    fn remote_connection_is_outbound_or_inbound_by_role() {
        let entries = vec![
            tcp("0.0.0.0:22", "0.0.0.0:0", SocketState::Listen, 1),
            tcp(
                "10.0.0.2:22",
                "203.0.113.9:51000",
                SocketState::Established,
                2,
            ),
            tcp(
                "10.0.0.2:41000",
                "198.51.100.7:443",
                SocketState::Established,
                3,
            ),
        ];
        let mut own = Ownership::default();
        own.add(1, 1);
        own.add(2, 1);
        own.add(3, 2);
        let out = assemble_sockets(&entries, &own, |_| None, |_, _, _| Traffic::default());
        assert_eq!(out.connections[&1][0].direction, Direction::Inbound);
        assert_eq!(out.connections[&2][0].direction, Direction::Outbound);
        assert_eq!(out.connections[&2][0].peer_pid, None);
    }

    #[test]
    fn unowned_socket_with_inode_is_not_visible_rather_than_kernel() {
        let entries = vec![tcp("127.0.0.1:1", "0.0.0.0:0", SocketState::Listen, 55)];
        let out = assemble_sockets(
            &entries,
            &Ownership::default(),
            |_| None,
            |_, _, _| Traffic::default(),
        );
        assert_eq!(out.unowned[0].reason, "not_visible");
        assert!(out.listening.is_empty());
    }

    #[test]
    fn connected_udp_client_names_bound_server_as_peer() {
        let mut entries = vec![
            tcp("127.0.0.1:5353", "0.0.0.0:0", SocketState::Unconn, 10),
            tcp(
                "127.0.0.1:45000",
                "127.0.0.1:5353",
                SocketState::Established,
                20,
            ),
        ];
        for e in &mut entries {
            e.proto = Proto::Udp;
        }
        let mut own = Ownership::default();
        own.add(10, 100);
        own.add(20, 200);
        let out = assemble_sockets(&entries, &own, names, |_, _, _| Traffic::default());
        assert_eq!(out.listening[&100][0].proto, Proto::Udp);
        assert_eq!(out.connections[&200][0].peer_pid, Some(100));
        assert_eq!(out.connections[&200][0].role, Some(Role::Client));
    }
}
