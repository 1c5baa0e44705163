//! A synthetic host for the in-process measurements: thousands of processes shaped like a
//! busy server's, seeded so every run draws the same table.

use std::net::{IpAddr, Ipv4Addr};

use wiretop::model::{
    Connection, CpuTime, CpuUsage, Direction, DiskIo, Family, Listening, LoadAverage, Memory,
    Process, ProcessMemory, ProcessState, Proto, Role, Snapshot, SocketState,
};

use crate::TAKEN_AT_MS;

const MIB: u64 = 1024 * 1024;
/// The host's own network namespace, as most processes have it.
const HOST_NETNS: u64 = 4_026_531_840;

/// A small deterministic generator (xorshift64*), so every run draws the same host.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// True `percent` times out of a hundred.
    pub(crate) fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A kind of program found on a busy host.
pub(crate) struct Program {
    pub(crate) name: &'static str,
    pub(crate) exe: &'static str,
    pub(crate) user: &'static str,
    /// Arguments after argv[0], in the order they are taken.
    pub(crate) args: &'static [&'static str],
    /// Ports instances of it may listen on; empty for pure clients.
    pub(crate) ports: &'static [u16],
}

pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        name: "nginx",
        exe: "/usr/sbin/nginx",
        user: "www-data",
        args: &[
            "-g",
            "daemon off;",
            "-c",
            "/etc/nginx/nginx.conf",
            "-p",
            "/var/www",
            "-e",
            "/var/log/nginx/error.log",
            "-q",
        ],
        ports: &[80, 443, 8080],
    },
    Program {
        name: "postgres",
        exe: "/usr/lib/postgresql/15/bin/postgres",
        user: "postgres",
        args: &[
            "-D",
            "/var/lib/postgresql/15/main",
            "-c",
            "config_file=/etc/postgresql/15/main/postgresql.conf",
            "-p",
            "5432",
            "-k",
            "/run/postgresql",
            "-N",
        ],
        ports: &[5432],
    },
    Program {
        name: "node",
        exe: "/usr/bin/node",
        user: "app",
        args: &[
            "/srv/app/server.js",
            "--port",
            "8080",
            "--max-old-space-size=4096",
            "--enable-source-maps",
            "--env",
            "production",
            "--trace-warnings",
            "--no-deprecation",
        ],
        ports: &[8080, 3000],
    },
    Program {
        name: "gunicorn",
        exe: "/usr/bin/python3",
        user: "app",
        args: &[
            "-m",
            "gunicorn",
            "app.wsgi:application",
            "--workers",
            "4",
            "--bind",
            "0.0.0.0:8000",
            "--timeout",
            "30",
        ],
        ports: &[8000, 8080],
    },
    Program {
        name: "java",
        exe: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
        user: "deploy",
        args: &[
            "-Xms512m",
            "-Xmx4g",
            "-XX:+UseG1GC",
            "-Dspring.profiles.active=prod",
            "-Dfile.encoding=UTF-8",
            "-jar",
            "/opt/orders/orders-service.jar",
            "--server.port=8080",
            "--management.port=9090",
        ],
        ports: &[8080, 8443, 9090],
    },
    Program {
        name: "redis-server",
        exe: "/usr/bin/redis-server",
        user: "redis",
        args: &[
            "127.0.0.1:6379",
            "--appendonly",
            "yes",
            "--maxmemory",
            "2gb",
            "--save",
            "900 1",
            "--protected-mode",
            "yes",
        ],
        ports: &[6379],
    },
    Program {
        name: "sshd",
        exe: "/usr/sbin/sshd",
        user: "root",
        args: &[
            "-D",
            "-f",
            "/etc/ssh/sshd_config",
            "-o",
            "LogLevel=VERBOSE",
            "-E",
            "/var/log/sshd.log",
        ],
        ports: &[22],
    },
    Program {
        name: "bash",
        exe: "/usr/bin/bash",
        user: "alice",
        args: &[
            "--login",
            "-i",
            "-o",
            "vi",
            "--rcfile",
            "/home/alice/.bashrc",
            "-O",
            "globstar",
        ],
        ports: &[],
    },
    Program {
        name: "vim",
        exe: "/usr/bin/vim",
        user: "bob",
        args: &[
            "-R",
            "+set number",
            "src/main.rs",
            "src/lib.rs",
            "Cargo.toml",
            "README.md",
            "-O",
        ],
        ports: &[],
    },
    Program {
        name: "prometheus",
        exe: "/usr/bin/prometheus",
        user: "prometheus",
        args: &[
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/var/lib/prometheus/metrics2",
            "--web.listen-address=:9090",
            "--storage.tsdb.retention.time=15d",
            "--web.enable-lifecycle",
            "--log.level=info",
        ],
        ports: &[9090],
    },
    Program {
        name: "node_exporter",
        exe: "/usr/bin/prometheus-node-exporter",
        user: "prometheus",
        args: &[
            "--collector.systemd",
            "--web.listen-address=:9100",
            "--collector.textfile.directory=/var/lib/node_exporter",
            "--no-collector.wifi",
            "--log.level=warn",
        ],
        ports: &[9100],
    },
    Program {
        name: "cron",
        exe: "/usr/sbin/cron",
        user: "root",
        args: &["-f", "-L", "15", "-P", "-n"],
        ports: &[],
    },
    Program {
        name: "containerd-shim",
        exe: "/usr/bin/containerd-shim-runc-v2",
        user: "root",
        args: &[
            "-namespace",
            "moby",
            "-id",
            "3f1c0e9ab27d4c55",
            "-address",
            "/run/containerd/containerd.sock",
            "-debug",
        ],
        ports: &[],
    },
    Program {
        name: "curl",
        exe: "/usr/bin/curl",
        user: "app",
        args: &[
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--retry",
            "3",
            "http://127.0.0.1:8080/health",
            "-H",
        ],
        ports: &[],
    },
    Program {
        name: "dnsmasq",
        exe: "/usr/sbin/dnsmasq",
        user: "nobody",
        args: &[
            "-k",
            "--conf-file=/etc/dnsmasq.conf",
            "--user=nobody",
            "--port=53",
            "--cache-size=1000",
        ],
        ports: &[53],
    },
    Program {
        name: "celery",
        exe: "/usr/bin/python3",
        user: "app",
        args: &[
            "-m",
            "celery",
            "-A",
            "tasks",
            "worker",
            "--loglevel=INFO",
            "--concurrency=8",
            "-Q",
            "default,high",
        ],
        ports: &[],
    },
    Program {
        name: "php-fpm8.2",
        exe: "/usr/sbin/php-fpm8.2",
        user: "www-data",
        args: &[
            "--nodaemonize",
            "--fpm-config",
            "/etc/php/8.2/fpm/php-fpm.conf",
            "-R",
            "--pid",
            "/run/php/php8.2-fpm.pid",
        ],
        ports: &[9000],
    },
    Program {
        name: "rsyslogd",
        exe: "/usr/sbin/rsyslogd",
        user: "syslog",
        args: &["-n", "-iNONE", "-f", "/etc/rsyslog.conf", "-d"],
        ports: &[514],
    },
];

pub(crate) const USERS: &[&str] = &[
    "root",
    "www-data",
    "postgres",
    "app",
    "deploy",
    "redis",
    "alice",
    "bob",
    "carol",
    "nobody",
    "prometheus",
    "syslog",
    "systemd-network",
    "messagebus",
    "_chrony",
];

pub(crate) const KERNEL_THREADS: &[&str] = &[
    "kworker/0:1-events",
    "kworker/1:2-mm_percpu_wq",
    "ksoftirqd/0",
    "ksoftirqd/1",
    "migration/0",
    "rcu_preempt",
    "kswapd0",
    "jbd2/sda1-8",
    "kcompactd0",
    "writeback",
];

pub(crate) fn uid_of(user: &str) -> u32 {
    match user {
        "root" => 0,
        "www-data" => 33,
        "nobody" => 65534,
        other => 1000 + other.bytes().map(u32::from).sum::<u32>() % 500,
    }
}

pub(crate) fn base_process(pid: u32, ppid: u32, rng: &mut Rng) -> Process {
    Process {
        ppid,
        name: String::new(),
        cmdline: Vec::new(),
        uid: 0,
        start_time_ms: TAKEN_AT_MS - rng.between(10_000, 40 * 86_400_000),
        cpu: Some(CpuUsage {
            total_pct: 0.0,
            user_pct: 0.0,
            system_pct: 0.0,
        }),
        netns: Some(HOST_NETNS),
        ..Process::example(pid, "root")
    }
}

pub(crate) fn set_cpu(p: &mut Process, rng: &mut Rng) {
    // Most processes sleep; some tick over; a few are busy.
    let pct = match rng.below(100) {
        0..=79 => 0.0,
        80..=95 => (rng.unit() * 5.0 * 10.0).round() / 10.0,
        _ => (rng.unit() * 180.0 * 10.0).round() / 10.0 + 5.0,
    };
    p.cpu = Some(CpuUsage {
        total_pct: pct,
        user_pct: pct * 0.75,
        system_pct: pct * 0.25,
    });
}

pub(crate) fn user_process(pid: u32, ppid: u32, index: usize, rng: &mut Rng) -> Process {
    let program = rng.pick(PROGRAMS);
    let mut p = base_process(pid, ppid, rng);
    let user = if rng.percent(75) {
        program.user
    } else {
        *rng.pick(USERS)
    };
    p.name = program.name.chars().take(15).collect();
    p.exe = Some(program.exe.to_owned());
    p.user = Some(user.to_owned());
    p.uid = uid_of(user);
    // argv[0] plus 2..=9 arguments: 3 to 10 words in all.
    let extra = (rng.between(2, 9) as usize).min(program.args.len());
    p.cmdline = std::iter::once(program.exe.to_owned())
        .chain(program.args[..extra].iter().map(|a| (*a).to_owned()))
        .collect();
    if extra >= 3 && rng.percent(50) {
        if let Some(last) = p.cmdline.last_mut() {
            *last = format!("--worker-id={index}");
        }
    }
    p.state = match rng.below(100) {
        0..=3 => ProcessState::Running,
        4 => ProcessState::DiskSleep,
        5 if rng.percent(20) => ProcessState::Zombie,
        _ => ProcessState::Sleeping,
    };
    p.threads = match rng.below(10) {
        0..=5 => 1,
        6..=8 => rng.between(2, 16) as u32,
        _ => rng.between(17, 200) as u32,
    };
    set_cpu(&mut p, rng);
    let cpu_ms = rng.below(5_000_000);
    p.cpu_time = CpuTime {
        user_ms: cpu_ms * 3 / 4,
        system_ms: cpu_ms / 4,
    };
    // Resident size spread over 1 MiB .. 2 GiB, most of it small.
    let rss = (MIB as f64 * 2f64.powf(rng.unit() * rng.unit() * 11.0)) as u64;
    p.memory = ProcessMemory {
        rss_bytes: rss,
        virtual_bytes: rss * rng.between(2, 40),
        percent: rss as f64 * 100.0 / (64.0 * 1024.0 * MIB as f64),
    };
    p.disk = Some(DiskIo {
        read_bytes_per_sec: Some(0.0),
        write_bytes_per_sec: Some(if rng.percent(5) {
            rng.below(4 * MIB) as f64
        } else {
            0.0
        }),
        read_bytes_total: rng.below(1 << 34),
        write_bytes_total: rng.below(1 << 32),
    });
    p.fd_count = Some(rng.between(3, 400) as u32);
    if rng.percent(12) {
        let id = format!("{:016x}{:016x}", rng.next(), rng.next());
        p.cgroup = Some(format!("/system.slice/docker-{id}.scope"));
        p.container_id = Some(id);
        p.netns = Some(HOST_NETNS + 1 + rng.below(40));
    } else {
        p.cgroup = Some(format!("/system.slice/{}.service", program.name));
    }
    if p.state == ProcessState::Zombie {
        p.cmdline.clear();
        p.threads = 1;
        p.memory.rss_bytes = 0;
    }
    p
}

pub(crate) fn kernel_thread(pid: u32, rng: &mut Rng) -> Process {
    let mut p = base_process(pid, 2, rng);
    p.name = (*rng.pick(KERNEL_THREADS)).to_owned();
    p.kernel_thread = true;
    p.state = if rng.percent(60) {
        ProcessState::Idle
    } else {
        ProcessState::Sleeping
    };
    p.netns = None;
    p
}

pub(crate) fn remote_addr(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.between(1, 254) as u8,
    ))
}

/// Builds a host of `count` processes: mostly services and their workers, some kernel threads,
/// a few hundred listeners with inbound and local connections, and clients talking to them.
pub(crate) fn synthetic_processes(count: usize, seed: u64) -> Vec<Process> {
    let mut rng = Rng(seed);
    let mut processes = Vec::with_capacity(count);
    let mut pid = 1u32;
    for index in 0..count {
        let p = if index == 0 {
            let mut init = base_process(1, 0, &mut rng);
            init.name = "systemd".to_owned();
            init.exe = Some("/usr/lib/systemd/systemd".to_owned());
            init.cmdline = ["/sbin/init", "splash", "--system", "--deserialize=31"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            init
        } else if rng.percent(8) {
            kernel_thread(pid, &mut rng)
        } else {
            let parent = if rng.percent(30) || processes.is_empty() {
                1
            } else {
                let at = rng.below(processes.len() as u64) as usize;
                let candidate: &Process = &processes[at];
                if candidate.kernel_thread {
                    1
                } else {
                    candidate.pid
                }
            };
            user_process(pid, parent, index, &mut rng)
        };
        processes.push(p);
        pid += rng.between(1, 7) as u32;
    }

    // Listeners: about one in twelve service processes, one to three ports each.
    let mut inode = 1_000_000u64;
    let mut listeners: Vec<(usize, u16)> = Vec::new();
    for (at, p) in processes.iter_mut().enumerate() {
        let Some(program) = PROGRAMS
            .iter()
            .find(|g| g.name.starts_with(p.name.as_str()))
        else {
            continue;
        };
        if program.ports.is_empty() || p.kernel_thread || !rng.percent(8) {
            continue;
        }
        let wanted = rng.between(1, 3) as usize;
        for _ in 0..wanted {
            let port = *rng.pick(program.ports);
            if p.listening.iter().any(|l| l.port == port) {
                continue;
            }
            let udp = port == 53 || port == 514;
            let v6 = rng.percent(30);
            let addr = match (v6, rng.percent(70)) {
                (false, true) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                (false, false) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                (true, _) => "::".parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            };
            inode += 1;
            p.listening.push(Listening {
                proto: if udp { Proto::Udp } else { Proto::Tcp },
                family: if v6 { Family::Ipv6 } else { Family::Ipv4 },
                addr,
                port,
                inode,
                netns: p.netns,
            });
            if !udp {
                listeners.push((at, port));
            }
        }
    }

    // Connections: listeners serve a few remote and local clients; some other processes are
    // clients of a local listener or of something remote.
    let names: Vec<(u32, String)> = processes.iter().map(|p| (p.pid, p.name.clone())).collect();
    for &(at, port) in &listeners {
        for _ in 0..rng.between(1, 5) {
            inode += 1;
            let local = rng.percent(40);
            let (remote_addr, direction, peer) = if local {
                let (peer_pid, peer_name) = rng.pick(&names).clone();
                (
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    Direction::Local,
                    Some((peer_pid, peer_name)),
                )
            } else {
                (remote_addr(&mut rng), Direction::Inbound, None)
            };
            let p = &mut processes[at];
            p.connections.push(Connection {
                proto: Proto::Tcp,
                family: Family::Ipv4,
                local_addr: if local {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))
                },
                local_port: port,
                remote_addr,
                remote_port: rng.between(32768, 60999) as u16,
                state: SocketState::Established,
                direction,
                role: Some(Role::Server),
                inode,
                netns: p.netns,
                peer_pid: peer.as_ref().map(|(pid, _)| *pid),
                peer_name: peer.map(|(_, name)| name.into()),
                traffic: wiretop::model::Traffic::default(),
            });
        }
    }
    for p in processes.iter_mut() {
        if p.kernel_thread || !p.listening.is_empty() || !rng.percent(10) {
            continue;
        }
        for _ in 0..rng.between(1, 3) {
            inode += 1;
            let to_local = !listeners.is_empty() && rng.percent(50);
            let (remote_addr, remote_port, direction, peer) = if to_local {
                let &(server_at, port) = rng.pick(&listeners);
                let (peer_pid, peer_name) = names[server_at].clone();
                (
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    port,
                    Direction::Local,
                    Some((peer_pid, peer_name)),
                )
            } else {
                let port = *rng.pick(&[443u16, 5432, 6379, 9092, 8080]);
                (remote_addr(&mut rng), port, Direction::Outbound, None)
            };
            p.connections.push(Connection {
                proto: Proto::Tcp,
                family: Family::Ipv4,
                local_addr: if to_local {
                    IpAddr::V4(Ipv4Addr::LOCALHOST)
                } else {
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))
                },
                local_port: rng.between(32768, 60999) as u16,
                remote_addr,
                remote_port,
                state: if rng.percent(95) {
                    SocketState::Established
                } else {
                    SocketState::CloseWait
                },
                direction,
                role: Some(Role::Client),
                inode,
                netns: p.netns,
                peer_pid: peer.as_ref().map(|(pid, _)| *pid),
                peer_name: peer.map(|(_, name)| name.into()),
                traffic: wiretop::model::Traffic::default(),
            });
        }
    }
    processes
}

pub(crate) fn snapshot_of(processes: Vec<Process>, taken_at_ms: u64) -> Snapshot {
    let mut snapshot = Snapshot::example(processes);
    let host = &mut snapshot.host;
    host.hostname = "bench-host-1".to_owned();
    host.kernel = "6.1.0-bench".to_owned();
    host.boot_time_ms = TAKEN_AT_MS - 45 * 86_400_000;
    host.uptime_secs = 45.0 * 86_400.0;
    host.cpu_count = 32;
    host.load_average = LoadAverage {
        one: 6.2,
        five: 5.8,
        fifteen: 5.1,
    };
    host.memory = Memory {
        total_bytes: 64 * 1024 * MIB,
        used_bytes: 41 * 1024 * MIB,
        available_bytes: 23 * 1024 * MIB,
        swap_total_bytes: 8 * 1024 * MIB,
        swap_used_bytes: 512 * MIB,
    };
    host.taken_at_ms = taken_at_ms;
    host.tags = vec!["env:bench".to_owned(), "service:explorer".to_owned()];
    snapshot.collection.duration_ms = 48.0;
    snapshot.collection.full_ownership_scan = false;
    snapshot.collection.network_namespaces = vec![HOST_NETNS];
    snapshot
}

/// The next refresh of `before`: new CPU figures everywhere, twenty processes gone and twenty
/// new ones, so the explorer also has ghosts to carry.
pub(crate) fn next_snapshot(before: &Snapshot, seed: u64) -> Snapshot {
    let mut rng = Rng(seed);
    let mut processes: Vec<Process> = before
        .processes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || i % (before.processes.len() / 20).max(2) != 7)
        .map(|(_, p)| p.clone())
        .collect();
    for p in processes.iter_mut().filter(|p| !p.kernel_thread) {
        set_cpu(p, &mut rng);
    }
    let mut pid = processes.last().map_or(100, |p| p.pid) + 10;
    for index in 0..20 {
        processes.push(user_process(pid, 1, 100_000 + index, &mut rng));
        pid += 3;
    }
    snapshot_of(processes, before.host.taken_at_ms + 2_000)
}
