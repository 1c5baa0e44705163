//! What must hold in every snapshot, whatever the host does: one checker for the tests and the
//! benches (`benches/` include this file by path), so a rule added here is checked everywhere.
#![allow(dead_code)] // each test binary and bench uses a different part of this module

use std::collections::{HashMap, HashSet};

use wiretop::model::{Direction, Proto, Snapshot, SocketState};

/// Everything internally inconsistent in `snap`, described: identities and order, the host's
/// counts, socket ownership (never twice, never also unowned, never by a kernel thread) and
/// peers (a process of the same snapshot, under its name there, answering back).
pub fn problems(snap: &Snapshot) -> Vec<String> {
    let mut problems = Vec::new();
    let processes = &snap.processes;

    // Identity: one entry per (pid, start time), in pid order (lookups binary-search it).
    let mut identities = HashSet::new();
    for p in processes {
        if !identities.insert((p.pid, p.start_time_ms)) {
            problems.push(format!(
                "process ({}, {}) listed twice",
                p.pid, p.start_time_ms
            ));
        }
    }
    for pair in processes.windows(2) {
        if pair[0].pid >= pair[1].pid {
            problems.push(format!(
                "processes out of pid order or pid repeated: {} then {}",
                pair[0].pid, pair[1].pid
            ));
        }
    }
    let by_pid: HashMap<u32, &wiretop::model::Process> =
        processes.iter().map(|p| (p.pid, p)).collect();

    // Counts.
    let counts = snap.host.counts;
    if counts.processes as usize != processes.len() {
        problems.push(format!(
            "counts.processes {} but {} processes listed",
            counts.processes,
            processes.len()
        ));
    }
    let threads: u64 = processes.iter().map(|p| u64::from(p.threads)).sum();
    if u64::from(counts.threads) != threads {
        problems.push(format!(
            "counts.threads {} but processes hold {threads}",
            counts.threads
        ));
    }

    // Ownership: every socket listed under a process has an inode, once per process, and is
    // never also listed as unowned.
    let mut unowned_inodes = HashSet::new();
    for u in &snap.unowned_sockets {
        let kernel = u.inode == 0;
        if (u.reason == "kernel") != kernel {
            problems.push(format!(
                "unowned socket with inode {} has reason {:?}",
                u.inode, u.reason
            ));
        }
        if !kernel && !unowned_inodes.insert(u.inode) {
            problems.push(format!("inode {} listed as unowned twice", u.inode));
        }
    }
    let mut owners: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut listening_inodes = HashSet::new();
    let mut established_inodes = HashSet::new();
    for p in processes {
        if p.kernel_thread && !(p.listening.is_empty() && p.connections.is_empty()) {
            problems.push(format!("kernel thread {} ({}) owns sockets", p.pid, p.name));
        }
        let mut own = HashSet::new();
        let inodes = p
            .listening
            .iter()
            .map(|l| (l.inode, "listening"))
            .chain(p.connections.iter().map(|c| (c.inode, c.state.as_str())));
        for (inode, what) in inodes {
            if inode == 0 {
                problems.push(format!(
                    "{} ({}) owns a {what} socket with inode 0",
                    p.pid, p.name
                ));
                continue;
            }
            if !own.insert(inode) {
                problems.push(format!("{} ({}) lists inode {inode} twice", p.pid, p.name));
            }
            if unowned_inodes.contains(&inode) {
                problems.push(format!(
                    "inode {inode} ({what}) listed under {} ({}) and as unowned",
                    p.pid, p.name
                ));
            }
            owners.entry(inode).or_default().push(p.pid);
        }
        listening_inodes.extend(p.listening.iter().map(|l| l.inode));
        for c in &p.connections {
            if c.state == SocketState::Listen {
                problems.push(format!(
                    "{} ({}) lists listening inode {} as a connection",
                    p.pid, p.name, c.inode
                ));
            }
            if c.state == SocketState::Established {
                established_inodes.insert(c.inode);
            }
        }
    }
    let listening = listening_inodes.len()
        + snap
            .unowned_sockets
            .iter()
            .filter(|u| is_listening(u.proto, u.state))
            .count();
    if counts.listening_sockets as usize != listening {
        problems.push(format!(
            "counts.listening_sockets {} but {listening} listening sockets listed",
            counts.listening_sockets
        ));
    }
    let established = established_inodes.len()
        + snap
            .unowned_sockets
            .iter()
            .filter(|u| u.state == SocketState::Established)
            .count();
    if counts.established_connections as usize != established {
        problems.push(format!(
            "counts.established_connections {} but {established} established sockets listed",
            counts.established_connections
        ));
    }

    // Peers: a peer is a process of this snapshot, under the name it has there; a connection
    // with a peer, or to loopback, is local; and when the peer lists the reverse connection,
    // that one names an owner of this one.
    for p in processes {
        for c in &p.connections {
            let loopback = c.remote_addr.is_loopback();
            if (loopback || c.peer_pid.is_some()) && c.direction != Direction::Local {
                problems.push(format!(
                    "{} ({}) inode {} to {}:{} with peer {:?} is {:?}, not local",
                    p.pid, p.name, c.inode, c.remote_addr, c.remote_port, c.peer_pid, c.direction
                ));
            }
            let Some(peer) = c.peer_pid else { continue };
            let Some(peer_proc) = by_pid.get(&peer) else {
                problems.push(format!(
                    "{} ({}) inode {} names peer {peer} ({:?}), which is not in the snapshot",
                    p.pid, p.name, c.inode, c.peer_name
                ));
                continue;
            };
            if c.peer_name.as_deref() != Some(peer_proc.name.as_str()) {
                problems.push(format!(
                    "{} ({}) inode {} names peer {peer} {:?}, listed as {:?}",
                    p.pid, p.name, c.inode, c.peer_name, peer_proc.name
                ));
            }
            let reverse = peer_proc.connections.iter().find(|r| {
                r.proto == c.proto
                    && r.netns == c.netns
                    && (r.local_addr, r.local_port) == (c.remote_addr, c.remote_port)
                    && (r.remote_addr, r.remote_port) == (c.local_addr, c.local_port)
            });
            if let Some(r) = reverse {
                let named = r.peer_pid.is_some_and(|x| owners[&c.inode].contains(&x));
                if !named {
                    problems.push(format!(
                        "{} ({}) inode {} names peer {peer}, whose reverse inode {} names {:?} \
                         instead of an owner of {} ({:?})",
                        p.pid, p.name, c.inode, r.inode, r.peer_pid, c.inode, owners[&c.inode]
                    ));
                }
            }
        }
    }

    problems
}

/// Whether a socket row in this state counts as listening (as `Counts` defines it).
fn is_listening(proto: Proto, state: SocketState) -> bool {
    match proto {
        Proto::Tcp => state == SocketState::Listen,
        Proto::Udp => state != SocketState::Established,
    }
}
