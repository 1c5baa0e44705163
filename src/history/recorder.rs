//! [`Recorder`]: the one way snapshots become a recording. Give it each snapshot the sampler
//! publishes (`wiretop record` does; the explorer and `ship` can, from the same sampler); it
//! decides keyframe or changes, compresses, rotates, appends and syncs.
//!
//! It writes and syncs on the caller's thread, so call it from a loop of your own, never from
//! the sampler's callback (which must return at once): send the `Arc<Snapshot>` over a channel.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::model::Snapshot;

use super::codec;
use super::delta;
use super::format::{BlockHeader, BlockKind, BLOCK_HEADER_LEN, BLOCK_TRAILER_LEN};
use super::rotation::{self, Directory, Due};
use super::writer::{RecordFile, WriteError};

/// When files are rotated and keyframes written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecorderSettings {
    /// Rotate before a file would grow past this many bytes (`record.max_size`).
    pub max_size: u64,
    /// Rotate once a file was started this long ago (`record.max_age`).
    pub max_age: Duration,
    /// Rotated files kept (`record.keep`).
    pub keep: u32,
    /// A keyframe at least every this many samples: a reader decodes at most this many
    /// blocks to reach any sample, and loses at most this many after a damaged block.
    pub keyframe_every: u32,
    /// ... or sooner, once the blocks of changes since the last keyframe reach this many bytes.
    pub keyframe_after_bytes: u64,
}

/// Samples between keyframes: two minutes at the default 2 s interval.
pub const KEYFRAME_EVERY: u32 = 60;
/// Compressed bytes of changes after which a keyframe comes early.
pub const KEYFRAME_AFTER_BYTES: u64 = 8 * 1024 * 1024;

impl RecorderSettings {
    /// The `record.*` keys, with the built-in keyframe spacing.
    pub fn from_config(config: &Config) -> RecorderSettings {
        RecorderSettings {
            max_size: config.record.max_size.0,
            max_age: config.record.max_age.0,
            keep: config.record.keep.0,
            keyframe_every: KEYFRAME_EVERY,
            keyframe_after_bytes: KEYFRAME_AFTER_BYTES,
        }
    }
}

/// What a recorder has written so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecorderStats {
    pub samples: u64,
    pub keyframes: u64,
    /// Bytes appended to files (block headers included).
    pub bytes: u64,
    /// Bytes of the samples before compression.
    pub raw_bytes: u64,
    pub rotations: u64,
}

/// Appends snapshots to a recording.
pub struct Recorder {
    path: PathBuf,
    settings: RecorderSettings,
    directory: Directory,
    file: RecordFile,
    /// The last sample written, which the next is written against; None after an error or a
    /// rotation (the next is a keyframe).
    previous: Option<Arc<Snapshot>>,
    since_keyframe: u32,
    bytes_since_keyframe: u64,
    raw: Vec<u8>,
    stats: RecorderStats,
    notices: Vec<String>,
}

impl Recorder {
    /// Opens (or creates, 0600) the recording at `path` to append to it.
    pub fn open(path: &Path, settings: RecorderSettings) -> Result<Recorder, WriteError> {
        let directory = Directory::of(path).map_err(|e| WriteError::Io {
            path: path.to_path_buf(),
            action: "open the directory of",
            reason: crate::files::Problem::io(&e).to_string(),
        })?;
        let (file, notice) = RecordFile::open(path, crate::time::now_ms())?;
        let _ = directory.sync();
        Ok(Recorder {
            path: path.to_path_buf(),
            settings,
            directory,
            file,
            previous: None,
            since_keyframe: 0,
            bytes_since_keyframe: 0,
            raw: Vec::new(),
            stats: RecorderStats::default(),
            notices: notice.into_iter().collect(),
        })
    }

    /// Appends one sample. After an error the file holds what it held before this call; the
    /// next call starts again with a keyframe (a full disk is likely to fail again: the
    /// caller decides whether to go on).
    pub fn record(&mut self, snapshot: &Arc<Snapshot>) -> Result<(), WriteError> {
        let result = self.try_record(snapshot);
        if result.is_err() {
            self.previous = None;
        }
        result
    }

    fn try_record(&mut self, snapshot: &Arc<Snapshot>) -> Result<(), WriteError> {
        let taken_at_ms = snapshot.host.taken_at_ms;
        let max_age_ms = u64::try_from(self.settings.max_age.as_millis()).unwrap_or(u64::MAX);
        let mut payload = self.encode(snapshot)?;
        let block_len = |payload: &(BlockKind, Vec<u8>)| {
            (payload.1.len() + BLOCK_HEADER_LEN + BLOCK_TRAILER_LEN) as u64
        };
        if let Some(due) = rotation::due(
            self.file.len(),
            !self.file.is_empty(),
            block_len(&payload),
            self.file.created_at_ms(),
            taken_at_ms,
            self.settings.max_size,
            max_age_ms,
        ) {
            self.rotate(due, taken_at_ms)?;
            if payload.0 != BlockKind::Keyframe {
                payload = self.encode(snapshot)?;
            }
        }
        let (kind, compressed) = payload;
        let header = BlockHeader {
            kind,
            sequence: self.file.next_sequence(),
            taken_at_ms,
            payload_len: u32::try_from(compressed.len())
                .map_err(|_| codec::CodecError::TooLarge(compressed.len()))?,
            raw_len: u32::try_from(self.raw.len())
                .map_err(|_| codec::CodecError::TooLarge(self.raw.len()))?,
        };
        self.file.append(&header, &compressed)?;
        self.stats.samples += 1;
        self.stats.bytes += header.block_len();
        self.stats.raw_bytes += self.raw.len() as u64;
        if kind == BlockKind::Keyframe {
            self.file.sync()?;
            self.stats.keyframes += 1;
            self.since_keyframe = 0;
            self.bytes_since_keyframe = 0;
        } else {
            self.since_keyframe += 1;
            self.bytes_since_keyframe += header.block_len();
        }
        self.previous = Some(Arc::clone(snapshot));
        Ok(())
    }

    /// The sample as a compressed payload: a keyframe when there is nothing to write changes
    /// against (first sample, after a rotation or an error) or when one is due.
    fn encode(&mut self, snapshot: &Snapshot) -> Result<(BlockKind, Vec<u8>), WriteError> {
        let keyframe_due = self.since_keyframe + 1 >= self.settings.keyframe_every
            || self.bytes_since_keyframe >= self.settings.keyframe_after_bytes;
        let previous = self.previous.as_deref().filter(|_| !keyframe_due);
        self.raw.clear();
        delta::encode(snapshot, previous, &mut self.raw)?;
        let kind = if previous.is_some() {
            BlockKind::Changes
        } else {
            BlockKind::Keyframe
        };
        Ok((kind, codec::compress(&self.raw, kind)?))
    }

    /// Rotates; the new file is dated `now_ms`, the time of the sample that goes in first, so
    /// its age is counted on the same clock as the samples'.
    fn rotate(&mut self, due: Due, now_ms: u64) -> Result<(), WriteError> {
        self.file.sync()?;
        self.directory
            .rotate(self.settings.keep)
            .map_err(|e| WriteError::Io {
                path: self.path.clone(),
                action: "rotate",
                reason: crate::files::Problem::io(&e).to_string(),
            })?;
        let (file, _) = RecordFile::open(&self.path, now_ms)?;
        self.file = file;
        self.previous = None;
        self.since_keyframe = 0;
        self.bytes_since_keyframe = 0;
        self.stats.rotations += 1;
        self.notices.push(format!(
            "rotated {} to {} ({})",
            super::shown(&self.path),
            super::shown(&rotation::rotated_path(&self.path, 1)),
            match due {
                Due::Size => "record.max_size reached",
                Due::Age => "record.max_age reached",
            }
        ));
        Ok(())
    }

    /// Syncs what was written; call before letting go of the recorder.
    pub fn finish(mut self) -> Result<RecorderStats, WriteError> {
        self.file.sync()?;
        Ok(self.stats)
    }

    pub fn stats(&self) -> RecorderStats {
        self.stats
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Things worth telling the user since the last call (an incomplete block of an earlier
    /// run cut off, a rotation), one line each.
    pub fn take_notices(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notices)
    }
}

#[cfg(test)]
mod tests;
