//! Socket ownership: which process holds which socket inode, from `/proc/<pid>/fd`.
//!
//! Reading every fd of every process is the expensive part of a snapshot, so results are kept
//! per process (pid + start time) and re-read only for processes that are new or whose fd count
//! changed. When the socket tables show an inode nobody is known to hold, that shortcut has
//! missed something (a dup2 over an fd keeps the count; fd passing moves sockets between
//! processes), and the tick falls back to a full scan. A periodic full scan bounds any drift.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use super::held_fds::{own_fds_outside_the_process_table, SamplerProcFds};
use super::process::ProcessKey;
use super::stat_text::decimal;
use crate::model::{Ownership, RowOwners, SocketEntry};
use rustc_hash::FxHashMap;

/// A full ownership scan happens at least this often, whatever the hints say.
const FULL_SCAN_EVERY: Duration = Duration::from_secs(60);

/// Why the fds of a process could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdScanError {
    /// The process exited: not an error, it simply owns nothing now.
    Gone,
    /// The fd directory exists but may not be read (another user's process, no CAP_SYS_PTRACE).
    Denied,
    /// Anything else, with the system's description.
    Other(String),
}

/// The socket inodes one process holds, and how many of its fd links could not be read.
pub struct FdScan {
    pub sockets: Vec<u64>,
    pub denied_links: u32,
}

/// Lists the socket inodes one process holds.
pub fn socket_inodes(pid: u32) -> Result<FdScan, FdScanError> {
    let path = format!("/proc/{pid}/fd");
    let dir_fd = rustix::fs::open(
        path.as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(classify)?;
    let dir = rustix::fs::Dir::read_from(&dir_fd).map_err(classify)?;
    // Our own fd table holds the process table's /proc files, three per process: skipped by
    // number instead of read (see held_fds), they are never sockets.
    let held_by_sampler = (pid == own_pid()).then(SamplerProcFds::now);
    let mut inodes = Vec::new();
    let mut link = Vec::with_capacity(64);
    let mut denied_links = 0;
    for entry in dir {
        // Errors are per fd: an fd closed between readdir and readlink, or EACCES on one link
        // even though the directory opened. Neither invalidates the other fds.
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if name.to_bytes().starts_with(b".") {
            continue;
        }
        if let Some(held) = &held_by_sampler {
            let number = decimal(name.to_bytes()).and_then(|fd| i32::try_from(fd).ok());
            if number.is_some_and(|fd| held.contains(fd)) {
                continue;
            }
        }
        let target = match rustix::fs::readlinkat(&dir_fd, name, std::mem::take(&mut link)) {
            Ok(target) => target,
            Err(Errno::ACCESS | Errno::PERM) => {
                denied_links += 1;
                continue;
            }
            Err(_) => continue,
        };
        if let Some(inode) = socket_inode(target.as_c_str()) {
            inodes.push(inode);
        }
        link = target.into_bytes_with_nul();
    }
    inodes.sort_unstable();
    inodes.dedup();
    Ok(FdScan {
        sockets: inodes,
        denied_links,
    })
}

/// What tells whether a process's fds may have changed since they were read: its fd count.
/// For wiretop itself, the count of its fds other than the process table's /proc files, which
/// come and go with every process that starts or exits and are never sockets: counted with
/// them, our own thousands of fds would be listed again almost every tick.
fn change_hint(candidate: &FdCandidate, own_fds: Option<u32>) -> Option<u32> {
    if candidate.key.pid == own_pid() {
        own_fds.or(candidate.fd_count)
    } else {
        candidate.fd_count
    }
}

/// This process's pid (a getpid per scanned process otherwise; wiretop never forks without
/// exec'ing).
fn own_pid() -> u32 {
    static PID: OnceLock<u32> = OnceLock::new();
    *PID.get_or_init(std::process::id)
}

fn classify(errno: Errno) -> FdScanError {
    match errno {
        Errno::NOENT | Errno::SRCH => FdScanError::Gone,
        Errno::ACCESS | Errno::PERM => FdScanError::Denied,
        other => FdScanError::Other(std::io::Error::from(other).to_string()),
    }
}

/// Parses the target of an fd link: `socket:[12345]` names a socket inode.
pub fn socket_inode(target: &CStr) -> Option<u64> {
    target
        .to_bytes()
        .strip_prefix(b"socket:[")?
        .strip_suffix(b"]")
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse().ok())
}

/// What one process contributes to the ownership pass.
pub struct FdCandidate {
    pub key: ProcessKey,
    /// Owner uid, when known: a socket's creator uid narrows the search for its owner.
    pub uid: Option<u32>,
    /// Network namespace, when known.
    pub netns: Option<u64>,
    /// Open fd count (from the fd directory's size); None when unreadable.
    pub fd_count: Option<u32>,
}

#[derive(Debug)]
struct CachedFds {
    fd_count: Option<u32>,
    sockets: Vec<u64>,
    /// Fd links that could not be read last time: reported every tick, not only on rescans.
    denied_links: u32,
}

/// The outcome of one ownership pass.
pub struct OwnershipPass {
    pub ownership: Ownership,
    /// The owners of each row of the sockets the pass was given.
    pub row_owners: RowOwners,
    pub full_scan: bool,
    /// Pids whose fds could not be read, with the reason.
    pub unreadable: HashMap<u32, String>,
}

/// Ownership kept between ticks.
#[derive(Debug, Default)]
pub struct OwnershipTracker {
    cache: FxHashMap<ProcessKey, CachedFds>,
    /// Inodes still unowned after the last full scan; their owners are invisible to us, so
    /// seeing them again is no reason for another full scan.
    invisible: HashSet<u64>,
    /// Inodes unexplained in the last pass: looked for only if they are still there next time.
    pending: HashSet<u64>,
    last_full_scan: Option<Instant>,
    /// The table built from `cache`, kept while no process's sockets changed: most ticks
    /// rescan nobody, and rebuilding (and sorting) tens of thousands of pairs would be most of
    /// the pass.
    built: Option<Ownership>,
}

impl OwnershipTracker {
    /// Works out who owns the `sockets` read from the tables. `candidates` are the live
    /// processes that can own fds (kernel threads excluded).
    pub fn pass(&mut self, candidates: &[FdCandidate], sockets: &[SocketEntry]) -> OwnershipPass {
        let due = self
            .last_full_scan
            .is_none_or(|at| at.elapsed() >= FULL_SCAN_EVERY);
        if due {
            return self.full_pass(candidates, sockets);
        }

        let live: HashSet<ProcessKey> = candidates.iter().map(|c| c.key).collect();
        let mut exited_with_sockets = false;
        self.cache.retain(|key, cached| {
            let keep = live.contains(key);
            exited_with_sockets |= !keep && !cached.sockets.is_empty();
            keep
        });
        if exited_with_sockets {
            self.built = None;
        }
        let own_fds = own_fds_outside_the_process_table();
        let mut unreadable = HashMap::new();
        let mut rescanned = HashSet::new();
        for candidate in candidates {
            let fd_count = change_hint(candidate, own_fds);
            let unchanged = self
                .cache
                .get(&candidate.key)
                .is_some_and(|cached| cached.fd_count == fd_count && fd_count.is_some());
            if !unchanged {
                self.rescan(candidate, fd_count, &mut unreadable);
                rescanned.insert(candidate.key);
            }
        }
        let mut ownership = self.ownership();
        let mut row_owners = ownership.owners_of_rows(sockets);
        // A socket no changed process explains (its owner dup2'd over an fd, or opened one
        // socket and closed another) gets one tick's grace: under connection churn most such
        // sockets are gone by the next tick, and chasing each one would mean a full scan every
        // tick. One still unexplained a tick later is looked for, first among processes of its
        // creator's uid and namespace, then everywhere.
        let unexplained: HashSet<u64> = self.unexplained(sockets, &row_owners).collect();
        let persistent: Vec<&SocketEntry> = sockets
            .iter()
            .filter(|s| unexplained.contains(&s.inode) && self.pending.contains(&s.inode))
            .collect();
        self.pending = unexplained;
        if !persistent.is_empty() {
            let suspects: HashSet<(Option<u64>, u32)> =
                persistent.iter().map(|s| (s.netns, s.uid)).collect();
            for candidate in candidates {
                let suspect = candidate
                    .uid
                    .is_some_and(|uid| suspects.contains(&(candidate.netns, uid)));
                if suspect && !rescanned.contains(&candidate.key) {
                    self.rescan(candidate, change_hint(candidate, own_fds), &mut unreadable);
                }
            }
            ownership = self.ownership();
            row_owners = ownership.owners_of_rows(sockets);
            let still: HashSet<u64> = self.unexplained(sockets, &row_owners).collect();
            if persistent.iter().any(|s| still.contains(&s.inode)) {
                return self.full_pass(candidates, sockets);
            }
            self.pending.retain(|inode| !ownership.is_owned(*inode));
        }
        self.report_denied_links(&mut unreadable);
        OwnershipPass {
            ownership,
            row_owners,
            full_scan: false,
            unreadable,
        }
    }

    /// The inodes of `sockets` that no cached process holds and that were not already
    /// ownerless after the last full scan (each row's owners from `row_owners`).
    fn unexplained<'s>(
        &'s self,
        sockets: &'s [SocketEntry],
        row_owners: &'s RowOwners,
    ) -> impl Iterator<Item = u64> + 's {
        sockets
            .iter()
            .enumerate()
            .filter(move |(row, socket)| {
                socket.inode != 0
                    && !row_owners.is_repeat(*row)
                    && !row_owners.is_owned(*row)
                    && !self.invisible.contains(&socket.inode)
            })
            .map(|(_, socket)| socket.inode)
    }

    fn full_pass(&mut self, candidates: &[FdCandidate], sockets: &[SocketEntry]) -> OwnershipPass {
        self.cache.clear();
        self.built = None;
        let own_fds = own_fds_outside_the_process_table();
        let mut unreadable = HashMap::new();
        for candidate in candidates {
            self.rescan(candidate, change_hint(candidate, own_fds), &mut unreadable);
        }
        let ownership = self.ownership();
        let row_owners = ownership.owners_of_rows(sockets);
        self.invisible.clear();
        let invisible = self.unexplained(sockets, &row_owners).collect();
        self.invisible = invisible;
        self.last_full_scan = Some(Instant::now());
        self.pending.clear();
        self.report_denied_links(&mut unreadable);
        OwnershipPass {
            ownership,
            row_owners,
            full_scan: true,
            unreadable,
        }
    }

    /// Reads the fds of `candidate` again; `fd_count` is what the next pass compares.
    fn rescan(
        &mut self,
        candidate: &FdCandidate,
        fd_count: Option<u32>,
        unreadable: &mut HashMap<u32, String>,
    ) {
        match socket_inodes(candidate.key.pid) {
            Ok(scan) => {
                let same = self
                    .cache
                    .get(&candidate.key)
                    .is_some_and(|cached| cached.sockets == scan.sockets);
                if !same {
                    self.built = None;
                }
                self.cache.insert(
                    candidate.key,
                    CachedFds {
                        fd_count,
                        sockets: scan.sockets,
                        denied_links: scan.denied_links,
                    },
                );
            }
            Err(FdScanError::Gone) => self.forget(&candidate.key),
            Err(FdScanError::Denied) => {
                self.forget(&candidate.key);
                unreadable.insert(candidate.key.pid, "permission denied".to_owned());
            }
            Err(FdScanError::Other(reason)) => {
                self.forget(&candidate.key);
                unreadable.insert(candidate.key.pid, reason);
            }
        }
    }

    fn forget(&mut self, key: &ProcessKey) {
        if self
            .cache
            .remove(key)
            .is_some_and(|c| !c.sockets.is_empty())
        {
            self.built = None;
        }
    }

    /// Adds the partly unreadable fd tables of cached processes to `unreadable`.
    fn report_denied_links(&self, unreadable: &mut HashMap<u32, String>) {
        for (key, cached) in &self.cache {
            if cached.denied_links > 0 {
                unreadable.insert(
                    key.pid,
                    format!("permission denied on {} fd links", cached.denied_links),
                );
            }
        }
    }

    /// The table of the cached processes' sockets: the one built before unless a process's
    /// sockets changed since.
    fn ownership(&mut self) -> Ownership {
        let cache = &self.cache;
        self.built
            .get_or_insert_with(|| {
                let pairs = cache
                    .iter()
                    .flat_map(|(key, cached)| cached.sockets.iter().map(|inode| (*inode, key.pid)))
                    .collect();
                Ownership::from_pairs(pairs)
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support;
    use super::*;

    #[test]
    fn socket_link_targets_parse_and_others_do_not() {
        assert_eq!(socket_inode(c"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(c"pipe:[12345]"), None);
        assert_eq!(socket_inode(c"/dev/null"), None);
        assert_eq!(socket_inode(c"socket:[]"), None);
        assert_eq!(socket_inode(c"socket:[12"), None);
    }

    #[test]
    fn own_socket_is_found_among_own_fds() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let inodes = socket_inodes(std::process::id()).unwrap().sockets;
        use std::os::fd::AsRawFd;
        let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
        let expected = socket_inode(
            &std::ffi::CString::new(link.into_os_string().into_encoded_bytes()).unwrap(),
        );
        assert!(inodes.contains(&expected.unwrap()));
    }

    /// The skip that keeps our own scan cheap, shown on an fd it would be wrong to skip: a
    /// socket registered as a held /proc file is not read, and the same socket unregistered is.
    #[test]
    fn own_fds_registered_by_the_process_table_are_not_read() {
        use std::os::fd::{AsFd, AsRawFd, OwnedFd};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd())).unwrap();
        let inode = socket_inode(
            &std::ffi::CString::new(link.into_os_string().into_encoded_bytes()).unwrap(),
        )
        .unwrap();
        let registered = super::super::held_fds::ProcFd::new(OwnedFd::from(listener));
        let scanned = socket_inodes(std::process::id()).unwrap().sockets;
        assert!(!scanned.contains(&inode), "a registered fd was read");
        let plain = registered.as_fd().try_clone_to_owned().unwrap();
        let scanned = socket_inodes(std::process::id()).unwrap().sockets;
        assert!(
            scanned.contains(&inode),
            "fd {} was skipped",
            plain.as_raw_fd()
        );
    }

    /// Alone in a child process: our own fd table is what this is about.
    #[test]
    fn process_table_files_coming_and_going_do_not_make_us_read_our_fds_again() {
        use std::os::fd::OwnedFd;
        if !test_support::in_child() {
            let printed = test_support::run_in_child(
                module_path!(),
                "process_table_files_coming_and_going_do_not_make_us_read_our_fds_again",
            );
            assert!(printed.contains("own fds:"), "{printed}");
            return;
        }
        if own_fds_outside_the_process_table().is_none() {
            println!("own fds: this kernel (before 6.2) does not count them; nothing to test");
            return;
        }
        let mut tracker = OwnershipTracker::default();
        let spare = std::fs::File::open("/dev/null").unwrap();
        assert!(tracker.pass(&[me()], &[]).full_scan);

        // A socket in place of a plain fd: as many fds outside the process table as before...
        drop(spare);
        let unnoticed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        // ...while the process table opens a file, as it does for each new process.
        let held = super::super::held_fds::ProcFd::new(OwnedFd::from(
            std::fs::File::open("/proc/self/stat").unwrap(),
        ));
        let pass = tracker.pass(&[me()], &[]);
        assert!(!pass.full_scan);
        assert!(
            !pass.ownership.is_owned(inode_of(&unnoticed)),
            "our fds were read again for a file of the process table"
        );

        // One fd more outside it: read again.
        let noticed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pass = tracker.pass(&[me()], &[]);
        assert!(pass.ownership.is_owned(inode_of(&noticed)));
        assert!(pass.ownership.is_owned(inode_of(&unnoticed)));
        drop(held);
        println!("own fds: read again only when those outside the process table changed");
    }

    fn me() -> FdCandidate {
        let handle = procfs::process::Process::myself().unwrap();
        FdCandidate {
            key: ProcessKey {
                pid: std::process::id(),
                start_ticks: handle.stat().unwrap().starttime,
            },
            uid: Some(nix::unistd::geteuid().as_raw()),
            netns: Some(1),
            fd_count: handle.fd_count().ok().map(|n| n as u32),
        }
    }

    fn socket(inode: u64, uid: u32) -> SocketEntry {
        SocketEntry {
            netns: Some(1),
            proto: crate::model::Proto::Tcp,
            local: "127.0.0.1:1".parse().unwrap(),
            remote: "0.0.0.0:0".parse().unwrap(),
            state: crate::model::SocketState::Listen,
            inode,
            uid,
            counters: None,
        }
    }

    fn inode_of(fd: &impl std::os::fd::AsRawFd) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        let link = std::ffi::CString::new(link.into_os_string().into_encoded_bytes()).unwrap();
        socket_inode(&link).unwrap()
    }

    #[test]
    fn socket_dup2ed_over_an_fd_is_found_without_a_full_scan() {
        let uid = nix::unistd::geteuid().as_raw();
        let first = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut tracker = OwnershipTracker::default();
        let pass = tracker.pass(&[me()], &[socket(inode_of(&first), uid)]);
        assert!(pass.full_scan, "the first pass reads everything");
        assert_eq!(
            pass.ownership.owners(inode_of(&first)),
            &[std::process::id()]
        );

        // Replace the socket behind `first`'s fd: the fd count is unchanged.
        let second = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let second_inode = inode_of(&second);
        let mut first = std::os::fd::OwnedFd::from(first);
        nix::unistd::dup2(&second, &mut first).unwrap();
        drop(second);
        let pass = tracker.pass(&[me()], &[socket(second_inode, uid)]);
        assert!(
            !pass.full_scan,
            "one tick's grace: it may be a short-lived socket"
        );
        let pass = tracker.pass(&[me()], &[socket(second_inode, uid)]);
        assert_eq!(pass.ownership.owners(second_inode), &[std::process::id()]);
        assert!(
            !pass.full_scan,
            "found through the creator's uid, not a full scan"
        );
    }

    #[test]
    fn ownerless_socket_causes_one_full_scan_not_one_per_tick() {
        let mut tracker = OwnershipTracker::default();
        let stranger = socket(u64::MAX - 7, 54_321);
        assert!(
            tracker
                .pass(&[me()], std::slice::from_ref(&stranger))
                .full_scan
        );
        let again = tracker.pass(&[me()], std::slice::from_ref(&stranger));
        assert!(
            !again.full_scan,
            "known to be invisible after the last full scan"
        );
        assert!(!again.ownership.is_owned(stranger.inode));
    }

    #[test]
    fn vanished_process_is_gone_not_an_error() {
        // pid_max is at most 4194304, so this pid cannot exist.
        assert!(matches!(socket_inodes(4_194_305), Err(FdScanError::Gone)));
    }
}
