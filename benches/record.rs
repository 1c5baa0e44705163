//! What recording costs at 1,000 processes and 10,000 loopback connections (20,000 sockets):
//! the recorder's own CPU per sample (encoding, compression, the write; sampling is measured by
//! the snapshot bench), the bytes a sample and an hour take on disk and before compression
//! (what an in-memory history of the same encoding would hold), and what reading a sample back
//! costs in the worst case (a keyframe and 59 blocks of changes).
//!
//! The snapshots are made up (the model's examples, so the run needs no load and no root) and
//! change the way an idle host with steady connections does: every connection's idle time
//! moves each tick, a tenth of them send and receive, a few processes use CPU and memory, and a
//! process starts and one exits every ten ticks.
//!
//! ```text
//! cargo bench --bench record
//! ```
//!
//! `WIRETOP_BENCH_RUNS` sets the samples recorded (default 240: four keyframes).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench that cannot run has nothing to say

use std::sync::Arc;
use std::time::{Duration, Instant};

use wiretop::history::{Recorder, RecorderSettings, Recording};
use wiretop::model::{Connection, Process, Role, Snapshot, Traffic};

const PROCESSES: u32 = 1_000;
/// Connections, each with both ends on this host: twice as many sockets.
const CONNECTIONS: u32 = 10_000;
const CLIENTS: u32 = 10;
const SERVERS: u32 = 2;
const INTERVAL_MS: u64 = 2_000;

fn main() {
    let runs: usize = std::env::var("WIRETOP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let dir = std::env::temp_dir().join(format!("wiretop-bench-record-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.wtr");
    let settings = RecorderSettings::from_config(&wiretop::config::Config::default());
    let mut recorder = Recorder::open(&path, settings).unwrap();
    let mut rng = fastrand::Rng::with_seed(42);
    let mut snapshot = host();
    let mut keyframe_times = Vec::new();
    let mut change_times = Vec::new();
    let mut last_keyframes = 0;
    for tick in 0..runs {
        if tick > 0 {
            advance(&mut snapshot, &mut rng, tick);
        }
        let shared = Arc::new(snapshot.clone());
        let cpu_before = cpu_time();
        recorder.record(&shared).unwrap();
        let spent = cpu_time() - cpu_before;
        let keyframes = recorder.stats().keyframes;
        if keyframes > last_keyframes {
            keyframe_times.push(spent);
        } else {
            change_times.push(spent);
        }
        last_keyframes = keyframes;
    }
    let stats = recorder.finish().unwrap();
    let per_hour = |bytes: u64| bytes as f64 * (3_600_000 / INTERVAL_MS) as f64 / runs as f64;
    let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
    println!(
        "{PROCESSES} processes, {CONNECTIONS} connections ({} sockets), {runs} samples every \
         {} s, a keyframe every 60",
        2 * CONNECTIONS,
        INTERVAL_MS / 1000
    );
    println!(
        "recorder CPU per sample: keyframe median {:.1} ms, changes median {:.2} ms p95 {:.2} ms",
        ms(median(&mut keyframe_times)),
        ms(median(&mut change_times)),
        ms(percentile(&mut change_times, 95))
    );
    let average = (keyframe_times.iter().sum::<Duration>() + change_times.iter().sum::<Duration>())
        / runs as u32;
    println!(
        "recorder CPU at one sample every {} s: {:.3}% of a core",
        INTERVAL_MS / 1000,
        100.0 * average.as_secs_f64() / (INTERVAL_MS as f64 / 1000.0)
    );
    println!(
        "on disk: {:.1} KiB a sample, {:.1} MiB an hour; before compression (an in-memory \
         hour of this encoding): {:.1} MiB",
        stats.bytes as f64 / runs as f64 / 1024.0,
        mib(per_hour(stats.bytes)),
        mib(per_hour(stats.raw_bytes))
    );
    let recording = Recording::open(&path).unwrap();
    let worst = recording
        .blocks()
        .iter()
        .rposition(|b| !b.is_keyframe())
        .unwrap_or(0);
    let started = Instant::now();
    let sample = recording.sample(worst).unwrap();
    println!(
        "reading one sample back (a keyframe and up to 59 blocks of changes): {:.0} ms",
        ms(started.elapsed())
    );
    assert_eq!(
        sample.host.taken_at_ms,
        recording.blocks()[worst].header.taken_at_ms
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The host: idle processes, servers holding the accepted ends, clients the connecting ends.
fn host() -> Snapshot {
    let mut processes: Vec<Process> = (0..PROCESSES)
        .map(|i| {
            let mut p = Process::example(1_000 + i, if i % 3 == 0 { "root" } else { "app" });
            p.cmdline = vec!["sleep".to_owned(), "100000".to_owned()];
            p.start_time_ms = 1_700_000_000_000 + u64::from(i);
            p.memory.rss_bytes = 1_000_000;
            p.fd_count = Some(3);
            p
        })
        .collect();
    let per_client = CONNECTIONS / CLIENTS;
    for c in 0..CLIENTS {
        let server_index = (c % SERVERS) as usize;
        let server_pid = processes[server_index].pid;
        let client_index = (SERVERS + c) as usize;
        let client_pid = processes[client_index].pid;
        for k in 0..per_client {
            let local_port = 20_000 + (c * per_client + k) as u16;
            let inode = 1_000_000 + u64::from(c * per_client + k) * 2;
            let mut client = Connection::example_loopback(
                local_port,
                8_000 + server_index as u16,
                Role::Client,
                (server_pid, "python3"),
                inode,
            );
            client.traffic = Traffic::example(0.0, 0.0, 0.05, 0);
            let mut server = Connection::example_loopback(
                8_000 + server_index as u16,
                local_port,
                Role::Server,
                (client_pid, "python3"),
                inode + 1,
            );
            server.traffic = Traffic::example(0.0, 0.0, 0.05, 0);
            processes[client_index].connections.push(client);
            processes[server_index].connections.push(server);
        }
    }
    Snapshot::example(processes)
}

/// One tick of an idle host with steady connections.
fn advance(snapshot: &mut Snapshot, rng: &mut fastrand::Rng, tick: usize) {
    snapshot.host.taken_at_ms += INTERVAL_MS;
    snapshot.host.uptime_secs += 2.0;
    snapshot.host.load_average.one = rng.f64();
    for process in &mut snapshot.processes {
        if rng.u8(..20) == 0 {
            process.cpu_time.user_ms += rng.u64(1..40);
            process.memory.rss_bytes += 4096;
        }
        for connection in &mut process.connections {
            let traffic = &mut connection.traffic;
            if rng.u8(..10) == 0 {
                let sent = rng.u64(64..4096);
                traffic.bytes_sent = traffic.bytes_sent.map(|b| b + sent);
                traffic.bytes_received = traffic.bytes_received.map(|b| b + sent);
                traffic.send_bytes_per_sec = Some(sent as f64 / 2.0);
                traffic.recv_bytes_per_sec = Some(sent as f64 / 2.0);
                traffic.rtt_ms = Some(0.03 + rng.f64() / 100.0);
                traffic.idle_ms = Some(rng.u32(0..2000));
            } else {
                traffic.send_bytes_per_sec = Some(0.0);
                traffic.recv_bytes_per_sec = Some(0.0);
                traffic.idle_ms = traffic.idle_ms.map(|i| i + 2000);
            }
        }
    }
    if tick.is_multiple_of(10) {
        let gone = rng.usize(SERVERS as usize + CLIENTS as usize..snapshot.processes.len());
        snapshot.processes.remove(gone);
        let pid = 100_000 + tick as u32;
        let mut started = Process::example(pid, "app");
        started.cmdline = vec!["/usr/bin/cron".to_owned(), "-f".to_owned()];
        started.start_time_ms = snapshot.host.taken_at_ms;
        snapshot.processes.push(started);
    }
}

/// This process's CPU time (user and system) so far.
fn cpu_time() -> Duration {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).unwrap();
    let micros = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    micros(usage.user_time()) + micros(usage.system_time())
}

fn median(values: &mut [Duration]) -> Duration {
    percentile(values, 50)
}

fn percentile(values: &mut [Duration], p: usize) -> Duration {
    values.sort();
    values
        .get((values.len().saturating_sub(1)) * p / 100)
        .copied()
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
