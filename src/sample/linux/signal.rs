//! Signalling a process by its identity (pid and start time), never by its pid alone.

use procfs::CurrentSI;
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};

use super::start_time_ms;
use crate::sample::SignalError;

/// Sends `signal` to `pid` if it is still the process that started at `start_time_ms`.
///
/// A pidfd is opened first: from then on the pid cannot pass to another process, so the
/// identity check and the signal are about the same process. On kernels without pidfds (before
/// 5.3) the check is followed by a plain kill(2), which leaves the usual tiny window.
pub fn signal_process(pid: u32, start_time_ms: u64, signal: i32) -> Result<(), SignalError> {
    let signal = Signal::from_named_raw(signal).ok_or(SignalError::Invalid(signal))?;
    let raw_pid = i32::try_from(pid).map_err(|_| SignalError::Exited)?;
    let target = Pid::from_raw(raw_pid).ok_or(SignalError::Exited)?;
    let pidfd = match pidfd_open(target, PidfdFlags::empty()) {
        Ok(fd) => Some(fd),
        Err(rustix::io::Errno::SRCH) => return Err(SignalError::Exited),
        Err(_) => None,
    };
    match current_start_time_ms(pid) {
        None => return Err(SignalError::Exited),
        Some(now) if now != start_time_ms => return Err(SignalError::Replaced),
        Some(_) => {}
    }
    let sent = match &pidfd {
        Some(fd) => pidfd_send_signal(fd, signal),
        None => rustix::process::kill_process(target, signal),
    };
    sent.map_err(|errno| match errno {
        rustix::io::Errno::PERM => SignalError::Denied,
        rustix::io::Errno::SRCH => SignalError::Exited,
        other => SignalError::Other(std::io::Error::from(other).to_string()),
    })
}

/// The start time of whatever process has `pid` now, as the sampler reports it.
pub(super) fn current_start_time_ms(pid: u32) -> Option<u64> {
    let process = procfs::process::Process::new(i32::try_from(pid).ok()?).ok()?;
    let start_ticks = process.stat().ok()?.starttime;
    let boot_time_secs = procfs::KernelStats::current().ok()?.btime;
    let ticks_per_sec = procfs::ticks_per_second().max(1) as f64;
    Some(start_time_ms(boot_time_secs, start_ticks, ticks_per_sec))
}
