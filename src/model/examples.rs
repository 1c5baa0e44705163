//! Example values of the snapshot model, for tests and benches: one set, so every test starts
//! from the same host, and a change to the model is made here once. Not an API for users.

use std::collections::BTreeMap;

use super::{
    Attribution, Collection, CollectionPhases, Connection, Counts, CpuTime, Direction, Family,
    Host, HostCpu, LoadAverage, Memory, NetworkIo, Process, ProcessMemory, ProcessState, Proto,
    Role, Snapshot, SocketState, Traffic, SCHEMA_VERSION,
};

/// When the example snapshot is taken: 2026-01-01T00:00:00Z.
pub const TAKEN_AT_MS: u64 = 1_767_225_600_000;

const MIB: u64 = 1024 * 1024;

impl Process {
    /// A plain sleeping process (`/bin/proc<pid>`, uid 1000, started at the epoch), no sockets.
    pub fn example(pid: u32, user: &str) -> Process {
        Process {
            pid,
            ppid: 1,
            name: format!("proc{pid}"),
            exe: None,
            cmdline: vec![format!("/bin/proc{pid}")],
            user: Some(user.to_owned()),
            uid: 1000,
            state: ProcessState::Sleeping,
            threads: 1,
            nice: Some(0),
            priority: Some(20),
            start_time_ms: 0,
            kernel_thread: false,
            cpu: None,
            cpu_time: CpuTime {
                user_ms: 0,
                system_ms: 0,
            },
            memory: ProcessMemory {
                rss_bytes: 0,
                virtual_bytes: 0,
                percent: 0.0,
            },
            disk: None,
            net_send_bytes_per_sec: None,
            net_recv_bytes_per_sec: None,
            net_sent_bytes: None,
            net_received_bytes: None,
            fd_count: None,
            cgroup: None,
            container_id: None,
            attribution: Attribution::default(),
            netns: None,
            listening: Vec::new(),
            connections: Vec::new(),
            recently_closed: Vec::new(),
            unreadable: BTreeMap::new(),
            new: false,
            unexpected: None,
            unexpected_reasons: Vec::new(),
        }
    }
}

impl Connection {
    /// An established TCP connection over 127.0.0.1 in the host's namespace, from `local` to
    /// `remote`, whose other end is held by `peer` (pid, name).
    pub fn example_loopback(
        local_port: u16,
        remote_port: u16,
        role: Role,
        peer: (u32, &str),
        inode: u64,
    ) -> Connection {
        Connection {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            local_addr: [127, 0, 0, 1].into(),
            local_port,
            remote_addr: [127, 0, 0, 1].into(),
            remote_port,
            state: SocketState::Established,
            direction: Direction::Local,
            role: Some(role),
            inode,
            netns: Some(4026531840),
            peer_pid: Some(peer.0),
            peer_name: Some(peer.1.into()),
            traffic: Traffic::default(),
        }
    }
}

impl Traffic {
    /// A connection measured over two readings: sending and receiving at the rates given (its
    /// totals ten seconds' worth of each), with that smoothed rtt and that many retransmits over
    /// its life, none in the last interval, queues empty, busy just now.
    pub fn example(
        send_bytes_per_sec: f64,
        recv_bytes_per_sec: f64,
        rtt_ms: f64,
        retransmits: u32,
    ) -> Traffic {
        Traffic {
            bytes_sent: Some((send_bytes_per_sec * 10.0) as u64),
            bytes_received: Some((recv_bytes_per_sec * 10.0) as u64),
            send_bytes_per_sec: Some(send_bytes_per_sec),
            recv_bytes_per_sec: Some(recv_bytes_per_sec),
            rtt_ms: Some(rtt_ms),
            rttvar_ms: Some(rtt_ms / 4.0),
            retransmits: Some(retransmits),
            retransmits_last_interval: Some(0),
            send_queue_bytes: Some(0),
            recv_queue_bytes: Some(0),
            idle_ms: Some(0),
            traffic_unavailable: None,
        }
    }
}

impl Host {
    /// `web-1`, 2 CPUs, 8 GiB, up 1d 01:01:01, taken at [`TAKEN_AT_MS`] every 2 s, no tags,
    /// nothing counted yet.
    pub fn example() -> Host {
        Host {
            hostname: "web-1".to_owned(),
            kernel: "6.1.0-test".to_owned(),
            boot_time_ms: TAKEN_AT_MS - 90_061_000,
            uptime_secs: 90_061.0,
            cpu_count: 2,
            load_average: LoadAverage {
                one: 0.42,
                five: 0.3,
                fifteen: 0.25,
            },
            memory: Memory {
                total_bytes: 8192 * MIB,
                used_bytes: 2048 * MIB,
                available_bytes: 6144 * MIB,
                swap_total_bytes: 1024 * MIB,
                swap_used_bytes: 0,
            },
            cpu: Some(HostCpu {
                user_pct: 12.0,
                system_pct: 4.0,
                iowait_pct: 1.0,
                idle_pct: 83.0,
                steal_pct: 0.0,
            }),
            cpus: vec![
                HostCpu {
                    user_pct: 16.0,
                    system_pct: 6.0,
                    iowait_pct: 2.0,
                    idle_pct: 76.0,
                    steal_pct: 0.0,
                },
                HostCpu {
                    user_pct: 8.0,
                    system_pct: 2.0,
                    iowait_pct: 0.0,
                    idle_pct: 90.0,
                    steal_pct: 0.0,
                },
            ],
            taken_at_ms: TAKEN_AT_MS,
            interval_ms: 2000,
            counts: Counts {
                processes: 0,
                threads: 0,
                listening_sockets: 0,
                established_connections: 0,
            },
            tags: Vec::new(),
            network: Some(NetworkIo {
                rx_bytes: 40 * 1024 * MIB,
                tx_bytes: 12 * 1024 * MIB,
                rx_bytes_per_sec: Some(1.5 * MIB as f64),
                tx_bytes_per_sec: Some(256.0 * 1024.0),
                interfaces: 1,
            }),
            namespace_network: BTreeMap::new(),
        }
    }
}

impl Collection {
    /// A 12 ms full pass of the host's own network namespace, everything readable.
    pub fn example() -> Collection {
        Collection {
            duration_ms: 12.0,
            phases: CollectionPhases::default(),
            connections_collected: true,
            full_ownership_scan: true,
            network_namespaces: vec![4_026_531_840],
            restricted: false,
            processes_with_unreadable_fields: 0,
            excluded_processes: 0,
            warnings: Vec::new(),
            traffic_unavailable: BTreeMap::new(),
            closed_connections_unavailable: BTreeMap::new(),
            process_events_unavailable: None,
            process_events_dropped: 0,
        }
    }
}

impl Snapshot {
    /// `processes` (sorted by pid) on the example host, with the host's counts made from them.
    pub fn example(mut processes: Vec<Process>) -> Snapshot {
        processes.sort_by_key(|p| p.pid);
        let mut host = Host::example();
        host.counts = Counts {
            processes: u32::try_from(processes.len()).unwrap_or(u32::MAX),
            threads: processes.iter().map(|p| p.threads).sum(),
            listening_sockets: u32::try_from(
                processes.iter().map(|p| p.listening.len()).sum::<usize>(),
            )
            .unwrap_or(u32::MAX),
            established_connections: u32::try_from(
                processes
                    .iter()
                    .flat_map(|p| &p.connections)
                    .filter(|c| c.state == SocketState::Established)
                    .count(),
            )
            .unwrap_or(u32::MAX),
        };
        Snapshot {
            schema_version: SCHEMA_VERSION,
            host,
            processes,
            unowned_sockets: Vec::new(),
            collection: Collection::example(),
            events: Vec::new(),
        }
    }
}
