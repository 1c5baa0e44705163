//! Reading a file wiretop was pointed at: a regular file only, at most a fixed size.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{kind_of, shown, Problem};

/// Configuration files: real ones are a few KiB.
pub const CONFIG_FILE_LIMIT: u64 = 1 << 20;
/// `uplink.api_key_file`: a key is a line.
pub const KEY_FILE_LIMIT: u64 = 64 << 10;
/// CA bundles, client certificates and keys (the Mozilla bundle is about 220 KiB).
pub const PEM_FILE_LIMIT: u64 = 1 << 20;
/// Baselines: a line of about 70 bytes per executable, port and destination, so a busy proxy
/// with 100,000 destinations fits.
pub const BASELINE_FILE_LIMIT: u64 = 8 << 20;

/// A file that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {problem}", shown(path))]
pub struct UnreadableFile {
    pub path: PathBuf,
    pub problem: Problem,
}

/// The whole of the regular file at `path` (symbolic links are followed), if it holds at most
/// `limit` bytes.
///
/// A path that is not a regular file is refused before it is opened; the file is opened
/// non-blocking, so a FIFO swapped in cannot hold the caller up, and its type and size are
/// checked again on the open descriptor before anything is read. At most `limit + 1` bytes are
/// ever read, so a file that grows while it is read (or a `/proc` file that reports size 0) costs
/// no more memory than the limit either.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, UnreadableFile> {
    let refuse = |problem| UnreadableFile {
        path: path.to_path_buf(),
        problem,
    };
    // Not opened at all unless it is a regular file: opening a device can have effects of its
    // own (a tape rewinds, a watchdog arms). Checked again on the open descriptor below, for a
    // file swapped in between.
    let before = std::fs::metadata(path).map_err(|e| refuse(Problem::io(&e)))?;
    if let Some(kind) = kind_of(&before) {
        return Err(refuse(Problem::NotRegular(kind)));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| refuse(Problem::io(&e)))?;
    let metadata = file.metadata().map_err(|e| refuse(Problem::io(&e)))?;
    if let Some(kind) = kind_of(&metadata) {
        return Err(refuse(Problem::NotRegular(kind)));
    }
    if metadata.len() > limit {
        return Err(refuse(Problem::TooLarge {
            size: Some(metadata.len()),
            limit,
        }));
    }
    let capacity = usize::try_from(metadata.len().min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(Problem::io(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(refuse(Problem::TooLarge { size: None, limit }));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::tests::Scratch;

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let dir = Scratch::new("read-ok");
        let path = dir.path("key");
        std::fs::write(&path, b"secret\n").unwrap();
        assert_eq!(read_capped(&path, 7).unwrap(), b"secret\n");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = Scratch::new("read-big");
        let path = dir.path("big");
        std::fs::write(&path, vec![b'x'; 1025]).unwrap();
        let error = read_capped(&path, 1024).unwrap_err();
        assert_eq!(
            error.problem,
            Problem::TooLarge {
                size: Some(1025),
                limit: 1024
            }
        );
        assert!(
            error
                .to_string()
                .ends_with("it is 1025 bytes, over the limit of 1 KiB"),
            "{error}"
        );
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_without_blocking() {
        let dir = Scratch::new("read-special");
        let fifo = dir.path("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        for (path, kind) in [
            (PathBuf::from("/dev/zero"), "a character device"),
            (fifo, "a FIFO"),
            (dir.path(""), "a directory"),
        ] {
            let error = read_capped(&path, 1024).unwrap_err();
            assert_eq!(
                error.problem,
                Problem::NotRegular(kind),
                "{}",
                path.display()
            );
            assert!(
                error
                    .to_string()
                    .ends_with(&format!("it is {kind}, not a regular file")),
                "{error}"
            );
        }
    }

    #[test]
    fn a_proc_file_reporting_size_zero_is_still_capped() {
        // /proc/self/maps says 0 bytes in stat but has far more than 16 to read.
        let error = read_capped(Path::new("/proc/self/maps"), 16).unwrap_err();
        assert_eq!(
            error.problem,
            Problem::TooLarge {
                size: None,
                limit: 16
            }
        );
    }

    #[test]
    fn a_missing_file_says_so() {
        let error = read_capped(Path::new("/nonexistent/wiretop/x"), 16).unwrap_err();
        assert_eq!(error.to_string(), "/nonexistent/wiretop/x: no such file");
    }
}
