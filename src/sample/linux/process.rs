//! One process: its identity, its per-tick figures (read in `proc_files`), and its details
//! (cmdline, exe, cgroup and what its path says about the process's unit and container, netns)
//! read here through its /proc directory.
//!
//! A process can exit between any two reads. An exit before `stat` is read means the process is
//! skipped; an exit after it leaves the fields read so far, and the fds empty.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::BorrowedFd;

use rustix::fs::{Mode, OFlags};

use crate::model::ProcessState;
use crate::sample::attribution::{attribution_of, PathAttribution};

/// A process's identity: a pid reused by a later process has a different start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessKey {
    pub pid: u32,
    /// Start time in clock ticks since boot.
    pub start_ticks: u64,
}

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
    pub(super) fn from_io(result: std::io::Result<T>) -> Self {
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
    pub priority: i32,
    pub nice: i32,
    pub virtual_bytes: u64,
    pub rss_pages: u64,
    pub uid: Option<u32>,
    pub io: Field<(u64, u64)>,
    pub fd_count: Field<u32>,
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
    /// The systemd unit, container and pod the cgroup file names (empty when unreadable).
    pub attribution: PathAttribution,
    pub netns: Field<u64>,
}

/// Reads the slowly-changing details of the process whose /proc directory is `dir`. Read
/// through the directory, not the pid, they are that process's or none at all (once it is
/// reaped), never those of a later process given the same pid.
pub fn read_details(dir: BorrowedFd<'_>, kernel_thread: bool) -> ProcessDetails {
    let netns = Field::from_io(read_netns(dir));
    if kernel_thread {
        return ProcessDetails {
            gone: false,
            cmdline: Vec::new(),
            exe: Field::Gone,
            cgroup: Field::Gone,
            attribution: PathAttribution::default(),
            netns,
        };
    }
    let cmdline = match read_file(dir, "cmdline") {
        Ok(raw) => split_cmdline(&raw),
        Err(e) => {
            // Gone between its stat and now: the caller drops it rather than list a process
            // with its command line missing for no stated reason.
            let gone = matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ESRCH));
            return ProcessDetails {
                cmdline: Vec::new(),
                exe: Field::Gone,
                cgroup: Field::Gone,
                attribution: PathAttribution::default(),
                netns,
                gone,
            };
        }
    };
    let exe = Field::from_io(read_link(dir, "exe"));
    let mut attribution = PathAttribution::default();
    let cgroup = Field::from_io(read_file(dir, "cgroup")).map(|raw| {
        let text = String::from_utf8_lossy(&raw);
        attribution = attribution_of(&text);
        cgroup_path(&text).unwrap_or_default()
    });
    ProcessDetails {
        gone: false,
        cmdline,
        exe,
        cgroup,
        attribution,
        netns,
    }
}

/// The whole of the file `name` in `dir`.
fn read_file(dir: BorrowedFd<'_>, name: &str) -> std::io::Result<Vec<u8>> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
    let mut content = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut content)?;
    Ok(content)
}

/// The target of the link `name` in `dir`, lossily as text.
fn read_link(dir: BorrowedFd<'_>, name: &str) -> std::io::Result<String> {
    let target = rustix::fs::readlinkat(dir, name, Vec::new())?;
    Ok(target.to_string_lossy().into_owned())
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

fn read_netns(dir: BorrowedFd<'_>) -> std::io::Result<u64> {
    let link = read_link(dir, "ns/net")?;
    parse_ns_link(&link).ok_or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn open_dir(pid: u32) -> std::os::fd::OwnedFd {
        rustix::fs::open(
            format!("/proc/{pid}").as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("/proc/<pid> opens")
    }

    /// The race the sampler meets under churn, made to happen: the stat is read, then the
    /// process exits and is reaped before the rest. Every later read must say "gone" (which
    /// makes the collector drop the process), never "unreadable" or an empty value.
    #[test]
    fn process_reaped_after_its_stat_was_read_reads_as_gone() {
        use std::os::fd::AsFd;
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("sleep starts");
        super::super::test_support::wait_for_exec(&child);
        let pid = child.id();
        let dir = open_dir(pid);
        let alive = read_details(dir.as_fd(), false);
        assert!(!alive.gone);
        assert_eq!(alive.cmdline, ["sleep", "60"]);
        assert!(matches!(alive.exe, Field::Read(ref exe) if exe.ends_with("/sleep")));
        child.kill().expect("kill");
        child.wait().expect("reaped");

        let details = read_details(dir.as_fd(), false);
        assert!(details.gone, "details of a reaped process: {details:?}");
        assert!(matches!(
            Field::from_io(read_netns(dir.as_fd())),
            Field::Gone
        ));
        assert!(matches!(
            Field::from_io(read_link(dir.as_fd(), "exe")),
            Field::Gone
        ));
        assert!(matches!(
            super::super::fds::socket_inodes(pid),
            Err(super::super::fds::FdScanError::Gone)
        ));
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
            cgroup_path("3:memory:/user.slice\n").as_deref(),
            Some("/user.slice")
        );
    }

    #[test]
    fn ns_link_parses() {
        assert_eq!(parse_ns_link("net:[4026531840]"), Some(4026531840));
        assert_eq!(parse_ns_link("mnt:[4026531840]"), None);
    }

    #[test]
    fn own_details_read_through_our_directory() {
        use std::os::fd::AsFd;
        let dir = open_dir(std::process::id());
        let details = read_details(dir.as_fd(), false);
        assert!(!details.gone);
        assert!(matches!(details.netns, Field::Read(_)));
        let own_exe = std::env::current_exe().unwrap();
        assert!(
            matches!(details.exe, Field::Read(ref exe) if *exe == own_exe.to_string_lossy()),
            "{:?}",
            details.exe
        );
        assert_eq!(
            details.cmdline.first().map(String::as_str),
            std::env::args().next().as_deref()
        );
        assert!(matches!(details.cgroup, Field::Read(ref path) if path.starts_with('/')));
        let own_cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        assert_eq!(details.attribution, attribution_of(&own_cgroup));
    }
}
