//! The recorded sample nearest to a time (`wiretop snapshot --from FILE --at TIME`), looked
//! for in FILE and, for a time before FILE's first sample, in its rotated files FILE.1, FILE.2
//! and on, newest first.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::model::Snapshot;
use crate::time::TimeArg;

use super::reader::Recording;
use super::rotation::rotated_path;
use super::{shown, ReadError};

/// The most rotated files looked at (`record.keep` allows 100).
const MAX_ROTATED: u32 = 100;

/// A sample found, and what was skipped on the way.
pub struct Found {
    pub snapshot: Snapshot,
    /// The file it came from, and its block's offset there.
    pub file: PathBuf,
    pub offset: u64,
    /// Damage met in the files read, one line each, naming the file and the offset.
    pub warnings: Vec<String>,
}

/// Why no sample was found.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "no sample within the recording's range: {at} is {side} {} ({first} to {last})",
        shown(path)
    )]
    OutOfRange {
        path: PathBuf,
        at: String,
        side: &'static str,
        first: String,
        last: String,
    },
    #[error("{} holds no sample that can be read", shown(path))]
    NoReadableSample { path: PathBuf },
}

impl LookupError {
    /// True when the argument is at fault (a file that is not a recording, a time outside it),
    /// as for a bad argument.
    pub fn is_bad_input(&self) -> bool {
        match self {
            LookupError::Read(read) => read.is_refusal(),
            LookupError::OutOfRange { .. } => true,
            LookupError::NoReadableSample { .. } => false,
        }
    }
}

/// The sample of `path` (or its rotated files) nearest to `at`. A time more than one sampling
/// interval outside the recording finds nothing rather than the first or last sample.
pub fn sample_near(path: &Path, at: TimeArg) -> Result<Found, LookupError> {
    let newest = Recording::open(path)?;
    let mut warnings = problems_of(&newest);
    let mut files = vec![newest];
    // The end of the recording, for `-5m`: the newest file that holds a sample.
    let end = match files[0].time_range() {
        Some((_, last)) => Some(last),
        None => {
            open_rotated(path, 1, &mut files, &mut warnings)?;
            files
                .get(1)
                .and_then(|f| f.time_range())
                .map(|(_, last)| last)
        }
    };
    let Some(end) = end else {
        return Err(LookupError::NoReadableSample {
            path: path.to_path_buf(),
        });
    };
    let target = match at {
        TimeArg::At(ms) => ms,
        TimeArg::BeforeEnd(back) => {
            end.saturating_sub(u64::try_from(back.as_millis()).unwrap_or(u64::MAX))
        }
    };
    // Older files only while the time is before the first sample of those read so far.
    let mut n = files.len() as u32;
    while n <= MAX_ROTATED {
        let earliest = files
            .iter()
            .filter_map(|f| f.time_range())
            .map(|(first, _)| first)
            .min();
        let before_all = earliest.is_none_or(|first| target < first);
        if !before_all || !open_rotated(path, n, &mut files, &mut warnings)? {
            break;
        }
        n += 1;
    }
    let chosen = choose(&files, target);
    let recording = &files[chosen];
    let interval = recording.typical_interval_ms();
    let (first, last) = files
        .iter()
        .filter_map(|f| f.time_range())
        .fold((u64::MAX, 0), |(lo, hi), (first, last)| {
            (lo.min(first), hi.max(last))
        });
    let side = if target.saturating_add(interval) < first {
        Some("before")
    } else if target > last.saturating_add(interval) {
        Some("after")
    } else {
        None
    };
    if let Some(side) = side {
        return Err(LookupError::OutOfRange {
            path: path.to_path_buf(),
            at: rfc3339(target),
            side,
            first: rfc3339(first),
            last: rfc3339(last),
        });
    }
    for index in recording.nearest(target) {
        match recording.sample(index) {
            Ok(snapshot) => {
                return Ok(Found {
                    snapshot,
                    file: recording.path().to_path_buf(),
                    offset: recording.blocks()[index].offset,
                    warnings,
                })
            }
            Err(error) => warnings.push(format!(
                "{}: {error}; taking the next nearest sample",
                shown(recording.path())
            )),
        }
    }
    Err(LookupError::NoReadableSample {
        path: recording.path().to_path_buf(),
    })
}

/// Opens FILE.n into `files`; false when it does not exist.
fn open_rotated(
    path: &Path,
    n: u32,
    files: &mut Vec<Recording>,
    warnings: &mut Vec<String>,
) -> Result<bool, LookupError> {
    let rotated = rotated_path(path, n);
    if !rotated.exists() {
        return Ok(false);
    }
    match Recording::open(&rotated) {
        Ok(recording) => {
            warnings.extend(problems_of(&recording));
            files.push(recording);
            Ok(true)
        }
        // An empty rotated file holds nothing to find; a refused one is still an error.
        Err(ReadError::Empty { .. }) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// The file whose samples span `target`, or the nearest to it.
fn choose(files: &[Recording], target: u64) -> usize {
    (0..files.len())
        .filter_map(|i| Some((i, files[i].time_range()?)))
        .min_by_key(|(_, (first, last))| {
            if target < *first {
                first - target
            } else {
                target.saturating_sub(*last)
            }
        })
        .map_or(0, |(i, _)| i)
}

fn problems_of(recording: &Recording) -> Vec<String> {
    recording
        .problems()
        .into_iter()
        .map(|problem| format!("{}: {problem}", shown(recording.path())))
        .collect()
}

/// `2026-11-29T03:12:00.000Z`.
pub fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}
