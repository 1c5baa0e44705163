//! Made-up recordings for the unit tests of this module: a series of snapshots that evolve the
//! way a busy host does (numbers move every tick; processes start, exit, exec, change user;
//! connections open, close, change state and reorder; pids are reused), with every optional
//! field sometimes set and sometimes not, so a round trip exercises every branch of the codec.

use fastrand::Rng;

use crate::model::{
    ClosedConnection, Connection, CpuUsage, Direction, DiskIo, EventSource, ExitStatus, Family,
    LifecycleEvent, LifecycleKind, Listening, Process, Proto, Role, Snapshot, SocketState, Traffic,
    TrafficGap, UnexpectedReason, UnownedSocket,
};

/// `samples` snapshots, 2 s apart, from a seeded generator.
pub(crate) fn series(seed: u64, samples: usize) -> Vec<Snapshot> {
    let mut rng = Rng::with_seed(seed);
    let mut next_pid = 100;
    let processes = (0..40)
        .map(|_| new_process(&mut rng, &mut next_pid))
        .collect();
    let mut current = Snapshot::example(processes);
    current.unowned_sockets = vec![unowned(&mut rng)];
    let mut out = vec![current.clone()];
    for _ in 1..samples {
        current = evolve(&current, &mut rng, &mut next_pid);
        out.push(current.clone());
    }
    out
}

fn evolve(previous: &Snapshot, rng: &mut Rng, next_pid: &mut u32) -> Snapshot {
    let mut snapshot = previous.clone();
    snapshot.host.taken_at_ms += 2000;
    snapshot.host.uptime_secs += 2.0;
    snapshot.host.load_average.one = rng.f64() * 4.0;
    snapshot.collection.duration_ms = rng.f64() * 20.0;
    snapshot.events.clear();
    let mut exited = Vec::new();
    snapshot.processes.retain(|p| {
        let keep = rng.u8(..100) >= 5;
        if !keep {
            exited.push(p.pid);
        }
        keep
    });
    for process in &mut snapshot.processes {
        change_numbers(process, rng);
        match rng.u8(..100) {
            0..=2 => process.cmdline.push(format!("--arg{}", rng.u32(..))),
            3..=4 => process.user = Some(format!("user{}", rng.u8(..4))),
            5 => {
                process
                    .unreadable
                    .insert("io".into(), "permission denied".into());
            }
            6 => process.listening.push(listening(rng)),
            7 => process.ppid = 1,
            _ => {}
        }
        change_connections(process, rng);
        if rng.u8(..4) == 0 {
            snapshot.events.push(event(process, rng));
        }
    }
    for _ in 0..rng.usize(0..4) {
        let mut process = new_process(rng, next_pid);
        // Sometimes an exited pid comes back as another process.
        if let Some(&pid) = exited.first() {
            if rng.bool() {
                process.pid = pid;
                process.start_time_ms = snapshot.host.taken_at_ms;
                exited.remove(0);
            }
        }
        snapshot.processes.push(process);
    }
    snapshot.processes.sort_by_key(|p| p.pid);
    if rng.bool() {
        snapshot.unowned_sockets.push(unowned(rng));
    }
    snapshot
}

fn change_numbers(process: &mut Process, rng: &mut Rng) {
    process.threads = rng.u32(1..64);
    process.cpu_time.user_ms += rng.u64(0..500);
    process.cpu_time.system_ms += rng.u64(0..50);
    process.memory.rss_bytes = rng.u64(..1 << 34);
    process.memory.percent = rng.f64() * 100.0;
    process.cpu = rng.bool().then(|| CpuUsage {
        total_pct: rng.f64() * 200.0,
        user_pct: rng.f64() * 100.0,
        system_pct: if rng.bool() { 0.0 } else { rng.f64() },
    });
    process.disk = match rng.u8(..3) {
        0 => None,
        _ => Some(DiskIo {
            read_bytes_per_sec: rng.bool().then(|| rng.f64() * 1e6),
            write_bytes_per_sec: rng.bool().then(|| rng.f64()),
            read_bytes_total: process.disk.map_or(0, |d| d.read_bytes_total) + rng.u64(..4096),
            write_bytes_total: rng.u64(..),
        }),
    };
    process.net_send_bytes_per_sec = rng.bool().then(|| rng.f64() * 1e5);
    process.net_recv_bytes_per_sec = process.net_send_bytes_per_sec.map(|v| v / 3.0);
    process.net_sent_bytes = rng.bool().then(|| rng.u64(..));
    process.net_received_bytes = process.net_sent_bytes.map(|v| v / 2);
    process.fd_count = rng.bool().then(|| rng.u32(..));
    process.state = [
        crate::model::ProcessState::Running,
        crate::model::ProcessState::Sleeping,
        crate::model::ProcessState::Zombie,
        crate::model::ProcessState::Unknown,
    ][rng.usize(..4)];
    process.new = rng.bool();
    process.unexpected = [None, Some(false), Some(true)][rng.usize(..3)];
    if rng.u8(..10) == 0 {
        process.recently_closed.push(closed(rng));
    }
    if rng.u8(..10) == 0 {
        process.recently_closed.clear();
    }
}

fn change_connections(process: &mut Process, rng: &mut Rng) {
    for connection in &mut process.connections {
        connection.traffic = traffic(rng, &connection.traffic);
    }
    if !process.connections.is_empty() && rng.u8(..5) == 0 {
        let at = rng.usize(..process.connections.len());
        process.connections.remove(at);
    }
    if rng.u8(..5) == 0 {
        process.connections.push(connection(rng));
    }
    if process.connections.len() > 2 && rng.u8(..6) == 0 {
        let len = process.connections.len();
        process.connections.swap(rng.usize(..len), rng.usize(..len));
    }
    if let Some(connection) = process.connections.first_mut() {
        if rng.u8(..8) == 0 {
            connection.state = SocketState::CloseWait;
            connection.peer_pid = None;
        }
    }
}

fn new_process(rng: &mut Rng, next_pid: &mut u32) -> Process {
    *next_pid += rng.u32(1..5);
    let mut process = Process::example(*next_pid, "alice");
    process.start_time_ms = rng.u64(1..1 << 41);
    process.exe = rng.bool().then(|| format!("/usr/bin/prog{}", rng.u8(..)));
    process.cgroup = rng.bool().then(|| "/system.slice/x.service".to_owned());
    process.container_id = rng.bool().then(|| "4f2a9c".to_owned());
    process.netns = rng.bool().then(|| rng.u64(..));
    process.kernel_thread = rng.u8(..10) == 0;
    if rng.bool() {
        process
            .unreadable
            .insert("fds".into(), "permission denied".into());
    }
    if rng.u8(..4) == 0 {
        process
            .unexpected_reasons
            .push(UnexpectedReason::Listening {
                proto: Proto::Tcp,
                address: [0, 0, 0, 0].into(),
                port: rng.u16(..),
            });
    }
    for _ in 0..rng.usize(..3) {
        process.listening.push(listening(rng));
    }
    for _ in 0..rng.usize(..12) {
        process.connections.push(connection(rng));
    }
    change_numbers(&mut process, rng);
    process
}

fn listening(rng: &mut Rng) -> Listening {
    Listening {
        proto: if rng.bool() { Proto::Tcp } else { Proto::Udp },
        family: Family::Ipv6,
        addr: "::"
            .parse()
            .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED.into()),
        port: rng.u16(..),
        inode: rng.u64(..),
        netns: rng.bool().then(|| rng.u64(..)),
    }
}

fn connection(rng: &mut Rng) -> Connection {
    let mut connection = Connection::example_loopback(
        rng.u16(1024..),
        rng.u16(1..1024),
        if rng.bool() {
            Role::Client
        } else {
            Role::Server
        },
        (rng.u32(1..5000), "peer"),
        rng.u64(1..),
    );
    if rng.u8(..4) == 0 {
        connection.direction = Direction::Outbound;
        connection.remote_addr = [203, 0, 113, rng.u8(..)].into();
        connection.peer_pid = None;
        connection.peer_name = None;
        connection.role = None;
    }
    connection.traffic = traffic(rng, &Traffic::default());
    connection
}

fn traffic(rng: &mut Rng, before: &Traffic) -> Traffic {
    if rng.u8(..6) == 0 {
        return Traffic::unavailable(
            [
                TrafficGap::Udp,
                TrafficGap::FirstSeen,
                TrafficGap::NotCollected,
            ][rng.usize(..3)],
        );
    }
    let mut traffic = Traffic::example(rng.f64() * 1e4, rng.f64(), rng.f64() * 10.0, rng.u32(..9));
    traffic.bytes_sent = Some(before.bytes_sent.unwrap_or(0) + rng.u64(..1 << 20));
    traffic.idle_ms = Some(before.idle_ms.unwrap_or(0).wrapping_add(2000));
    traffic.send_queue_bytes = rng.bool().then(|| rng.u32(..));
    traffic
}

fn closed(rng: &mut Rng) -> ClosedConnection {
    ClosedConnection {
        local_addr: [127, 0, 0, 1].into(),
        local_port: rng.u16(..),
        remote_addr: "::1"
            .parse()
            .unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()),
        remote_port: 443,
        role: Role::Client,
        bytes_sent: rng.bool().then(|| rng.u64(..)),
        bytes_received: Some(7),
        rtt_ms: Some(rng.f64()),
        retransmits: None,
        closed_at_ms: rng.u64(..),
        attributed_by: "seen".to_owned(),
    }
}

fn unowned(rng: &mut Rng) -> UnownedSocket {
    UnownedSocket {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        local_addr: [127, 0, 0, 1].into(),
        local_port: rng.u16(..),
        remote_addr: [127, 0, 0, 1].into(),
        remote_port: rng.u16(..),
        state: SocketState::TimeWait,
        inode: 0,
        netns: None,
        uid: 0,
        reason: "kernel".to_owned(),
    }
}

/// Some event of `process`: each kind in turn, with or without the optional parts.
fn event(process: &Process, rng: &mut Rng) -> LifecycleEvent {
    let kind = match rng.u8(..5) {
        0 => LifecycleKind::Started,
        1 => LifecycleKind::Exited,
        2 => LifecycleKind::BeganListening {
            proto: Proto::Udp,
            addr: "::1"
                .parse()
                .unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()),
            port: rng.u16(..),
        },
        3 => LifecycleKind::FirstConnection {
            proto: Proto::Tcp,
            addr: [198, 51, 100, 7].into(),
            port: 443,
        },
        _ => LifecycleKind::UserChanged {
            from: None,
            to: process.user.clone(),
        },
    };
    LifecycleEvent {
        kind,
        pid: process.pid,
        ppid: rng.bool().then_some(process.ppid),
        name: process.name.clone(),
        cmdline: process.cmdline.clone(),
        user: process.user.clone(),
        start_time_ms: process.start_time_ms,
        observed_at_ms: rng.u64(..),
        exit: rng.bool().then_some(ExitStatus::Signal(9)),
        runtime_ms: rng.bool().then(|| rng.u64(..)),
        short_lived: rng.bool(),
        source: if rng.bool() {
            EventSource::Kernel
        } else {
            EventSource::Snapshots
        },
    }
}
