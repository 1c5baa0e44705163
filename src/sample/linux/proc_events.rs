//! Process events from the kernel's process events connector (netlink `NETLINK_CONNECTOR`,
//! `CN_IDX_PROC`): every fork, exec, exit, uid change and rename on the host as it happens, so
//! a process that lives a few milliseconds between two samples is still recorded, with its
//! command line, user, exit status and runtime.
//!
//! [`ProcEvents::start`] subscribes and starts one reader thread; [`ProcEvents::drain`] takes
//! what it has queued; dropping the handle stops the thread. Subscribing needs CAP_NET_ADMIN,
//! and the kernel only reports to listeners in its initial pid, user and network namespaces:
//! where that fails, [`Unavailable`] says why, and the caller falls back to comparing samples.
//!
//! Invariants, and why:
//! - **Only processes.** The connector reports threads as forks and exits too (task id ≠
//!   process id); those are ignored before anything is read, so a program starting thousands
//!   of threads costs a comparison each. A process's exit is its main thread's: one whose
//!   main thread ends before the others (`pthread_exit`) is reported as exited then.
//! - **Read at once, scrubbed at once.** On an exec the reader thread reads the process's
//!   command line, name, executable and user right away (it may live only milliseconds) and
//!   runs them through the [`Scrubber`] before they are stored: the raw command line never
//!   leaves that thread. Exclude patterns are matched there too, on the raw command line as
//!   the sampler does, and an excluded process's events are not queued (nor its children's
//!   until they exec something else), except its fork: that comes before its exec shows what
//!   it is, and says only that a pid was made.
//! - **Bounded memory.** A fork bomb or exec storm cannot grow wiretop: the queue holds at
//!   most [`Limits::queued_events`] events and about [`Limits::queued_bytes`] bytes of them
//!   (the oldest go first, counted in [`Drained::dropped`]); a command line is kept up to
//!   [`MAX_CMDLINE_KEPT`] bytes and [`MAX_ARGS_KEPT`] arguments; and the processes waiting for
//!   their exit (to report a runtime) are at most [`Limits::tracked_processes`], the oldest
//!   forgotten first ([`Drained::forgotten`]; the oldest are the long-lived ones, whose start
//!   the sampler knows anyway). When the reader falls behind, the kernel discards events from
//!   the socket's buffer and says so; that too is counted.
//! - **Wall-clock times.** The kernel stamps events with CLOCK_MONOTONIC; they are placed on
//!   the wall clock (ms since the epoch, [`crate::time`]) by their age when read, so an event
//!   that waited in the socket's buffer keeps the time it happened, and runtimes are the
//!   difference of two kernel stamps, exact whatever the reader's delay.

mod exec_details;
mod queue;
mod reader;
mod tracker;
mod wire;

#[cfg(test)]
mod tests;

use std::os::fd::OwnedFd;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use regex::Regex;

use crate::sample::SamplerSettings;
use crate::scrub::Scrubber;

use queue::Shared;

pub use exec_details::{MAX_ARGS_KEPT, MAX_CMDLINE_KEPT};

/// How long [`ProcEvents::start`] waits for the kernel to acknowledge the subscription.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// The reader thread's name, as `/proc/<pid>/task/<tid>/comm` shows it.
const THREAD_NAME: &str = "wiretop-procev";

/// What happened to a process, as the kernel reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcEvent {
    /// The process id.
    pub pid: u32,
    /// Its parent, when known: from the fork, the exec's read of `/proc`, or the exit.
    pub ppid: Option<u32>,
    /// When it happened, in ms since the epoch.
    pub at_ms: u64,
    pub kind: ProcEventKind,
}

/// The kinds of process events, with what each one knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcEventKind {
    /// A new process (a copy of its parent until it execs).
    Fork,
    /// The process now runs another program.
    Exec(ExecDetails),
    /// The process ended.
    Exit(ExitDetails),
    /// Its user ids changed (setuid).
    Uid { real: u32, effective: u32 },
    /// It renamed itself (`prctl(PR_SET_NAME)`, a write to `/proc/<pid>/comm`); scrubbed.
    Comm { name: String },
}

/// What was read of a process just after it exec'd. All of it is scrubbed. A field is `None`
/// when it could not be read, and [`Self::missing`] says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecDetails {
    /// The command line.
    pub cmdline: Option<Vec<String>>,
    /// The command line was longer than what is kept: trailing arguments were left out and
    /// the last one kept may be cut.
    pub cmdline_truncated: bool,
    /// The kernel's name for it (`comm`).
    pub name: Option<String>,
    /// The path of its executable.
    pub exe: Option<String>,
    /// The user it runs as (the effective uid, as snapshots show it).
    pub uid: Option<u32>,
    /// Why a field above is missing, if one is.
    pub missing: Option<Missing>,
}

/// Why something of a process could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// It exited before the reader got to it.
    #[error("exited before it could be read")]
    Exited,
    /// Reading failed for another reason (permission, ...).
    #[error("{0}")]
    Unreadable(String),
}

/// How a process ended, and how long it had run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitDetails {
    pub status: ExitStatus,
    /// Its start and runtime, when its fork or exec was seen and is still remembered.
    pub lifetime: Option<Lifetime>,
    /// Its name (scrubbed) when last seen.
    pub name: Option<String>,
}

/// How a process ended: the kernel's wait status, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal { signal: i32, core_dumped: bool },
}

impl ExitStatus {
    /// Decodes a wait status (`WIFEXITED`/`WTERMSIG`).
    pub fn from_wait_status(status: u32) -> Self {
        let signal = (status & 0x7f) as i32;
        if signal == 0 {
            ExitStatus::Code(((status >> 8) & 0xff) as i32)
        } else {
            ExitStatus::Signal {
                signal,
                core_dumped: status & 0x80 != 0,
            }
        }
    }
}

/// When a process started and how long it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// In ms since the epoch.
    pub started_at_ms: u64,
    /// From the two kernel timestamps.
    pub runtime: Duration,
    /// Counted from its exec: it forked before the listener started.
    pub from_exec: bool,
}

/// How much the listener keeps: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Events queued between two drains.
    pub queued_events: usize,
    /// About this many bytes of queued events (their text and their own size).
    pub queued_bytes: usize,
    /// Processes remembered from their fork or exec until their exit.
    pub tracked_processes: usize,
}

impl Default for Limits {
    /// 4,096 events in at most about 4 MiB; 8,192 processes (under 2 MiB).
    fn default() -> Self {
        Limits {
            queued_events: 4_096,
            queued_bytes: 4 << 20,
            tracked_processes: 8_192,
        }
    }
}

/// What the listener needs: how to hide secrets and which processes to leave out.
#[derive(Debug, Clone)]
pub struct ProcEventsSettings {
    /// Applied to every command line, name and executable path before it is stored.
    pub scrubber: Arc<Scrubber>,
    /// Processes whose raw command line (or name) matches are left out, as from snapshots.
    pub exclude: Vec<Regex>,
    pub limits: Limits,
}

impl ProcEventsSettings {
    /// The sampler's scrubber and exclude patterns, with the default limits.
    pub fn from_sampler(settings: &SamplerSettings) -> Self {
        ProcEventsSettings {
            scrubber: Arc::clone(&settings.scrubber),
            exclude: settings.exclude.clone(),
            limits: Limits::default(),
        }
    }
}

/// Why process events cannot be had here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("needs CAP_NET_ADMIN (run as root)")]
    NotPermitted,
    #[error("connector not in this kernel: {0}")]
    NotInKernel(String),
    /// The connector serves only the initial namespaces; this names the one we are not in.
    #[error(
        "runs in its own {0} namespace (a container?): the kernel reports process events only \
         to listeners in the host's namespaces"
    )]
    OtherNamespace(&'static str),
    #[error("{what}: {error}")]
    System { what: &'static str, error: String },
}

/// What [`ProcEvents::drain`] hands over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drained {
    /// The events queued since the last drain, oldest first.
    pub events: Vec<ProcEvent>,
    /// Events lost since the last drain: pushed out of the full queue, unreadable, or
    /// discarded by the kernel (each time it did counts one: it does not say how many).
    pub dropped: u64,
    /// Of [`Self::dropped`], the times the kernel discarded events.
    pub kernel_overruns: u64,
    /// Processes forgotten since the last drain to keep the bookkeeping bounded: their exits
    /// come without a [`Lifetime`].
    pub forgotten: u64,
    /// Why the reader stopped on its own (a socket error), if it did: nothing more will come.
    pub stopped: Option<String>,
}

/// How full the listener's bounded stores are now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub queued_events: usize,
    pub queued_bytes: usize,
    pub tracked_processes: usize,
}

/// A subscription to process events, read by a thread of its own. Dropping it stops the
/// thread and unsubscribes.
pub struct ProcEvents {
    shared: Arc<Shared>,
    /// Written to stop the reader, which polls it with the socket.
    stop: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
}

impl ProcEvents {
    /// Subscribes and starts the reader; returns once the kernel has acknowledged the
    /// subscription (at most 2 s later), or why it cannot be had.
    pub fn start(settings: ProcEventsSettings) -> Result<ProcEvents, Unavailable> {
        if let Some(namespace) = reader::outside_the_initial_namespaces() {
            return Err(namespace);
        }
        let socket = reader::open_socket()?;
        let stop = Arc::new(reader::stop_fd()?);
        let shared = Arc::new(Shared::new(settings.limits));
        let (answer, answered) = mpsc::sync_channel(1);
        let reader = reader::Reader::new(
            socket,
            Arc::clone(&stop),
            Arc::clone(&shared),
            settings,
            answer,
        )?;
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || reader.run())
            .map_err(|e| Unavailable::System {
                what: "starting the reader thread",
                error: e.to_string(),
            })?;
        let events = ProcEvents {
            shared,
            stop,
            thread: Some(thread),
        };
        match answered.recv_timeout(ACK_TIMEOUT) {
            Ok(Ok(())) => Ok(events),
            Ok(Err(unavailable)) => Err(unavailable),
            Err(RecvTimeoutError::Timeout) => Err(reader::unacknowledged()),
            Err(RecvTimeoutError::Disconnected) => Err(Unavailable::System {
                what: "the reader stopped before the kernel answered",
                error: events.shared.stopped().unwrap_or_default(),
            }),
        }
    }

    /// Takes the queued events and the counts of what was lost since the last drain.
    pub fn drain(&self) -> Drained {
        self.shared.drain()
    }

    /// How full the bounded stores are.
    pub fn backlog(&self) -> Backlog {
        self.shared.backlog()
    }
}

impl Drop for ProcEvents {
    /// The reader blocks only in `poll` on the socket and the stop descriptor (its reads of
    /// `/proc` take microseconds), so it sees the stop at once and the join is short.
    fn drop(&mut self) {
        reader::request_stop(&self.stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
