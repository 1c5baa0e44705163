//! Metric data points for one process and for the host, named and typed as the Collector's
//! hostmetrics receiver reports them (process scraper; cpu, memory, load, paging scrapers).

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point::Value, AggregationTemporality, Gauge, Metric, NumberDataPoint,
    Sum,
};

use super::attributes::string;
use crate::model::{Host, Process};

/// Milliseconds to the nanoseconds OTLP timestamps use.
pub(super) fn nanos(ms: u64) -> u64 {
    ms.saturating_mul(1_000_000)
}

/// Values of a monotonic counter over the window `[start_ms, taken_at]`: since process start
/// for cumulative temporality, since the previous encode (or process start) for delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window<const N: usize> {
    pub start_ms: u64,
    pub values: [u64; N],
}

/// The monotonic counters of one process, already reduced to the window to report.
#[derive(Debug, Clone, Copy)]
pub(super) struct ProcessCounters {
    pub temporality: AggregationTemporality,
    /// User and system CPU time, in milliseconds.
    pub cpu: Window<2>,
    /// Bytes read and written; None when `/proc/<pid>/io` was unreadable.
    pub disk: Option<Window<2>>,
}

/// Collects metrics, dropping points a backend would reject (NaN and infinities do not
/// survive OTLP/JSON) and metrics left without points.
#[derive(Default)]
struct Metrics(Vec<Metric>);

impl Metrics {
    fn gauge(&mut self, name: &str, unit: &str, description: &str, points: Vec<NumberDataPoint>) {
        self.add(
            name,
            unit,
            description,
            |data_points| Data::Gauge(Gauge { data_points }),
            points,
        );
    }

    fn sum(
        &mut self,
        (name, unit, description): (&str, &str, &str),
        monotonic: bool,
        temporality: AggregationTemporality,
        points: Vec<NumberDataPoint>,
    ) {
        self.add(
            name,
            unit,
            description,
            |data_points| {
                Data::Sum(Sum {
                    data_points,
                    aggregation_temporality: temporality as i32,
                    is_monotonic: monotonic,
                })
            },
            points,
        );
    }

    fn add(
        &mut self,
        name: &str,
        unit: &str,
        description: &str,
        data: impl FnOnce(Vec<NumberDataPoint>) -> Data,
        mut points: Vec<NumberDataPoint>,
    ) {
        points.retain(|p| match p.value {
            Some(Value::AsDouble(v)) => v.is_finite(),
            Some(Value::AsInt(_)) => true,
            None => false,
        });
        if points.is_empty() {
            return;
        }
        self.0.push(Metric {
            name: name.to_owned(),
            description: description.to_owned(),
            unit: unit.to_owned(),
            data: Some(data(points)),
            ..Metric::default()
        });
    }
}

fn double(attributes: Vec<KeyValue>, start_ms: u64, time_ms: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: nanos(start_ms),
        time_unix_nano: nanos(time_ms),
        value: Some(Value::AsDouble(value)),
        ..NumberDataPoint::default()
    }
}

fn int(attributes: Vec<KeyValue>, start_ms: u64, time_ms: u64, value: u64) -> NumberDataPoint {
    NumberDataPoint {
        attributes,
        start_time_unix_nano: nanos(start_ms),
        time_unix_nano: nanos(time_ms),
        value: Some(Value::AsInt(i64::try_from(value).unwrap_or(i64::MAX))),
        ..NumberDataPoint::default()
    }
}

/// Gauges ignore start times (the OTLP data model says so); leaving them 0 says "none".
const NO_START: u64 = 0;

/// The metrics of one process. `connections_collected` tells an empty socket list ("none")
/// from an uncollected one ("unknown"), which gets no connection-count metric at all.
pub(super) fn process_metrics(
    p: &Process,
    host: &Host,
    counters: &ProcessCounters,
    connections_collected: bool,
) -> Vec<Metric> {
    let now = host.taken_at_ms;
    // Only monotonic counters become deltas: a non-monotonic sum's "change since last time" is
    // not what anyone charts, so, as the Collector's cumulative-to-delta conversion does, these
    // stay cumulative values over the process's life.
    let up_down = |name, unit, description, value| {
        let point = int(Vec::new(), p.start_time_ms, now, value);
        ((name, unit, description), point)
    };
    let mut m = Metrics::default();

    if let Some(cpu) = p.cpu {
        let share = cpu.total_pct / 100.0 / f64::from(host.cpu_count.max(1));
        m.gauge(
            "process.cpu.utilization",
            "1",
            "Share of the whole machine's CPU time this process used over the last interval",
            vec![double(Vec::new(), NO_START, now, share)],
        );
    }
    let [user_ms, system_ms] = counters.cpu.values;
    let cpu_start = counters.cpu.start_ms;
    m.sum(
        ("process.cpu.time", "s", "CPU time used by the process"),
        true,
        counters.temporality,
        vec![
            double(mode("user"), cpu_start, now, user_ms as f64 / 1000.0),
            double(mode("system"), cpu_start, now, system_ms as f64 / 1000.0),
        ],
    );
    for (meta, point) in [
        up_down(
            "process.memory.usage",
            "By",
            "Resident memory of the process",
            p.memory.rss_bytes,
        ),
        up_down(
            "process.memory.virtual",
            "By",
            "Virtual address space of the process",
            p.memory.virtual_bytes,
        ),
        up_down(
            "process.thread.count",
            "{thread}",
            "Threads in the process",
            u64::from(p.threads),
        ),
    ] {
        m.sum(meta, false, AggregationTemporality::Cumulative, vec![point]);
    }
    if let Some(fds) = p.fd_count {
        let (meta, point) = up_down(
            "process.unix.file_descriptor.count",
            "{file_descriptor}",
            "Open file descriptors of the process",
            u64::from(fds),
        );
        m.sum(meta, false, AggregationTemporality::Cumulative, vec![point]);
    }
    if let Some(disk) = counters.disk {
        let direction = |d: &str| vec![string("disk.io.direction", d)];
        let [read, written] = disk.values;
        m.sum(
            (
                "process.disk.io",
                "By",
                "Bytes the process read from and wrote to block devices",
            ),
            true,
            counters.temporality,
            vec![
                int(direction("read"), disk.start_ms, now, read),
                int(direction("write"), disk.start_ms, now, written),
            ],
        );
    }
    // Only rates are known per process (its connections come and go, so their byte totals
    // summed would not be a monotonic counter): a gauge in wiretop's namespace, not the
    // semantic conventions' `process.network.io`, which is a byte counter. Each direction is
    // sent only when measured.
    let direction = |d: &str| vec![string("network.io.direction", d)];
    let rates = [
        ("transmit", p.net_send_bytes_per_sec),
        ("receive", p.net_recv_bytes_per_sec),
    ];
    m.gauge(
        "wiretop.process.network.io.rate",
        "By/s",
        "TCP bytes per second the process sent (acknowledged) and received over the last interval",
        rates
            .into_iter()
            .filter_map(|(d, rate)| Some(double(direction(d), NO_START, now, rate?)))
            .collect(),
    );
    if connections_collected && !p.unreadable.contains_key("sockets") {
        let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
        if !p.listening.is_empty() {
            by_state.insert("listen".to_owned(), p.listening.len() as u64);
        }
        for c in &p.connections {
            *by_state
                .entry(c.state.as_str().to_ascii_lowercase())
                .or_default() += 1;
        }
        let points = by_state
            .into_iter()
            .map(|(state, n)| {
                int(
                    vec![string("network.connection.state", state)],
                    NO_START,
                    now,
                    n,
                )
            })
            .collect();
        m.gauge(
            "wiretop.process.connection.count",
            "{connection}",
            "Sockets the process holds, listening ones as state \"listen\"",
            points,
        );
    }
    m.0
}

fn mode(name: &str) -> Vec<KeyValue> {
    vec![string("cpu.mode", name)]
}

/// The host's metrics. Every sum here is a level (non-monotonic), so temporality does not
/// apply and they are reported cumulative from boot.
pub(super) fn host_metrics(host: &Host, connections_collected: bool) -> Vec<Metric> {
    let now = host.taken_at_ms;
    let boot = host.boot_time_ms;
    let cumulative = AggregationTemporality::Cumulative;
    let mut m = Metrics::default();

    if let Some(cpu) = host.cpu {
        let points = [
            ("user", cpu.user_pct),
            ("system", cpu.system_pct),
            ("iowait", cpu.iowait_pct),
            ("idle", cpu.idle_pct),
            ("steal", cpu.steal_pct),
        ]
        .into_iter()
        .map(|(name, pct)| double(mode(name), NO_START, now, pct / 100.0))
        .collect();
        m.gauge(
            "system.cpu.utilization",
            "1",
            "Share of all CPUs' time spent in each mode over the last interval",
            points,
        );
    }
    let memory = host.memory;
    let state = |s: &str| vec![string("system.memory.state", s)];
    // "free" is MemAvailable rather than MemFree, so that used + free = limit, the invariant
    // dashboards summing the states rely on (used is defined as total minus available).
    m.sum(
        ("system.memory.usage", "By", "Memory in use and available"),
        false,
        cumulative,
        vec![
            int(state("used"), boot, now, memory.used_bytes),
            int(state("free"), boot, now, memory.available_bytes),
        ],
    );
    m.sum(
        ("system.memory.limit", "By", "Total physical memory"),
        false,
        cumulative,
        vec![int(Vec::new(), boot, now, memory.total_bytes)],
    );
    m.sum(
        (
            "system.linux.memory.available",
            "By",
            "MemAvailable: allocatable without swapping",
        ),
        false,
        cumulative,
        vec![int(Vec::new(), boot, now, memory.available_bytes)],
    );
    let paging = |s: &str| vec![string("system.paging.state", s)];
    m.sum(
        ("system.paging.usage", "By", "Swap in use and free"),
        false,
        cumulative,
        vec![
            int(paging("used"), boot, now, memory.swap_used_bytes),
            int(
                paging("free"),
                boot,
                now,
                memory
                    .swap_total_bytes
                    .saturating_sub(memory.swap_used_bytes),
            ),
        ],
    );
    let load = host.load_average;
    for (name, value) in [
        ("system.cpu.load_average.1m", load.one),
        ("system.cpu.load_average.5m", load.five),
        ("system.cpu.load_average.15m", load.fifteen),
    ] {
        m.gauge(
            name,
            "{thread}",
            "Run-queue load average",
            vec![double(Vec::new(), NO_START, now, value)],
        );
    }
    let counts = host.counts;
    m.sum(
        ("system.process.count", "{process}", "Processes on the host"),
        false,
        cumulative,
        vec![int(Vec::new(), boot, now, u64::from(counts.processes))],
    );
    // No semantic convention counts threads host-wide, hence wiretop's own namespace.
    m.sum(
        (
            "wiretop.system.thread.count",
            "{thread}",
            "Threads across all processes",
        ),
        false,
        cumulative,
        vec![int(Vec::new(), boot, now, u64::from(counts.threads))],
    );
    if connections_collected {
        let state = |s: &str| vec![string("network.connection.state", s)];
        m.sum(
            (
                "system.network.connection.count",
                "{connection}",
                "Listening sockets and established connections",
            ),
            false,
            cumulative,
            vec![
                int(
                    state("listen"),
                    boot,
                    now,
                    u64::from(counts.listening_sockets),
                ),
                int(
                    state("established"),
                    boot,
                    now,
                    u64::from(counts.established_connections),
                ),
            ],
        );
    }
    m.gauge(
        "system.uptime",
        "s",
        "Time since the host booted",
        vec![double(Vec::new(), NO_START, now, host.uptime_secs)],
    );
    m.sum(
        ("system.cpu.logical.count", "{cpu}", "Logical CPUs online"),
        false,
        cumulative,
        vec![int(Vec::new(), boot, now, u64::from(host.cpu_count))],
    );
    m.0
}
