//! Parsed terms and how each is tested against a process.
//!
//! Text held here is already lowercased by the parser, so matching only lowercases the process
//! side.

use crate::model::Network;
use crate::model::{Connection, Process, ProcessState, Proto, SocketState};

/// One condition, possibly negated.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Term {
    pub(super) negated: bool,
    pub(super) kind: TermKind,
}

/// What a term tests.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum TermKind {
    /// A bare word: free-text search.
    Text(TextQuery),
    /// Listens on, or has a connection at either end with, a port in `low..=high`.
    Port {
        low: u16,
        high: u16,
    },
    /// Owner name equals `name`, or the uid equals `uid`.
    User {
        name: String,
        uid: Option<u32>,
    },
    Pid(u32),
    Ppid(u32),
    /// Name contains this.
    Name(String),
    Socket(SocketState),
    /// Any of these scheduler states (`stopped` covers both kinds of stop).
    Process(&'static [ProcessState]),
    Remote(Network),
    PeerPid(u32),
    /// A peer's name contains this.
    PeerName(String),
    /// The process is new: started since wiretop launched (`Process::new`).
    New,
    /// Outside the baseline given with `--baseline` (none is, without one).
    Unexpected,
    /// Its systemd unit contains this.
    Unit(String),
    /// Its container's name contains this, or its id starts with it.
    Container(String),
    /// Its pod's name contains this, or (with a `/`) `namespace/pod` does.
    Pod(String),
    /// Its container's image contains this.
    Image(String),
    Compare {
        metric: Metric,
        op: Op,
        value: f64,
    },
    /// At least one connection's figure compares so, as `port:` and `remote:` look for any
    /// connection: a process with one slow connection among fast ones is what `rtt>100ms` is
    /// asked to find, and a sum or average over connections would hide it.
    AnyConnection {
        metric: ConnectionMetric,
        op: Op,
        value: f64,
    },
}

/// A bare word, with its meaning as a port worked out once at parse time.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TextQuery {
    pub(super) text: String,
    /// The word read as a listening port (`8080` or `:8080`).
    pub(super) port: Option<u16>,
}

/// A figure a comparison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Metric {
    CpuPercent,
    RssBytes,
    MemPercent,
    Threads,
    Connections,
    Fds,
    /// TCP bytes per second sent and received together.
    NetBytesPerSec,
    NetSendBytesPerSec,
    NetRecvBytesPerSec,
}

/// A figure of one connection that a comparison reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConnectionMetric {
    /// Smoothed round-trip time, milliseconds.
    RttMs,
    /// Segments retransmitted over the connection's life.
    Retransmits,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
            Self::Eq => left == right,
            Self::Ne => left != right,
        }
    }
}

impl Term {
    pub(super) fn matches(&self, process: &Process) -> bool {
        self.kind.matches(process) != self.negated
    }
}

impl TermKind {
    fn matches(&self, p: &Process) -> bool {
        match self {
            Self::Text(query) => query.matches(p),
            Self::Port { low, high } => {
                let wanted = |port: u16| (*low..=*high).contains(&port);
                p.listening.iter().any(|l| wanted(l.port))
                    || p.connections
                        .iter()
                        .any(|c| wanted(c.local_port) || wanted(c.remote_port))
            }
            Self::User { name, uid } => {
                p.user
                    .as_deref()
                    .is_some_and(|user| user.to_lowercase() == *name)
                    || *uid == Some(p.uid)
            }
            Self::Pid(pid) => p.pid == *pid,
            Self::Ppid(ppid) => p.ppid == *ppid,
            Self::Name(needle) => contains_folded(&p.name, needle),
            Self::Socket(state) => holds_socket_in(p, *state),
            Self::Process(states) => states.contains(&p.state),
            Self::Remote(network) => p
                .connections
                .iter()
                .any(|c| network.contains(c.remote_addr)),
            Self::PeerPid(pid) => p.connections.iter().any(|c| c.peer_pid == Some(*pid)),
            Self::New => p.new,
            Self::Unexpected => p.unexpected == Some(true),
            Self::Unit(needle) => p
                .attribution
                .systemd_unit
                .as_deref()
                .is_some_and(|unit| contains_folded(unit, needle)),
            Self::Container(needle) => p.attribution.container.as_ref().is_some_and(|c| {
                c.name
                    .as_deref()
                    .is_some_and(|n| contains_folded(n, needle))
                    || c.id.to_lowercase().starts_with(needle.as_str())
            }),
            Self::Pod(needle) => p.attribution.k8s.as_ref().is_some_and(|k8s| {
                let Some(pod) = k8s.pod.as_deref() else {
                    return false;
                };
                // `prod/checkout` names the pod in its namespace; a bare word only the pod.
                match needle.split_once('/') {
                    Some((namespace, name)) => {
                        k8s.namespace
                            .as_deref()
                            .is_some_and(|ns| ns.eq_ignore_ascii_case(namespace))
                            && contains_folded(pod, name)
                    }
                    None => contains_folded(pod, needle),
                }
            }),
            Self::Image(needle) => p.attribution.container.as_ref().is_some_and(|c| {
                c.image
                    .as_deref()
                    .is_some_and(|image| contains_folded(image, needle))
            }),
            Self::PeerName(needle) => p.connections.iter().any(|c| {
                c.peer_name
                    .as_deref()
                    .is_some_and(|n| contains_folded(n, needle))
            }),
            Self::Compare { metric, op, value } => {
                // An unknown figure (no earlier CPU reading, unreadable fds) satisfies no
                // comparison: "cpu<1" must not list processes whose CPU use nobody knows.
                metric
                    .read(p)
                    .is_some_and(|figure| op.holds(figure, *value))
            }
            // Likewise per connection: one whose figure is unknown (UDP, TIME_WAIT, a namespace
            // read from /proc) counts as neither above nor below.
            Self::AnyConnection { metric, op, value } => p.connections.iter().any(|c| {
                metric
                    .read(c)
                    .is_some_and(|figure| op.holds(figure, *value))
            }),
        }
    }
}

impl TextQuery {
    fn matches(&self, p: &Process) -> bool {
        let needle = self.text.as_str();
        if contains_folded(&p.name, needle)
            || p.user
                .as_deref()
                .is_some_and(|u| contains_folded(u, needle))
            || self
                .port
                .is_some_and(|port| p.listening.iter().any(|l| l.port == port))
        {
            return true;
        }
        // Only digits can occur in a pid, so skip formatting it for any other word.
        if needle.bytes().all(|b| b.is_ascii_digit()) && p.pid.to_string().contains(needle) {
            return true;
        }
        // A word with a space can only match across arguments, so only then build the joined
        // command line; otherwise each argument is searched as it is.
        if needle.contains(' ') {
            contains_folded(&p.cmdline.join(" "), needle)
        } else {
            p.cmdline.iter().any(|arg| contains_folded(arg, needle))
        }
    }
}

impl Metric {
    /// The figure, or None when the snapshot does not know it.
    fn read(self, p: &Process) -> Option<f64> {
        match self {
            Self::CpuPercent => p.cpu.map(|cpu| cpu.total_pct),
            Self::RssBytes => Some(p.memory.rss_bytes as f64),
            Self::MemPercent => Some(p.memory.percent),
            Self::Threads => Some(f64::from(p.threads)),
            Self::Connections => Some(p.connections.len() as f64),
            Self::Fds => p.fd_count.map(f64::from),
            Self::NetBytesPerSec => p.net_bytes_per_sec(),
            Self::NetSendBytesPerSec => p.net_send_bytes_per_sec,
            Self::NetRecvBytesPerSec => p.net_recv_bytes_per_sec,
        }
    }
}

impl ConnectionMetric {
    /// The connection's figure, or None when it was not measured.
    fn read(self, c: &Connection) -> Option<f64> {
        match self {
            Self::RttMs => c.traffic.rtt_ms,
            Self::Retransmits => c.traffic.retransmits.map(f64::from),
        }
    }
}

/// Whether the process holds a socket in `state`. Listening sockets are kept apart from
/// connections in the model and carry no state, so LISTEN means "has a listening socket" (a
/// bound UDP socket too, as `ss -l` counts it) and UNCONN means "has a bound UDP socket".
fn holds_socket_in(p: &Process, state: SocketState) -> bool {
    let listening = match state {
        SocketState::Listen => !p.listening.is_empty(),
        SocketState::Unconn => p.listening.iter().any(|l| l.proto == Proto::Udp),
        _ => false,
    };
    listening || p.connections.iter().any(|c| c.state == state)
}

/// Whether `haystack` contains `needle_lower` (already lowercase), ignoring case.
pub(super) fn contains_folded(haystack: &str, needle_lower: &str) -> bool {
    // Filtering runs over every process on every keystroke and refresh; most text is ASCII, which
    // can be compared in place without allocating a lowercased copy.
    if haystack.is_ascii() && needle_lower.is_ascii() {
        let (hay, needle) = (haystack.as_bytes(), needle_lower.as_bytes());
        needle.is_empty()
            || hay
                .windows(needle.len())
                .any(|window| window.eq_ignore_ascii_case(needle))
    } else {
        haystack.to_lowercase().contains(needle_lower)
    }
}
