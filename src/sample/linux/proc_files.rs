//! Every process's per-pass figures, from its /proc files kept open between passes.
//!
//! A process seen before costs, per pass: an fstat of its /proc directory (the owner), a pread
//! of its stat and of its io, and an fstat of its fd directory (the fd count); one getdents of
//! /proc lists the pids. The opens are paid once in a process's life instead of every pass.
//!
//! A held file never reads another process: /proc/<pid> is bound to the process (the kernel's
//! struct pid), not to its number. Once the process is reaped its held files read ESRCH, even
//! after a new process got the same pid (a test below makes that happen); that failure is what
//! makes the table let the files go and open the pid's again.
//!
//! The owner is read before the stat: a reaped process's /proc directory reports uid 0, held
//! open or not, and a process reaped before its stat is read is skipped, so reading in this
//! order never lists an exiting process as root's.
//!
//! Processes beyond the fd budget ([`FdBudget`]) are read with open-read-close, and so is
//! every process once fds run out: a pass never fails for want of fds.

use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd};

use rustc_hash::FxHashMap;
use rustix::fs::{AtFlags, Mode, OFlags, RawDir, SeekFrom};
use rustix::io::Errno;

use super::held_fds::{FdBudget, ProcFd};
use super::process::{Field, ProcessKey, ProcessReading};
use super::stat_text::{decimal, parse_io, parse_stat};
use crate::model::ProcessState;
use crate::sample::SampleError;

/// PF_KTHREAD in include/linux/sched.h.
const PF_KTHREAD: u32 = 0x0020_0000;

/// Longer than any stat line (52 numbers and a 64-byte kernel thread name) or io text.
const TEXT_BUFFER: usize = 4096;
/// Room for about a thousand /proc entries per getdents call.
const DIRENT_BUFFER: usize = 32 * 1024;

/// One process as the table read it this pass.
pub struct ProcessSeen<'a> {
    /// Its /proc directory: details read through it come from this process, whatever its pid
    /// is by then.
    pub dir: BorrowedFd<'a>,
    /// Its name as the kernel has it: any bytes but NUL.
    pub comm: &'a [u8],
    /// Its figures, with `name` left empty for the caller.
    pub reading: ProcessReading,
}

/// The /proc files of every process, kept open between passes within a budget of fds.
pub struct ProcFilesCache {
    /// /proc itself, listed again every pass.
    root: Option<ProcFd>,
    held: Holdings,
    /// Which pass this is, to let go of the files of processes no pass sees any more.
    pass: u64,
    pids: Vec<u32>,
    scratch: Scratch,
}

/// The processes whose files are held, and the budget they are held under.
struct Holdings {
    by_pid: FxHashMap<u32, Held>,
    budget: FdBudget,
    /// Processes this pass could not read even with every held file it could close: fds are
    /// exhausted by something else (here or system-wide).
    unread_for_want_of_fds: usize,
}

struct Held {
    files: ProcFiles,
    /// The last pass that read the process.
    seen: u64,
}

/// One process's open /proc files.
#[derive(Debug)]
struct ProcFiles {
    dir: ProcFd,
    stat: ProcFd,
    /// None for kernel threads, and while it may not be opened (another user's process).
    io: Option<ProcFd>,
    /// The fd directory, whose size is the fd count (Linux >= 6.2): an fstat of it held open
    /// costs a third of a stat through its path, which looks the name up every time.
    fds: FdDir,
}

/// Whether a process's fd directory is held open.
#[derive(Debug)]
enum FdDir {
    /// Not opened yet (kernel threads never are).
    NotTried,
    Held(ProcFd),
    /// It may not be opened (another user's process, unprivileged; an older kernel whose
    /// directory size counts nothing): its count is read through its path, as before.
    ThroughPath,
}

/// Buffers reused by every read.
struct Scratch {
    stat: Vec<u8>,
    io: Vec<u8>,
    dirents: Vec<MaybeUninit<u8>>,
    /// A process's fd directory has shown a size: this kernel (>= 6.2) counts fds there, so a
    /// size of 0 means no fds (a zombie's) rather than "not counted".
    fd_dir_sizes_count: bool,
}

/// Why a process could not be read.
#[derive(Debug)]
enum ReadError {
    /// It has exited. For held files: the pid, if listed, is another process's now.
    Gone,
    /// This process is out of fds (EMFILE), or the system is (ENFILE).
    OutOfFds,
    /// Anything else: the process is skipped, as one with an unreadable stat always was.
    Unreadable,
}

impl From<Errno> for ReadError {
    fn from(errno: Errno) -> Self {
        match errno {
            Errno::NOENT | Errno::SRCH => ReadError::Gone,
            Errno::MFILE | Errno::NFILE => ReadError::OutOfFds,
            _ => ReadError::Unreadable,
        }
    }
}

impl Default for ProcFilesCache {
    fn default() -> Self {
        ProcFilesCache::new()
    }
}

impl ProcFilesCache {
    /// A table that holds what fits under this process's fd limit (raised first).
    pub fn new() -> Self {
        ProcFilesCache::with_budget(FdBudget::new())
    }

    fn with_budget(budget: FdBudget) -> Self {
        ProcFilesCache {
            root: None,
            held: Holdings {
                by_pid: FxHashMap::default(),
                budget,
                unread_for_want_of_fds: 0,
            },
            pass: 0,
            pids: Vec::new(),
            scratch: Scratch {
                stat: vec![0; TEXT_BUFFER],
                io: vec![0; TEXT_BUFFER],
                dirents: vec![MaybeUninit::uninit(); DIRENT_BUFFER],
                fd_dir_sizes_count: false,
            },
        }
    }

    /// Reads every process in /proc, ascending by pid, and hands each to `each`. Processes that
    /// exit while being read are left out, as if they had exited before.
    pub fn read_all(&mut self, mut each: impl FnMut(ProcessSeen<'_>)) -> Result<(), SampleError> {
        self.pass += 1;
        // Taken out while in use, so that a failed listing closes it and the next pass opens
        // /proc again.
        let root = match self.root.take() {
            Some(root) => root,
            None => open_proc_root()?,
        };
        list_pids(root.as_fd(), &mut self.scratch.dirents, &mut self.pids)?;
        for &pid in &self.pids {
            let read = self
                .held
                .read_held(pid, self.pass, &mut self.scratch, &mut each);
            if !read {
                self.held
                    .read_fresh(root.as_fd(), pid, self.pass, &mut self.scratch, &mut each);
            }
        }
        self.held.let_go_of_unseen(self.pass);
        self.root = Some(root);
        let unread = std::mem::take(&mut self.held.unread_for_want_of_fds);
        if unread > 0 {
            tracing::warn!("{unread} processes not read: out of file descriptors");
        }
        Ok(())
    }
}

impl Holdings {
    /// Reads `pid` through the files held for it. False when none are held, or when they
    /// belong to a process that has gone (the files are let go).
    fn read_held(
        &mut self,
        pid: u32,
        pass: u64,
        scratch: &mut Scratch,
        each: &mut impl FnMut(ProcessSeen<'_>),
    ) -> bool {
        let Some(held) = self.by_pid.get_mut(&pid) else {
            return false;
        };
        match read_figures(&mut held.files, pid, scratch) {
            Ok(seen) => {
                held.seen = pass;
                each(seen.with_dir(held.files.dir.as_fd()));
                true
            }
            Err(ReadError::OutOfFds) => {
                // Only io is opened here (for a process whose io could not be opened before),
                // or the fd directory before Linux 6.2: read with fresh files after making room.
                self.shrink();
                self.let_go(pid);
                false
            }
            Err(ReadError::Gone | ReadError::Unreadable) => {
                self.let_go(pid);
                false
            }
        }
    }

    /// Opens and reads `pid`, and keeps its files if the budget allows. Out of fds, it makes
    /// room and tries once more with files it does not keep.
    fn read_fresh(
        &mut self,
        root: BorrowedFd<'_>,
        pid: u32,
        pass: u64,
        scratch: &mut Scratch,
        each: &mut impl FnMut(ProcessSeen<'_>),
    ) {
        for attempt in 0..2 {
            let mut files = match ProcFiles::open(root, pid) {
                Ok(files) => files,
                Err(ReadError::OutOfFds) if attempt == 0 => {
                    self.shrink();
                    continue;
                }
                Err(ReadError::OutOfFds) => {
                    self.unread_for_want_of_fds += 1;
                    return;
                }
                Err(ReadError::Gone | ReadError::Unreadable) => return,
            };
            match read_figures(&mut files, pid, scratch) {
                Ok(seen) => {
                    each(seen.with_dir(files.dir.as_fd()));
                    if attempt == 0 && self.budget.has_room(self.by_pid.len()) {
                        self.by_pid.insert(pid, Held { files, seen: pass });
                    }
                    return;
                }
                Err(ReadError::OutOfFds) if attempt == 0 => {
                    drop(files);
                    self.shrink();
                }
                Err(ReadError::OutOfFds) => {
                    self.unread_for_want_of_fds += 1;
                    return;
                }
                Err(ReadError::Gone | ReadError::Unreadable) => return,
            }
        }
    }

    fn let_go(&mut self, pid: u32) {
        self.by_pid.remove(&pid);
    }

    /// Out of fds: closes a quarter of the held files and holds no more than what is left.
    fn shrink(&mut self) {
        let count = self.budget.shrink(self.by_pid.len());
        let victims: Vec<u32> = self.by_pid.keys().copied().take(count).collect();
        for pid in victims {
            self.by_pid.remove(&pid);
        }
        tracing::warn!(
            "out of file descriptors: the process table now holds at most {} (closed the \
             files of {count} processes; the rest are read with open-read-close)",
            self.budget.limit()
        );
    }

    /// Closes the files of processes this pass did not see: they have exited.
    fn let_go_of_unseen(&mut self, pass: u64) {
        self.by_pid.retain(|_, held| held.seen == pass);
    }
}

impl ProcFiles {
    /// Opens `/proc/<pid>` and its stat; io is opened when first read.
    fn open(root: BorrowedFd<'_>, pid: u32) -> Result<ProcFiles, ReadError> {
        let dir = ProcFd::open(|| {
            rustix::fs::openat(
                root,
                pid.to_string(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        })?;
        let stat = ProcFd::open(|| open_file(dir.as_fd(), "stat"))?;
        Ok(ProcFiles {
            dir,
            stat,
            io: None,
            fds: FdDir::NotTried,
        })
    }
}

fn open_file(dir: BorrowedFd<'_>, name: &str) -> Result<std::os::fd::OwnedFd, Errno> {
    rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
}

fn open_proc_root() -> Result<ProcFd, SampleError> {
    ProcFd::open(|| {
        rustix::fs::open(
            "/proc",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    })
    .map_err(|e| proc_error(e.into()))
}

fn proc_error(error: std::io::Error) -> SampleError {
    SampleError::Host {
        what: "/proc",
        reason: error.to_string(),
    }
}

/// Every pid in /proc, ascending, into `pids`: one getdents pass over the open directory.
fn list_pids(
    root: BorrowedFd<'_>,
    buffer: &mut [MaybeUninit<u8>],
    pids: &mut Vec<u32>,
) -> Result<(), SampleError> {
    pids.clear();
    rustix::fs::seek(root, SeekFrom::Start(0)).map_err(|e| proc_error(e.into()))?;
    let mut entries = RawDir::new(root, buffer);
    while let Some(entry) = entries.next() {
        let entry = entry.map_err(|e| proc_error(e.into()))?;
        let pid = decimal(entry.file_name().to_bytes()).and_then(|n| u32::try_from(n).ok());
        pids.extend(pid);
    }
    // The kernel lists pids in ascending order already: this is one pass over them.
    pids.sort_unstable();
    Ok(())
}

/// The figures of one process, its name borrowed from the stat text just read.
struct Figures<'t> {
    comm: &'t [u8],
    reading: ProcessReading,
}

impl<'t> Figures<'t> {
    fn with_dir(self, dir: BorrowedFd<'t>) -> ProcessSeen<'t> {
        ProcessSeen {
            dir,
            comm: self.comm,
            reading: self.reading,
        }
    }
}

/// Reads one process through its files: owner, stat, then (not for kernel threads, which do
/// no file I/O of their own and hold no fds) io and the fd count.
fn read_figures<'t>(
    files: &mut ProcFiles,
    pid: u32,
    scratch: &'t mut Scratch,
) -> Result<Figures<'t>, ReadError> {
    let uid = rustix::fs::fstat(&files.dir).ok().map(|stat| stat.st_uid);
    let text = match read_text(&files.stat, &mut scratch.stat)? {
        Text::Read(text) => text,
        Text::Empty => return Err(ReadError::Gone),
        Text::TooLong => return Err(ReadError::Unreadable),
    };
    let stat = parse_stat(text).ok_or(ReadError::Unreadable)?;
    if stat.pid != pid {
        return Err(ReadError::Unreadable);
    }
    let kernel_thread = stat.flags & PF_KTHREAD != 0;
    let (io, fd_count) = if kernel_thread {
        (Field::Read((0, 0)), Field::Read(0))
    } else {
        (
            read_io(files, &mut scratch.io)?,
            fd_count(files, &mut scratch.dirents, &mut scratch.fd_dir_sizes_count)?,
        )
    };
    let reading = ProcessReading {
        key: ProcessKey {
            pid,
            start_ticks: stat.start_ticks,
        },
        ppid: stat.ppid,
        name: String::new(),
        state: ProcessState::from_letter(char::from(stat.state)),
        kernel_thread,
        threads: stat.threads,
        utime_ticks: stat.utime_ticks,
        stime_ticks: stat.stime_ticks,
        priority: stat.priority,
        nice: stat.nice,
        virtual_bytes: stat.virtual_bytes,
        rss_pages: stat.rss_pages,
        uid,
        io,
        fd_count,
    };
    Ok(Figures {
        comm: stat.comm,
        reading,
    })
}

/// What a read of a whole /proc text file came to.
enum Text<'b> {
    Read(&'b [u8]),
    /// No bytes at all: the process has gone (some kernels read a dead process's held file as
    /// empty instead of failing).
    Empty,
    /// Filled the buffer: cut short, not a text this module knows.
    TooLong,
}

/// The whole of a /proc text file, read from its start.
fn read_text<'b>(file: &ProcFd, buffer: &'b mut [u8]) -> Result<Text<'b>, Errno> {
    Ok(match rustix::io::pread(file, &mut *buffer, 0)? {
        0 => Text::Empty,
        n if n == buffer.len() => Text::TooLong,
        n => Text::Read(&buffer[..n]),
    })
}

/// Bytes read from and written to storage. Only running out of fds is an error: anything else
/// is this field's outcome. The io file is opened on first use, and again every pass while it
/// may not be (its permission follows the process's credentials, which can change).
fn read_io(files: &mut ProcFiles, buffer: &mut [u8]) -> Result<Field<(u64, u64)>, ReadError> {
    let io = match &files.io {
        Some(io) => io,
        None => match ProcFd::open(|| open_file(files.dir.as_fd(), "io")) {
            Ok(io) => files.io.insert(io),
            Err(Errno::MFILE | Errno::NFILE) => return Err(ReadError::OutOfFds),
            Err(errno) => return Ok(Field::from_io(Err(errno.into()))),
        },
    };
    let unexpected = || Field::Unreadable("unexpected content".to_owned());
    Ok(match read_text(io, buffer) {
        Ok(Text::Read(text)) => parse_io(text).map_or_else(unexpected, Field::Read),
        Ok(Text::Empty) => Field::Gone,
        Ok(Text::TooLong) => unexpected(),
        Err(errno) => Field::from_io(Err(errno.into())),
    })
}

/// Open fds: the fd directory's size on kernels >= 6.2 (through the directory held open once
/// a size has shown that sizes count), else its entries counted (without `.` and `..`). A
/// zombie's fd directory is empty.
fn fd_count(
    files: &mut ProcFiles,
    buffer: &mut [MaybeUninit<u8>],
    sizes_count: &mut bool,
) -> Result<Field<u32>, ReadError> {
    let dir = files.dir.as_fd();
    if *sizes_count && matches!(files.fds, FdDir::NotTried) {
        let opened = ProcFd::open(|| {
            rustix::fs::openat(
                dir,
                "fd",
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        });
        files.fds = match opened {
            Ok(fds) => FdDir::Held(fds),
            Err(Errno::MFILE | Errno::NFILE) => return Err(ReadError::OutOfFds),
            Err(_) => FdDir::ThroughPath,
        };
    }
    let stat = match &files.fds {
        FdDir::Held(fds) => rustix::fs::fstat(fds),
        FdDir::NotTried | FdDir::ThroughPath => rustix::fs::statat(dir, "fd", AtFlags::empty()),
    };
    let size = match stat {
        Ok(stat) => u64::try_from(stat.st_size).unwrap_or(0),
        Err(errno) => return Ok(Field::from_io(Err(errno.into()))),
    };
    if size > 0 || *sizes_count {
        *sizes_count = true;
        return Ok(Field::Read(u32::try_from(size).unwrap_or(u32::MAX)));
    }
    let fds = match rustix::fs::openat(
        dir,
        "fd",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fds) => fds,
        Err(Errno::MFILE | Errno::NFILE) => return Err(ReadError::OutOfFds),
        Err(errno) => return Ok(Field::from_io(Err(errno.into()))),
    };
    let mut entries = RawDir::new(&fds, buffer);
    let mut count = 0u32;
    while let Some(entry) = entries.next() {
        match entry {
            Ok(entry) if entry.file_name().to_bytes().starts_with(b".") => {}
            Ok(_) => count = count.saturating_add(1),
            Err(errno) => return Ok(Field::from_io(Err(errno.into()))),
        }
    }
    Ok(Field::Read(count))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::process::{Child, Command, Stdio};

    use super::super::held_fds::FDS_PER_PROCESS;
    use super::super::test_support;
    use super::*;

    fn sleeper() -> Child {
        // Nothing inherited: a child test's pipes must close when the child test exits.
        let child = Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sleep starts");
        test_support::wait_for_exec(&child);
        // Then until it sleeps: while the loader and setlocale run, files open and close, and
        // its fd count would move under the test's feet.
        let wchan = format!("/proc/{}/wchan", child.id());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !std::fs::read_to_string(&wchan).is_ok_and(|w| w.contains("nanosleep")) {
            assert!(
                std::time::Instant::now() < deadline,
                "sleep never went to sleep"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child
    }

    fn finish(mut child: Child) {
        let _ = child.kill();
        let _ = child.wait();
    }

    fn roomy() -> ProcFilesCache {
        ProcFilesCache::with_budget(FdBudget::with_limit(1 << 20))
    }

    /// One pass: every process read, by pid, with its raw name.
    fn pass(table: &mut ProcFilesCache) -> BTreeMap<u32, (Vec<u8>, ProcessReading)> {
        let mut order = Vec::new();
        let mut seen = BTreeMap::new();
        table
            .read_all(|p| {
                order.push(p.reading.key.pid);
                seen.insert(p.reading.key.pid, (p.comm.to_vec(), p.reading));
            })
            .expect("a pass never fails while /proc is there");
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "ascending, each once"
        );
        seen
    }

    #[test]
    fn a_child_is_read_like_procfs_reads_it_and_let_go_once_reaped() {
        let mut table = roomy();
        let before = pass(&mut table);
        let child = sleeper();
        let pid = child.id();
        assert!(!before.contains_key(&pid));

        let first = pass(&mut table);
        let (comm, reading) = first.get(&pid).expect("a child started since is listed");
        assert_eq!(comm, b"sleep");
        // The same figures through an independent parser.
        let procfs_stat = procfs::process::Process::new(pid as i32)
            .unwrap()
            .stat()
            .unwrap();
        assert_eq!(reading.key.start_ticks, procfs_stat.starttime);
        assert_eq!(reading.ppid, std::process::id());
        assert_eq!(reading.threads, 1);
        assert!(!reading.kernel_thread);
        assert_eq!(reading.uid, Some(rustix::process::geteuid().as_raw()));
        let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count();
        assert!(matches!(reading.fd_count, Field::Read(n) if n as usize == open));
        assert!(matches!(reading.io, Field::Read(_)));
        // Held, unless this host has more processes than the fd limit lets a table hold (four
        // fds each): then the budget shrank, and the newest processes are read without.
        let shrank = table.held.budget.limit() < 1 << 20;
        assert!(
            shrank || table.held.by_pid.contains_key(&pid),
            "{} held",
            table.held.by_pid.len()
        );

        // Read again through the held files: the same process.
        let second = pass(&mut table);
        assert_eq!(second[&pid].1.key, reading.key);
        let own = &second[&std::process::id()].1;
        assert!(!own.kernel_thread && matches!(own.fd_count, Field::Read(n) if n > 0));

        finish(child);
        let after = pass(&mut table);
        assert!(!after.contains_key(&pid));
        assert!(
            !table.held.by_pid.contains_key(&pid),
            "its files are closed"
        );
    }

    /// What the table relies on, verified: held files of a reaped process read nothing, also
    /// once its pid is given to a new process (forced through ns_last_pid, as root).
    #[test]
    fn held_files_of_a_reaped_process_never_read_the_next_owner_of_its_pid() {
        let root = open_proc_root().unwrap();
        let mut scratch = roomy().scratch;
        let first = sleeper();
        let pid = first.id();
        let mut files = ProcFiles::open(root.as_fd(), pid).unwrap();
        assert!(read_figures(&mut files, pid, &mut scratch).is_ok());
        finish(first);

        let dead = rustix::io::pread(&files.stat, &mut scratch.stat, 0);
        assert!(matches!(dead, Err(Errno::SRCH) | Ok(0)), "{dead:?}");
        assert!(matches!(
            read_figures(&mut files, pid, &mut scratch),
            Err(ReadError::Gone)
        ));

        let may_reuse = std::fs::metadata("/proc/sys/kernel/ns_last_pid")
            .is_ok_and(|_| rustix::process::geteuid().is_root());
        if !may_reuse {
            assert!(
                std::env::var_os("CI").is_none(),
                "forcing a pid's reuse needs root (as in CI)"
            );
            eprintln!("note: not root, the reuse of a pid was not forced");
            return;
        }
        // Other tests fork too, and one of their processes may take the pid first: that is a
        // reuse as good as ours. Try until some process holds the pid again.
        assert!(
            ProcFiles::open(root.as_fd(), pid).is_err(),
            "the pid is free once its process is reaped"
        );
        for _ in 0..200 {
            let mut ours = None;
            if ProcFiles::open(root.as_fd(), pid).is_err() {
                let _ = std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string());
                let child = Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("cat starts");
                if child.id() != pid {
                    finish(child);
                    continue;
                }
                test_support::wait_for_exec(&child);
                ours = Some(child);
            }
            // The new owner, read through files of its own before and after the held read:
            // alive throughout, so the held files were read while the pid was taken.
            let Ok(mut fresh) = ProcFiles::open(root.as_fd(), pid) else {
                continue; // another test's process ended in between: try again
            };
            let owner = |fresh: &mut ProcFiles, scratch: &mut Scratch| {
                read_figures(fresh, pid, scratch).map(|f| f.comm.to_vec())
            };
            let Ok(comm) = owner(&mut fresh, &mut scratch) else {
                continue;
            };
            let held = read_figures(&mut files, pid, &mut scratch).map(|_| ());
            if owner(&mut fresh, &mut scratch).is_err() {
                continue;
            }
            assert!(matches!(held, Err(ReadError::Gone)), "{held:?}");
            if let Some(child) = ours {
                assert_eq!(comm, b"cat", "the new process");
                finish(child);
            }
            return;
        }
        panic!("the kernel never gave the pid to another process");
    }

    #[test]
    fn processes_beyond_the_budget_are_read_without_being_held() {
        let mut table = ProcFilesCache::with_budget(FdBudget::with_limit(2 * FDS_PER_PROCESS));
        let children: Vec<Child> = (0..3).map(|_| sleeper()).collect();
        for _ in 0..2 {
            let seen = pass(&mut table);
            for child in &children {
                assert!(seen.contains_key(&child.id()));
            }
            assert_eq!(table.held.by_pid.len(), 2);
        }
        children.into_iter().for_each(finish);
    }

    /// Alone in a child process, where the fd limit leaves room for only a few processes'
    /// files.
    #[test]
    fn running_out_of_fds_shrinks_the_budget_and_every_process_is_still_read() {
        if !test_support::in_child() {
            let printed = test_support::run_in_child(
                module_path!(),
                "running_out_of_fds_shrinks_the_budget_and_every_process_is_still_read",
            );
            assert!(printed.contains("out of fds:"), "{printed}");
            return;
        }
        out_of_fds_in_this_process();
    }

    fn out_of_fds_in_this_process() {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let children: Vec<Child> = (0..24).map(|_| sleeper()).collect();
        let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        let spare = 16;
        let limit = Rlimit {
            current: Some(open + spare),
            maximum: getrlimit(Resource::Nofile).maximum,
        };
        setrlimit(Resource::Nofile, limit).unwrap();

        let mut table = roomy();
        let held_fds = |table: &ProcFilesCache| {
            let held = table.held.by_pid.values();
            held.map(|h| {
                let fds = usize::from(matches!(h.files.fds, FdDir::Held(_)));
                2 + usize::from(h.files.io.is_some()) + fds
            })
            .sum::<usize>()
        };
        for _ in 0..3 {
            let seen = pass(&mut table);
            for child in &children {
                assert!(seen.contains_key(&child.id()), "pid {} read", child.id());
            }
            assert!(seen.len() > children.len());
            // /proc itself is held too.
            assert!(held_fds(&table) < spare as usize, "{}", held_fds(&table));
        }
        assert!(!table.held.by_pid.is_empty(), "some files are held");
        // Shrunk from a million fds to about what there was room for (counted at four a
        // process, which kernel threads are not).
        let limit = table.held.budget.limit();
        assert!(limit < 2 * spare as usize, "the budget shrank to {limit}");
        println!(
            "out of fds: every process read, {} held with {spare} fds to spare",
            table.held.by_pid.len()
        );
        children.into_iter().for_each(finish);
    }
}
