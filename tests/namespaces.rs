//! Sockets inside other network namespaces (containers) are found and tagged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;
use std::time::Duration;

use common::{process, snapshot, Child, PYTHON, TCP_SERVER};
use wiretop::model::Role;
use wiretop::sample::{Sampler, SamplerSettings};

/// A network namespace made for one test, deleted afterwards.
struct NetNs(String);

impl NetNs {
    /// The namespace, or why the kernel refuses network namespaces here. Any other failure
    /// (no `ip`, a broken iproute2, a name clash) fails the test rather than skipping it.
    fn create(test: &str) -> Result<NetNs, String> {
        let name = format!("wiretop-{test}-{}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .unwrap_or_else(|e| panic!("ip not runnable ({e}); .ci/setup installs iproute2"));
        if !out.status.success() {
            let ip_error = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            // Does the kernel itself refuse? `unshare --net` asks it directly.
            let probe = Command::new("unshare")
                .args(["--net", "true"])
                .output()
                .unwrap_or_else(|e| {
                    panic!("unshare not runnable ({e}); .ci/setup installs util-linux")
                });
            if probe.status.success() {
                panic!("ip netns add {name} failed although the kernel allows network namespaces: {ip_error}");
            }
            return Err(format!(
                "{ip_error}; unshare --net: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        let ns = NetNs(name);
        // Loopback starts down in a new namespace.
        let up = Command::new("ip")
            .args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"])
            .status()
            .map_err(|e| e.to_string())?;
        assert!(up.success(), "bringing lo up in {}", ns.0);
        Ok(ns)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A namespace for `test`, or None (recorded as not run) only where the kernel or sandbox
/// refuses namespaces outright.
fn namespace_for(name: &str, test: &str) -> Option<NetNs> {
    match NetNs::create(name) {
        Ok(ns) => Some(ns),
        Err(reason) => {
            let needs = format!("network namespaces ({reason})");
            common::not_run::runs_here(test, false, &needs);
            None
        }
    }
}

fn netns_of(pid: u32) -> u64 {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let link = link.to_string_lossy();
    link.trim_start_matches("net:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn server_in_another_network_namespace_is_listed_with_its_namespace() {
    let Some(ns) = namespace_for(
        "server",
        "server_in_another_network_namespace_is_listed_with_its_namespace",
    ) else {
        return;
    };
    let mut command = Command::new("ip");
    command.args([
        "netns",
        "exec",
        &ns.0,
        PYTHON,
        "-c",
        TCP_SERVER,
        "127.0.0.1",
    ]);
    let mut server = Child::start(command);
    let port: u16 = server.line().parse().unwrap();
    // `ip netns exec` execs the interpreter, so the child's pid is the server's.
    let server_ns = netns_of(server.pid());
    assert_ne!(
        server_ns,
        netns_of(std::process::id()),
        "server runs in its own namespace"
    );

    let snap = snapshot();
    let p = process(&snap, server.pid());
    assert_eq!(p.netns, Some(server_ns));
    let listening = p
        .listening
        .iter()
        .find(|l| l.port == port)
        .unwrap_or_else(|| panic!("listener in namespace {server_ns} found: {:?}", p.listening));
    assert_eq!(listening.netns, Some(server_ns));
    assert!(snap.collection.network_namespaces.contains(&server_ns));
}

/// Two ends of a connection inside the namespace, 300,000 bytes one way: counted there too.
const NAMESPACED_PAIR: &str = r#"
import socket, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
c.sendall(b"x" * 300000)
got = 0
while got < 300000: got += len(s.recv(65536))
print(l.getsockname()[1], c.getsockname()[1], flush=True)
time.sleep(3600)
"#;

#[test]
fn connections_in_another_namespace_have_traffic_figures_when_it_can_be_entered() {
    let Some(ns) = namespace_for(
        "traffic",
        "connections_in_another_namespace_have_traffic_figures_when_it_can_be_entered",
    ) else {
        return;
    };
    if !common::not_run::runs_as_root(
        "connections_in_another_namespace_have_traffic_figures_when_it_can_be_entered",
    ) {
        return;
    }
    // Run by nobody, so that an unprivileged wiretop can see the process and its namespace.
    let mut command = Command::new("ip");
    command.args([
        "netns",
        "exec",
        &ns.0,
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
    ]);
    command.args(["--clear-groups", "--", PYTHON, "-c", NAMESPACED_PAIR]);
    let mut pair = Child::start(command);
    let line = pair.line();
    let (server_port, client_port) = line.split_once(' ').unwrap();
    let (server_port, client_port): (u16, u16) =
        (server_port.parse().unwrap(), client_port.parse().unwrap());
    let netns = netns_of(pair.pid());

    // As root: the namespace is entered and dumped with counters.
    let snap = snapshot();
    let p = process(&snap, pair.pid());
    let client = p
        .connections
        .iter()
        .find(|c| c.local_port == client_port && c.remote_port == server_port)
        .unwrap_or_else(|| panic!("the namespaced client: {:?}", p.connections));
    assert_eq!(client.netns, Some(netns));
    assert_eq!(client.traffic.bytes_sent, Some(300_000));
    assert_eq!(client.traffic.traffic_unavailable, None);
    assert!(!snap
        .collection
        .traffic_unavailable
        .contains_key(&netns.to_string()));

    // The namespace's own interfaces: a veth pair with both ends inside it, some traffic
    // across it; loopback left out.
    let ip = |args: &[&str]| {
        let status = Command::new("ip")
            .args(["netns", "exec", &ns.0, "ip"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "ip {args:?} in {}", ns.0);
    };
    ip(&["link", "add", "wta", "type", "veth", "peer", "name", "wtb"]);
    ip(&["addr", "add", "10.200.0.1/24", "dev", "wta"]);
    ip(&["addr", "add", "10.200.0.2/24", "dev", "wtb"]);
    ip(&["link", "set", "wta", "up"]);
    ip(&["link", "set", "wtb", "up"]);
    // Through the veth, not loopback: from wta's address, bound to wta.
    let ping = Command::new("ip")
        .args([
            "netns", "exec", &ns.0, "ping", "-c", "3", "-i", "0.2", "-W", "1",
        ])
        .args(["-I", "wta", "10.200.0.2"])
        .output()
        .unwrap();
    let _ = ping.status; // answered or not, packets went out through wta
    let snap = snapshot();
    let io = snap
        .host
        .namespace_network
        .get(&netns.to_string())
        .unwrap_or_else(|| panic!("no interface figures for {netns}: {:?}", snap.host));
    assert_eq!(io.interfaces, 2, "the veth pair, loopback left out");
    assert!(io.tx_bytes > 0 && io.rx_bytes > 0, "{io:?}");
    assert!(io.rx_bytes_per_sec.is_some());

    // As nobody, entering the namespace is refused: the sockets are still listed, from /proc,
    // with why their figures are missing, in the connection and in the snapshot.
    let binary = common::NobodyBinary::new("nobody-netns");
    let out = common::as_nobody(&binary.path)
        .args(["snapshot", "--format", "json"])
        .output()
        .expect("wiretop runs as nobody");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: wiretop::model::Snapshot = serde_json::from_slice(&out.stdout).unwrap();
    let reason = snap
        .collection
        .traffic_unavailable
        .get(&netns.to_string())
        .unwrap_or_else(|| panic!("no reason for {netns}: {:?}", snap.collection));
    assert!(!reason.is_empty());
    let p = snap
        .process(pair.pid())
        .expect("nobody's own process is listed");
    let client = p
        .connections
        .iter()
        .find(|c| c.local_port == client_port && c.remote_port == server_port)
        .unwrap_or_else(|| panic!("the namespaced client, from /proc: {:?}", p.connections));
    assert_eq!(client.traffic.bytes_sent, None);
    assert_eq!(
        client.traffic.traffic_unavailable,
        Some(wiretop::model::TrafficGap::NamespaceNotEntered)
    );
    assert!(
        !snap
            .collection
            .traffic_unavailable
            .contains_key(&netns_of(std::process::id()).to_string()),
        "the host's own namespace needs no privilege"
    );
    // Closed connections are not heard there either (entering is refused), and it says why.
    let closed = &snap.collection.closed_connections_unavailable;
    assert!(
        closed
            .get(&netns.to_string())
            .is_some_and(|why| why.contains("entering")),
        "{closed:?}"
    );
    // In its own namespace, as the kernel allows: Linux 6 lets any user subscribe; where a
    // kernel refuses, wiretop must say so.
    let probe = common::as_nobody(PYTHON)
        .args(["-c", DESTROY_SUBSCRIPTION_PROBE])
        .output()
        .unwrap();
    let allowed = String::from_utf8_lossy(&probe.stdout).trim() == "subscribed";
    let own = closed.get(&netns_of(std::process::id()).to_string());
    assert_eq!(
        own.is_none(),
        allowed,
        "nobody may subscribe: {allowed}; wiretop says {closed:?}"
    );
    assert!(
        own.is_none_or(|why| why.contains("CAP_NET_ADMIN")),
        "{own:?}"
    );
}

/// Prints whether this process may subscribe to the TCP socket-destroy groups of sock_diag.
const DESTROY_SUBSCRIPTION_PROBE: &str = r#"
import socket
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 4)
try:
    s.bind((0, 5)); print("subscribed")
except PermissionError:
    print("refused")
"#;

/// Listens on 127.0.0.1:<argv[1]> (0: any port), prints the port, reads each connection to
/// its end and closes it, holding nothing open.
const SINK_ON: &str = r#"
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen()
print(l.getsockname()[1], flush=True)
while True:
    c, _ = l.accept()
    while c.recv(65536): pass
    c.close()
"#;

/// Connects to 127.0.0.1:<argv[1]>, prints its own port, sends <argv[2]> bytes, and closes
/// once the server has.
const ONE_OFF_CLIENT: &str = r#"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
c.sendall(b"n" * int(sys.argv[2]))
c.shutdown(socket.SHUT_WR)
while c.recv(65536): pass
c.close()
"#;

/// Bytes the one-off client sends.
const VOLUME: u64 = 1_000_000;

#[test]
fn a_connection_closed_between_samples_in_another_namespace_is_kept_on_its_server() {
    let test = "a_connection_closed_between_samples_in_another_namespace_is_kept_on_its_server";
    let Some(ns) = namespace_for("closed", test) else {
        return;
    };
    if !common::not_run::runs_as_root(test) {
        return;
    }
    // A listener in the host's namespace on the very port the namespaced server will use: a
    // connection closed in the namespace must never be matched against it.
    let mut host_sink = Child::python(SINK_ON, &["0"]);
    let port: u16 = host_sink.line().trim().parse().unwrap();
    let mut command = Command::new("ip");
    command.args([
        "netns",
        "exec",
        &ns.0,
        PYTHON,
        "-c",
        SINK_ON,
        &port.to_string(),
    ]);
    let mut server = Child::start(command);
    assert_eq!(server.line().trim(), port.to_string());
    let server_ns = netns_of(server.pid());
    let own_ns = netns_of(std::process::id());
    assert_ne!(server_ns, own_ns, "server runs in its own namespace");

    let mut sampler = Sampler::new(SamplerSettings::default());
    let first = sampler.sample().unwrap();
    assert!(first.collection.network_namespaces.contains(&server_ns));
    assert!(
        first.collection.closed_connections_unavailable.is_empty(),
        "as root every namespace is subscribed: {:?}",
        first.collection.closed_connections_unavailable
    );
    std::thread::sleep(Duration::from_millis(300));

    // Between two samples: a client inside the namespace connects, sends, and is gone.
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, PYTHON, "-c", ONE_OFF_CLIENT])
        .args([port.to_string(), VOLUME.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let client_port: u16 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let snap = sampler.sample().unwrap();

    let row = process(&snap, server.pid());
    let served = row
        .recently_closed
        .iter()
        .find(|c| c.local_port == port && c.remote_port == client_port)
        .unwrap_or_else(|| panic!("the client's connection on the server's row: {row:?}"));
    assert_eq!(served.role, Role::Server);
    assert_eq!(served.attributed_by, "listener");
    assert_eq!(served.bytes_received, Some(VOLUME));
    assert_eq!(served.bytes_sent, Some(0));
    assert_eq!(
        row.net_received_bytes,
        Some(VOLUME),
        "in the server's total, once closed"
    );
    // Nowhere else: not on the host's listener on the same port, nor on anyone outside the
    // namespace (the client itself has exited, and was never seen holding its socket).
    for p in &snap.processes {
        for c in &p.recently_closed {
            let ours = c.local_port == port && c.remote_port == client_port
                || c.local_port == client_port && c.remote_port == port;
            if ours {
                assert_eq!(p.pid, server.pid(), "{c:?} pinned on {}", p.pid);
                assert_eq!(p.netns, Some(server_ns));
            }
        }
    }
    let host_row = process(&snap, host_sink.pid());
    assert!(
        host_row.recently_closed.is_empty(),
        "{:?}",
        host_row.recently_closed
    );
    assert_eq!(
        host_row.net_received_bytes,
        Some(0),
        "nothing closed on the host sink"
    );
}
