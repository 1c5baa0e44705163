//! Whether a snapshot saw the load, and got its ownership and peers right: every load socket
//! must be owned by the right helper and name the right peer process.

use std::collections::BTreeMap;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use wiretop::model::{Snapshot, SocketState};

use crate::load::{Load, Scale};

/// How much of the load a snapshot saw, and whether it got ownership and peers right.
pub(crate) struct Coverage {
    pub(crate) processes: usize,
    pub(crate) idle_seen: usize,
    pub(crate) established_count: u32,
    /// ESTABLISHED connections at a load port attributed to a helper process.
    pub(crate) load_owned: usize,
    /// ...of which owned by the right kind of helper and with the right peer process.
    pub(crate) load_peer_correct: usize,
    pub(crate) unowned_sockets: usize,
    pub(crate) unreadable_processes: u32,
    /// Why sockets were unowned and which process fields were unreadable, with counts.
    pub(crate) unowned_reasons: BTreeMap<String, usize>,
    pub(crate) unreadable_fields: BTreeMap<String, usize>,
}

pub(crate) fn coverage(snapshot: &Snapshot, load: &Load) -> Coverage {
    let idle = load.idle_pids();
    let helpers = load.helper_pids();
    let clients = load.client_pids();
    let server_by_port = load.server_by_port();
    let mut load_owned = 0;
    let mut load_peer_correct = 0;
    for process in snapshot
        .processes
        .iter()
        .filter(|p| helpers.contains(&p.pid))
    {
        for conn in &process.connections {
            if conn.state != SocketState::Established {
                continue;
            }
            // Server side: we listen on the port, the peer is some client.
            // Client side: the peer is exactly the server behind the remote port.
            let correct = if let Some(&server) = server_by_port.get(&conn.local_port) {
                process.pid == server && conn.peer_pid.is_some_and(|p| clients.contains(&p))
            } else if let Some(&server) = server_by_port.get(&conn.remote_port) {
                clients.contains(&process.pid) && conn.peer_pid == Some(server)
            } else {
                continue;
            };
            load_owned += 1;
            load_peer_correct += usize::from(correct);
        }
    }
    let mut unowned_reasons = BTreeMap::new();
    for socket in &snapshot.unowned_sockets {
        let key = format!(
            "{:?} {}: {}",
            socket.proto,
            socket.state.as_str(),
            socket.reason
        );
        *unowned_reasons.entry(key).or_default() += 1;
    }
    let mut unreadable_fields = BTreeMap::new();
    for process in &snapshot.processes {
        for (field, reason) in &process.unreadable {
            let key = format!("{field} of {} ({reason})", process.name);
            *unreadable_fields.entry(key).or_default() += 1;
        }
    }
    Coverage {
        processes: snapshot.processes.len(),
        idle_seen: snapshot
            .processes
            .iter()
            .filter(|p| idle.contains(&p.pid))
            .count(),
        established_count: snapshot.host.counts.established_connections,
        load_owned,
        load_peer_correct,
        unowned_sockets: snapshot.unowned_sockets.len(),
        unreadable_processes: snapshot.collection.processes_with_unreadable_fields,
        unowned_reasons,
        unreadable_fields,
    }
}

/// What `ss -tanp` itself sees: ESTABLISHED rows, and how many of them name an owner.
pub(crate) fn ss_view() -> Result<(usize, usize)> {
    let output = Command::new("ss")
        .arg("-tanp")
        .output()
        .context("running ss -tanp")?;
    ensure!(
        output.status.success(),
        "ss -tanp failed: {}",
        output.status
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let estab: Vec<&str> = text.lines().filter(|l| l.starts_with("ESTAB")).collect();
    let with_owner = estab.iter().filter(|l| l.contains("users:(")).count();
    Ok((estab.len(), with_owner))
}

pub(crate) fn print_coverage(label: &str, c: &Coverage, scale: Scale) {
    println!(
        "{label}: {} processes ({} of the idle ones), established_connections={}, \
         load sockets owned {}/{} with correct owner+peer {}/{}, unowned sockets {}, \
         processes with unreadable fields {}",
        c.processes,
        c.idle_seen,
        c.established_count,
        c.load_owned,
        scale.sockets(),
        c.load_peer_correct,
        scale.sockets(),
        c.unowned_sockets,
        c.unreadable_processes,
    );
    for (what, count) in &c.unowned_reasons {
        println!("    unowned: {count} x {what}");
    }
    for (what, count) in &c.unreadable_fields {
        println!("    unreadable: {count} x {what}");
    }
}

/// What looks wrong in one snapshot's view of the load at `scale`.
pub(crate) fn problems(label: &str, c: &Coverage, scale: Scale) -> Vec<String> {
    let mut found = Vec::new();
    if c.idle_seen < scale.procs {
        found.push(format!(
            "{label}: only {} of {} idle processes in the snapshot",
            c.idle_seen, scale.procs
        ));
    }
    if c.load_owned < scale.sockets() || c.load_peer_correct < scale.sockets() {
        found.push(format!(
            "{label}: load sockets owned {} / peer-correct {} of {}",
            c.load_owned,
            c.load_peer_correct,
            scale.sockets()
        ));
    }
    if (c.established_count as usize) < scale.sockets() {
        found.push(format!(
            "{label}: established_connections {} is below the {} load sockets",
            c.established_count,
            scale.sockets()
        ));
    }
    found
}
