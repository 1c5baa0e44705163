//! Connections that closed between two samples: who they belonged to, what they moved since
//! they were last seen, and the list of recent ones each process keeps for a while. Pure: the
//! closed sockets, the last pass's owners and counters, and the listeners in; attributions out.
//!
//! A closed socket is pinned on a process only when that cannot be wrong:
//! - an earlier sample saw the process hold it (the same cookie: never another socket that
//!   reused its inode or ports), or
//! - it was accepted by a listener, whose owners took it (an accepted socket starts in the
//!   listener's process).
//!
//! Both within the network namespace the socket closed in (each closed socket carries it):
//! two containers commonly listen on the same address and port, and older kernels count
//! socket cookies per namespace, so a cookie or a listener of another namespace is another
//! socket. (Inodes are the host's: sockets live in one pseudo-filesystem.)
//!
//! A client socket born and closed between two samples is known only by its addresses and uid;
//! several processes of one user may have made it, so it is pinned on none. Its bytes still
//! count in the host's totals (the interfaces'), never in a process's.

use std::collections::VecDeque;
use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use crate::model::{unmap, ClosedConnection, Ownership, Role, SocketEntry};
use crate::sample::traffic::TrafficHistory;

/// How long a closed connection stays on its process.
pub const KEEP_MS: u64 = 60_000;
/// At most this many recent closed connections per process (a busy server closes thousands a
/// minute; the newest are kept).
pub const KEEP_PER_PROCESS: usize = 100;

/// A listening socket, the network namespace it listens in, and the processes that hold it.
pub struct ListenerOwners {
    pub netns: Option<u64>,
    pub local: SocketAddr,
    pub owners: Vec<u32>,
}

/// What one pass learned from the closed sockets, per process (sent, received): the bytes
/// they moved since the last pass (for its rates), and their data totals (for its totals).
#[derive(Debug, Default, PartialEq)]
pub struct ClosedBytes(
    pub FxHashMap<u32, (u64, u64)>,
    pub FxHashMap<u32, (u64, u64)>,
);

#[derive(Debug, Default)]
pub struct ClosedTracker {
    /// Who held each inode at the last pass (the inode of each socket, by namespace and
    /// cookie, is in the last pass's readings: no table of our own, no allocation per socket).
    owners: Ownership,
    /// Recently closed connections by owner pid, oldest first.
    recent: FxHashMap<u32, VecDeque<ClosedConnection>>,
}

impl ClosedTracker {
    /// Pins each closed socket on its owners where it cannot be wrong, keeps it on them, and
    /// returns the bytes each moved since the last pass (`history`: the last pass's readings; a
    /// socket not in them moved all its bytes since).
    pub fn record(
        &mut self,
        closed: &[SocketEntry],
        listeners: &[ListenerOwners],
        history: &TrafficHistory,
        now_ms: u64,
    ) -> ClosedBytes {
        let mut bytes = ClosedBytes::default();
        for entry in closed {
            let Some(last) = entry.counters.filter(|c| c.cookie != 0) else {
                continue;
            };
            let before = history.last(entry.netns, last.cookie);
            let seen = before
                .filter(|b| b.inode != 0)
                .map(|b| self.owners.owners(b.inode))
                .filter(|owners| !owners.is_empty());
            let (owners, attributed_by, role) = match seen {
                Some(owners) => (owners.to_vec(), "seen", None),
                None => match accepted_by(entry.netns, entry.local, listeners) {
                    Some(owners) => (owners.to_vec(), "listener", Some(Role::Server)),
                    None => continue,
                },
            };
            let role = role.unwrap_or_else(|| {
                if accepted_by(entry.netns, entry.local, listeners).is_some() {
                    Role::Server
                } else {
                    Role::Client
                }
            });
            // Sequence numbers that are not data: the kernel's counts hold a client's SYN
            // (see traffic.rs) and, once a connection has closed, the FIN each way. A
            // connection ended by a reset has no FIN, and is under-counted by one byte.
            let handshake = u64::from(role == Role::Client);
            let data_sent = last.bytes_acked.map(|b| b.saturating_sub(handshake + 1));
            let data_received = last.bytes_received.map(|b| b.saturating_sub(1));
            let before = before.filter(|b| b.bytes_acked.is_some());
            let sent_before = before
                .and_then(|b| b.bytes_acked)
                .map_or(0, |b| b.saturating_sub(handshake));
            let received_before = before.and_then(|b| b.bytes_received).unwrap_or(0);
            let sent = data_sent.map_or(0, |b| b.saturating_sub(sent_before));
            let received = data_received.map_or(0, |b| b.saturating_sub(received_before));
            let closed = ClosedConnection {
                local_addr: unmap(entry.local.ip()),
                local_port: entry.local.port(),
                remote_addr: unmap(entry.remote.ip()),
                remote_port: entry.remote.port(),
                role,
                bytes_sent: data_sent,
                bytes_received: data_received,
                rtt_ms: last.rtt_us.map(|us| f64::from(us) / 1000.0),
                retransmits: last.total_retrans,
                closed_at_ms: now_ms,
                attributed_by: attributed_by.to_owned(),
            };
            for pid in owners {
                let moved = bytes.0.entry(pid).or_default();
                moved.0 += sent;
                moved.1 += received;
                let total = bytes.1.entry(pid).or_default();
                total.0 += data_sent.unwrap_or(0);
                total.1 += data_received.unwrap_or(0);
                let list = self.recent.entry(pid).or_default();
                list.push_back(closed.clone());
                while list.len() > KEEP_PER_PROCESS {
                    list.pop_front();
                }
            }
        }
        self.prune(now_ms);
        bytes
    }

    /// Remembers who holds each socket inode this pass, for the next one.
    pub fn remember_owners(&mut self, owners: Ownership) {
        self.owners = owners;
    }

    /// Every process's recently closed connections, oldest first (the processes with none
    /// are not in it).
    pub fn all_recent(&self) -> FxHashMap<u32, Vec<ClosedConnection>> {
        self.recent
            .iter()
            .map(|(pid, list)| (*pid, list.iter().cloned().collect()))
            .collect()
    }

    /// The recently closed connections of `pid`, oldest first.
    #[cfg(test)]
    pub fn recent_of(&self, pid: u32) -> Vec<ClosedConnection> {
        self.recent
            .get(&pid)
            .map(|list| list.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets the closed connections of processes that are gone (`alive`: the pids of this
    /// pass), so a pid handed to a new process does not show the old one's.
    pub fn keep_processes(&mut self, alive: &rustc_hash::FxHashSet<u32>) {
        self.recent.retain(|pid, _| alive.contains(pid));
    }

    /// Forgets what closed longer ago than [`KEEP_MS`].
    pub fn prune(&mut self, now_ms: u64) {
        for list in self.recent.values_mut() {
            while list
                .front()
                .is_some_and(|c| now_ms.saturating_sub(c.closed_at_ms) > KEEP_MS)
            {
                list.pop_front();
            }
        }
        self.recent.retain(|_, list| !list.is_empty());
    }
}

/// The one process whose listener accepted a socket of namespace `netns` with local address
/// `local`: a listener of that namespace on that exact address, else one on the wildcard
/// address, and only when a single listener matches and a single process holds it. A listener
/// shared by a pre-fork server's master and workers (nginx, gunicorn, php-fpm) cannot say which
/// of them took the connection: None.
fn accepted_by(
    netns: Option<u64>,
    local: SocketAddr,
    listeners: &[ListenerOwners],
) -> Option<&[u32]> {
    let ip = unmap(local.ip());
    let on_port = || {
        listeners
            .iter()
            .filter(|l| l.netns == netns && l.local.port() == local.port())
    };
    let exact: Vec<&ListenerOwners> = on_port().filter(|l| unmap(l.local.ip()) == ip).collect();
    let candidates = if exact.is_empty() {
        on_port()
            .filter(|l| unmap(l.local.ip()).is_unspecified())
            .collect()
    } else {
        exact
    };
    match candidates.as_slice() {
        [only] if only.owners.len() == 1 => Some(only.owners.as_slice()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Proto, SocketState, TcpCounters};

    /// The sampler's own namespace in these tests; containers are 2 and 3.
    const HOST: u64 = 1;

    /// The readings of a pass that saw `entries`.
    fn history_of(entries: &[SocketEntry]) -> TrafficHistory {
        let mut history = TrafficHistory::default();
        history.remember(entries, std::time::Instant::now());
        history
    }

    fn closed(local: &str, remote: &str, cookie: u64, acked: u64, received: u64) -> SocketEntry {
        closed_in(HOST, local, remote, cookie, acked, received)
    }

    fn closed_in(
        netns: u64,
        local: &str,
        remote: &str,
        cookie: u64,
        acked: u64,
        received: u64,
    ) -> SocketEntry {
        SocketEntry {
            netns: Some(netns),
            proto: Proto::Tcp,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state: SocketState::Close,
            inode: 0,
            uid: 1000,
            counters: Some(TcpCounters {
                cookie,
                bytes_acked: Some(acked),
                bytes_received: Some(received),
                rtt_us: Some(100),
                total_retrans: Some(0),
                ..TcpCounters::default()
            }),
        }
    }

    fn node_listener() -> Vec<ListenerOwners> {
        vec![ListenerOwners {
            netns: Some(HOST),
            local: "0.0.0.0:8080".parse().unwrap(),
            owners: vec![1200],
        }]
    }

    #[test]
    fn an_accepted_connection_born_and_closed_between_samples_goes_to_the_listener() {
        let mut tracker = ClosedTracker::default();
        // 5,000 bytes and 80, each way plus its FIN.
        let socket = closed("127.0.0.1:8080", "127.0.0.1:50312", 7, 5_001, 81);
        let moved = tracker.record(
            &[socket],
            &node_listener(),
            &TrafficHistory::default(),
            1_000,
        );
        assert_eq!(moved.0.get(&1200), Some(&(5_000, 80)));
        let recent = tracker.recent_of(1200);
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].role, Role::Server);
        assert_eq!(recent[0].attributed_by, "listener");
        assert_eq!(recent[0].bytes_sent, Some(5_000));
    }

    #[test]
    fn a_socket_seen_before_goes_to_its_owner_with_what_it_moved_since() {
        let mut tracker = ClosedTracker::default();
        let mut seen = closed("127.0.0.1:50312", "127.0.0.1:8080", 9, 101, 4_000);
        seen.inode = 77;
        let history = history_of(&[seen]);
        tracker.remember_owners(Ownership::from_pairs(vec![(77, 1300)]));
        // 100 bytes sent (SYN and FIN besides), 5,000 received (FIN besides).
        let after = closed("127.0.0.1:50312", "127.0.0.1:8080", 9, 102, 5_001);
        let moved = tracker.record(&[after], &node_listener(), &history, 1_000);
        assert_eq!(moved.0.get(&1300), Some(&(0, 1_000)));
        let recent = tracker.recent_of(1300);
        assert_eq!(recent[0].attributed_by, "seen");
        assert_eq!(recent[0].role, Role::Client);
        assert_eq!(recent[0].bytes_sent, Some(100), "the SYN is not data");
    }

    #[test]
    fn a_listener_shared_by_several_processes_or_ambiguous_pins_nothing() {
        let mut tracker = ClosedTracker::default();
        let socket = closed("127.0.0.1:8080", "127.0.0.1:50312", 7, 5_001, 81);
        let prefork = vec![ListenerOwners {
            netns: Some(HOST),
            local: "0.0.0.0:8080".parse().unwrap(),
            owners: vec![100, 101, 102],
        }];
        let moved = tracker.record(
            std::slice::from_ref(&socket),
            &prefork,
            &TrafficHistory::default(),
            1_000,
        );
        assert_eq!(moved, ClosedBytes::default());
        // An exact address wins over the wildcard.
        let both = vec![
            ListenerOwners {
                netns: Some(HOST),
                local: "0.0.0.0:8080".parse().unwrap(),
                owners: vec![200],
            },
            ListenerOwners {
                netns: Some(HOST),
                local: "127.0.0.1:8080".parse().unwrap(),
                owners: vec![300],
            },
        ];
        let moved = tracker.record(&[socket], &both, &TrafficHistory::default(), 1_000);
        assert!(moved.0.contains_key(&300) && !moved.0.contains_key(&200));
    }

    #[test]
    fn a_client_never_seen_is_pinned_on_nobody() {
        let mut tracker = ClosedTracker::default();
        let socket = closed("127.0.0.1:50999", "10.0.0.9:443", 11, 300, 9_000);
        let moved = tracker.record(
            &[socket],
            &node_listener(),
            &TrafficHistory::default(),
            1_000,
        );
        assert_eq!(moved, ClosedBytes::default());
        assert!(tracker.recent.is_empty());
    }

    #[test]
    fn recent_connections_are_kept_a_minute_and_a_hundred_at_most() {
        let mut tracker = ClosedTracker::default();
        let many: Vec<SocketEntry> = (0..150)
            .map(|i| {
                closed(
                    "127.0.0.1:8080",
                    &format!("127.0.0.1:{}", 40_000 + i),
                    100 + i,
                    1,
                    1,
                )
            })
            .collect();
        tracker.record(&many, &node_listener(), &TrafficHistory::default(), 1_000);
        let recent = tracker.recent_of(1200);
        assert_eq!(recent.len(), KEEP_PER_PROCESS);
        assert_eq!(recent[0].remote_port, 40_050, "the newest are kept");
        tracker.record(
            &[],
            &node_listener(),
            &TrafficHistory::default(),
            1_000 + KEEP_MS + 1,
        );
        assert!(tracker.recent_of(1200).is_empty());
    }

    #[test]
    fn a_listener_takes_only_the_connections_of_its_own_namespace() {
        let mut tracker = ClosedTracker::default();
        // Two containers serving on the same port; nothing listens on it in a third.
        let containers = vec![
            ListenerOwners {
                netns: Some(2),
                local: "0.0.0.0:8080".parse().unwrap(),
                owners: vec![2200],
            },
            ListenerOwners {
                netns: Some(HOST),
                local: "0.0.0.0:8080".parse().unwrap(),
                owners: vec![1200],
            },
        ];
        let in_two = closed_in(2, "127.0.0.1:8080", "127.0.0.1:50312", 7, 5_001, 81);
        let in_three = closed_in(3, "127.0.0.1:8080", "127.0.0.1:50313", 8, 901, 41);
        let moved = tracker.record(
            &[in_two, in_three],
            &containers,
            &TrafficHistory::default(),
            1_000,
        );
        assert_eq!(moved.0.get(&2200), Some(&(5_000, 80)));
        assert_eq!(
            moved.0.len(),
            1,
            "namespace 3's connection is nobody's: {moved:?}"
        );
        assert!(tracker.recent_of(1200).is_empty());
    }

    #[test]
    fn a_cookie_seen_in_another_namespace_is_another_socket() {
        let mut tracker = ClosedTracker::default();
        // Per-namespace cookies (older kernels): cookie 9 in the host and in container 2.
        let mut seen = closed("127.0.0.1:50312", "127.0.0.1:8080", 9, 101, 4_000);
        seen.inode = 77;
        let history = history_of(&[seen]);
        tracker.remember_owners(Ownership::from_pairs(vec![(77, 1300)]));
        let other = closed_in(2, "10.0.0.2:41000", "10.0.0.9:443", 9, 301, 9_001);
        let moved = tracker.record(&[other], &node_listener(), &history, 1_000);
        assert_eq!(moved, ClosedBytes::default());
        assert!(tracker.recent_of(1300).is_empty());
        // The host's own socket with that cookie still goes to its owner.
        let own = closed("127.0.0.1:50312", "127.0.0.1:8080", 9, 102, 4_001);
        let moved = tracker.record(&[own], &node_listener(), &history, 1_000);
        assert!(moved.0.contains_key(&1300));
    }
}
