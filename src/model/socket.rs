use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::traffic::{TcpCounters, Traffic};

/// Transport protocol.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// Address family of the address as shown. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, a v4
/// client of a dual-stack socket) is shown as IPv4 and counts as `ipv4`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

/// Socket state as the kernel reports it (the names `ss` uses). UDP sockets are `UNCONN` when
/// bound but not connected and `ESTABLISHED` when connected.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SocketState {
    /// Connected.
    Established,
    /// Connect sent, no answer yet.
    SynSent,
    /// Connect received, handshake not finished.
    SynRecv,
    /// Closed locally, waiting for the peer's acknowledgement.
    FinWait1,
    /// Closed locally and acknowledged, waiting for the peer to close.
    FinWait2,
    /// Closed; lingering so late packets are not taken for a new connection.
    TimeWait,
    /// Closed.
    Close,
    /// Peer closed, waiting for the local side to close.
    CloseWait,
    /// Both closed, waiting for the last acknowledgement.
    LastAck,
    /// Accepting connections.
    Listen,
    /// Both sides closing at once.
    Closing,
    /// Bound UDP socket with no fixed peer.
    Unconn,
    /// A state number this version does not know.
    Unknown,
}

impl SocketState {
    /// The name `ss` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Established => "ESTABLISHED",
            Self::SynSent => "SYN_SENT",
            Self::SynRecv => "SYN_RECV",
            Self::FinWait1 => "FIN_WAIT1",
            Self::FinWait2 => "FIN_WAIT2",
            Self::TimeWait => "TIME_WAIT",
            Self::Close => "CLOSE",
            Self::CloseWait => "CLOSE_WAIT",
            Self::LastAck => "LAST_ACK",
            Self::Listen => "LISTEN",
            Self::Closing => "CLOSING",
            Self::Unconn => "UNCONN",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// Which way a connection was opened, seen from the process that holds it. `local` when both
/// ends are on this host (loopback, or a peer owned by a process here): such a connection shows
/// under both processes, and `role` tells client from server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Accepted from a remote client by a local listener.
    Inbound,
    /// Opened by this process to a remote server.
    Outbound,
    /// Both ends on this host.
    Local,
}

/// Which end of the connection this socket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// This end initiated (connect).
    Client,
    /// This end was accepted by a listener on the same port.
    Server,
}

/// A raw socket-table row as the sampler read it, before ownership and peers are worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketEntry {
    /// Network namespace whose table listed the socket; None when it could not be identified.
    pub netns: Option<u64>,
    /// Transport protocol.
    pub proto: Proto,
    /// Local endpoint, exactly as the kernel reported it (mapped addresses not yet unmapped).
    pub local: SocketAddr,
    /// Remote endpoint; the unspecified address with port 0 when not connected.
    pub remote: SocketAddr,
    /// State.
    pub state: SocketState,
    /// Socket inode; 0 for sockets no file descriptor refers to (TIME_WAIT, embryonic).
    pub inode: u64,
    /// Uid that created the socket.
    pub uid: u32,
    /// The kernel's TCP counters, when the socket came from a sock_diag dump (None for UDP and
    /// for tables read from /proc).
    pub counters: Option<TcpCounters>,
}

impl SocketEntry {
    /// Whether this socket accepts connections or datagrams rather than being one end of a
    /// connection.
    pub fn is_listening(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == SocketState::Listen,
            Proto::Udp => self.state != SocketState::Established,
        }
    }
}

/// A socket that accepts connections (TCP LISTEN) or datagrams (bound UDP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Listening {
    /// Transport protocol.
    pub proto: Proto,
    /// Address family.
    pub family: Family,
    /// Bound address; `0.0.0.0` or `::` for every address.
    pub addr: IpAddr,
    /// Bound port.
    pub port: u16,
    /// Socket inode.
    pub inode: u64,
    /// Network namespace inode of the socket; null when unknown.
    pub netns: Option<u64>,
}

/// One end of a connection, as held by one process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Connection {
    /// Transport protocol.
    pub proto: Proto,
    /// Address family.
    pub family: Family,
    /// Local address.
    pub local_addr: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Remote address.
    pub remote_addr: IpAddr,
    /// Remote port.
    pub remote_port: u16,
    /// Connection state.
    pub state: SocketState,
    /// Inbound, outbound, or local (both ends on this host).
    pub direction: Direction,
    /// Client or server end; null when it cannot be told (a connected UDP socket on a port
    /// nothing else listens on is taken as a client).
    pub role: Option<Role>,
    /// Socket inode.
    pub inode: u64,
    /// Network namespace inode of the socket; null when unknown.
    pub netns: Option<u64>,
    /// Pid of the process that owns the other end, when it is on this host and visible.
    pub peer_pid: Option<u32>,
    /// Name of that process.
    /// Shared: every connection to one process holds the same name, not a copy of it.
    pub peer_name: Option<std::sync::Arc<str>>,
    /// How much and how well it talks (TCP counters); null figures say why in
    /// `traffic_unavailable`.
    #[serde(flatten)]
    pub traffic: Traffic,
}

/// A socket with no visible owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnownedSocket {
    /// Transport protocol.
    pub proto: Proto,
    /// Address family.
    pub family: Family,
    /// Local address.
    pub local_addr: IpAddr,
    /// Local port.
    pub local_port: u16,
    /// Remote address (unspecified for listening sockets).
    pub remote_addr: IpAddr,
    /// Remote port (0 for listening sockets).
    pub remote_port: u16,
    /// State.
    pub state: SocketState,
    /// Socket inode (0 when no file descriptor refers to it).
    pub inode: u64,
    /// Network namespace inode; null when unknown.
    pub netns: Option<u64>,
    /// Uid that created the socket.
    pub uid: u32,
    /// Why no owner is shown: `kernel` (inode 0: TIME_WAIT or half-open, owned by no process)
    /// or `not_visible` (the owner could not be inspected, or exited during the scan).
    pub reason: String,
}

/// Shows an IPv4-mapped IPv6 address as the IPv4 address it carries.
pub fn unmap(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The family of an address as shown.
pub fn family_of(addr: IpAddr) -> Family {
    match addr {
        IpAddr::V4(_) => Family::Ipv4,
        IpAddr::V6(_) => Family::Ipv6,
    }
}

/// Whether an address is a wildcard bind (`0.0.0.0` or `::`).
pub fn is_wildcard(addr: IpAddr) -> bool {
    addr == IpAddr::V4(Ipv4Addr::UNSPECIFIED) || addr == IpAddr::V6(Ipv6Addr::UNSPECIFIED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv6_is_shown_as_ipv4() {
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(unmap(mapped), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(family_of(unmap(mapped)), Family::Ipv4);
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(unmap(v6), v6);
    }

    #[test]
    fn udp_bound_socket_counts_as_listening_and_connected_one_does_not() {
        let entry = |state| SocketEntry {
            netns: None,
            proto: Proto::Udp,
            local: "127.0.0.1:53".parse().unwrap(),
            remote: "0.0.0.0:0".parse().unwrap(),
            state,
            inode: 1,
            uid: 0,
            counters: None,
        };
        assert!(entry(SocketState::Unconn).is_listening());
        assert!(!entry(SocketState::Established).is_listening());
    }
}
