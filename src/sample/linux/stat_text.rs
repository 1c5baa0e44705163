//! Parsing `/proc/<pid>/stat` and `/proc/<pid>/io`, read for every process on every pass: the
//! fields are sliced out of the bytes read, nothing is allocated.
//!
//! The process controls one part of its stat line: its name (comm), up to 15 bytes of anything
//! but NUL, `)`, spaces and newlines included. The name is what lies between the first `(` and
//! the last `)`: every field after it is a number, so the last `)` of the line is the name's.

/// The fields of `/proc/<pid>/stat` the sampler uses, as proc_pid_stat(5) numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFields<'a> {
    /// (1) pid.
    pub pid: u32,
    /// (2) comm: the name's raw bytes, without the parentheses.
    pub comm: &'a [u8],
    /// (3) state, one letter.
    pub state: u8,
    /// (4) ppid.
    pub ppid: u32,
    /// (9) flags (`PF_*`).
    pub flags: u32,
    /// (14) utime and (15) stime, in clock ticks.
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// (18) priority: the kernel's scheduling priority (20 + nice for normal processes,
    /// negative for real-time ones).
    pub priority: i32,
    /// (19) nice, -20 (most favoured) to 19.
    pub nice: i32,
    /// (20) num_threads.
    pub threads: u32,
    /// (22) starttime, in clock ticks since boot.
    pub start_ticks: u64,
    /// (23) vsize, in bytes.
    pub virtual_bytes: u64,
    /// (24) rss, in pages.
    pub rss_pages: u64,
}

/// The fields after the name, counted from 0 at (3) state.
const PPID: usize = 1;
const FLAGS: usize = 6;
const UTIME: usize = 11;
const STIME: usize = 12;
const PRIORITY: usize = 15;
const NICE: usize = 16;
const NUM_THREADS: usize = 17;
const STARTTIME: usize = 19;
const VSIZE: usize = 20;
const RSS: usize = 21;

/// Parses one stat line; None if it is not one (cut short, or a field is not a number).
pub fn parse_stat(text: &[u8]) -> Option<StatFields<'_>> {
    let text = text.strip_suffix(b"\n").unwrap_or(text);
    let open = text.iter().position(|b| *b == b'(')?;
    let close = text.iter().rposition(|b| *b == b')')?;
    if close < open {
        return None;
    }
    let pid = decimal(text[..open].strip_suffix(b" ")?)?;
    let comm = &text[open + 1..close];
    let rest = text[close + 1..].strip_prefix(b" ")?;
    let mut fields = [0u64; RSS + 1];
    let mut signed = [0i64; RSS + 1];
    let mut state = None;
    let mut count = 0;
    for (index, field) in rest.split(|b| *b == b' ').take(RSS + 1).enumerate() {
        count = index + 1;
        match index {
            0 => {
                state = match field {
                    [letter] => Some(*letter),
                    _ => None,
                }
            }
            PRIORITY | NICE => signed[index] = signed_decimal(field)?,
            PPID | FLAGS | UTIME | STIME | NUM_THREADS | STARTTIME | VSIZE | RSS => {
                fields[index] = decimal(field)?;
            }
            _ => {}
        }
    }
    // Ends before rss: not a stat line (the kernel has printed at least 44 fields since 2.6).
    if count <= RSS {
        return None;
    }
    Some(StatFields {
        pid: u32::try_from(pid).ok()?,
        comm,
        state: state?,
        ppid: u32::try_from(fields[PPID]).ok()?,
        flags: u32::try_from(fields[FLAGS]).ok()?,
        utime_ticks: fields[UTIME],
        stime_ticks: fields[STIME],
        priority: i32::try_from(signed[PRIORITY]).ok()?,
        nice: i32::try_from(signed[NICE]).ok()?,
        threads: u32::try_from(fields[NUM_THREADS]).unwrap_or(u32::MAX),
        start_ticks: fields[STARTTIME],
        virtual_bytes: fields[VSIZE],
        rss_pages: fields[RSS],
    })
}

/// `read_bytes` and `write_bytes` from `/proc/<pid>/io`: what the process made the kernel read
/// from and write to storage. None if either line is missing or not a number.
pub fn parse_io(text: &[u8]) -> Option<(u64, u64)> {
    let mut read = None;
    let mut written = None;
    for line in text.split(|b| *b == b'\n') {
        if let Some(value) = line.strip_prefix(b"read_bytes: ") {
            read = Some(decimal(value)?);
        } else if let Some(value) = line.strip_prefix(b"write_bytes: ") {
            written = Some(decimal(value)?);
        }
    }
    Some((read?, written?))
}

/// A decimal number the kernel prints signed (priority, nice): an optional `-`, then as
/// [`decimal`].
fn signed_decimal(text: &[u8]) -> Option<i64> {
    match text.strip_prefix(b"-") {
        Some(digits) => i64::try_from(decimal(digits)?).ok().map(|v| -v),
        None => i64::try_from(decimal(text)?).ok(),
    }
}

/// A decimal number as the kernel prints unsigned fields and names pid directories: ASCII
/// digits, no leading zero; None on anything else (a sign, nothing at all, more than fits in
/// a u64).
pub fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    digits.iter().try_fold(0u64, |value, byte| {
        let digit = byte.checked_sub(b'0').filter(|d| *d <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real line (a shell, Linux 6.x), with its name replaced by each case below.
    fn line(comm: &[u8]) -> Vec<u8> {
        let mut text = b"4242 (".to_vec();
        text.extend_from_slice(comm);
        text.extend_from_slice(
            b") S 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 57 31 40 22 20 0 1 0 \
              918273 8867840 1281 18446744073709551615 94 95 96 0 0 0 65536 3686404 1266761467 \
              0 0 0 17 1 0 0 0 0 0 97 98 99 100 101 102 103 0\n",
        );
        text
    }

    fn expected(comm: &[u8]) -> StatFields<'_> {
        StatFields {
            pid: 4242,
            comm,
            state: b'S',
            ppid: 4100,
            flags: 4_194_560,
            utime_ticks: 57,
            stime_ticks: 31,
            priority: 20,
            nice: 0,
            threads: 1,
            start_ticks: 918_273,
            virtual_bytes: 8_867_840,
            rss_pages: 1281,
        }
    }

    #[test]
    fn names_that_look_like_fields_stay_in_the_name() {
        let names: &[&[u8]] = &[
            b"bash",
            b"",
            // What tests/hostile.rs names its process: a fake end of the name and state Z.
            b"\x1b]0;t\x07\x1b[2J\r\xff) Z",
            b") R 1 2 3 (",
            b"((((((((((((((((",
            b"))))))))))))))))",
            b"a b\nc\td",
            b"( 1 2 3 )",
            b"x) S 1 1 1 0 -1 4194560 0 0 0 0 99 99 0",
        ];
        for name in names {
            let text = line(name);
            assert_eq!(
                parse_stat(&text),
                Some(expected(name)),
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn lines_that_are_not_stat_lines_parse_to_nothing() {
        let full = line(b"sh");
        let cases: &[&[u8]] = &[
            b"",
            b"4242",
            b"4242 (sh",
            b"4242 sh) S 1",
            b") 4242 (sh",
            b"4242 (sh) S 4100",
            b"-4242 (sh) S 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 57 31 40 22 20 0 1 0 9 9 9",
            b"4242 (sh) S 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 57 31 40 22 20 0 1 0 9 9",
            b"4242 (sh) S 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 5x 31 40 22 20 0 1 0 9 9 9",
            b"4242 (sh) SS 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 57 31 40 22 20 0 1 0 9 9 9",
            b"4242 (sh) S 4100 4242 4100 34816 4300 4194560 1203 8800 3 12 57 31 40 22 20 0 1 0 99999999999999999999 9 9",
            &full[..40],
        ];
        for case in cases {
            assert_eq!(parse_stat(case), None, "{}", String::from_utf8_lossy(case));
        }
        // Priority and nice are signed: a real-time priority and a negative nice parse.
        let niced = b"7 (w) S 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 -51 -10 1 0 3 0 0 1 2";
        let parsed = parse_stat(niced).map(|s| (s.start_ticks, s.priority, s.nice));
        assert_eq!(parsed, Some((3, -51, -10)));
        let bad_nice = b"7 (w) S 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 --1 1 0 3 0 0 1 2";
        assert_eq!(parse_stat(bad_nice), None);
    }

    #[test]
    fn io_reads_the_storage_lines_only() {
        let io = b"rchar: 123\nwchar: 456\nsyscr: 7\nsyscw: 8\nread_bytes: 4096\n\
                   write_bytes: 8192\ncancelled_write_bytes: 0\n";
        assert_eq!(parse_io(io), Some((4096, 8192)));
        assert_eq!(parse_io(b"read_bytes: 1\n"), None);
        assert_eq!(parse_io(b"read_bytes: 1\nwrite_bytes: x\n"), None);
        assert_eq!(parse_io(b""), None);
        // cancelled_write_bytes is not write_bytes.
        assert_eq!(parse_io(b"read_bytes: 1\ncancelled_write_bytes: 2\n"), None);
    }

    #[test]
    fn decimals_are_written_as_the_kernel_writes_them() {
        assert_eq!(decimal(b"0"), Some(0));
        assert_eq!(decimal(b"10"), Some(10));
        assert_eq!(decimal(b"010"), None);
        assert_eq!(decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal(b"18446744073709551616"), None);
        assert_eq!(decimal(b"-1"), None);
        assert_eq!(decimal(b"+1"), None);
        assert_eq!(decimal(b""), None);
        assert_eq!(decimal(b"1 "), None);
    }
}
