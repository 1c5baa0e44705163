//! The Linux collector: the only code that reads /proc.
//!
//! A pass ([`Collector::collect`]) goes one way through four steps, each in its own module:
//! reading the process table (`process_table`: per-tick figures through /proc files held open
//! in `proc_files`, details in `process`, with the names of their containers from
//! `sample::attribution`), reading socket tables and working out who holds
//! each socket (`sockets`, over `net` and `fds`), turning readings into snapshot records
//! (`records`), and the host's totals (here). Apart from passes, `proc_events` listens to the
//! kernel's process events between them.

mod fds;
mod held_fds;
mod host;
mod net;
mod net_dev;
mod netns;
pub mod proc_events;
mod proc_files;
mod process;
mod process_table;
mod records;
mod renice;
mod signal;
mod sock_destroy;
mod sock_diag;
mod sockets;
mod stat_text;
#[cfg(test)]
pub(crate) mod test_support;

pub use renice::{nice_of, renice_process, NICE_RANGE};
pub use signal::signal_process;

/// See `sample::fuzzing`.
/// The raw sock_diag dump of the sampler's own namespace, for the snapshot benchmark's
/// reference rows: how many TCP sockets it returned, or why it failed.
pub fn raw_tcp_dump(with_info: bool) -> Result<usize, String> {
    let mut socket = sock_diag::DiagSocket::open().map_err(|e| e.to_string())?;
    socket
        .dump_tcp_asking(None, with_info)
        .map(|entries| entries.len())
        .map_err(|e| e.to_string())
}

pub mod fuzzing {
    pub use super::fds::socket_inode;
    pub use super::process::{cgroup_path, parse_ns_link, split_cmdline};
    pub use super::stat_text::{parse_io, parse_stat};
    pub use crate::sample::attribution::{attribution_of, PathAttribution};
}

use rustc_hash::FxHashMap;
use std::time::Instant;

use crate::model::{Collection, Counts, Host, Process, Snapshot, SCHEMA_VERSION};
use crate::sample::attribution::Lookups;
use crate::sample::exclude::drop_excluded;
use crate::sample::rates::{PassClock, ProcessCounters};
use crate::sample::{SampleError, SamplerSettings};

use host::{core_splits, read_host, CpuCounters, HostReading};
use net_dev::{read_net_dev, InterfaceHistory};
use proc_files::ProcFilesCache;
use process::{ProcessKey, ProcessReading};
use process_table::DetailsCache;
pub use records::UserNames;
use records::{counters_of, PassContext};
use sockets::{PassSockets, SocketReaders};

/// State carried between passes.
pub struct Collector {
    ticks_per_sec: f64,
    page_size: u64,
    prev_cpu: Option<CpuCounters>,
    /// Each core's counters at the previous pass (empty before the first).
    prev_cores: Vec<CpuCounters>,
    prev_uptime: Option<f64>,
    prev_counters: FxHashMap<ProcessKey, ProcessCounters>,
    /// Every process's /proc files, held open between passes.
    files: ProcFilesCache,
    details: DetailsCache,
    /// What container runtimes said about the containers of the processes.
    lookups: Lookups,
    users: UserNames,
    sockets: SocketReaders,
    /// The host's own interface counters, for the header's network rates.
    interfaces: InterfaceHistory,
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
            prev_cores: Vec::new(),
            prev_uptime: None,
            prev_counters: FxHashMap::default(),
            files: ProcFilesCache::new(),
            details: DetailsCache::default(),
            lookups: Lookups::new(Default::default()),
            users: UserNames::default(),
            sockets: SocketReaders::default(),
            interfaces: InterfaceHistory::default(),
        }
    }

    /// Reads the counters that rates are computed from, so the next [`Self::collect`] has
    /// something to take differences against, and every process's details, which that pass
    /// then finds cached. Reading the details here also sends the containers seen to their
    /// runtimes, so even a one-shot sample's single snapshot has their names.
    pub fn prime(&mut self, settings: &SamplerSettings) -> Result<(), SampleError> {
        let host = read_host()?;
        self.prev_cpu = Some(host.cpu);
        self.prev_cores = host.cores;
        self.prev_uptime = Some(host.uptime_secs);
        let readings = self.details.read_all(&mut self.files, settings)?;
        self.observe_containers(&readings, settings);
        self.prev_counters = readings
            .iter()
            .map(|reading| (reading.key, counters_of(reading)))
            .collect();
        if settings.collect_connections && settings.collect_traffic {
            let pids: Vec<u32> = readings.iter().map(|r| r.key.pid).collect();
            self.sockets.prime_traffic(&pids);
        }
        if let Some(totals) = read_net_dev(None) {
            self.interfaces
                .figures(0, std::time::Instant::now(), totals);
        }
        Ok(())
    }

    /// Hands the containers of this pass's processes to the lookups (which ask about new ones
    /// in the background) and takes in what they have learnt since the last pass.
    fn observe_containers(&mut self, readings: &[ProcessReading], settings: &SamplerSettings) {
        let details = &self.details;
        let seen = readings
            .iter()
            .filter_map(|reading| details.get(&reading.key))
            .map(|d| &d.attribution);
        self.lookups.observe(&settings.attribution, seen);
    }

    /// One full pass: host, processes, sockets, ownership, peers.
    pub fn collect(&mut self, settings: &SamplerSettings) -> Result<Snapshot, SampleError> {
        let started = Instant::now();
        let taken_at_ms = crate::time::now_ms();
        let host = read_host()?;
        let readings = self.details.read_all(&mut self.files, settings)?;
        self.observe_containers(&readings, settings);
        let mut collection = Collection {
            connections_collected: settings.collect_connections,
            ..Collection::default()
        };
        collection.phases.processes_ms = ms_since(started);

        let mut sockets = settings.collect_connections.then(|| {
            sockets::read_sockets(
                &readings,
                &self.details,
                &mut self.sockets,
                settings.collect_traffic,
                &mut collection,
            )
        });
        let pass = PassContext {
            clock: PassClock {
                window_secs: self.prev_uptime.map(|prev| host.uptime_secs - prev),
                uptime_secs: host.uptime_secs,
                ticks_per_sec: self.ticks_per_sec,
                cpu_count: host.cpu_count,
            },
            boot_time_secs: host.boot_time_secs,
            memory_total_bytes: host.memory.total_bytes,
            page_size: self.page_size,
        };
        let records = records::build(
            readings,
            &self.details,
            &self.lookups,
            sockets.as_mut(),
            &self.prev_counters,
            &pass,
            &mut self.users,
        );
        self.prev_counters = records.counters;
        let mut processes = records.processes;
        collection.processes_with_unreadable_fields = records.with_unreadable_fields;
        collection.excluded_processes =
            drop_excluded(&mut processes, &self.details.excluded_pids());
        collection.restricted =
            !nix::unistd::geteuid().is_root() && collection.processes_with_unreadable_fields > 0;

        let host = self.host_record(
            host,
            &pass.clock,
            taken_at_ms,
            &processes,
            &sockets,
            settings,
        );
        let unowned_sockets = sockets.map(PassSockets::into_unowned).unwrap_or_default();
        collection.duration_ms = ms_since(started);
        Ok(Snapshot {
            schema_version: SCHEMA_VERSION,
            host,
            processes,
            unowned_sockets,
            collection,
            events: Vec::new(),
        })
    }

    /// The host's part of the snapshot; moves this pass's CPU counters into the baseline.
    fn host_record(
        &mut self,
        reading: HostReading,
        clock: &PassClock,
        taken_at_ms: u64,
        processes: &[Process],
        sockets: &Option<PassSockets>,
        settings: &SamplerSettings,
    ) -> Host {
        let cpu = self
            .prev_cpu
            .and_then(|prev| reading.cpu.split_since(&prev));
        self.prev_cpu = Some(reading.cpu);
        let cpus = core_splits(&reading.cores, &self.prev_cores);
        self.prev_cores = reading.cores;
        self.prev_uptime = Some(reading.uptime_secs);
        let (listening_sockets, established_connections) =
            sockets.as_ref().map_or((0, 0), PassSockets::host_counts);
        let network = read_net_dev(None).map(|totals| {
            self.interfaces
                .figures(0, std::time::Instant::now(), totals)
        });
        let namespace_network = sockets
            .as_ref()
            .map(PassSockets::namespace_network)
            .unwrap_or_default();
        Host {
            hostname: reading.hostname,
            kernel: reading.kernel,
            boot_time_ms: reading.boot_time_secs * 1000,
            uptime_secs: reading.uptime_secs,
            cpu_count: reading.cpu_count,
            load_average: reading.load_average,
            memory: reading.memory,
            cpu,
            cpus,
            taken_at_ms,
            interval_ms: clock
                .window_secs
                .map(|w| (w * 1000.0).round() as u64)
                .unwrap_or(settings.interval.as_millis() as u64),
            counts: Counts {
                processes: u32::try_from(processes.len()).unwrap_or(u32::MAX),
                threads: processes
                    .iter()
                    .fold(0u32, |n, p| n.saturating_add(p.threads)),
                listening_sockets,
                established_connections,
            },
            tags: settings.tags.clone(),
            network,
            namespace_network,
        }
    }

    /// Drops the cached per-process details, so command lines are read (and scrubbed, and
    /// matched against exclude patterns) again under new settings.
    pub fn forget_details(&mut self) {
        self.details.clear();
    }
}

/// A process's start time in ms since the epoch, from the boot time and its start in clock
/// ticks after boot. One formula for snapshots and for the identity check before a signal.
fn start_time_ms(boot_time_secs: u64, start_ticks: u64, ticks_per_sec: f64) -> u64 {
    boot_time_secs * 1000 + (start_ticks as f64 / ticks_per_sec * 1000.0) as u64
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}
