//! The index of a recording: where each block starts, found by walking from header to header
//! (one small read a block, nothing decompressed), and what could not be read on the way.
//!
//! A header whose checksum fails is not trusted, not even its length: the walk looks for the
//! next block magic whose header checks out and reports the bytes in between. Bytes at the end
//! that hold no complete block are a block cut off while it was written.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::format::{BlockHeader, BlockKind, BLOCK_HEADER_LEN, BLOCK_MAGIC, FILE_HEADER_LEN};

/// One block of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockEntry {
    /// Where the block's header starts.
    pub offset: u64,
    pub header: BlockHeader,
}

impl BlockEntry {
    pub fn is_keyframe(&self) -> bool {
        self.header.kind == BlockKind::Keyframe
    }

    /// Where the block ends (the next one starts).
    pub fn end(&self) -> u64 {
        self.offset + self.header.block_len()
    }
}

/// Bytes the walk could not read as blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// Between two blocks: damaged, skipped to the next block found.
    Damaged { offset: u64, len: u64 },
    /// At the end: a block that was being written when the writer stopped (killed, power
    /// lost, disk full).
    CutOff { offset: u64, len: u64 },
}

/// Every block from the end of the file header to `len`, and the gaps between them.
pub fn walk(file: &File, len: u64) -> std::io::Result<(Vec<BlockEntry>, Vec<Gap>)> {
    let mut blocks = Vec::new();
    let mut gaps = Vec::new();
    let mut offset = FILE_HEADER_LEN as u64;
    let mut header = [0u8; BLOCK_HEADER_LEN];
    while offset < len {
        let left = len - offset;
        let parsed = if left >= BLOCK_HEADER_LEN as u64 {
            file.read_exact_at(&mut header, offset)?;
            BlockHeader::parse(&header)
        } else {
            None
        };
        match parsed {
            Some(block) if offset + block.block_len() <= len => {
                blocks.push(BlockEntry {
                    offset,
                    header: block,
                });
                offset += block.block_len();
            }
            // A sound header whose block runs past the end: cut off while written.
            Some(_) => {
                gaps.push(Gap::CutOff { offset, len: left });
                break;
            }
            None => match next_block(file, offset + 1, len)? {
                Some(next) => {
                    gaps.push(Gap::Damaged {
                        offset,
                        len: next - offset,
                    });
                    offset = next;
                }
                None => {
                    gaps.push(Gap::CutOff { offset, len: left });
                    break;
                }
            },
        }
    }
    Ok((blocks, gaps))
}

/// The offset of the first sound block header at or after `from`.
fn next_block(file: &File, from: u64, len: u64) -> std::io::Result<Option<u64>> {
    const CHUNK: usize = 64 * 1024;
    let mut buffer = vec![0u8; CHUNK + BLOCK_HEADER_LEN];
    let mut start = from;
    while start + BLOCK_HEADER_LEN as u64 <= len {
        let want = ((len - start) as usize).min(buffer.len());
        let chunk = &mut buffer[..want];
        file.read_exact_at(chunk, start)?;
        // Candidates must have a whole header inside this chunk; the overlap of one header
        // with the next chunk covers the rest.
        let last_candidate = want.saturating_sub(BLOCK_HEADER_LEN);
        for at in 0..=last_candidate {
            if chunk[at..at + 4] == BLOCK_MAGIC && BlockHeader::parse(&chunk[at..]).is_some() {
                return Ok(Some(start + at as u64));
            }
        }
        start += last_candidate as u64 + 1;
    }
    Ok(None)
}
