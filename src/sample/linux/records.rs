//! Turning one pass's readings into the snapshot's [`Process`] records: figures converted to
//! units, rates worked out against the last pass, details and sockets attached, and every field
//! that could not be read named with the reason.

use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};

use crate::model::{net_rates, net_totals, CpuTime, CpuUsage, DiskIo, Process, ProcessMemory};
use crate::sample::attribution::Lookups;
use crate::sample::rates::{PassClock, ProcessCounters};

use super::process::{Field, ProcessKey, ProcessReading};
use super::process_table::DetailsCache;
use super::sockets::{HeldSockets, PassSockets};
use super::start_time_ms;

/// What every record of a pass is measured against.
pub struct PassContext {
    pub clock: PassClock,
    pub boot_time_secs: u64,
    pub memory_total_bytes: u64,
    pub page_size: u64,
}

/// The records of a pass, and the counters the next pass's rates start from.
pub struct Records {
    pub processes: Vec<Process>,
    pub counters: FxHashMap<ProcessKey, ProcessCounters>,
    pub with_unreadable_fields: u32,
}

/// Builds a record for each reading, in the readings' order. `previous` holds the counters of
/// the last pass; `sockets` is None when sockets are not collected.
pub fn build(
    readings: Vec<ProcessReading>,
    details: &DetailsCache,
    lookups: &Lookups,
    mut sockets: Option<&mut PassSockets>,
    previous: &FxHashMap<ProcessKey, ProcessCounters>,
    pass: &PassContext,
    users: &mut UserNames,
) -> Records {
    let mut records = Records {
        processes: Vec::with_capacity(readings.len()),
        counters: FxHashMap::with_capacity_and_hasher(readings.len(), Default::default()),
        with_unreadable_fields: 0,
    };
    for reading in readings {
        let held = sockets.as_deref_mut().map(|s| s.take(reading.key.pid));
        let key = reading.key;
        let counters = counters_of(&reading);
        let rates = pass
            .clock
            .rates(key.start_ticks, &counters, previous.get(&key));
        let process = record(reading, details, lookups, held, rates, pass, users);
        if !process.unreadable.is_empty() {
            records.with_unreadable_fields += 1;
        }
        records.counters.insert(key, counters);
        records.processes.push(process);
    }
    records
}

/// The counters a reading's rates are computed from.
pub fn counters_of(reading: &ProcessReading) -> ProcessCounters {
    ProcessCounters {
        utime_ticks: reading.utime_ticks,
        stime_ticks: reading.stime_ticks,
        io: match reading.io {
            Field::Read(io) => Some(io),
            _ => None,
        },
    }
}

fn record(
    reading: ProcessReading,
    details: &DetailsCache,
    lookups: &Lookups,
    held: Option<HeldSockets>,
    (cpu, disk): (Option<CpuUsage>, Option<DiskIo>),
    pass: &PassContext,
    users: &mut UserNames,
) -> Process {
    let key = reading.key;
    let mut unreadable = BTreeMap::new();
    // The rates come worked out; here only why they may be missing.
    let _ = reading.io.into_option("disk", &mut unreadable);
    let fd_count = reading.fd_count.into_option("fd_count", &mut unreadable);
    // Rates only where every socket of the process could be seen: a partial sum would pass
    // for the whole.
    let (net_send_bytes_per_sec, net_recv_bytes_per_sec) = match &held {
        Some(held) if held.unreadable.is_none() => {
            // What its connections that closed since the last pass moved counts too.
            let (send, recv) = net_rates(&held.connections);
            let (sent, received) = held.closed_bytes;
            let closed = |bytes: u64| held.window_secs.map_or(0.0, |w| bytes as f64 / w);
            (
                send.map(|r| r + closed(sent)),
                recv.map(|r| r + closed(received)),
            )
        }
        _ => (None, None),
    };
    let (net_sent_bytes, net_received_bytes) = match &held {
        Some(held) if held.unreadable.is_none() => {
            let (sent, received) = net_totals(&held.connections);
            let (closed_sent, closed_received) = held.closed_totals;
            (
                sent.map(|b| b.saturating_add(closed_sent)),
                received.map(|b| b.saturating_add(closed_received)),
            )
        }
        _ => (None, None),
    };
    let held = held.unwrap_or_default();
    if let Some(reason) = held.unreadable {
        unreadable.insert("sockets".to_owned(), reason);
    }
    let details = details.get(&key);
    let exe = details
        .and_then(|d| d.exe.clone().into_option("exe", &mut unreadable))
        .filter(|_| !reading.kernel_thread);
    let cgroup = details
        .and_then(|d| d.cgroup.clone().into_option("cgroup", &mut unreadable))
        .filter(|path| !path.is_empty());
    let netns = details.and_then(|d| d.netns.clone().into_option("netns", &mut unreadable));
    let attribution = details
        .map(|d| lookups.attribution(&d.attribution))
        .unwrap_or_default();
    if reading.uid.is_none() {
        unreadable.insert(
            "uid".to_owned(),
            "owner of /proc entry unreadable".to_owned(),
        );
    }
    let uid = reading.uid.unwrap_or(0);

    let ticks_per_sec = pass.clock.ticks_per_sec;
    let rss_bytes = reading.rss_pages * pass.page_size;
    Process {
        pid: key.pid,
        ppid: reading.ppid,
        name: reading.name,
        exe,
        cmdline: details.map(|d| d.cmdline.clone()).unwrap_or_default(),
        user: users.name_of(uid),
        uid,
        state: reading.state,
        threads: reading.threads,
        nice: Some(reading.nice),
        priority: Some(reading.priority),
        start_time_ms: start_time_ms(pass.boot_time_secs, key.start_ticks, ticks_per_sec),
        kernel_thread: reading.kernel_thread,
        cpu,
        cpu_time: CpuTime {
            user_ms: ticks_to_ms(reading.utime_ticks, ticks_per_sec),
            system_ms: ticks_to_ms(reading.stime_ticks, ticks_per_sec),
        },
        memory: ProcessMemory {
            rss_bytes,
            virtual_bytes: reading.virtual_bytes,
            percent: if pass.memory_total_bytes == 0 {
                0.0
            } else {
                rss_bytes as f64 * 100.0 / pass.memory_total_bytes as f64
            },
        },
        disk,
        net_send_bytes_per_sec,
        net_recv_bytes_per_sec,
        net_sent_bytes,
        net_received_bytes,
        fd_count,
        container_id: attribution.container.as_ref().map(|c| c.id.clone()),
        attribution,
        cgroup,
        netns,
        listening: held.listening,
        connections: held.connections,
        recently_closed: held.recently_closed,
        unreadable,
        // Derived by whoever reads the snapshot against a reference time or a baseline.
        new: false,
        unexpected: None,
        unexpected_reasons: Vec::new(),
    }
}

fn ticks_to_ms(ticks: u64, ticks_per_sec: f64) -> u64 {
    (ticks as f64 * 1000.0 / ticks_per_sec) as u64
}

/// User names by uid, looked up once each: a lookup can read /etc/passwd or ask NSS.
#[derive(Default)]
pub struct UserNames(HashMap<u32, Option<String>>);

impl UserNames {
    pub fn name_of(&mut self, uid: u32) -> Option<String> {
        self.0
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.name)
            })
            .clone()
    }
}
