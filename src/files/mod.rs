//! Every file wiretop reads because it was told to, and every file it writes.
//!
//! wiretop often runs as root, and the paths it is given (`--config`, `uplink.api_key_file`, the
//! `file://` sink) may sit in directories other users can write to. The two functions here are
//! the only way those files are opened, so the rules hold everywhere:
//!
//! - [`read_capped`]: only a regular file (a FIFO, `/dev/zero` or a directory is refused before
//!   a byte is read, and opening never blocks), at most a documented size, read in memory
//!   bounded by that size.
//! - [`open_private_append`] (and [`open_private_replace`], the same then emptied, and
//!   [`open_private_read_append`], the same readable too): never
//!   through a symbolic link, never a file another user owns or
//!   one with other hard links, never a FIFO or device, a new file created with mode 0600
//!   whatever the umask. Each check is made on the opened descriptor (`fstat`), never on the
//!   path beforehand, so a file swapped in between cannot slip through. The kernel's
//!   `protected_symlinks`/`protected_regular` may refuse some of these cases too; these checks do
//!   not rely on them.
//!
//! Each refusal says why in one line.

mod read;
mod write;

use std::fmt;
use std::fs::Metadata;
use std::os::unix::fs::FileTypeExt;

pub use read::{
    read_capped, UnreadableFile, BASELINE_FILE_LIMIT, CONFIG_FILE_LIMIT, KEY_FILE_LIMIT,
    PEM_FILE_LIMIT,
};
pub use write::{
    open_private_append, open_private_read_append, open_private_replace, UnsafeFile, PRIVATE_MODE,
};

/// What is wrong with a file, as one clause after the path ("it is a symbolic link").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The last component is a symbolic link (writes never follow one).
    Symlink,
    /// A directory on the way to the file is a symbolic link (writes never follow one).
    SymlinkOnPath,
    /// An existing file that others may read or write, or with set-id bits: its mode.
    OpenToOthers(u32),
    /// Not a regular file: what it is instead ("a FIFO", "a character device", ...).
    NotRegular(&'static str),
    /// An existing file that belongs to another user.
    OwnedByOther { owner: u32, us: u32 },
    /// An existing file with more than one name: one of them may be a file we must not touch.
    HardLinks(u64),
    /// Larger than the limit for this kind of file (`size` is None when it grew while read).
    TooLarge { size: Option<u64>, limit: u64 },
    /// The operating system refused: missing, permission denied, ...
    Io(std::io::ErrorKind, String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Symlink => f.write_str("it is a symbolic link"),
            Problem::SymlinkOnPath => {
                f.write_str("a directory on its path is a symbolic link (give the real path)")
            }
            Problem::OpenToOthers(mode) => write!(
                f,
                "others may read or write it (mode {mode:04o}); `chmod 600` it or choose a new file"
            ),
            Problem::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Problem::OwnedByOther { owner, us } => write!(
                f,
                "it belongs to {}, not to {} who runs wiretop",
                user_name(*owner),
                user_name(*us)
            ),
            Problem::HardLinks(links) => write!(
                f,
                "it has {links} hard links (another name for it may be a file that must not be written)"
            ),
            Problem::TooLarge { size: Some(size), limit } => write!(
                f,
                "it is {} bytes, over the limit of {}",
                size,
                human_limit(*limit)
            ),
            Problem::TooLarge { size: None, limit } => {
                write!(f, "it is over the limit of {}", human_limit(*limit))
            }
            Problem::Io(_, message) => f.write_str(message),
        }
    }
}

impl Problem {
    /// The OS error in words, without Rust's "(os error 2)" suffix.
    pub fn io(error: &std::io::Error) -> Problem {
        let message = match error.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => {
                let text = error.to_string();
                match text.find(" (os error") {
                    Some(cut) => text[..cut].to_owned(),
                    None => text,
                }
            }
        };
        Problem::Io(error.kind(), message)
    }
}

/// "a FIFO", "a directory", ...: what a non-regular file is, for [`Problem::NotRegular`].
fn kind_of(metadata: &Metadata) -> Option<&'static str> {
    let t = metadata.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_symlink() {
        Some("a symbolic link")
    } else {
        Some("not a regular file")
    }
}

/// `root (uid 0)`, or `uid 1234` when the name is unknown.
fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("{} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

/// 1 MiB, 64 KiB, or bytes.
fn human_limit(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// A path as it is shown in messages: a path may hold any byte, the terminal must not get them.
fn shown(path: &std::path::Path) -> String {
    crate::escape::for_terminal(&path.display().to_string()).into_owned()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    /// A fresh directory for one test, removed afterwards.
    pub(crate) struct Scratch(PathBuf);

    impl Scratch {
        pub(crate) fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("wiretop-files-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("scratch directory");
            Scratch(dir)
        }

        /// `name` inside the directory (the directory itself for "").
        pub(crate) fn path(&self, name: &str) -> PathBuf {
            if name.is_empty() {
                self.0.clone()
            } else {
                self.0.join(name)
            }
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
