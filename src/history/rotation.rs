//! Rotation: `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, and so on up to the number
//! kept (`record.keep`); the oldest is replaced. The renames are made inside the directory
//! that was opened when recording started (never through a symbolic link), so a directory on
//! the path swapped for a link meanwhile cannot send them elsewhere, and that directory is
//! synced afterwards so the new names survive a power loss.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The directory of a recording, held open for its renames.
pub struct Directory {
    fd: OwnedFd,
    /// The file's name inside it.
    name: OsString,
}

impl Directory {
    /// Opens the directory `path` is in, refusing a symbolic link anywhere on the way.
    pub fn of(path: &Path) -> std::io::Result<Directory> {
        use rustix::fs::{Mode, OFlags, ResolveFlags, CWD};
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other("the recording path names no file"))?
            .to_owned();
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let fd =
            match rustix::fs::openat2(CWD, parent, flags, Mode::empty(), ResolveFlags::NO_SYMLINKS)
            {
                // Before Linux 5.6: at least the last component is never followed.
                Err(rustix::io::Errno::NOSYS) => rustix::fs::open(parent, flags, Mode::empty()),
                other => other,
            }
            .map_err(std::io::Error::from)?;
        Ok(Directory { fd, name })
    }

    /// Shifts the rotated files up by one, dropping the oldest beyond `keep`, and renames the
    /// recording to `FILE.1`; then syncs the directory.
    pub fn rotate(&self, keep: u32) -> std::io::Result<()> {
        for n in (1..keep.max(1)).rev() {
            match rustix::fs::renameat(
                &self.fd,
                self.rotated_name(n),
                &self.fd,
                self.rotated_name(n + 1),
            ) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                Err(e) => return Err(e.into()),
            }
        }
        rustix::fs::renameat(&self.fd, &self.name, &self.fd, self.rotated_name(1))?;
        rustix::fs::fsync(&self.fd)?;
        Ok(())
    }

    /// Syncs the directory (after the recording was created in it).
    pub fn sync(&self) -> std::io::Result<()> {
        Ok(rustix::fs::fsync(&self.fd)?)
    }

    fn rotated_name(&self, n: u32) -> OsString {
        let mut name = self.name.clone();
        name.push(format!(".{n}"));
        name
    }
}

/// `FILE.n`, the n-th newest rotated recording of `path`.
pub fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Why a recording is rotated before the next sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The next block would take the file past `record.max_size`.
    Size,
    /// The file was started `record.max_age` ago or more.
    Age,
}

/// Whether to rotate a file of `len` bytes started at `created_at_ms`, before a block of
/// `block_len` bytes is added at `now_ms`. A file with no sample yet is never rotated (a
/// single sample larger than the limit still goes somewhere).
pub fn due(
    len: u64,
    has_samples: bool,
    block_len: u64,
    created_at_ms: u64,
    now_ms: u64,
    max_size: u64,
    max_age_ms: u64,
) -> Option<Due> {
    if !has_samples {
        return None;
    }
    if len.saturating_add(block_len) > max_size {
        return Some(Due::Size);
    }
    if now_ms.saturating_sub(created_at_ms) >= max_age_ms {
        return Some(Due::Age);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_is_due_by_size_or_age_never_for_an_empty_file() {
        let hour = 3_600_000;
        assert_eq!(due(900, true, 50, 0, 10, 1000, hour), None);
        assert_eq!(due(960, true, 50, 0, 10, 1000, hour), Some(Due::Size));
        assert_eq!(due(960, false, 50, 0, 10, 1000, hour), None);
        assert_eq!(due(10, true, 50, 0, hour, 1000, hour), Some(Due::Age));
        // A clock set back does not rotate.
        assert_eq!(due(10, true, 50, hour, 0, 1000, hour), None);
    }

    #[test]
    fn rotated_files_shift_up_and_the_oldest_goes() {
        let dir = crate::files::tests::Scratch::new("rotate");
        let path = dir.path("rec.wtr");
        let directory = Directory::of(&path).unwrap();
        for round in 0..5 {
            std::fs::write(&path, format!("{round}")).unwrap();
            directory.rotate(3).unwrap();
        }
        assert!(!path.exists());
        let read = |n| std::fs::read_to_string(rotated_path(&path, n)).unwrap();
        assert_eq!(
            (read(1), read(2), read(3)),
            ("4".into(), "3".into(), "2".into())
        );
        assert!(!rotated_path(&path, 4).exists());
    }

    #[test]
    fn a_directory_reached_through_a_link_is_refused() {
        let dir = crate::files::tests::Scratch::new("rotate-link");
        std::fs::create_dir(dir.path("real")).unwrap();
        std::os::unix::fs::symlink(dir.path("real"), dir.path("link")).unwrap();
        assert!(Directory::of(&dir.path("link/rec.wtr")).is_err());
        assert!(Directory::of(&dir.path("real/rec.wtr")).is_ok());
    }
}
