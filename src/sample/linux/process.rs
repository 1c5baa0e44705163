//! Reading one process from `/proc/<pid>`: stat, io, cmdline, exe, cgroup, netns, fd count.
//!
//! A process can exit between any two reads. An exit before `stat` is read means the process is
//! skipped; an exit after it leaves the fields read so far, and the fds empty.

use std::collections::BTreeMap;

use procfs::process::Process as ProcHandle;
use procfs::ProcError;

use crate::model::ProcessState;

/// A process's identity: a pid reused by a later process has a different start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessKey {
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

/// PF_KTHREAD in include/linux/sched.h.
const PF_KTHREAD: u32 = 0x0020_0000;

/// What a read of one file of a process came to.
#[derive(Debug, Clone)]
pub enum Field<T> {
    Read(T),
    /// The process exited while we were reading it.
    Gone,
    /// Could not be read, with the reason to show.
    Unreadable(String),
}

impl<T> Field<T> {
    fn from_proc(result: Result<T, ProcError>) -> Self {
        match result {
            Ok(value) => Field::Read(value),
            Err(ProcError::NotFound(_)) => Field::Gone,
            Err(ProcError::PermissionDenied(_)) => {
                Field::Unreadable("permission denied".to_owned())
            }
            Err(ProcError::Io(e, _)) if e.raw_os_error() == Some(libc::ESRCH) => Field::Gone,
            Err(other) => Field::Unreadable(other.to_string()),
        }
    }

    fn from_io(result: std::io::Result<T>) -> Self {
        match result {
            Ok(value) => Field::Read(value),
            Err(e) => match e.raw_os_error() {
                Some(libc::ENOENT) | Some(libc::ESRCH) => Field::Gone,
                Some(libc::EACCES) | Some(libc::EPERM) => {
                    Field::Unreadable("permission denied".to_owned())
                }
                _ => Field::Unreadable(e.to_string()),
            },
        }
    }

    /// The value, recording why it is missing in `unreadable` under `name`.
    pub fn into_option(self, name: &str, unreadable: &mut BTreeMap<String, String>) -> Option<T> {
        match self {
            Field::Read(value) => Some(value),
            Field::Gone => None,
            Field::Unreadable(reason) => {
                unreadable.insert(name.to_owned(), reason);
                None
            }
        }
    }
}

/// The per-tick figures of one process: read every tick because they change every tick.
pub struct ProcessReading {
    pub key: ProcessKey,
    pub ppid: u32,
    pub name: String,
    pub state: ProcessState,
    pub kernel_thread: bool,
    pub threads: u32,
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub virtual_bytes: u64,
    pub rss_pages: u64,
    pub uid: Option<u32>,
    pub io: Field<(u64, u64)>,
    pub fd_count: Field<u32>,
}

/// Reads the per-tick figures of `pid`; None when the process is gone (or /proc/<pid>/stat
/// cannot be read, which for a listed pid only happens when it has exited).
pub fn read_process(pid: u32) -> Option<(ProcHandle, ProcessReading)> {
    let handle = ProcHandle::new(i32::try_from(pid).ok()?).ok()?;
    // The owner first: once a process is reaped its /proc directory reports uid 0, and a
    // process reaped before its stat is read is skipped, so reading in this order never
    // lists an exiting process as root's.
    let uid = handle.uid().ok();
    let stat = handle.stat().ok()?;
    let kernel_thread = stat.flags & PF_KTHREAD != 0;
    // Kernel threads do no file I/O of their own and hold no fds: skip two reads for each.
    let (io, fd_count) = if kernel_thread {
        (Field::Read((0, 0)), Field::Read(0))
    } else {
        (
            Field::from_proc(handle.io().map(|io| (io.read_bytes, io.write_bytes))),
            Field::from_io(fd_count(pid)),
        )
    };
    let reading = ProcessReading {
        key: ProcessKey {
            pid,
            start_ticks: stat.starttime,
        },
        ppid: u32::try_from(stat.ppid).unwrap_or(0),
        name: stat.comm,
        state: ProcessState::from_letter(stat.state),
        kernel_thread,
        threads: u32::try_from(stat.num_threads).unwrap_or(0),
        utime_ticks: stat.utime,
        stime_ticks: stat.stime,
        virtual_bytes: stat.vsize,
        rss_pages: stat.rss,
        uid,
        io,
        fd_count,
    };
    Some((handle, reading))
}

/// Open fds of `pid`: the fd directory's size on kernels >= 6.2, else its entries counted
/// (without `.` and `..`, which procfs's own count includes). A zombie's directory is empty.
fn fd_count(pid: u32) -> std::io::Result<u32> {
    let dir = format!("/proc/{pid}/fd");
    let size = std::fs::metadata(&dir)?.len();
    if size > 0 {
        return Ok(u32::try_from(size).unwrap_or(u32::MAX));
    }
    let entries = std::fs::read_dir(&dir)?.count();
    Ok(u32::try_from(entries).unwrap_or(u32::MAX))
}

/// The figures that rarely change for a living process, cached per [`ProcessKey`] and re-read
/// when the process execs (its name changes) or on a periodic refresh. A process that moves
/// to another network namespace (setns) or cgroup without exec'ing is seen within one refresh.
#[derive(Debug, Clone)]
pub struct ProcessDetails {
    /// The process exited while these were read.
    pub gone: bool,
    pub cmdline: Vec<String>,
    pub exe: Field<String>,
    pub cgroup: Field<String>,
    pub netns: Field<u64>,
}

/// Reads the slowly-changing details of `pid`.
pub fn read_details(handle: &ProcHandle, pid: u32, kernel_thread: bool) -> ProcessDetails {
    let netns = Field::from_io(read_netns(pid));
    if kernel_thread {
        return ProcessDetails {
            gone: false,
            cmdline: Vec::new(),
            exe: Field::Gone,
            cgroup: Field::Gone,
            netns,
        };
    }
    let cmdline = match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(raw) => split_cmdline(&raw),
        Err(e) => {
            // Gone between its stat and now: the caller drops it rather than list a process
            // with its command line missing for no stated reason.
            let gone = matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ESRCH));
            return ProcessDetails {
                cmdline: Vec::new(),
                exe: Field::Gone,
                cgroup: Field::Gone,
                netns,
                gone,
            };
        }
    };
    let exe = Field::from_proc(handle.exe()).map(|p| p.to_string_lossy().into_owned());
    let cgroup = Field::from_io(std::fs::read(format!("/proc/{pid}/cgroup")))
        .map(|raw| cgroup_path(&String::from_utf8_lossy(&raw)).unwrap_or_default());
    ProcessDetails {
        gone: false,
        cmdline,
        exe,
        cgroup,
        netns,
    }
}

impl<T> Field<T> {
    pub(super) fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Read(v) => Field::Read(f(v)),
            Field::Gone => Field::Gone,
            Field::Unreadable(r) => Field::Unreadable(r),
        }
    }
}

fn read_netns(pid: u32) -> std::io::Result<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net"))?;
    parse_ns_link(&link.to_string_lossy()).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "unexpected ns/net link")
    })
}

/// Parses `net:[4026531840]`.
pub fn parse_ns_link(link: &str) -> Option<u64> {
    link.strip_prefix("net:[")?.strip_suffix(']')?.parse().ok()
}

/// Splits the NUL-separated argv. Arguments keep their exact bytes (invalid UTF-8 becomes
/// U+FFFD); an empty argument in the middle is a real argument and is kept.
pub fn split_cmdline(raw: &[u8]) -> Vec<String> {
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|b| *b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect()
}

/// The cgroup path from `/proc/<pid>/cgroup`: the v2 line (`0::/path`), else the first v1 line.
pub fn cgroup_path(content: &str) -> Option<String> {
    let mut first = None;
    for line in content.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(_controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" {
            return Some(path.to_owned());
        }
        first.get_or_insert_with(|| path.to_owned());
    }
    first
}

/// The container id in a cgroup path: a 64-hex-digit segment, as docker, containerd, cri-o and
/// podman name theirs (`/system.slice/docker-<id>.scope`, `/kubepods/.../cri-containerd-<id>`).
pub fn container_id(cgroup: &str) -> Option<String> {
    cgroup
        .split('/')
        .rev()
        .flat_map(|segment| segment.split(['-', '.', ':']))
        .find(|part| part.len() == 64 && part.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The race the sampler meets under churn, made to happen: the stat is read, then the
    /// process exits and is reaped before the rest. Every later read must say "gone" (which
    /// makes the collector drop the process), never "unreadable" or an empty value.
    #[test]
    fn process_reaped_after_its_stat_was_read_reads_as_gone() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep starts");
        let pid = child.id();
        let (handle, reading) = read_process(pid).expect("the child is alive");
        assert!(matches!(reading.fd_count, Field::Read(n) if n >= 3));
        child.kill().expect("kill");
        child.wait().expect("reaped");

        let details = read_details(&handle, pid, false);
        assert!(details.gone, "details of a reaped process: {details:?}");
        assert!(matches!(Field::from_io(fd_count(pid)), Field::Gone));
        assert!(matches!(Field::from_io(read_netns(pid)), Field::Gone));
        assert!(matches!(
            super::super::fds::socket_inodes(pid),
            Err(super::super::fds::FdScanError::Gone)
        ));
        assert!(read_process(pid).is_none(), "a second look finds nothing");
    }

    #[test]
    fn cmdline_keeps_empty_and_invalid_utf8_arguments() {
        assert_eq!(split_cmdline(b"a\0\0b\0"), vec!["a", "", "b"]);
        assert_eq!(split_cmdline(b"x\xff\0"), vec!["x\u{fffd}"]);
        assert!(split_cmdline(b"").is_empty());
        // A process that rewrote its title without NULs (nginx: worker process).
        assert_eq!(
            split_cmdline(b"nginx: worker process"),
            vec!["nginx: worker process"]
        );
    }

    #[test]
    fn cgroup_prefers_v2_line() {
        let content = "12:cpu:/a\n0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n";
        let path = cgroup_path(content).unwrap();
        assert!(path.starts_with("/system.slice/docker-"));
        assert_eq!(
            container_id(&path).as_deref(),
            Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            cgroup_path("3:memory:/user.slice\n").as_deref(),
            Some("/user.slice")
        );
        assert_eq!(
            container_id("/user.slice/user-1000.slice/session-2.scope"),
            None
        );
    }

    #[test]
    fn ns_link_parses() {
        assert_eq!(parse_ns_link("net:[4026531840]"), Some(4026531840));
        assert_eq!(parse_ns_link("mnt:[4026531840]"), None);
    }

    #[test]
    fn own_process_reads_with_identity_and_fds() {
        let (_, me) = read_process(std::process::id()).unwrap();
        assert_eq!(me.key.pid, std::process::id());
        assert!(!me.kernel_thread);
        assert!(matches!(me.fd_count, Field::Read(n) if n > 0));
        let details = read_details(&ProcHandle::myself().unwrap(), me.key.pid, false);
        assert!(matches!(details.netns, Field::Read(_)));
        assert!(!details.cmdline.is_empty());
    }
}
