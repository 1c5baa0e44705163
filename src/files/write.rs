//! Opening a file wiretop writes (the NDJSON sink, baselines, recordings) so that it cannot
//! be turned into a write to someone else's file.

use std::fs::{File, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::{kind_of, shown, Problem};

/// The mode of every file wiretop creates: its snapshots list every process's sockets.
pub const PRIVATE_MODE: u32 = 0o600;

/// A file that was not opened for writing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeFile {
    pub path: PathBuf,
    pub problem: Problem,
}

impl UnsafeFile {
    /// True when the file itself is unacceptable (a link, someone else's file, a FIFO...), which
    /// trying again will not change; false when the system failed (a missing directory, a full
    /// disk, permission denied), which may pass.
    pub fn is_refusal(&self) -> bool {
        !matches!(self.problem, Problem::Io(..))
    }
}

impl std::fmt::Display for UnsafeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.is_refusal() {
            "refusing to write"
        } else {
            "cannot write"
        };
        write!(f, "{verb} {}: {}", shown(&self.path), self.problem)
    }
}

impl std::error::Error for UnsafeFile {}

/// Opens `path` for appending, creating it with mode 0600 if it does not exist.
///
/// Refused: a path with a symbolic link anywhere in it (the kernel resolves it with
/// `RESOLVE_NO_SYMLINKS`, so neither the file nor a directory on its way can be swapped for a
/// link to someone else's file; on kernels before 5.6, which lack that, only the last component
/// is checked), a file that is not regular (a FIFO, a device, a socket: seen with lstat before
/// opening, so a device is never opened, and opened non-blocking so a FIFO swapped in cannot
/// hang the caller), an existing file owned by anyone but the effective user, one with more than
/// one hard link (its other name could be `/etc/shadow`), and one that others may read or write
/// (it holds every process's sockets). Ownership, type, links and mode are read from the opened
/// descriptor. A new file gets mode 0600 explicitly, whatever the umask.
pub fn open_private_append(path: &Path) -> Result<File, UnsafeFile> {
    open_private(path, Access::Append)
}

/// Opens `path` as [`open_private_append`] does, with every check, readable as well: for a
/// file that is appended to and read back (a recording, whose last incomplete block is cut
/// off before new ones follow it).
pub fn open_private_read_append(path: &Path) -> Result<File, UnsafeFile> {
    open_private(path, Access::ReadAppend)
}

/// How a private file is opened.
#[derive(Clone, Copy)]
enum Access {
    Append,
    ReadAppend,
}

fn open_private(path: &Path, access: Access) -> Result<File, UnsafeFile> {
    let refuse = |problem| UnsafeFile {
        path: path.to_path_buf(),
        problem,
    };
    // A file that vanishes between "it exists" and opening it is simply created on the next
    // round; a few rounds end any race someone could keep up.
    for _ in 0..3 {
        match open(path, true, access) {
            Ok(file) => {
                // The umask may have taken bits away (0400 under umask 0200): set exactly 0600.
                file.set_permissions(Permissions::from_mode(PRIVATE_MODE))
                    .map_err(|e| refuse(Problem::io(&e)))?;
                return Ok(file);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(refuse(open_problem(path, &e))),
        }
        if let Ok(metadata) = std::fs::symlink_metadata(path) {
            if let Some(kind) = kind_of(&metadata) {
                return Err(refuse(if metadata.file_type().is_symlink() {
                    Problem::Symlink
                } else {
                    Problem::NotRegular(kind)
                }));
            }
        }
        match open(path, false, access) {
            Ok(file) => return check_existing(file).map_err(refuse),
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(refuse(open_problem(path, &e))),
        }
    }
    Err(refuse(Problem::Io(
        ErrorKind::Other,
        "it keeps being replaced while it is opened".to_owned(),
    )))
}

/// Opens `path` as [`open_private_append`] does, with every check, then empties it: for a file
/// that is rewritten whole (a baseline). The file is emptied only once it has passed the checks
/// on the opened descriptor, so a refused file keeps its contents; writes land at the start, as
/// the descriptor appends.
pub fn open_private_replace(path: &Path) -> Result<File, UnsafeFile> {
    let file = open_private_append(path)?;
    file.set_len(0).map_err(|e| UnsafeFile {
        path: path.to_path_buf(),
        problem: Problem::io(&e),
    })?;
    Ok(file)
}

/// Opens `path` to append, never through a symbolic link; `create`: only a new file, 0600.
fn open(path: &Path, create: bool, access: Access) -> std::io::Result<File> {
    use rustix::fs::{Mode, OFlags, ResolveFlags, CWD};
    let read_write = match access {
        Access::Append => OFlags::WRONLY,
        Access::ReadAppend => OFlags::RDWR,
    };
    let mut flags = read_write
        | OFlags::APPEND
        | OFlags::NOFOLLOW
        | OFlags::NONBLOCK
        | OFlags::NOCTTY
        | OFlags::CLOEXEC;
    if create {
        flags |= OFlags::CREATE | OFlags::EXCL;
    }
    // openat2 refuses a mode without O_CREAT.
    let mode = if create {
        Mode::from_bits_truncate(PRIVATE_MODE)
    } else {
        Mode::empty()
    };
    match rustix::fs::openat2(CWD, path, flags, mode, ResolveFlags::NO_SYMLINKS) {
        Ok(fd) => Ok(File::from(fd)),
        // Before Linux 5.6: the last component is still never followed (O_NOFOLLOW).
        Err(rustix::io::Errno::NOSYS) => rustix::fs::open(path, flags, mode)
            .map(File::from)
            .map_err(std::io::Error::from),
        Err(errno) => Err(std::io::Error::from(errno)),
    }
}

/// An existing file may be appended to only if it is a regular file of ours, with one name,
/// that nobody else may read or write.
fn check_existing(file: File) -> Result<File, Problem> {
    let metadata = file.metadata().map_err(|e| Problem::io(&e))?;
    if let Some(kind) = kind_of(&metadata) {
        return Err(Problem::NotRegular(kind));
    }
    let us = nix::unistd::geteuid().as_raw();
    if metadata.uid() != us {
        return Err(Problem::OwnedByOther {
            owner: metadata.uid(),
            us,
        });
    }
    if metadata.nlink() > 1 {
        return Err(Problem::HardLinks(metadata.nlink()));
    }
    let mode = metadata.mode() & 0o7777;
    if mode & 0o7077 != 0 {
        return Err(Problem::OpenToOthers(mode));
    }
    Ok(file)
}

/// What a failed open means. The path is looked at again only to word the message (a symlink
/// gives ELOOP, a FIFO without a reader ENXIO); the refusal itself came from the open.
fn open_problem(path: &Path, error: &std::io::Error) -> Problem {
    match error.raw_os_error() {
        Some(libc::ELOOP) => match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => Problem::Symlink,
            _ => Problem::SymlinkOnPath,
        },
        Some(libc::ENXIO | libc::ENODEV | libc::EISDIR | libc::ETXTBSY) => {
            match std::fs::symlink_metadata(path)
                .ok()
                .and_then(|m| kind_of(&m))
            {
                Some(kind) => Problem::NotRegular(kind),
                None => Problem::io(error),
            }
        }
        Some(libc::ENOENT) => Problem::Io(
            ErrorKind::NotFound,
            "its directory does not exist".to_owned(),
        ),
        _ => Problem::io(error),
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;
    use std::io::Write;
    use std::os::unix::fs::{symlink, OpenOptionsExt};

    use super::*;
    use crate::files::tests::Scratch;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().mode() & 0o7777
    }

    // The umask is process-wide and these tests run in parallel threads: umask 000 and 0277 are
    // tested on the binary, in a child process (tests/files.rs).
    #[test]
    fn a_new_file_is_created_0600_and_then_appended_to() {
        let dir = Scratch::new("write-new");
        let path = dir.path("out.ndjson");
        open_private_append(&path)
            .unwrap()
            .write_all(b"one\n")
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        open_private_append(&path)
            .unwrap()
            .write_all(b"two\n")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\ntwo\n");
    }

    #[test]
    fn a_replaced_file_holds_only_what_was_written_last() {
        let dir = Scratch::new("write-replace");
        let path = dir.path("baseline.yaml");
        open_private_replace(&path)
            .unwrap()
            .write_all(b"a longer first version\n")
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        open_private_replace(&path)
            .unwrap()
            .write_all(b"second\n")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second\n");
        // A refused file is left as it was: the checks come before the emptying.
        let target = dir.path("target");
        std::fs::write(&target, b"precious\n").unwrap();
        let link = dir.path("link.yaml");
        symlink(&target, &link).unwrap();
        assert_eq!(
            open_private_replace(&link).unwrap_err().problem,
            Problem::Symlink
        );
        assert_eq!(std::fs::read(&target).unwrap(), b"precious\n");
    }

    #[test]
    fn a_symlink_is_never_written_through() {
        let dir = Scratch::new("write-link");
        let target = dir.path("target");
        std::fs::write(&target, b"precious\n").unwrap();
        let link = dir.path("out.ndjson");
        symlink(&target, &link).unwrap();
        let dangling = dir.path("dangling.ndjson");
        symlink(dir.path("would-be-created"), &dangling).unwrap();
        for path in [&link, &dangling] {
            let error = open_private_append(path).unwrap_err();
            assert_eq!(error.problem, Problem::Symlink);
            assert!(error.is_refusal());
            assert_eq!(
                error.to_string(),
                format!(
                    "refusing to write {}: it is a symbolic link",
                    path.display()
                )
            );
        }
        assert_eq!(std::fs::read(&target).unwrap(), b"precious\n");
        assert!(!dir.path("would-be-created").exists());
    }

    /// A directory on the way swapped for a link (as a user who owns a directory in the
    /// path could do while wiretop runs) leads nowhere: nothing is written where it points.
    #[test]
    fn a_symlink_anywhere_on_the_path_is_never_followed() {
        let dir = Scratch::new("write-dirlink");
        std::fs::create_dir(dir.path("real")).unwrap();
        std::fs::write(dir.path("real/out.ndjson"), b"precious\n").unwrap();
        symlink(dir.path("real"), dir.path("link")).unwrap();
        for name in ["link/out.ndjson", "link/new.ndjson"] {
            let error = open_private_append(&dir.path(name)).unwrap_err();
            assert_eq!(error.problem, Problem::SymlinkOnPath, "{name}");
            assert!(error.is_refusal());
        }
        assert_eq!(
            std::fs::read(dir.path("real/out.ndjson")).unwrap(),
            b"precious\n"
        );
        assert!(!dir.path("real/new.ndjson").exists());
    }

    #[test]
    fn an_existing_file_others_may_read_or_write_is_refused() {
        let dir = Scratch::new("write-mode");
        for mode in [0o644, 0o666, 0o4600, 0o620] {
            let path = dir.path(&format!("out-{mode:o}.ndjson"));
            std::fs::write(&path, b"kept\n").unwrap();
            std::fs::set_permissions(&path, Permissions::from_mode(mode)).unwrap();
            let error = open_private_append(&path).unwrap_err();
            assert_eq!(error.problem, Problem::OpenToOthers(mode), "{mode:o}");
            assert_eq!(std::fs::read(&path).unwrap(), b"kept\n");
        }
        let path = dir.path("out-600.ndjson");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert!(open_private_append(&path).is_ok());
    }

    #[test]
    fn a_second_hard_link_is_refused() {
        let dir = Scratch::new("write-hardlink");
        let precious = dir.path("precious");
        std::fs::write(&precious, b"keep\n").unwrap();
        let alias = dir.path("out.ndjson");
        std::fs::hard_link(&precious, &alias).unwrap();
        let error = open_private_append(&alias).unwrap_err();
        assert_eq!(error.problem, Problem::HardLinks(2));
        assert_eq!(std::fs::read(&precious).unwrap(), b"keep\n");
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = Scratch::new("write-special");
        let fifo = dir.path("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        // With a reader the open succeeds; the type check still refuses it.
        let reader = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
            .unwrap();
        for (path, kind) in [
            (fifo.clone(), "a FIFO"),
            (PathBuf::from("/dev/null"), "a character device"),
            (dir.path(""), "a directory"),
        ] {
            let error = open_private_append(&path).unwrap_err();
            assert_eq!(
                error.problem,
                Problem::NotRegular(kind),
                "{}",
                path.display()
            );
        }
        drop(reader);
        // Without a reader, opening for writing fails at once (ENXIO) instead of blocking.
        let error = open_private_append(&fifo).unwrap_err();
        assert_eq!(error.problem, Problem::NotRegular("a FIFO"));
    }

    #[test]
    fn a_file_owned_by_another_user_is_refused() {
        // Run as root (as CI does): chown needs it.
        let dir = Scratch::new("write-foreign");
        let path = dir.path("out.ndjson");
        std::fs::write(&path, b"theirs\n").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        std::os::unix::fs::chown(&path, Some(65534), Some(65534))
            .expect("chown needs root: run the tests as root, as CI does");
        let error = open_private_append(&path).unwrap_err();
        assert!(
            matches!(error.problem, Problem::OwnedByOther { owner: 65534, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("it belongs to nobody (uid 65534)"),
            "{error}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"theirs\n");
    }

    #[test]
    fn a_missing_directory_is_a_failure_not_a_refusal() {
        let error = open_private_append(Path::new("/nonexistent/wiretop/out.ndjson")).unwrap_err();
        assert!(!error.is_refusal());
        assert_eq!(
            error.to_string(),
            "cannot write /nonexistent/wiretop/out.ndjson: its directory does not exist"
        );
    }
}
