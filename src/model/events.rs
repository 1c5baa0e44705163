//! Events: what happened on the host between two snapshots, one model for every consumer (the
//! explorer's events pane, `wiretop events`, the uplink's lifecycle logs).
//!
//! Most events are recovered by comparing consecutive snapshots (`diff.rs`); the sampler adds
//! what only the kernel saw (a process that lived between two samples, the exact exit status)
//! and what needs memory of the past (a first connection to a destination). Each event carries
//! enough of its process to make sense once the snapshots are gone.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Proto;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LifecycleKind {
    /// The process started (or was first seen: absent from the previous snapshot).
    Started,
    /// The process exited (or was no longer seen).
    Exited,
    /// The process now accepts connections or datagrams on this local address.
    BeganListening {
        /// Transport protocol.
        proto: Proto,
        /// Bound address (`0.0.0.0` or `::` for every address).
        addr: IpAddr,
        /// Bound port.
        port: u16,
    },
    /// The process no longer listens on this local address.
    StoppedListening {
        /// Transport protocol.
        proto: Proto,
        /// Bound address.
        addr: IpAddr,
        /// Bound port.
        port: u16,
    },
    /// The process opened a connection to a remote address and port it had not used since
    /// wiretop started (outbound connections only: a server's clients come from everywhere).
    FirstConnection {
        /// Transport protocol.
        proto: Proto,
        /// Remote address.
        addr: IpAddr,
        /// Remote port.
        port: u16,
    },
    /// The process's user changed without an exec (setuid).
    UserChanged {
        /// The user before, when it had a name.
        from: Option<String>,
        /// The user now.
        to: Option<String>,
    },
    /// The process exec'd another program (same pid and start time, another executable).
    ExeChanged {
        /// The executable before, when it could be read.
        from: Option<String>,
        /// The executable now.
        to: Option<String>,
    },
}

impl LifecycleKind {
    /// Position within one process's events, in the order they happen: a process starts
    /// before it execs, listens or connects, and its sockets close as it exits.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            Self::Started => 0,
            Self::ExeChanged { .. } => 1,
            Self::UserChanged { .. } => 2,
            Self::BeganListening { .. } => 3,
            Self::FirstConnection { .. } => 4,
            Self::StoppedListening { .. } => 5,
            Self::Exited => 6,
        }
    }

    /// The address of a socket event, for ordering events of the same rank.
    pub(crate) fn endpoint(&self) -> Option<(Proto, IpAddr, u16)> {
        match *self {
            Self::BeganListening { proto, addr, port }
            | Self::StoppedListening { proto, addr, port }
            | Self::FirstConnection { proto, addr, port } => Some((proto, addr, port)),
            _ => None,
        }
    }

    /// A short name for people and filters: `started`, `exited`, `listen`, `unlisten`,
    /// `connect`, `setuid`, `exec`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Exited => "exited",
            Self::BeganListening { .. } => "listen",
            Self::StoppedListening { .. } => "unlisten",
            Self::FirstConnection { .. } => "connect",
            Self::UserChanged { .. } => "setuid",
            Self::ExeChanged { .. } => "exec",
        }
    }

    /// What the event says beyond its kind, in a few words (`tcp 0.0.0.0:80`, `root -> app`).
    pub fn details(&self) -> String {
        let socket = |proto: &Proto, addr: &IpAddr, port: &u16| {
            let proto = match proto {
                Proto::Tcp => "tcp",
                Proto::Udp => "udp",
            };
            match addr {
                IpAddr::V4(v4) => format!("{proto} {v4}:{port}"),
                IpAddr::V6(v6) => format!("{proto} [{v6}]:{port}"),
            }
        };
        let named = |name: &Option<String>| name.clone().unwrap_or_else(|| "?".to_owned());
        match self {
            Self::Started | Self::Exited => String::new(),
            Self::BeganListening { proto, addr, port }
            | Self::StoppedListening { proto, addr, port }
            | Self::FirstConnection { proto, addr, port } => socket(proto, addr, port),
            Self::UserChanged { from, to } | Self::ExeChanged { from, to } => {
                format!("{} -> {}", named(from), named(to))
            }
        }
    }
}

/// How a process ended, as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// It called exit with this code.
    Code(i32),
    /// A signal ended it (9 for SIGKILL).
    Signal(i32),
}

/// Who saw an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    /// Two consecutive snapshots differ: the time is the later snapshot's.
    #[default]
    Snapshots,
    /// The kernel's process events connector reported it as it happened.
    Kernel,
}

/// One event, with enough of its process to make sense on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LifecycleEvent {
    /// What happened.
    #[serde(flatten)]
    pub kind: LifecycleKind,
    /// Process id.
    pub pid: u32,
    /// Parent process id, when known.
    #[serde(default)]
    pub ppid: Option<u32>,
    /// Short name (`comm`).
    pub name: String,
    /// Arguments, secrets already scrubbed by the sampler.
    pub cmdline: Vec<String>,
    /// User name of the owner, when the uid has one.
    pub user: Option<String>,
    /// When the process started, unix time in milliseconds; with `pid` it names the process.
    pub start_time_ms: u64,
    /// When it happened (kernel events) or was observed (the later snapshot's taken_at_ms),
    /// unix time in milliseconds.
    pub observed_at_ms: u64,
    /// For `exited`, how the process ended, when the kernel said.
    #[serde(default)]
    pub exit: Option<ExitStatus>,
    /// For `exited`, how long the process ran, in milliseconds, when its start and end are
    /// known.
    #[serde(default)]
    pub runtime_ms: Option<u64>,
    /// The process lived and ended between two snapshots: no snapshot ever listed it.
    #[serde(default)]
    pub short_lived: bool,
    /// Who saw the event.
    #[serde(default)]
    pub source: EventSource,
}

impl LifecycleEvent {
    /// What the event says beyond its kind and process, as one line for people: the kind's
    /// details ([`LifecycleKind::details`]), how an exit ended and after how long, and for a
    /// start (or a process no snapshot listed) its command line. Not yet safe for a terminal:
    /// names and arguments come from processes.
    pub fn details(&self) -> String {
        let mut parts = vec![self.kind.details()];
        if let Some(exit) = self.exit {
            parts.push(match exit {
                ExitStatus::Code(code) => format!("exit {code}"),
                ExitStatus::Signal(signal) => format!("signal {signal}"),
            });
        }
        if let Some(runtime) = self.runtime_ms {
            parts.push(format!("ran {runtime} ms"));
        }
        if self.short_lived || self.kind == LifecycleKind::Started {
            parts.push(self.cmdline.join(" "));
        }
        parts.retain(|part| !part.is_empty());
        parts.join("  ")
    }

    /// The port a socket event is about (listening, stopped listening, first connection).
    pub fn port(&self) -> Option<u16> {
        self.kind.endpoint().map(|(_, _, port)| port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: LifecycleKind) -> LifecycleEvent {
        LifecycleEvent {
            kind,
            pid: 4242,
            ppid: Some(1),
            name: "curl".to_owned(),
            cmdline: vec!["curl".to_owned(), "-s".to_owned()],
            user: Some("app".to_owned()),
            start_time_ms: 1_000,
            observed_at_ms: 2_000,
            exit: None,
            runtime_ms: None,
            short_lived: false,
            source: EventSource::Snapshots,
        }
    }

    #[test]
    fn details_join_what_each_event_knows() {
        assert_eq!(event(LifecycleKind::Started).details(), "curl -s");
        let mut exited = event(LifecycleKind::Exited);
        assert_eq!(
            exited.details(),
            "",
            "an exit nobody timed says nothing more"
        );
        exited.exit = Some(ExitStatus::Code(3));
        exited.runtime_ms = Some(12);
        assert_eq!(exited.details(), "exit 3  ran 12 ms");
        exited.short_lived = true;
        exited.exit = Some(ExitStatus::Signal(9));
        assert_eq!(exited.details(), "signal 9  ran 12 ms  curl -s");
        let listen = event(LifecycleKind::BeganListening {
            proto: Proto::Tcp,
            addr: [127, 0, 0, 1].into(),
            port: 8080,
        });
        assert_eq!(listen.details(), "tcp 127.0.0.1:8080");
        assert_eq!(listen.port(), Some(8080));
        assert_eq!(exited.port(), None);
    }
}
