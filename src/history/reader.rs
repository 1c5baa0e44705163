//! Reading a recording: open it (the header, then the walk that indexes its blocks), then
//! decode any sample from the keyframe at or before it, or every sample in order.
//!
//! Nothing here trusts the file: every block is checked before it is decompressed, a damaged
//! one is reported with its offset and skipped, and so are the samples that were written as
//! changes against it, up to the next keyframe (they cannot be read without it). What was
//! decoded is always what was recorded: a sample is either read whole or not at all.

use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::model::Snapshot;

use super::codec;
use super::delta;
use super::format::{
    payload_intact, FileHeader, FileHeaderProblem, BLOCK_HEADER_LEN, BLOCK_TRAILER_LEN,
    FILE_HEADER_LEN,
};
use super::index::{self, BlockEntry, Gap};
use super::ReadError;

/// An open recording and its index.
pub struct Recording {
    path: PathBuf,
    file: File,
    blocks: Vec<BlockEntry>,
    gaps: Vec<Gap>,
    /// The file header failed its checksum; the blocks were read as this version's.
    damaged_header: bool,
}

/// Why one sample could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    /// Its own block is damaged.
    #[error("offset {offset}: the block is damaged ({reason})")]
    Damaged { offset: u64, reason: String },
    /// It holds changes against a sample that could not be read.
    #[error(
        "offset {offset}: the block holds changes against a sample that cannot be read \
         ({reason})"
    )]
    Orphaned { offset: u64, reason: String },
}

impl Recording {
    /// Opens `path` and walks its blocks. A file that is not a recording, or one from a later
    /// version of the format, is refused; damage inside is reported by [`Self::problems`].
    pub fn open(path: &Path) -> Result<Recording, ReadError> {
        let io = |e: std::io::Error| ReadError::io(path, &e);
        // Non-blocking, so a FIFO given by mistake cannot hang the command; then only a regular
        // file is read.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            return Err(ReadError::NotRegular {
                path: path.to_path_buf(),
            });
        }
        let len = metadata.len();
        let mut head = [0u8; FILE_HEADER_LEN];
        let read = file.read_at(&mut head, 0).map_err(io)?;
        let damaged_header = match FileHeader::parse(&head[..read]) {
            Ok(_) => false,
            Err(FileHeaderProblem::Damaged) => true,
            Err(FileHeaderProblem::Newer(version)) => {
                return Err(ReadError::Newer {
                    path: path.to_path_buf(),
                    version,
                })
            }
            Err(FileHeaderProblem::TooShort) if read == 0 => {
                return Err(ReadError::Empty {
                    path: path.to_path_buf(),
                })
            }
            Err(FileHeaderProblem::TooShort | FileHeaderProblem::NotARecording) => {
                return Err(ReadError::NotARecording {
                    path: path.to_path_buf(),
                })
            }
        };
        let (blocks, gaps) = index::walk(&file, len).map_err(io)?;
        Ok(Recording {
            path: path.to_path_buf(),
            file,
            blocks,
            gaps,
            damaged_header,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every block, in file order: one sample each.
    pub fn blocks(&self) -> &[BlockEntry] {
        &self.blocks
    }

    /// What the walk could not read, one line each (offsets in bytes from the start).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.damaged_header {
            problems.push(
                "offset 0: the file header is damaged (checksum mismatch); its blocks are \
                 read as format version 1"
                    .to_owned(),
            );
        }
        for gap in &self.gaps {
            problems.push(match gap {
                Gap::Damaged { offset, len } => format!(
                    "offset {offset}: {len} damaged bytes skipped (no readable block header)"
                ),
                Gap::CutOff { offset, len } => format!(
                    "offset {offset}: the last {len} bytes are an incomplete sample, cut off \
                     while it was written; ignored"
                ),
            });
        }
        problems
    }

    /// The gaps the walk found.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// The times of the first and last samples (by time, whatever their order in the file).
    pub fn time_range(&self) -> Option<(u64, u64)> {
        let times = self.blocks.iter().map(|b| b.header.taken_at_ms);
        Some((times.clone().min()?, times.max()?))
    }

    /// How far outside its samples a time still counts as within the recording: the typical
    /// gap between samples (the median), at least a second.
    pub fn typical_interval_ms(&self) -> u64 {
        let mut gaps: Vec<u64> = self
            .blocks
            .windows(2)
            .map(|w| w[1].header.taken_at_ms.abs_diff(w[0].header.taken_at_ms))
            .collect();
        gaps.sort_unstable();
        gaps.get(gaps.len() / 2).copied().unwrap_or(1000).max(1000)
    }

    /// Indexes of the blocks, nearest to `at_ms` first (the earlier of two as near).
    pub fn nearest(&self, at_ms: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.blocks.len()).collect();
        order.sort_by_key(|&i| {
            let t = self.blocks[i].header.taken_at_ms;
            (t.abs_diff(at_ms), t)
        });
        order
    }

    /// Decodes sample `index`: the keyframe at or before it, then each block of changes up to
    /// it.
    pub fn sample(&self, index: usize) -> Result<Snapshot, SampleError> {
        let target = self.blocks.get(index).ok_or_else(|| SampleError::Damaged {
            offset: 0,
            reason: format!("no sample {index}"),
        })?;
        let mut first = index;
        while !self.blocks[first].is_keyframe() {
            let Some(before) = first.checked_sub(1) else {
                return Err(SampleError::Orphaned {
                    offset: target.offset,
                    reason: "no keyframe before it in this file".to_owned(),
                });
            };
            if self.blocks[before].header.sequence.wrapping_add(1)
                != self.blocks[first].header.sequence
            {
                return Err(SampleError::Orphaned {
                    offset: target.offset,
                    reason: format!(
                        "sample {} before offset {} is missing",
                        self.blocks[first].header.sequence.wrapping_sub(1),
                        self.blocks[first].offset
                    ),
                });
            }
            first = before;
        }
        let mut previous: Option<Snapshot> = None;
        for (i, block) in self.blocks.iter().enumerate().take(index + 1).skip(first) {
            match self.decode(block, previous.as_ref()) {
                Ok(snapshot) => previous = Some(snapshot),
                Err(reason) if i == index => {
                    return Err(SampleError::Damaged {
                        offset: block.offset,
                        reason,
                    })
                }
                Err(reason) => {
                    return Err(SampleError::Orphaned {
                        offset: target.offset,
                        reason: format!("offset {}: {reason}", block.offset),
                    })
                }
            }
        }
        previous.ok_or_else(|| SampleError::Damaged {
            offset: target.offset,
            reason: "nothing decoded".to_owned(),
        })
    }

    /// Every sample in file order, each decoded once against the one before: for reading a
    /// whole recording (checks, conversions) without decoding from a keyframe each time.
    pub fn replay(&self) -> Replay<'_> {
        Replay {
            recording: self,
            next: 0,
            previous: None,
            broken: None,
        }
    }

    /// Reads, checks, decompresses and decodes one block against the sample before it.
    fn decode(&self, block: &BlockEntry, previous: Option<&Snapshot>) -> Result<Snapshot, String> {
        let raw = self.payload(block)?;
        let base = if block.is_keyframe() { None } else { previous };
        delta::decode(&raw, base).map_err(|e| format!("undecodable payload: {e}"))
    }

    /// A block's payload, read, checked against its checksum and decompressed.
    fn payload(&self, block: &BlockEntry) -> Result<Vec<u8>, String> {
        let header = &block.header;
        let mut bytes = vec![0u8; header.payload_len as usize + BLOCK_TRAILER_LEN];
        self.file
            .read_exact_at(&mut bytes, block.offset + BLOCK_HEADER_LEN as u64)
            .map_err(|e| format!("cannot read it: {e}"))?;
        let (payload, trailer) = bytes.split_at(header.payload_len as usize);
        if !payload_intact(payload, trailer) {
            return Err("payload checksum mismatch".to_owned());
        }
        codec::decompress(payload, header.raw_len).map_err(|e| e.to_string())
    }
}

/// Samples in file order, from [`Recording::replay`].
pub struct Replay<'a> {
    recording: &'a Recording,
    next: usize,
    /// The last sample decoded, with its sequence number.
    previous: Option<(u64, Snapshot)>,
    /// Where the chain of changes was broken, until the next keyframe.
    broken: Option<String>,
}

impl Iterator for Replay<'_> {
    type Item = (BlockEntry, Result<Snapshot, SampleError>);

    fn next(&mut self) -> Option<Self::Item> {
        let block = *self.recording.blocks.get(self.next)?;
        self.next += 1;
        let sequence = block.header.sequence;
        let previous = match self.previous.take() {
            Some((seq, snapshot)) if seq.wrapping_add(1) == sequence => Some(snapshot),
            Some(_) if !block.is_keyframe() && self.broken.is_none() => {
                self.broken = Some(format!(
                    "sample {} before offset {} is missing",
                    sequence.wrapping_sub(1),
                    block.offset
                ));
                None
            }
            _ => None,
        };
        if !block.is_keyframe() && previous.is_none() {
            // Unreadable either way; a damaged block is still named as such.
            if let Err(reason) = self.recording.payload(&block) {
                return Some((
                    block,
                    Err(SampleError::Damaged {
                        offset: block.offset,
                        reason,
                    }),
                ));
            }
            let reason = self
                .broken
                .clone()
                .unwrap_or_else(|| "no keyframe before it in this file".to_owned());
            return Some((
                block,
                Err(SampleError::Orphaned {
                    offset: block.offset,
                    reason,
                }),
            ));
        }
        let result = self.recording.decode(&block, previous.as_ref());
        Some(match result {
            Ok(snapshot) => {
                self.broken = None;
                self.previous = Some((sequence, snapshot.clone()));
                (block, Ok(snapshot))
            }
            Err(reason) => {
                self.broken = Some(format!("offset {}: {reason}", block.offset));
                (
                    block,
                    Err(SampleError::Damaged {
                        offset: block.offset,
                        reason,
                    }),
                )
            }
        })
    }
}
