//! Prometheus remote-write 1.0: one gauge or counter sample per time series, per snapshot.
//!
//! Each series is encoded on its own as one entry of `WriteRequest.timeseries` (field 1, with its
//! tag and length prefix). Entries of a repeated field may be written back to back, so any subset
//! of a batch's records concatenated is itself a valid `WriteRequest`: a batch can be split after
//! a 413 without re-encoding, and [`Batch::body`] only concatenates and snappy-compresses.

use std::collections::BTreeMap;

use crate::model::{Host, Process, Snapshot, SocketState};
use crate::uplink::batch::{Batch, Class, Records};

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
];

/// Command lines can be very long (JVMs, generated argument lists); a label value that size
/// costs every sample in the receiver's index, and the start of the line identifies the process.
const MAX_COMMAND_LINE_CHARS: usize = 1024;

/// Turns snapshots into remote-write batches of a bounded number of series.
#[derive(Debug, Clone)]
pub struct RemoteWriteEncoder {
    max_series_per_batch: usize,
}

impl RemoteWriteEncoder {
    /// An encoder putting at most `max_series_per_batch` series in one batch (0 is taken as 1).
    pub fn new(max_series_per_batch: usize) -> Self {
        Self {
            max_series_per_batch: max_series_per_batch.max(1),
        }
    }

    /// The batches for one snapshot: host series first, then each process in snapshot order,
    /// every series with one sample at the snapshot's `taken_at_ms`. All [`Class::Snapshot`].
    pub fn encode_snapshot(&self, snapshot: &Snapshot) -> Vec<Batch> {
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
    // measured. Per connection there are no series at all (ports and peers would multiply
    // them without bound); the OTLP connection logs carry those figures.
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
mod tests {
    use std::collections::BTreeMap;

    use prost::Message;

    use super::*;
    use crate::model::examples::TAKEN_AT_MS;
    use crate::model::{Connection, CpuTime, LoadAverage};
    use crate::uplink::batch::{Compression, Encoding};
    use SocketState::{CloseWait, Established};

    const MIB: u64 = 1024 * 1024;

    fn connection(state: SocketState) -> Connection {
        let json = serde_json::json!({
            "proto": "tcp", "family": "ipv4", "local_addr": "10.0.0.1", "local_port": 8080,
            "remote_addr": "10.0.0.2", "remote_port": 50000, "state": state,
            "direction": "inbound", "role": null, "inode": 1, "netns": null,
            "peer_pid": null, "peer_name": null,
        });
        serde_json::from_value(json).unwrap()
    }

    fn snapshot() -> Snapshot {
        let mut web = Process::example(100, "www");
        web.name = "nginx".to_owned();
        web.cmdline = vec!["nginx:".to_owned(), "worker\nprocess".to_owned()];
        let cpu = r#"{"total_pct":50,"user_pct":40,"system_pct":10}"#;
        web.cpu = Some(serde_json::from_str(cpu).unwrap());
        web.cpu_time = CpuTime {
            user_ms: 12_500,
            system_ms: 1_250,
        };
        web.memory.rss_bytes = 80 * MIB;
        web.memory.virtual_bytes = 900 * MIB;
        web.threads = 4;
        web.start_time_ms = TAKEN_AT_MS - 60_000;
        web.fd_count = Some(42);
        let disk = r#"{"read_bytes_per_sec":null,"write_bytes_per_sec":null,
                       "read_bytes_total":4096,"write_bytes_total":8192}"#;
        web.disk = Some(serde_json::from_str(disk).unwrap());
        let listen = r#"{"proto":"tcp","family":"ipv4","addr":"0.0.0.0","port":80,"inode":7,
                         "netns":null}"#;
        web.listening.push(serde_json::from_str(listen).unwrap());
        for state in [Established, Established, CloseWait] {
            web.connections.push(connection(state));
        }
        web.net_send_bytes_per_sec = Some(1_500.0);
        web.net_recv_bytes_per_sec = Some(250.5);
        let mut idle = Process::example(200, "nobody");
        idle.user = None;
        idle.uid = 65534;
        let mut kthread = Process::example(2, "root");
        kthread.kernel_thread = true;
        kthread.cmdline.clear();
        // Only one direction measured: the other is left out, not sent as 0.
        let mut long = Process::example(300, "app");
        long.net_recv_bytes_per_sec = Some(0.0);
        long.cmdline = vec!["x".repeat(2000)];
        let mut snapshot = Snapshot::example(vec![kthread, web, idle, long]);
        let host = &mut snapshot.host;
        host.boot_time_ms = 0;
        host.uptime_secs = 90_000.0;
        host.cpu_count = 4;
        host.load_average = LoadAverage {
            one: 0.5,
            five: 0.25,
            fifteen: 0.125,
        };
        host.memory.swap_total_bytes = 0;
        host.tags = [
            "env:prod",
            "service:web",
            "team-name:core:infra",
            "canary",
            "pid:7",
            "9lives:yes",
            "Zone-A:eu",
            "env:shadowed",
            "empty:",
        ]
        .map(str::to_owned)
        .to_vec();
        snapshot
    }

    /// What a receiver sees: the body unsnappied and decoded.
    fn decode(records: &Records) -> Vec<TimeSeries> {
        let batch = Batch {
            class: Class::Snapshot,
            taken_at_ms: TAKEN_AT_MS,
            records: records.clone(),
        };
        let body = batch.body(Encoding::Protobuf, Compression::None).unwrap();
        assert_eq!(body.content_encoding, Some("snappy"));
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&body.bytes)
            .unwrap();
        WriteRequest::decode(raw.as_slice()).unwrap().timeseries
    }

    fn decode_all(batches: &[Batch]) -> Vec<TimeSeries> {
        batches.iter().flat_map(|b| decode(&b.records)).collect()
    }

    fn labels(series: &TimeSeries) -> BTreeMap<&str, &str> {
        let labels = series.labels.iter();
        labels
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    /// Every series of the fixture by a short key, `name{direction=..,mode=..,pid=..,state=..}`
    /// (only the labels that tell series of one name apart), to its value.
    fn values() -> BTreeMap<String, f64> {
        let all = decode_all(&RemoteWriteEncoder::new(1000).encode_snapshot(&snapshot()));
        let mut out = BTreeMap::new();
        for s in &all {
            let l = labels(s);
            let parts: Vec<String> = ["direction", "mode", "pid", "state"]
                .iter()
                .filter_map(|k| l.get(k).map(|v| format!("{k}={v}")))
                .collect();
            let mut key = l["__name__"].to_owned();
            if !parts.is_empty() {
                key = format!("{key}{{{}}}", parts.join(","));
            }
            assert_eq!(out.insert(key.clone(), s.samples[0].value), None, "{key}");
        }
        out
    }

    #[test]
    fn every_series_has_sorted_labels_with_name_and_one_sample_at_taken_at() {
        let all = decode_all(&RemoteWriteEncoder::new(1000).encode_snapshot(&snapshot()));
        assert!(all.len() > 40);
        for s in &all {
            let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
            assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
            assert_eq!(names[0], "__name__");
            assert!(s.labels.iter().all(|l| !l.value.is_empty()));
            assert_eq!(s.samples.len(), 1);
            assert_eq!(s.samples[0].timestamp, TAKEN_AT_MS as i64);
        }
    }

    #[test]
    fn process_series_carry_identity_and_mapped_tags_host_series_only_tags() {
        let all = decode_all(&RemoteWriteEncoder::new(1000).encode_snapshot(&snapshot()));
        let find = |key, value| all.iter().find(|s| labels(s).get(key) == Some(&value));
        let got = labels(find("pid", "100").unwrap());
        for (k, v) in [
            ("__name__", "wiretop_process_cpu_seconds_total"),
            ("process_name", "nginx"),
            ("command_line", "nginx: workerprocess"),
            ("owner", "www"),
            ("host", "web-1"),
            ("instance", "web-1"),
            ("job", "wiretop"),
            ("env", "prod"),
            ("service", "web"),
            ("team_name", "core:infra"),
            ("canary", "true"),
            ("tag_pid", "7"),
            ("tag_9lives", "yes"),
            ("zone_a", "eu"),
        ] {
            assert_eq!(got.get(k), Some(&v), "label {k}");
        }
        // Only the first `env` tag counts; an empty value is no label at all.
        assert!(!got.contains_key("empty"));
        assert_eq!(labels(find("pid", "200").unwrap())["owner"], "65534");
        let host = labels(find("__name__", "wiretop_host_load1").unwrap());
        assert_eq!((host["env"], host["instance"]), ("prod", "web-1"));
        assert!(!host.contains_key("pid") && !host.contains_key("owner"));
    }

    /// Checks the fixture's series against lines of `key value` (keys as [`values`] makes them);
    /// a value of `absent` means no such series.
    fn check(want: &str) {
        let got = values();
        for line in want.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (key, want) = line.rsplit_once(' ').unwrap();
            let want = (want != "absent").then(|| want.parse::<f64>().unwrap());
            assert_eq!(got.get(key).copied(), want, "{key}");
        }
    }

    #[test]
    fn process_values_are_in_base_units_and_unknown_figures_are_left_out() {
        // 50% of one core on a 4-CPU host is 12.5% of the machine. Unknown figures (pid 200 has
        // no CPU reading, fd count or disk I/O) are not sent as 0, which would read as measured.
        check(
            "
            wiretop_process_cpu_utilization_ratio{pid=100} 0.125
            wiretop_process_cpu_seconds_total{mode=user,pid=100} 12.5
            wiretop_process_cpu_seconds_total{mode=system,pid=100} 1.25
            wiretop_process_resident_memory_bytes{pid=100} 83886080
            wiretop_process_virtual_memory_bytes{pid=100} 943718400
            wiretop_process_threads{pid=100} 4
            wiretop_process_open_fds{pid=100} 42
            wiretop_process_disk_read_bytes_total{pid=100} 4096
            wiretop_process_disk_write_bytes_total{pid=100} 8192
            wiretop_process_start_time_seconds{pid=100} 1767225540
            wiretop_process_threads{pid=200} 1
            wiretop_process_cpu_utilization_ratio{pid=200} absent
            wiretop_process_open_fds{pid=200} absent
            wiretop_process_disk_read_bytes_total{pid=200} absent
            wiretop_process_disk_write_bytes_total{pid=200} absent
            ",
        );
    }

    #[test]
    fn network_rates_go_per_direction_only_when_measured() {
        // pid 200 was never measured and pid 300 only received (nothing): no series claims a
        // rate nobody measured, and a measured 0 is sent as 0.
        check(
            "
            wiretop_process_network_bytes_per_second{direction=transmit,pid=100} 1500
            wiretop_process_network_bytes_per_second{direction=receive,pid=100} 250.5
            wiretop_process_network_bytes_per_second{direction=transmit,pid=200} absent
            wiretop_process_network_bytes_per_second{direction=receive,pid=200} absent
            wiretop_process_network_bytes_per_second{direction=transmit,pid=300} absent
            wiretop_process_network_bytes_per_second{direction=receive,pid=300} 0
            ",
        );
        // A host tag named like the label is renamed rather than sent twice.
        let mut snapshot = snapshot();
        snapshot.host.tags = vec!["direction:north".to_owned()];
        let all = decode_all(&RemoteWriteEncoder::new(1000).encode_snapshot(&snapshot));
        let rate = all
            .iter()
            .map(labels)
            .find(|l| l["__name__"] == "wiretop_process_network_bytes_per_second")
            .unwrap();
        assert_eq!(rate["direction"], "transmit");
        assert_eq!(rate["tag_direction"], "north");
    }

    #[test]
    fn connections_are_counted_per_state_and_kernel_threads_have_none() {
        check(
            "
            wiretop_process_connections{pid=100,state=listening} 1
            wiretop_process_connections{pid=100,state=established} 2
            wiretop_process_connections{pid=100,state=close_wait} 1
            wiretop_process_connections{pid=200,state=listening} 0
            wiretop_process_connections{pid=200,state=established} 0
            wiretop_process_connections{pid=2,state=listening} absent
            wiretop_process_connections{pid=2,state=established} absent
            ",
        );
        let got = values();
        let pid_100 = |k: &&String| k.contains("_connections{pid=100,");
        assert_eq!(got.keys().filter(pid_100).count(), 3);
    }

    #[test]
    fn host_series_cover_cpu_memory_load_counts_and_uptime() {
        check(
            "
            wiretop_host_cpu_utilization_ratio{mode=user} 0.12
            wiretop_host_cpu_utilization_ratio{mode=system} 0.04
            wiretop_host_cpu_utilization_ratio{mode=iowait} 0.01
            wiretop_host_cpu_utilization_ratio{mode=idle} 0.83
            wiretop_host_cpu_utilization_ratio{mode=steal} 0
            wiretop_host_memory_bytes{state=used} 2147483648
            wiretop_host_memory_bytes{state=available} 6442450944
            wiretop_host_memory_bytes{state=total} 8589934592
            wiretop_host_load1 0.5
            wiretop_host_load5 0.25
            wiretop_host_load15 0.125
            wiretop_host_processes 4
            wiretop_host_threads 7
            wiretop_host_connections{state=listening} 1
            wiretop_host_connections{state=established} 2
            wiretop_host_uptime_seconds 90000
            ",
        );
        let host = values()
            .into_keys()
            .filter(|k| k.starts_with("wiretop_host_"));
        assert_eq!(host.count(), 16);
    }

    #[test]
    fn command_line_drops_control_characters_and_is_cut_at_1024_chars() {
        let all = decode_all(&RemoteWriteEncoder::new(1000).encode_snapshot(&snapshot()));
        let cmd = |pid| {
            let s = all.iter().find(|s| labels(s).get("pid") == Some(&pid));
            labels(s.unwrap())
                .get("command_line")
                .map(|c| c.to_string())
        };
        assert_eq!(cmd("300"), Some("x".repeat(1024)));
        assert_eq!(cmd("2"), None, "a kernel thread has no command line");
    }

    #[test]
    fn batches_hold_at_most_max_series_and_every_series_exactly_once() {
        let snapshot = snapshot();
        let mut whole = decode_all(&RemoteWriteEncoder::new(usize::MAX).encode_snapshot(&snapshot));
        let batches = RemoteWriteEncoder::new(7).encode_snapshot(&snapshot);
        assert!(batches.len() > 1);
        for b in &batches {
            assert!(b.records.len() <= 7 && !b.records.is_empty());
            assert_eq!((b.class, b.taken_at_ms), (Class::Snapshot, TAKEN_AT_MS));
        }
        let mut split = decode_all(&batches);
        let key = |s: &TimeSeries| s.labels.clone();
        whole.sort_by_key(key);
        split.sort_by_key(key);
        assert_eq!(whole, split);
        let zero = RemoteWriteEncoder::new(0).encode_snapshot(&snapshot);
        assert!(zero.iter().all(|b| b.records.len() == 1));
    }

    #[test]
    fn each_record_is_one_timeseries_entry_and_split_halves_still_decode() {
        let batches = RemoteWriteEncoder::new(usize::MAX).encode_snapshot(&snapshot());
        let [batch] = batches.as_slice() else {
            panic!("expected one batch, got {}", batches.len());
        };
        let Records::RemoteWrite(entries) = &batch.records else {
            panic!("not remote write");
        };
        for entry in entries {
            // Field 1, wire type 2 (length-delimited).
            assert_eq!(entry[0], 0x0a);
            let one = WriteRequest::decode(entry.as_slice()).unwrap();
            assert_eq!(one.timeseries.len(), 1);
        }
        let whole = decode(&batch.records);
        let (a, b) = batch.records.split().unwrap();
        let (a, b) = (decode(&a), decode(&b));
        assert_eq!(a.len() + b.len(), whole.len());
        assert_eq!([a, b].concat(), whole);
    }
}
