//! Reading and writing the baseline file.
//!
//! Reading goes through the same steps as a configuration file (a regular file of bounded size,
//! UTF-8, nesting and aliases checked before serde_yaml, errors with line, column and key path),
//! with unknown keys refused (a misspelt `prot:` must not silently accept every protocol). The
//! version is read first, on its own, so a file from a newer wiretop is refused by its version
//! rather than by whichever new key comes first. Writing goes through
//! [`open_private_replace`]: 0600, never through a symbolic link, never another user's file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::render::render;
use super::{Baseline, ExecutableEntry, ListeningEntry, OutboundEntry, BASELINE_VERSION};
use crate::config::yaml;
use crate::config::ConfigError;
use crate::files::{open_private_replace, read_capped, Problem, UnsafeFile, BASELINE_FILE_LIMIT};

/// Why a baseline could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read: missing, not a regular file, too large, not UTF-8.
    #[error("{file}: cannot read the baseline: {reason}")]
    Unreadable { file: String, reason: String },
    /// The file is not a baseline this wiretop reads: malformed YAML, a value of the wrong type,
    /// an unknown key, another version. Says `FILE:line:column: key: what is wrong`.
    #[error("{0}")]
    Invalid(ConfigError),
    /// The file was not written: refused (a symbolic link, another user's file, ...) or failed.
    #[error("{0}")]
    Unwritable(UnsafeFile),
}

impl BaselineError {
    /// True when the file given is unusable as it stands (exit status 2, as for a bad argument);
    /// false when the system failed while writing (a full disk), which may pass.
    pub fn is_refusal(&self) -> bool {
        match self {
            BaselineError::Unreadable { .. } | BaselineError::Invalid(_) => true,
            BaselineError::Unwritable(unsafe_file) => unsafe_file.is_refusal(),
        }
    }
}

/// Reads the baseline at `path`.
pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let unreadable = |reason: String| BaselineError::Unreadable {
        file: path.display().to_string(),
        reason,
    };
    let bytes =
        read_capped(path, BASELINE_FILE_LIMIT).map_err(|e| unreadable(e.problem.to_string()))?;
    let text = yaml::text_of(bytes).map_err(unreadable)?;
    parse(path, &text)
}

/// The baseline written in `text`, the contents of `path`.
pub(super) fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
    if text.trim().is_empty() {
        return Err(BaselineError::Invalid(ConfigError::InFile {
            file: path.display().to_string(),
            line: 1,
            column: 1,
            path: "(top level)".to_owned(),
            message: format!(
                "the file is empty; a baseline starts with `version: {BASELINE_VERSION}` \
                 (`wiretop baseline save FILE` writes one)"
            ),
        }));
    }
    yaml::deserialize::<VersionOnly>(path, text).map_err(BaselineError::Invalid)?;
    let file: BaselineFile = yaml::deserialize(path, text).map_err(BaselineError::Invalid)?;
    Ok(Baseline {
        saved_at_ms: file.saved_at.map(|at| at.0),
        executables: file.executables,
        listening: file.listening,
        outbound: file.outbound,
    })
}

/// Writes `baseline`, saved on the host `hostname`, to `path`: a new file with mode 0600, or an
/// existing file of the user's own, replaced whole.
pub fn save(baseline: &Baseline, path: &Path, hostname: &str) -> Result<(), BaselineError> {
    let text = render(baseline, hostname);
    let failed = |error: std::io::Error| {
        BaselineError::Unwritable(UnsafeFile {
            path: PathBuf::from(path),
            problem: Problem::io(&error),
        })
    };
    let mut file = open_private_replace(path).map_err(BaselineError::Unwritable)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.flush().map_err(failed)
}

/// The file's `version` alone, read before the rest.
#[derive(Deserialize)]
#[serde(rename = "Baseline")]
struct VersionOnly {
    #[allow(dead_code)] // read only for the check its deserializer makes
    version: Version,
}

/// The file as written (see `render.rs` for its documentation).
#[derive(Deserialize)]
#[serde(rename = "Baseline", deny_unknown_fields)]
struct BaselineFile {
    #[allow(dead_code)] // checked by `VersionOnly`; listed so it is a known key
    version: Version,
    #[serde(default)]
    saved_at: Option<SavedAt>,
    #[serde(default)]
    executables: Vec<ExecutableEntry>,
    #[serde(default)]
    listening: Vec<ListeningEntry>,
    #[serde(default)]
    outbound: Vec<OutboundEntry>,
}

/// `version: 1`; any other number is refused, naming it.
struct Version;

// The checks of `Version` and `SavedAt` run inside visitors, called by serde_yaml while it is at
// the value: an error raised there gets the value's line and column, one raised after
// deserializing would not.
impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_u64(VersionVisitor)
    }
}

struct VersionVisitor;

impl Visitor<'_> for VersionVisitor {
    type Value = Version;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the layout version, {BASELINE_VERSION}")
    }

    fn visit_u64<E: de::Error>(self, version: u64) -> Result<Version, E> {
        if version == u64::from(BASELINE_VERSION) {
            Ok(Version)
        } else if version > u64::from(BASELINE_VERSION) {
            Err(E::custom(format!(
                "this baseline is version {version}, from a newer wiretop; this one reads version \
                 {BASELINE_VERSION} (upgrade wiretop, or save the baseline again with this one)"
            )))
        } else {
            Err(E::custom(format!(
                "there is no baseline version {version}; this wiretop reads version \
                 {BASELINE_VERSION}"
            )))
        }
    }
}

/// `saved_at`: an RFC 3339 time, as ms since the epoch.
struct SavedAt(u64);

impl<'de> Deserialize<'de> for SavedAt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(SavedAtVisitor)
    }
}

struct SavedAtVisitor;

impl Visitor<'_> for SavedAtVisitor {
    type Value = SavedAt;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a time such as 2026-01-01T00:00:00.000Z")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SavedAt, E> {
        humantime::parse_rfc3339_weak(text)
            .map(|at| SavedAt(crate::time::unix_ms(at)))
            .map_err(|_| {
                E::custom(
                    "expected a time such as 2026-01-01T00:00:00.000Z (RFC 3339, UTC), or no \
                     saved_at at all",
                )
            })
    }
}

#[cfg(test)]
mod tests;
