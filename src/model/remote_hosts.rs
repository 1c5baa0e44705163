//! Who this host talks to: every local process's connections grouped by the remote endpoint,
//! with their summed traffic. Pure: processes in, one [`RemoteHost`] per endpoint out.
//!
//! The grouping follows who offers the service. When the local end is a client, the row is the
//! service it talks to (`10.0.0.5:5432`), so two databases on one host stay apart. When the
//! local end is a server, the remote port is a client's ephemeral port and says nothing: the row
//! is the client's address alone, so forty connections from one web front end are one row, not
//! forty. A connection whose role is unknown (a connected UDP socket) is taken as a client, as
//! the sampler does.
//!
//! Figures are only ever sums of what was measured: a row none of whose connections has a known
//! rate has no rate (`None`), never a made-up 0.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use super::{Connection, Process, Role, SocketState};

/// What a row stands for: a remote address, and its port when that port is a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemoteEndpoint {
    pub addr: IpAddr,
    /// The remote port when the local end is the client; None when it is the server (the port
    /// is then the client's ephemeral one).
    pub port: Option<u16>,
}

impl RemoteEndpoint {
    /// The row a connection belongs to.
    pub fn of(connection: &Connection) -> RemoteEndpoint {
        let serves = connection.role == Some(Role::Server);
        RemoteEndpoint {
            addr: connection.remote_addr,
            port: (!serves).then_some(connection.remote_port),
        }
    }
}

impl fmt::Display for RemoteEndpoint {
    /// `10.0.0.5:5432`, `[2001:db8::1]:443`, or the bare address when there is no port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => f.write_str(&crate::format::endpoint(self.addr, port)),
            None => write!(f, "{}", self.addr),
        }
    }
}

/// One remote endpoint and every local connection to it.
#[derive(Debug, Clone)]
pub struct RemoteHost<'a> {
    pub endpoint: RemoteEndpoint,
    /// The connections, each with the process that holds it, in pid order.
    pub connections: Vec<(&'a Process, &'a Connection)>,
}

impl<'a> RemoteHost<'a> {
    /// Names of the local processes at the other end (loopback and same-host peers), distinct
    /// and sorted; empty when the other end is not a process here.
    pub fn peer_names(&self) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = self
            .connections
            .iter()
            .filter(|(_, c)| c.peer_pid.is_some())
            .filter_map(|(_, c)| c.peer_name.as_deref())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Names of the local processes holding the connections, distinct and sorted.
    pub fn process_names(&self) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = self
            .connections
            .iter()
            .map(|(p, _)| p.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Bytes per second received from the endpoint, summed over the connections whose rate is
    /// known; None when none is.
    pub fn recv_bytes_per_sec(&self) -> Option<f64> {
        self.sum_known(|c| c.traffic.recv_bytes_per_sec)
    }

    /// Bytes per second sent to the endpoint, as [`Self::recv_bytes_per_sec`].
    pub fn send_bytes_per_sec(&self) -> Option<f64> {
        self.sum_known(|c| c.traffic.send_bytes_per_sec)
    }

    /// Both ways: the known direction(s) summed; None when neither is known.
    pub fn total_bytes_per_sec(&self) -> Option<f64> {
        match (self.recv_bytes_per_sec(), self.send_bytes_per_sec()) {
            (None, None) => None,
            (rx, tx) => Some(rx.unwrap_or(0.0) + tx.unwrap_or(0.0)),
        }
    }

    /// The slowest connection's smoothed round-trip time: one bad path is what the row should
    /// warn about, and an average would hide it.
    pub fn worst_rtt_ms(&self) -> Option<f64> {
        self.connections
            .iter()
            .filter_map(|(_, c)| c.traffic.rtt_ms)
            .reduce(f64::max)
    }

    /// Segments retransmitted over the connections' lives, summed over those that report it.
    pub fn retransmits(&self) -> Option<u64> {
        self.connections
            .iter()
            .filter_map(|(_, c)| c.traffic.retransmits.map(u64::from))
            .reduce(|a, b| a + b)
    }

    fn sum_known(&self, figure: impl Fn(&Connection) -> Option<f64>) -> Option<f64> {
        self.connections
            .iter()
            .filter_map(|(_, c)| figure(c))
            .reduce(|a, b| a + b)
    }
}

/// Groups every connection of `processes` by remote endpoint, in endpoint order. Listening
/// sockets and connections with no remote address yet (an unconnected socket) are left out:
/// they talk to nobody.
pub fn remote_hosts(processes: &[Process]) -> Vec<RemoteHost<'_>> {
    let mut hosts: BTreeMap<RemoteEndpoint, Vec<(&Process, &Connection)>> = BTreeMap::new();
    for process in processes {
        for connection in &process.connections {
            if connection.state == SocketState::Listen || connection.remote_addr.is_unspecified() {
                continue;
            }
            hosts
                .entry(RemoteEndpoint::of(connection))
                .or_default()
                .push((process, connection));
        }
    }
    hosts
        .into_iter()
        .map(|(endpoint, connections)| RemoteHost {
            endpoint,
            connections,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Traffic, TrafficGap};

    fn outbound(to: &str, local_port: u16, inode: u64, traffic: Traffic) -> Connection {
        let remote: std::net::SocketAddr = to.parse().expect("test address");
        Connection {
            remote_addr: remote.ip(),
            remote_port: remote.port(),
            local_addr: [10, 0, 0, 2].into(),
            direction: Direction::Outbound,
            peer_pid: None,
            peer_name: None,
            traffic,
            ..Connection::example_loopback(local_port, 0, Role::Client, (0, ""), inode)
        }
    }

    fn inbound(from: &str, local_port: u16, inode: u64) -> Connection {
        Connection {
            role: Some(Role::Server),
            direction: Direction::Inbound,
            ..outbound(
                from,
                local_port,
                inode,
                Traffic::example(100.0, 10.0, 2.0, 1),
            )
        }
    }

    fn rows(processes: &[Process]) -> Vec<String> {
        remote_hosts(processes)
            .iter()
            .map(|h| format!("{} {}", h.endpoint, h.connections.len()))
            .collect()
    }

    #[test]
    fn clients_group_by_service_and_servers_by_client_address() {
        let mut api = Process::example(10, "app");
        api.name = "api".to_owned();
        let db = Traffic::example(1000.0, 4000.0, 1.5, 0);
        api.connections
            .push(outbound("10.0.0.5:5432", 40001, 1, db));
        api.connections
            .push(outbound("10.0.0.5:5432", 40002, 2, db));
        api.connections
            .push(outbound("10.0.0.5:6379", 40003, 3, db));
        // Three connections from one client host on ephemeral ports: one row.
        api.connections.push(inbound("10.0.0.9:51000", 8080, 4));
        api.connections.push(inbound("10.0.0.9:51001", 8080, 5));
        let mut worker = Process::example(11, "app");
        worker.name = "worker".to_owned();
        worker.connections.push(inbound("10.0.0.9:51002", 9000, 6));
        worker
            .connections
            .push(outbound("10.0.0.5:5432", 40004, 7, db));

        let processes = [api, worker];
        assert_eq!(
            rows(&processes),
            ["10.0.0.5:5432 3", "10.0.0.5:6379 1", "10.0.0.9 3"]
        );
        let hosts = remote_hosts(&processes);
        assert_eq!(hosts[0].process_names(), ["api", "worker"]);
        assert_eq!(hosts[0].send_bytes_per_sec(), Some(3000.0));
        assert_eq!(hosts[0].recv_bytes_per_sec(), Some(12000.0));
        assert_eq!(hosts[2].retransmits(), Some(3));
        assert_eq!(hosts[2].process_names(), ["api", "worker"]);
        assert!(
            hosts[0].peer_names().is_empty(),
            "no local peer on 10.0.0.5"
        );
    }

    #[test]
    fn listening_and_unconnected_sockets_talk_to_nobody() {
        let mut p = Process::example(10, "app");
        p.connections.push(Connection {
            state: SocketState::Listen,
            ..outbound("10.0.0.5:80", 1, 1, Traffic::default())
        });
        p.connections
            .push(outbound("0.0.0.0:0", 2, 2, Traffic::default()));
        p.connections
            .push(outbound("[::]:0", 3, 3, Traffic::default()));
        assert!(rows(&[p]).is_empty());
    }

    #[test]
    fn a_local_peer_is_named_and_loopback_clients_share_the_server_side_row() {
        // node serves two curls over loopback: each curl's row is node's port; node's is the
        // clients' address alone, one row for both.
        let mut node = Process::example(1200, "app");
        node.name = "node".to_owned();
        let mut curls = Vec::new();
        for (pid, port) in [(1300, 50312), (1301, 50313)] {
            node.connections.push(Connection::example_loopback(
                8080,
                port,
                Role::Server,
                (pid, "curl"),
                u64::from(pid),
            ));
            let mut curl = Process::example(pid, "app");
            curl.name = "curl".to_owned();
            curl.connections.push(Connection::example_loopback(
                port,
                8080,
                Role::Client,
                (1200, "node"),
                u64::from(pid) + 10,
            ));
            curls.push(curl);
        }
        let processes: Vec<Process> = std::iter::once(node).chain(curls).collect();
        let shown: Vec<String> = remote_hosts(&processes)
            .iter()
            .map(|h| {
                format!(
                    "{} {} {:?} {:?}",
                    h.endpoint,
                    h.connections.len(),
                    h.peer_names(),
                    h.process_names()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                r#"127.0.0.1 2 ["curl"] ["node"]"#,
                r#"127.0.0.1:8080 2 ["node"] ["curl"]"#
            ]
        );
    }

    #[test]
    fn unknown_figures_stay_unknown_and_known_ones_are_summed_alone() {
        let mut p = Process::example(10, "app");
        let first_seen = Traffic {
            bytes_sent: Some(10),
            ..Traffic::unavailable(TrafficGap::FirstSeen)
        };
        p.connections
            .push(outbound("192.0.2.1:443", 1, 1, first_seen));
        p.connections.push(outbound(
            "192.0.2.1:53",
            2,
            2,
            Traffic::unavailable(TrafficGap::Udp),
        ));
        p.connections.push(outbound(
            "192.0.2.1:53",
            3,
            3,
            Traffic::example(50.0, 70.0, 9.0, 2),
        ));
        let processes = [p];
        let hosts = remote_hosts(&processes);
        let https = &hosts[1];
        assert_eq!(https.endpoint.to_string(), "192.0.2.1:443");
        assert_eq!(https.recv_bytes_per_sec(), None);
        assert_eq!(https.send_bytes_per_sec(), None);
        assert_eq!(https.total_bytes_per_sec(), None);
        assert_eq!(https.worst_rtt_ms(), None);
        assert_eq!(https.retransmits(), None);
        let dns = &hosts[0];
        assert_eq!(dns.endpoint.to_string(), "192.0.2.1:53");
        assert_eq!(
            dns.send_bytes_per_sec(),
            Some(50.0),
            "the unknown one adds 0"
        );
        assert_eq!(dns.total_bytes_per_sec(), Some(120.0));
        assert_eq!(dns.worst_rtt_ms(), Some(9.0));
        assert_eq!(dns.retransmits(), Some(2));
    }

    #[test]
    fn the_worst_rtt_is_the_slowest_connection() {
        let mut p = Process::example(10, "app");
        for (i, rtt) in [3.0, 250.0, 12.0].into_iter().enumerate() {
            let n = i as u64 + 1;
            p.connections.push(outbound(
                "198.51.100.7:443",
                1000 + n as u16,
                n,
                Traffic::example(1.0, 1.0, rtt, 0),
            ));
        }
        assert_eq!(remote_hosts(&[p])[0].worst_rtt_ms(), Some(250.0));
    }

    #[test]
    fn ipv6_endpoints_are_bracketed_only_with_a_port() {
        let addr: IpAddr = "2001:db8::1".parse().expect("address");
        let service = RemoteEndpoint {
            addr,
            port: Some(443),
        };
        assert_eq!(service.to_string(), "[2001:db8::1]:443");
        let client = RemoteEndpoint { addr, port: None };
        assert_eq!(client.to_string(), "2001:db8::1");
    }
}
