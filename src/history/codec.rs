//! Compression of block payloads: zstd, each block compressed on its own so any keyframe can
//! be read without the blocks before it.
//!
//! Level 3 (zstd's default): on a sample of 1,000 processes and 10,000 connections it costs a
//! few milliseconds a keyframe and far less for the changes between them, and higher levels
//! saved little on this data for several times the CPU (see the README's figures).

use super::format::MAX_PAYLOAD_LEN;

const LEVEL: i32 = 3;

/// Why a payload did not decompress.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("a sample of {0} bytes is larger than a block may hold")]
    TooLarge(usize),
    #[error("zstd: {0}")]
    Zstd(String),
    #[error("decompressed to {actual} bytes instead of {expected}")]
    WrongLength { expected: usize, actual: usize },
}

pub fn compress(raw: &[u8]) -> Result<Vec<u8>, CodecError> {
    if raw.len() > MAX_PAYLOAD_LEN as usize {
        return Err(CodecError::TooLarge(raw.len()));
    }
    let compressed =
        zstd::bulk::compress(raw, LEVEL).map_err(|e| CodecError::Zstd(e.to_string()))?;
    if compressed.len() > MAX_PAYLOAD_LEN as usize {
        return Err(CodecError::TooLarge(compressed.len()));
    }
    Ok(compressed)
}

/// Decompresses a payload that the block header says is `raw_len` bytes once decompressed;
/// never allocates more than that, whatever the payload claims.
pub fn decompress(payload: &[u8], raw_len: u32) -> Result<Vec<u8>, CodecError> {
    let expected = raw_len as usize;
    let raw =
        zstd::bulk::decompress(payload, expected).map_err(|e| CodecError::Zstd(e.to_string()))?;
    if raw.len() != expected {
        return Err(CodecError::WrongLength {
            expected,
            actual: raw.len(),
        });
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_comes_back_and_a_wrong_length_is_an_error() {
        let raw: Vec<u8> = (0..10_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        let compressed = compress(&raw).unwrap();
        assert!(compressed.len() < raw.len() / 4);
        assert_eq!(decompress(&compressed, raw.len() as u32).unwrap(), raw);
        assert!(decompress(&compressed, raw.len() as u32 - 1).is_err());
        assert!(decompress(&compressed, raw.len() as u32 + 1).is_err());
        assert!(decompress(b"not zstd", 100).is_err());
    }
}
