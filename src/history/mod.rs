//! Recordings: snapshots written to a file as they are taken (`wiretop record FILE`) and read
//! back (`wiretop snapshot --from FILE --at TIME`), for the questions that come after an
//! incident ("what was talking to that address at 03:12?").
//!
//! One job per file:
//! - [`format`]: the bytes on disk (file header, blocks, checksums, versions), documented there
//!   byte by byte;
//! - [`delta`]: a sample as bytes, whole (a keyframe) or as its changes since the previous one;
//! - [`codec`]: compression of each block (zstd);
//! - [`writer`]: appending blocks to a file safely, and what is synced when;
//! - [`rotation`]: `FILE` to `FILE.1` and on, by size and age;
//! - [`recorder`]: [`Recorder`], which turns each published snapshot into a block;
//! - [`index`] and [`reader`]: finding the blocks, decoding a sample at a time, skipping what is
//!   damaged;
//! - [`lookup`]: the sample nearest to a time, across a recording and its rotated files.
//!
//! Invariants: a reader only ever returns a sample exactly as it was recorded (every block is
//! checksummed; a sample that cannot be read whole is reported, never guessed); a writer never
//! leaves a partial block behind when it fails (it truncates its own write away) and never
//! touches bytes it did not write in this run, except an incomplete last block of an earlier
//! run, which it cuts off before appending.
//!
//! Durability (the fsync policy): each keyframe (every 60 samples, or sooner after 8 MiB of
//! changes) is followed by an fdatasync, and so are a rotation and the end of recording. A
//! process killed at any moment loses nothing that `write` accepted: only the block being
//! written, whose incomplete bytes readers ignore. A power loss can lose what was written since
//! the last sync: at most the samples since the last keyframe (two minutes at the default 2 s
//! interval), and the file may then end with an incomplete block, which readers ignore too.

pub mod codec;
pub mod delta;
pub mod format;
pub mod index;
pub mod lookup;
pub mod reader;
pub mod recorder;
pub mod rotation;
pub mod writer;

#[cfg(test)]
mod fixture;

use std::path::{Path, PathBuf};

pub use lookup::{sample_near, Found, LookupError};
pub use reader::{Recording, SampleError};
pub use recorder::{Recorder, RecorderSettings, RecorderStats};
pub use writer::WriteError;

/// Why a recording could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {reason}", shown(path))]
    Io { path: PathBuf, reason: String },
    #[error("{} is not a regular file", shown(path))]
    NotRegular { path: PathBuf },
    #[error("{} is empty: nothing was recorded in it", shown(path))]
    Empty { path: PathBuf },
    #[error(
        "{} is not a wiretop recording (it does not begin with the recording header)",
        shown(path)
    )]
    NotARecording { path: PathBuf },
    #[error(
        "{} was written in recording format {version}, newer than this wiretop reads \
         (format {}); read it with a newer wiretop",
        shown(path),
        format::FORMAT_VERSION
    )]
    Newer { path: PathBuf, version: u16 },
}

impl ReadError {
    fn io(path: &Path, error: &std::io::Error) -> ReadError {
        ReadError::Io {
            path: path.to_path_buf(),
            reason: crate::files::Problem::io(error).to_string(),
        }
    }

    /// True when the file is not one this wiretop can read (not a recording, a later format):
    /// trying again will not help, as with a bad argument.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ReadError::NotRegular { .. }
                | ReadError::NotARecording { .. }
                | ReadError::Newer { .. }
                | ReadError::Empty { .. }
        )
    }
}

/// A path as messages show it: never raw control bytes on the terminal.
fn shown(path: &Path) -> String {
    crate::escape::for_terminal(&path.display().to_string()).into_owned()
}
