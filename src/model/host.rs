use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Host-wide figures, taken in the same pass as the processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Host {
    /// The kernel's host name (`/proc/sys/kernel/hostname`).
    pub hostname: String,
    /// Kernel release, as `uname -r` prints it.
    pub kernel: String,
    /// When the host booted, unix time in milliseconds.
    pub boot_time_ms: u64,
    /// Seconds since boot.
    pub uptime_secs: f64,
    /// Number of logical CPUs online; 100% CPU for one process means one of these fully busy.
    pub cpu_count: u32,
    /// Run-queue load averages over 1, 5 and 15 minutes.
    pub load_average: LoadAverage,
    /// Physical memory and swap, in bytes.
    pub memory: Memory,
    /// Share of all CPU time spent in each mode since the previous sample (0-100, summing to 100).
    /// Null only when no earlier reading exists to take a difference from.
    pub cpu: Option<HostCpu>,
    /// The same split for each online CPU, in /proc/stat's order (cpu0, cpu1, …). Empty when
    /// `cpu` is null, and when the set of online CPUs changed during the interval.
    #[serde(default)]
    pub cpus: Vec<HostCpu>,
    /// When this snapshot was taken, unix time in milliseconds. Fixed at collection: a resent
    /// snapshot carries the same time.
    pub taken_at_ms: u64,
    /// The sampler's interval in milliseconds (for the one-shot command: the gap between the two
    /// readings that CPU figures are computed over).
    pub interval_ms: u64,
    /// Totals over the whole host (not only the processes in this document, if it was filtered).
    pub counts: Counts,
    /// Host tags from the configuration (`env:production`, `service:web`), attached to every
    /// snapshot.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Bytes through the host's network interfaces (the sampler's own network namespace, all
    /// interfaces but loopback); null when /proc/net/dev could not be read.
    #[serde(default)]
    pub network: Option<NetworkIo>,
    /// The same for every other network namespace (container) the processes are in, by
    /// namespace inode (as text); a namespace whose members all exited is left out.
    #[serde(default)]
    pub namespace_network: BTreeMap<String, NetworkIo>,
}

/// Bytes through a namespace's network interfaces, loopback left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkIo {
    /// Bytes received since the interfaces came up.
    pub rx_bytes: u64,
    /// Bytes sent since the interfaces came up.
    pub tx_bytes: u64,
    /// Bytes per second received over the last interval; null on the first reading.
    pub rx_bytes_per_sec: Option<f64>,
    /// Bytes per second sent over the last interval; null on the first reading.
    pub tx_bytes_per_sec: Option<f64>,
    /// Interfaces counted.
    pub interfaces: u32,
}

/// Load averages as in `/proc/loadavg`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoadAverage {
    /// Over the last minute.
    pub one: f64,
    /// Over the last five minutes.
    pub five: f64,
    /// Over the last fifteen minutes.
    pub fifteen: f64,
}

/// Memory figures from `/proc/meminfo`, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Memory {
    /// MemTotal.
    pub total_bytes: u64,
    /// Memory in use: total minus available (as `free` computes "used" on current procps).
    pub used_bytes: u64,
    /// MemAvailable: what can be allocated without swapping.
    pub available_bytes: u64,
    /// SwapTotal.
    pub swap_total_bytes: u64,
    /// SwapTotal minus SwapFree.
    pub swap_used_bytes: u64,
}

/// How CPU time was spent over the last interval (all CPUs together in `cpu`, one CPU each in
/// `cpus`), in percent (0-100 each, summing to ~100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HostCpu {
    /// User mode, including nice.
    pub user_pct: f64,
    /// Kernel mode, including hard and soft interrupts.
    pub system_pct: f64,
    /// Idle while waiting for I/O.
    pub iowait_pct: f64,
    /// Idle.
    pub idle_pct: f64,
    /// Stolen by the hypervisor.
    pub steal_pct: f64,
}

/// Host-wide counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    /// Processes in the snapshot (including kernel threads; excluded processes not counted).
    pub processes: u32,
    /// Threads across those processes.
    pub threads: u32,
    /// Listening sockets: TCP in LISTEN and bound, unconnected UDP sockets.
    pub listening_sockets: u32,
    /// TCP connections in ESTABLISHED, plus connected UDP sockets.
    pub established_connections: u32,
}

/// How this snapshot was collected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Collection {
    /// Wall time the sampler spent on this snapshot, in milliseconds.
    pub duration_ms: f64,
    /// How that time divided between the phases of a sample.
    pub phases: CollectionPhases,
    /// Whether sockets were collected at all.
    pub connections_collected: bool,
    /// Whether socket ownership came from reading every process's fds this time (first sample,
    /// fallback, or periodic refresh) rather than from the cache plus the processes that changed.
    pub full_ownership_scan: bool,
    /// Network namespaces whose socket tables were read.
    pub network_namespaces: Vec<u64>,
    /// True when the sampler ran without the privileges to read every process (not root and
    /// without CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH).
    pub restricted: bool,
    /// Processes with at least one field that could not be read.
    pub processes_with_unreadable_fields: u32,
    /// Processes left out because their command line matched `exclude_patterns`.
    #[serde(default)]
    pub excluded_processes: u32,
    /// Problems that affected the snapshot as a whole (a socket table that could not be read).
    pub warnings: Vec<String>,
    /// Network namespaces (by inode, as text) whose TCP sockets have no traffic figures, with
    /// why: their tables were read from /proc because the namespace could not be entered.
    #[serde(default)]
    pub traffic_unavailable: BTreeMap<String, String>,
    /// Network namespaces (by inode, as text) whose connections that close between samples
    /// are not caught, with why: subscribing to another namespace's socket-destroy
    /// notifications means entering it, which needs CAP_SYS_ADMIN (and a kernel may ask
    /// CAP_NET_ADMIN for the subscription itself). Empty when every namespace of
    /// `network_namespaces` is covered.
    #[serde(default)]
    pub closed_connections_unavailable: BTreeMap<String, String>,
    /// Why the kernel's process events are not followed (so processes that start and end
    /// between two snapshots are missed); null when they are.
    #[serde(default)]
    pub process_events_unavailable: Option<String>,
    /// Process events lost since the previous snapshot (an exec storm outran the bounded
    /// queue, or the kernel's buffer overran).
    #[serde(default)]
    pub process_events_dropped: u64,
}

/// Wall time of each phase of one sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CollectionPhases {
    /// Host files and every process's stat, io and fd count.
    pub processes_ms: f64,
    /// The socket tables of every network namespace.
    pub socket_tables_ms: f64,
    /// Working out which process holds which socket (the /proc/<pid>/fd reads).
    pub ownership_ms: f64,
    /// Matching connections to their peers and handing sockets to their owners.
    pub peers_ms: f64,
}
