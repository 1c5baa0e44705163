use std::collections::BTreeMap;
use std::net::IpAddr;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point::Value, Metric, NumberDataPoint, ResourceMetrics,
};
use prost::Message;

use super::*;
use crate::model::examples::TAKEN_AT_MS;
use crate::model::{
    Attribution, Connection, Container, ContainerRuntime, Counts, CpuTime, CpuUsage, Direction,
    DiskIo, Family, HostCpu, KubernetesPod, LifecycleKind, Listening, LoadAverage, Memory, Proto,
    Role, SocketState, Traffic, TrafficGap,
};
use crate::uplink::batch::{Compression, Encoding};

mod logs;
mod metrics;
mod resources;
mod wire;

const START_MS: u64 = TAKEN_AT_MS - 3_600_000;

/// The example host with the figures these tests check: 4 CPUs, small round memory figures, a
/// CPU split and counts of its own, and `tags`.
fn host(tags: &[&str]) -> Host {
    let mut host = Host::example();
    host.boot_time_ms = TAKEN_AT_MS - 86_400_000;
    host.uptime_secs = 86_400.0;
    host.cpu_count = 4;
    host.load_average = LoadAverage {
        one: 0.5,
        five: 0.25,
        fifteen: 0.125,
    };
    host.memory = Memory {
        total_bytes: 8_000,
        used_bytes: 3_000,
        available_bytes: 5_000,
        swap_total_bytes: 1_000,
        swap_used_bytes: 100,
    };
    host.cpu = Some(HostCpu {
        user_pct: 20.0,
        system_pct: 10.0,
        iowait_pct: 5.0,
        idle_pct: 64.0,
        steal_pct: 1.0,
    });
    host.counts = Counts {
        processes: 3,
        threads: 6,
        listening_sockets: 1,
        established_connections: 1,
    };
    host.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    host
}

/// nginx (pid 10) listening on :80 with one inbound connection (sending 2 KiB/s, receiving
/// 512 B/s, rtt 1.5 ms, 2 retransmits), a process whose uid has no name and whose traffic was
/// never measured (pid 11), and a kernel thread (pid 2).
fn snapshot() -> Snapshot {
    let mut nginx = Process::example(10, "www");
    nginx.name = "nginx".to_owned();
    nginx.exe = Some("/usr/sbin/nginx".to_owned());
    nginx.cmdline = vec!["nginx".into(), "-g".into(), "daemon off;".into()];
    nginx.threads = 4;
    nginx.start_time_ms = START_MS;
    nginx.cpu = Some(CpuUsage {
        total_pct: 50.0,
        user_pct: 40.0,
        system_pct: 10.0,
    });
    nginx.cpu_time = CpuTime {
        user_ms: 1_500,
        system_ms: 500,
    };
    nginx.memory.rss_bytes = 4_096;
    nginx.memory.virtual_bytes = 65_536;
    nginx.fd_count = Some(12);
    nginx.disk = Some(DiskIo {
        read_bytes_per_sec: None,
        write_bytes_per_sec: None,
        read_bytes_total: 1_000,
        write_bytes_total: 2_000,
    });
    nginx.listening.push(Listening {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        addr: IpAddr::from([0, 0, 0, 0]),
        port: 80,
        inode: 1,
        netns: None,
    });
    nginx.connections.push(Connection {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        local_addr: IpAddr::from([10, 0, 0, 1]),
        local_port: 80,
        remote_addr: IpAddr::from([203, 0, 113, 5]),
        remote_port: 51_000,
        state: SocketState::Established,
        direction: Direction::Inbound,
        role: Some(Role::Server),
        inode: 2,
        netns: None,
        peer_pid: None,
        peer_name: None,
        traffic: Traffic::example(2_048.0, 512.0, 1.5, 2),
    });
    nginx.net_send_bytes_per_sec = Some(2_048.0);
    nginx.net_recv_bytes_per_sec = Some(512.0);
    let mut nameless = Process::example(11, "x");
    nameless.user = None;
    nameless.uid = 1234;
    let mut kthread = Process::example(2, "root");
    kthread.kernel_thread = true;
    kthread.cmdline.clear();
    let mut snapshot = Snapshot::example(vec![kthread, nginx, nameless]);
    snapshot.host = host(&[
        "env:prod",
        "service:web",
        "version:1.2",
        "team:core",
        "canary",
    ]);
    snapshot.collection.duration_ms = 1.0;
    snapshot.collection.network_namespaces = Vec::new();
    snapshot
}

fn metric_resources(batches: &[Batch]) -> Vec<&ResourceMetrics> {
    batches
        .iter()
        .filter_map(|b| match &b.records {
            Records::OtlpMetrics(r) => Some(r),
            _ => None,
        })
        .flatten()
        .collect()
}

fn log_resources(batches: &[Batch]) -> Vec<&ResourceLogs> {
    batches
        .iter()
        .filter_map(|b| match &b.records {
            Records::OtlpLogs(r) => Some(r),
            _ => None,
        })
        .flatten()
        .collect()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    match attr(attrs, key)? {
        Any::StringValue(s) => Some(s.clone()),
        _ => None,
    }
}

fn resource_attrs(r: &Option<Resource>) -> &[KeyValue] {
    r.as_ref().map_or(&[], |r| &r.attributes)
}

/// The metrics of the resource whose `process.pid` is `pid`, or of the host for None.
fn metrics_of(batches: &[Batch], pid: Option<i64>) -> Vec<Metric> {
    metric_resources(batches)
        .into_iter()
        .find(|r| match attr(resource_attrs(&r.resource), "process.pid") {
            Some(Any::IntValue(p)) => Some(*p) == pid,
            _ => pid.is_none(),
        })
        .map(|r| {
            r.scope_metrics
                .iter()
                .flat_map(|s| s.metrics.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn metric<'a>(metrics: &'a [Metric], name: &str) -> &'a Metric {
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

fn points(m: &Metric) -> &[NumberDataPoint] {
    match &m.data {
        Some(Data::Gauge(g)) => &g.data_points,
        Some(Data::Sum(s)) => &s.data_points,
        other => panic!("unexpected data {other:?}"),
    }
}

/// The point of `m` whose attribute `key` is `value`.
fn point<'a>(m: &'a Metric, key: &str, value: &str) -> &'a NumberDataPoint {
    points(m)
        .iter()
        .find(|p| text(&p.attributes, key).as_deref() == Some(value))
        .unwrap_or_else(|| panic!("{} has no point {key}={value}", m.name))
}

fn as_f64(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(Value::AsDouble(v)) => v,
        Some(Value::AsInt(v)) => v as f64,
        None => f64::NAN,
    }
}

fn event(kind: LifecycleKind, pid: u32) -> LifecycleEvent {
    LifecycleEvent {
        kind,
        pid,
        name: format!("proc{pid}"),
        cmdline: vec![format!("/bin/proc{pid}"), "-v".to_owned()],
        user: Some("app".to_owned()),
        start_time_ms: START_MS,
        observed_at_ms: TAKEN_AT_MS,
        ppid: Some(1),
        exit: None,
        runtime_ms: None,
        short_lived: false,
        source: crate::model::EventSource::Snapshots,
    }
}
