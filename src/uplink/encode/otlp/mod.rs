//! Snapshots and lifecycle events as OTLP metrics and logs, laid out as the OpenTelemetry
//! Collector's hostmetrics receiver lays out its process scraper's data: one Resource per
//! process carrying the `process.*` attributes, plus one Resource for the host. A backend (or
//! dashboard) made for that receiver thus reads wiretop's data as is.
//!
//! Socket-level detail (who talks to whom) goes out as log records under the owning process's
//! Resource instead of as metric attributes: ports and peers would multiply the number of time
//! series without bound.

mod attributes;
mod logs;
mod metrics;
#[cfg(test)]
mod tests;

use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use rustc_hash::FxHashMap;

use crate::model::{Host, LifecycleEvent, Process, Snapshot};
use crate::uplink::batch::{Batch, Class, Records};

use metrics::{ProcessCounters, Window};

/// How monotonic counters (CPU time, disk I/O) are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// The total since the process started, every time (what Prometheus-style backends want).
    Cumulative,
    /// The increase since the previous snapshot (what Datadog-style backends want). Levels
    /// (memory, threads, connection counts) stay plain values either way.
    Delta,
}

/// What delta temporality needs to remember about one process from the previous encode.
#[derive(Debug, Clone, Copy)]
struct Previous {
    taken_at_ms: u64,
    cpu: [u64; 2],
    disk: Option<[u64; 2]>,
}

/// Turns snapshots into OTLP batches. Holds state only for delta temporality: the previous
/// counter values of each process seen in the last snapshot, keyed by (pid, start time) so a
/// reused pid starts afresh. Processes gone from a snapshot are forgotten with it, so the state
/// never outgrows one snapshot.
#[derive(Debug)]
pub struct OtlpEncoder {
    temporality: Temporality,
    max_records_per_batch: usize,
    previous: FxHashMap<(u32, u64), Previous>,
}

impl OtlpEncoder {
    /// An encoder whose batches hold at most `max_records_per_batch` Resources each (0 is
    /// taken as 1: a batch must hold something).
    pub fn new(temporality: Temporality, max_records_per_batch: usize) -> Self {
        Self {
            temporality,
            max_records_per_batch: max_records_per_batch.max(1),
            previous: FxHashMap::default(),
        }
    }

    /// Metrics (+ connection logs when the snapshot has connections collected) for one
    /// snapshot; batches hold at most max_records_per_batch Resources each (the client-side
    /// size cap splits big snapshots across requests). All batches Class::Snapshot,
    /// taken_at_ms = snapshot.host.taken_at_ms.
    ///
    /// The host Resource comes first, then processes by pid; metric batches come before log
    /// batches. With delta temporality, feed each snapshot once, in the order taken: a snapshot
    /// no newer than the previous one is reported as if its processes were first seen.
    pub fn encode_snapshot(&mut self, snapshot: &Snapshot) -> Vec<Batch> {
        let host = &snapshot.host;
        let taken_at_ms = host.taken_at_ms;
        let collected = snapshot.collection.connections_collected;
        let identity = attributes::host_identity(host);

        let mut resource_metrics = Vec::with_capacity(snapshot.processes.len() + 1);
        resource_metrics.push(with_metrics(
            attributes::host_resource(host, &identity),
            metrics::host_metrics(host, collected),
        ));
        let mut resource_logs = Vec::new();
        let mut seen = FxHashMap::default();
        for p in &snapshot.processes {
            let resource = attributes::process_resource(p, &identity);
            let counters = self.counters(p, taken_at_ms);
            if self.temporality == Temporality::Delta {
                seen.insert((p.pid, p.start_time_ms), remembered(p, taken_at_ms));
            }
            if collected {
                let records = logs::connection_records(p, taken_at_ms);
                if !records.is_empty() {
                    resource_logs.push(with_logs(resource.clone(), records));
                }
            }
            let process_metrics = metrics::process_metrics(p, host, &counters, collected);
            resource_metrics.push(with_metrics(resource, process_metrics));
        }
        self.previous = seen;

        let mut batches = self.batches(taken_at_ms, Class::Snapshot, resource_metrics, |r| {
            Records::OtlpMetrics(r)
        });
        batches.extend(
            self.batches(taken_at_ms, Class::Snapshot, resource_logs, |r| {
                Records::OtlpLogs(r)
            }),
        );
        batches
    }

    /// Lifecycle events as OTLP logs (Class::Events), same batch size cap. `host` for the
    /// resource attributes; pass the host of the snapshot the events were observed in, whose
    /// `taken_at_ms` the batches carry.
    ///
    /// Events of one process (same pid and start time) share one Resource.
    pub fn encode_events(&self, host: &Host, events: &[LifecycleEvent]) -> Vec<Batch> {
        let identity = attributes::host_identity(host);
        let resource_logs =
            logs::group_events(events, |e| attributes::event_resource(e, &identity))
                .into_iter()
                .map(|(resource, members)| {
                    with_logs(
                        resource,
                        members.into_iter().map(logs::event_record).collect(),
                    )
                })
                .collect();
        self.batches(host.taken_at_ms, Class::Events, resource_logs, |r| {
            Records::OtlpLogs(r)
        })
    }

    /// The window of `p`'s monotonic counters to report under this encoder's temporality.
    fn counters(&self, p: &Process, taken_at_ms: u64) -> ProcessCounters {
        let cpu_now = [p.cpu_time.user_ms, p.cpu_time.system_ms];
        let disk_now = p.disk.map(|d| [d.read_bytes_total, d.write_bytes_total]);
        let since_start = |values| Window {
            start_ms: p.start_time_ms,
            values,
        };
        match self.temporality {
            Temporality::Cumulative => ProcessCounters {
                temporality: AggregationTemporality::Cumulative,
                cpu: since_start(cpu_now),
                disk: disk_now.map(since_start),
            },
            Temporality::Delta => {
                let before = self
                    .previous
                    .get(&(p.pid, p.start_time_ms))
                    .filter(|before| before.taken_at_ms < taken_at_ms);
                // Without an earlier reading of this counter (a new process, or disk I/O that
                // just became readable) the delta runs from process start, which is exactly
                // what the counter holds.
                let delta = |now: [u64; 2], then: Option<[u64; 2]>| match (before, then) {
                    (Some(before), Some([a, b])) if now[0] >= a && now[1] >= b => Window {
                        start_ms: before.taken_at_ms,
                        values: [now[0] - a, now[1] - b],
                    },
                    _ => since_start(now),
                };
                ProcessCounters {
                    temporality: AggregationTemporality::Delta,
                    cpu: delta(cpu_now, before.map(|b| b.cpu)),
                    disk: disk_now.map(|d| delta(d, before.and_then(|b| b.disk))),
                }
            }
        }
    }

    /// Splits resources into batches of at most `max_records_per_batch`, keeping their order.
    fn batches<T>(
        &self,
        taken_at_ms: u64,
        class: Class,
        resources: Vec<T>,
        wrap: impl Fn(Vec<T>) -> Records,
    ) -> Vec<Batch> {
        let mut batches = Vec::new();
        let mut rest = resources.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<T> = rest.by_ref().take(self.max_records_per_batch).collect();
            batches.push(Batch {
                class,
                taken_at_ms,
                records: wrap(chunk),
            });
        }
        batches
    }
}

/// What the next delta encode subtracts from.
fn remembered(p: &Process, taken_at_ms: u64) -> Previous {
    Previous {
        taken_at_ms,
        cpu: [p.cpu_time.user_ms, p.cpu_time.system_ms],
        disk: p.disk.map(|d| [d.read_bytes_total, d.write_bytes_total]),
    }
}

/// The instrumentation scope of everything wiretop emits.
fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "wiretop".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..InstrumentationScope::default()
    }
}

fn with_metrics(resource: Resource, metrics: Vec<Metric>) -> ResourceMetrics {
    ResourceMetrics {
        resource: Some(resource),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(scope()),
            metrics,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}

fn with_logs(resource: Resource, log_records: Vec<LogRecord>) -> ResourceLogs {
    ResourceLogs {
        resource: Some(resource),
        scope_logs: vec![ScopeLogs {
            scope: Some(scope()),
            log_records,
            schema_url: String::new(),
        }],
        schema_url: String::new(),
    }
}
