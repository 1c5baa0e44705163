//! Churn: the background sampler keeps publishing internally consistent snapshots while
//! short-lived processes and loopback connections come and go by the hundreds per second.
//!
//! A Python helper forks (and reaps) children; the test process and a Python client open and
//! reset loopback connections to a listener in the test process. Every snapshot the sampler
//! publishes meanwhile is checked: one entry per (pid, start time), in pid order; counts that
//! match the lists; every socket listed under a process has an inode, appears once there and
//! is not also unowned; every peer is a process of the same snapshot, under its name there,
//! and names us back; the test's own listener is listed under the test process. No sample may
//! fail and the sampler may not stall.
//!
//! The run lasts `WIRETOP_CHURN_SECS` seconds (10 by default, as in CI). The full version runs
//! for a minute and prints its figures:
//!
//! ```text
//! WIRETOP_CHURN_SECS=60 cargo test --test churn -- --nocapture
//! ```
//!
//! Consistency is always asserted, and so are the churn rates (at least 300 processes and 1,000
//! connections per second; the helpers are paced at twice that): a run that churned less proved
//! less. `WIRETOP_CHURN_LENIENT=1` turns a rate shortfall into a printed warning for a machine
//! too busy to reach them. Speed and memory are printed, never asserted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use wiretop::model::{Snapshot, SocketState};
use wiretop::sample::{spawn, SampleOutcome, SamplerSettings};

/// The sampler's interval during the run.
const INTERVAL: Duration = Duration::from_millis(100);
/// Processes the fork helper starts per second (paced, so it does not take a whole core).
const FORK_RATE: u32 = 600;
/// Connections the test process opens per second to its own listener.
const RUST_CONN_RATE: u32 = 1_500;
/// Connections the Python client opens per second to the test process's listener.
const PYTHON_CONN_RATE: u32 = 500;
/// Connections each side keeps open before closing the oldest: at the rates above they live
/// 100-200 ms, about as long as a scan, so snapshots catch established pairs with both owners
/// (a connection closed within a few ms is gone before the sampler reads its owner's fds).
const ACCEPTOR_HOLDS: usize = 250;
const CLIENT_HOLDS: usize = 200;
const PYTHON_HOLDS: usize = 100;
/// The rates the churn must reach to count as churn (asserted only in strict mode).
const MIN_PROC_RATE: f64 = 300.0;
const MIN_CONN_RATE: f64 = 1_000.0;
/// How often the test process's RSS is read during the churn.
const RSS_EVERY: Duration = Duration::from_secs(10);
/// A sampler that publishes nothing for this long has stalled.
const STALL: Duration = Duration::from_secs(10);

/// Forks children at `rate` per second for `secs` seconds: a quarter exec /bin/true, a quarter
/// sleep up to 20 ms, the rest exit at once. Reaps every one, prints `done <forked>`, then waits
/// for stdin to close (the test ending, however it ends) before exiting.
const FORKER: &str = r#"
import os, random, signal, sys, time
rate, secs = float(sys.argv[1]), float(sys.argv[2])
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
start = time.monotonic()
forked = live = 0
while not stop:
    now = time.monotonic()
    if now >= start + secs:
        break
    due = start + forked / rate
    if now < due:
        time.sleep(due - now)
        continue
    pid = os.fork()
    if pid == 0:
        try:
            kind = forked % 4
            if kind == 0:
                os.execv("/bin/true", ["true"])
            elif kind == 1:
                time.sleep(random.random() * 0.02)
        finally:
            os._exit(0)
    forked += 1
    live += 1
    while live:
        pid, _ = os.waitpid(-1, 0 if live >= 32 else os.WNOHANG)
        if pid == 0:
            break
        live -= 1
while live:
    os.waitpid(-1, 0)
    live -= 1
print("done", forked, flush=True)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
sys.stdin.read()
"#;

/// Connects to 127.0.0.1:`port` at `rate` per second for `secs` seconds, keeping the last
/// `keep` connections open and closing with SO_LINGER 0 (a reset, so no TIME_WAIT is left behind).
/// Prints `done <opened> <failed>`, then waits for stdin to close.
const CONNECTOR: &str = r#"
import collections, socket, struct, sys, time
port, rate, secs, keep = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
linger = struct.pack("ii", 1, 0)
held = collections.deque()
print("ready", flush=True)
start = time.monotonic()
opened = failed = 0
while True:
    now = time.monotonic()
    if now >= start + secs:
        break
    due = start + (opened + failed) / rate
    if now < due:
        time.sleep(due - now)
        continue
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    try:
        c.connect(("127.0.0.1", port))
    except OSError:
        c.close()
        failed += 1
        continue
    opened += 1
    held.append(c)
    if len(held) > keep:
        held.popleft().close()
while held:
    held.popleft().close()
print("done", opened, failed, flush=True)
sys.stdin.read()
"#;

/// A helper process leading its own process group. Dropping it stops the whole group (the
/// helper and anything it forked) and reaps the helper.
struct Helper {
    name: &'static str,
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
}

impl Helper {
    fn python(name: &'static str, script: &str, args: &[String]) -> Helper {
        let mut command = Command::new(common::PYTHON);
        command
            .arg("-c")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .process_group(0);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Helper { name, child, lines }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line the helper prints, or a panic naming it.
    fn line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .unwrap_or_else(|e| panic!("{} printed no line within {within:?}: {e}", self.name))
    }

    /// Waits for `done <numbers...>` and returns the numbers.
    fn done(&self, within: Duration) -> Vec<u64> {
        let line = self.line(within);
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("done"), "{}: {line}", self.name);
        words
            .map(|w| {
                w.parse()
                    .unwrap_or_else(|_| panic!("{}: {line}", self.name))
            })
            .collect()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        // A closed stdin tells a helper that has finished its run to exit.
        drop(self.child.stdin.take());
        let group = Pid::from_raw(self.child.id() as i32);
        // SIGTERM first: the forker then stops and reaps its children itself.
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The group outlives its leader while any member lives, so this reaches stragglers.
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A loopback listener in the test process that accepts every connection and closes it
/// [`ACCEPTOR_HOLDS`] connections later, and a client thread that opens connections to it at a
/// fixed rate. Both ends close with a reset. Dropping it stops and joins both threads.
struct ConnChurn {
    port: u16,
    listener_inode: u64,
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    accepted: Arc<AtomicU64>,
    acceptor: Option<JoinHandle<()>>,
    client: Option<JoinHandle<()>>,
}

impl ConnChurn {
    fn listen() -> ConnChurn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("loopback listener");
        let port = listener.local_addr().unwrap().port();
        let listener_inode = common::system::socket_inode(&listener).expect("the listener's inode");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicU64::new(0));
        let acceptor = {
            let stop = Arc::clone(&stop);
            let accepted = Arc::clone(&accepted);
            std::thread::spawn(move || {
                let mut held = VecDeque::new();
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    // A client may reset before its connection is accepted: skip it.
                    let Ok(stream) = stream else { continue };
                    let _ = common::system::reset_on_close(&stream);
                    accepted.fetch_add(1, Ordering::Relaxed);
                    held.push_back(stream);
                    if held.len() > ACCEPTOR_HOLDS {
                        held.pop_front();
                    }
                }
            })
        };
        ConnChurn {
            port,
            listener_inode,
            stop,
            opened: Arc::new(AtomicU64::new(0)),
            failed: Arc::new(AtomicU64::new(0)),
            accepted,
            acceptor: Some(acceptor),
            client: None,
        }
    }

    /// Starts opening connections at `rate` per second for `secs`, keeping the last
    /// [`CLIENT_HOLDS`] open.
    fn start_client(&mut self, rate: u32, secs: Duration) {
        let (port, stop) = (self.port, Arc::clone(&self.stop));
        let (opened, failed) = (Arc::clone(&self.opened), Arc::clone(&self.failed));
        self.client = Some(std::thread::spawn(move || {
            let start = Instant::now();
            let mut held = VecDeque::new();
            let mut attempts = 0u32;
            while !stop.load(Ordering::Relaxed) && start.elapsed() < secs {
                let due = start + Duration::from_secs(1) * attempts / rate;
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                    continue;
                }
                attempts += 1;
                let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                common::system::reset_on_close(&stream).expect("SO_LINGER on a client socket");
                opened.fetch_add(1, Ordering::Relaxed);
                held.push_back(stream);
                if held.len() > CLIENT_HOLDS {
                    held.pop_front();
                }
            }
        }));
    }

    /// Waits for the client thread to finish its run.
    fn join_client(&mut self) {
        if let Some(client) = self.client.take() {
            client.join().expect("client thread does not panic");
        }
    }
}

impl Drop for ConnChurn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(client) = self.client.take() {
            let _ = client.join();
        }
        // The acceptor blocks in accept(): one more connection wakes it to see the flag.
        if let Ok(wake) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = common::system::reset_on_close(&wake);
        }
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// What the sampler thread reports.
enum Event {
    Snapshot(Arc<Snapshot>),
    Failed(String),
}

/// Processes that must be in every snapshot taken from `since_ms` on.
struct Expected {
    since_ms: u64,
    pids: Vec<(u32, &'static str)>,
    /// The test's listener: from `since_ms` on it is listed under the test process.
    listener_inode: Option<u64>,
}

/// Figures gathered over the snapshots, and every inconsistency found.
#[derive(Default)]
struct Tally {
    snapshots: usize,
    failures: Vec<String>,
    durations_ms: Vec<f64>,
    ownership_ms: Vec<f64>,
    /// How the slowest collection divided its time.
    slowest: Option<wiretop::model::Collection>,
    full_scans: usize,
    connections_checked: usize,
    connections_with_peer: usize,
    unowned_sockets: usize,
    /// Unowned sockets with an inode: held by a process the sampler did not find (here: closed
    /// between the socket-table read and the fd scan).
    not_visible_sockets: usize,
    /// (pid, start time) of the forker's children seen in any snapshot.
    forked_seen: HashSet<(u32, u64)>,
    warnings: HashSet<String>,
    inconsistencies: usize,
    first_inconsistencies: Vec<String>,
}

impl Tally {
    fn take(&mut self, event: Event, expected: &Expected, forker: Option<u32>) {
        let snap = match event {
            Event::Failed(error) => {
                self.failures.push(error);
                return;
            }
            Event::Snapshot(snap) => snap,
        };
        self.snapshots += 1;
        self.durations_ms.push(snap.collection.duration_ms);
        self.ownership_ms.push(snap.collection.phases.ownership_ms);
        self.full_scans += usize::from(snap.collection.full_ownership_scan);
        if self
            .slowest
            .as_ref()
            .is_none_or(|c| c.duration_ms < snap.collection.duration_ms)
        {
            self.slowest = Some(snap.collection.clone());
        }
        self.unowned_sockets += snap.unowned_sockets.len();
        self.not_visible_sockets += snap.unowned_sockets.iter().filter(|u| u.inode != 0).count();
        for p in &snap.processes {
            self.connections_checked += p.connections.len();
            self.connections_with_peer += p
                .connections
                .iter()
                .filter(|c| c.peer_pid.is_some())
                .count();
            if forker == Some(p.ppid) {
                self.forked_seen.insert((p.pid, p.start_time_ms));
            }
        }
        self.warnings
            .extend(snap.collection.warnings.iter().cloned());
        let problems = inconsistencies(&snap, expected);
        self.inconsistencies += problems.len();
        for problem in problems {
            if self.first_inconsistencies.len() < 20 {
                self.first_inconsistencies.push(format!(
                    "snapshot #{} (taken at {} ms): {problem}",
                    self.snapshots, snap.host.taken_at_ms
                ));
            }
        }
    }
}

/// The median and the maximum.
fn median_and_max(values: &[f64]) -> (f64, f64) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => (f64::NAN, f64::NAN),
        n if n % 2 == 1 => (sorted[n / 2], sorted[n - 1]),
        n => ((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0, sorted[n - 1]),
    }
}

/// Everything inconsistent in one snapshot (`common::invariants`), and what the churn itself
/// keeps alive missing from it.
fn inconsistencies(snap: &Snapshot, expected: &Expected) -> Vec<String> {
    let mut problems = common::invariants::problems(snap);
    let by_pid: HashMap<u32, &wiretop::model::Process> =
        snap.processes.iter().map(|p| (p.pid, p)).collect();
    // What the test itself keeps alive.
    if snap.host.taken_at_ms >= expected.since_ms {
        for (pid, what) in &expected.pids {
            if !by_pid.contains_key(pid) {
                problems.push(format!("{what} ({pid}) missing"));
            }
        }
        if let Some(inode) = expected.listener_inode {
            let me = std::process::id();
            let listed = by_pid
                .get(&me)
                .is_some_and(|p| p.listening.iter().any(|l| l.inode == inode));
            if !listed {
                let elsewhere: Vec<u32> = snap
                    .processes
                    .iter()
                    .filter(|p| p.listening.iter().any(|l| l.inode == inode))
                    .map(|p| p.pid)
                    .collect();
                let unowned = snap.unowned_sockets.iter().any(|u| u.inode == inode);
                problems.push(format!(
                    "the test's listener (inode {inode}) not listed under the test process {me} \
                     (listed under {elsewhere:?}, unowned: {unowned})"
                ));
            }
        }
    }
    problems
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

#[test]
fn snapshots_stay_consistent_under_process_and_connection_churn() {
    let secs: u64 = match std::env::var("WIRETOP_CHURN_SECS") {
        Ok(v) => v
            .parse()
            .expect("WIRETOP_CHURN_SECS is a whole number of seconds"),
        Err(_) => 10,
    };
    let duration = Duration::from_secs(secs);
    let lenient = env_flag("WIRETOP_CHURN_LENIENT");

    let (tx, rx) = mpsc::channel();
    let settings = SamplerSettings {
        interval: INTERVAL,
        ..SamplerSettings::default()
    };
    let running = spawn(settings, move |outcome| {
        let event = match outcome {
            SampleOutcome::Published(snap) => Event::Snapshot(Arc::clone(snap)),
            SampleOutcome::Failed(error) => Event::Failed(error.to_string()),
        };
        let _ = tx.send(event);
    })
    .expect("sampler thread starts");
    let next = |rx: &mpsc::Receiver<Event>| match rx.recv_timeout(STALL) {
        Ok(event) => event,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("sampler published nothing for {STALL:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("sampler thread ended"),
    };

    let mut tally = Tally::default();
    let nothing = Expected {
        since_ms: 0,
        pids: vec![(std::process::id(), "the test process")],
        listener_inode: None,
    };
    tally.take(next(&rx), &nothing, None);
    let rss_start_kb = common::system::status_field(std::process::id(), "VmRSS:").unwrap_or(0);

    // The churn: a fork loop, a Python client and an in-process client, both connecting to a
    // listener in the test process, so peers cross processes as well as threads.
    let mut conns = ConnChurn::listen();
    let secs_arg = secs.to_string();
    let forker = Helper::python(
        "fork helper",
        FORKER,
        &[FORK_RATE.to_string(), secs_arg.clone()],
    );
    let connector = Helper::python(
        "connection helper",
        CONNECTOR,
        &[
            conns.port.to_string(),
            PYTHON_CONN_RATE.to_string(),
            secs_arg,
            PYTHON_HOLDS.to_string(),
        ],
    );
    let ready = Duration::from_secs(10);
    assert_eq!(forker.line(ready), "ready");
    assert_eq!(connector.line(ready), "ready");
    conns.start_client(RUST_CONN_RATE, duration);
    let churn_started = Instant::now();
    let expected = Expected {
        since_ms: wiretop::time::now_ms() + 1,
        pids: vec![
            (std::process::id(), "the test process"),
            (forker.pid(), "the fork helper"),
            (connector.pid(), "the connection helper"),
        ],
        listener_inode: Some(conns.listener_inode),
    };

    // RSS every 10 s of the churn: the first minutes fill the allocator's arenas and the
    // sampler's caches, so only the shape after that says whether anything leaks.
    let mut rss_during_kb = Vec::new();
    let mut next_rss_reading = churn_started + RSS_EVERY;
    while churn_started.elapsed() < duration {
        tally.take(next(&rx), &expected, Some(forker.pid()));
        if Instant::now() >= next_rss_reading {
            rss_during_kb
                .push(common::system::status_field(std::process::id(), "VmRSS:").unwrap_or(0));
            next_rss_reading += RSS_EVERY;
        }
    }
    let snapshots_during_churn = tally.snapshots - 1;
    conns.join_client();
    let late = Duration::from_secs(30);
    let forked = forker.done(late)[0];
    let python_conns = connector.done(late);
    let window = churn_started.elapsed().as_secs_f64();
    let rss_end_kb = common::system::status_field(std::process::id(), "VmRSS:").unwrap_or(0);

    running.stop();
    while let Ok(event) = rx.try_recv() {
        tally.take(event, &expected, Some(forker.pid()));
    }
    let rust_opened = conns.opened.load(Ordering::Relaxed);
    let rust_failed = conns.failed.load(Ordering::Relaxed);
    let accepted = Arc::clone(&conns.accepted);
    drop(conns); // joins the acceptor, so the count below is final
    let accepted = accepted.load(Ordering::Relaxed);
    drop(forker);
    drop(connector);

    let proc_rate = forked as f64 / window;
    let opened = rust_opened + python_conns[0];
    let conn_rate = opened as f64 / window;
    let (median_ms, max_ms) = median_and_max(&tally.durations_ms);
    let (own_median_ms, own_max_ms) = median_and_max(&tally.ownership_ms);
    let min_snapshots = (secs as f64 / INTERVAL.as_secs_f64() * 0.3) as usize;

    println!("churn figures ({secs} s requested, {window:.1} s measured):");
    println!(
        "  processes: {forked} forked and reaped, {proc_rate:.0}/s (paced at {FORK_RATE}/s); \
         {} of them caught in a snapshot",
        tally.forked_seen.len()
    );
    println!(
        "  connections: {opened} opened and reset, {conn_rate:.0}/s (paced at {}/s): \
         {rust_opened} in-process, {} from python; failed connects: {rust_failed} in-process, \
         {} from python; {accepted} accepted",
        RUST_CONN_RATE + PYTHON_CONN_RATE,
        python_conns[0],
        python_conns[1],
    );
    println!(
        "  snapshots: {} during the churn ({} in all, at least {min_snapshots} required), \
         {} failed samples, {} full ownership scans",
        snapshots_during_churn,
        tally.snapshots,
        tally.failures.len(),
        tally.full_scans
    );
    println!(
        "  checked: {} connections ({} with a peer), {} unowned sockets ({} with an inode \
         whose owner was not found)",
        tally.connections_checked,
        tally.connections_with_peer,
        tally.unowned_sockets,
        tally.not_visible_sockets
    );
    println!(
        "  collection.duration_ms: median {median_ms:.1}, max {max_ms:.1} \
         (ownership phase: median {own_median_ms:.1}, max {own_max_ms:.1})"
    );
    if let Some(c) = &tally.slowest {
        println!(
            "  slowest collection: {:.1} ms = processes {:.1} + socket tables {:.1} + ownership \
             {:.1} + peers {:.1} (full ownership scan: {})",
            c.duration_ms,
            c.phases.processes_ms,
            c.phases.socket_tables_ms,
            c.phases.ownership_ms,
            c.phases.peers_ms,
            c.full_ownership_scan
        );
    }
    println!(
        "  VmRSS of the test process: {rss_start_kb} kB after the first snapshot, \
         {rss_end_kb} kB at the end ({:+} kB); every {} s of the churn: {:?} kB",
        rss_end_kb as i64 - rss_start_kb as i64,
        RSS_EVERY.as_secs(),
        rss_during_kb
    );
    for warning in &tally.warnings {
        println!("  snapshot warning: {warning}");
    }
    let short_of_rate = proc_rate < MIN_PROC_RATE || conn_rate < MIN_CONN_RATE;
    if short_of_rate && lenient {
        println!(
            "  WARNING: churn below target ({proc_rate:.0} processes/s of {MIN_PROC_RATE}, \
             {conn_rate:.0} connections/s of {MIN_CONN_RATE}); not failing because \
             WIRETOP_CHURN_LENIENT is set"
        );
    }

    assert!(
        tally.failures.is_empty(),
        "samples failed: {:?}",
        tally.failures
    );
    assert_eq!(
        tally.inconsistencies,
        0,
        "{} inconsistencies in {} snapshots; the first:\n{}",
        tally.inconsistencies,
        tally.snapshots,
        tally.first_inconsistencies.join("\n")
    );
    assert!(
        snapshots_during_churn >= min_snapshots,
        "the sampler stalled: {snapshots_during_churn} snapshots in {secs} s, at least \
         {min_snapshots} expected"
    );
    // The checks above must have had something to look at: churned processes, and connections
    // whose peers were resolved (each is then checked to name us back).
    assert!(
        !tally.forked_seen.is_empty(),
        "no forked child was ever caught in a snapshot"
    );
    assert!(
        tally.connections_with_peer > 0,
        "no connection had a peer: peer resolution went unchecked"
    );
    if !lenient {
        assert!(
            proc_rate >= MIN_PROC_RATE,
            "{proc_rate:.0} processes/s, the churn needs {MIN_PROC_RATE} \
             (WIRETOP_CHURN_LENIENT=1 turns this into a warning on a machine too busy for it)"
        );
        assert!(
            conn_rate >= MIN_CONN_RATE,
            "{conn_rate:.0} connections/s, the churn needs {MIN_CONN_RATE} \
             (WIRETOP_CHURN_LENIENT=1 turns this into a warning on a machine too busy for it)"
        );
    }
}

/// The checks above would pass vacuously if they looked at nothing: each tampering of a real
/// snapshot must be reported.
#[test]
fn consistency_checks_catch_tampered_snapshots() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let client_inode = common::system::socket_inode(&client).expect("the client socket's inode");
    let me = std::process::id();
    let expected = Expected {
        since_ms: 0,
        pids: vec![(me, "the test process")],
        listener_inode: common::system::socket_inode(&listener),
    };
    let snap = common::snapshot();
    assert_eq!(inconsistencies(&snap, &expected), Vec::<String>::new());
    let mine = snap.processes.iter().position(|p| p.pid == me).unwrap();
    let client_at = snap.processes[mine]
        .connections
        .iter()
        .position(|c| c.inode == client_inode)
        .expect("the client end is listed under the test process");
    assert_eq!(
        snap.processes[mine].connections[client_at].peer_pid,
        Some(me)
    );

    let tampered = |what: &str, change: &dyn Fn(&mut Snapshot)| {
        let mut copy = snap.clone();
        change(&mut copy);
        let problems = inconsistencies(&copy, &expected);
        assert!(!problems.is_empty(), "{what} went unnoticed");
    };
    tampered("a process listed twice", &|s| {
        let p = s.processes[mine].clone();
        s.processes.insert(mine, p);
        s.host.counts.processes += 1;
        s.host.counts.threads += s.processes[mine].threads;
    });
    tampered("a wrong process count", &|s| s.host.counts.processes += 1);
    tampered("a peer missing from the snapshot", &|s| {
        s.processes[mine].connections[client_at].peer_pid = Some(u32::MAX)
    });
    tampered("an owned socket also listed as unowned", &|s| {
        let c = s.processes[mine].connections[client_at].clone();
        s.unowned_sockets.push(wiretop::model::UnownedSocket {
            proto: c.proto,
            family: c.family,
            local_addr: c.local_addr,
            local_port: c.local_port,
            remote_addr: c.remote_addr,
            remote_port: c.remote_port,
            state: SocketState::SynSent,
            inode: c.inode,
            netns: c.netns,
            uid: 0,
            reason: "not_visible".to_owned(),
        });
    });
    tampered("a wrong established count", &|s| {
        s.host.counts.established_connections += 1
    });
    tampered("the listener lost", &|s| {
        s.processes[mine].listening.clear()
    });
    drop((client, server));
}
