//! Why a process is "unexpected": what about it a baseline (`crate::baseline`) does not list.
//! The type lives here, with the rest of the snapshot's contract, because it is part of every
//! process in the JSON (`unexpected_reasons`); the baseline module produces it.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::socket::Proto;

/// One thing about a process that the baseline given with `--baseline FILE` does not list.
/// Ordered (executable, then listening, then outbound) so a process's reasons sort stably.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnexpectedReason {
    /// Its executable is not listed for its user in the baseline's `executables`.
    Executable {
        /// The executable's path; the process's name when the path could not be read (another
        /// user's process without privileges, a zombie).
        exe: String,
        /// The owner's user name; the uid, as text, when it has no name.
        user: String,
    },
    /// It listens on a port the baseline's `listening` does not list for its executable.
    Listening {
        /// Transport protocol.
        proto: Proto,
        /// Bound address (`0.0.0.0` or `::` for every address).
        address: IpAddr,
        /// Bound port.
        port: u16,
    },
    /// It connects to a destination the baseline's `outbound` does not list for its executable
    /// (destinations on this host, loopback included, count).
    Outbound {
        /// Transport protocol of the connection (the baseline does not distinguish them).
        proto: Proto,
        /// Remote address.
        address: IpAddr,
        /// Remote port.
        port: u16,
    },
}
