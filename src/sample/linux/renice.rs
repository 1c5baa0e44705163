//! Changing a process's nice value by its identity (pid and start time), as signals are sent.

use rustix::process::{getpriority_process, setpriority_process, Pid};

use super::signal::current_start_time_ms;
use crate::sample::ReniceError;

/// The kernel's range of nice values; asking for more is clamped, as renice(1) does.
pub const NICE_RANGE: std::ops::RangeInclusive<i32> = -20..=19;

/// Sets the nice value of `pid` to `nice` (clamped to -20..=19) if it is still the process that
/// started at `start_time_ms`; returns the value set.
///
/// setpriority(2) has no pidfd form, so the identity is checked just before the call: the
/// window left is the one a kill(2) without pidfds leaves, a pid reused within microseconds.
pub fn renice_process(pid: u32, start_time_ms: u64, nice: i32) -> Result<i32, ReniceError> {
    let target = identified(pid, start_time_ms)?;
    let nice = nice.clamp(*NICE_RANGE.start(), *NICE_RANGE.end());
    setpriority_process(Some(target), nice).map_err(refusal)?;
    Ok(nice)
}

/// The nice value of `pid` if it is still the process that started at `start_time_ms`.
pub fn nice_of(pid: u32, start_time_ms: u64) -> Result<i32, ReniceError> {
    let target = identified(pid, start_time_ms)?;
    getpriority_process(Some(target)).map_err(refusal)
}

fn identified(pid: u32, start_time_ms: u64) -> Result<Pid, ReniceError> {
    let target = i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(ReniceError::Exited)?;
    match current_start_time_ms(pid) {
        None => Err(ReniceError::Exited),
        Some(now) if now != start_time_ms => Err(ReniceError::Replaced),
        Some(_) => Ok(target),
    }
}

/// What the kernel's answer means: EACCES is a lower nice value (more priority) without
/// CAP_SYS_NICE, EPERM another user's process.
fn refusal(errno: rustix::io::Errno) -> ReniceError {
    match errno {
        rustix::io::Errno::ACCESS => ReniceError::NeedsPrivilege,
        rustix::io::Errno::PERM => ReniceError::Denied,
        rustix::io::Errno::SRCH => ReniceError::Exited,
        other => ReniceError::Other(std::io::Error::from(other).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child of this test: lowered in priority (always allowed), read back from the kernel;
    /// then the same pid with another start time is refused and left alone.
    #[test]
    fn renice_sets_the_nice_value_of_the_process_with_that_identity_only() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        let started = (0..100)
            .find_map(|_| {
                current_start_time_ms(pid).or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    None
                })
            })
            .expect("the child's start time");
        let before = nice_of(pid, started).expect("nice of the child");
        let wanted = (before + 3).min(19);
        assert_eq!(renice_process(pid, started, wanted), Ok(wanted));
        assert_eq!(nice_of(pid, started), Ok(wanted));
        assert_eq!(
            renice_process(pid, started + 60_000, 19),
            Err(ReniceError::Replaced)
        );
        assert_eq!(
            nice_of(pid, started),
            Ok(wanted),
            "a stranger is not reniced"
        );
        assert_eq!(renice_process(pid, started, 99), Ok(19), "clamped");
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(renice_process(pid, started, 5), Err(ReniceError::Exited));
    }
}
