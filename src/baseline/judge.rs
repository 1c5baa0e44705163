//! Judging a snapshot against a baseline: for every process, what about it the baseline does not
//! list (see the module documentation of `baseline` for the rules).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

use super::{
    destination, exe_of, user_of, Baseline, ExecutableEntry, ListeningEntry, OutboundEntry,
    Wildcard,
};
use crate::model::{unmap, Network, Process, Proto, Snapshot, UnexpectedReason};

/// The kernel keeps a process name (`comm`) to this many bytes of the executable's file name.
const COMM_BYTES: usize = 15;

/// What the baseline says about one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The process's pid.
    pub pid: u32,
    /// Its start time: with the pid, which process this is (a reused pid is another).
    pub start_time_ms: u64,
    /// What about it the baseline does not list, sorted, each once; empty when it is expected.
    pub reasons: Vec<UnexpectedReason>,
}

impl Verdict {
    /// Whether anything about the process is missing from the baseline.
    pub fn unexpected(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// A verdict for every process of one snapshot, in the snapshot's order (by pid).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Judgement {
    verdicts: Vec<Verdict>,
}

impl Judgement {
    /// Every verdict, by pid.
    pub fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// The verdict on the process `pid` that started at `start_time_ms`, if it was judged.
    pub fn verdict(&self, pid: u32, start_time_ms: u64) -> Option<&Verdict> {
        let at = self.verdicts.binary_search_by_key(&pid, |v| v.pid).ok()?;
        self.verdicts
            .get(at)
            .filter(|v| v.start_time_ms == start_time_ms)
    }

    /// How many processes are unexpected (what the explorer's header shows).
    pub fn unexpected_count(&self) -> usize {
        self.verdicts.iter().filter(|v| v.unexpected()).count()
    }

    /// Writes the verdicts into the processes of `snapshot` (`unexpected`,
    /// `unexpected_reasons`); a process this judgement has no verdict on is left as it was.
    pub fn apply(&self, snapshot: &mut Snapshot) {
        for process in &mut snapshot.processes {
            if let Some(verdict) = self.verdict(process.pid, process.start_time_ms) {
                process.unexpected = Some(verdict.unexpected());
                process.unexpected_reasons.clone_from(&verdict.reasons);
            }
        }
    }
}

impl Baseline {
    /// The verdict on every process of `snapshot`.
    pub fn judge(&self, snapshot: &Snapshot) -> Judgement {
        let index = Index::new(self);
        let mut verdicts: Vec<Verdict> = snapshot
            .processes
            .iter()
            .map(|process| Verdict {
                pid: process.pid,
                start_time_ms: process.start_time_ms,
                reasons: if process.kernel_thread {
                    Vec::new()
                } else {
                    index.reasons(process)
                },
            })
            .collect();
        // Snapshots are sorted by pid; a hand-built one need not be, and lookups bisect.
        verdicts.sort_by_key(|v| v.pid);
        Judgement { verdicts }
    }
}

/// The entries of one `exe`. Entries for one address and port (all that `baseline save` writes)
/// are kept in sets, looked up at once; only those an operator widened (a block, a `*`) are
/// tried one by one. A proxy's baseline may list thousands of destinations for one executable,
/// judged against each of its thousands of connections at every refresh of the explorer.
#[derive(Default)]
struct Rules<'b> {
    executables: Vec<&'b ExecutableEntry>,
    listening_exact: HashSet<(Proto, u16, IpAddr)>,
    listening: Vec<&'b ListeningEntry>,
    outbound_exact: HashSet<(u16, IpAddr)>,
    outbound: Vec<&'b OutboundEntry>,
}

impl<'b> Rules<'b> {
    fn add_listening(&mut self, entry: &'b ListeningEntry) {
        match (&entry.proto, &entry.port, single(&entry.address)) {
            (Wildcard::Only(proto), Wildcard::Only(port), Some(addr)) => {
                self.listening_exact.insert((*proto, *port, addr));
            }
            _ => self.listening.push(entry),
        }
    }

    fn add_outbound(&mut self, entry: &'b OutboundEntry) {
        match (&entry.port, single(&entry.address)) {
            (Wildcard::Only(port), Some(addr)) => {
                self.outbound_exact.insert((*port, addr));
            }
            _ => self.outbound.push(entry),
        }
    }

    fn lists_listening(&self, proto: Proto, addr: IpAddr, port: u16) -> bool {
        self.listening_exact.contains(&(proto, port, addr))
            || self.listening.iter().any(|entry| {
                entry.proto.admits(|allowed| *allowed == proto)
                    && entry.port.admits(|allowed| *allowed == port)
                    && entry.address.admits(|network| network.contains(addr))
            })
    }

    fn lists_outbound(&self, addr: IpAddr, port: u16) -> bool {
        self.outbound_exact.contains(&(port, addr))
            || self.outbound.iter().any(|entry| {
                entry.port.admits(|allowed| *allowed == port)
                    && entry.address.admits(|network| network.contains(addr))
            })
    }
}

/// The one address a field stands for (an IPv4-mapped address as IPv4, as sockets are looked
/// up), or None for `*` and blocks.
fn single(address: &Wildcard<Network>) -> Option<IpAddr> {
    match address {
        Wildcard::Only(network) => network.single_address().map(unmap),
        Wildcard::Any => None,
    }
}

/// The baseline's entries by `exe`, for one judgement.
struct Index<'b> {
    by_exe: BTreeMap<&'b str, Rules<'b>>,
    /// Paths by the name the kernel gives a process run from them (the file name, cut to 15
    /// bytes): how a process whose executable could not be read finds its entries.
    paths_by_comm: BTreeMap<&'b [u8], Vec<&'b str>>,
}

impl<'b> Index<'b> {
    fn new(baseline: &'b Baseline) -> Index<'b> {
        let mut by_exe: BTreeMap<&str, Rules<'_>> = BTreeMap::new();
        for entry in &baseline.executables {
            by_exe
                .entry(&entry.exe)
                .or_default()
                .executables
                .push(entry);
        }
        for entry in &baseline.listening {
            by_exe.entry(&entry.exe).or_default().add_listening(entry);
        }
        for entry in &baseline.outbound {
            by_exe.entry(&entry.exe).or_default().add_outbound(entry);
        }
        let mut paths_by_comm: BTreeMap<&[u8], Vec<&str>> = BTreeMap::new();
        for exe in by_exe.keys().filter(|exe| exe.contains('/')) {
            let file_name = exe.rsplit('/').next().unwrap_or(exe).as_bytes();
            let comm = &file_name[..file_name.len().min(COMM_BYTES)];
            paths_by_comm.entry(comm).or_default().push(exe);
        }
        Index {
            by_exe,
            paths_by_comm,
        }
    }

    /// The rules that apply to `process`: those of its path; or, when the path could not be
    /// read, those of its name and of every path the kernel would give that name.
    fn rules_for(&self, process: &Process) -> Vec<&Rules<'b>> {
        let exe = exe_of(process);
        let mut rules: Vec<&Rules<'b>> = self.by_exe.get(exe).into_iter().collect();
        if process.exe.is_none() {
            let paths = self.paths_by_comm.get(process.name.as_bytes());
            rules.extend(
                paths
                    .into_iter()
                    .flatten()
                    .filter_map(|path| self.by_exe.get(path)),
            );
        }
        rules
    }

    fn reasons(&self, process: &Process) -> Vec<UnexpectedReason> {
        let rules = self.rules_for(process);
        let mut reasons = BTreeSet::new();
        let user = user_of(process);
        let uid = process.uid.to_string();
        let runs = rules.iter().flat_map(|r| &r.executables).any(|entry| {
            entry
                .user
                .admits(|allowed| *allowed == *user || *allowed == uid)
        });
        if !runs {
            reasons.insert(UnexpectedReason::Executable {
                exe: exe_of(process).to_owned(),
                user: user.into_owned(),
            });
        }
        for socket in &process.listening {
            let address = unmap(socket.addr);
            if !rules
                .iter()
                .any(|r| r.lists_listening(socket.proto, address, socket.port))
            {
                reasons.insert(UnexpectedReason::Listening {
                    proto: socket.proto,
                    address,
                    port: socket.port,
                });
            }
        }
        for connection in &process.connections {
            let Some((address, port)) = destination(connection) else {
                continue;
            };
            if !rules.iter().any(|r| r.lists_outbound(address, port)) {
                reasons.insert(UnexpectedReason::Outbound {
                    proto: connection.proto,
                    address,
                    port,
                });
            }
        }
        reasons.into_iter().collect()
    }
}

#[cfg(test)]
mod tests;
