//! Log records: one per socket of a snapshot (who talks to whom, which metrics cannot carry
//! without exploding cardinality), and one per lifecycle event.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::attributes::{body, double, int, network_type, string, transport};
use super::metrics::nanos;
use crate::model::{
    Connection, Direction, ExitStatus, Family, LifecycleEvent, LifecycleKind, Listening, Process,
    Role, Traffic, TrafficGap,
};

/// Event name (and body) of a connection record.
pub(super) const CONNECTION: &str = "connection";

fn record(name: &str, time_ms: u64, attributes: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        time_unix_nano: nanos(time_ms),
        // Seen when the snapshot was taken, which is also the only time known for it.
        observed_time_unix_nano: nanos(time_ms),
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".to_owned(),
        body: Some(body(name)),
        attributes,
        event_name: name.to_owned(),
        ..LogRecord::default()
    }
}

/// One record per socket of `p`, listening ones first (state `listen`). Empty when the process
/// holds none, or its sockets could not be read.
pub(super) fn connection_records(p: &Process, taken_at_ms: u64) -> Vec<LogRecord> {
    if p.unreadable.contains_key("sockets") {
        return Vec::new();
    }
    let listening = p
        .listening
        .iter()
        .map(|l| record(CONNECTION, taken_at_ms, listening_attributes(p.pid, l)));
    let connected = p
        .connections
        .iter()
        .map(|c| record(CONNECTION, taken_at_ms, connection_attributes(p.pid, c)));
    listening.chain(connected).collect()
}

fn listening_attributes(pid: u32, l: &Listening) -> Vec<KeyValue> {
    vec![
        string("event.name", CONNECTION),
        string("network.transport", transport(l.proto)),
        string("network.type", network_type(l.family)),
        string("network.local.address", l.addr.to_string()),
        int("network.local.port", l.port),
        string("network.connection.state", "listen"),
        int("process.pid", pid),
    ]
}

fn connection_attributes(pid: u32, c: &Connection) -> Vec<KeyValue> {
    let direction = match c.direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
        Direction::Local => "local",
    };
    let mut attrs = vec![
        string("event.name", CONNECTION),
        string("network.transport", transport(c.proto)),
        string("network.type", network_type(c.family)),
        string("network.local.address", c.local_addr.to_string()),
        int("network.local.port", c.local_port),
        string("network.peer.address", c.remote_addr.to_string()),
        int("network.peer.port", c.remote_port),
        string(
            "network.connection.state",
            c.state.as_str().to_ascii_lowercase(),
        ),
        string("network.connection.direction", direction),
    ];
    if let Some(role) = c.role {
        let role = match role {
            Role::Client => "client",
            Role::Server => "server",
        };
        attrs.push(string("wiretop.connection.role", role));
    }
    attrs.push(int("process.pid", pid));
    if let Some(peer) = c.peer_pid {
        attrs.push(int("wiretop.peer.pid", peer));
    }
    if let Some(name) = &c.peer_name {
        attrs.push(string("wiretop.peer.name", &**name));
    }
    traffic_attributes(&mut attrs, &c.traffic);
    attrs
}

/// The connection's traffic figures that were measured, named as the snapshot's JSON names
/// them. No semantic convention covers per-connection counters, hence wiretop's namespace. An
/// unmeasured figure is left out rather than sent as 0, which would read as a measured
/// silence; `wiretop.connection.traffic_unavailable` says why figures are missing.
fn traffic_attributes(attrs: &mut Vec<KeyValue>, t: &Traffic) {
    let counts = [
        ("wiretop.connection.bytes_sent", t.bytes_sent),
        ("wiretop.connection.bytes_received", t.bytes_received),
        (
            "wiretop.connection.retransmits",
            t.retransmits.map(u64::from),
        ),
        (
            "wiretop.connection.retransmits_last_interval",
            t.retransmits_last_interval.map(u64::from),
        ),
        (
            "wiretop.connection.send_queue_bytes",
            t.send_queue_bytes.map(u64::from),
        ),
        (
            "wiretop.connection.recv_queue_bytes",
            t.recv_queue_bytes.map(u64::from),
        ),
        ("wiretop.connection.idle_ms", t.idle_ms.map(u64::from)),
    ];
    for (key, value) in counts {
        if let Some(value) = value {
            attrs.push(int(key, i64::try_from(value).unwrap_or(i64::MAX)));
        }
    }
    let figures = [
        (
            "wiretop.connection.send_bytes_per_sec",
            t.send_bytes_per_sec,
        ),
        (
            "wiretop.connection.recv_bytes_per_sec",
            t.recv_bytes_per_sec,
        ),
        ("wiretop.connection.rtt_ms", t.rtt_ms),
        ("wiretop.connection.rttvar_ms", t.rttvar_ms),
    ];
    attrs.extend(
        figures
            .into_iter()
            .filter_map(|(key, value)| double(key, value?)),
    );
    if let Some(gap) = t.traffic_unavailable {
        let reason = match gap {
            TrafficGap::Udp => "udp",
            TrafficGap::NamespaceNotEntered => "namespace_not_entered",
            TrafficGap::NotReported => "not_reported",
            TrafficGap::FirstSeen => "first_seen",
            TrafficGap::NotCollected => "not_collected",
        };
        attrs.push(string("wiretop.connection.traffic_unavailable", reason));
    }
}

/// The `event.name` of a lifecycle event.
pub(super) fn event_name(kind: &LifecycleKind) -> &'static str {
    match kind {
        LifecycleKind::Started => "process.started",
        LifecycleKind::Exited => "process.exited",
        LifecycleKind::BeganListening { .. } => "process.listen.started",
        LifecycleKind::StoppedListening { .. } => "process.listen.stopped",
        LifecycleKind::FirstConnection { .. } => "process.connection.first",
        LifecycleKind::UserChanged { .. } => "process.user.changed",
        LifecycleKind::ExeChanged { .. } => "process.exec",
    }
}

/// One lifecycle event as a record; its process is described by the resource it goes under.
pub(super) fn event_record(e: &LifecycleEvent) -> LogRecord {
    let name = event_name(&e.kind);
    let mut attrs = vec![string("event.name", name), int("process.pid", e.pid)];
    if let LifecycleKind::BeganListening { proto, addr, port }
    | LifecycleKind::StoppedListening { proto, addr, port } = e.kind
    {
        attrs.push(string("network.transport", transport(proto)));
        attrs.push(string(
            "network.type",
            network_type(if addr.is_ipv4() {
                Family::Ipv4
            } else {
                Family::Ipv6
            }),
        ));
        attrs.push(string("network.local.address", addr.to_string()));
        attrs.push(int("network.local.port", port));
    }
    match &e.kind {
        LifecycleKind::FirstConnection { proto, addr, port } => {
            attrs.push(string("network.transport", transport(*proto)));
            attrs.push(string("network.peer.address", addr.to_string()));
            attrs.push(int("network.peer.port", *port));
        }
        LifecycleKind::UserChanged { from, to } | LifecycleKind::ExeChanged { from, to } => {
            if let Some(from) = from {
                attrs.push(string("wiretop.event.from", from.as_str()));
            }
            if let Some(to) = to {
                attrs.push(string("wiretop.event.to", to.as_str()));
            }
        }
        LifecycleKind::Exited => {
            match e.exit {
                Some(ExitStatus::Code(code)) => attrs.push(int("process.exit.code", code)),
                Some(ExitStatus::Signal(signal)) => attrs.push(int("wiretop.exit.signal", signal)),
                None => {}
            }
            if let Some(runtime) = e.runtime_ms {
                let runtime = i64::try_from(runtime).unwrap_or(i64::MAX);
                attrs.push(int("wiretop.process.runtime_ms", runtime));
            }
        }
        _ => {}
    }
    record(name, e.observed_at_ms, attrs)
}

/// Groups lifecycle events by process (pid and start time), in first-seen order, so a process
/// that started and began listening in one interval is one resource with two records.
pub(super) fn group_events(
    events: &[LifecycleEvent],
    resource: impl Fn(&LifecycleEvent) -> Resource,
) -> Vec<(Resource, Vec<&LifecycleEvent>)> {
    let mut groups: Vec<((u32, u64), Resource, Vec<&LifecycleEvent>)> = Vec::new();
    for e in events {
        let id = (e.pid, e.start_time_ms);
        // Events arrive sorted by pid, so the group is almost always the last one.
        match groups.iter_mut().rev().find(|(key, _, _)| *key == id) {
            Some((_, _, members)) => members.push(e),
            None => groups.push((id, resource(e), vec![e])),
        }
    }
    groups
        .into_iter()
        .map(|(_, resource, members)| (resource, members))
        .collect()
}
