//! Appending blocks to a recording: the file opened safely (0600, never through a symbolic
//! link, never another user's file: [`crate::files::open_private_read_append`]), checked to be a
//! recording of this format before anything is added, locked against a second writer, each
//! block written with one `write` and taken back whole if the write fails (a full disk leaves
//! the file as it was before the block).

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::files::{open_private_read_append, UnsafeFile};

use super::format::{BlockHeader, FileHeader, FileHeaderProblem, FILE_HEADER_LEN, FILE_MAGIC};
use super::index::{self, Gap};
use super::shown;

/// Why a recording could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Unsafe(#[from] UnsafeFile),
    #[error(
        "refusing to write {}: it is not a wiretop recording (it does not begin with the \
         recording header); give a new file name",
        shown(path)
    )]
    NotARecording { path: PathBuf },
    #[error(
        "refusing to write {}: it was written in recording format {version}, newer than this \
         wiretop writes (format {}); give a new file name",
        shown(path),
        super::format::FORMAT_VERSION
    )]
    Newer { path: PathBuf, version: u16 },
    #[error(
        "refusing to write {}: its file header is damaged; give a new file name (readers \
         still read its samples)",
        shown(path)
    )]
    DamagedHeader { path: PathBuf },
    #[error(
        "refusing to write {}: another wiretop is recording to it",
        shown(path)
    )]
    InUse { path: PathBuf },
    /// ENOSPC or EDQUOT: what was written before is intact, the block that did not fit is
    /// taken back.
    #[error(
        "no space left on the device of {} (ENOSPC); the samples recorded before are intact",
        shown(path)
    )]
    DiskFull { path: PathBuf },
    #[error("cannot {action} {}: {reason}", shown(path))]
    Io {
        path: PathBuf,
        action: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Encode(#[from] super::delta::EncodeError),
    #[error("compressing a sample: {0}")]
    Codec(#[from] super::codec::CodecError),
}

impl WriteError {
    /// True for a file that must not be written (someone else's, a link, not a recording, a
    /// later format): the argument is at fault, not the system.
    pub fn is_refusal(&self) -> bool {
        match self {
            WriteError::Unsafe(unsafe_file) => unsafe_file.is_refusal(),
            WriteError::NotARecording { .. }
            | WriteError::Newer { .. }
            | WriteError::DamagedHeader { .. }
            | WriteError::InUse { .. } => true,
            _ => false,
        }
    }

    fn from_io(path: &Path, action: &'static str, error: &std::io::Error) -> WriteError {
        if matches!(error.raw_os_error(), Some(libc::ENOSPC | libc::EDQUOT)) {
            return WriteError::DiskFull {
                path: path.to_path_buf(),
            };
        }
        WriteError::Io {
            path: path.to_path_buf(),
            action,
            reason: crate::files::Problem::io(error).to_string(),
        }
    }
}

/// A recording open for appending.
pub struct RecordFile {
    path: PathBuf,
    file: File,
    /// Bytes of the header and the complete blocks: where the next block goes.
    len: u64,
    created_at_ms: u64,
    next_sequence: u64,
    samples: u64,
}

impl RecordFile {
    /// Opens `path` for appending (a new file is created 0600 with a header dated `now_ms`).
    /// An existing file must be a recording of this format; an incomplete block at its end (a
    /// run that was killed) is cut off, and said so in the returned notice.
    pub fn open(path: &Path, now_ms: u64) -> Result<(RecordFile, Option<String>), WriteError> {
        let file = open_private_read_append(path)?;
        let io = |action, e: &std::io::Error| WriteError::from_io(path, action, e);
        // One writer a file: two would interleave their blocks, and each would take back the
        // other's when a write failed. The lock goes with the descriptor.
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(WriteError::InUse {
                    path: path.to_path_buf(),
                })
            }
            Err(errno) => return Err(io("lock", &errno.into())),
        }
        let len = file.metadata().map_err(|e| io("read", &e))?.len();
        let mut head = [0u8; FILE_HEADER_LEN];
        let read = file.read_at(&mut head, 0).map_err(|e| io("read", &e))?;
        let header = match FileHeader::parse(&head[..read]) {
            Ok(header) => Some(header),
            // Empty, or the header itself was cut off when the file was created.
            Err(FileHeaderProblem::TooShort) if FILE_MAGIC.starts_with(&head[..read.min(8)]) => {
                None
            }
            Err(FileHeaderProblem::Newer(version)) => {
                return Err(WriteError::Newer {
                    path: path.to_path_buf(),
                    version,
                })
            }
            Err(FileHeaderProblem::Damaged) => {
                return Err(WriteError::DamagedHeader {
                    path: path.to_path_buf(),
                })
            }
            Err(FileHeaderProblem::TooShort | FileHeaderProblem::NotARecording) => {
                return Err(WriteError::NotARecording {
                    path: path.to_path_buf(),
                })
            }
        };
        let mut record = RecordFile {
            path: path.to_path_buf(),
            file,
            len,
            created_at_ms: now_ms,
            next_sequence: 0,
            samples: 0,
        };
        let Some(header) = header else {
            record.truncate_to(0).map_err(|e| io("truncate", &e))?;
            let bytes = FileHeader::new(now_ms).to_bytes();
            record.append_bytes(&bytes, "write")?;
            record.sync()?;
            return Ok((record, None));
        };
        record.created_at_ms = header.created_at_ms;
        let (blocks, gaps) = index::walk(&record.file, len).map_err(|e| io("read", &e))?;
        if let Some(last) = blocks.last() {
            record.next_sequence = last.header.sequence.wrapping_add(1);
            record.samples = blocks.len() as u64;
        }
        let notice = match gaps.last() {
            Some(Gap::CutOff { offset, len: cut }) => {
                record
                    .truncate_to(*offset)
                    .map_err(|e| io("truncate", &e))?;
                Some(format!(
                    "{}: cut off the last {cut} bytes at offset {offset}, an incomplete sample \
                     of an earlier run",
                    shown(path)
                ))
            }
            _ => None,
        };
        Ok((record, notice))
    }

    /// Appends one block. On failure the file is truncated back to where the block began, so
    /// a half-written block never stays behind.
    pub fn append(&mut self, header: &BlockHeader, payload: &[u8]) -> Result<(), WriteError> {
        let block = header.block(payload);
        self.append_bytes(&block, "write")?;
        self.next_sequence = header.sequence.wrapping_add(1);
        self.samples += 1;
        Ok(())
    }

    fn append_bytes(&mut self, bytes: &[u8], action: &'static str) -> Result<(), WriteError> {
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                // Taking the partial block back needs no space: it only shrinks the file.
                let _ = self.file.set_len(self.len);
                Err(WriteError::from_io(&self.path, action, &error))
            }
        }
    }

    fn truncate_to(&mut self, len: u64) -> std::io::Result<()> {
        self.file.set_len(len)?;
        self.len = len;
        Ok(())
    }

    /// Flushes what was written to the disk (fdatasync).
    pub fn sync(&mut self) -> Result<(), WriteError> {
        self.file
            .sync_data()
            .map_err(|e| WriteError::from_io(&self.path, "sync", &e))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.samples == 0
    }

    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
