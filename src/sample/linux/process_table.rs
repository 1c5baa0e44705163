//! Reading the process table: every process's per-tick figures (from `proc_files`), and its
//! details (command line, executable, cgroup, network namespace) from a cache that is refreshed
//! when the process execs or renames itself, and at least every [`DETAILS_REFRESH_EVERY`].
//! Details are scrubbed once, when read, before they are stored anywhere.
//!
//! Refreshes are spread out: each process falls due [`DETAILS_REFRESH_EVERY`] after its
//! details were last read, and details read for the first time (every process's, when a
//! sampler starts) fall due at times spread over the first period. A pass re-reads about
//! interval/period of the processes (a fifteenth, at 2 s) instead of all of them every 30 s.

use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::sample::exclude::is_excluded;
use crate::sample::{SampleError, SamplerSettings};

use super::proc_files::{ProcFilesCache, ProcessSeen};
use super::process::{read_details, Field, ProcessDetails, ProcessKey, ProcessReading};

/// Cached details are re-read at least this often, so a process that rewrites its own title
/// (postgres, nginx) is seen with the new one.
const DETAILS_REFRESH_EVERY: Duration = Duration::from_secs(30);

/// The details of the processes seen last pass, by identity.
#[derive(Default)]
pub struct DetailsCache {
    entries: FxHashMap<ProcessKey, CachedDetails>,
    /// Which pass this is, to forget the processes a pass did not see.
    pass: u64,
}

#[derive(Debug)]
struct CachedDetails {
    /// The name the process had when read, as the kernel has it: another name means it
    /// exec'd (or renamed itself).
    comm: Vec<u8>,
    /// That name with its secrets hidden, as every snapshot shows it.
    shown_name: String,
    /// Details with the command line and executable path already scrubbed.
    details: ProcessDetails,
    /// The raw command line matched an exclude pattern.
    excluded: bool,
    /// When the details are read again even if the name has not changed.
    refresh_due: Instant,
    /// The last pass that saw the process.
    seen: u64,
}

impl DetailsCache {
    /// Reads every process in /proc, ascending by pid. Processes that exit while being read
    /// are left out, as if they had exited before. Each reading's name is the scrubbed one:
    /// from here on the raw name exists nowhere.
    pub fn read_all(
        &mut self,
        files: &mut ProcFilesCache,
        settings: &SamplerSettings,
    ) -> Result<Vec<ProcessReading>, SampleError> {
        let now = Instant::now();
        self.pass += 1;
        let pass = self.pass;
        let entries = &mut self.entries;
        let mut readings = Vec::with_capacity(entries.len());
        let read = files.read_all(|seen| {
            let ProcessSeen {
                dir,
                comm,
                mut reading,
            } = seen;
            // Exited half-way through being read: skipped, like one that exited before.
            if matches!(reading.io, Field::Gone) || matches!(reading.fd_count, Field::Gone) {
                return;
            }
            let fresh = |due| {
                let details = read_details(dir, reading.kernel_thread);
                CachedDetails::scrubbed(comm, details, settings, due)
            };
            let cached = match entries.entry(reading.key) {
                Entry::Occupied(slot) => {
                    let cached = slot.into_mut();
                    // Exec'd or renamed, or due for its refresh.
                    if now >= cached.refresh_due || cached.comm != comm {
                        *cached = fresh(now + DETAILS_REFRESH_EVERY);
                    }
                    cached
                }
                Entry::Vacant(slot) => {
                    slot.insert(fresh(now + first_refresh_after(reading.key.pid)))
                }
            };
            if cached.details.gone {
                entries.remove(&reading.key);
                return;
            }
            cached.seen = pass;
            // The peers of connections, the snapshot and everything built from it take the
            // name from the reading: only the scrubbed one may be there.
            reading.name.clone_from(&cached.shown_name);
            readings.push(reading);
        });
        entries.retain(|_, cached| cached.seen == pass);
        read?;
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
    fn scrubbed(
        comm: &[u8],
        mut details: ProcessDetails,
        settings: &SamplerSettings,
        refresh_due: Instant,
    ) -> Self {
        let name = String::from_utf8_lossy(comm);
        let excluded = is_excluded(&settings.exclude, &name, &details.cmdline);
        let scrubber = &settings.scrubber;
        details.cmdline = scrubber.scrub(&details.cmdline);
        details.exe = details.exe.map(|exe| scrubber.scrub_exe(&exe).into_owned());
        CachedDetails {
            comm: comm.to_vec(),
            shown_name: scrubber.scrub_name(&name).into_owned(),
            details,
            excluded,
            refresh_due,
            seen: 0,
        }
    }
}

/// When the details of a process read for the first time fall due again: somewhere in the
/// refresh period, by pid, scattered evenly (Fibonacci hashing spreads consecutive pids too),
/// so that processes first read together are refreshed a few at a time.
fn first_refresh_after(pid: u32) -> Duration {
    const SLOTS: u32 = 1 << 24;
    let slot = (u64::from(pid).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as u32;
    DETAILS_REFRESH_EVERY.mul_f64(f64::from(slot + 1) / f64::from(SLOTS))
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command, Stdio};

    use super::*;

    #[test]
    fn first_refreshes_spread_evenly_over_the_period() {
        const BUCKETS: usize = 15;
        let mut buckets = [0u32; BUCKETS];
        for pid in 1000..4000 {
            let after = first_refresh_after(pid);
            assert!(
                !after.is_zero() && after <= DETAILS_REFRESH_EVERY,
                "{after:?}"
            );
            let bucket = (after.as_secs_f64() / DETAILS_REFRESH_EVERY.as_secs_f64()
                * BUCKETS as f64) as usize;
            buckets[bucket.min(BUCKETS - 1)] += 1;
        }
        // 200 consecutive pids a bucket on average: every pass refreshes about as many.
        assert!(
            buckets.iter().all(|n| (150..=250).contains(n)),
            "{buckets:?}"
        );
    }

    /// Distinct enough that no other process's command line matches it.
    const ARGUMENT: &str = "61.7301";

    /// Renames itself (as an exec would change its name) when told to on stdin.
    const RENAMER: &str = "import sys\nprint('ready', flush=True)\nsys.stdin.readline()\n\
        open('/proc/self/comm', 'w').write('renamed')\nprint('renamed', flush=True)\n\
        sys.stdin.readline()";

    struct Renamer {
        child: Child,
        lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    }

    impl Renamer {
        fn start() -> Renamer {
            let mut child = Command::new("python3")
                .args(["-c", RENAMER, ARGUMENT])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3 starts");
            let stdout = child.stdout.take().unwrap();
            let mut renamer = Renamer {
                child,
                lines: std::io::BufRead::lines(std::io::BufReader::new(stdout)),
            };
            assert_eq!(renamer.lines.next().unwrap().unwrap(), "ready");
            renamer
        }

        fn rename(&mut self) {
            use std::io::Write;
            let stdin = self.child.stdin.as_mut().unwrap();
            stdin.write_all(b"go\n").unwrap();
            stdin.flush().unwrap();
            assert_eq!(self.lines.next().unwrap().unwrap(), "renamed");
        }
    }

    impl Drop for Renamer {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Settings under which the renamer is excluded: whether it is shows whether its details
    /// were read (and matched) again.
    fn excluding_renamer() -> SamplerSettings {
        SamplerSettings {
            exclude: vec![regex::Regex::new(&format!(" {}$", regex::escape(ARGUMENT))).unwrap()],
            ..SamplerSettings::default()
        }
    }

    #[test]
    fn details_are_read_again_when_due_or_renamed_and_not_before() {
        let mut renamer = Renamer::start();
        let pid = renamer.child.id();
        let mut files = ProcFilesCache::default();
        let mut cache = DetailsCache::default();
        let excluded = |cache: &DetailsCache| cache.excluded_pids().contains(&pid);
        let plain = SamplerSettings::default();
        let excluding = excluding_renamer();
        let mut read = |cache: &mut DetailsCache, settings: &SamplerSettings| {
            let readings = cache.read_all(&mut files, settings).unwrap();
            let reading = readings.into_iter().find(|r| r.key.pid == pid).unwrap();
            (reading.key, reading.name)
        };

        let (key, name) = read(&mut cache, &plain);
        assert_eq!(name, "python3");
        assert!(!excluded(&cache));
        // Cached: new settings change nothing until the details are read again.
        read(&mut cache, &excluding);
        assert!(!excluded(&cache));

        // Due: read again, and due a whole period later.
        let now = Instant::now();
        cache.entries.get_mut(&key).unwrap().refresh_due = now;
        read(&mut cache, &excluding);
        assert!(excluded(&cache));
        let due = cache.entries[&key].refresh_due;
        assert!(due >= now + DETAILS_REFRESH_EVERY, "{:?}", due - now);

        // Renamed (as an exec would): read again at once.
        read(&mut cache, &plain);
        assert!(excluded(&cache), "not due, not renamed: cached");
        renamer.rename();
        let (_, name) = read(&mut cache, &plain);
        assert_eq!(name, "renamed");
        assert!(!excluded(&cache));
    }
}
