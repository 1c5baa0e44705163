//! Traffic figures against real transfers: a known volume moved between two processes over
//! loopback at a paced rate, counted to the byte and rated within 10%, both directions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::time::{Duration, Instant};

use common::Child;
use wiretop::model::{Connection, Snapshot, Traffic, TrafficGap};
use wiretop::sample::{Sampler, SamplerSettings};

/// Bytes per second the sender paces itself to.
const RATE: u64 = 4 * 1024 * 1024;
/// Seconds each direction lasts.
const SECONDS: u64 = 4;

/// A server that reads until it has `volume` bytes, says so, then sends `volume` bytes back
/// at the paced rate when told to (a line on stdin), and says so again.
const SERVER: &str = r#"
import socket, sys, time
volume, rate = int(sys.argv[1]), int(sys.argv[2])
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
got = 0
while got < volume:
    chunk = c.recv(65536)
    if not chunk: break
    got += len(chunk)
print("received", got, flush=True)
sys.stdin.readline()
sent, start, block = 0, time.monotonic(), b"s" * 16384
while sent < volume:
    c.sendall(block[: min(len(block), volume - sent)]); sent += min(len(block), volume - sent)
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0: time.sleep(ahead)
print("sent", sent, flush=True)
time.sleep(3600)
"#;

/// A client that sends `volume` bytes at the paced rate, says so, then reads what comes back.
const CLIENT: &str = r#"
import socket, sys, time
port, volume, rate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
c = socket.create_connection(("127.0.0.1", port))
print("connected", c.getsockname()[1], flush=True)
sent, start, block = 0, time.monotonic(), b"c" * 16384
while sent < volume:
    c.sendall(block[: min(len(block), volume - sent)]); sent += min(len(block), volume - sent)
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0: time.sleep(ahead)
print("sent", sent, flush=True)
got = 0
while got < volume:
    chunk = c.recv(65536)
    if not chunk: break
    got += len(chunk)
print("received", got, flush=True)
time.sleep(3600)
"#;

fn connection_of(snapshot: &Snapshot, pid: u32, remote_port: u16) -> Connection {
    let process = common::process(snapshot, pid);
    process
        .connections
        .iter()
        .find(|c| c.remote_port == remote_port)
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} has no connection to port {remote_port}"))
}

/// The client's end and the server's end of the transfer; `ports`: the server's listening
/// port and the client's own.
fn ends(
    snapshot: &Snapshot,
    client: &Child,
    server: &Child,
    ports: (u16, u16),
) -> (Connection, Connection) {
    (
        connection_of(snapshot, client.pid(), ports.0),
        connection_of(snapshot, server.pid(), ports.1),
    )
}

fn within_10_percent(what: &str, got: Option<f64>, expected: f64) {
    let got = got.unwrap_or_else(|| panic!("{what}: no rate"));
    assert!(
        (got - expected).abs() <= expected * 0.10,
        "{what}: {got:.0} B/s, expected {expected:.0} B/s within 10%"
    );
}

/// A snapshot whose rates cover one second in the middle of a transfer.
fn rated_snapshot(sampler: &mut Sampler) -> Snapshot {
    sampler.sample().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    sampler.sample().unwrap()
}

#[test]
fn a_paced_transfer_is_counted_to_the_byte_and_rated_both_ways() {
    let volume = RATE * SECONDS;
    let (volume_text, rate_text) = (volume.to_string(), RATE.to_string());
    let mut server = Child::python_listening(SERVER, &[&volume_text, &rate_text]);
    let port: u16 = server.line().trim().parse().unwrap();
    let port_text = port.to_string();
    let mut client = Child::python(CLIENT, &[&port_text, &volume_text, &rate_text]);
    let client_port: u16 = client
        .line()
        .trim()
        .strip_prefix("connected ")
        .unwrap()
        .parse()
        .unwrap();
    let started = Instant::now();
    let mut sampler = Sampler::new(SamplerSettings::default());

    // Client to server, mid-transfer: the client sends at the paced rate, receives nothing.
    std::thread::sleep(Duration::from_millis(800));
    let snapshot = rated_snapshot(&mut sampler);
    assert!(
        started.elapsed() < Duration::from_secs(SECONDS),
        "the sampling outlasted the transfer"
    );
    let (up, down) = ends(&snapshot, &client, &server, (port, client_port));
    within_10_percent("client send", up.traffic.send_bytes_per_sec, RATE as f64);
    within_10_percent(
        "server receive",
        down.traffic.recv_bytes_per_sec,
        RATE as f64,
    );
    assert_eq!(up.traffic.recv_bytes_per_sec, Some(0.0), "client receive");
    assert_eq!(down.traffic.send_bytes_per_sec, Some(0.0), "server send");
    let client_process = common::process(&snapshot, client.pid());
    within_10_percent(
        "client process send",
        client_process.net_send_bytes_per_sec,
        RATE as f64,
    );
    assert!(up.traffic.rtt_ms.is_some_and(|rtt| rtt > 0.0), "client rtt");

    // Done: the totals are the volume, to the byte.
    assert_eq!(client.line().trim(), format!("sent {volume}"));
    assert_eq!(server.line().trim(), format!("received {volume}"));
    let snapshot = sampler.sample().unwrap();
    let (up, down) = ends(&snapshot, &client, &server, (port, client_port));
    assert_eq!(up.traffic.bytes_sent, Some(volume), "client sent");
    assert_eq!(down.traffic.bytes_received, Some(volume), "server received");
    assert_eq!(up.traffic.bytes_received, Some(0), "client received");
    assert_eq!(down.traffic.bytes_sent, Some(0), "server sent");
    let client_process = common::process(&snapshot, client.pid());
    assert_eq!(
        client_process.net_sent_bytes,
        Some(volume),
        "the client's total"
    );

    // Server to client: the same, reversed.
    server.send_line("go");
    std::thread::sleep(Duration::from_millis(800));
    let snapshot = rated_snapshot(&mut sampler);
    let (up, down) = ends(&snapshot, &client, &server, (port, client_port));
    within_10_percent("server send", down.traffic.send_bytes_per_sec, RATE as f64);
    within_10_percent("client receive", up.traffic.recv_bytes_per_sec, RATE as f64);
    assert_eq!(
        up.traffic.send_bytes_per_sec,
        Some(0.0),
        "client send, reversed"
    );
    assert_eq!(server.line().trim(), format!("sent {volume}"));
    assert_eq!(client.line().trim(), format!("received {volume}"));
    let snapshot = sampler.sample().unwrap();
    let (up, down) = ends(&snapshot, &client, &server, (port, client_port));
    assert_eq!(down.traffic.bytes_sent, Some(volume), "server sent");
    assert_eq!(up.traffic.bytes_received, Some(volume), "client received");
    assert_eq!(up.traffic.traffic_unavailable, None);
}

#[test]
fn a_connection_first_seen_has_totals_but_no_rate() {
    let (volume_text, rate_text) = ("100000".to_owned(), (64 * 1024 * 1024).to_string());
    let mut server = Child::python_listening(SERVER, &[&volume_text, &rate_text]);
    let port: u16 = server.line().trim().parse().unwrap();
    let port_text = port.to_string();
    let mut client = Child::python(CLIENT, &[&port_text, &volume_text, &rate_text]);
    client.line();
    assert_eq!(client.line().trim(), "sent 100000");
    // A sampler that never saw the connection before: no priming, first pass.
    let mut sampler = Sampler::new(SamplerSettings::default());
    let snapshot = sampler.sample().unwrap();
    let up = connection_of(&snapshot, client.pid(), port);
    assert_eq!(up.traffic.bytes_sent, Some(100_000));
    assert_eq!(up.traffic.send_bytes_per_sec, None);
    assert_eq!(up.traffic.traffic_unavailable, Some(TrafficGap::FirstSeen));
    // UDP has no counters, and says so.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.connect(server_udp_peer()).unwrap();
    let snapshot = sampler.sample().unwrap();
    let me = common::process(&snapshot, std::process::id());
    let local_port = udp.local_addr().unwrap().port();
    let c = me
        .connections
        .iter()
        .find(|c| c.local_port == local_port)
        .expect("the test's own connected UDP socket");
    assert_eq!(c.traffic.traffic_unavailable, Some(TrafficGap::Udp));
    assert_eq!(c.traffic.bytes_sent, None);
}

/// With `collect_traffic` off the connections are all there, with their peers, and no
/// figure: each says it was not collected, and the collection says so for the namespace; a
/// connection that closes between two samples is not followed.
#[test]
fn with_traffic_switched_off_connections_have_peers_and_no_figures() {
    let transfer = common::LoopbackTransfer::run(100_000);
    let (server, client, port) = (&transfer.server, &transfer.client, transfer.port);
    let settings = SamplerSettings {
        collect_traffic: false,
        ..SamplerSettings::default()
    };
    let mut sampler = Sampler::new(settings);
    sampler.prime().unwrap();
    let first = sampler.sample().unwrap();
    // A one-off connection to the server, opened and closed between the two samples.
    drop(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let snapshot = sampler.sample().unwrap();
    let up = connection_of(&snapshot, client.pid(), port);
    assert_eq!(up.peer_pid, Some(server.pid()), "peers are still found");
    assert_eq!(up.traffic, Traffic::unavailable(TrafficGap::NotCollected));
    for snapshot in [&first, &snapshot] {
        let own_netns = common::process(snapshot, std::process::id()).netns.unwrap();
        let reason = snapshot
            .collection
            .traffic_unavailable
            .get(&own_netns.to_string());
        assert_eq!(reason.map(String::as_str), Some("collect_traffic is off"));
        let closed = snapshot
            .collection
            .closed_connections_unavailable
            .get(&own_netns.to_string());
        assert_eq!(closed.map(String::as_str), Some("collect_traffic is off"));
    }
    let server_row = common::process(&snapshot, server.pid());
    assert!(server_row.recently_closed.is_empty());
    assert_eq!(server_row.net_recv_bytes_per_sec, None);
    assert_eq!(server_row.net_received_bytes, None);
}

/// A bound UDP socket on loopback for the test's own UDP socket to connect to.
fn server_udp_peer() -> std::net::SocketAddr {
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = peer.local_addr().unwrap();
    // Kept open for the test's length: leaked on purpose, closed when the test binary exits.
    std::mem::forget(peer);
    addr
}

#[test]
fn the_host_interfaces_have_totals_and_rates_without_loopback() {
    // Loopback traffic (this test's own transfers) is left out: only real interfaces count.
    let text = std::fs::read_to_string("/proc/net/dev").unwrap();
    let interfaces = text
        .lines()
        .skip(2)
        .filter(|l| {
            l.split_once(':')
                .is_some_and(|(name, _)| name.trim() != "lo")
        })
        .count();
    let snapshot = common::snapshot();
    let network = snapshot.host.network.expect("host network figures");
    assert_eq!(network.interfaces as usize, interfaces);
    // The one-shot snapshot primes the counters: rates are there, and not negative.
    assert!(network.rx_bytes_per_sec.is_some_and(|r| r >= 0.0));
    assert!(network.tx_bytes_per_sec.is_some_and(|r| r >= 0.0));
}

/// A node server answering every request with 200,000 bytes.
const NODE_SERVER: &str = r#"
const http = require("http");
const body = Buffer.alloc(200000, 120);
const server = http.createServer((req, res) => { res.end(body); });
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
"#;

/// Listens, reads each connection to its end, holds nothing open.
const SINK: &str = r#"
import socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True)
while True:
    c, _ = l.accept()
    while c.recv(65536): pass
    c.close()
"#;

/// The closed connection of `process` whose local port is `port`.
fn closed_on<'p>(
    process: &'p wiretop::model::Process,
    port: u16,
    what: &str,
) -> &'p wiretop::model::ClosedConnection {
    process
        .recently_closed
        .iter()
        .find(|c| c.local_port == port)
        .unwrap_or_else(|| panic!("{what}: {:?}", process.recently_closed))
}

#[test]
fn connections_that_live_between_two_samples_are_kept_on_the_listener_process() {
    if !common::not_run::runs_as_root(
        "connections_that_live_between_two_samples_are_kept_on_the_listener_process",
    ) {
        return;
    }
    let mut node = Child::start({
        let mut command = std::process::Command::new("node");
        command.args(["-e", NODE_SERVER]);
        command
    });
    let node_port: u16 = node.line().trim().parse().unwrap();
    let mut sink = Child::python(SINK, &[]);
    let sink_port: u16 = sink.line().trim().parse().unwrap();
    let mut sampler = Sampler::new(SamplerSettings::default());
    let first = sampler.sample().unwrap();
    assert!(
        first.collection.closed_connections_unavailable.is_empty(),
        "{:?}",
        first.collection.closed_connections_unavailable
    );
    std::thread::sleep(Duration::from_millis(300));

    // Between two samples: one curl to node, and a client that sends 1 MB and closes.
    let curl = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null"])
        .arg(format!("http://127.0.0.1:{node_port}/"))
        .status()
        .unwrap();
    assert!(curl.success());
    let mut client = std::net::TcpStream::connect(("127.0.0.1", sink_port)).unwrap();
    std::io::Write::write_all(&mut client, &vec![7u8; 1_000_000]).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    // The sink reads to the end and closes; then ours closes.
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut client, &mut rest).unwrap();
    drop(client);
    std::thread::sleep(Duration::from_millis(500));
    let snapshot = sampler.sample().unwrap();

    let node_row = common::process(&snapshot, node.pid());
    let served = closed_on(node_row, node_port, "curl's connection on node's row");
    assert_eq!(served.role, wiretop::model::Role::Server);
    assert_eq!(served.attributed_by, "listener");
    assert!(
        served.bytes_sent.is_some_and(|b| b >= 200_000),
        "node sent the body: {served:?}"
    );
    let sink_row = common::process(&snapshot, sink.pid());
    let received = closed_on(sink_row, sink_port, "the 1 MB client on the sink's row");
    assert_eq!(received.bytes_received, Some(1_000_000));
    assert!(
        sink_row.net_recv_bytes_per_sec.is_some_and(|r| r > 0.0),
        "the closed connection's bytes count in the sink's rate"
    );
    assert_eq!(
        sink_row.net_received_bytes,
        Some(1_000_000),
        "and in its total, once closed"
    );
    // Nothing closed is pinned on a process that did not own it: a closed connection on a
    // listener's port belongs to that listener's process and no other.
    for p in &snapshot.processes {
        for c in &p.recently_closed {
            if c.local_port == node_port {
                assert_eq!(p.pid, node.pid(), "{c:?} pinned on {}", p.pid);
            }
            if c.local_port == sink_port {
                assert_eq!(p.pid, sink.pid(), "{c:?} pinned on {}", p.pid);
            }
        }
    }
    // This test's own client socket was never seen by a sample: it is pinned on nobody.
    let me = common::process(&snapshot, std::process::id());
    assert!(
        me.recently_closed
            .iter()
            .all(|c| c.remote_port != sink_port),
        "{:?}",
        me.recently_closed
    );
}
