//! A small, fixed host for the explorer's tests: a web server with a local client, a database,
//! sshd, a kernel thread, and a process whose name and arguments try to take over the terminal.

use std::collections::BTreeMap;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::model::examples::TAKEN_AT_MS;
use crate::model::{
    diff_snapshots, process_event, Connection, CpuTime, CpuUsage, Direction, Family, LifecycleKind,
    Listening, Process, ProcessMemory, ProcessState, Proto, Role, Snapshot, Traffic,
};

use super::app::{App, AppOptions, NiceChange, Signaller};
use super::render;
use super::state::ProcessId;
use super::theme::Theme;

/// The fixed "now" of every test frame: two seconds after the fixture was taken.
pub const NOW_MS: u64 = TAKEN_AT_MS + 2_000;
const MIB: u64 = 1024 * 1024;

fn process(pid: u32, ppid: u32, name: &str, user: &str, cmdline: &[&str]) -> Process {
    Process {
        pid,
        ppid,
        name: name.to_owned(),
        exe: cmdline.first().map(|s| (*s).to_owned()),
        cmdline: cmdline.iter().map(|s| (*s).to_owned()).collect(),
        user: Some(user.to_owned()),
        uid: if user == "root" { 0 } else { 1000 + pid },
        state: ProcessState::Sleeping,
        threads: 1,
        nice: Some(0),
        priority: Some(20),
        start_time_ms: TAKEN_AT_MS - u64::from(pid) * 60_000,
        kernel_thread: false,
        cpu: Some(CpuUsage {
            total_pct: 0.0,
            user_pct: 0.0,
            system_pct: 0.0,
        }),
        cpu_time: CpuTime {
            user_ms: u64::from(pid) * 10,
            system_ms: 0,
        },
        memory: ProcessMemory {
            rss_bytes: 4 * MIB,
            virtual_bytes: 64 * MIB,
            percent: 0.1,
        },
        disk: None,
        net_send_bytes_per_sec: Some(0.0),
        net_recv_bytes_per_sec: Some(0.0),
        net_sent_bytes: Some(0),
        net_received_bytes: Some(0),
        fd_count: Some(8),
        cgroup: None,
        container_id: None,
        attribution: Default::default(),
        netns: Some(4026531840),
        listening: Vec::new(),
        connections: Vec::new(),
        recently_closed: Vec::new(),
        unreadable: BTreeMap::new(),
        new: false,
        unexpected: None,
        unexpected_reasons: Vec::new(),
    }
}

fn listen(addr: &str, port: u16, inode: u64) -> Listening {
    let addr = addr.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    Listening {
        proto: Proto::Tcp,
        family: if addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        },
        addr,
        port,
        inode,
        netns: Some(4026531840),
    }
}

fn set_cpu(p: &mut Process, pct: f64) {
    p.cpu = Some(CpuUsage {
        total_pct: pct,
        user_pct: pct * 0.8,
        system_pct: pct * 0.2,
    });
}

/// The fixture host's processes.
pub fn processes() -> Vec<Process> {
    let mut init = process(1, 0, "systemd", "root", &["/sbin/init"]);
    init.threads = 1;
    let mut kthreadd = process(2, 0, "kthreadd", "root", &[]);
    kthreadd.kernel_thread = true;
    kthreadd.exe = None;
    kthreadd.memory.rss_bytes = 0;
    let mut sshd = process(812, 1, "sshd", "root", &["sshd: /usr/sbin/sshd -D"]);
    sshd.listening.push(listen("0.0.0.0", 22, 100));
    sshd.listening.push(listen("::", 22, 101));
    let mut bash = process(1250, 812, "bash", "app", &["-bash"]);
    bash.state = ProcessState::Sleeping;
    let mut node = process(
        1200,
        1,
        "node",
        "app",
        &["node", "/srv/app/server.js", "--port", "8080"],
    );
    set_cpu(&mut node, 12.5);
    node.memory = ProcessMemory {
        rss_bytes: 80 * MIB,
        virtual_bytes: 900 * MIB,
        percent: 1.0,
    };
    node.threads = 7;
    node.listening.push(listen("127.0.0.1", 8080, 200));
    // node streams 2 MiB/s to curl: 48 MiB so far.
    let stream = |sent: u64, received: u64, send: f64, recv: f64| Traffic {
        bytes_sent: Some(sent),
        bytes_received: Some(received),
        send_bytes_per_sec: Some(send),
        recv_bytes_per_sec: Some(recv),
        rtt_ms: Some(0.05),
        rttvar_ms: Some(0.01),
        retransmits: Some(0),
        retransmits_last_interval: Some(0),
        send_queue_bytes: Some(0),
        recv_queue_bytes: Some(0),
        idle_ms: Some(0),
        traffic_unavailable: None,
    };
    node.connections.push(Connection {
        traffic: stream(48 * MIB, 120, 2.0 * MIB as f64, 0.0),
        ..Connection::example_loopback(8080, 50312, Role::Server, (1300, "curl"), 201)
    });
    node.net_send_bytes_per_sec = Some(2.0 * MIB as f64);
    let mut curl = process(
        1300,
        1250,
        "curl",
        "app",
        &["curl", "-sN", "http://127.0.0.1:8080/"],
    );
    set_cpu(&mut curl, 0.5);
    curl.state = ProcessState::Running;
    curl.connections.push(Connection {
        traffic: stream(120, 48 * MIB, 0.0, 2.0 * MIB as f64),
        ..Connection::example_loopback(50312, 8080, Role::Client, (1200, "node"), 300)
    });
    curl.net_recv_bytes_per_sec = Some(2.0 * MIB as f64);
    let mut postgres = process(
        1400,
        1,
        "postgres",
        "postgres",
        &[
            "/usr/lib/postgresql/15/bin/postgres",
            "-D",
            "/var/lib/postgresql",
        ],
    );
    set_cpu(&mut postgres, 3.2);
    postgres.memory = ProcessMemory {
        rss_bytes: 300 * MIB,
        virtual_bytes: 2048 * MIB,
        percent: 3.7,
    };
    postgres.threads = 3;
    postgres.listening.push(listen("127.0.0.1", 5432, 400));
    let mut evil = process(
        1500,
        1250,
        "\x1b[31mevil",
        "app",
        &["/tmp/x", "\x1b]0;pwned\x07", "\rgone\x1b[2J"],
    );
    set_cpu(&mut evil, 1.0);
    vec![init, kthreadd, sshd, node, bash, curl, postgres, evil]
}

/// The fixture host, plus postgres serving two connections from an app server and node
/// calling out to an API with no rate measured yet.
pub fn processes_with_remote_peers() -> Vec<Process> {
    let mut processes = processes();
    let remote = |to: &str, role: Role, inode: u64, traffic: Traffic| {
        let to: std::net::SocketAddr = to.parse().unwrap_or_else(|e| panic!("{to}: {e}"));
        Connection {
            local_addr: [10, 0, 0, 2].into(),
            remote_addr: to.ip(),
            remote_port: to.port(),
            direction: if role == Role::Server {
                Direction::Inbound
            } else {
                Direction::Outbound
            },
            peer_pid: None,
            peer_name: None,
            traffic,
            ..Connection::example_loopback(40_000 + inode as u16, 0, role, (0, ""), inode)
        }
    };
    for p in &mut processes {
        match p.name.as_str() {
            "postgres" => {
                p.connections.push(remote(
                    "10.0.0.7:51000",
                    Role::Server,
                    401,
                    Traffic::example(300_000.0, 20_000.0, 0.4, 0),
                ));
                p.connections.push(remote(
                    "10.0.0.7:51001",
                    Role::Server,
                    402,
                    Traffic::example(100_000.0, 10_000.0, 1.6, 3),
                ));
            }
            "node" => p.connections.push(remote(
                "203.0.113.9:443",
                Role::Client,
                202,
                Traffic::default(),
            )),
            _ => {}
        }
    }
    processes
}

/// The fixture host's processes in their units, and node in a container (`web-1`): sshd in
/// `ssh.service`, bash and curl in `session-3.scope`, node and postgres in `app.service`
/// (node inside docker's `web-1`, image `node:22`); init, kthreadd and the evil process in none.
pub fn attributed_processes() -> Vec<Process> {
    let mut processes = processes();
    for p in &mut processes {
        let unit = match p.pid {
            812 => "ssh.service",
            1250 | 1300 => "session-3.scope",
            1200 | 1400 => "app.service",
            _ => continue,
        };
        p.attribution.systemd_unit = Some(unit.to_owned());
        p.attribution.systemd_slice = Some("system.slice".to_owned());
        if p.pid == 1200 {
            p.attribution.container = Some(crate::model::Container {
                id: "c0ffee".repeat(10) + "beef",
                runtime: Some(crate::model::ContainerRuntime::Docker),
                name: Some("web-1".to_owned()),
                image: Some("node:22".to_owned()),
                unknown_reason: None,
            });
        }
    }
    processes
}

/// An app showing the fixture host with [`attributed_processes`].
pub fn attributed_app() -> App {
    let mut app = app();
    let mut snapshot = Snapshot::example(attributed_processes());
    snapshot.host.tags = vec!["env:test".to_owned()];
    app.on_snapshot(Arc::new(snapshot));
    app
}

/// The fixture snapshot: the example host (`web-1`, tagged `env:test`) running the processes.
pub fn snapshot() -> Snapshot {
    let mut snapshot = Snapshot::example(processes());
    snapshot.host.tags = vec!["env:test".to_owned()];
    snapshot
}

/// The fixture host `seconds` after [`snapshot`] was taken, running `processes`.
pub fn snapshot_at(seconds: u64, processes: Vec<Process>) -> Snapshot {
    let mut snapshot = snapshot();
    snapshot.processes = processes;
    snapshot.host.taken_at_ms += seconds * 1_000;
    snapshot.host.uptime_secs += seconds as f64;
    snapshot
}

/// The fixture's worker: pid 1600, started a second after the explorer launched (after the
/// first snapshot), listening on 0.0.0.0:9090.
pub fn worker() -> Process {
    let mut worker = process(
        1600,
        1,
        "worker",
        "app",
        &["/srv/app/worker", "--port", "9090"],
    );
    worker.start_time_ms = TAKEN_AT_MS + 1_000;
    worker.listening.push(listen("0.0.0.0", 9090, 600));
    worker
}

/// What the sampler publishes after `previous` when the host runs `processes` `seconds` after
/// the fixture's first snapshot: the lifecycle events between the two ([`diff_snapshots`], plus
/// `connections`, the first connections the sampler's memory of destinations would report),
/// and each process marked new as the sampler marks it (started after the first snapshot's
/// first reading).
pub fn next_snapshot(
    previous: &Snapshot,
    seconds: u64,
    processes: Vec<Process>,
    connections: &[(u32, [u8; 4], u16)],
) -> Snapshot {
    let mut next = snapshot_at(seconds, processes);
    next.mark_new_since(snapshot().first_reading_ms());
    let mut events = diff_snapshots(previous, &next);
    for &(pid, addr, port) in connections {
        if let Some(p) = next.process(pid) {
            let kind = LifecycleKind::FirstConnection {
                proto: Proto::Tcp,
                addr: addr.into(),
                port,
            };
            events.push(process_event(kind, p, next.host.taken_at_ms));
        }
    }
    events.sort_by_key(|e| (e.pid, e.start_time_ms, e.kind.rank(), e.kind.endpoint()));
    next.events = events;
    next
}

/// The fixture host 2 s on: curl (1300) has exited, the [`worker`] has started, and node made
/// its first connection to 203.0.113.9:443; with the events of that change.
pub fn changed_snapshot() -> Snapshot {
    let mut processes = processes();
    processes.retain(|p| p.pid != 1300);
    processes.push(worker());
    next_snapshot(&snapshot(), 2, processes, &[(1200, [203, 0, 113, 9], 443)])
}

/// An app that has shown the fixture snapshot, then [`changed_snapshot`].
pub fn changed_app() -> App {
    let mut app = app();
    app.on_snapshot(Arc::new(changed_snapshot()));
    app
}

/// Records signals and renices instead of doing them; answers as the kernel would to a
/// non-root user when told to refuse.
pub struct RecordingSignaller {
    pub sent: SentSignals,
    /// The nice values set, as (pid, nice); every process starts at nice 0.
    pub reniced: SentSignals,
    pub refuse: bool,
}

impl Signaller for RecordingSignaller {
    fn send(&mut self, target: ProcessId, signal: i32) -> Result<(), String> {
        let pid = target.pid;
        if self.refuse {
            return Err("operation not permitted (EPERM)".to_owned());
        }
        if let Ok(mut sent) = self.sent.lock() {
            sent.push((pid, signal));
        }
        Ok(())
    }

    fn renice(&mut self, target: ProcessId, change: NiceChange) -> Result<i32, String> {
        if self.refuse {
            return Err("permission denied (EACCES): only root may raise a priority".to_owned());
        }
        let Ok(mut reniced) = self.reniced.lock() else {
            return Err("poisoned".to_owned());
        };
        let now = reniced
            .iter()
            .rev()
            .find(|(pid, _)| *pid == target.pid)
            .map_or(0, |(_, nice)| *nice);
        let nice = match change {
            NiceChange::By(step) => now + step,
            NiceChange::To(nice) => nice,
        }
        .clamp(-20, 19);
        reniced.push((target.pid, nice));
        Ok(nice)
    }
}

/// The signals a [`RecordingSignaller`] was asked to send, as (pid, signal).
pub type SentSignals = Arc<std::sync::Mutex<Vec<(u32, i32)>>>;

/// An app showing the fixture snapshot whose kills are recorded (or refused with EPERM).
pub fn recording_app(refuse: bool) -> (App, SentSignals) {
    let (app, sent, _) = renice_app(refuse);
    (app, sent)
}

/// An app showing the fixture snapshot whose kills and renices are recorded (or refused):
/// the app, the signals sent, the nice values set.
pub fn renice_app(refuse: bool) -> (App, SentSignals, SentSignals) {
    let sent = SentSignals::default();
    let reniced = SentSignals::default();
    let signaller = RecordingSignaller {
        sent: Arc::clone(&sent),
        reniced: Arc::clone(&reniced),
        refuse,
    };
    let mut app = App::new(AppOptions::new(Box::new(signaller)));
    app.on_snapshot(Arc::new(snapshot()));
    (app, sent, reniced)
}

/// An app showing the fixture snapshot.
pub fn app() -> App {
    recording_app(false).0
}

/// An app showing the fixture host with remote peers ([`processes_with_remote_peers`]).
pub fn remote_peers_app() -> App {
    let mut app = app();
    let mut snapshot = Snapshot::example(processes_with_remote_peers());
    snapshot.host.tags = vec!["env:test".to_owned()];
    app.on_snapshot(Arc::new(snapshot));
    app
}

/// An app showing the fixture snapshot, started with `options` changed by `configure`.
pub fn app_with(configure: impl FnOnce(&mut AppOptions)) -> App {
    let mut options = AppOptions::new(Box::new(RecordingSignaller {
        sent: SentSignals::default(),
        reniced: SentSignals::default(),
        refuse: false,
    }));
    configure(&mut options);
    let mut app = App::new(options);
    app.on_snapshot(Arc::new(snapshot()));
    app
}

/// Draws `app` on a `width`x`height` test terminal in `theme`; returns what the terminal
/// holds, styles and all.
pub fn draw(app: &mut App, width: u16, height: u16, theme: Theme) -> Buffer {
    let backend = TestBackend::new(width, height);
    // TestBackend cannot fail (its error type is Infallible).
    let Ok(mut terminal) = Terminal::new(backend);
    let layout = render::prepare(app, Rect::new(0, 0, width, height));
    if let Err(e) = terminal.draw(|frame| render::draw(frame, app, &layout, &theme, NOW_MS)) {
        panic!("draw failed: {e}");
    }
    terminal.backend().buffer().clone()
}

/// Draws `app` on a `width`x`height` test terminal and returns the screen as text, one line
/// per row with trailing spaces trimmed.
pub fn screen(app: &mut App, width: u16, height: u16) -> String {
    text(&draw(app, width, height, Theme::new(true)))
}

/// A drawn screen as text, one line per row with trailing spaces trimmed.
pub fn text(buffer: &Buffer) -> String {
    let (width, height) = (buffer.area.width, buffer.area.height);
    let mut out = String::new();
    for y in 0..height {
        let mut line = String::new();
        for x in 0..width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
