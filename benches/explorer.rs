//! How responsive the explorer is, and what it costs to leave it open.
//!
//! `cargo bench --bench explorer` measures, and prints as tables:
//!
//! 1. Render cost: a synthetic 5,000-process snapshot drawn into a ratatui `TestBackend` at
//!    200x50 and 80x24 (prepare + draw, including ratatui's buffer diff), for an unchanged view,
//!    the frame after a re-sort, a filter, five expanded rows, the tree view and a new snapshot
//!    arriving. Target: 2 ms per frame.
//! 2. In-process input-to-frame latency: `App::on_key` plus the frame it asks for. Target: 16 ms.
//! 3. End-to-end keypress-to-screen latency: `target/release/wiretop --interval 2s` in a real
//!    pty, read back through vt100, alternating the `N` and `P` sort keys and waiting for the
//!    sort marker in the title row to flip.
//! 4. Idle cost: wiretop, htop (default and `-d 20`) and btop side by side in ptys for
//!    `WIRETOP_BENCH_IDLE_SECS` (default 60) after a warm-up, CPU time from /proc/<pid>/stat,
//!    terminal output volume, and wiretop's resident memory.
//!
//! Other knobs: `WIRETOP_BENCH_UI_PROCS` (synthetic processes, default 5000),
//! `WIRETOP_BENCH_FRAMES` (frames or keys per in-process row, default 200),
//! `WIRETOP_BENCH_KEY_SAMPLES` (pty keypresses, default 50), `WIRETOP_BENCH_WARMUP_SECS`
//! (default 5), `WIRETOP_BENCH_SHOW_SCREENS` (set: print each tool's screen at the end of the
//! idle window to stderr).
//!
//! Every child runs in a session of its own with its pty as controlling terminal; a guard kills
//! and reaps them however the bench ends (and the pty hang-up reaches them if the bench dies).

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use nix::pty::{openpty, Winsize};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use wiretop::model::{
    Connection, CpuTime, CpuUsage, Direction, DiskIo, Family, Listening, LoadAverage, Memory,
    Process, ProcessMemory, ProcessState, Proto, Role, Snapshot, SocketState,
};
use wiretop::ui::app::{App, AppOptions, KillSignaller};
use wiretop::ui::render::{draw, prepare};
use wiretop::ui::rows::Line;
use wiretop::ui::state::ProcessId;
use wiretop::ui::theme::Theme;

/// When the synthetic snapshot was taken, and the "now" every frame is drawn at.
const TAKEN_AT_MS: u64 = 1_795_735_000_000;
const NOW_MS: u64 = TAKEN_AT_MS + 2_000;
const MIB: u64 = 1024 * 1024;
const HOST_NETNS: u64 = 4_026_531_840;

const FRAME_TARGET_MS: f64 = 2.0;
const INPUT_TARGET_MS: f64 = 16.0;
/// In-process terminal sizes (columns, rows).
const SIZES: [(u16, u16); 2] = [(200, 50), (80, 24)];
/// Untimed frames before each measured row, so allocations and caches settle.
const WARMUP_FRAMES: usize = 10;

const PTY_COLS: u16 = 120;
const PTY_ROWS: u16 = 40;
/// How long a child may take to show its first screen, and a key its effect.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
const KEY_TIMEOUT: Duration = Duration::from_secs(5);
/// Reads from a pty closer together than this belong to the same screen update.
const BURST_GAP: Duration = Duration::from_millis(100);

fn main() {
    match run() {
        Ok(()) => {}
        Err(error) => {
            eprintln!("explorer bench failed: {error:#}");
            std::process::exit(1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

struct Config {
    procs: usize,
    frames: usize,
    key_samples: usize,
    warmup_secs: u64,
    idle_secs: u64,
}

impl Config {
    fn from_env() -> Result<Config> {
        let config = Config {
            procs: support::env_number("WIRETOP_BENCH_UI_PROCS", 5000)? as usize,
            frames: support::env_number("WIRETOP_BENCH_FRAMES", 200)? as usize,
            key_samples: support::env_number("WIRETOP_BENCH_KEY_SAMPLES", 50)? as usize,
            warmup_secs: support::env_number("WIRETOP_BENCH_WARMUP_SECS", 5)?,
            idle_secs: support::env_number("WIRETOP_BENCH_IDLE_SECS", 60)?,
        };
        ensure!(
            config.procs >= 10,
            "WIRETOP_BENCH_UI_PROCS must be at least 10"
        );
        ensure!(
            config.frames >= 1,
            "WIRETOP_BENCH_FRAMES must be at least 1"
        );
        ensure!(
            config.key_samples >= 1,
            "WIRETOP_BENCH_KEY_SAMPLES must be at least 1"
        );
        ensure!(
            config.idle_secs >= 1,
            "WIRETOP_BENCH_IDLE_SECS must be at least 1"
        );
        Ok(config)
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// Summary of a series of durations in milliseconds.
struct Summary {
    count: usize,
    median: f64,
    p95: f64,
    max: f64,
}

impl Summary {
    fn of(samples: &[f64]) -> Summary {
        Summary {
            count: samples.len(),
            median: support::median(samples),
            p95: support::percentile(samples, 95.0),
            max: samples.iter().copied().fold(f64::NAN, f64::max),
        }
    }

    fn verdict(&self, target_ms: f64) -> &'static str {
        if self.p95 <= target_ms {
            "ok"
        } else if self.median <= target_ms {
            "p95 over"
        } else {
            "OVER"
        }
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ---------------------------------------------------------------------------------------------
// A synthetic host
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so every run draws the same host.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// True `percent` times out of a hundred.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A kind of program found on a busy host.
struct Program {
    name: &'static str,
    exe: &'static str,
    user: &'static str,
    /// Arguments after argv[0], in the order they are taken.
    args: &'static [&'static str],
    /// Ports instances of it may listen on; empty for pure clients.
    ports: &'static [u16],
}

const PROGRAMS: &[Program] = &[
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

const USERS: &[&str] = &[
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

const KERNEL_THREADS: &[&str] = &[
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

fn uid_of(user: &str) -> u32 {
    match user {
        "root" => 0,
        "www-data" => 33,
        "nobody" => 65534,
        other => 1000 + other.bytes().map(u32::from).sum::<u32>() % 500,
    }
}

fn base_process(pid: u32, ppid: u32, rng: &mut Rng) -> Process {
    Process {
        pid,
        ppid,
        name: String::new(),
        exe: None,
        cmdline: Vec::new(),
        user: Some("root".to_owned()),
        uid: 0,
        state: ProcessState::Sleeping,
        threads: 1,
        start_time_ms: TAKEN_AT_MS - rng.between(10_000, 40 * 86_400_000),
        kernel_thread: false,
        cpu: Some(CpuUsage {
            total_pct: 0.0,
            user_pct: 0.0,
            system_pct: 0.0,
        }),
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
        fd_count: None,
        cgroup: None,
        container_id: None,
        netns: Some(HOST_NETNS),
        listening: Vec::new(),
        connections: Vec::new(),
        unreadable: BTreeMap::new(),
    }
}

fn set_cpu(p: &mut Process, rng: &mut Rng) {
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

fn user_process(pid: u32, ppid: u32, index: usize, rng: &mut Rng) -> Process {
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

fn kernel_thread(pid: u32, rng: &mut Rng) -> Process {
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

fn remote_addr(rng: &mut Rng) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        10,
        rng.below(256) as u8,
        rng.below(256) as u8,
        rng.between(1, 254) as u8,
    ))
}

/// Builds a host of `count` processes: mostly services and their workers, some kernel threads,
/// a few hundred listeners with inbound and local connections, and clients talking to them.
fn synthetic_processes(count: usize, seed: u64) -> Vec<Process> {
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
                peer_name: peer.map(|(_, name)| name),
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
                peer_name: peer.map(|(_, name)| name),
            });
        }
    }
    processes
}

fn snapshot_of(processes: Vec<Process>, taken_at_ms: u64) -> Snapshot {
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
fn next_snapshot(before: &Snapshot, seed: u64) -> Snapshot {
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

// ---------------------------------------------------------------------------------------------
// In-process rendering
// ---------------------------------------------------------------------------------------------

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn char_key(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

fn new_app(snapshot: &Arc<Snapshot>) -> App {
    let mut app = App::new(AppOptions::new(Box::new(KillSignaller)));
    app.on_snapshot(Arc::clone(snapshot));
    app
}

fn new_terminal(width: u16, height: u16) -> Result<Terminal<TestBackend>> {
    Terminal::new(TestBackend::new(width, height)).context("creating a test terminal")
}

/// One frame, as the explorer's loop draws it: layout, then draw (ratatui diffs and "flushes"
/// into the test backend).
fn frame(app: &mut App, terminal: &mut Terminal<TestBackend>, theme: &Theme) -> Result<()> {
    let size = terminal.size().context("test terminal size")?;
    let layout = prepare(app, Rect::new(0, 0, size.width, size.height));
    terminal
        .draw(|f| draw(f, app, &layout, theme, NOW_MS))
        .context("drawing a frame")?;
    Ok(())
}

/// Process rows the current view shows (filter applied).
fn visible_processes(app: &App) -> usize {
    app.lines()
        .iter()
        .filter(|l| matches!(l, Line::Process { .. }))
        .count()
}

/// Times `frames` frames; `before` runs untimed ahead of each (a key, a new snapshot).
fn time_frames(
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    theme: &Theme,
    frames: usize,
    mut before: impl FnMut(&mut App, usize),
) -> Result<Vec<f64>> {
    for i in 0..WARMUP_FRAMES {
        before(app, i);
        frame(app, terminal, theme)?;
    }
    let mut samples = Vec::with_capacity(frames);
    for i in 0..frames {
        before(app, WARMUP_FRAMES + i);
        let started = Instant::now();
        frame(app, terminal, theme)?;
        samples.push(millis(started.elapsed()));
    }
    Ok(samples)
}

/// Times `samples` keys, each with the frame it asks for (when it asks for one).
fn time_keys(
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    theme: &Theme,
    samples: usize,
    mut next_key: impl FnMut(usize) -> KeyEvent,
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..WARMUP_FRAMES + samples {
        let pressed = next_key(i);
        let started = Instant::now();
        let control = app.on_key(pressed);
        if control == wiretop::ui::app::Control::Redraw {
            frame(app, terminal, theme)?;
        }
        let elapsed = millis(started.elapsed());
        if i >= WARMUP_FRAMES {
            out.push(elapsed);
        }
    }
    Ok(out)
}

struct Row {
    name: String,
    size: String,
    note: String,
    summary: Summary,
}

fn render_rows(config: &Config, a: &Arc<Snapshot>, b: &Arc<Snapshot>) -> Result<Vec<Row>> {
    let theme = Theme::new(true);
    let frames = config.frames;
    let mut rows = Vec::new();
    for (width, height) in SIZES {
        let size = format!("{width}x{height}");
        let mut add = |name: &str, note: String, samples: Vec<f64>| {
            rows.push(Row {
                name: name.to_owned(),
                size: size.clone(),
                note,
                summary: Summary::of(&samples),
            })
        };

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add("(a) redraw, view unchanged", "sort CPU%".into(), samples);

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |app, i| {
            app.on_key(char_key(if i % 2 == 0 { 'M' } else { 'P' }));
        })?;
        add(
            "(b) frame after re-sort",
            "M / P alternately; key untimed".into(),
            samples,
        );

        let mut app = new_app(a);
        app.view.set_filter_text("port:8080".to_owned());
        let shown = visible_processes(&app);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add(
            "(c) filter port:8080",
            format!("{shown} of {} processes match", a.processes.len()),
            samples,
        );

        let mut app = new_app(a);
        app.on_key(char_key('C'));
        let expanded: Vec<ProcessId> = app
            .lines()
            .iter()
            .filter_map(|l| match l {
                Line::Process { process, .. } => Some(ProcessId::of(process)),
                _ => None,
            })
            .take(5)
            .collect();
        app.view.expanded.extend(expanded);
        let lines = app.lines().len();
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add(
            "(d) 5 rows expanded",
            format!("sort CONN, top 5 open, {lines} lines"),
            samples,
        );

        let mut app = new_app(a);
        app.on_key(char_key('t'));
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add("(e) tree view", "t".into(), samples);

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |app, i| {
            app.on_snapshot(Arc::clone(if i % 2 == 0 { b } else { a }));
        })?;
        add(
            "(f) frame after new snapshot",
            "on_snapshot untimed; 20 exits + 20 new".into(),
            samples,
        );
    }
    Ok(rows)
}

fn input_rows(config: &Config, a: &Arc<Snapshot>) -> Result<Vec<Row>> {
    let theme = Theme::new(true);
    let samples = config.frames;
    let mut rows = Vec::new();
    for (width, height) in SIZES {
        let size = format!("{width}x{height}");
        let mut add = |name: &str, note: &str, samples: Vec<f64>| {
            rows.push(Row {
                name: name.to_owned(),
                size: size.clone(),
                note: note.to_owned(),
                summary: Summary::of(&samples),
            })
        };
        let fresh = || -> Result<(App, Terminal<TestBackend>)> {
            let mut app = new_app(a);
            let mut term = new_terminal(width, height)?;
            frame(&mut app, &mut term, &theme)?;
            Ok((app, term))
        };

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |_| key(KeyCode::Down))?;
        add("Down", "cursor walks down, scrolls", s);

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            key(if i % 2 == 0 {
                KeyCode::PageDown
            } else {
                KeyCode::PageUp
            })
        })?;
        add("PgDn / PgUp", "alternately", s);

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            char_key(if i % 2 == 0 { 'M' } else { 'P' })
        })?;
        add("M / P (re-sort)", "alternately", s);

        let (mut app, mut term) = fresh()?;
        let typed: Vec<KeyEvent> = std::iter::once(char_key('/'))
            .chain("port:8080".chars().map(char_key))
            .chain([key(KeyCode::Enter), key(KeyCode::Esc)])
            .collect();
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            typed[i % typed.len()]
        })?;
        add("typing a filter", "/ p o r t : 8 0 8 0 Enter Esc", s);

        let (mut app, mut term) = fresh()?;
        app.on_key(char_key('C'));
        frame(&mut app, &mut term, &theme)?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |_| {
            key(KeyCode::Enter)
        })?;
        add("Enter (expand/collapse)", "top row of sort CONN", s);
    }
    Ok(rows)
}

fn print_rows(title: &str, rows: &[Row], target_ms: f64) {
    println!("{title}");
    println!(
        "| {:<29} | {:>7} | {:>5} | {:>9} | {:>9} | {:>9} | {:>8} | {:<40} |",
        "scenario", "size", "n", "median ms", "p95 ms", "max ms", "target", "notes"
    );
    println!(
        "|{:-<31}|{:->9}|{:->7}|{:->11}|{:->11}|{:->11}|{:->10}|{:-<42}|",
        "", "", "", "", "", "", "", ""
    );
    for row in rows {
        let s = &row.summary;
        println!(
            "| {:<29} | {:>7} | {:>5} | {:>9.3} | {:>9.3} | {:>9.3} | {:>8} | {:<40} |",
            row.name,
            row.size,
            s.count,
            s.median,
            s.p95,
            s.max,
            s.verdict(target_ms),
            row.note
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Programs in ptys
// ---------------------------------------------------------------------------------------------

/// Waits for the first screen in which a predicate holds; checked by the reader thread on
/// every read, so the time is when the bytes arrived, not when someone looked.
struct Watch {
    ready: Box<dyn Fn(&vt100::Screen) -> bool + Send>,
    seen: Option<Instant>,
}

struct PtyState {
    parser: vt100::Parser,
    bytes: u64,
    /// When each read returned, for counting screen updates.
    reads: Vec<Instant>,
    watch: Option<Watch>,
    closed: bool,
}

/// A program running in a pty of its own, its output parsed as a terminal would show it.
struct PtyChild {
    label: String,
    child: Child,
    master: File,
    shared: Arc<(Mutex<PtyState>, Condvar)>,
    started: Instant,
}

fn set_cloexec(fd: &impl AsRawFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own; no memory is passed.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    ensure!(
        rc == 0,
        "fcntl(FD_CLOEXEC): {}",
        std::io::Error::last_os_error()
    );
    Ok(())
}

impl PtyChild {
    fn spawn(label: &str, program: &Path, args: &[&str], home: &Path) -> Result<PtyChild> {
        let size = Winsize {
            ws_row: PTY_ROWS,
            ws_col: PTY_COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).context("openpty")?;
        // Children started later must not inherit this pty's ends.
        set_cloexec(&pty.master)?;
        set_cloexec(&pty.slave)?;
        let slave_fd = pty.slave.as_raw_fd();
        let child = {
            let stdio = || -> Result<Stdio> {
                Ok(Stdio::from(pty.slave.try_clone().context("dup pty slave")?))
            };
            let mut command = Command::new(program);
            command
                .args(args)
                .env("TERM", "xterm-256color")
                .env("LANG", "C.UTF-8")
                .env("LC_ALL", "C.UTF-8")
                .env("HOME", home)
                .env_remove("NO_COLOR")
                .env_remove("XDG_CONFIG_HOME")
                .env_remove("COLUMNS")
                .env_remove("LINES")
                .stdin(stdio()?)
                .stdout(stdio()?)
                .stderr(stdio()?);
            // SAFETY: setsid and ioctl are async-signal-safe; nothing is allocated.
            unsafe {
                command.pre_exec(move || {
                    nix::unistd::setsid().map_err(std::io::Error::from)?;
                    if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            command
                .spawn()
                .with_context(|| format!("starting {label} ({})", program.display()))?
        };
        let started = Instant::now();
        // Only the child holds the slave now, so its exit ends the reader with EIO.
        drop(pty.slave);
        let master = File::from(pty.master);
        let mut reader = master.try_clone().context("dup pty master")?;
        let shared = Arc::new((
            Mutex::new(PtyState {
                parser: vt100::Parser::new(PTY_ROWS, PTY_COLS, 0),
                bytes: 0,
                reads: Vec::new(),
                watch: None,
                closed: false,
            }),
            Condvar::new(),
        ));
        let from_reader = Arc::clone(&shared);
        std::thread::Builder::new()
            .name(format!("pty-{label}"))
            .spawn(move || {
                let (state, changed) = &*from_reader;
                let mut buf = vec![0u8; 65536];
                let mut carry = Vec::new();
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let at = Instant::now();
                    let mut guard = lock(state);
                    let st = &mut *guard;
                    st.parser.process(&hvp_to_cup(&mut carry, &buf[..n]));
                    st.bytes += n as u64;
                    st.reads.push(at);
                    if let Some(watch) = st.watch.as_mut() {
                        if watch.seen.is_none() && (watch.ready)(st.parser.screen()) {
                            watch.seen = Some(at);
                            changed.notify_all();
                        }
                    }
                }
                lock(state).closed = true;
                changed.notify_all();
            })
            .context("starting a pty reader thread")?;
        Ok(PtyChild {
            label: label.to_owned(),
            child,
            master,
            shared,
            started,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn state(&self) -> MutexGuard<'_, PtyState> {
        lock(&self.shared.0)
    }

    fn contents(&self) -> String {
        self.state().parser.screen().contents()
    }

    fn bytes_and_reads(&self) -> (u64, Vec<Instant>) {
        let st = self.state();
        (st.bytes, st.reads.clone())
    }

    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.master
            .write_all(bytes)
            .and_then(|()| self.master.flush())
            .with_context(|| format!("writing to {}'s terminal", self.label))
    }

    /// Starts watching for `ready`; false if it already holds on the current screen.
    fn arm(&self, ready: impl Fn(&vt100::Screen) -> bool + Send + 'static) -> bool {
        let mut st = self.state();
        if ready(st.parser.screen()) {
            st.watch = None;
            return false;
        }
        st.watch = Some(Watch {
            ready: Box::new(ready),
            seen: None,
        });
        true
    }

    /// When the armed predicate first held, or None after `timeout` (or if the pty closed).
    fn wait_armed(&self, timeout: Duration) -> Option<Instant> {
        let (state, changed) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = lock(state);
        loop {
            if let Some(seen) = st.watch.as_ref().and_then(|w| w.seen) {
                st.watch = None;
                return Some(seen);
            }
            let now = Instant::now();
            if st.closed || now >= deadline {
                st.watch = None;
                return None;
            }
            st = match changed.wait_timeout(st, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&vt100::Screen) -> bool + Send + 'static,
    ) -> Result<Instant> {
        if !self.arm(ready) {
            return Ok(Instant::now());
        }
        match self.wait_armed(timeout) {
            Some(at) => Ok(at),
            None => bail!(
                "{} did not show {what} within {timeout:?}; screen:\n{}",
                self.label,
                self.contents()
            ),
        }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends `keys` and waits up to `timeout` for the program to exit.
    fn quit(&mut self, keys: &[u8], timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        if self.send(keys).is_err() {
            return self.exited();
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The child leads its own session and process group: take the whole group.
            let pgid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// vt100 0.15 does not know HVP (`CSI row;col f`), which btop positions its cursor with; it
/// means the same as CUP (`CSI row;col H`), so it is rewritten before parsing. An escape
/// sequence cut off at the end of `input` waits in `carry` for the next read.
fn hvp_to_cup(carry: &mut Vec<u8>, input: &[u8]) -> Vec<u8> {
    let mut data = std::mem::take(carry);
    data.extend_from_slice(input);
    let mut i = 0;
    while i < data.len() {
        if data[i] != 0x1b {
            i += 1;
            continue;
        }
        if i + 1 == data.len() {
            carry.extend(data.drain(i..));
            break;
        }
        if data[i + 1] != b'[' {
            i += 1;
            continue;
        }
        let mut end = i + 2;
        while end < data.len() && (0x30..=0x3f).contains(&data[end]) {
            end += 1;
        }
        if end == data.len() {
            // Unfinished: hold it back unless it is implausibly long.
            if end - i <= 64 {
                carry.extend(data.drain(i..));
            }
            break;
        }
        if data[end] == b'f' {
            data[end] = b'H';
        }
        i = end + 1;
    }
    data
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A scratch HOME for the children (htop and btop write their configuration there), removed
/// when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Result<ScratchDir> {
        let path =
            std::env::temp_dir().join(format!("wiretop-explorer-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn wiretop_binary() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = option_env!("CARGO_BIN_EXE_wiretop") {
        candidates.push(PathBuf::from(path));
    }
    // target/release/deps/explorer-<hash> -> target/release/wiretop
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("wiretop"));
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => Ok(path.clone()),
        None => bail!(
            "the wiretop binary is missing (looked at {candidates:?}); run `cargo build --release` \
             first"
        ),
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn non_blank_rows(screen: &vt100::Screen) -> usize {
    screen
        .rows(0, PTY_COLS)
        .filter(|row| !row.trim().is_empty())
        .count()
}

// ---------------------------------------------------------------------------------------------
// 3. End-to-end keypress latency
// ---------------------------------------------------------------------------------------------

struct EndToEnd {
    first_frame: Duration,
    samples: Vec<f64>,
    missed: usize,
    exit: Option<ExitStatus>,
    bytes_per_key: f64,
}

fn end_to_end(config: &Config, binary: &Path, home: &Path) -> Result<EndToEnd> {
    let mut ui = PtyChild::spawn("wiretop", binary, &["--interval", "2s"], home)?;
    let first = ui.wait_for("its first snapshot", FIRST_FRAME_TIMEOUT, |s| {
        let text = s.contents();
        text.contains("tasks") && text.contains("COMMAND")
    })?;
    let first_frame = first - ui.started;
    std::thread::sleep(Duration::from_millis(300));

    let mut rng = Rng(0x005e_ed0f_cafe);
    let mut samples = Vec::with_capacity(config.key_samples);
    let mut missed = 0;
    let mut bytes_during = 0u64;
    for i in 0..config.key_samples {
        // N sorts by pid (ascending), P by CPU (descending): the title row's marker flips.
        let (pressed, marker) = if i % 2 == 0 {
            (b"N", "PID▲")
        } else {
            (b"P", "CPU%▼")
        };
        let armed = ui.arm(move |s| s.contents().contains(marker));
        if !armed {
            bail!(
                "the screen already shows {marker} before pressing {}; screen:\n{}",
                pressed[0] as char,
                ui.contents()
            );
        }
        let bytes_before = ui.state().bytes;
        let sent = Instant::now();
        ui.send(pressed)?;
        match ui.wait_armed(KEY_TIMEOUT) {
            Some(seen) => samples.push(millis(seen.saturating_duration_since(sent))),
            None => missed += 1,
        }
        bytes_during += ui.state().bytes - bytes_before;
        // Spread the presses over the sampler's 2 s cycle.
        std::thread::sleep(Duration::from_millis(rng.between(60, 220)));
    }
    let exit = ui.quit(b"q", Duration::from_secs(5));
    Ok(EndToEnd {
        first_frame,
        bytes_per_key: bytes_during as f64 / config.key_samples as f64,
        samples,
        missed,
        exit,
    })
}

// ---------------------------------------------------------------------------------------------
// 4. Idle cost next to htop and btop
// ---------------------------------------------------------------------------------------------

struct Tool {
    label: &'static str,
    settings: &'static str,
    program: PathBuf,
    args: &'static [&'static str],
    /// Text the screen shows once the tool is really drawing.
    marker: &'static str,
}

struct IdleResult {
    label: &'static str,
    settings: &'static str,
    user_s: f64,
    system_s: f64,
    window_s: f64,
    bytes: u64,
    updates: usize,
    rss_kib: Option<u64>,
    threads: Option<u64>,
    drawing: String,
}

impl IdleResult {
    fn cpu_s(&self) -> f64 {
        self.user_s + self.system_s
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// utime and stime of a whole process (all its threads), in clock ticks.
fn cpu_ticks(pid: u32) -> Result<(u64, u64)> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The name may hold spaces and parentheses: fields are counted after the last ')'.
    let rest = text
        .rfind(')')
        .map(|at| &text[at + 1..])
        .with_context(|| format!("malformed {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    let field = |number: usize| -> Result<u64> {
        fields
            .get(number - 3)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("no field {number} in {path}"))
    };
    Ok((field(14)?, field(15)?))
}

fn status_field_kib(pid: u32, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Groups reads into screen updates: reads closer than [`BURST_GAP`] are one update.
fn updates_between(reads: &[Instant], from: Instant, to: Instant) -> usize {
    let mut updates = 0;
    let mut last: Option<Instant> = None;
    for &at in reads.iter().filter(|&&at| at >= from && at <= to) {
        if last.is_none_or(|prev| at.duration_since(prev) > BURST_GAP) {
            updates += 1;
        }
        last = Some(at);
    }
    updates
}

fn idle_cost(
    config: &Config,
    binary: &Path,
    home: &Path,
) -> Result<(Vec<IdleResult>, Vec<String>)> {
    let mut notes = Vec::new();
    let mut tools = vec![Tool {
        label: "wiretop",
        settings: "explorer, --interval 2s (default)",
        program: binary.to_path_buf(),
        args: &[],
        marker: "COMMAND",
    }];
    match find_in_path("htop") {
        Some(htop) => {
            tools.push(Tool {
                label: "htop",
                settings: "default delay 1.5 s (-d 15)",
                program: htop.clone(),
                args: &[],
                marker: "Command",
            });
            tools.push(Tool {
                label: "htop -d 20",
                settings: "delay 2.0 s, same as wiretop",
                program: htop,
                args: &["-d", "20"],
                marker: "Command",
            });
        }
        None => notes.push(
            "htop is not installed: rows skipped (install with `apt-get install htop btop`)"
                .to_owned(),
        ),
    }
    match find_in_path("btop") {
        Some(btop) => tools.push(Tool {
            label: "btop",
            settings: "default update_ms 2000, fresh config",
            program: btop,
            args: &[],
            marker: "proc",
        }),
        None => notes.push(
            "btop is not installed: row skipped (install with `apt-get install htop btop`)"
                .to_owned(),
        ),
    }

    // All at once: each sees the same host, and one window serves them all.
    let mut running = Vec::new();
    for tool in &tools {
        running.push(PtyChild::spawn(tool.label, &tool.program, tool.args, home)?);
    }
    for (tool, child) in tools.iter().zip(&running) {
        let marker = tool.marker;
        child.wait_for("its first screen", FIRST_FRAME_TIMEOUT, move |s| {
            s.contents().contains(marker) && non_blank_rows(s) >= 5
        })?;
    }
    eprintln!(
        "idle: {} tools drawing; warm-up {} s, then a {} s window",
        running.len(),
        config.warmup_secs,
        config.idle_secs
    );
    std::thread::sleep(Duration::from_secs(config.warmup_secs));

    let mut before = Vec::new();
    for child in &mut running {
        if let Some(status) = child.exited() {
            bail!("{} exited during the warm-up ({status})", child.label);
        }
        before.push(cpu_ticks(child.pid())?);
    }
    let bytes_before: Vec<u64> = running.iter().map(|c| c.state().bytes).collect();
    let window_start = Instant::now();
    std::thread::sleep(Duration::from_secs(config.idle_secs));
    let mut after = Vec::new();
    for child in &running {
        after.push(cpu_ticks(child.pid())?);
    }
    let window_end = Instant::now();
    let window_s = (window_end - window_start).as_secs_f64();
    let ticks = clock_ticks();
    let show_screens = std::env::var_os("WIRETOP_BENCH_SHOW_SCREENS").is_some();

    let mut results = Vec::new();
    for (i, (tool, child)) in tools.iter().zip(running.iter_mut()).enumerate() {
        let rss_kib = status_field_kib(child.pid(), "VmRSS:");
        let threads = status_field_kib(child.pid(), "Threads:");
        let (bytes, reads) = child.bytes_and_reads();
        let screen_rows = non_blank_rows(child.state().parser.screen());
        if show_screens {
            eprintln!(
                "---- {} screen at the end of the window ----\n{}",
                tool.label,
                child.contents()
            );
        }
        let drawing = match child.exited() {
            Some(status) => format!("EXITED ({status})"),
            None => format!("yes, {screen_rows}/{PTY_ROWS} rows"),
        };
        results.push(IdleResult {
            label: tool.label,
            settings: tool.settings,
            user_s: after[i].0.saturating_sub(before[i].0) as f64 / ticks,
            system_s: after[i].1.saturating_sub(before[i].1) as f64 / ticks,
            window_s,
            bytes: bytes - bytes_before[i],
            updates: updates_between(&reads, window_start, window_end),
            rss_kib,
            threads,
            drawing,
        });
    }
    for child in &mut running {
        if child.quit(b"q", Duration::from_secs(5)).is_none() {
            notes.push(format!(
                "{} did not exit within 5 s of `q`; killed",
                child.label
            ));
        }
    }
    drop(running);
    Ok((results, notes))
}

fn print_idle(results: &[IdleResult], config: &Config) {
    println!(
        "4. Idle cost: {} s window after {} s warm-up, {}x{} pty each, all running at once",
        config.idle_secs, config.warmup_secs, PTY_COLS, PTY_ROWS
    );
    println!(
        "| {:<10} | {:<37} | {:>7} | {:>7} | {:>7} | {:>9} | {:>9} | {:>8} | {:>7} | {:>4} | {:<16} |",
        "tool",
        "settings",
        "user s",
        "sys s",
        "cpu s",
        "% 1 core",
        "updates/s",
        "bytes/s",
        "RSS MiB",
        "thr",
        "drawing"
    );
    println!(
        "|{:-<12}|{:-<39}|{:->9}|{:->9}|{:->9}|{:->11}|{:->11}|{:->10}|{:->9}|{:->6}|{:-<18}|",
        "", "", "", "", "", "", "", "", "", "", ""
    );
    for r in results {
        println!(
            "| {:<10} | {:<37} | {:>7.2} | {:>7.2} | {:>7.2} | {:>8.2}% | {:>9.2} | {:>8.0} | {:>7} | {:>4} | {:<16} |",
            r.label,
            r.settings,
            r.user_s,
            r.system_s,
            r.cpu_s(),
            r.cpu_s() / r.window_s * 100.0,
            r.updates as f64 / r.window_s,
            r.bytes as f64 / r.window_s,
            r.rss_kib
                .map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
            r.threads.map_or_else(|| "?".to_owned(), |t| t.to_string()),
            r.drawing
        );
    }
    let Some(wiretop) = results.iter().find(|r| r.label == "wiretop") else {
        return;
    };
    for other in results.iter().filter(|r| r.label != "wiretop") {
        let ratio = if other.cpu_s() > 0.0 {
            format!("{:.2}x", wiretop.cpu_s() / other.cpu_s())
        } else {
            "n/a (0 ticks)".to_owned()
        };
        println!("CPU ratio wiretop / {:<10}: {ratio}", other.label);
    }
    if let Some(rss) = wiretop.rss_kib {
        println!(
            "wiretop explorer VmRSS at the end of the window: {:.1} MiB ({rss} KiB)",
            rss as f64 / 1024.0
        );
    }
    println!(
        "(CPU: utime+stime of each process and all its threads from /proc/<pid>/stat, {} ticks/s, \
         so +-{:.2} s per figure; updates = bursts of pty output more than {} ms apart)",
        clock_ticks(),
        1.0 / clock_ticks(),
        BURST_GAP.as_millis()
    );
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

/// The shared machine line plus how many processes this host runs.
fn machine_line() -> String {
    let processes = std::fs::read_dir("/proc").map_or(0, |dir| {
        dir.filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .count()
    });
    format!(
        "{}, {processes} processes on this host",
        support::machine_line()
    )
}

fn run() -> Result<()> {
    let config = Config::from_env()?;
    let started = Instant::now();
    let binary = wiretop_binary()?;
    let home = ScratchDir::new()?;
    let load_before = support::load_average();

    eprintln!("building a synthetic host of {} processes", config.procs);
    let a = Arc::new(snapshot_of(
        synthetic_processes(config.procs, 0x00c0_ffee_1234_5678),
        TAKEN_AT_MS,
    ));
    let b = Arc::new(next_snapshot(&a, 0x0bad_5eed));
    let listeners = a
        .processes
        .iter()
        .filter(|p| !p.listening.is_empty())
        .count();
    let with_conns = a
        .processes
        .iter()
        .filter(|p| !p.connections.is_empty())
        .count();

    eprintln!("1/4 render cost");
    let render = render_rows(&config, &a, &b)?;
    eprintln!("2/4 in-process input latency");
    let input = input_rows(&config, &a)?;
    eprintln!("3/4 end-to-end keypress latency in a pty");
    let e2e = end_to_end(&config, &binary, &home.0)?;
    eprintln!(
        "4/4 idle cost ({} s warm-up + {} s window)",
        config.warmup_secs, config.idle_secs
    );
    let (idle, idle_notes) = idle_cost(&config, &binary, &home.0)?;
    let load_after = support::load_average();

    println!();
    println!("wiretop explorer bench");
    println!("machine: {}", machine_line());
    println!("load average: {load_before} before, {load_after} after");
    println!("binary: {}", binary.display());
    println!(
        "synthetic snapshot: {} processes ({} listening, {} with connections, {} listening \
         sockets, {} established), seeded, drawn at a fixed time",
        a.processes.len(),
        listeners,
        with_conns,
        a.host.counts.listening_sockets,
        a.host.counts.established_connections
    );
    println!();
    print_rows(
        &format!(
            "1. Render cost per frame (prepare + draw into ratatui TestBackend, colour theme), \
             target {FRAME_TARGET_MS} ms"
        ),
        &render,
        FRAME_TARGET_MS,
    );
    println!();
    print_rows(
        &format!(
            "2. In-process input-to-frame latency (App::on_key + prepare + draw), target \
             {INPUT_TARGET_MS} ms"
        ),
        &input,
        INPUT_TARGET_MS,
    );
    println!("(TestBackend stores cells only: the terminal write and the emulator are section 3)");
    println!();
    let s = Summary::of(&e2e.samples);
    println!(
        "3. End-to-end keypress-to-screen latency: wiretop --interval 2s in a {PTY_COLS}x{PTY_ROWS} \
         pty, N / P alternately, until vt100 shows the new sort marker"
    );
    println!(
        "| {:<22} | {:>5} | {:>6} | {:>9} | {:>9} | {:>9} | {:>8} |",
        "measurement", "n", "missed", "median ms", "p95 ms", "max ms", "target"
    );
    println!(
        "|{:-<24}|{:->7}|{:->8}|{:->11}|{:->11}|{:->11}|{:->10}|",
        "", "", "", "", "", "", ""
    );
    println!(
        "| {:<22} | {:>5} | {:>6} | {:>9.3} | {:>9.3} | {:>9.3} | {:>8} |",
        "key to screen",
        s.count,
        e2e.missed,
        s.median,
        s.p95,
        s.max,
        s.verdict(INPUT_TARGET_MS)
    );
    println!(
        "start to first full screen: {:.0} ms; pty output per key (incl. any refresh in the \
         wait): {:.0} bytes; exit after q: {}",
        millis(e2e.first_frame),
        e2e.bytes_per_key,
        match e2e.exit {
            Some(status) if status.success() => "0 (clean)".to_owned(),
            Some(status) => format!("{status} (NOT clean)"),
            None => "did not exit within 5 s (killed)".to_owned(),
        }
    );
    println!();
    print_idle(&idle, &config);
    for note in &idle_notes {
        println!("note: {note}");
    }
    println!();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());

    let mut problems = Vec::new();
    for row in render.iter().chain(&input) {
        let target = if render.iter().any(|r| std::ptr::eq(r, row)) {
            FRAME_TARGET_MS
        } else {
            INPUT_TARGET_MS
        };
        if row.summary.p95 > target {
            problems.push(format!(
                "{} at {}: p95 {:.2} ms over the {target} ms target",
                row.name, row.size, row.summary.p95
            ));
        }
    }
    if e2e.missed > 0 {
        problems.push(format!(
            "{} of {} keypresses never reached the screen within {KEY_TIMEOUT:?}",
            e2e.missed, config.key_samples
        ));
    }
    if s.p95 > INPUT_TARGET_MS {
        problems.push(format!(
            "end-to-end key latency p95 {:.1} ms over {INPUT_TARGET_MS} ms",
            s.p95
        ));
    }
    if !e2e.exit.is_some_and(|status| status.success()) {
        problems.push("wiretop did not exit cleanly on q".to_owned());
    }
    for r in &idle {
        if r.drawing.starts_with("EXITED") {
            problems.push(format!("{} exited during the idle window", r.label));
        }
    }
    if let Some(w) = idle.iter().find(|r| r.label == "wiretop") {
        let expected = w.window_s / 2.0;
        if (w.updates as f64) > expected * 1.5 + 1.0 {
            problems.push(format!(
                "wiretop wrote {} screen updates in {:.0} s, more than one per 2 s sample",
                w.updates, w.window_s
            ));
        }
        if (w.updates as f64) < expected * 0.5 {
            problems.push(format!(
                "wiretop wrote only {} screen updates in {:.0} s (expected about {:.0})",
                w.updates, w.window_s, expected
            ));
        }
    }
    if problems.is_empty() {
        println!("problems: none seen");
    } else {
        println!("problems:");
        for problem in problems {
            println!("  - {problem}");
        }
    }
    Ok(())
}
