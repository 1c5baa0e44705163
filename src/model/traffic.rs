//! How much and how well a connection talks: the kernel's own TCP counters (`tcp_info`, what
//! `ss -ti` prints) and the rates worked out from two readings of them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::socket::{Connection, Proto};

/// What one sock_diag dump said of one TCP socket. Fields an older kernel does not send are
/// None (bytes acked since 4.1, bytes received since 4.2), never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpCounters {
    /// The socket's cookie: unique while the host is up, unlike an inode or a 4-tuple, which
    /// a new socket may reuse. Rates are differences between readings of the same cookie.
    pub cookie: u64,
    /// Bytes sent and acknowledged by the other end.
    pub bytes_acked: Option<u64>,
    /// Bytes received.
    pub bytes_received: Option<u64>,
    /// Smoothed round-trip time, microseconds.
    pub rtt_us: Option<u32>,
    /// Its variation, microseconds.
    pub rttvar_us: Option<u32>,
    /// Segments retransmitted over the socket's life.
    pub total_retrans: Option<u32>,
    /// Milliseconds since data was last sent.
    pub last_data_sent_ms: Option<u32>,
    /// Milliseconds since data was last received.
    pub last_data_recv_ms: Option<u32>,
    /// Bytes not yet acknowledged (established) or the accept backlog (listening).
    pub send_queue: u32,
    /// Bytes received but not yet read by the process (established) or the accept queue
    /// (listening).
    pub recv_queue: u32,
}

/// Why a connection's traffic figures are null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrafficGap {
    /// UDP: the kernel keeps no per-socket byte counters for UDP.
    Udp,
    /// The socket's network namespace could not be entered (that needs CAP_SYS_ADMIN), so its
    /// sockets were read from /proc/<pid>/net/tcp, which holds no counters.
    NamespaceNotEntered,
    /// The kernel sent no tcp_info for this socket (TIME_WAIT and half-open sockets have none).
    NotReported,
    /// Seen for the first time this pass: totals are known, rates need a second reading.
    FirstSeen,
    /// Traffic figures are switched off (`process_agent.collect_traffic: false`).
    NotCollected,
}

/// The traffic figures of one connection, all null where they cannot be measured; the reason
/// is in `traffic_unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Traffic {
    /// Bytes this end sent that the other end acknowledged, over the socket's life.
    pub bytes_sent: Option<u64>,
    /// Bytes this end received, over the socket's life.
    pub bytes_received: Option<u64>,
    /// Bytes per second sent (acknowledged) over the last interval.
    pub send_bytes_per_sec: Option<f64>,
    /// Bytes per second received over the last interval.
    pub recv_bytes_per_sec: Option<f64>,
    /// Smoothed round-trip time in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Round-trip time variation in milliseconds.
    pub rttvar_ms: Option<f64>,
    /// Segments retransmitted over the socket's life.
    pub retransmits: Option<u32>,
    /// Segments retransmitted over the last interval.
    pub retransmits_last_interval: Option<u32>,
    /// Bytes sent but not yet acknowledged.
    pub send_queue_bytes: Option<u32>,
    /// Bytes received but not yet read by the process.
    pub recv_queue_bytes: Option<u32>,
    /// Milliseconds since data last went either way.
    pub idle_ms: Option<u32>,
    /// Why figures above are null; null when they are all there.
    pub traffic_unavailable: Option<TrafficGap>,
}

impl Traffic {
    /// No figures, for the reason given.
    pub fn unavailable(gap: TrafficGap) -> Traffic {
        Traffic {
            traffic_unavailable: Some(gap),
            ..Traffic::default()
        }
    }

    /// Bytes per second both ways, when both rates are known.
    pub fn total_bytes_per_sec(&self) -> Option<f64> {
        Some(self.send_bytes_per_sec? + self.recv_bytes_per_sec?)
    }
}

/// A TCP connection that closed since the last sample but one, with its final counters, from
/// the kernel's socket-destroy notifications: kept on its owner for a while, so a connection
/// that lived between two samples (a one-off `curl`) is still seen, with its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClosedConnection {
    /// Local address.
    pub local_addr: std::net::IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Remote address.
    pub remote_addr: std::net::IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Client or server end; server when it was accepted by one of the owner's listeners.
    pub role: super::socket::Role,
    /// Bytes sent and acknowledged over its life.
    pub bytes_sent: Option<u64>,
    /// Bytes received over its life.
    pub bytes_received: Option<u64>,
    /// Smoothed round-trip time at the end, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Segments retransmitted over its life.
    pub retransmits: Option<u32>,
    /// When wiretop heard it close, unix time in milliseconds.
    pub closed_at_ms: u64,
    /// How it was tied to this process: `seen` (an earlier sample saw this process hold it)
    /// or `listener` (accepted by this process's listener after the last sample).
    pub attributed_by: String,
}

/// Sums `figures` (send, receive) over a process's TCP connections: 0 with no TCP connection
/// (it sends nothing), None when every one of them lacks counters (namespaces read from /proc,
/// or traffic switched off), a missing figure adding nothing otherwise.
fn sum_over_tcp<T: Default + std::ops::Add<Output = T>>(
    connections: &[Connection],
    figures: impl Fn(&Traffic) -> (Option<T>, Option<T>),
) -> (Option<T>, Option<T>) {
    let mut counted = None;
    let (mut send, mut recv) = (T::default(), T::default());
    for c in connections.iter().filter(|c| c.proto == Proto::Tcp) {
        let measured = !matches!(
            c.traffic.traffic_unavailable,
            Some(TrafficGap::NamespaceNotEntered | TrafficGap::NotCollected)
        );
        counted = Some(counted.unwrap_or(false) || measured);
        let (s, r) = figures(&c.traffic);
        send = send + s.unwrap_or_default();
        recv = recv + r.unwrap_or_default();
    }
    match counted {
        Some(false) => (None, None),
        _ => (Some(send), Some(recv)),
    }
}

/// A process's send and receive rates: the sum over its TCP connections that have a rate (a
/// connection first seen this pass has none yet and adds nothing); see [`sum_over_tcp`].
pub fn net_rates(connections: &[Connection]) -> (Option<f64>, Option<f64>) {
    sum_over_tcp(connections, |t| {
        (t.send_bytes_per_sec, t.recv_bytes_per_sec)
    })
}

/// A process's byte totals (sent, received) over its open TCP connections, on the same terms
/// as [`net_rates`].
pub fn net_totals(connections: &[Connection]) -> (Option<u64>, Option<u64>) {
    sum_over_tcp(connections, |t| (t.bytes_sent, t.bytes_received))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketState;

    fn connection(proto: Proto, traffic: Traffic) -> Connection {
        Connection {
            proto,
            state: SocketState::Established,
            traffic,
            ..Connection::example_loopback(40_000, 8080, crate::model::Role::Client, (1, "node"), 7)
        }
    }

    fn rated(send: f64, recv: f64) -> Traffic {
        Traffic {
            send_bytes_per_sec: Some(send),
            recv_bytes_per_sec: Some(recv),
            ..Traffic::default()
        }
    }

    #[test]
    fn a_process_rate_sums_its_tcp_connections_and_leaves_udp_out() {
        let connections = [
            connection(Proto::Tcp, rated(100.0, 10.0)),
            connection(Proto::Tcp, rated(50.0, 5.0)),
            connection(Proto::Tcp, Traffic::unavailable(TrafficGap::FirstSeen)),
            connection(Proto::Udp, Traffic::unavailable(TrafficGap::Udp)),
        ];
        assert_eq!(net_rates(&connections), (Some(150.0), Some(15.0)));
        // Totals count the first-seen connection too: its totals are known.
        let mut first_seen = Traffic::unavailable(TrafficGap::FirstSeen);
        first_seen.bytes_sent = Some(7);
        first_seen.bytes_received = Some(3);
        let with_totals = [
            connection(
                Proto::Tcp,
                Traffic {
                    bytes_sent: Some(100),
                    bytes_received: Some(10),
                    ..rated(0.0, 0.0)
                },
            ),
            connection(Proto::Tcp, first_seen),
            connection(Proto::Udp, Traffic::unavailable(TrafficGap::Udp)),
        ];
        assert_eq!(net_totals(&with_totals), (Some(107), Some(13)));
        assert_eq!(net_totals(&[]), (Some(0), Some(0)));
    }

    #[test]
    fn no_tcp_is_zero_and_no_counters_is_unknown() {
        assert_eq!(net_rates(&[]), (Some(0.0), Some(0.0)));
        let udp_only = [connection(
            Proto::Udp,
            Traffic::unavailable(TrafficGap::Udp),
        )];
        assert_eq!(net_rates(&udp_only), (Some(0.0), Some(0.0)));
        let unentered = [connection(
            Proto::Tcp,
            Traffic::unavailable(TrafficGap::NamespaceNotEntered),
        )];
        assert_eq!(net_rates(&unentered), (None, None));
    }
}
