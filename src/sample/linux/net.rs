//! Socket tables, one read per network namespace.
//!
//! The host's netlink dump and /proc/net/* only show the reader's own namespace, so sockets in
//! containers would be missed. TCP comes from a sock_diag dump with each socket's counters
//! (see `sock_diag.rs`), over a netlink socket made inside each namespace; where a namespace
//! cannot be entered (entering needs CAP_SYS_ADMIN), its TCP table is read from
//! `/proc/<pid>/net/tcp` through one of its members, without counters, and the snapshot says
//! so. UDP comes from `/proc/<pid>/net/udp` everywhere: the kernel keeps no per-socket traffic
//! counters for UDP, and /proc keeps a UDP socket's peer.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use procfs::net::{TcpState, UdpState};
use procfs::process::Process as ProcHandle;
use procfs::ProcError;

use crate::model::{Proto, SocketEntry, SocketState};

use super::netns::{self, NamespaceError};
use super::sock_diag::{DiagError, DiagSocket};

/// The result of reading every namespace's tables.
pub struct SocketTables {
    pub entries: Vec<SocketEntry>,
    pub namespaces: Vec<u64>,
    pub warnings: Vec<String>,
    /// Namespaces whose TCP sockets have no counters, with why.
    pub traffic_unavailable: BTreeMap<u64, String>,
}

/// One sock_diag socket per network namespace, kept between passes: making one inside another
/// namespace costs a thread and a setns. A namespace that refused us is remembered too.
#[derive(Default)]
pub struct DiagSockets {
    by_netns: HashMap<u64, Result<DiagSocket, DiagError>>,
}

impl DiagSockets {
    /// The socket for `netns`, made through the first member whose namespace file still names
    /// it (a pid may have exited and been reused since it was read).
    fn for_namespace(
        &mut self,
        netns: u64,
        own: bool,
        pids: &[u32],
    ) -> Result<&mut DiagSocket, DiagError> {
        let slot = match self.by_netns.entry(netns) {
            Entry::Occupied(slot) => slot.into_mut(),
            Entry::Vacant(slot) => {
                let opened = if own {
                    // Our own namespace can always be dumped: a failure here passes.
                    Ok(DiagSocket::open()?)
                } else {
                    let opened = netns::make_in(netns, pids, || {
                        DiagSocket::open().map_err(|e| NamespaceError::Passing(e.0))
                    });
                    match opened {
                        Ok(socket) => Ok(socket),
                        // Only a refusal is kept; a member that exited is retried next pass.
                        Err(NamespaceError::Passing(reason)) => return Err(DiagError(reason)),
                        Err(NamespaceError::Refused(reason)) => Err(DiagError(reason)),
                    }
                };
                slot.insert(opened)
            }
        };
        slot.as_mut().map_err(|error| error.clone())
    }

    /// Forgets the socket of `netns` after a failed dump: the kernel may still be in the middle
    /// of it on that socket, and every later request there would be refused as busy.
    fn forget(&mut self, netns: u64) {
        if matches!(self.by_netns.get(&netns), Some(Ok(_))) {
            self.by_netns.remove(&netns);
        }
    }

    /// Forgets the sockets of namespaces that no longer have members.
    fn keep_only(&mut self, members: &BTreeMap<u64, Vec<u32>>) {
        self.by_netns.retain(|netns, _| members.contains_key(netns));
    }
}

/// Reads the TCP and UDP tables (v4 and v6) of every namespace in `members` (netns inode ->
/// member pids, in order of preference), TCP with each socket's counters when `with_counters`.
/// A namespace whose every member exits before it can be read is skipped: nothing lives there
/// any more to own its sockets.
pub fn read_tables(
    members: &BTreeMap<u64, Vec<u32>>,
    own_netns: Option<u64>,
    with_counters: bool,
    diag: &mut DiagSockets,
) -> SocketTables {
    diag.keep_only(members);
    let mut tables = SocketTables {
        entries: Vec::new(),
        namespaces: Vec::new(),
        warnings: Vec::new(),
        traffic_unavailable: BTreeMap::new(),
    };
    for (netns, pids) in members {
        let own = Some(*netns) == own_netns;
        let tcp = diag
            .for_namespace(*netns, own, pids)
            .and_then(|socket| socket.dump_tcp_asking(Some(*netns), with_counters));
        if tcp.is_err() {
            diag.forget(*netns);
        }
        let tcp_by_netlink = match tcp {
            Ok(entries) => {
                gather(&mut tables.entries, entries);
                true
            }
            Err(error) => {
                tables.traffic_unavailable.insert(*netns, error.0);
                false
            }
        };
        let mut last_error = None;
        for pid in pids {
            match read_namespace(*pid, *netns, tcp_by_netlink) {
                Ok(entries) => {
                    gather(&mut tables.entries, entries);
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

/// Adds one table's rows to the pass's: the first (usually the host namespace's TCP dump, tens
/// of thousands of rows) is taken as it is instead of copied.
fn gather(all: &mut Vec<SocketEntry>, mut rows: Vec<SocketEntry>) {
    if all.is_empty() {
        *all = rows;
    } else {
        all.append(&mut rows);
    }
}

/// The TCP sockets, with counters, of every namespace that can be dumped; the others are
/// left out (nothing to count from /proc).
pub fn read_tcp_counters(
    members: &BTreeMap<u64, Vec<u32>>,
    own_netns: Option<u64>,
    diag: &mut DiagSockets,
) -> Vec<SocketEntry> {
    diag.keep_only(members);
    let mut entries = Vec::new();
    for (netns, pids) in members {
        let own = Some(*netns) == own_netns;
        if let Ok(mut dumped) = diag
            .for_namespace(*netns, own, pids)
            .and_then(|socket| socket.dump_tcp(Some(*netns)))
        {
            entries.append(&mut dumped);
        }
    }
    entries
}

enum TableError {
    Gone,
    Failed(String),
}

/// The /proc tables of one namespace through `pid`: UDP always, TCP when the dump could not
/// be made.
fn read_namespace(
    pid: u32,
    netns: u64,
    tcp_by_netlink: bool,
) -> Result<Vec<SocketEntry>, TableError> {
    let handle = ProcHandle::new(i32::try_from(pid).map_err(|_| TableError::Gone)?)
        .map_err(|_| TableError::Gone)?;
    let mut entries = Vec::new();
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
                    counters: None,
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
                    counters: None,
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
