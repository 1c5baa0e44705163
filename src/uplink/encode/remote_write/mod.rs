//! Prometheus remote-write 1.0: one gauge or counter sample per time series, per snapshot.
//!
//! Each series is encoded on its own as one entry of `WriteRequest.timeseries` (field 1, with its
//! tag and length prefix). Entries of a repeated field may be written back to back, so any subset
//! of a batch's records concatenated is itself a valid `WriteRequest`: a batch can be split after
//! a 413 without re-encoding, and [`Batch::body`] only concatenates and snappy-compresses.
//!
//! Per-connection series are per conversation ([`conversations`]: a client's service, a
//! server's port and client address), never per ephemeral port, and at most
//! `max_conversations` of them, the busiest, per snapshot; how many were left out is a series
//! of its own. Their byte and retransmit totals are kept monotonic across connections that
//! close ([`totals`]), which makes this encoder stateful: feed it snapshots in order.

mod connection_series;
mod conversations;
mod totals;

use std::collections::BTreeMap;

use crate::model::{Host, Process, Snapshot, SocketState};
use crate::uplink::batch::{Batch, Class, Records};
use totals::RunningTotals;

/// `prometheus.WriteRequest` (remote write 1.0). Metadata (field 3) is not sent.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    /// The series of this request.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`: a label set and its samples.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    /// Labels, sorted by name, including `__name__`.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Samples, oldest first (here always exactly one).
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, prost::Message)]
pub struct Label {
    /// Label name, `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Label value; never empty (Prometheus treats an empty value as an absent label).
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Unix time in milliseconds.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// Labels the encoder sets itself (besides `__name__`); a tag with one of these names is renamed
/// `tag_<name>` so that no series ever carries a label name twice (receivers reject that).
const RESERVED: &[&str] = &[
    "pid",
    "process_name",
    "command_line",
    "owner",
    "host",
    "instance",
    "job",
    "mode",
    "state",
    "direction",
    "role",
    "local_port",
    "remote_address",
    "remote_port",
];

/// Command lines can be very long (JVMs, generated argument lists); a label value that size
/// costs every sample in the receiver's index, and the start of the line identifies the process.
const MAX_COMMAND_LINE_CHARS: usize = 1024;

/// Turns snapshots into remote-write batches of a bounded number of series.
#[derive(Debug)]
pub struct RemoteWriteEncoder {
    max_series_per_batch: usize,
    max_conversations: usize,
    totals: RunningTotals,
}

impl RemoteWriteEncoder {
    /// An encoder putting at most `max_series_per_batch` series in one batch (0 is taken as 1)
    /// and per-connection series of at most `max_conversations` conversations per snapshot (0:
    /// none).
    pub fn new(max_series_per_batch: usize, max_conversations: usize) -> Self {
        Self {
            max_series_per_batch: max_series_per_batch.max(1),
            max_conversations,
            totals: RunningTotals::default(),
        }
    }

    /// The batches for one snapshot: host series first, then each process in snapshot order,
    /// then the conversations kept, every series with one sample at the snapshot's
    /// `taken_at_ms`. All [`Class::Snapshot`]. Feed snapshots in the order taken: the
    /// conversations' totals carry over from one to the next.
    pub fn encode_snapshot(&mut self, snapshot: &Snapshot) -> Vec<Batch> {
        let taken_at_ms = snapshot.host.taken_at_ms;
        let mut out = Series {
            timestamp: i64::try_from(taken_at_ms).unwrap_or(i64::MAX),
            entries: Vec::new(),
        };
        let base = base_labels(&snapshot.host);
        host_series(&mut out, &snapshot.host, &base);
        let cpu_count = f64::from(snapshot.host.cpu_count.max(1));
        for process in &snapshot.processes {
            process_series(&mut out, process, &base, cpu_count);
        }
        // Without a socket scan nothing is known of conversations, not even that there are none.
        if snapshot.collection.connections_collected {
            connection_series::conversation_series(
                &mut out,
                &mut self.totals,
                self.max_conversations,
                &snapshot.processes,
                &base,
            );
        }

        let mut batches = Vec::with_capacity(out.entries.len() / self.max_series_per_batch + 1);
        let mut entries = out.entries.into_iter().peekable();
        while entries.peek().is_some() {
            let chunk: Vec<Vec<u8>> = entries.by_ref().take(self.max_series_per_batch).collect();
            batches.push(Batch {
                class: Class::Snapshot,
                taken_at_ms,
                records: Records::RemoteWrite(chunk),
            });
        }
        batches
    }
}

/// Collects encoded series entries, all stamped with the same time.
struct Series {
    timestamp: i64,
    entries: Vec<Vec<u8>>,
}

impl Series {
    /// Adds one series: `name` with the `common` labels plus an optional `extra` one.
    fn push(&mut self, name: &str, common: &[Label], extra: Option<(&str, &str)>, value: f64) {
        let mut labels = Vec::with_capacity(common.len() + 2);
        add_label(&mut labels, "__name__", name);
        if let Some((key, val)) = extra {
            add_label(&mut labels, key, val);
        }
        labels.extend_from_slice(common);
        // The spec requires labels sorted by name (byte order); names are unique by construction.
        labels.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let series = TimeSeries {
            labels,
            samples: vec![Sample {
                value,
                timestamp: self.timestamp,
            }],
        };
        let mut entry = Vec::new();
        // Writes tag (field 1, length-delimited), length and message: one `timeseries` entry.
        prost::encoding::message::encode(1, &series, &mut entry);
        self.entries.push(entry);
    }
}

/// Appends a label, dropping control characters from the value and the label when it ends up
/// empty.
fn add_label(labels: &mut Vec<Label>, name: &str, value: &str) {
    let value: String = value.chars().filter(|c| !c.is_control()).collect();
    if !value.is_empty() {
        labels.push(Label {
            name: name.to_owned(),
            value,
        });
    }
}

/// The label name for a tag key: lower-cased, characters outside `[a-z0-9_]` replaced by `_`,
/// and `tag_` put in front when the name does not start with a letter or is one the encoder sets
/// itself. A lower-case leading letter keeps every tag label sorting after `__name__` (byte
/// order: `_` < `a`) and follows Prometheus naming. None for an empty key.
fn tag_label_name(key: &str) -> Option<String> {
    if key.is_empty() {
        return None;
    }
    let name: String = key
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || RESERVED.contains(&name.as_str()) {
        return Some(format!("tag_{name}"));
    }
    Some(name)
}

/// Labels every series of this host carries: identity, `job` and the host tags.
fn base_labels(host: &Host) -> Vec<Label> {
    let mut labels = Vec::new();
    add_label(&mut labels, "host", &host.hostname);
    add_label(&mut labels, "instance", &host.hostname);
    add_label(&mut labels, "job", "wiretop");
    for tag in &host.tags {
        // `env:production` -> env="production"; a bare tag `canary` -> canary="true". Split at
        // the first colon only: values may contain colons (URLs, ports).
        let (key, value) = tag.split_once(':').unwrap_or((tag.as_str(), "true"));
        let Some(name) = tag_label_name(key) else {
            continue;
        };
        // The first tag of a name wins; two tags may sanitize to the same name.
        if labels.iter().any(|l| l.name == name) {
            continue;
        }
        add_label(&mut labels, &name, value);
    }
    labels
}

fn host_series(out: &mut Series, host: &Host, base: &[Label]) {
    if let Some(cpu) = host.cpu {
        for (mode, pct) in [
            ("user", cpu.user_pct),
            ("system", cpu.system_pct),
            ("iowait", cpu.iowait_pct),
            ("idle", cpu.idle_pct),
            ("steal", cpu.steal_pct),
        ] {
            let name = "wiretop_host_cpu_utilization_ratio";
            out.push(name, base, Some(("mode", mode)), pct / 100.0);
        }
    }
    let memory = host.memory;
    for (state, bytes) in [
        ("used", memory.used_bytes),
        ("available", memory.available_bytes),
        ("total", memory.total_bytes),
    ] {
        let name = "wiretop_host_memory_bytes";
        out.push(name, base, Some(("state", state)), bytes as f64);
    }
    let load = host.load_average;
    out.push("wiretop_host_load1", base, None, load.one);
    out.push("wiretop_host_load5", base, None, load.five);
    out.push("wiretop_host_load15", base, None, load.fifteen);
    let counts = host.counts;
    let (processes, threads) = (counts.processes.into(), counts.threads.into());
    out.push("wiretop_host_processes", base, None, processes);
    out.push("wiretop_host_threads", base, None, threads);
    for (state, n) in [
        ("listening", counts.listening_sockets),
        ("established", counts.established_connections),
    ] {
        let name = "wiretop_host_connections";
        out.push(name, base, Some(("state", state)), n.into());
    }
    out.push("wiretop_host_uptime_seconds", base, None, host.uptime_secs);
}

fn process_series(out: &mut Series, p: &Process, base: &[Label], cpu_count: f64) {
    let mut labels = base.to_vec();
    add_label(&mut labels, "pid", &p.pid.to_string());
    add_label(&mut labels, "process_name", &p.name);
    let command_line: String = p
        .cmdline
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_COMMAND_LINE_CHARS)
        .collect();
    add_label(&mut labels, "command_line", &command_line);
    let owner = p.user.clone().unwrap_or_else(|| p.uid.to_string());
    add_label(&mut labels, "owner", &owner);
    let labels = labels.as_slice();

    let cpu_name = "wiretop_process_cpu_seconds_total";
    let user_secs = p.cpu_time.user_ms as f64 / 1000.0;
    let system_secs = p.cpu_time.system_ms as f64 / 1000.0;
    out.push(cpu_name, labels, Some(("mode", "user")), user_secs);
    out.push(cpu_name, labels, Some(("mode", "system")), system_secs);
    if let Some(cpu) = p.cpu {
        // top's scale (one busy core = 100%) to a share of the whole machine.
        let ratio = cpu.total_pct / 100.0 / cpu_count;
        out.push("wiretop_process_cpu_utilization_ratio", labels, None, ratio);
    }
    let rss = p.memory.rss_bytes as f64;
    let virt = p.memory.virtual_bytes as f64;
    out.push("wiretop_process_resident_memory_bytes", labels, None, rss);
    out.push("wiretop_process_virtual_memory_bytes", labels, None, virt);
    out.push("wiretop_process_threads", labels, None, p.threads.into());
    // Unknown is left out rather than sent as 0, which would read as a real measurement.
    if let Some(fds) = p.fd_count {
        out.push("wiretop_process_open_fds", labels, None, fds.into());
    }
    if let Some(disk) = p.disk {
        let (read, write) = (disk.read_bytes_total as f64, disk.write_bytes_total as f64);
        let (read_name, write_name) = (
            "wiretop_process_disk_read_bytes_total",
            "wiretop_process_disk_write_bytes_total",
        );
        out.push(read_name, labels, None, read);
        out.push(write_name, labels, None, write);
    }
    // Only rates are known per process, so a gauge, one series a direction, each only when
    // measured. Per connection the series are per conversation, capped (see
    // `conversation_series`).
    for (direction, rate) in [
        ("transmit", p.net_send_bytes_per_sec),
        ("receive", p.net_recv_bytes_per_sec),
    ] {
        if let Some(rate) = rate.filter(|r| r.is_finite()) {
            let name = "wiretop_process_network_bytes_per_second";
            out.push(name, labels, Some(("direction", direction)), rate);
        }
    }
    // Kernel threads hold no sockets; skipping them saves two series per kernel thread.
    if !p.kernel_thread {
        for (state, n) in connection_counts(p) {
            let name = "wiretop_process_connections";
            out.push(name, labels, Some(("state", &state)), n);
        }
    }
    let start = p.start_time_ms as f64 / 1000.0;
    out.push("wiretop_process_start_time_seconds", labels, None, start);
}

/// Sockets per state, named as the host series name them (`listening`, `established`) plus the
/// lower-cased kernel names of any other states present. `listening` and `established` are
/// always there, so a count that drops to zero is sent as zero instead of going stale.
fn connection_counts(p: &Process) -> BTreeMap<String, f64> {
    let mut counts = BTreeMap::new();
    counts.insert("listening".to_owned(), p.listening.len() as f64);
    counts.insert("established".to_owned(), 0.0);
    let mut by_state: BTreeMap<SocketState, f64> = BTreeMap::new();
    for conn in &p.connections {
        *by_state.entry(conn.state).or_default() += 1.0;
    }
    for (state, n) in by_state {
        *counts
            .entry(state.as_str().to_ascii_lowercase())
            .or_default() += n;
    }
    counts
}

#[cfg(test)]
mod tests;
