use std::collections::BTreeMap;

use prost::Message;

use super::*;
use crate::model::examples::TAKEN_AT_MS;
use crate::model::{Connection, CpuTime, LoadAverage};
use crate::uplink::batch::{Compression, Encoding};
use SocketState::{CloseWait, Established};

mod conversations;

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
    let all = decode_all(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot()));
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
    let all = decode_all(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot()));
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
    let all = decode_all(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot()));
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
    let all = decode_all(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot));
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
    let all = decode_all(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot()));
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
    let mut whole =
        decode_all(&RemoteWriteEncoder::new(usize::MAX, 1000).encode_snapshot(&snapshot));
    let batches = RemoteWriteEncoder::new(7, 1000).encode_snapshot(&snapshot);
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
    let zero = RemoteWriteEncoder::new(0, 1000).encode_snapshot(&snapshot);
    assert!(zero.iter().all(|b| b.records.len() == 1));
}

#[test]
fn each_record_is_one_timeseries_entry_and_split_halves_still_decode() {
    let batches = RemoteWriteEncoder::new(usize::MAX, 1000).encode_snapshot(&snapshot());
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
