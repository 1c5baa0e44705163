//! Socket ownership and peer resolution against real servers and clients.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use common::{
    process, snapshot, tcp_client, tcp_server, Child, FORKED_SERVER, UDP_CLIENT, UDP_SERVER,
};
use wiretop::model::{Direction, Proto, Role, SocketState};

fn client_and_server_name_each_other(host: &str) {
    let (mut server, port) = tcp_server(host);
    let (client, client_port) = tcp_client(&mut server, host, port);
    let snap = snapshot();

    let server_proc = process(&snap, server.pid());
    assert!(
        server_proc
            .listening
            .iter()
            .any(|l| l.proto == Proto::Tcp && l.port == port && l.addr.to_string() == host),
        "server lists its listening socket: {:?}",
        server_proc.listening
    );
    let inbound = server_proc
        .connections
        .iter()
        .find(|c| c.local_port == port && c.remote_port == client_port)
        .expect("server holds the accepted connection");
    assert_eq!(inbound.state, SocketState::Established);
    assert_eq!(inbound.role, Some(Role::Server));
    assert_eq!(inbound.direction, Direction::Local);
    assert_eq!(inbound.peer_pid, Some(client.pid()));

    let client_proc = process(&snap, client.pid());
    let outbound = client_proc
        .connections
        .iter()
        .find(|c| c.remote_port == port)
        .expect("client holds its connection");
    assert_eq!(outbound.state, SocketState::Established);
    assert_eq!(outbound.role, Some(Role::Client));
    assert_eq!(outbound.local_port, client_port);
    assert_eq!(outbound.peer_pid, Some(server.pid()));
    assert_eq!(outbound.peer_name.as_deref(), Some("python3"));
    assert_eq!(outbound.remote_addr.to_string(), host);
}

#[test]
fn tcp_over_ipv4_loopback_names_peers_both_ways() {
    client_and_server_name_each_other("127.0.0.1");
}

#[test]
fn tcp_over_ipv6_loopback_names_peers_both_ways() {
    client_and_server_name_each_other("::1");
}

#[test]
fn ipv4_client_of_dual_stack_listener_is_shown_as_ipv4() {
    let (mut server, port) = tcp_server("::");
    let (client, _) = tcp_client(&mut server, "127.0.0.1", port);
    let snap = snapshot();
    let accepted = process(&snap, server.pid())
        .connections
        .iter()
        .find(|c| c.local_port == port)
        .expect("server holds the accepted connection")
        .clone();
    assert_eq!(
        accepted.local_addr.to_string(),
        "127.0.0.1",
        "::ffff: prefix removed"
    );
    assert_eq!(accepted.remote_addr.to_string(), "127.0.0.1");
    assert_eq!(accepted.peer_pid, Some(client.pid()));
}

#[test]
fn udp_bound_socket_listens_and_connected_socket_names_it_as_peer() {
    let mut server = Child::python(UDP_SERVER, &["127.0.0.1"]);
    let port: u16 = server.line().parse().unwrap();
    let mut client = Child::python(UDP_CLIENT, &["127.0.0.1", &port.to_string()]);
    let client_port: u16 = client.line().parse().unwrap();
    let snap = snapshot();

    let listening = &process(&snap, server.pid()).listening;
    assert!(
        listening
            .iter()
            .any(|l| l.proto == Proto::Udp && l.port == port),
        "bound UDP socket is listed as listening: {listening:?}"
    );
    let conn = process(&snap, client.pid())
        .connections
        .iter()
        .find(|c| c.proto == Proto::Udp && c.local_port == client_port)
        .expect("connected UDP socket is a connection")
        .clone();
    assert_eq!(conn.state, SocketState::Established);
    assert_eq!(conn.remote_port, port);
    assert_eq!(conn.peer_pid, Some(server.pid()));
}

#[test]
fn udp_over_ipv6_is_collected() {
    let mut server = Child::python(UDP_SERVER, &["::1"]);
    let port: u16 = server.line().parse().unwrap();
    let snap = snapshot();
    let listening = &process(&snap, server.pid()).listening;
    assert!(listening
        .iter()
        .any(|l| l.proto == Proto::Udp && l.port == port && l.addr.to_string() == "::1"));
}

#[test]
fn forked_server_lists_shared_listening_socket_under_both_processes() {
    let mut parent = Child::python(FORKED_SERVER, &[]);
    let line = parent.line();
    let mut parts = line.split_whitespace();
    let port: u16 = parts.next().unwrap().parse().unwrap();
    let worker: u32 = parts.next().unwrap().parse().unwrap();
    let snap = snapshot();

    let in_parent = process(&snap, parent.pid())
        .listening
        .iter()
        .find(|l| l.port == port)
        .cloned();
    let in_worker = process(&snap, worker)
        .listening
        .iter()
        .find(|l| l.port == port)
        .cloned();
    let (in_parent, in_worker) = (
        in_parent.expect("parent lists it"),
        in_worker.expect("worker lists it"),
    );
    assert_eq!(in_parent.inode, in_worker.inode, "one socket, two owners");
    // The worker is the parent's child and dies with it only if we kill it.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(worker as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn every_socket_owner_and_peer_is_a_process_in_the_same_snapshot() {
    let (mut server, port) = tcp_server("127.0.0.1");
    let _clients: Vec<_> = (0..3)
        .map(|_| tcp_client(&mut server, "127.0.0.1", port))
        .collect();
    let snap = snapshot();
    let mut keys = std::collections::HashSet::new();
    for p in &snap.processes {
        assert!(
            keys.insert((p.pid, p.start_time_ms)),
            "duplicate process {}",
            p.pid
        );
        for c in &p.connections {
            if let Some(peer) = c.peer_pid {
                assert!(
                    snap.process(peer).is_some(),
                    "peer {peer} of {} not in snapshot",
                    p.pid
                );
            }
        }
    }
    assert!(snap.host.counts.established_connections >= 6);
    assert!(snap.host.counts.listening_sockets >= 1);
}
