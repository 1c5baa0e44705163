//! The descriptors the sampler keeps open on /proc between passes: how many it may hold, and
//! which they are.
//!
//! Holding a process's /proc files open turns its per-pass reads into a few preads, but it
//! makes wiretop's own fd table as large as the process table (four fds a process). Three
//! things follow:
//! * The fd limit. The soft RLIMIT_NOFILE is raised to the hard limit once, when the first
//!   sampler starts ([`FdBudget::new`]), and the process table holds at most a budget of fds
//!   that leaves room for everything else wiretop opens (sock_diag sockets, one per network
//!   namespace; the uplink's connections; the terminal). When fds run out anyway, the budget
//!   shrinks and processes beyond it are read with open-read-close, as they were before.
//! * Kernel memory. A held stat or io file keeps the 4 KiB buffer of its first read: about
//!   9 KiB a process with the file structures, charged to wiretop's memory cgroup (the
//!   shipper's unit caps it at 192 MiB). At most [`MAX_HELD_PROCESSES`] are held, whatever the
//!   fd limit allows.
//! * The ownership scan lists and reads the link of every fd of every process whose fd count
//!   changed, and wiretop's own count changes whenever a process starts or exits: listing and
//!   reading thousands of links that name /proc files would cost more than holding them saves.
//!   So every fd opened here is registered for as long as it is open; the scan compares our own
//!   count without them, and skips them when it does read our fds.

use std::collections::BTreeSet;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::{Mutex, Once, PoisonError};

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// The fd numbers of open [`ProcFd`]s, in every sampler of this process.
static REGISTERED: Mutex<BTreeSet<RawFd>> = Mutex::new(BTreeSet::new());

fn registered() -> std::sync::MutexGuard<'static, BTreeSet<RawFd>> {
    // A panic elsewhere while the lock was held leaves a set that is still a set.
    REGISTERED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An fd of a /proc file or directory opened by the sampler (or the process events reader),
/// registered while it is open.
///
/// Opened and closed with the registry locked ([`ProcFd::open`], `Drop`), so that whoever
/// counts our fds under the same lock ([`own_fds_outside_the_process_table`]) sees every /proc
/// file either open and registered or neither: the process events reader opens a new
/// process's files on its own thread as the process execs, and a count taken between its open
/// and its registration would pass for a change of our sockets.
#[derive(Debug)]
pub struct ProcFd(Option<OwnedFd>);

impl ProcFd {
    /// Registers an fd opened before (tests: files no other thread counts at that moment).
    #[cfg(test)]
    pub fn new(fd: OwnedFd) -> Self {
        registered().insert(fd.as_raw_fd());
        ProcFd(Some(fd))
    }

    /// Opens a /proc file with `open` and registers it, both under the registry's lock.
    pub fn open<E>(open: impl FnOnce() -> Result<OwnedFd, E>) -> Result<Self, E> {
        let mut registry = registered();
        let fd = open()?;
        registry.insert(fd.as_raw_fd());
        Ok(ProcFd(Some(fd)))
    }
}

impl Drop for ProcFd {
    fn drop(&mut self) {
        // Unregistered and closed under the lock: a number in the set always names a /proc
        // file of ours, never a socket that reused the number, and a count under the lock
        // never sees the fd closed but registered, or open but not.
        let mut registry = registered();
        if let Some(fd) = self.0.take() {
            registry.remove(&fd.as_raw_fd());
            drop(fd);
        }
    }
}

impl AsFd for ProcFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.0 {
            Some(fd) => fd.as_fd(),
            // Only `Drop` takes the fd out, and nothing can borrow a value being dropped.
            None => unreachable!("a ProcFd is borrowed only while it holds its fd"),
        }
    }
}

/// This process's open fds that are not /proc files of ours, counted now, under the registry's
/// lock (see [`ProcFd`]); None where the kernel does not count fds in the fd directory's size
/// (before 6.2).
pub fn own_fds_outside_the_process_table() -> Option<u32> {
    let registry = registered();
    let size = rustix::fs::stat("/proc/self/fd").ok()?.st_size;
    let total = u64::try_from(size).ok().filter(|n| *n > 0)?;
    let held = u64::try_from(registry.len()).ok()?;
    u32::try_from(total.saturating_sub(held)).ok()
}

/// The fds of this process that are /proc files the sampler holds (never sockets), as they
/// are while this lives: it keeps them from being opened or closed.
pub struct SamplerProcFds(std::sync::MutexGuard<'static, BTreeSet<RawFd>>);

impl SamplerProcFds {
    pub fn now() -> Self {
        SamplerProcFds(registered())
    }

    pub fn contains(&self, fd: RawFd) -> bool {
        self.0.contains(&fd)
    }
}

/// How many fds of this process are /proc files the sampler holds.
pub fn sampler_proc_fd_count() -> usize {
    registered().len()
}

/// Fds held for each process: its /proc directory, stat, io and fd directory. Kernel threads
/// and processes whose io or fds may not be read need fewer; counting four for every one keeps
/// the arithmetic simple and errs on the side of headroom.
pub const FDS_PER_PROCESS: usize = 4;

/// Processes whose files are held at most: about 72 MiB of kernel memory on a host with that
/// many processes. Above it, the rest are read with open-read-close, so the cost per process
/// steps up there; 8,192 keeps a 5,000-process host (the scale the speed targets are measured
/// at) below the step, and the shipper's unit (MemoryMax, assets/wiretop.service) has room for
/// it next to the sampler's own memory.
pub const MAX_HELD_PROCESSES: usize = 8192;

/// The fds kept free for the rest of wiretop: at least this many...
const RESERVED_AT_LEAST: u64 = 1024;
/// ...and at least this fraction of the limit.
const RESERVED_DIVISOR: u64 = 4;

/// How many fds the process table may hold.
#[derive(Debug)]
pub struct FdBudget {
    limit: usize,
    /// Shared with the other samplers of this process (see [`room_in_this_process`]); a
    /// budget of a fixed size is the table's alone.
    process_wide: bool,
}

impl FdBudget {
    /// A budget under this process's fd limit, raised first (once per process), and under
    /// [`MAX_HELD_PROCESSES`].
    pub fn new() -> Self {
        let limit = holdable(raise_fd_limit()).min(MAX_HELD_PROCESSES * FDS_PER_PROCESS);
        FdBudget {
            limit,
            process_wide: true,
        }
    }

    /// A budget of `limit` fds, whatever the fd limit.
    #[cfg(test)]
    pub fn with_limit(limit: usize) -> Self {
        FdBudget {
            limit,
            process_wide: false,
        }
    }

    /// Whether the files of one more process fit next to those of `held` processes.
    pub fn has_room(&self, held: usize) -> bool {
        (held + 1) * FDS_PER_PROCESS <= self.limit && (!self.process_wide || room_in_this_process())
    }

    /// The process ran out of fds while `held` processes' files were held: from now on hold
    /// a quarter fewer, so that what failed (here or elsewhere in wiretop) finds room. Returns
    /// how many processes' files to close.
    pub fn shrink(&mut self, held: usize) -> usize {
        let keep = held * 3 / 4;
        self.limit = keep * FDS_PER_PROCESS;
        held - keep
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Whether the files of one more process fit in this process's share of fds for /proc files,
/// counting what every sampler in it holds: a test or a benchmark runs several samplers at
/// once, and each one's own budget alone would let them take every fd together. The share is
/// taken from the fd limit in force (not raised here: the first sampler raised it already,
/// and whoever lowered it since meant it).
fn room_in_this_process() -> bool {
    let share = holdable(getrlimit(Resource::Nofile).current);
    sampler_proc_fd_count() + FDS_PER_PROCESS <= share
}

/// The fds the process table may hold under a soft limit of `soft` (None: unlimited).
fn holdable(soft: Option<u64>) -> usize {
    // The kernel caps RLIMIT_NOFILE at fs.nr_open (2^20 by default); "unlimited" is not a
    // value it reports for this resource, but a cap keeps the arithmetic honest if it did.
    let soft = soft.unwrap_or(1 << 20);
    let reserved = (soft / RESERVED_DIVISOR).max(RESERVED_AT_LEAST);
    usize::try_from(soft.saturating_sub(reserved)).unwrap_or(usize::MAX)
}

/// Raises the soft RLIMIT_NOFILE to the hard limit, once per process (at the first sampler's
/// start), and returns the soft limit in force. Soft limits stay low by default only for
/// programs that still use select(2), which wiretop does not (mio and tokio use epoll), and
/// wiretop starts no children that could inherit the raised limit.
fn raise_fd_limit() -> Option<u64> {
    static RAISE: Once = Once::new();
    RAISE.call_once(|| {
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!("could not raise RLIMIT_NOFILE to its hard limit: {e}");
            }
        }
    });
    getrlimit(Resource::Nofile).current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_a_quarter_and_at_least_1024_fds() {
        assert_eq!(holdable(Some(1024)), 0);
        assert_eq!(holdable(Some(2048)), 1024);
        assert_eq!(holdable(Some(4096)), 3072);
        assert_eq!(holdable(Some(1 << 20)), 3 << 18);
        assert_eq!(holdable(None), 3 << 18);
    }

    #[test]
    fn budget_holds_at_most_the_capped_number_of_processes() {
        let budget = FdBudget::new();
        assert!(budget.limit() <= MAX_HELD_PROCESSES * FDS_PER_PROCESS);
        assert!(!budget.has_room(MAX_HELD_PROCESSES));
    }

    #[test]
    fn budget_counts_whole_processes_and_shrinks_by_a_quarter() {
        let mut budget = FdBudget::with_limit(3 * FDS_PER_PROCESS + 1);
        assert!(budget.has_room(0));
        assert!(budget.has_room(2));
        assert!(
            !budget.has_room(3),
            "a fourth process needs more fds than there are"
        );
        assert_eq!(budget.shrink(3), 1, "3 processes held, 2 kept");
        assert_eq!(budget.limit(), 2 * FDS_PER_PROCESS);
        assert!(!budget.has_room(2), "the shrunk limit holds");
        assert!(budget.has_room(1));
    }

    #[test]
    fn registration_lasts_as_long_as_the_fd() {
        let fd = ProcFd::new(OwnedFd::from(
            std::fs::File::open("/proc/self/stat").unwrap(),
        ));
        let number = fd.as_fd().as_raw_fd();
        assert!(SamplerProcFds::now().contains(number));
        drop(fd);
        // The lowest free number is the one just closed (unless a test on another thread took
        // it first): a plain file there must not pass for one of ours.
        let plain = std::fs::File::open("/proc/self/stat").unwrap();
        assert!(
            !SamplerProcFds::now().contains(plain.as_raw_fd()),
            "fd {number} closed"
        );
    }
}
