//! Small dealings with the operating system that tests and benches share (`benches/` include
//! this file by path): sockets that reset instead of lingering, room for many descriptors,
//! CPU time and memory as the kernel counts them, children that die with their parent. All
//! through nix, so neither tests nor benches need unsafe code of their own.
#![allow(dead_code)] // each test binary and bench uses a different part of this module

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};
use nix::sys::socket::{setsockopt, sockopt};

/// Makes closing `socket` send a reset (SO_LINGER 0): no TIME_WAIT socket is left behind to
/// inflate the socket tables of whatever runs next.
pub fn reset_on_close(socket: &impl AsFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt(socket, sockopt::Linger, &linger).map_err(io::Error::from)
}

/// Raises the soft RLIMIT_NOFILE to at least `needed` (up to the hard limit, which an
/// unprivileged process may go up to). Err names the hard limit when it is too low.
pub fn make_room_for_fds(needed: u64) -> Result<(), String> {
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| format!("getrlimit(RLIMIT_NOFILE): {e}"))?;
    if soft >= needed {
        return Ok(());
    }
    if hard < needed {
        return Err(format!(
            "{needed} open files needed but the hard RLIMIT_NOFILE is {hard}"
        ));
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)
        .map_err(|e| format!("setrlimit(RLIMIT_NOFILE): {e}"))
}

/// CPU time (user + system) this process has used so far, all threads.
pub fn process_cpu_time() -> Duration {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_PROCESS_CPUTIME_ID)
        .map_or(Duration::ZERO, Duration::from)
}

/// User and system CPU time of the children this process has reaped so far.
pub fn children_cpu_time() -> (Duration, Duration) {
    let of = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
    };
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or((Duration::ZERO, Duration::ZERO), |usage| {
        (of(usage.user_time()), of(usage.system_time()))
    })
}

/// Waits for `child`, and returns its exit status with the user and system CPU time it used
/// (the children's counters before and after: wait for one child at a time).
pub fn wait_with_cpu(mut child: Child) -> io::Result<(ExitStatus, Duration, Duration)> {
    let (user_before, system_before) = children_cpu_time();
    let status = child.wait()?;
    let (user, system) = children_cpu_time();
    Ok((
        status,
        user.saturating_sub(user_before),
        system.saturating_sub(system_before),
    ))
}

/// A field of /proc/<pid>/status in kB (`VmRSS:`, `VmHWM:`), or a count (`Threads:`).
pub fn status_field(pid: u32, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The socket inode behind an fd of this process.
pub fn socket_inode(socket: &impl AsRawFd) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).ok()?;
    let link = link.to_string_lossy();
    link.strip_prefix("socket:[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|digits| digits.parse().ok())
}

/// `command` run so that the kernel kills it when this process dies (util-linux's
/// `setpriv --pdeathsig KILL`), however the test or bench ends.
pub fn dies_with_us(command: &Command) -> Command {
    let mut wrapped = Command::new("setpriv");
    wrapped
        .arg("--pdeathsig")
        .arg("KILL")
        .arg("--")
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}

/// Starts `command` with `fds` open at the same numbers in the child (they are close-on-exec
/// everywhere else). Call from one thread at a time: the fds are inheritable while it spawns.
pub fn spawn_holding(command: &mut Command, fds: &[BorrowedFd<'_>]) -> io::Result<Child> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let set = |flags: FdFlag| -> io::Result<()> {
        for fd in fds {
            fcntl(fd, FcntlArg::F_SETFD(flags)).map_err(io::Error::from)?;
        }
        Ok(())
    };
    set(FdFlag::empty())?;
    let spawned = command.spawn();
    set(FdFlag::FD_CLOEXEC)?;
    spawned
}
