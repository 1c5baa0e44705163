//! Making a netlink socket inside another network namespace.
//!
//! A netlink socket answers for the namespace it was created in, wherever it is used from. So
//! a socket for another namespace is made by a short-lived thread that enters it (`setns`,
//! which needs CAP_SYS_ADMIN), makes the socket, and ends: the sampler's own threads never
//! leave their namespace. The sock_diag dump (`net.rs`) and the destroy subscriptions
//! (`sock_destroy.rs`) both open theirs this way.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

/// Why something could not be made inside a namespace.
#[derive(Debug)]
pub enum NamespaceError {
    /// A refusal that will hold (no CAP_SYS_ADMIN to enter, no CAP_NET_ADMIN to subscribe):
    /// asking again every pass would only fail again.
    Refused(String),
    /// A failure that may pass: the members exited meanwhile, out of fds, no thread.
    Passing(String),
}

/// Whether an error from the kernel is a lack of privilege.
pub fn is_refusal(error: rustix::io::Errno) -> bool {
    matches!(error, rustix::io::Errno::PERM | rustix::io::Errno::ACCESS)
}

/// Runs `make` inside network namespace `netns`, entered through the first of `pids` whose
/// namespace file still names it (a pid may have exited and been reused since it was read).
pub fn make_in<T, F>(netns: u64, pids: &[u32], make: F) -> Result<T, NamespaceError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, NamespaceError> + Send + 'static,
{
    let mut last = format!("no process left in network namespace {netns}");
    for pid in pids {
        let path = format!("/proc/{pid}/ns/net");
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) => {
                last = format!("opening {path}: {error}");
                continue;
            }
        };
        if file.metadata().map(|m| m.ino()).ok() != Some(netns) {
            continue;
        }
        return make_inside(file, make);
    }
    Err(NamespaceError::Passing(last))
}

/// Runs `make` on a thread that first enters the namespace of `netns_file` (an open
/// `/proc/<pid>/ns/net`) and ends with it.
fn make_inside<T, F>(netns_file: File, make: F) -> Result<T, NamespaceError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, NamespaceError> + Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("wiretop-netns".to_owned())
        .spawn(move || {
            rustix::thread::move_into_link_name_space(
                netns_file.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .map_err(|e| {
                let reason = format!(
                    "entering the network namespace: {}",
                    std::io::Error::from(e)
                );
                if is_refusal(e) {
                    NamespaceError::Refused(reason)
                } else {
                    NamespaceError::Passing(reason)
                }
            })?;
            make()
        })
        .map_err(|e| NamespaceError::Passing(format!("starting a thread: {e}")))?;
    thread
        .join()
        .map_err(|_| NamespaceError::Passing("the namespace thread panicked".to_owned()))?
}
