//! TCP sockets from the kernel's sock_diag interface (`man 7 sock_diag`), with each socket's
//! `tcp_info`: the counters `ss -ti` prints (bytes acked and received, rtt, retransmits).
//!
//! One dump per address family over a netlink socket. A netlink socket answers for the network
//! namespace it was created in, so the sampler keeps one per namespace: its own made directly,
//! the others made by a short-lived thread that first enters the namespace (`netns.rs`; `setns`
//! needs CAP_SYS_ADMIN). The bytes are parsed here by offset, with every read bounds-checked and no
//! allocation per socket: the dump of 20,000 sockets is the largest thing the sampler reads.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;

use rustix::net::netlink::{SocketAddrNetlink, SOCK_DIAG};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use crate::model::{Proto, SocketEntry, SocketState, TcpCounters};

const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IPPROTO_TCP: u8 = 6;
const INET_DIAG_INFO: u16 = 2;
/// `struct inet_diag_msg`: family, state, timer, retrans, the socket id (ports, addresses,
/// interface, cookie), expires, queues, uid, inode.
const DIAG_MSG_LEN: usize = 72;
/// `struct inet_diag_req_v2`.
const REQUEST_LEN: usize = 56;

/// A netlink socket for dumping the sockets of one network namespace.
pub struct DiagSocket {
    fd: OwnedFd,
    /// Sequence number of the next request, so a late answer to an earlier one is told apart.
    seq: u32,
    /// The receive buffer, kept between dumps.
    buffer: Vec<u8>,
    /// How many sockets the last dump listed: the next one's list starts that large, rather
    /// than growing (and copying itself) a dozen times on a busy host.
    last_count: usize,
}

/// Why a dump could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagError(pub String);

impl std::fmt::Display for DiagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn io_error(what: &str, error: rustix::io::Errno) -> DiagError {
    DiagError(format!("{what}: {}", std::io::Error::from(error)))
}

impl DiagSocket {
    /// A socket in the caller's own network namespace.
    pub fn open() -> Result<DiagSocket, DiagError> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(SOCK_DIAG),
        )
        .map_err(|e| io_error("netlink socket", e))?;
        // A dump that never ends must not hang the sampler: a tick gives up after this long.
        rustix::net::sockopt::set_socket_timeout(
            &fd,
            rustix::net::sockopt::Timeout::Recv,
            Some(std::time::Duration::from_secs(5)),
        )
        .map_err(|e| io_error("netlink receive timeout", e))?;
        Ok(DiagSocket {
            fd,
            seq: 1,
            buffer: vec![0; 64 * 1024],
            last_count: 0,
        })
    }

    /// Every TCP socket (v4 and v6, every state) of the socket's namespace, with counters.
    pub fn dump_tcp(&mut self, netns: Option<u64>) -> Result<Vec<SocketEntry>, DiagError> {
        self.dump_tcp_asking(netns, true)
    }

    /// The same dump, with or without each socket's tcp_info (the benchmark compares the
    /// kernel's cost of the two).
    pub fn dump_tcp_asking(
        &mut self,
        netns: Option<u64>,
        with_info: bool,
    ) -> Result<Vec<SocketEntry>, DiagError> {
        let mut out = Vec::with_capacity(self.last_count + self.last_count / 16);
        self.dump(AddressFamily::INET, netns, with_info, &mut out)?;
        // A host without IPv6 answers the v6 request with an error: its v4 sockets stand.
        match self.dump(AddressFamily::INET6, netns, with_info, &mut out) {
            Ok(()) => {}
            Err(_) if !ipv6_enabled() => {}
            Err(error) => return Err(error),
        }
        self.last_count = out.len();
        Ok(out)
    }

    fn dump(
        &mut self,
        family: AddressFamily,
        netns: Option<u64>,
        with_info: bool,
        out: &mut Vec<SocketEntry>,
    ) -> Result<(), DiagError> {
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        let request = request(family, seq, with_info);
        rustix::net::sendto(
            &self.fd,
            &request,
            SendFlags::empty(),
            &SocketAddrNetlink::new(0, 0),
        )
        .map_err(|e| io_error("sock_diag request", e))?;
        loop {
            let (_, len) = rustix::net::recv(&self.fd, &mut self.buffer[..], RecvFlags::empty())
                .map_err(|e| io_error("sock_diag answer", e))?;
            let received = self.buffer.get(..len).unwrap_or_default();
            match parse_messages(received, Some(seq), netns, out)? {
                Parsed::More => {}
                Parsed::Done => return Ok(()),
            }
        }
    }
}

/// The sockets of one datagram of destroy notifications (multicast messages, no sequence),
/// heard in network namespace `netns`.
pub fn parse_notifications(
    bytes: &[u8],
    netns: Option<u64>,
    out: &mut Vec<SocketEntry>,
) -> Result<(), DiagError> {
    parse_messages(bytes, None, netns, out).map(|_| ())
}

fn ipv6_enabled() -> bool {
    std::path::Path::new("/proc/net/if_inet6").exists()
}

/// `nlmsghdr` + `inet_diag_req_v2` asking for every TCP socket of `family` with its tcp_info.
fn request(family: AddressFamily, seq: u32, with_info: bool) -> [u8; NLMSG_HDR + REQUEST_LEN] {
    let mut bytes = [0u8; NLMSG_HDR + REQUEST_LEN];
    bytes[0..4].copy_from_slice(&((NLMSG_HDR + REQUEST_LEN) as u32).to_ne_bytes());
    bytes[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    bytes[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    bytes[8..12].copy_from_slice(&seq.to_ne_bytes());
    // bytes[12..16]: port id 0, the kernel.
    let body = NLMSG_HDR;
    bytes[body] = family.as_raw() as u8;
    bytes[body + 1] = IPPROTO_TCP;
    if with_info {
        bytes[body + 2] = 1 << (INET_DIAG_INFO - 1);
    }
    // idiag_states: every state but TCP_BOUND_INACTIVE (13): since Linux 6.7 that bit adds
    // sockets that are only bound, which /proc never lists and which are no connection.
    bytes[body + 4..body + 8].copy_from_slice(&(!(1u32 << 13)).to_ne_bytes());
    bytes
}

enum Parsed {
    More,
    Done,
}

/// Parses one datagram of netlink messages, appending the sockets of the answer to `seq`
/// (any message, for notifications: `None`).
fn parse_messages(
    mut bytes: &[u8],
    seq: Option<u32>,
    netns: Option<u64>,
    out: &mut Vec<SocketEntry>,
) -> Result<Parsed, DiagError> {
    while bytes.len() >= NLMSG_HDR {
        let len = u32_at(bytes, 0) as usize;
        if len < NLMSG_HDR || len > bytes.len() {
            return Err(DiagError(format!("sock_diag: a message of {len} bytes")));
        }
        let kind = u16_at(bytes, 4);
        let message_seq = u32_at(bytes, 8);
        let body = &bytes[NLMSG_HDR..len];
        bytes = bytes.get(align4(len)..).unwrap_or_default();
        if seq.is_some_and(|seq| seq != message_seq) {
            continue;
        }
        match kind {
            // A dump that failed part-way says so in its DONE: it is not complete.
            NLMSG_DONE if i32::from_ne_bytes(array_at(body, 0)) < 0 => {
                let errno = i32::from_ne_bytes(array_at(body, 0));
                return Err(DiagError(format!(
                    "sock_diag dump cut short: {}",
                    std::io::Error::from_raw_os_error(errno.wrapping_neg())
                )));
            }
            NLMSG_DONE => return Ok(Parsed::Done),
            NLMSG_ERROR => {
                let errno = i32::from_ne_bytes(array_at(body, 0));
                return Err(DiagError(format!(
                    "sock_diag: {}",
                    std::io::Error::from_raw_os_error(errno.wrapping_neg())
                )));
            }
            SOCK_DIAG_BY_FAMILY => {
                if let Some(entry) = parse_socket(body, netns) {
                    out.push(entry);
                }
            }
            _ => {}
        }
    }
    Ok(Parsed::More)
}

/// One `inet_diag_msg` and its attributes.
fn parse_socket(body: &[u8], netns: Option<u64>) -> Option<SocketEntry> {
    if body.len() < DIAG_MSG_LEN {
        return None;
    }
    let family = body[0];
    let state = body[1];
    let local_port = u16::from_be_bytes(array_at(body, 4));
    let remote_port = u16::from_be_bytes(array_at(body, 6));
    let (local, remote) = if u32::from(family) == AddressFamily::INET6.as_raw() as u32 {
        (
            IpAddr::V6(Ipv6Addr::from(array_at::<16>(body, 8))),
            IpAddr::V6(Ipv6Addr::from(array_at::<16>(body, 24))),
        )
    } else {
        (
            IpAddr::V4(Ipv4Addr::from(array_at::<4>(body, 8))),
            IpAddr::V4(Ipv4Addr::from(array_at::<4>(body, 24))),
        )
    };
    let cookie = u64::from(u32_at(body, 44)) | (u64::from(u32_at(body, 48)) << 32);
    let recv_queue = u32_at(body, 56);
    let send_queue = u32_at(body, 60);
    let uid = u32_at(body, 64);
    let inode = u64::from(u32_at(body, 68));
    let info = attribute(&body[DIAG_MSG_LEN..], INET_DIAG_INFO);
    let counters = TcpCounters {
        cookie,
        send_queue,
        recv_queue,
        ..info.map(tcp_info).unwrap_or_default()
    };
    Some(SocketEntry {
        netns,
        proto: Proto::Tcp,
        local: SocketAddr::new(local, local_port),
        remote: SocketAddr::new(remote, remote_port),
        state: tcp_state(state),
        inode,
        uid,
        counters: Some(counters),
    })
}

/// The payload of the first attribute of type `wanted`.
fn attribute(mut attrs: &[u8], wanted: u16) -> Option<&[u8]> {
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0));
        let kind = u16_at(attrs, 2);
        if len < 4 || len > attrs.len() {
            return None;
        }
        if kind == wanted {
            return Some(&attrs[4..len]);
        }
        attrs = attrs.get(align4(len)..).unwrap_or_default();
    }
    None
}

/// The fields of `struct tcp_info` wiretop uses, by their offsets in `linux/tcp.h`. An older
/// kernel sends a shorter struct: what it lacks reads as absent, never as 0.
fn tcp_info(info: &[u8]) -> TcpCounters {
    let u32_field = |offset: usize| (info.len() >= offset + 4).then(|| u32_at(info, offset));
    let u64_field = |offset: usize| {
        (info.len() >= offset + 8).then(|| u64::from_ne_bytes(array_at(info, offset)))
    };
    TcpCounters {
        last_data_sent_ms: u32_field(44),
        last_data_recv_ms: u32_field(52),
        rtt_us: u32_field(68),
        rttvar_us: u32_field(72),
        total_retrans: u32_field(100),
        bytes_acked: u64_field(120),
        bytes_received: u64_field(128),
        ..TcpCounters::default()
    }
}

fn tcp_state(state: u8) -> SocketState {
    match state {
        1 => SocketState::Established,
        2 => SocketState::SynSent,
        3 | 12 => SocketState::SynRecv,
        4 => SocketState::FinWait1,
        5 => SocketState::FinWait2,
        6 => SocketState::TimeWait,
        8 => SocketState::CloseWait,
        9 => SocketState::LastAck,
        10 => SocketState::Listen,
        11 => SocketState::Closing,
        _ => SocketState::Close,
    }
}

fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// `N` bytes at `offset`, zeros past the end (callers check lengths first where it matters).
fn array_at<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(slice) = bytes.get(offset..offset + N) {
        out.copy_from_slice(slice);
    }
    out
}

fn u32_at(bytes: &[u8], offset: usize) -> u32 {
    u32::from_ne_bytes(array_at(bytes, offset))
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_ne_bytes(array_at(bytes, offset))
}

/// A destroy notification as the kernel sends it: one IPv4 socket closed on local `port`
/// with `cookie`, without tcp_info.
#[cfg(test)]
pub fn notification(cookie: u64, port: u16) -> Vec<u8> {
    let mut bytes = vec![0u8; NLMSG_HDR + DIAG_MSG_LEN];
    bytes[0..4].copy_from_slice(&((NLMSG_HDR + DIAG_MSG_LEN) as u32).to_ne_bytes());
    bytes[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    let body = &mut bytes[NLMSG_HDR..];
    body[0] = AddressFamily::INET.as_raw() as u8;
    body[1] = 7; // TCP_CLOSE
    body[4..6].copy_from_slice(&port.to_be_bytes());
    body[6..8].copy_from_slice(&50_000u16.to_be_bytes());
    body[8..12].copy_from_slice(&[127, 0, 0, 1]);
    body[24..28].copy_from_slice(&[127, 0, 0, 1]);
    body[44..48].copy_from_slice(&(cookie as u32).to_ne_bytes());
    body[48..52].copy_from_slice(&((cookie >> 32) as u32).to_ne_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn entry_for(entries: &[SocketEntry], local: SocketAddr, remote: SocketAddr) -> SocketEntry {
        entries
            .iter()
            .find(|e| e.local == local && e.remote == remote)
            .cloned()
            .unwrap_or_else(|| panic!("no socket {local} -> {remote} in {} sockets", entries.len()))
    }

    #[test]
    fn a_dump_counts_the_bytes_each_end_sent_and_received() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(&[7u8; 100_000]).unwrap();
        let mut got = vec![0u8; 100_000];
        server.read_exact(&mut got).unwrap();
        server.write_all(&[1u8; 2_500]).unwrap();
        let mut back = vec![0u8; 2_500];
        client.read_exact(&mut back).unwrap();

        let mut socket = DiagSocket::open().unwrap();
        let entries = socket.dump_tcp(Some(1)).unwrap();
        let c = entry_for(
            &entries,
            client.local_addr().unwrap(),
            server.local_addr().unwrap(),
        );
        let s = entry_for(
            &entries,
            server.local_addr().unwrap(),
            client.local_addr().unwrap(),
        );
        let (cc, sc) = (c.counters.unwrap(), s.counters.unwrap());
        // The client's bytes_acked holds its SYN (the kernel's count; data bytes are worked
        // out where the role is known, in sample/traffic.rs).
        assert_eq!(
            (cc.bytes_acked, cc.bytes_received),
            (Some(100_001), Some(2_500))
        );
        assert_eq!(
            (sc.bytes_acked, sc.bytes_received),
            (Some(2_500), Some(100_000))
        );
        assert_eq!(c.state, SocketState::Established);
        assert_eq!(c.netns, Some(1));
        assert_ne!(cc.cookie, sc.cookie);
        assert!(cc.rtt_us.is_some_and(|rtt| rtt > 0));
        let l = entries
            .iter()
            .find(|e| e.local == listener.local_addr().unwrap())
            .unwrap();
        assert_eq!(l.state, SocketState::Listen);
        // The inode is the one /proc/self/fd links to.
        let link = std::fs::read_link(format!("/proc/self/fd/{}", {
            use std::os::fd::AsRawFd;
            client.as_raw_fd()
        }))
        .unwrap();
        assert_eq!(link.to_string_lossy(), format!("socket:[{}]", c.inode));
    }

    #[test]
    fn truncated_and_foreign_messages_are_refused_or_skipped() {
        let mut out = Vec::new();
        // A length past the datagram is refused, not read past.
        let mut bytes = vec![0u8; 20];
        bytes[0..4].copy_from_slice(&400u32.to_ne_bytes());
        assert!(parse_messages(&bytes, Some(1), None, &mut out).is_err());
        // An answer to another request is skipped.
        let mut other = vec![0u8; NLMSG_HDR];
        other[0..4].copy_from_slice(&(NLMSG_HDR as u32).to_ne_bytes());
        other[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        other[8..12].copy_from_slice(&9u32.to_ne_bytes());
        assert!(matches!(
            parse_messages(&other, Some(1), None, &mut out),
            Ok(Parsed::More)
        ));
        // A socket message too short for inet_diag_msg is no socket.
        assert!(parse_socket(&[0u8; 40], None).is_none());
        // A tcp_info cut short leaves the fields it lacks absent.
        let short = tcp_info(&[0u8; 104]);
        assert_eq!(short.total_retrans, Some(0));
        assert_eq!(short.bytes_acked, None);
        assert!(out.is_empty());
    }
}
