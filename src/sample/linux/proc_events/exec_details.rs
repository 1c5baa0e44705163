//! What is read of a process the moment it execs, and scrubbed before it goes anywhere.
//!
//! Everything is read through the process's `/proc` directory, opened once, so the files are
//! all that process's. The reads are bounded: a command line is read up to
//! [`MAX_CMDLINE_READ`] bytes (the rest of a longer one is never read, and the argument that
//! straddles the limit is left out, so the scrubber only ever sees whole arguments), and the
//! scrubbed one is kept up to [`MAX_CMDLINE_KEPT`] bytes in [`MAX_ARGS_KEPT`] arguments. Only
//! scrubbed text is ever cut, so a cut can never expose part of a secret the scrubber would
//! have hidden.

use std::os::fd::{AsFd, BorrowedFd};

use regex::Regex;
use rustix::fs::{Mode, OFlags};

use crate::sample::exclude::is_excluded;
use crate::scrub::Scrubber;

use super::super::held_fds::ProcFd;
use super::super::process::{split_cmdline, Field};
use super::{ExecDetails, Missing};

/// Read of a command line, at most: what a scrubber sees.
const MAX_CMDLINE_READ: usize = 64 * 1024;
/// Scrubbed command line kept per exec event, in bytes of text.
pub const MAX_CMDLINE_KEPT: usize = 4 * 1024;
/// Scrubbed arguments kept per exec event.
pub const MAX_ARGS_KEPT: usize = 256;
/// Read of `status`, at most (it is about 1.5 KiB).
const MAX_STATUS_READ: usize = 8 * 1024;

/// What the reader learns of an exec'd process.
#[derive(Debug)]
pub struct ExecReading {
    pub details: ExecDetails,
    /// Its parent now, from `status`.
    pub ppid: Option<u32>,
    /// It matches an exclude pattern: its events are not queued.
    pub excluded: bool,
}

/// The files of a process as read, before anything is scrubbed.
#[derive(Debug)]
pub struct RawExec {
    /// The command line, already without a straddling last argument when it was too long.
    pub cmdline: Field<Vec<String>>,
    pub cmdline_truncated: bool,
    pub comm: Field<Vec<u8>>,
    pub exe: Field<String>,
    pub status: Field<Vec<u8>>,
}

/// Reads the files of process `pid`; a process already gone reads as gone everywhere.
pub fn read_raw(pid: u32) -> RawExec {
    // Registered like the process table's files (see `ProcFd`): opened on this thread while
    // the sampler may be counting its own fds, they must not pass for a socket of ours.
    let dir = ProcFd::open(|| {
        rustix::fs::open(
            format!("/proc/{pid}").as_str(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
    });
    let dir = match dir {
        Ok(dir) => dir,
        Err(e) => {
            fn unread<T>(e: rustix::io::Errno) -> Field<T> {
                Field::from_io(Err(e.into()))
            }
            return RawExec {
                cmdline: unread(e),
                cmdline_truncated: false,
                comm: unread(e),
                exe: unread(e),
                status: unread(e),
            };
        }
    };
    let dir = dir.as_fd();
    let (cmdline, cmdline_truncated) = match read_bounded(dir, "cmdline", MAX_CMDLINE_READ) {
        Ok((raw, cut)) => (Field::Read(whole_arguments(&raw, cut)), cut),
        Err(e) => (Field::from_io(Err(e)), false),
    };
    RawExec {
        cmdline,
        cmdline_truncated,
        comm: Field::from_io(read_bounded(dir, "comm", 64).map(|(raw, _)| raw)),
        exe: Field::from_io(
            rustix::fs::readlinkat(dir, "exe", Vec::new())
                .map(|target| target.to_string_lossy().into_owned())
                .map_err(Into::into),
        ),
        status: Field::from_io(read_bounded(dir, "status", MAX_STATUS_READ).map(|(raw, _)| raw)),
    }
}

/// Up to `max` bytes of the file `name` in `dir`, and whether there was more.
fn read_bounded(dir: BorrowedFd<'_>, name: &str, max: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let fd = ProcFd::open(|| {
        rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
    })?;
    let mut content = vec![0; max + 1];
    let mut filled = 0;
    while filled < content.len() {
        match rustix::io::read(&fd, &mut content[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    content.truncate(filled);
    let cut = content.len() > max;
    content.truncate(max);
    Ok((content, cut))
}

/// The arguments of a raw command line; when it was `cut`, without the last, partial one.
fn whole_arguments(raw: &[u8], cut: bool) -> Vec<String> {
    let raw = if cut {
        raw.iter()
            .rposition(|b| *b == 0)
            .map_or(&raw[..0], |end| &raw[..end])
    } else {
        raw
    };
    split_cmdline(raw)
}

/// The details to store: scrubbed, bounded, each missing one explained.
pub fn finish(raw: RawExec, scrubber: &Scrubber, exclude: &[Regex]) -> ExecReading {
    // A process reaped, or exiting, has an empty command line and no executable.
    let exited = matches!(raw.exe, Field::Gone);
    let cmdline = match raw.cmdline {
        Field::Read(args) if args.is_empty() && exited => Field::Gone,
        other => other,
    };
    let missing = [
        why_missing(&cmdline),
        why_missing(&raw.comm),
        why_missing(&raw.exe),
        why_missing(&raw.status),
    ]
    .into_iter()
    .flatten()
    .next();

    let name = read(raw.comm).map(|comm| {
        let comm = comm.strip_suffix(b"\n").unwrap_or(&comm);
        String::from_utf8_lossy(comm).into_owned()
    });
    let cmdline = read(cmdline);
    let excluded = is_excluded(
        exclude,
        name.as_deref().unwrap_or_default(),
        cmdline.as_deref().unwrap_or_default(),
    );
    let (cmdline, kept_truncated) = match cmdline {
        Some(args) => {
            let (kept, cut) = keep_within(scrubber.scrub(&args));
            (Some(kept), cut)
        }
        None => (None, false),
    };
    let status = read(raw.status);
    let status = status.as_deref().map(String::from_utf8_lossy);
    ExecReading {
        details: ExecDetails {
            cmdline,
            cmdline_truncated: raw.cmdline_truncated || kept_truncated,
            name: name.map(|n| scrubber.scrub_name(&n).into_owned()),
            exe: read(raw.exe).map(|exe| scrubber.scrub_exe(&exe).into_owned()),
            uid: status.as_deref().and_then(effective_uid),
            missing,
        },
        ppid: status
            .as_deref()
            .and_then(|s| status_field(s, "PPid:"))
            .and_then(|v| v.parse().ok()),
        excluded,
    }
}

fn why_missing<T>(field: &Field<T>) -> Option<Missing> {
    match field {
        Field::Read(_) => None,
        Field::Gone => Some(Missing::Exited),
        Field::Unreadable(reason) => Some(Missing::Unreadable(reason.clone())),
    }
}

fn read<T>(field: Field<T>) -> Option<T> {
    match field {
        Field::Read(value) => Some(value),
        Field::Gone | Field::Unreadable(_) => None,
    }
}

/// The scrubbed arguments within [`MAX_CMDLINE_KEPT`] bytes and [`MAX_ARGS_KEPT`] arguments,
/// and whether any were left out or cut.
fn keep_within(args: Vec<String>) -> (Vec<String>, bool) {
    let mut budget = MAX_CMDLINE_KEPT;
    let mut kept = Vec::with_capacity(args.len().min(MAX_ARGS_KEPT));
    let total = args.len();
    for mut arg in args {
        if kept.len() == MAX_ARGS_KEPT || budget == 0 {
            return (kept, true);
        }
        if arg.len() > budget {
            let end = (0..=budget)
                .rev()
                .find(|&i| arg.is_char_boundary(i))
                .unwrap_or(0);
            arg.truncate(end);
            kept.push(arg);
            return (kept, true);
        }
        budget -= arg.len();
        kept.push(arg);
    }
    let cut = kept.len() < total;
    (kept, cut)
}

/// The value after `key` on its line of `/proc/<pid>/status`.
fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .map(str::trim)
}

/// The effective uid: the second of `Uid:`'s real, effective, saved and filesystem ids.
fn effective_uid(status: &str) -> Option<u32> {
    status_field(status, "Uid:")?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrub::MASK;

    fn raw(args: &[&str]) -> RawExec {
        RawExec {
            cmdline: Field::Read(args.iter().map(|a| (*a).to_owned()).collect()),
            cmdline_truncated: false,
            comm: Field::Read(b"mysql\n".to_vec()),
            exe: Field::Read("/usr/bin/mysql".to_owned()),
            status: Field::Read(
                b"Name:\tmysql\nPPid:\t41\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n".to_vec(),
            ),
        }
    }

    #[test]
    fn the_command_line_is_scrubbed_and_the_status_read() {
        let reading = finish(
            raw(&["mysql", "--password=hunter2", "db"]),
            &Scrubber::default(),
            &[],
        );
        let details = &reading.details;
        assert_eq!(
            details.cmdline.as_deref(),
            Some(
                &[
                    "mysql".to_owned(),
                    format!("--password={MASK}"),
                    "db".to_owned()
                ][..]
            )
        );
        assert_eq!(details.name.as_deref(), Some("mysql"));
        assert_eq!(details.uid, Some(0), "the effective uid");
        assert_eq!(reading.ppid, Some(41));
        assert_eq!(details.missing, None);
        assert!(!reading.excluded);
    }

    #[test]
    fn exclusion_is_decided_on_the_raw_command_line() {
        let patterns = [Regex::new("--password=hunter2").unwrap()];
        let reading = finish(
            raw(&["mysql", "--password=hunter2"]),
            &Scrubber::default(),
            &patterns,
        );
        assert!(reading.excluded);
    }

    #[test]
    fn a_process_gone_before_its_read_says_so() {
        let gone = RawExec {
            cmdline: Field::Read(Vec::new()),
            cmdline_truncated: false,
            comm: Field::Read(b"true\n".to_vec()),
            exe: Field::Gone,
            status: Field::Gone,
        };
        let reading = finish(gone, &Scrubber::default(), &[]);
        assert_eq!(reading.details.cmdline, None);
        assert_eq!(reading.details.exe, None);
        assert_eq!(reading.details.name.as_deref(), Some("true"));
        assert_eq!(reading.details.missing, Some(Missing::Exited));
        // Reaped: nothing to open at all.
        let reaped = read_raw(u32::MAX);
        assert!(matches!(reaped.cmdline, Field::Gone), "{reaped:?}");
        let denied = RawExec {
            exe: Field::Unreadable("permission denied".to_owned()),
            ..raw(&["x"])
        };
        assert_eq!(
            finish(denied, &Scrubber::default(), &[]).details.missing,
            Some(Missing::Unreadable("permission denied".to_owned()))
        );
    }

    #[test]
    fn a_long_command_line_keeps_whole_arguments_within_the_bounds() {
        // Read cut inside the last argument: it is left out, not passed on half.
        assert_eq!(whole_arguments(b"a\0bb\0cc", true), ["a", "bb"]);
        assert_eq!(whole_arguments(b"abc", true), Vec::<String>::new());
        assert_eq!(whole_arguments(b"a\0bb\0cc\0", false), ["a", "bb", "cc"]);

        let many: Vec<String> = (0..1_000).map(|i| format!("--flag{i}")).collect();
        let (kept, cut) = keep_within(many);
        assert!(cut);
        assert_eq!(kept.len(), MAX_ARGS_KEPT);
        let long = vec!["é".repeat(MAX_CMDLINE_KEPT)];
        let (kept, cut) = keep_within(long);
        assert!(cut);
        assert!(kept[0].len() <= MAX_CMDLINE_KEPT && kept[0].len() >= MAX_CMDLINE_KEPT - 1);
        let (kept, cut) = keep_within(vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!((kept.len(), cut), (2, false));
    }

    #[test]
    fn our_own_files_read_whole() {
        let raw = read_raw(std::process::id());
        let reading = finish(raw, &Scrubber::default(), &[]);
        let details = reading.details;
        assert_eq!(details.missing, None, "{details:?}");
        assert_eq!(
            details.uid,
            Some(rustix::process::geteuid().as_raw()),
            "{details:?}"
        );
        assert_eq!(
            reading.ppid,
            Some(rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32))
        );
        let own_exe = std::env::current_exe().map(|p| p.to_string_lossy().into_owned());
        assert_eq!(details.exe, own_exe.ok());
        assert!(details.cmdline.is_some_and(|args| !args.is_empty()));
    }
}
