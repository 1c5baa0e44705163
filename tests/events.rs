//! `wiretop events`: a real process that starts, listens, connects to a new destination and
//! exits is printed as those events, one JSON object a line, while the command runs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The tests of this file run one at a time: a 10 ms process must find the machine's cores
/// free enough for the listener to read its command line before it exits.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `wiretop events` with a short interval, its lines arriving on a channel.
struct EventsCommand {
    child: std::process::Child,
    lines: mpsc::Receiver<Value>,
}

impl EventsCommand {
    fn start() -> EventsCommand {
        let scratch = std::env::temp_dir().join(format!("wiretop-events-{}", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_wiretop"))
            .args(["--interval", "300ms", "events", "--format", "json"])
            .env("XDG_CONFIG_HOME", &scratch)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wiretop events starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object a line ({e}): {line}"));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        EventsCommand { child, lines }
    }

    /// Waits until the command reports processes: short-lived probes are started until one is
    /// printed (the sampler's first snapshot and the kernel subscription come first, which
    /// takes a while on a busy machine with a debug build).
    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for attempt in 0.. {
            assert!(
                Instant::now() < deadline,
                "wiretop events never reported a probe"
            );
            let tag = format!("wiretop-ready-probe-{attempt}");
            Command::new("sh")
                .args(["-c", "sleep 0.05", tag.as_str()])
                .status()
                .expect("sh runs");
            let until = Instant::now() + Duration::from_millis(1_500);
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                match self.lines.recv_timeout(left) {
                    Ok(event) if event["cmdline"].to_string().contains(&tag) => return,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
    }

    /// Collects events until `done` holds for what was collected, or fails after 20 s.
    fn until(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = Vec::new();
        while !done(&seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(value) => seen.push(value),
                Err(_) => panic!("timed out waiting for {what}; saw {seen:#?}"),
            }
        }
        seen
    }
}

impl Drop for EventsCommand {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn of(events: &[Value], pid: u32, kind: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e["pid"] == pid && e["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn a_process_that_starts_listens_connects_and_exits_is_printed_as_those_events() {
    let _serial = one_at_a_time();
    let events = EventsCommand::start();
    events.wait_until_listening();
    let mut child = common::Child::python_listening(
        "import socket, sys\n\
         server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n\
         print(server.getsockname()[1], flush=True)\n\
         sys.stdin.readline()\n\
         client = socket.create_connection(('127.0.0.1', server.getsockname()[1]))\n\
         print('connected', flush=True)\n\
         sys.stdin.readline()\n\
         sys.exit(3)",
        &[],
    );
    let pid = child.pid();
    let port: u16 = child.line().trim().parse().unwrap();
    let listening = events.until("the start and the listener", |seen| {
        !of(seen, pid, "started").is_empty() && !of(seen, pid, "began_listening").is_empty()
    });
    let listen = &of(&listening, pid, "began_listening")[0];
    assert_eq!(listen["port"], port);
    assert_eq!(listen["proto"], "tcp");
    let started = &of(&listening, pid, "started")[0];
    assert!(
        started["cmdline"].to_string().contains("socket"),
        "command line: {started}"
    );
    assert!(of(&listening, pid, "first_connection").is_empty());

    child.send_line("connect");
    assert_eq!(child.line(), "connected");
    let connected = events.until("the first connection", |seen| {
        !of(seen, pid, "first_connection").is_empty()
    });
    let first = &of(&connected, pid, "first_connection")[0];
    assert_eq!(first["port"], port);
    assert_eq!(first["addr"], "127.0.0.1");

    child.send_line("exit");
    // Reaped here: until then it is a zombie, still listed in /proc.
    common::eventually("the child to exit", || child.has_exited().then_some(()));
    let ended = events.until("the exit", |seen| !of(seen, pid, "exited").is_empty());
    assert_eq!(of(&ended, pid, "stopped_listening").len(), 1);
    // CI runs as root: the kernel's process events give the exit its status.
    let exited = &of(&ended, pid, "exited")[0];
    assert_eq!(exited["exit"]["code"], 3, "{exited}");
    assert_eq!(exited["source"], "kernel", "{exited}");
    assert_eq!(exited["short_lived"], false);
}

#[test]
fn a_process_that_lives_ten_milliseconds_is_printed_with_its_command_line_and_exit_code() {
    let _serial = one_at_a_time();
    let events = EventsCommand::start();
    events.wait_until_listening();
    let status = Command::new("sh")
        .args([
            "-c",
            "sleep 0.01; exit 3",
            "brief-by-design",
            "--token=hunter2",
        ])
        .status()
        .expect("sh runs");
    assert_eq!(status.code(), Some(3));
    let is_ours = |e: &Value| e["cmdline"].to_string().contains("brief-by-design");
    let seen = events.until("the short-lived process", |seen| {
        seen.iter().any(|e| is_ours(e) && e["kind"] == "exited")
    });
    let ours: Vec<&Value> = seen.iter().filter(|e| is_ours(e)).collect();
    let started = ours
        .iter()
        .find(|e| e["kind"] == "started")
        .unwrap_or_else(|| panic!("no start among {ours:#?}"));
    let exited = ours.iter().find(|e| e["kind"] == "exited").unwrap();
    assert_eq!(started["pid"], exited["pid"]);
    assert_eq!(exited["exit"]["code"], 3, "{exited}");
    // Short-lived unless a snapshot happened to be taken in its 10 ms: then it is a listed
    // process whose exit the kernel's events completed. Either way the kernel reported it.
    assert_eq!(exited["source"], "kernel");
    let runtime = exited["runtime_ms"].as_u64().expect("a runtime");
    assert!((10..1_000).contains(&runtime), "ran {runtime} ms");
    assert_eq!(exited["user"], "root");
    // Scrubbed before it was stored, like every command line.
    let text = serde_json::to_string(&ours).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn without_privileges_the_command_says_what_it_misses() {
    let _serial = one_at_a_time();
    let binary = common::NobodyBinary::new("events");
    let mut child = common::as_nobody(&binary.path)
        .args(["--interval", "300ms", "events", "--format", "json"])
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wiretop events starts as nobody");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("not followed"), "{line}");
    assert!(line.contains("CAP_NET_ADMIN"), "{line}");
    assert!(line.contains("not seen"), "{line}");
}
