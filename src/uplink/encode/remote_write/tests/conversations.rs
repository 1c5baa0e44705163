//! Per-connection series: exactly which series a snapshot of clients and servers makes, the
//! cap and its count of what was left out, and totals that never fall.

use super::*;
use crate::model::{ClosedConnection, Direction, Family, Proto, Role, Traffic, TrafficGap};

fn connection(role: Role, local_port: u16, remote: &str, remote_port: u16) -> Connection {
    let (direction, inode) = match role {
        Role::Server => (Direction::Inbound, u64::from(remote_port)),
        Role::Client => (Direction::Outbound, u64::from(local_port)),
    };
    Connection {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        local_addr: [10, 0, 0, 1].into(),
        local_port,
        remote_addr: remote.parse().unwrap(),
        remote_port,
        state: Established,
        direction,
        role: Some(role),
        inode,
        netns: None,
        peer_pid: None,
        peer_name: None,
        traffic: Traffic::default(),
    }
}

/// nginx (pid 100) serving three connections on :80: two from 203.0.113.5 (one conversation)
/// and one from 198.51.100.7 seen for the first time (totals, rtt, no rates yet). app (pid 200)
/// a client of 10.0.0.5:5432, and of 10.0.0.53:53 over UDP (no counters at all).
fn snapshot() -> Snapshot {
    let mut nginx = Process::example(100, "www");
    nginx.name = "nginx".to_owned();
    let mut a = connection(Role::Server, 80, "203.0.113.5", 51_000);
    a.traffic = Traffic::example(2_048.0, 512.0, 1.5, 2);
    let mut b = connection(Role::Server, 80, "203.0.113.5", 51_001);
    b.traffic = Traffic::example(1_024.0, 256.0, 4.0, 1);
    let mut fresh = connection(Role::Server, 80, "198.51.100.7", 40_000);
    fresh.traffic = Traffic {
        bytes_sent: Some(300),
        bytes_received: Some(70),
        rtt_ms: Some(0.25),
        retransmits: Some(0),
        ..Traffic::unavailable(TrafficGap::FirstSeen)
    };
    nginx.connections = vec![a, b, fresh];

    let mut app = Process::example(200, "app");
    app.name = "app".to_owned();
    app.cmdline = vec!["app".to_owned(), "--db".to_owned()];
    let mut db = connection(Role::Client, 40_001, "10.0.0.5", 5432);
    db.traffic = Traffic::example(100.0, 50.0, 0.5, 0);
    let mut dns = connection(Role::Client, 40_002, "10.0.0.53", 53);
    dns.proto = Proto::Udp;
    dns.traffic = Traffic::unavailable(TrafficGap::Udp);
    app.connections = vec![db, dns];

    let mut snapshot = Snapshot::example(vec![nginx, app]);
    snapshot.host.tags = vec!["env:prod".to_owned(), "role:frontend".to_owned()];
    snapshot
}

/// Labels every series of the host carries, left out of the keys below.
const HOST_LABELS: [&str; 4] = ["host", "instance", "job", "env"];

/// The per-connection series (and the dropped count) by `name{label=value,...}`, every label
/// but the host's in the key, to their value. A key made twice fails the test.
fn connection_series(batches: &[Batch]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for s in decode_all(batches) {
        let l = labels(&s);
        let name = l["__name__"];
        if !name.starts_with("wiretop_connection_") {
            continue;
        }
        let parts: Vec<String> = l
            .iter()
            .filter(|(k, _)| **k != "__name__" && !HOST_LABELS.contains(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let key = format!("{name}{{{}}}", parts.join(","));
        assert_eq!(out.insert(key.clone(), s.samples[0].value), None, "{key}");
    }
    out
}

/// `want` as lines of `key value`, in the form [`connection_series`] makes.
fn parse(want: &str) -> BTreeMap<String, f64> {
    want.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect()
}

const NGINX_FRONT_END: &str = "pid=100,process_name=nginx,local_port=80,remote_address=203.0.113.5,role=server,tag_role=frontend";
const NGINX_NEW_CLIENT: &str = "pid=100,process_name=nginx,local_port=80,remote_address=198.51.100.7,role=server,tag_role=frontend";
const APP_DB: &str = "pid=200,process_name=app,remote_address=10.0.0.5,remote_port=5432,role=client,tag_role=frontend";

/// Keys of [`connection_series`] are in label-name order; these are written for reading.
fn sorted(key: &str) -> String {
    let (name, labels) = key.split_once('{').unwrap();
    let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
    labels.sort_unstable();
    format!("{name}{{{}}}", labels.join(","))
}

fn expect(template: &str) -> BTreeMap<String, f64> {
    let text = template
        .replace("FRONT_END", NGINX_FRONT_END)
        .replace("NEW_CLIENT", NGINX_NEW_CLIENT)
        .replace("APP_DB", APP_DB);
    parse(&text)
        .into_iter()
        .map(|(k, v)| (sorted(&k), v))
        .collect()
}

#[test]
fn clients_and_servers_make_exactly_these_series() {
    let got = connection_series(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot()));
    // The two connections from 203.0.113.5 are one conversation: bytes and rates summed, the
    // worse rtt (4 ms, its variation 1 ms) in seconds, retransmits summed. The first-seen
    // client has totals, rtt and a measured 0 retransmits, but no rate and no rtt variation:
    // those series are absent, not 0. The UDP conversation has no series at all. A host tag
    // named like a label the encoder sets is renamed.
    let want = expect(
        "
        wiretop_connection_bytes_total{direction=transmit,FRONT_END} 30720
        wiretop_connection_bytes_total{direction=receive,FRONT_END} 7680
        wiretop_connection_bytes_per_second{direction=transmit,FRONT_END} 3072
        wiretop_connection_bytes_per_second{direction=receive,FRONT_END} 768
        wiretop_connection_rtt_seconds{FRONT_END} 0.004
        wiretop_connection_rtt_variation_seconds{FRONT_END} 0.001
        wiretop_connection_retransmits_total{FRONT_END} 3
        wiretop_connection_bytes_total{direction=transmit,NEW_CLIENT} 300
        wiretop_connection_bytes_total{direction=receive,NEW_CLIENT} 70
        wiretop_connection_rtt_seconds{NEW_CLIENT} 0.00025
        wiretop_connection_retransmits_total{NEW_CLIENT} 0
        wiretop_connection_bytes_total{direction=transmit,APP_DB} 1000
        wiretop_connection_bytes_total{direction=receive,APP_DB} 500
        wiretop_connection_bytes_per_second{direction=transmit,APP_DB} 100
        wiretop_connection_bytes_per_second{direction=receive,APP_DB} 50
        wiretop_connection_rtt_seconds{APP_DB} 0.0005
        wiretop_connection_rtt_variation_seconds{APP_DB} 0.000125
        wiretop_connection_retransmits_total{APP_DB} 0
        wiretop_connection_conversations_dropped{tag_role=frontend} 0
        ",
    );
    assert_eq!(got, want);
}

#[test]
fn the_cap_keeps_the_busiest_conversations_and_counts_the_rest() {
    let snapshot = snapshot();
    let conversations = |cap| -> (Vec<String>, f64) {
        let got = connection_series(&RemoteWriteEncoder::new(1000, cap).encode_snapshot(&snapshot));
        let mut kept: Vec<String> = got
            .keys()
            .filter(|k| k.starts_with("wiretop_connection_bytes_total{direction=transmit,"))
            .map(|k| {
                let l = |name: &str| {
                    let at = k.find(&format!(",{name}=")).map(|i| i + name.len() + 2);
                    at.map(|i| k[i..].split([',', '}']).next().unwrap_or_default())
                };
                format!(
                    "{}:{}",
                    l("pid").unwrap_or("?"),
                    l("remote_address").unwrap_or("?")
                )
            })
            .collect();
        kept.sort();
        let dropped = got["wiretop_connection_conversations_dropped{tag_role=frontend}"];
        (kept, dropped)
    };
    // Busiest first: nginx's front end at 3,840 B/s, app's database at 150 B/s, then the
    // first-seen client (no rate yet, 370 bytes). The UDP conversation, with nothing
    // measured, neither takes a place nor counts as dropped.
    assert_eq!(conversations(1), (vec!["100:203.0.113.5".to_owned()], 2.0));
    assert_eq!(
        conversations(2),
        (
            vec!["100:203.0.113.5".to_owned(), "200:10.0.0.5".to_owned()],
            1.0
        )
    );
    assert_eq!(conversations(3).1, 0.0);
    let (kept, dropped) = conversations(0);
    assert!(kept.is_empty());
    assert_eq!(dropped, 3.0);
    // Nothing else of a dropped conversation is sent either.
    let none = connection_series(&RemoteWriteEncoder::new(1000, 0).encode_snapshot(&snapshot));
    assert_eq!(none.len(), 1, "only the dropped count: {none:?}");
}

#[test]
fn a_closed_connection_keeps_its_bytes_in_its_conversation() {
    let mut encoder = RemoteWriteEncoder::new(1000, 1000);
    let first = snapshot();
    let transmitted = |got: &BTreeMap<String, f64>| {
        let key = sorted(&format!(
            "wiretop_connection_bytes_total{{direction=transmit,{NGINX_FRONT_END}}}"
        ));
        got.get(&key).copied()
    };
    assert_eq!(
        transmitted(&connection_series(&encoder.encode_snapshot(&first))),
        Some(30_720.0)
    );
    // 51_001 closed after sending 12,000 bytes in all: the total grows by its last 1,760
    // instead of falling by the 10,240 it had when last seen open.
    let mut second = first.clone();
    second.host.taken_at_ms += 2_000;
    let nginx = &mut second.processes[0];
    nginx.connections.remove(1);
    nginx.recently_closed.push(ClosedConnection {
        local_addr: [10, 0, 0, 1].into(),
        local_port: 80,
        remote_addr: "203.0.113.5".parse().unwrap(),
        remote_port: 51_001,
        role: Role::Server,
        bytes_sent: Some(12_000),
        bytes_received: Some(2_560),
        rtt_ms: Some(4.0),
        retransmits: Some(1),
        closed_at_ms: TAKEN_AT_MS + 1_000,
        attributed_by: "seen".to_owned(),
    });
    let got = connection_series(&encoder.encode_snapshot(&second));
    assert_eq!(transmitted(&got), Some(32_480.0));
    // Its rate and rtt no longer count: those are the open connection's alone.
    let rtt = sorted(&format!(
        "wiretop_connection_rtt_seconds{{{NGINX_FRONT_END}}}"
    ));
    assert_eq!(got.get(&rtt), Some(&0.0015));
}

#[test]
fn no_socket_scan_means_no_connection_series_at_all() {
    let mut snapshot = snapshot();
    snapshot.collection.connections_collected = false;
    let got = connection_series(&RemoteWriteEncoder::new(1000, 1000).encode_snapshot(&snapshot));
    assert!(got.is_empty(), "{got:?}");
}
