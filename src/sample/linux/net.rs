//! Socket tables, one read per network namespace.
//!
//! The host's netlink dump and /proc/net/* only show the reader's own namespace, so sockets in
//! containers would be missed. `/proc/<pid>/net/*` shows the namespace of `<pid>`: reading it
//! through one member of each distinct namespace covers every namespace we can see.
//!
//! The sampler's own namespace usually holds most sockets, and there TCP comes from a netlink
//! sock_diag dump instead: the kernel formats /proc/net/tcp with printf one line at a time,
//! which costs about three times as much at 20,000 sockets (see benches/snapshot.rs). UDP
//! stays on /proc everywhere, because the netlink reader we use drops a UDP socket's peer.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use procfs::net::{TcpState, UdpState};
use procfs::process::Process as ProcHandle;
use procfs::ProcError;

use crate::model::{Proto, SocketEntry, SocketState};

/// The result of reading every namespace's tables.
pub struct SocketTables {
    pub entries: Vec<SocketEntry>,
    pub namespaces: Vec<u64>,
    pub warnings: Vec<String>,
}

/// Reads the TCP and UDP tables (v4 and v6) of every namespace in `members` (netns inode ->
/// member pids, in order of preference). A namespace whose every member exits before it can be
/// read is skipped: nothing lives there any more to own its sockets.
pub fn read_tables(members: &BTreeMap<u64, Vec<u32>>, own_netns: Option<u64>) -> SocketTables {
    let mut tables = SocketTables {
        entries: Vec::new(),
        namespaces: Vec::new(),
        warnings: Vec::new(),
    };
    for (netns, pids) in members {
        let mut last_error = None;
        let own = Some(*netns) == own_netns;
        for pid in pids {
            match read_namespace(*pid, *netns, own) {
                Ok(mut entries) => {
                    tables.entries.append(&mut entries);
                    tables.namespaces.push(*netns);
                    last_error = None;
                    break;
                }
                Err(TableError::Gone) => continue,
                Err(TableError::Failed(reason)) => last_error = Some(reason),
            }
        }
        if let Some(reason) = last_error {
            tables.warnings.push(format!(
                "sockets of network namespace {netns} not read: {reason}"
            ));
        }
    }
    tables
}

enum TableError {
    Gone,
    Failed(String),
}

fn read_namespace(pid: u32, netns: u64, own: bool) -> Result<Vec<SocketEntry>, TableError> {
    let handle = ProcHandle::new(i32::try_from(pid).map_err(|_| TableError::Gone)?)
        .map_err(|_| TableError::Gone)?;
    let mut entries = Vec::new();
    let tcp_by_netlink = own && read_own_tcp_by_netlink(netns, &mut entries);
    let tables: &[(Table, bool)] = if tcp_by_netlink {
        &[(Table::Udp, true), (Table::Udp6, false)]
    } else {
        &[
            (Table::Tcp, true),
            (Table::Tcp6, false),
            (Table::Udp, true),
            (Table::Udp6, false),
        ]
    };
    // tcp and udp always exist; the v6 tables are absent when IPv6 is disabled.
    for &(table, required) in tables {
        match table.read(&handle, netns, &mut entries) {
            Ok(()) => {}
            Err(ProcError::NotFound(_)) if !required => {}
            Err(ProcError::NotFound(_)) => return Err(TableError::Gone),
            Err(e) => return Err(TableError::Failed(e.to_string())),
        }
    }
    Ok(entries)
}

/// Appends the sampler's own namespace's TCP sockets from a sock_diag dump. Returns false,
/// appending nothing, when the dump failed or came back empty: netstat2 turns a netlink error
/// into an empty list, and a host with no TCP socket at all is rare enough that re-reading
/// /proc to be sure costs nothing.
fn read_own_tcp_by_netlink(netns: u64, out: &mut Vec<SocketEntry>) -> bool {
    use netstat2::{AddressFamilyFlags, ProtocolFlags, ProtocolSocketInfo};
    let dump = std::panic::catch_unwind(|| {
        netstat2::iterate_sockets_info_without_pids(
            AddressFamilyFlags::IPV4 | AddressFamilyFlags::IPV6,
            ProtocolFlags::TCP,
        )
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
    });
    let rows = match dump {
        Ok(Ok(rows)) if !rows.is_empty() => rows,
        _ => return false,
    };
    out.reserve(rows.len());
    for row in rows {
        if let ProtocolSocketInfo::Tcp(tcp) = row.protocol_socket_info {
            out.push(SocketEntry {
                netns: Some(netns),
                proto: Proto::Tcp,
                local: SocketAddr::new(tcp.local_addr, tcp.local_port),
                remote: SocketAddr::new(tcp.remote_addr, tcp.remote_port),
                state: netlink_tcp_state(&tcp.state),
                inode: u64::from(row.inode),
                uid: row.uid,
            });
        }
    }
    true
}

fn netlink_tcp_state(state: &netstat2::TcpState) -> SocketState {
    use netstat2::TcpState as N;
    match state {
        N::Established => SocketState::Established,
        N::SynSent => SocketState::SynSent,
        N::SynReceived => SocketState::SynRecv,
        N::FinWait1 => SocketState::FinWait1,
        N::FinWait2 => SocketState::FinWait2,
        N::TimeWait => SocketState::TimeWait,
        N::Closed | N::DeleteTcb => SocketState::Close,
        N::CloseWait => SocketState::CloseWait,
        N::LastAck => SocketState::LastAck,
        N::Listen => SocketState::Listen,
        N::Closing => SocketState::Closing,
        // The only other state a TCP dump carries is 12, NEW_SYN_RECV: a half-open request.
        N::Unknown => SocketState::SynRecv,
    }
}

#[derive(Clone, Copy)]
enum Table {
    Tcp,
    Tcp6,
    Udp,
    Udp6,
}

impl Table {
    fn read(
        self,
        handle: &ProcHandle,
        netns: u64,
        out: &mut Vec<SocketEntry>,
    ) -> Result<(), ProcError> {
        let tcp =
            |local: SocketAddr, remote: SocketAddr, state: &TcpState, inode: u64, uid: u32| {
                SocketEntry {
                    netns: Some(netns),
                    proto: Proto::Tcp,
                    local,
                    remote,
                    state: tcp_state(state),
                    inode,
                    uid,
                }
            };
        let udp =
            |local: SocketAddr, remote: SocketAddr, state: &UdpState, inode: u64, uid: u32| {
                SocketEntry {
                    netns: Some(netns),
                    proto: Proto::Udp,
                    local,
                    remote,
                    state: udp_state(state, remote),
                    inode,
                    uid,
                }
            };
        match self {
            Table::Tcp | Table::Tcp6 => {
                let rows = if matches!(self, Table::Tcp) {
                    handle.tcp()?
                } else {
                    handle.tcp6()?
                };
                out.extend(
                    rows.iter()
                        .map(|r| tcp(r.local_address, r.remote_address, &r.state, r.inode, r.uid)),
                );
            }
            Table::Udp | Table::Udp6 => {
                let rows = if matches!(self, Table::Udp) {
                    handle.udp()?
                } else {
                    handle.udp6()?
                };
                out.extend(
                    rows.iter()
                        .map(|r| udp(r.local_address, r.remote_address, &r.state, r.inode, r.uid)),
                );
            }
        }
        Ok(())
    }
}

fn tcp_state(state: &TcpState) -> SocketState {
    match state {
        TcpState::Established => SocketState::Established,
        TcpState::SynSent => SocketState::SynSent,
        TcpState::SynRecv | TcpState::NewSynRecv => SocketState::SynRecv,
        TcpState::FinWait1 => SocketState::FinWait1,
        TcpState::FinWait2 => SocketState::FinWait2,
        TcpState::TimeWait => SocketState::TimeWait,
        TcpState::Close => SocketState::Close,
        TcpState::CloseWait => SocketState::CloseWait,
        TcpState::LastAck => SocketState::LastAck,
        TcpState::Listen => SocketState::Listen,
        TcpState::Closing => SocketState::Closing,
    }
}

/// A UDP socket is "established" once connect() fixed its peer; the kernel reports the others
/// as CLOSE, which `ss` shows as UNCONN.
fn udp_state(state: &UdpState, remote: SocketAddr) -> SocketState {
    match state {
        UdpState::Established if remote.port() != 0 => SocketState::Established,
        UdpState::Established => SocketState::Unconn,
        UdpState::Close => SocketState::Unconn,
    }
}
