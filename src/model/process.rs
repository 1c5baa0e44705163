use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::attribution::Attribution;
use super::socket::{Connection, Listening};
use super::traffic::ClosedConnection;
use super::unexpected::UnexpectedReason;

/// One process, identified by `pid` plus `start_time_ms` (a reused pid is a new process).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Parent process id (0 for init and kthreadd).
    pub ppid: u32,
    /// Short name (the kernel's `comm`, at most 15 bytes).
    pub name: String,
    /// Path of the executable; null when unreadable (see `unreadable`) or a kernel thread.
    pub exe: Option<String>,
    /// Arguments as the process sees them (argv), secrets scrubbed. Empty for kernel threads
    /// and zombies.
    pub cmdline: Vec<String>,
    /// User name of the owner; null when the uid has no name on this host.
    pub user: Option<String>,
    /// Owner's user id.
    pub uid: u32,
    /// Scheduler state.
    pub state: ProcessState,
    /// Threads in the process.
    pub threads: u32,
    /// Nice value, -20 (most favoured) to 19 (`/proc/<pid>/stat` field 19); null in snapshots
    /// written before wiretop read it.
    #[serde(default)]
    pub nice: Option<i32>,
    /// The kernel's scheduling priority as top's PR shows it (`/proc/<pid>/stat` field 18: 20
    /// plus nice for normal processes, -2 to -100 for real-time ones); null as `nice`.
    #[serde(default)]
    pub priority: Option<i32>,
    /// When the process started, unix time in milliseconds.
    pub start_time_ms: u64,
    /// A kernel thread (owns no memory map and no file descriptors).
    pub kernel_thread: bool,
    /// CPU use over the last interval, on top's scale (one busy core = 100%). Null when there is
    /// no earlier reading of this process to take a difference from.
    pub cpu: Option<CpuUsage>,
    /// Cumulative CPU time since the process started.
    pub cpu_time: CpuTime,
    /// Memory use.
    pub memory: ProcessMemory,
    /// Block-device I/O from `/proc/<pid>/io`; null when unreadable (see `unreadable`).
    pub disk: Option<DiskIo>,
    /// Bytes per second sent (acknowledged by the other end) over the last interval, summed
    /// over the process's TCP connections that have a rate; null when none could be measured
    /// (its sockets unreadable, or only in namespaces read from /proc). UDP is not counted:
    /// the kernel keeps no per-socket counters for it.
    pub net_send_bytes_per_sec: Option<f64>,
    /// Bytes per second received over the last interval, as `net_send_bytes_per_sec`.
    pub net_recv_bytes_per_sec: Option<f64>,
    /// Bytes sent over TCP over the process's life, as far as wiretop has seen it: the totals
    /// of its open connections plus those of its connections that closed while wiretop ran
    /// (see `recently_closed`); null where `net_send_bytes_per_sec` is.
    #[serde(default)]
    pub net_sent_bytes: Option<u64>,
    /// Bytes received over TCP, as `net_sent_bytes`.
    #[serde(default)]
    pub net_received_bytes: Option<u64>,
    /// Open file descriptors; null when unreadable (see `unreadable`).
    pub fd_count: Option<u32>,
    /// The process's cgroup v2 path (or the first v1 hierarchy); null when unreadable.
    pub cgroup: Option<String>,
    /// Container id, when the cgroup path names one: the same as `container.id`, kept for
    /// readers of earlier snapshots.
    pub container_id: Option<String>,
    /// The systemd unit and slice, container and Kubernetes pod of the process (the fields
    /// `systemd_unit`, `systemd_slice`, `container` and `k8s`, which sit on the process itself).
    #[serde(flatten)]
    pub attribution: Attribution,
    /// Inode of the network namespace the process lives in; null when unreadable.
    pub netns: Option<u64>,
    /// Sockets this process holds that accept connections or datagrams.
    pub listening: Vec<Listening>,
    /// Connected sockets this process holds.
    pub connections: Vec<Connection>,
    /// TCP connections of this process that closed in the last minute (from the kernel's
    /// socket-destroy notifications of the namespace each closed in; missing those of a
    /// namespace listed in `collection.closed_connections_unavailable`).
    #[serde(default)]
    pub recently_closed: Vec<ClosedConnection>,
    /// Fields that could not be read, with the reason (`"fds": "permission denied"`). A field
    /// listed here is null or empty above because it is unknown, not because it is zero.
    pub unreadable: BTreeMap<String, String>,
    /// Started after the document's reference time: with `--baseline FILE`, when the baseline
    /// was saved (its `saved_at`); without one (or with a baseline that has no `saved_at`), the
    /// first of `wiretop snapshot`'s two readings, `host.interval_ms` before this one. Precisely:
    /// `start_time_ms` is later than the reference, both counted on the kernel's clock for start
    /// times (boot time plus time since boot), so the comparison holds to a clock tick however
    /// the wall clock is set. Always false in snapshots the uplink ships.
    #[serde(default)]
    pub new: bool,
    /// Whether something about this process is missing from the baseline given with `--baseline
    /// FILE` (`unexpected_reasons` says what); null when no baseline was given. Kernel threads
    /// are never unexpected.
    #[serde(default)]
    pub unexpected: Option<bool>,
    /// What about this process the baseline does not list, sorted, each once; empty unless
    /// `unexpected` is true.
    #[serde(default)]
    pub unexpected_reasons: Vec<UnexpectedReason>,
}

/// Scheduler state, from the state letter in `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessState {
    /// R: running or runnable.
    Running,
    /// S: interruptible sleep.
    Sleeping,
    /// D: uninterruptible sleep, usually disk I/O.
    DiskSleep,
    /// Z: exited, not yet reaped by its parent.
    Zombie,
    /// T: stopped by a signal.
    Stopped,
    /// t: stopped by a debugger.
    TracingStop,
    /// X: dead.
    Dead,
    /// I: idle kernel thread.
    Idle,
    /// P: parked kernel thread.
    Parked,
    /// Any other letter.
    Unknown,
}

impl Process {
    /// TCP bytes per second sent and received together; None unless both are known.
    pub fn net_bytes_per_sec(&self) -> Option<f64> {
        Some(self.net_send_bytes_per_sec? + self.net_recv_bytes_per_sec?)
    }
}

impl ProcessState {
    /// Maps the kernel's state letter.
    pub fn from_letter(letter: char) -> Self {
        match letter {
            'R' => Self::Running,
            'S' => Self::Sleeping,
            'D' => Self::DiskSleep,
            'Z' => Self::Zombie,
            'T' => Self::Stopped,
            't' => Self::TracingStop,
            'X' | 'x' => Self::Dead,
            'I' => Self::Idle,
            'P' => Self::Parked,
            _ => Self::Unknown,
        }
    }

    /// The one-letter form ps and top show.
    pub fn letter(self) -> char {
        match self {
            Self::Running => 'R',
            Self::Sleeping => 'S',
            Self::DiskSleep => 'D',
            Self::Zombie => 'Z',
            Self::Stopped => 'T',
            Self::TracingStop => 't',
            Self::Dead => 'X',
            Self::Idle => 'I',
            Self::Parked => 'P',
            Self::Unknown => '?',
        }
    }
}

/// CPU use over the last interval, in percent of one core.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuUsage {
    /// User plus system.
    pub total_pct: f64,
    /// In user mode.
    pub user_pct: f64,
    /// In kernel mode.
    pub system_pct: f64,
}

/// Cumulative CPU time, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CpuTime {
    /// In user mode.
    pub user_ms: u64,
    /// In kernel mode.
    pub system_ms: u64,
}

/// Memory use of one process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessMemory {
    /// Resident set size.
    pub rss_bytes: u64,
    /// Virtual address space size.
    pub virtual_bytes: u64,
    /// RSS as a percentage of the host's physical memory.
    pub percent: f64,
}

/// Storage I/O of one process (`read_bytes`/`write_bytes` in `/proc/<pid>/io`: bytes that
/// reached the block layer, not cache hits).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiskIo {
    /// Read rate over the last interval; null without an earlier reading.
    pub read_bytes_per_sec: Option<f64>,
    /// Write rate over the last interval; null without an earlier reading.
    pub write_bytes_per_sec: Option<f64>,
    /// Bytes read since the process started.
    pub read_bytes_total: u64,
    /// Bytes written since the process started.
    pub write_bytes_total: u64,
}
