//! rtt and retransmits against `ss -ti` over a link the test shapes itself: two network
//! namespaces joined by a veth pair (never the host's own interfaces), a tbf rate limit that
//! builds a queue, and iptables' `statistic` match dropping packets at random. Needs root; as
//! root (CI) any refusal by the kernel fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Child, PYTHON};
use wiretop::model::{Connection, Snapshot};
use wiretop::sample::{Sampler, SamplerSettings};

/// Two namespaces and the veth pair between them, removed when dropped.
struct Link {
    client_ns: String,
    server_ns: String,
}

const CLIENT_ADDR: &str = "10.211.0.1";
const SERVER_ADDR: &str = "10.211.0.2";

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} not runnable ({e}); .ci/setup installs it"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Link {
    fn create(test: &str) -> Link {
        let id = std::process::id();
        let link = Link {
            client_ns: format!("wt-{test}-c-{id}"),
            server_ns: format!("wt-{test}-s-{id}"),
        };
        run("ip", &["netns", "add", &link.client_ns]);
        run("ip", &["netns", "add", &link.server_ns]);
        // Both ends are made inside the client's namespace, then one is moved: the host's
        // own interfaces are never touched.
        link.exec_client(&[
            "ip", "link", "add", "wtc", "type", "veth", "peer", "name", "wts",
        ]);
        link.exec_client(&["ip", "link", "set", "wts", "netns", &link.server_ns]);
        link.exec_client(&[
            "ip",
            "addr",
            "add",
            &format!("{CLIENT_ADDR}/24"),
            "dev",
            "wtc",
        ]);
        link.exec_server(&[
            "ip",
            "addr",
            "add",
            &format!("{SERVER_ADDR}/24"),
            "dev",
            "wts",
        ]);
        for (ns, dev) in [(&link.client_ns, "wtc"), (&link.server_ns, "wts")] {
            run("ip", &["netns", "exec", ns, "ip", "link", "set", dev, "up"]);
            run(
                "ip",
                &["netns", "exec", ns, "ip", "link", "set", "lo", "up"],
            );
        }
        link
    }

    fn exec_client(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", self.client_ns.as_str()];
        all.extend_from_slice(args);
        run("ip", &all);
    }

    fn exec_server(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", self.server_ns.as_str()];
        all.extend_from_slice(args);
        run("ip", &all);
    }

    fn start_in(ns: &str, script: &str, args: &[&str]) -> Child {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", ns, PYTHON, "-c", script])
            .args(args);
        Child::start(command)
    }

    /// `ss -tin` in the client's namespace, for the connection from `local_port` to `port`:
    /// (rtt ms, total retransmits).
    fn ss_figures(&self, local_port: u16, port: u16) -> (f64, u32) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.client_ns, "ss", "-tin", "dst"])
            .arg(format!("{SERVER_ADDR}:{port}"))
            .args(["and", "sport", "=", &format!(":{local_port}")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let rtt = text
            .split_ascii_whitespace()
            .find_map(|w| w.strip_prefix("rtt:"))
            .and_then(|v| v.split('/').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no rtt in ss output: {text}"));
        // `retrans:0/12`: in flight now / in all. Absent when there were none.
        let retrans = text
            .split_ascii_whitespace()
            .find_map(|w| w.strip_prefix("retrans:"))
            .and_then(|v| v.split('/').nth(1))
            .map_or(0, |v| v.parse().unwrap());
        (rtt, retrans)
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for ns in [&self.client_ns, &self.server_ns] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Listens on the server address, reads and discards everything, holds connections open.
const SINK: &str = r#"
import socket, sys, threading
l = socket.socket(); l.bind((sys.argv[1], 0)); l.listen()
print(l.getsockname()[1], flush=True)
def drain(c):
    while c.recv(65536): pass
while True:
    c, _ = l.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
"#;

/// Sends `volume` bytes as fast as the link takes them, says so, and keeps the socket open.
const SENDER: &str = r#"
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print("connected", c.getsockname()[1], flush=True)
c.sendall(b"x" * int(sys.argv[3]))
print("sent", flush=True)
time.sleep(3600)
"#;

fn connection_to(snapshot: &Snapshot, pid: u32, port: u16) -> Connection {
    common::process(snapshot, pid)
        .connections
        .iter()
        .find(|c| c.remote_port == port)
        .cloned()
        .unwrap_or_else(|| panic!("pid {pid} has no connection to port {port}"))
}

fn within_10_percent(what: &str, got: f64, expected: f64) {
    assert!(
        (got - expected).abs() <= expected * 0.10,
        "{what}: wiretop {got:.3}, ss {expected:.3} (10% apart at most)"
    );
}

#[test]
fn rtt_rises_with_a_queue_and_matches_ss() {
    if !common::not_run::runs_as_root("rtt_rises_with_a_queue_and_matches_ss") {
        return;
    }
    let link = Link::create("rtt");
    let mut sink = Link::start_in(&link.server_ns, SINK, &[SERVER_ADDR]);
    let port: u16 = sink.line().parse().unwrap();
    let port_text = port.to_string();
    let mut sampler = Sampler::new(SamplerSettings::default());

    // Unshaped first: a small transfer, the veth's own round trip.
    let mut quick = Link::start_in(
        &link.client_ns,
        SENDER,
        &[SERVER_ADDR, &port_text, "100000"],
    );
    quick.line();
    assert_eq!(quick.line(), "sent");
    std::thread::sleep(Duration::from_millis(300));
    let snapshot = sampler.sample().unwrap();
    let unshaped = connection_to(&snapshot, quick.pid(), port);
    let unshaped_rtt = unshaped
        .traffic
        .rtt_ms
        .expect("an rtt on the unshaped link");

    // 8 Mbit/s with room for 300 ms of queue, and 2 MB sent into it: the queue fills.
    link.exec_client(&[
        "tc", "qdisc", "add", "dev", "wtc", "root", "tbf", "rate", "8mbit", "burst", "16kb",
        "latency", "300ms",
    ]);
    let mut bulk = Link::start_in(
        &link.client_ns,
        SENDER,
        &[SERVER_ADDR, &port_text, "2000000"],
    );
    bulk.line();
    std::thread::sleep(Duration::from_millis(1200));
    let snapshot = sampler.sample().unwrap();
    let shaped = connection_to(&snapshot, bulk.pid(), port);
    let (ss_rtt, _) = link.ss_figures(shaped.local_port, port);
    let shaped_rtt = shaped.traffic.rtt_ms.expect("an rtt on the shaped link");
    assert!(
        shaped_rtt > unshaped_rtt * 5.0 && shaped_rtt > 5.0,
        "the queue raises rtt: {unshaped_rtt:.3} ms unshaped, {shaped_rtt:.3} ms shaped"
    );
    within_10_percent("rtt under a queue (ms)", shaped_rtt, ss_rtt);
    assert_eq!(bulk.line(), "sent");
}

#[test]
fn retransmits_under_random_drops_match_ss() {
    if !common::not_run::runs_as_root("retransmits_under_random_drops_match_ss") {
        return;
    }
    let link = Link::create("drop");
    let mut sink = Link::start_in(&link.server_ns, SINK, &[SERVER_ADDR]);
    let port: u16 = sink.line().parse().unwrap();
    // One packet in ten to the server's port is dropped on arrival.
    link.exec_server(&[
        "iptables",
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        &port.to_string(),
        "-m",
        "statistic",
        "--mode",
        "random",
        "--probability",
        "0.1",
        "-j",
        "DROP",
    ]);
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.sample().unwrap();
    let mut sender = Link::start_in(
        &link.client_ns,
        SENDER,
        &[SERVER_ADDR, &port.to_string(), "3000000"],
    );
    sender.line();
    assert_eq!(sender.line(), "sent");
    // Sent means handed to the kernel: wait until everything is acknowledged, so the counts
    // stop moving and both readers see the same socket state.
    common::eventually("the send queue to drain", || {
        let snapshot = sampler.sample().unwrap();
        let c = connection_to(&snapshot, sender.pid(), port);
        (c.traffic.send_queue_bytes == Some(0) && c.traffic.bytes_sent == Some(3_000_000))
            .then_some(())
    });
    let snapshot = sampler.sample().unwrap();
    let c = connection_to(&snapshot, sender.pid(), port);
    let (ss_rtt, ss_retrans) = link.ss_figures(c.local_port, port);
    let retransmits = c.traffic.retransmits.expect("retransmits counted");
    assert!(retransmits > 0, "drops cause retransmits");
    assert_eq!(retransmits, ss_retrans, "wiretop and ss -ti count the same");
    within_10_percent("rtt (ms)", c.traffic.rtt_ms.unwrap(), ss_rtt);
}
