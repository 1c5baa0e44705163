//! What the uplink costs per snapshot, and how many bytes it puts on the wire.
//!
//! `cargo bench --bench uplink` starts idle `sleep 3600` processes and hands some of them real
//! loopback sockets (a listener each for some, both ends of established connections between
//! them for the rest), so that the snapshot it takes with a real `wiretop::sample::Sampler` has
//! real names, command lines and sockets. It then measures, in interleaved rounds, for every
//! protocol and body format the uplink can use:
//!
//! * encode only: the snapshot turned into batches of records (`encode_snapshot`),
//! * encode + body: the same plus every batch's request body (serialized, compressed),
//!
//! each as this process's CPU time and as wall time, and reports the requests (batches) and
//! bytes per snapshot with the uplink's default `max_batch_records` of 500. All of it twice: for
//! a snapshot with connections collected (OTLP sends connection logs too) and for one without.
//! Finally it compares cumulative with delta temporality (the second of two snapshots).
//!
//! Sizes come from `WIRETOP_BENCH_PROCS` (idle processes, default 1000),
//! `WIRETOP_BENCH_LISTENERS` (of those, how many hold a listening socket, default 100),
//! `WIRETOP_BENCH_CONNS` (loopback connections between them, default 1000) and
//! `WIRETOP_BENCH_RUNS` (measured rounds, default 50).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod support;

#[path = "../tests/common/system.rs"]
mod system;

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use wiretop::model::Snapshot;
use wiretop::sample::{Sampler, SamplerSettings, ONE_SHOT_GAP};
use wiretop::uplink::batch::{Batch, Body, Compression, Encoding, Records};
use wiretop::uplink::encode::ndjson;
use wiretop::uplink::encode::otlp::{OtlpEncoder, Temporality};
use wiretop::uplink::encode::remote_write::RemoteWriteEncoder;

/// The uplink's default `max_batch_records`.
const MAX_RECORDS_PER_BATCH: usize = 500;
/// The uplink's default `max_conversations`.
const MAX_CONVERSATIONS: usize = 1000;
/// A request body above this size is pointed out: receivers commonly cap what they accept.
const LARGE_REQUEST_BYTES: usize = 4 << 20;
/// Encode + body CPU above this share of the default 2 s sampling interval is pointed out.
const SLOW_SHARE_OF_INTERVAL: f64 = 0.05;

fn main() {
    if let Err(error) = run() {
        eprintln!("uplink bench failed: {error:#}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

struct Config {
    procs: usize,
    listeners: usize,
    conns: usize,
    runs: usize,
}

impl Config {
    fn from_env() -> Result<Config> {
        let config = Config {
            procs: support::env_number("WIRETOP_BENCH_PROCS", 1000)?,
            listeners: support::env_number("WIRETOP_BENCH_LISTENERS", 100)?,
            conns: support::env_number("WIRETOP_BENCH_CONNS", 1000)?,
            runs: support::env_number("WIRETOP_BENCH_RUNS", 50)?,
        };
        ensure!(config.runs >= 1, "WIRETOP_BENCH_RUNS must be at least 1");
        ensure!(
            config.listeners <= config.procs,
            "WIRETOP_BENCH_LISTENERS ({}) cannot exceed WIRETOP_BENCH_PROCS ({})",
            config.listeners,
            config.procs
        );
        ensure!(
            config.conns == 0 || (config.listeners >= 1 && config.procs > config.listeners),
            "connections need at least one listening process and one other process as the \
             client: raise WIRETOP_BENCH_PROCS or WIRETOP_BENCH_LISTENERS, or set \
             WIRETOP_BENCH_CONNS=0"
        );
        Ok(config)
    }
}

// ---------------------------------------------------------------------------------------------
// The load: idle processes holding real sockets, killed and reaped by Drop
// ---------------------------------------------------------------------------------------------

/// The `sleep` processes. Dropping this kills and reaps every one of them, also when setup or
/// measuring fails half-way.
#[derive(Default)]
struct Sleepers {
    children: Vec<Child>,
}

impl Sleepers {
    /// Sleeper `i < listeners` holds listener `i` and the accepted end of the connections made
    /// to it; the others hold the connecting ends, spread round-robin. Every socket is opened
    /// here, passed to its sleeper at spawn, and closed here, so each has exactly one owner.
    fn start(config: &Config) -> Result<Sleepers> {
        system::make_room_for_fds((config.listeners + 2 * config.conns + 64) as u64)
            .map_err(|e| anyhow::anyhow!("{e}; lower WIRETOP_BENCH_CONNS"))?;
        let mut held: Vec<Vec<OwnedFd>> = (0..config.procs).map(|_| Vec::new()).collect();

        let mut listeners = Vec::with_capacity(config.listeners);
        for _ in 0..config.listeners {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .context("binding a loopback listener")?;
            system::reset_on_close(&listener).context("setsockopt(SO_LINGER)")?;
            listeners.push(listener);
        }
        let clients = config.procs - config.listeners;
        for k in 0..config.conns {
            let server = k % config.listeners;
            let client = config.listeners + k % clients;
            let listener = &listeners[server];
            let port = listener.local_addr()?.port();
            let outbound = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
            let (inbound, _) = listener
                .accept()
                .context("accepting a loopback connection")?;
            system::reset_on_close(&outbound).context("setsockopt(SO_LINGER)")?;
            system::reset_on_close(&inbound).context("setsockopt(SO_LINGER)")?;
            held[client].push(outbound.into());
            held[server].push(inbound.into());
        }
        for (i, listener) in listeners.into_iter().enumerate() {
            held[i].push(listener.into());
        }

        let mut sleepers = Sleepers::default();
        for fds in held {
            sleepers.children.push(spawn_sleeper(&fds)?);
            // `fds` is closed here: from now on the sleeper alone holds these sockets.
        }
        Ok(sleepers)
    }

    fn pids(&self) -> HashSet<u32> {
        self.children.iter().map(Child::id).collect()
    }
}

impl Drop for Sleepers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

/// Starts `sleep 3600` holding `fds` (at the same numbers as here). The kernel kills it should
/// the bench die without running its Drop guard.
fn spawn_sleeper(fds: &[OwnedFd]) -> Result<Child> {
    let mut sleep = Command::new("sleep");
    sleep.arg("3600");
    let mut command = system::dies_with_us(&sleep);
    command.stdin(Stdio::null()).stdout(Stdio::null());
    let held: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
    system::spawn_holding(&mut command, &held).context("starting an idle `sleep 3600` process")
}

// ---------------------------------------------------------------------------------------------
// What the snapshots hold
// ---------------------------------------------------------------------------------------------

struct Contents {
    processes: usize,
    sleepers_seen: usize,
    sleepers_with_sockets: usize,
    sleeper_listening: usize,
    sleeper_connections: usize,
    listening: usize,
    connections: usize,
    unowned: usize,
}

fn contents(snapshot: &Snapshot, sleepers: &HashSet<u32>) -> Contents {
    let ours: Vec<_> = snapshot
        .processes
        .iter()
        .filter(|p| sleepers.contains(&p.pid))
        .collect();
    Contents {
        processes: snapshot.processes.len(),
        sleepers_seen: ours.len(),
        sleepers_with_sockets: ours
            .iter()
            .filter(|p| !p.listening.is_empty() || !p.connections.is_empty())
            .count(),
        sleeper_listening: ours.iter().map(|p| p.listening.len()).sum(),
        sleeper_connections: ours.iter().map(|p| p.connections.len()).sum(),
        listening: snapshot.processes.iter().map(|p| p.listening.len()).sum(),
        connections: snapshot.processes.iter().map(|p| p.connections.len()).sum(),
        unowned: snapshot.unowned_sockets.len(),
    }
}

fn describe(label: &str, snapshot: &Snapshot, c: &Contents) -> String {
    format!(
        "{label}: {} processes ({} of them sleepers, {} sleepers with sockets), connections \
         collected: {}, {} listening sockets and {} connections owned ({} and {} by sleepers), \
         {} unowned sockets",
        grouped(c.processes),
        grouped(c.sleepers_seen),
        grouped(c.sleepers_with_sockets),
        snapshot.collection.connections_collected,
        grouped(c.listening),
        grouped(c.connections),
        grouped(c.sleeper_listening),
        grouped(c.sleeper_connections),
        grouped(c.unowned),
    )
}

/// Counts inside the OTLP records: resources, metrics, data points and log records.
#[derive(Default)]
struct OtlpCounts {
    metric_resources: usize,
    metrics: usize,
    data_points: usize,
    log_resources: usize,
    log_records: usize,
}

fn otlp_counts(batches: &[Batch]) -> OtlpCounts {
    let mut counts = OtlpCounts::default();
    for batch in batches {
        match &batch.records {
            Records::OtlpMetrics(resources) => {
                counts.metric_resources += resources.len();
                for metric in resources
                    .iter()
                    .flat_map(|r| &r.scope_metrics)
                    .flat_map(|s| &s.metrics)
                {
                    counts.metrics += 1;
                    counts.data_points += match &metric.data {
                        Some(Data::Gauge(g)) => g.data_points.len(),
                        Some(Data::Sum(s)) => s.data_points.len(),
                        Some(Data::Histogram(h)) => h.data_points.len(),
                        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                        Some(Data::Summary(s)) => s.data_points.len(),
                        None => 0,
                    };
                }
            }
            Records::OtlpLogs(resources) => {
                counts.log_resources += resources.len();
                counts.log_records += resources
                    .iter()
                    .flat_map(|r| &r.scope_logs)
                    .map(|s| s.log_records.len())
                    .sum::<usize>();
            }
            _ => {}
        }
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// The variants
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Otlp,
    RemoteWrite,
    Ndjson,
}

#[derive(Debug, Clone, Copy)]
struct Variant {
    name: &'static str,
    protocol: Protocol,
    /// Only OTLP looks at it.
    encoding: Encoding,
    /// Remote write is always snappy, whatever this says.
    compression: Compression,
}

const VARIANTS: [Variant; 7] = [
    Variant {
        name: "OTLP protobuf+gzip",
        protocol: Protocol::Otlp,
        encoding: Encoding::Protobuf,
        compression: Compression::Gzip,
    },
    Variant {
        name: "OTLP protobuf",
        protocol: Protocol::Otlp,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
    },
    Variant {
        name: "OTLP JSON+gzip",
        protocol: Protocol::Otlp,
        encoding: Encoding::Json,
        compression: Compression::Gzip,
    },
    Variant {
        name: "OTLP JSON",
        protocol: Protocol::Otlp,
        encoding: Encoding::Json,
        compression: Compression::None,
    },
    Variant {
        name: "remote-write (snappy)",
        protocol: Protocol::RemoteWrite,
        encoding: Encoding::Protobuf,
        compression: Compression::None,
    },
    Variant {
        name: "NDJSON+gzip",
        protocol: Protocol::Ndjson,
        encoding: Encoding::Json,
        compression: Compression::Gzip,
    },
    Variant {
        name: "NDJSON",
        protocol: Protocol::Ndjson,
        encoding: Encoding::Json,
        compression: Compression::None,
    },
];

/// What the uplink's worker does with a snapshot before anything is queued.
fn encode(protocol: Protocol, snapshot: &Snapshot) -> Vec<Batch> {
    match protocol {
        Protocol::Otlp => OtlpEncoder::new(Temporality::Cumulative, MAX_RECORDS_PER_BATCH)
            .encode_snapshot(snapshot),
        Protocol::RemoteWrite => RemoteWriteEncoder::new(MAX_RECORDS_PER_BATCH, MAX_CONVERSATIONS)
            .encode_snapshot(snapshot),
        Protocol::Ndjson => vec![ndjson::encode_snapshot(snapshot)],
    }
}

/// What the worker does with each batch when it sends it.
fn bodies(batches: &[Batch], encoding: Encoding, compression: Compression) -> Result<Vec<Body>> {
    batches
        .iter()
        .map(|batch| {
            batch
                .body(encoding, compression)
                .context("building a request body")
        })
        .collect()
}

/// Requests and bytes of one snapshot in one variant.
struct Size {
    requests: usize,
    records: usize,
    /// Body bytes before compression (for remote write: the concatenated series).
    raw_bytes: usize,
    wire_bytes: usize,
    largest_request: usize,
}

impl Size {
    fn ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.wire_bytes as f64
    }
}

fn size(batches: &[Batch], variant: Variant) -> Result<Size> {
    let wire = bodies(batches, variant.encoding, variant.compression)?;
    let raw_bytes = match variant.protocol {
        Protocol::RemoteWrite => batches
            .iter()
            .map(|b| match &b.records {
                Records::RemoteWrite(series) => series.iter().map(Vec::len).sum(),
                _ => 0,
            })
            .sum(),
        _ => bodies(batches, variant.encoding, Compression::None)?
            .iter()
            .map(|b| b.bytes.len())
            .sum(),
    };
    Ok(Size {
        requests: batches.len(),
        records: batches.iter().map(|b| b.records.len()).sum(),
        raw_bytes,
        wire_bytes: wire.iter().map(|b| b.bytes.len()).sum(),
        largest_request: wire.iter().map(|b| b.bytes.len()).max().unwrap_or(0),
    })
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone)]
struct Series {
    cpu_ms: Vec<f64>,
    wall_ms: Vec<f64>,
}

/// Runs `f`, adds its CPU and wall time to `series`, and hands back its result (dropped by the
/// caller, outside the measurement).
fn timed<T>(series: &mut Series, f: impl FnOnce() -> T) -> T {
    let cpu = system::process_cpu_time();
    let wall = Instant::now();
    let value = f();
    series.wall_ms.push(wall.elapsed().as_secs_f64() * 1000.0);
    series
        .cpu_ms
        .push((system::process_cpu_time() - cpu).as_secs_f64() * 1000.0);
    value
}

/// One snapshot measured in every variant.
struct Dataset<'a> {
    label: &'static str,
    snapshot: &'a Snapshot,
    sizes: Vec<Size>,
    encode: Vec<Series>,
    encode_and_body: Vec<Series>,
}

impl<'a> Dataset<'a> {
    fn new(label: &'static str, snapshot: &'a Snapshot) -> Result<Dataset<'a>> {
        let sizes = VARIANTS
            .iter()
            .map(|v| size(&encode(v.protocol, snapshot), *v))
            .collect::<Result<Vec<_>>>()?;
        Ok(Dataset {
            label,
            snapshot,
            sizes,
            encode: vec![Series::default(); VARIANTS.len()],
            encode_and_body: vec![Series::default(); VARIANTS.len()],
        })
    }

    /// One round: every variant once, encode only and then encode + bodies.
    fn round(&mut self) -> Result<()> {
        let snapshot = self.snapshot;
        for (i, variant) in VARIANTS.iter().enumerate() {
            let batches = timed(&mut self.encode[i], || encode(variant.protocol, snapshot));
            drop(batches);
            let sent = timed(&mut self.encode_and_body[i], || {
                let batches = encode(variant.protocol, snapshot);
                let bodies = bodies(&batches, variant.encoding, variant.compression);
                (batches, bodies)
            });
            sent.1?;
        }
        Ok(())
    }

    /// Drops what the warm-up round measured.
    fn forget_timings(&mut self) {
        self.encode = vec![Series::default(); VARIANTS.len()];
        self.encode_and_body = vec![Series::default(); VARIANTS.len()];
    }

    fn variant(&self, name: &str) -> usize {
        VARIANTS
            .iter()
            .position(|v| v.name == name)
            .expect("a known variant name")
    }
}

/// Cumulative and delta temporality on the first and the second of two snapshots.
struct TemporalityRow {
    label: &'static str,
    /// In the order of the OTLP variants of VARIANTS.
    sizes: Vec<Size>,
}

fn otlp_variants() -> impl Iterator<Item = Variant> {
    VARIANTS
        .into_iter()
        .filter(|v| v.protocol == Protocol::Otlp)
}

fn temporality_rows(first: &Snapshot, second: &Snapshot) -> Result<Vec<TemporalityRow>> {
    let sizes = |batches: &[Batch]| -> Result<Vec<Size>> {
        otlp_variants().map(|v| size(batches, v)).collect()
    };
    let mut cumulative = OtlpEncoder::new(Temporality::Cumulative, MAX_RECORDS_PER_BATCH);
    let mut delta = OtlpEncoder::new(Temporality::Delta, MAX_RECORDS_PER_BATCH);
    Ok(vec![
        TemporalityRow {
            label: "cumulative, 1st snapshot",
            sizes: sizes(&cumulative.encode_snapshot(first))?,
        },
        TemporalityRow {
            label: "cumulative, 2nd snapshot",
            sizes: sizes(&cumulative.encode_snapshot(second))?,
        },
        TemporalityRow {
            label: "delta, 1st (nothing before)",
            sizes: sizes(&delta.encode_snapshot(first))?,
        },
        TemporalityRow {
            label: "delta, 2nd (after the 1st)",
            sizes: sizes(&delta.encode_snapshot(second))?,
        },
    ])
}

/// CPU and wall time of the delta encoder's second encode (the steady state), and of it plus
/// protobuf+gzip bodies.
fn delta_round(
    first: &Snapshot,
    second: &Snapshot,
    encode_only: &mut Series,
    with_body: &mut Series,
) -> Result<()> {
    let mut encoder = OtlpEncoder::new(Temporality::Delta, MAX_RECORDS_PER_BATCH);
    drop(encoder.encode_snapshot(first));
    drop(timed(encode_only, || encoder.encode_snapshot(second)));

    let mut encoder = OtlpEncoder::new(Temporality::Delta, MAX_RECORDS_PER_BATCH);
    drop(encoder.encode_snapshot(first));
    let sent = timed(with_body, || {
        let batches = encoder.encode_snapshot(second);
        let bodies = bodies(&batches, Encoding::Protobuf, Compression::Gzip);
        (batches, bodies)
    });
    sent.1?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

/// 1071 -> "1,071".
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_size_table(datasets: &[Dataset<'_>]) {
    println!(
        "| {:<14} | {:<21} | {:>8} | {:>7} | {:>12} | {:>12} | {:>6} | {:>11} | {:>13} |",
        "snapshot",
        "variant",
        "requests",
        "records",
        "raw KiB",
        "wire KiB",
        "ratio",
        "wire B/proc",
        "largest KiB",
    );
    println!(
        "|{:-<16}|{:-<23}|{:->10}|{:->9}|{:->14}|{:->14}|{:->8}|{:->13}|{:->15}|",
        "", "", "", "", "", "", "", "", ""
    );
    for dataset in datasets {
        let processes = dataset.snapshot.processes.len().max(1);
        for (variant, size) in VARIANTS.iter().zip(&dataset.sizes) {
            println!(
                "| {:<14} | {:<21} | {:>8} | {:>7} | {:>12.1} | {:>12.1} | {:>5.1}x | {:>11.0} | {:>13.1} |",
                dataset.label,
                variant.name,
                size.requests,
                grouped(size.records),
                kib(size.raw_bytes),
                kib(size.wire_bytes),
                size.ratio(),
                size.wire_bytes as f64 / processes as f64,
                kib(size.largest_request),
            );
        }
    }
    println!(
        "(per snapshot; records: OTLP resources (metrics + logs), remote-write series, NDJSON \
         lines; raw: bodies before compression, for remote write the series before snappy; \
         ratio raw/wire; wire B/proc: wire bytes over the snapshot's process count; largest: \
         the biggest single request on the wire)"
    );
}

fn print_timing_table(datasets: &[Dataset<'_>]) {
    println!(
        "| {:<14} | {:<21} | {:>17} | {:>17} | {:>17} | {:>17} |",
        "snapshot", "variant", "encode cpu ms", "encode wall ms", "+body cpu ms", "+body wall ms",
    );
    println!(
        "| {:<14} | {:<21} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} |",
        "", "", "median", "p95", "median", "p95", "median", "p95", "median", "p95",
    );
    println!(
        "|{:-<16}|{:-<23}|{:->19}|{:->19}|{:->19}|{:->19}|",
        "", "", "", "", "", ""
    );
    for dataset in datasets {
        for (i, variant) in VARIANTS.iter().enumerate() {
            let e = &dataset.encode[i];
            let b = &dataset.encode_and_body[i];
            println!(
                "| {:<14} | {:<21} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} |",
                dataset.label,
                variant.name,
                support::median(&e.cpu_ms),
                support::percentile(&e.cpu_ms, 95.0),
                support::median(&e.wall_ms),
                support::percentile(&e.wall_ms, 95.0),
                support::median(&b.cpu_ms),
                support::percentile(&b.cpu_ms, 95.0),
                support::median(&b.wall_ms),
                support::percentile(&b.wall_ms, 95.0),
            );
        }
    }
    println!(
        "(encode: snapshot -> batches of records; +body: the same plus every batch's request \
         body, serialized and compressed; cpu: CLOCK_PROCESS_CPUTIME_ID, single-threaded)"
    );
}

fn print_temporality_table(rows: &[TemporalityRow]) {
    let names: Vec<&str> = otlp_variants().map(|v| v.name).collect();
    print!("| {:<27} | {:>8} |", "OTLP temporality", "requests");
    for name in &names {
        print!(" {:>22} |", format!("{name} KiB"));
    }
    println!();
    print!("|{:-<29}|{:->10}|", "", "");
    for _ in &names {
        print!("{:->24}|", "");
    }
    println!();
    for row in rows {
        print!("| {:<27} | {:>8} |", row.label, row.sizes[0].requests);
        for size in &row.sizes {
            print!(" {:>22.1} |", kib(size.wire_bytes));
        }
        println!();
    }
}

/// "OTLP protobuf+gzip: X KiB and Y ms CPU per snapshot ...; uncompressed: Z KiB, W ms".
fn summary_line(dataset: &Dataset<'_>, compressed: &str, plain: &str) -> String {
    let processes = format!("{}-process", grouped(dataset.snapshot.processes.len()));
    let c = dataset.variant(compressed);
    let p = dataset.variant(plain);
    format!(
        "{compressed}: {:.1} KiB and {:.2} ms CPU per {processes} snapshot ({}); uncompressed: \
         {:.1} KiB, {:.2} ms; compression ratio {:.1}:1",
        kib(dataset.sizes[c].wire_bytes),
        support::median(&dataset.encode_and_body[c].cpu_ms),
        dataset.label,
        kib(dataset.sizes[p].wire_bytes),
        support::median(&dataset.encode_and_body[p].cpu_ms),
        dataset.sizes[c].ratio(),
    )
}

/// Things that look wrong or worth a second look, so they are not missed in the tables.
fn problems(
    config: &Config,
    snapshots: &[(&str, &Snapshot, &Contents)],
    datasets: &[Dataset<'_>],
    temporality: &[TemporalityRow],
) -> Vec<String> {
    let mut found = Vec::new();
    for (label, snapshot, c) in snapshots {
        for warning in &snapshot.collection.warnings {
            found.push(format!("{label}: sampler warning: {warning}"));
        }
        if c.sleepers_seen < config.procs {
            found.push(format!(
                "{label}: only {} of {} sleepers in the snapshot",
                c.sleepers_seen, config.procs
            ));
        }
        if snapshot.collection.connections_collected
            && (c.sleeper_listening != config.listeners
                || c.sleeper_connections != 2 * config.conns)
        {
            found.push(format!(
                "{label}: sleepers own {} listening sockets and {} connections, expected {} and {}",
                c.sleeper_listening,
                c.sleeper_connections,
                config.listeners,
                2 * config.conns
            ));
        }
    }
    let budget_ms = 2000.0 * SLOW_SHARE_OF_INTERVAL;
    for dataset in datasets {
        for (i, variant) in VARIANTS.iter().enumerate() {
            let size = &dataset.sizes[i];
            if size.largest_request > LARGE_REQUEST_BYTES {
                found.push(format!(
                    "{} / {}: one request is {:.1} MiB on the wire",
                    dataset.label,
                    variant.name,
                    size.largest_request as f64 / 1048576.0
                ));
            }
            let cpu = support::median(&dataset.encode_and_body[i].cpu_ms);
            if cpu > budget_ms {
                found.push(format!(
                    "{} / {}: encode + body takes {cpu:.1} ms CPU, over {:.0}% of the default \
                     2 s interval",
                    dataset.label,
                    variant.name,
                    SLOW_SHARE_OF_INTERVAL * 100.0
                ));
            }
            let compressing = variant.compression == Compression::Gzip
                || variant.protocol == Protocol::RemoteWrite;
            if compressing && size.ratio() < 1.5 {
                found.push(format!(
                    "{} / {}: compression ratio only {:.2}",
                    dataset.label,
                    variant.name,
                    size.ratio()
                ));
            }
        }
    }
    if let [_, cumulative, _, delta] = temporality {
        for (i, variant) in otlp_variants().enumerate() {
            let (c, d) = (cumulative.sizes[i].wire_bytes, delta.sizes[i].wire_bytes);
            if d as f64 > c as f64 * 1.1 {
                found.push(format!(
                    "{}: delta is {:.1} KiB against cumulative {:.1} KiB",
                    variant.name,
                    kib(d),
                    kib(c)
                ));
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

fn run() -> Result<()> {
    let config = Config::from_env()?;
    let started = Instant::now();
    let load_before = support::load_average();

    eprintln!(
        "starting {} idle processes ({} listening, {} loopback connections between them)",
        config.procs, config.listeners, config.conns
    );
    let sleepers = Sleepers::start(&config)?;
    let pids = sleepers.pids();
    let setup = started.elapsed();

    // With connections: the first and second snapshot of a sampler, as the uplink would see
    // them one interval apart.
    let settings = SamplerSettings::default();
    let interval = settings.interval;
    let mut sampler = Sampler::new(settings);
    sampler.prime()?;
    std::thread::sleep(ONE_SHOT_GAP);
    let first = sampler.sample()?;
    std::thread::sleep(interval);
    let second = sampler.sample()?;
    drop(sampler);
    // Without: processes only.
    let mut sampler = Sampler::new(SamplerSettings {
        collect_connections: false,
        ..SamplerSettings::default()
    });
    sampler.prime()?;
    std::thread::sleep(ONE_SHOT_GAP);
    let metrics_only = sampler.sample()?;
    drop(sampler);

    let first_contents = contents(&first, &pids);
    let second_contents = contents(&second, &pids);
    let metrics_only_contents = contents(&metrics_only, &pids);

    let mut datasets = vec![
        Dataset::new("metrics+logs", &first)?,
        Dataset::new("metrics only", &metrics_only)?,
    ];
    let temporality = temporality_rows(&first, &second)?;
    let otlp_with = otlp_counts(&encode(Protocol::Otlp, &first));
    let otlp_without = otlp_counts(&encode(Protocol::Otlp, &metrics_only));

    eprintln!("measuring {} rounds", config.runs);
    let measure_started = Instant::now();
    // One untimed round first, so allocator and caches are warm for the first measured one.
    let mut delta_encode = Series::default();
    let mut delta_body = Series::default();
    for dataset in &mut datasets {
        dataset.round()?;
    }
    delta_round(&first, &second, &mut delta_encode, &mut delta_body)?;
    for dataset in &mut datasets {
        dataset.forget_timings();
    }
    let mut delta_encode = Series::default();
    let mut delta_body = Series::default();
    // Batch::body builds each OTLP request from a copy of the batch's records; how much of
    // "+body" that copy is.
    let otlp_batches = encode(Protocol::Otlp, &first);
    let mut otlp_clone = Series::default();
    for _ in 0..config.runs {
        for dataset in &mut datasets {
            dataset.round()?;
        }
        delta_round(&first, &second, &mut delta_encode, &mut delta_body)?;
        drop(timed(&mut otlp_clone, || otlp_batches.clone()));
    }
    let measuring = measure_started.elapsed();
    let load_after = support::load_average();

    let teardown_started = Instant::now();
    drop(sleepers);
    let teardown = teardown_started.elapsed();

    println!();
    println!("wiretop uplink bench");
    println!("machine: {}", support::machine_line());
    println!("load average: {load_before} before, {load_after} after measuring");
    println!(
        "load: {} idle `sleep` processes, {} of them listening on loopback, {} loopback TCP \
         connections between them (both ends owned by sleepers); max_records_per_batch {}; \
         {} measured rounds",
        grouped(config.procs),
        grouped(config.listeners),
        grouped(config.conns),
        MAX_RECORDS_PER_BATCH,
        config.runs
    );
    println!(
        "{}",
        describe("1st snapshot (connections)", &first, &first_contents)
    );
    println!(
        "{}",
        describe("2nd snapshot (connections)", &second, &second_contents)
    );
    println!(
        "{}",
        describe(
            "processes-only snapshot",
            &metrics_only,
            &metrics_only_contents
        )
    );
    for (label, c) in [
        ("metrics+logs", &otlp_with),
        ("metrics only", &otlp_without),
    ] {
        println!(
            "OTLP records ({label}): {} metric resources, {} metrics, {} data points; {} log \
             resources, {} log records",
            grouped(c.metric_resources),
            grouped(c.metrics),
            grouped(c.data_points),
            grouped(c.log_resources),
            grouped(c.log_records),
        );
    }
    println!();
    print_size_table(&datasets);
    println!();
    print_timing_table(&datasets);
    println!();
    print_temporality_table(&temporality);
    println!(
        "delta encode of the 2nd snapshot (median/p95): encode {:.2}/{:.2} ms CPU, +protobuf+gzip \
         bodies {:.2}/{:.2} ms CPU",
        support::median(&delta_encode.cpu_ms),
        support::percentile(&delta_encode.cpu_ms, 95.0),
        support::median(&delta_body.cpu_ms),
        support::percentile(&delta_body.cpu_ms, 95.0),
    );
    println!(
        "copying the 1st snapshot's OTLP records once (Batch::body copies each batch's records \
         before serializing; included in +body above) (median/p95): {:.2}/{:.2} ms CPU",
        support::median(&otlp_clone.cpu_ms),
        support::percentile(&otlp_clone.cpu_ms, 95.0),
    );
    println!();
    println!("summary:");
    for dataset in &datasets {
        for (compressed, plain) in [
            ("OTLP protobuf+gzip", "OTLP protobuf"),
            ("OTLP JSON+gzip", "OTLP JSON"),
            ("NDJSON+gzip", "NDJSON"),
        ] {
            println!("  {}", summary_line(dataset, compressed, plain));
        }
        let rw = dataset.variant("remote-write (snappy)");
        println!(
            "  remote-write (snappy): {:.1} KiB in {} requests and {:.2} ms CPU per {}-process \
             snapshot ({}); before snappy {:.1} KiB, ratio {:.1}:1",
            kib(dataset.sizes[rw].wire_bytes),
            dataset.sizes[rw].requests,
            support::median(&dataset.encode_and_body[rw].cpu_ms),
            grouped(dataset.snapshot.processes.len()),
            dataset.label,
            kib(dataset.sizes[rw].raw_bytes),
            dataset.sizes[rw].ratio(),
        );
    }
    println!(
        "time: setup {:.1} s, measuring {:.1} s, teardown {:.1} s, total {:.1} s",
        setup.as_secs_f64(),
        measuring.as_secs_f64(),
        teardown.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let problems = problems(
        &config,
        &[
            ("1st snapshot", &first, &first_contents),
            ("2nd snapshot", &second, &second_contents),
            (
                "processes-only snapshot",
                &metrics_only,
                &metrics_only_contents,
            ),
        ],
        &datasets,
        &temporality,
    );
    support::print_problems(&problems);
    Ok(())
}
