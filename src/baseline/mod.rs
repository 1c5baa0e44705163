//! The baseline: what is normal on this host, kept in a YAML file an operator can read and edit,
//! and the judgement of a snapshot against it (which processes are "unexpected", and why).
//!
//! # What is recorded
//!
//! `wiretop baseline save FILE` takes one snapshot and records, for every process but kernel
//! threads ([`Baseline::from_snapshot`], `record.rs`):
//!
//! - `executables`: its executable and the user running it;
//! - `listening`: each (executable, protocol, port, bound address) it listens on;
//! - `outbound`: each (executable, remote port, remote address) it connects to.
//!
//! Nothing else: no command lines (they change with every run and may hold what scrubbing
//! missed), no pids, no counts. Each list is deduplicated and sorted, so saving twice on an
//! unchanged host writes the same file, and a change is a line in a diff.
//!
//! Outbound destinations on this host (loopback, or another local process's port) are recorded
//! like remote ones. A process that starts talking to a local port it never used (a database's
//! admin port, a debugger, a freshly opened listener) is as much a change as a new remote
//! address, and on a host that runs its services behind a local proxy or sidecar most traffic is
//! local: leaving it out would leave most of the host unwatched. Only the end that connected
//! (the client) records a destination; the end that accepted is covered by its `listening`
//! entry, and its peers' ports are ephemeral.
//!
//! # Who a process is
//!
//! A process is known by its executable's path as the kernel reports it (`exe`), so a process
//! whose executable was replaced since it started (`/usr/sbin/sshd (deleted)` after an upgrade)
//! is unexpected until it restarts or that line is accepted. When the path cannot be read
//! (another user's process without privileges, a zombie) the process is known by its name (the
//! kernel's 15-byte `comm`): it matches an entry whose `exe` is that name, or a path whose file
//! name begins with it as the kernel shortens it, so a baseline saved as root still applies to
//! an unprivileged run. Its user is its user name, or its uid when the name is unknown; an
//! entry's `user` may give either.
//!
//! # Matching ([`Baseline::judge`], `judge.rs`)
//!
//! A process is unexpected when its executable is not listed for its user, when it listens on a
//! (protocol, port, address) not listed for its executable, or when it connects to an (address,
//! port) not listed for its executable. Kernel threads are never unexpected. `*`, or leaving a
//! field out, matches any value in every field but `exe` (which is always exact); addresses may
//! also be CIDR blocks (`10.0.0.0/8`; `0.0.0.0/0` for any IPv4 address, `::/0` for any address
//! at all, as an IPv4 address also counts as its mapped IPv6 form `::ffff:a.b.c.d`, the way the
//! filter's `remote:` matches).
//!
//! # The file (`file.rs`, `render.rs`)
//!
//! Documented YAML with a header explaining each section and how to add a line, `version: 1`,
//! one entry per line. Written 0600 through [`crate::files::open_private_replace`] (never
//! through a symbolic link, never into another user's file); read through
//! [`crate::files::read_capped`] and the configuration's YAML reader, so a mistake is reported
//! as `FILE:line:column: key: what is wrong`, and a newer version is refused by name.

mod file;
mod judge;
mod pattern;
mod record;
mod render;

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;

use crate::model::{unmap, Connection, Network, Process, Proto, Role};

pub use file::{load, save, BaselineError};
pub use judge::{Judgement, Verdict};
pub use pattern::Wildcard;

/// The layout version of the file this build reads and writes.
pub const BASELINE_VERSION: u32 = 1;

/// What is normal on a host: the executables that run there, the ports they listen on and the
/// destinations they connect to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Baseline {
    /// When the baseline was saved, ms since the epoch on the scale process start times are
    /// counted on ([`crate::model::Snapshot::start_clock_ms`]): processes that started later
    /// are `new`. None for a file written by hand without `saved_at`.
    pub saved_at_ms: Option<u64>,
    /// Executables and the users that run them.
    pub executables: Vec<ExecutableEntry>,
    /// Ports executables listen on.
    pub listening: Vec<ListeningEntry>,
    /// Destinations executables connect to.
    pub outbound: Vec<OutboundEntry>,
}

/// `executables`: this executable may run as this user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutableEntry {
    /// A path, or a process name for processes whose executable could not be read.
    pub exe: String,
    /// A user name or uid; `*` (or left out) for any.
    #[serde(default)]
    pub user: Wildcard<String>,
}

/// `listening`: this executable may listen on this protocol, port and address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListeningEntry {
    /// As in [`ExecutableEntry::exe`].
    pub exe: String,
    /// `tcp` or `udp`; `*` (or left out) for either.
    #[serde(default)]
    pub proto: Wildcard<Proto>,
    /// The port; `*` (or left out) for any.
    #[serde(default)]
    pub port: Wildcard<u16>,
    /// The bound address (`0.0.0.0` and `::` mean every address) or a CIDR block containing it;
    /// `*` (or left out) for any.
    #[serde(default)]
    pub address: Wildcard<Network>,
}

/// `outbound`: this executable may connect to this port at this address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundEntry {
    /// As in [`ExecutableEntry::exe`].
    pub exe: String,
    /// The remote port; `*` (or left out) for any.
    #[serde(default)]
    pub port: Wildcard<u16>,
    /// The remote address or a CIDR block containing it; `*` (or left out) for any.
    #[serde(default)]
    pub address: Wildcard<Network>,
}

/// How the baseline names a process: its executable's path, or its name when the path could not
/// be read (kernel threads are never looked up).
fn exe_of(process: &Process) -> &str {
    process.exe.as_deref().unwrap_or(&process.name)
}

/// How the baseline names a process's user: the user name, or the uid when it has none.
fn user_of(process: &Process) -> Cow<'_, str> {
    match &process.user {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(process.uid.to_string()),
    }
}

/// Where a connection goes, when this process opened it: the remote address (an IPv4-mapped
/// address as IPv4) and port. None for the accepting end, whose peer's port is ephemeral.
fn destination(connection: &Connection) -> Option<(IpAddr, u16)> {
    let addr = unmap(connection.remote_addr);
    let opened_here = connection.role != Some(Role::Server);
    (opened_here && connection.remote_port != 0 && !addr.is_unspecified())
        .then_some((addr, connection.remote_port))
}

/// The baseline written in `text`, for tests that state one as an operator would write it.
#[cfg(test)]
fn load_text(text: &str) -> Baseline {
    match file::parse(std::path::Path::new("test.yaml"), text) {
        Ok(baseline) => baseline,
        Err(e) => panic!("{e}\n{text}"),
    }
}
