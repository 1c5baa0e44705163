//! The Linux collector: the only code that reads /proc.

mod fds;
mod host;
mod net;
mod process;
mod signal;

pub use signal::signal_process;

/// See `sample::fuzzing`.
pub mod fuzzing {
    pub use super::fds::socket_inode;
    pub use super::process::{cgroup_path, container_id, parse_ns_link, split_cmdline};
}

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::model::{
    assemble_sockets, Collection, CollectionPhases, Counts, CpuTime, CpuUsage, DiskIo, Host,
    Process, ProcessMemory, Snapshot, SCHEMA_VERSION,
};
use crate::sample::{SampleError, SamplerSettings};

use fds::{FdCandidate, OwnershipTracker};
use host::{read_host, CpuCounters};
use process::{container_id, read_details, read_process, Field, ProcessDetails, ProcessKey};

/// Cached details are re-read at least this often, so a process that rewrites its own title
/// (postgres, nginx) is seen with the new one.
const DETAILS_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Counters kept from the previous pass, to turn totals into rates.
#[derive(Debug, Clone, Copy)]
struct PreviousCounters {
    utime_ticks: u64,
    stime_ticks: u64,
    io: Option<(u64, u64)>,
}

#[derive(Debug)]
struct CachedDetails {
    /// The name the process had when read: a new name means it exec'd (or renamed itself).
    name: String,
    /// That name with its secrets hidden, as every snapshot shows it.
    shown_name: String,
    /// Details with the command line and executable path already scrubbed.
    details: ProcessDetails,
    /// The raw command line matched an exclude pattern.
    excluded: bool,
}

/// State carried between passes.
pub struct Collector {
    ticks_per_sec: f64,
    page_size: u64,
    prev_cpu: Option<CpuCounters>,
    prev_uptime: Option<f64>,
    prev_procs: HashMap<ProcessKey, PreviousCounters>,
    details: HashMap<ProcessKey, CachedDetails>,
    details_refreshed_at: Option<Instant>,
    users: HashMap<u32, Option<String>>,
    ownership: OwnershipTracker,
}

impl Default for Collector {
    fn default() -> Self {
        Self::new()
    }
}

impl Collector {
    pub fn new() -> Self {
        Collector {
            ticks_per_sec: procfs::ticks_per_second().max(1) as f64,
            page_size: procfs::page_size().max(1),
            prev_cpu: None,
            prev_uptime: None,
            prev_procs: HashMap::new(),
            details: HashMap::new(),
            details_refreshed_at: None,
            users: HashMap::new(),
            ownership: OwnershipTracker::default(),
        }
    }

    /// Reads only the counters that rates are computed from, so the next [`Self::collect`] has
    /// something to take differences against. Much cheaper than a full pass.
    pub fn prime(&mut self) -> Result<(), SampleError> {
        let host = read_host()?;
        self.prev_cpu = Some(host.cpu);
        self.prev_uptime = Some(host.uptime_secs);
        self.prev_procs.clear();
        for pid in list_pids()? {
            if let Some((_, reading)) = read_process(pid) {
                let io = match reading.io {
                    Field::Read(io) => Some(io),
                    _ => None,
                };
                self.prev_procs.insert(
                    reading.key,
                    PreviousCounters {
                        utime_ticks: reading.utime_ticks,
                        stime_ticks: reading.stime_ticks,
                        io,
                    },
                );
            }
        }
        Ok(())
    }

    /// One full pass: host, processes, sockets, ownership, peers.
    pub fn collect(&mut self, settings: &SamplerSettings) -> Result<Snapshot, SampleError> {
        let started = Instant::now();
        let taken_at_ms = crate::time::now_ms();
        let host = read_host()?;
        let boot_time_ms = host.boot_time_secs * 1000;
        let window_secs = self.prev_uptime.map(|prev| host.uptime_secs - prev);

        let refresh_details = self
            .details_refreshed_at
            .is_none_or(|at| at.elapsed() >= DETAILS_REFRESH_EVERY);
        if refresh_details {
            self.details_refreshed_at = Some(Instant::now());
        }

        let mut readings = Vec::new();
        let mut next_details = HashMap::new();
        for pid in list_pids()? {
            let Some((handle, mut reading)) = read_process(pid) else {
                continue;
            };
            // Exited half-way through being read: skipped, like one that exited before.
            if matches!(reading.io, Field::Gone) || matches!(reading.fd_count, Field::Gone) {
                continue;
            }
            let cached = self
                .details
                .remove(&reading.key)
                .filter(|c| !refresh_details && c.name == reading.name);
            let cached = cached.unwrap_or_else(|| {
                let mut details = read_details(&handle, pid, reading.kernel_thread);
                let excluded = is_excluded(&settings.exclude, &reading.name, &details.cmdline);
                // Scrubbed here, once, before the command line, the executable's path or the
                // name is stored anywhere: programs that rewrite their title often set their
                // name from it, and a program file can be named `PASSWORD=…`.
                let scrubber = &settings.scrubber;
                details.cmdline = scrubber.scrub(&details.cmdline);
                details.exe = details.exe.map(|exe| scrubber.scrub_exe(&exe).into_owned());
                CachedDetails {
                    name: reading.name.clone(),
                    shown_name: scrubber.scrub_name(&reading.name).into_owned(),
                    details,
                    excluded,
                }
            });
            if cached.details.gone {
                continue;
            }
            // From here on only the scrubbed name exists: the peers of connections, the
            // snapshot and everything built from it take it from the reading.
            reading.name.clone_from(&cached.shown_name);
            next_details.insert(reading.key, cached);
            readings.push(reading);
        }
        self.details = next_details;

        let mut phases = CollectionPhases {
            processes_ms: ms_since(started),
            ..CollectionPhases::default()
        };
        let names: rustc_hash::FxHashMap<u32, String> = readings
            .iter()
            .map(|r| (r.key.pid, r.name.clone()))
            .collect();

        let mut collection = Collection {
            duration_ms: 0.0,
            phases: CollectionPhases::default(),
            connections_collected: settings.collect_connections,
            full_ownership_scan: false,
            network_namespaces: Vec::new(),
            restricted: false,
            processes_with_unreadable_fields: 0,
            excluded_processes: 0,
            warnings: Vec::new(),
        };

        let (mut sockets, fd_unreadable) = if settings.collect_connections {
            let mut members: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
            // Our own namespace first, through ourselves: always readable.
            let own_netns = std::fs::read_link("/proc/self/ns/net")
                .ok()
                .and_then(|link| process::parse_ns_link(&link.to_string_lossy()));
            if let Some(own) = own_netns {
                members.entry(own).or_default().push(std::process::id());
            }
            for r in readings.iter().filter(|r| !r.kernel_thread) {
                if let Some(netns) = self.netns_of(&r.key) {
                    members.entry(netns).or_default().push(r.key.pid);
                }
            }
            let phase_start = Instant::now();
            let tables = net::read_tables(&members, own_netns);
            phases.socket_tables_ms = ms_since(phase_start);
            let phase_start = Instant::now();
            collection.network_namespaces = tables.namespaces;
            collection.warnings.extend(tables.warnings);
            let candidates: Vec<FdCandidate> = readings
                .iter()
                .filter(|r| !r.kernel_thread)
                .map(|r| FdCandidate {
                    key: r.key,
                    uid: r.uid,
                    netns: self.netns_of(&r.key),
                    fd_count: match r.fd_count {
                        Field::Read(n) => Some(n),
                        _ => None,
                    },
                })
                .collect();
            let pass = self.ownership.pass(&candidates, &tables.entries);
            collection.full_ownership_scan = pass.full_scan;
            phases.ownership_ms = ms_since(phase_start);
            let phase_start = Instant::now();
            let assembled = assemble_sockets(&tables.entries, &pass.ownership, |pid| {
                names.get(&pid).map(String::as_str)
            });
            phases.peers_ms = ms_since(phase_start);
            (Some(assembled), pass.unreadable)
        } else {
            (None, HashMap::new())
        };

        let mut prev_procs = HashMap::with_capacity(readings.len());
        let mut processes = Vec::with_capacity(readings.len());
        for reading in readings {
            let key = reading.key;
            let pid = key.pid;
            let mut unreadable = BTreeMap::new();
            let io = reading.io.into_option("disk", &mut unreadable);
            let fd_count = reading.fd_count.into_option("fd_count", &mut unreadable);
            if let Some(reason) = fd_unreadable.get(&pid) {
                unreadable.insert("sockets".to_owned(), reason.clone());
            }
            let details = self.details.get(&key).map(|c| &c.details);
            let exe = details
                .and_then(|d| d.exe.clone().into_option("exe", &mut unreadable))
                .filter(|_| !reading.kernel_thread);
            let cgroup = details
                .and_then(|d| d.cgroup.clone().into_option("cgroup", &mut unreadable))
                .filter(|path| !path.is_empty());
            let netns = details.and_then(|d| d.netns.clone().into_option("netns", &mut unreadable));

            let start_secs = key.start_ticks as f64 / self.ticks_per_sec;
            let previous = self.prev_procs.get(&key);
            // A process born since the last pass has all its CPU time inside this window.
            let window = match (window_secs, previous) {
                (Some(w), Some(_)) => Some(w),
                (Some(w), None) => Some(w.min(host.uptime_secs - start_secs)),
                (None, _) => None,
            }
            .filter(|w| *w > 0.01);
            let (base_u, base_s, base_io) = match previous {
                Some(p) => (p.utime_ticks, p.stime_ticks, p.io),
                None => (0, 0, Some((0, 0))),
            };
            let cpu_cap = f64::from(host.cpu_count) * 100.0;
            let cpu = window.map(|w| {
                let pct = |now: u64, then: u64| {
                    (now.saturating_sub(then) as f64 / self.ticks_per_sec / w * 100.0).min(cpu_cap)
                };
                let user_pct = pct(reading.utime_ticks, base_u);
                let system_pct = pct(reading.stime_ticks, base_s);
                CpuUsage {
                    total_pct: (user_pct + system_pct).min(cpu_cap),
                    user_pct,
                    system_pct,
                }
            });
            let disk = io.map(|(read, written)| {
                let rate =
                    |now: u64, then: Option<u64>| Some(now.saturating_sub(then?) as f64 / window?);
                DiskIo {
                    read_bytes_per_sec: rate(read, base_io.map(|b| b.0)),
                    write_bytes_per_sec: rate(written, base_io.map(|b| b.1)),
                    read_bytes_total: read,
                    write_bytes_total: written,
                }
            });
            prev_procs.insert(
                key,
                PreviousCounters {
                    utime_ticks: reading.utime_ticks,
                    stime_ticks: reading.stime_ticks,
                    io,
                },
            );

            let rss_bytes = reading.rss_pages * self.page_size;
            let uid = reading.uid.unwrap_or(0);
            if reading.uid.is_none() {
                unreadable.insert(
                    "uid".to_owned(),
                    "owner of /proc entry unreadable".to_owned(),
                );
            }
            let (listening, connections) = match sockets.as_mut() {
                Some(s) => (
                    s.listening.remove(&pid).unwrap_or_default(),
                    s.connections.remove(&pid).unwrap_or_default(),
                ),
                None => (Vec::new(), Vec::new()),
            };
            if !unreadable.is_empty() {
                collection.processes_with_unreadable_fields += 1;
            }
            processes.push(Process {
                pid,
                ppid: reading.ppid,
                name: reading.name,
                exe,
                cmdline: details.map(|d| d.cmdline.clone()).unwrap_or_default(),
                user: self.user_name(uid),
                uid,
                state: reading.state,
                threads: reading.threads,
                start_time_ms: start_time_ms(
                    host.boot_time_secs,
                    key.start_ticks,
                    self.ticks_per_sec,
                ),
                kernel_thread: reading.kernel_thread,
                cpu,
                cpu_time: CpuTime {
                    user_ms: ticks_to_ms(reading.utime_ticks, self.ticks_per_sec),
                    system_ms: ticks_to_ms(reading.stime_ticks, self.ticks_per_sec),
                },
                memory: ProcessMemory {
                    rss_bytes,
                    virtual_bytes: reading.virtual_bytes,
                    percent: if host.memory.total_bytes == 0 {
                        0.0
                    } else {
                        rss_bytes as f64 * 100.0 / host.memory.total_bytes as f64
                    },
                },
                disk,
                fd_count,
                container_id: cgroup.as_deref().and_then(container_id),
                cgroup,
                netns,
                listening,
                connections,
                unreadable,
            });
        }
        processes.sort_by_key(|p| p.pid);
        let excluded: std::collections::HashSet<u32> = self
            .details
            .iter()
            .filter(|(_, c)| c.excluded)
            .map(|(key, _)| key.pid)
            .collect();
        collection.excluded_processes = drop_excluded(&mut processes, &excluded);

        let cpu = self.prev_cpu.and_then(|prev| host.cpu.split_since(&prev));
        self.prev_cpu = Some(host.cpu);
        self.prev_uptime = Some(host.uptime_secs);
        self.prev_procs = prev_procs;

        collection.restricted =
            !nix::unistd::geteuid().is_root() && collection.processes_with_unreadable_fields > 0;
        let (unowned_sockets, listening_sockets, established_connections) = match sockets {
            Some(s) => (s.unowned, s.listening_count, s.established_count),
            None => (Vec::new(), 0, 0),
        };
        let counts = Counts {
            processes: u32::try_from(processes.len()).unwrap_or(u32::MAX),
            threads: processes
                .iter()
                .fold(0u32, |n, p| n.saturating_add(p.threads)),
            listening_sockets,
            established_connections,
        };
        collection.duration_ms = ms_since(started);
        collection.phases = phases;
        Ok(Snapshot {
            schema_version: SCHEMA_VERSION,
            host: Host {
                hostname: host.hostname,
                kernel: host.kernel,
                boot_time_ms,
                uptime_secs: host.uptime_secs,
                cpu_count: host.cpu_count,
                load_average: host.load_average,
                memory: host.memory,
                cpu,
                taken_at_ms,
                interval_ms: window_secs
                    .map(|w| (w * 1000.0).round() as u64)
                    .unwrap_or(settings.interval.as_millis() as u64),
                counts,
                tags: settings.tags.clone(),
            },
            processes,
            unowned_sockets,
            collection,
        })
    }

    /// Drops the cached per-process details, so command lines are read (and scrubbed, and
    /// matched against exclude patterns) again under new settings.
    pub fn forget_details(&mut self) {
        self.details.clear();
    }

    fn netns_of(&self, key: &ProcessKey) -> Option<u64> {
        match self.details.get(key)?.details.netns {
            Field::Read(ns) => Some(ns),
            _ => None,
        }
    }

    fn user_name(&mut self, uid: u32) -> Option<String> {
        self.users
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

/// Whether the command line (or, without one, the name) matches an exclude pattern.
fn is_excluded(patterns: &[regex::Regex], name: &str, cmdline: &[String]) -> bool {
    if patterns.is_empty() {
        return false;
    }
    let text = if cmdline.is_empty() {
        name.to_owned()
    } else {
        cmdline.join(" ")
    };
    patterns.iter().any(|p| p.is_match(&text))
}

/// Removes excluded processes, and every reference to them, so the snapshot stays
/// self-consistent (no peer points at a process that is not in it). Returns how many went.
fn drop_excluded(processes: &mut Vec<Process>, excluded: &std::collections::HashSet<u32>) -> u32 {
    if excluded.is_empty() {
        return 0;
    }
    let before = processes.len();
    processes.retain(|p| !excluded.contains(&p.pid));
    for p in processes.iter_mut() {
        for c in &mut p.connections {
            if c.peer_pid.is_some_and(|pid| excluded.contains(&pid)) {
                c.peer_pid = None;
                c.peer_name = None;
            }
        }
    }
    u32::try_from(before - processes.len()).unwrap_or(u32::MAX)
}

/// A process's start time in ms since the epoch, from the boot time and its start in clock
/// ticks after boot. One formula for snapshots and for the identity check before a signal.
fn start_time_ms(boot_time_secs: u64, start_ticks: u64, ticks_per_sec: f64) -> u64 {
    boot_time_secs * 1000 + (start_ticks as f64 / ticks_per_sec * 1000.0) as u64
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn ticks_to_ms(ticks: u64, ticks_per_sec: f64) -> u64 {
    (ticks as f64 * 1000.0 / ticks_per_sec) as u64
}

/// Every pid in /proc, ascending.
fn list_pids() -> Result<Vec<u32>, SampleError> {
    let dir = std::fs::read_dir("/proc").map_err(|e| SampleError::Host {
        what: "/proc",
        reason: e.to_string(),
    })?;
    let mut pids: Vec<u32> = dir
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    pids.sort_unstable();
    Ok(pids)
}
