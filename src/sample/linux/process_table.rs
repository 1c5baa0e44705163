//! Reading the process table: every process's per-tick figures, and its details (command line,
//! executable, cgroup, network namespace) from a cache that is refreshed when the process
//! execs or renames itself, and every [`DETAILS_REFRESH_EVERY`]. Details are scrubbed once,
//! when read, before they are stored anywhere.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::sample::exclude::is_excluded;
use crate::sample::{SampleError, SamplerSettings};

use super::process::{
    read_details, read_process, Field, ProcessDetails, ProcessKey, ProcessReading,
};

/// Cached details are re-read at least this often, so a process that rewrites its own title
/// (postgres, nginx) is seen with the new one.
const DETAILS_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The details of the processes seen last pass, by identity.
#[derive(Default)]
pub struct DetailsCache {
    entries: HashMap<ProcessKey, CachedDetails>,
    refreshed_at: Option<Instant>,
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

impl DetailsCache {
    /// Reads every process in /proc, ascending by pid. Processes that exit while being read
    /// are left out, as if they had exited before. Each reading's name is the scrubbed one:
    /// from here on the raw name exists nowhere.
    pub fn read_all(
        &mut self,
        settings: &SamplerSettings,
    ) -> Result<Vec<ProcessReading>, SampleError> {
        let refresh = self
            .refreshed_at
            .is_none_or(|at| at.elapsed() >= DETAILS_REFRESH_EVERY);
        if refresh {
            self.refreshed_at = Some(Instant::now());
        }
        let mut readings = Vec::new();
        let mut next = HashMap::new();
        for pid in list_pids()? {
            let Some((handle, mut reading)) = read_process(pid) else {
                continue;
            };
            // Exited half-way through being read: skipped, like one that exited before.
            if matches!(reading.io, Field::Gone) || matches!(reading.fd_count, Field::Gone) {
                continue;
            }
            let cached = self
                .entries
                .remove(&reading.key)
                .filter(|c| !refresh && c.name == reading.name);
            let cached = cached.unwrap_or_else(|| {
                let details = read_details(&handle, pid, reading.kernel_thread);
                CachedDetails::scrubbed(&reading.name, details, settings)
            });
            if cached.details.gone {
                continue;
            }
            // The peers of connections, the snapshot and everything built from it take the
            // name from the reading: only the scrubbed one may be there.
            reading.name.clone_from(&cached.shown_name);
            next.insert(reading.key, cached);
            readings.push(reading);
        }
        self.entries = next;
        Ok(readings)
    }

    /// The scrubbed details of a process read this pass.
    pub fn get(&self, key: &ProcessKey) -> Option<&ProcessDetails> {
        self.entries.get(key).map(|c| &c.details)
    }

    /// The network namespace of a process read this pass, when it could be read.
    pub fn netns_of(&self, key: &ProcessKey) -> Option<u64> {
        match self.get(key)?.netns {
            Field::Read(ns) => Some(ns),
            _ => None,
        }
    }

    /// The pids whose command line matched an exclude pattern.
    pub fn excluded_pids(&self) -> HashSet<u32> {
        self.entries
            .iter()
            .filter(|(_, c)| c.excluded)
            .map(|(key, _)| key.pid)
            .collect()
    }

    /// Forgets everything, so command lines are read (and scrubbed, and matched against
    /// exclude patterns) again under new settings.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl CachedDetails {
    /// Scrubbed here, once, before the command line, the executable's path or the name is
    /// stored anywhere: programs that rewrite their title often set their name from it, and a
    /// program file can be named `PASSWORD=…`. Exclusion is decided on the raw command line,
    /// which is what a user writes patterns against.
    fn scrubbed(name: &str, mut details: ProcessDetails, settings: &SamplerSettings) -> Self {
        let excluded = is_excluded(&settings.exclude, name, &details.cmdline);
        let scrubber = &settings.scrubber;
        details.cmdline = scrubber.scrub(&details.cmdline);
        details.exe = details.exe.map(|exe| scrubber.scrub_exe(&exe).into_owned());
        CachedDetails {
            name: name.to_owned(),
            shown_name: scrubber.scrub_name(name).into_owned(),
            details,
            excluded,
        }
    }
}

/// Every pid in /proc, ascending.
pub fn list_pids() -> Result<Vec<u32>, SampleError> {
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
