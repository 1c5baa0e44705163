//! Conversations: what the per-connection series are about, chosen so that their number stays
//! bounded by who talks to whom rather than growing with every ephemeral port.
//!
//! A process's connections are grouped the way the remote-hosts view groups them: where the
//! process is the client, by the service it talks to (remote address and port: a pool of forty
//! connections to one database is one conversation); where it serves (the connection came
//! through one of its listeners), by its own port and the client's address (the client's port
//! is ephemeral and would make every reconnect a new series). A connection whose role is
//! unknown is taken as a client, as there. Connections that closed since the last samples
//! (the snapshot's recently-closed lists) join the conversation they belonged to, so traffic
//! of short-lived connections is not lost.
//!
//! The number of conversations shipped is capped; the busiest are kept (see [`busiest`]).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::model::{ClosedConnection, Connection, Process, Role, SocketState};

/// Which end this process holds, and the part of the other end that names the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Side {
    /// This end connected out: the service it talks to.
    Client {
        remote_addr: IpAddr,
        remote_port: u16,
    },
    /// This end was accepted by a listener: its own port and the client's address.
    Server {
        local_port: u16,
        remote_addr: IpAddr,
    },
}

impl Side {
    fn of(role: Option<Role>, local_port: u16, remote_addr: IpAddr, remote_port: u16) -> Side {
        match role {
            Some(Role::Server) => Side::Server {
                local_port,
                remote_addr,
            },
            Some(Role::Client) | None => Side::Client {
                remote_addr,
                remote_port,
            },
        }
    }
}

/// One conversation of one process. The start time keeps a reused pid's conversations apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ConversationKey {
    pub pid: u32,
    pub start_time_ms: u64,
    pub side: Side,
}

/// A conversation in one snapshot: its open connections and those that closed lately.
#[derive(Debug)]
pub(super) struct Conversation<'a> {
    pub key: ConversationKey,
    pub process: &'a Process,
    pub open: Vec<&'a Connection>,
    pub closed: Vec<&'a ClosedConnection>,
}

impl Conversation<'_> {
    /// Bytes per second sent, summed over the open connections whose rate is known (a
    /// connection seen for the first time has none yet); None when none is known.
    pub(super) fn send_bytes_per_sec(&self) -> Option<f64> {
        self.sum_known(|c| c.traffic.send_bytes_per_sec)
    }

    /// Bytes per second received, as [`Self::send_bytes_per_sec`].
    pub(super) fn recv_bytes_per_sec(&self) -> Option<f64> {
        self.sum_known(|c| c.traffic.recv_bytes_per_sec)
    }

    /// The slowest open connection's smoothed round-trip time, in milliseconds: one bad path
    /// is what should show, and an average would hide it.
    pub(super) fn worst_rtt_ms(&self) -> Option<f64> {
        self.worst(|c| c.traffic.rtt_ms)
    }

    /// The largest round-trip time variation of the open connections, in milliseconds.
    pub(super) fn worst_rttvar_ms(&self) -> Option<f64> {
        self.worst(|c| c.traffic.rttvar_ms)
    }

    fn sum_known(&self, figure: impl Fn(&Connection) -> Option<f64>) -> Option<f64> {
        self.measured(figure).reduce(|a, b| a + b)
    }

    fn worst(&self, figure: impl Fn(&Connection) -> Option<f64>) -> Option<f64> {
        self.measured(figure).reduce(f64::max)
    }

    fn measured<'b>(
        &'b self,
        figure: impl Fn(&Connection) -> Option<f64> + 'b,
    ) -> impl Iterator<Item = f64> + 'b {
        self.open
            .iter()
            .filter_map(move |c| figure(c))
            .filter(|v| v.is_finite())
    }
}

/// Every conversation of `processes`, in pid order, then by side (clients first). Listening
/// sockets and connections with no remote address (unconnected) talk to nobody and are left
/// out.
pub(super) fn conversations(processes: &[Process]) -> Vec<Conversation<'_>> {
    let mut found = Vec::new();
    for process in processes {
        let mut by_side: BTreeMap<Side, Conversation<'_>> = BTreeMap::new();
        for c in &process.connections {
            if c.state == SocketState::Listen || c.remote_addr.is_unspecified() {
                continue;
            }
            let side = Side::of(c.role, c.local_port, c.remote_addr, c.remote_port);
            entry(&mut by_side, process, side).open.push(c);
        }
        for c in &process.recently_closed {
            let side = Side::of(Some(c.role), c.local_port, c.remote_addr, c.remote_port);
            entry(&mut by_side, process, side).closed.push(c);
        }
        found.extend(by_side.into_values());
    }
    found
}

/// The conversation of `process` on `side`, made empty when it is the first of it.
fn entry<'a, 'm>(
    by_side: &'m mut BTreeMap<Side, Conversation<'a>>,
    process: &'a Process,
    side: Side,
) -> &'m mut Conversation<'a> {
    by_side.entry(side).or_insert_with(|| Conversation {
        key: ConversationKey {
            pid: process.pid,
            start_time_ms: process.start_time_ms,
            side,
        },
        process,
        open: Vec::new(),
        closed: Vec::new(),
    })
}

/// How busy a conversation is, for the cap: bytes per second both ways (the known rates), then
/// bytes over its totals, so that among idle or first-seen conversations the ones that moved
/// the most are kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Activity {
    pub bytes_per_sec: f64,
    pub bytes: u64,
}

impl Activity {
    fn busier(&self, other: &Activity) -> Ordering {
        other
            .bytes_per_sec
            .total_cmp(&self.bytes_per_sec)
            .then(other.bytes.cmp(&self.bytes))
    }
}

/// Which of `activity` (one entry per conversation, in conversation order) to keep: the
/// `limit` busiest, ties going to the earlier conversation so that the choice is the same
/// every time. Returns a flag per conversation.
pub(super) fn busiest(activity: &[Activity], limit: usize) -> Vec<bool> {
    let mut keep = vec![false; activity.len()];
    if limit >= activity.len() {
        keep.fill(true);
        return keep;
    }
    let mut order: Vec<usize> = (0..activity.len()).collect();
    order.sort_by(|&a, &b| activity[a].busier(&activity[b]).then(a.cmp(&b)));
    for &i in order.iter().take(limit) {
        keep[i] = true;
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Proto, Traffic, TrafficGap};

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn connection(
        role: Option<Role>,
        local_port: u16,
        remote: &str,
        remote_port: u16,
    ) -> Connection {
        let mut c =
            Connection::example_loopback(local_port, remote_port, Role::Client, (1, "x"), 1);
        c.role = role;
        c.remote_addr = ip(remote);
        c
    }

    #[test]
    fn clients_group_by_service_and_servers_by_their_port_and_the_clients_address() {
        let mut p = Process::example(5, "app");
        p.connections = vec![
            // A pool of two to one database, one connection to another.
            connection(Some(Role::Client), 40_001, "10.0.0.5", 5432),
            connection(Some(Role::Client), 40_002, "10.0.0.5", 5432),
            connection(Some(Role::Client), 40_003, "10.0.0.6", 5432),
            // Two clients of one front end on :8080, and one on :9090.
            connection(Some(Role::Server), 8080, "10.0.1.1", 51_000),
            connection(Some(Role::Server), 8080, "10.0.1.1", 51_001),
            connection(Some(Role::Server), 9090, "10.0.1.1", 51_002),
            // Unknown role (a connected UDP socket): a client.
            connection(None, 40_004, "10.0.0.53", 53),
            // Talks to nobody.
            connection(Some(Role::Client), 40_005, "0.0.0.0", 0),
        ];
        let processes = [p];
        let found = conversations(&processes);
        let sides: Vec<(Side, usize)> = found.iter().map(|c| (c.key.side, c.open.len())).collect();
        let client = |addr, port| Side::Client {
            remote_addr: ip(addr),
            remote_port: port,
        };
        let server = |port, addr| Side::Server {
            local_port: port,
            remote_addr: ip(addr),
        };
        assert_eq!(
            sides,
            vec![
                (client("10.0.0.5", 5432), 2),
                (client("10.0.0.6", 5432), 1),
                (client("10.0.0.53", 53), 1),
                (server(8080, "10.0.1.1"), 2),
                (server(9090, "10.0.1.1"), 1),
            ]
        );
        assert!(found.iter().all(|c| c.key.pid == 5 && c.closed.is_empty()));
    }

    #[test]
    fn closed_connections_join_their_conversation_or_make_one() {
        let mut p = Process::example(5, "app");
        p.connections = vec![connection(Some(Role::Server), 8080, "10.0.1.1", 51_000)];
        let closed = |port, remote: &str| ClosedConnection {
            local_addr: ip("10.0.0.1"),
            local_port: port,
            remote_addr: ip(remote),
            remote_port: 51_009,
            role: Role::Server,
            bytes_sent: Some(1),
            bytes_received: Some(1),
            rtt_ms: None,
            retransmits: None,
            closed_at_ms: 1,
            attributed_by: "listener".to_owned(),
        };
        p.recently_closed = vec![closed(8080, "10.0.1.1"), closed(8080, "10.0.1.2")];
        let processes = [p];
        let found = conversations(&processes);
        let shape: Vec<(usize, usize)> = found
            .iter()
            .map(|c| (c.open.len(), c.closed.len()))
            .collect();
        assert_eq!(shape, vec![(1, 1), (0, 1)]);
    }

    #[test]
    fn rates_sum_what_is_known_and_rtt_is_the_worst() {
        let mut p = Process::example(5, "app");
        let mut a = connection(Some(Role::Client), 40_001, "10.0.0.5", 5432);
        a.traffic = Traffic::example(100.0, 10.0, 2.0, 0);
        let mut b = connection(Some(Role::Client), 40_002, "10.0.0.5", 5432);
        b.traffic = Traffic::example(50.0, 5.0, 8.0, 1);
        let mut fresh = connection(Some(Role::Client), 40_003, "10.0.0.5", 5432);
        fresh.traffic = Traffic {
            bytes_sent: Some(10),
            rtt_ms: Some(1.0),
            ..Traffic::unavailable(TrafficGap::FirstSeen)
        };
        p.connections = vec![a, b, fresh];
        let processes = [p];
        let found = conversations(&processes);
        let c = &found[0];
        assert_eq!(c.send_bytes_per_sec(), Some(150.0));
        assert_eq!(c.recv_bytes_per_sec(), Some(15.0));
        assert_eq!(c.worst_rtt_ms(), Some(8.0));
        assert_eq!(c.worst_rttvar_ms(), Some(2.0));

        let mut udp = Process::example(6, "dns");
        let mut u = connection(None, 40_004, "10.0.0.53", 53);
        u.proto = Proto::Udp;
        u.traffic = Traffic::unavailable(TrafficGap::Udp);
        udp.connections = vec![u];
        let processes = [udp];
        let found = conversations(&processes);
        let c = &found[0];
        assert_eq!(
            (c.send_bytes_per_sec(), c.recv_bytes_per_sec()),
            (None, None)
        );
        assert_eq!((c.worst_rtt_ms(), c.worst_rttvar_ms()), (None, None));
    }

    #[test]
    fn the_cap_keeps_the_busiest_by_rate_then_bytes_and_is_stable() {
        let a = |bytes_per_sec, bytes| Activity {
            bytes_per_sec,
            bytes,
        };
        let activity = [
            a(10.0, 0),
            a(0.0, 5_000),
            a(500.0, 1),
            a(0.0, 9_000),
            a(10.0, 0),
        ];
        let kept = |limit| -> Vec<usize> {
            busiest(&activity, limit)
                .iter()
                .enumerate()
                .filter_map(|(i, k)| k.then_some(i))
                .collect()
        };
        assert_eq!(kept(1), vec![2]);
        // Equal activity: the earlier conversation wins.
        assert_eq!(kept(2), vec![0, 2]);
        assert_eq!(kept(4), vec![0, 2, 3, 4]);
        assert_eq!(kept(5), vec![0, 1, 2, 3, 4]);
        assert_eq!(kept(50), vec![0, 1, 2, 3, 4]);
        assert!(kept(0).is_empty());
    }
}
