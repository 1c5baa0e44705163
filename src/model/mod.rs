//! The snapshot: plain data shared by the explorer, the JSON output and the uplink.
//!
//! Everything here is pure: no /proc, no terminal, no HTTP. The sampler fills these types,
//! every consumer reads them. The serialized form is a contract with users (`wiretop snapshot
//! --format json`) and backends, so every public type carries a doc comment, which also becomes
//! the description in `assets/snapshot.schema.json`.

mod assemble;
mod attribution;
mod diff;
mod events;
#[doc(hidden)]
pub mod examples;
mod filter;
mod host;
mod network;
mod new_processes;
mod process;
mod query;
pub mod remote_hosts;
mod socket;
mod traffic;
mod unexpected;

pub use assemble::{
    assemble_sockets, assemble_sockets_owned, AssembledSockets, Ownership, RowOwners,
};
pub use attribution::{Attribution, Container, ContainerRuntime, KubernetesPod};
pub use diff::{diff_snapshots, process_event};
pub use events::{EventSource, ExitStatus, LifecycleEvent, LifecycleKind};
pub use filter::{Filter, FilterError};
pub use host::{
    Collection, CollectionPhases, Counts, Host, HostCpu, LoadAverage, Memory, NetworkIo,
};
pub use network::{Network, NetworkError};
pub use process::{CpuTime, CpuUsage, DiskIo, Process, ProcessMemory, ProcessState};
pub use query::ProcessQuery;
pub use socket::{
    unmap, Connection, Direction, Family, Listening, Proto, Role, SocketEntry, SocketState,
    UnownedSocket,
};
pub use traffic::{net_rates, net_totals, ClosedConnection, TcpCounters, Traffic, TrafficGap};
pub use unexpected::UnexpectedReason;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the snapshot layout. Bumped when a field changes meaning or is removed; adding an
/// optional field does not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// One consistent picture of the host: every process the sampler could see, the sockets each
/// owns, and the sockets nobody (visible) owns. Immutable once published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Snapshot {
    /// Layout version of this document (see `SCHEMA_VERSION`).
    pub schema_version: u32,
    /// Host-wide figures: identity, load, memory, CPU split and counts.
    pub host: Host,
    /// Every visible process, sorted by pid.
    pub processes: Vec<Process>,
    /// Sockets with no visible owner: TIME_WAIT and half-open sockets (inode 0, owned by the
    /// kernel), and sockets whose owner this run may not inspect.
    pub unowned_sockets: Vec<UnownedSocket>,
    /// How this snapshot was collected: cost, coverage and anything that could not be read.
    pub collection: Collection,
    /// What happened since the previous snapshot of the same sampler, in the order it
    /// happened for each process (sorted by pid). Empty for a sampler's first snapshot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<LifecycleEvent>,
}

impl Snapshot {
    /// The process with this pid, if present.
    pub fn process(&self, pid: u32) -> Option<&Process> {
        self.processes
            .binary_search_by_key(&pid, |p| p.pid)
            .ok()
            .and_then(|i| self.processes.get(i))
    }
}
