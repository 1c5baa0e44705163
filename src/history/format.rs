//! The recording file format, version 1: what is on disk, byte by byte. All integers are
//! little-endian; every checksum is CRC-32 (IEEE, as zlib and gzip compute it).
//!
//! ```text
//! file header, 24 bytes
//!   0  8  magic          "WTRECORD"
//!   8  2  version        1; a reader refuses a file of a later version (the magic and the
//!                        version keep their place in every version, so that refusal is sure)
//!  10  2  flags          0 (reserved)
//!  12  8  created_at_ms  when the file was started, ms since the epoch (rotation by age)
//!  20  4  checksum       of bytes 0..20
//! then blocks, one per sample, back to back until the end of the file:
//!   0  4  magic          "WTB1"
//!   4  1  kind           1: keyframe (the whole sample), 2: changes since the previous sample
//!   5  1  compression    1: zstd
//!   6  2  reserved       0
//!   8  8  sequence       the sample's number in this file; a block of changes applies to the
//!                        block whose number is one less, and to nothing else
//!  16  8  taken_at_ms    the snapshot's host.taken_at_ms
//!  24  4  payload_len    bytes of payload that follow the header
//!  28  4  raw_len        bytes of the payload once decompressed
//!  32  4  header checksum of bytes 0..32
//!  36  …  payload        a zstd frame of the sample (history::delta documents its layout)
//!   …  4  payload checksum of the payload bytes
//! ```
//!
//! Why each part: the header checksum lets a reader trust a length before it reads what the
//! length covers, so it can walk from header to header without decompressing anything (that
//! walk is the index: a seek to any time decodes from the keyframe at or before it). The
//! block magic lets a reader find the next block after damaged bytes. The payload checksum
//! comes last, so a block cut off while it was written (a crash, a full disk) never passes.
//! The sequence number keeps a block of changes from being applied to anything but the sample
//! it was written against, even when a damaged block between them was skipped.

/// The first bytes of every recording.
pub const FILE_MAGIC: [u8; 8] = *b"WTRECORD";
/// The format this build writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;
pub const FILE_HEADER_LEN: usize = 24;

pub const BLOCK_MAGIC: [u8; 4] = *b"WTB1";
pub const BLOCK_HEADER_LEN: usize = 36;
/// The payload checksum after the payload.
pub const BLOCK_TRAILER_LEN: usize = 4;
/// A block's payload, compressed or not, is never larger: a header that says more is damaged
/// (or written by something else), and a reader does not allocate for it.
pub const MAX_PAYLOAD_LEN: u32 = 1 << 30;

const ZSTD: u8 = 1;

/// Whether a block holds a whole sample or the changes since the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Keyframe,
    Changes,
}

/// The file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    pub version: u16,
    pub created_at_ms: u64,
}

/// What is wrong with the first bytes of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileHeaderProblem {
    /// Shorter than a header: nothing was ever written, or it is not a recording.
    TooShort,
    /// The magic is not there: not a recording.
    NotARecording,
    /// The magic is there but the checksum does not match: the header was damaged.
    Damaged,
    /// A later version of the format than this build reads.
    Newer(u16),
}

impl FileHeader {
    pub fn new(created_at_ms: u64) -> FileHeader {
        FileHeader {
            version: FORMAT_VERSION,
            created_at_ms,
        }
    }

    pub fn to_bytes(self) -> [u8; FILE_HEADER_LEN] {
        let mut bytes = [0u8; FILE_HEADER_LEN];
        bytes[0..8].copy_from_slice(&FILE_MAGIC);
        bytes[8..10].copy_from_slice(&self.version.to_le_bytes());
        bytes[12..20].copy_from_slice(&self.created_at_ms.to_le_bytes());
        let checksum = crc32fast::hash(&bytes[0..20]);
        bytes[20..24].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Reads a header; a version this build does not know is refused even when the rest
    /// cannot be checked (a later version may lay out its header differently).
    pub fn parse(bytes: &[u8]) -> Result<FileHeader, FileHeaderProblem> {
        let bytes: &[u8; FILE_HEADER_LEN] = bytes
            .get(..FILE_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(FileHeaderProblem::TooShort)?;
        if bytes[0..8] != FILE_MAGIC {
            return Err(FileHeaderProblem::NotARecording);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version > FORMAT_VERSION {
            return Err(FileHeaderProblem::Newer(version));
        }
        if crc32fast::hash(&bytes[0..20]) != le_u32(&bytes[20..24]) || version == 0 {
            return Err(FileHeaderProblem::Damaged);
        }
        Ok(FileHeader {
            version,
            created_at_ms: le_u64(&bytes[12..20]),
        })
    }
}

/// A block's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub kind: BlockKind,
    pub sequence: u64,
    pub taken_at_ms: u64,
    pub payload_len: u32,
    pub raw_len: u32,
}

impl BlockHeader {
    /// The whole block: header, payload (already compressed) and the payload's checksum.
    pub fn block(&self, payload: &[u8]) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.block_len() as usize);
        bytes.extend_from_slice(&self.to_bytes());
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        bytes
    }

    /// Bytes of the block on disk, header and trailer included.
    pub fn block_len(&self) -> u64 {
        (BLOCK_HEADER_LEN + BLOCK_TRAILER_LEN) as u64 + u64::from(self.payload_len)
    }

    fn to_bytes(self) -> [u8; BLOCK_HEADER_LEN] {
        let mut bytes = [0u8; BLOCK_HEADER_LEN];
        bytes[0..4].copy_from_slice(&BLOCK_MAGIC);
        bytes[4] = match self.kind {
            BlockKind::Keyframe => 1,
            BlockKind::Changes => 2,
        };
        bytes[5] = ZSTD;
        bytes[8..16].copy_from_slice(&self.sequence.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.taken_at_ms.to_le_bytes());
        bytes[24..28].copy_from_slice(&self.payload_len.to_le_bytes());
        bytes[28..32].copy_from_slice(&self.raw_len.to_le_bytes());
        let checksum = crc32fast::hash(&bytes[0..32]);
        bytes[32..36].copy_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// Reads a header; None unless the magic, the checksum and every field are right.
    pub fn parse(bytes: &[u8]) -> Option<BlockHeader> {
        let bytes = bytes.get(..BLOCK_HEADER_LEN)?;
        if bytes[0..4] != BLOCK_MAGIC || crc32fast::hash(&bytes[0..32]) != le_u32(&bytes[32..36]) {
            return None;
        }
        let kind = match bytes[4] {
            1 => BlockKind::Keyframe,
            2 => BlockKind::Changes,
            _ => return None,
        };
        let header = BlockHeader {
            kind,
            sequence: le_u64(&bytes[8..16]),
            taken_at_ms: le_u64(&bytes[16..24]),
            payload_len: le_u32(&bytes[24..28]),
            raw_len: le_u32(&bytes[28..32]),
        };
        let sane = bytes[5] == ZSTD
            && bytes[6..8] == [0, 0]
            && header.payload_len <= MAX_PAYLOAD_LEN
            && header.raw_len <= MAX_PAYLOAD_LEN;
        sane.then_some(header)
    }
}

/// Whether `payload` is the one the block's trailer vouches for.
pub fn payload_intact(payload: &[u8], trailer: &[u8]) -> bool {
    trailer.len() == BLOCK_TRAILER_LEN && crc32fast::hash(payload) == le_u32(trailer)
}

fn le_u32(bytes: &[u8]) -> u32 {
    let mut array = [0u8; 4];
    array.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(array)
}

fn le_u64(bytes: &[u8]) -> u64 {
    let mut array = [0u8; 8];
    array.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_back_and_any_flipped_bit_is_caught() {
        let file = FileHeader::new(1_767_225_600_000);
        assert_eq!(FileHeader::parse(&file.to_bytes()), Ok(file));
        let block = BlockHeader {
            kind: BlockKind::Changes,
            sequence: 61,
            taken_at_ms: 1_767_225_602_000,
            payload_len: 5_000,
            raw_len: 40_000,
        };
        let bytes = block.to_bytes();
        assert_eq!(BlockHeader::parse(&bytes), Some(block));
        for bit in 0..BLOCK_HEADER_LEN * 8 {
            let mut damaged = bytes;
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(BlockHeader::parse(&damaged), None, "bit {bit}");
        }
        for bit in 0..FILE_HEADER_LEN * 8 {
            let mut damaged = file.to_bytes();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert!(FileHeader::parse(&damaged).is_err(), "bit {bit}");
        }
    }

    #[test]
    fn a_later_version_is_refused_and_other_files_are_not_recordings() {
        let mut bytes = FileHeader::new(0).to_bytes();
        bytes[8..10].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(FileHeader::parse(&bytes), Err(FileHeaderProblem::Newer(2)));
        assert_eq!(
            FileHeader::parse(b"{\"schema_version\":1,\"host\":{}}"),
            Err(FileHeaderProblem::NotARecording)
        );
        assert_eq!(
            FileHeader::parse(b"WTREC"),
            Err(FileHeaderProblem::TooShort)
        );
    }

    #[test]
    fn a_block_carries_its_payload_and_checksum() {
        let header = BlockHeader {
            kind: BlockKind::Keyframe,
            sequence: 0,
            taken_at_ms: 5,
            payload_len: 3,
            raw_len: 9,
        };
        let block = header.block(b"abc");
        assert_eq!(block.len() as u64, header.block_len());
        let payload = &block[BLOCK_HEADER_LEN..BLOCK_HEADER_LEN + 3];
        assert!(payload_intact(payload, &block[BLOCK_HEADER_LEN + 3..]));
        assert!(!payload_intact(b"abd", &block[BLOCK_HEADER_LEN + 3..]));
    }
}
