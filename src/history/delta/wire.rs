//! The bytes of a sample's payload, below the level of processes: unsigned LEB128 varints,
//! changes of integers as zigzag varints of the difference from the previous sample's value,
//! floats as the XOR of their bits with the previous value's bits, and length-prefixed blobs.
//!
//! Why differences: between two samples most counters move a little (CPU time, bytes sent,
//! idle time) or not at all, so a difference is usually one or two bytes, and the same small
//! values repeat from process to process, which the compressor then takes almost for nothing.
//! Floats are not subtracted (that would lose bits); an unchanged float XORs to 0, one byte.

/// The numbers of one record (a process, a connection's traffic), each possibly absent:
/// written as a set against the record's previous numbers (see [`Writer::numbers`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Numbers<const I: usize, const F: usize> {
    pub(super) integers: [Option<u64>; I],
    pub(super) floats: [Option<f64>; F],
}

impl<const I: usize, const F: usize> Numbers<I, F> {
    /// Bit i: integer i, then bit I + j: float j. Floats compare by their bits.
    fn changed(&self, previous: &Self) -> u64 {
        let mut mask = 0u64;
        for (i, (now, before)) in self.integers.iter().zip(&previous.integers).enumerate() {
            if now != before {
                mask |= 1 << i;
            }
        }
        for (j, (now, before)) in self.floats.iter().zip(&previous.floats).enumerate() {
            if now.map(f64::to_bits) != before.map(f64::to_bits) {
                mask |= 1 << (I + j);
            }
        }
        mask
    }

    fn absent(&self) -> u64 {
        let mut mask = 0u64;
        for (i, value) in self.integers.iter().enumerate() {
            if value.is_none() {
                mask |= 1 << i;
            }
        }
        for (j, value) in self.floats.iter().enumerate() {
            if value.is_none() {
                mask |= 1 << (I + j);
            }
        }
        mask
    }
}

/// Appends to a payload.
pub(super) struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// Why a payload could not be read back. The payload passed its checksum, so this means a
/// writer bug or a file from another version that slipped through: never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the payload ends in the middle of a value")]
    Truncated,
    #[error("a number is longer than 10 bytes")]
    Overlong,
    #[error("{0}")]
    Invalid(String),
}

impl<'a> Writer<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> Writer<'a> {
        Writer { out }
    }

    pub(super) fn byte(&mut self, value: u8) {
        self.out.push(value);
    }

    pub(super) fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            // Truncation intended: the low seven bits, with the continuation bit set.
            self.out.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    /// `current` as its difference from `previous` (wrapping, so any two values round-trip).
    pub(super) fn change(&mut self, current: u64, previous: u64) {
        self.varint(zigzag(current.wrapping_sub(previous) as i64));
    }

    pub(super) fn float_change(&mut self, current: f64, previous: f64) {
        self.varint(current.to_bits() ^ previous.to_bits());
    }

    /// A record's numbers against its previous ones: a mask of those that changed, a mask of
    /// those among them that are now absent, then the change of each one changed and present.
    /// A record whose numbers did not move costs two bytes.
    pub(super) fn numbers<const I: usize, const F: usize>(
        &mut self,
        current: &Numbers<I, F>,
        previous: &Numbers<I, F>,
    ) {
        const { assert!(I + F <= 64) };
        let changed = current.changed(previous);
        self.varint(changed);
        self.varint(current.absent() & changed);
        for (i, (now, before)) in current.integers.iter().zip(&previous.integers).enumerate() {
            if let (true, Some(now)) = (changed & (1 << i) != 0, now) {
                self.change(*now, before.unwrap_or(0));
            }
        }
        for (j, (now, before)) in current.floats.iter().zip(&previous.floats).enumerate() {
            if let (true, Some(now)) = (changed & (1 << (I + j)) != 0, now) {
                self.float_change(*now, before.unwrap_or(0.0));
            }
        }
    }

    pub(super) fn blob(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.out.extend_from_slice(bytes);
    }
}

/// Reads a payload written by [`Writer`], value by value, in the same order.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    pub(super) fn is_at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub(super) fn byte(&mut self) -> Result<u8, WireError> {
        let value = *self.bytes.get(self.at).ok_or(WireError::Truncated)?;
        self.at += 1;
        Ok(value)
    }

    pub(super) fn varint(&mut self) -> Result<u64, WireError> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let byte = self.byte()?;
            if shift == 63 && byte > 1 {
                return Err(WireError::Overlong);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Overlong)
    }

    /// A count of things that each take at least one byte: never more than the bytes left, so
    /// a damaged count cannot make the reader reserve gigabytes.
    pub(super) fn count(&mut self) -> Result<usize, WireError> {
        let count = self.varint()?;
        let left = (self.bytes.len() - self.at) as u64;
        if count > left {
            return Err(WireError::Invalid(format!(
                "a count of {count} with {left} bytes left"
            )));
        }
        Ok(count as usize)
    }

    pub(super) fn change(&mut self, previous: u64) -> Result<u64, WireError> {
        Ok(previous.wrapping_add(unzigzag(self.varint()?) as u64))
    }

    pub(super) fn change_u32(&mut self, previous: u32) -> Result<u32, WireError> {
        let value = self.change(u64::from(previous))?;
        u32::try_from(value).map_err(|_| WireError::Invalid(format!("{value} is not a u32")))
    }

    pub(super) fn float_change(&mut self, previous: f64) -> Result<f64, WireError> {
        Ok(f64::from_bits(self.varint()? ^ previous.to_bits()))
    }

    /// Reads what [`Writer::numbers`] wrote, against the same previous numbers.
    pub(super) fn numbers<const I: usize, const F: usize>(
        &mut self,
        previous: &Numbers<I, F>,
    ) -> Result<Numbers<I, F>, WireError> {
        let changed = self.varint()?;
        let absent = self.varint()?;
        if changed >> (I + F) != 0 || absent & !changed != 0 {
            return Err(WireError::Invalid(format!(
                "number masks {changed:#x}/{absent:#x}"
            )));
        }
        let mut current = *previous;
        for (i, value) in current.integers.iter_mut().enumerate() {
            let bit = 1 << i;
            if changed & bit != 0 {
                *value = if absent & bit != 0 {
                    None
                } else {
                    Some(self.change(value.unwrap_or(0))?)
                };
            }
        }
        for (j, value) in current.floats.iter_mut().enumerate() {
            let bit = 1 << (I + j);
            if changed & bit != 0 {
                *value = if absent & bit != 0 {
                    None
                } else {
                    Some(self.float_change(value.unwrap_or(0.0))?)
                };
            }
        }
        Ok(current)
    }

    pub(super) fn blob(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.count()?;
        let blob = self
            .bytes
            .get(self.at..self.at + len)
            .ok_or(WireError::Truncated)?;
        self.at += len;
        Ok(blob)
    }
}

/// Small differences either way become small unsigned numbers: 0, -1, 1, -2 → 0, 1, 2, 3.
pub(super) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(super) fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_reads_back_as_written() {
        let floats = [
            0.0,
            -0.0,
            1.5,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            1e-300,
        ];
        let integers = [0, 1, 127, 128, 300, u64::MAX, u64::MAX - 1, 1 << 63];
        let mut bytes = Vec::new();
        let mut w = Writer::new(&mut bytes);
        for (&current, &previous) in integers.iter().zip(integers.iter().rev()) {
            w.varint(current);
            w.change(current, previous);
        }
        for (&current, &previous) in floats.iter().zip(floats.iter().rev()) {
            w.float_change(current, previous);
        }
        w.float_change(f64::NAN, 2.0);
        w.blob(b"abc");
        let mut r = Reader::new(&bytes);
        for (&current, &previous) in integers.iter().zip(integers.iter().rev()) {
            assert_eq!(r.varint(), Ok(current));
            assert_eq!(r.change(previous), Ok(current));
        }
        for (&current, &previous) in floats.iter().zip(floats.iter().rev()) {
            assert_eq!(
                r.float_change(previous).unwrap().to_bits(),
                current.to_bits()
            );
        }
        assert_eq!(r.float_change(2.0).unwrap().to_bits(), f64::NAN.to_bits());
        assert_eq!(r.blob(), Ok(&b"abc"[..]));
        assert!(r.is_at_end());
        assert_eq!(r.byte(), Err(WireError::Truncated));
    }

    #[test]
    fn a_set_of_numbers_reads_back_and_costs_what_changed() {
        let before = Numbers {
            integers: [Some(5), None, Some(u64::MAX), Some(0)],
            floats: [Some(1.5), None],
        };
        let afters = [
            before,
            Numbers {
                integers: [Some(6), Some(0), None, Some(0)],
                floats: [Some(f64::NAN), Some(-0.0)],
            },
            Numbers {
                integers: [None; 4],
                floats: [None; 2],
            },
        ];
        for after in afters {
            let mut bytes = Vec::new();
            Writer::new(&mut bytes).numbers(&after, &before);
            let read = Reader::new(&bytes).numbers(&before).unwrap();
            assert_eq!(read.integers, after.integers);
            let bits = |n: &Numbers<4, 2>| n.floats.map(|f| f.map(f64::to_bits));
            assert_eq!(bits(&read), bits(&after));
        }
        let mut bytes = Vec::new();
        Writer::new(&mut bytes).numbers(&before, &before);
        assert_eq!(bytes, [0, 0], "nothing changed: two empty masks");
        // A mask naming a number the record does not have is an error.
        assert!(Reader::new(&[0x40, 0]).numbers(&before).is_err());
        assert!(Reader::new(&[0x01, 0x02]).numbers(&before).is_err());
    }

    #[test]
    fn small_changes_take_one_byte() {
        let mut bytes = Vec::new();
        let mut w = Writer::new(&mut bytes);
        w.change(1_000_000, 1_000_000);
        w.change(1_000_010, 1_000_000);
        w.change(999_990, 1_000_000);
        w.float_change(12.5, 12.5);
        assert_eq!(bytes.len(), 4);
    }

    #[test]
    fn damaged_numbers_and_counts_are_errors() {
        assert_eq!(Reader::new(&[0xff; 11]).varint(), Err(WireError::Overlong));
        assert_eq!(Reader::new(&[0x80]).varint(), Err(WireError::Truncated));
        assert!(matches!(
            Reader::new(&[0x7f, 1, 2]).count(),
            Err(WireError::Invalid(_))
        ));
        let mut huge = Vec::new();
        Writer::new(&mut huge).change(u64::from(u32::MAX) + 1, 0);
        assert!(Reader::new(&huge).change_u32(0).is_err());
    }
}
