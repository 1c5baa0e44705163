//! `wiretop events`: a real process that starts, listens, connects to a new destination and
//! exits is printed as those events, one JSON object a line, while the command runs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

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
    let events = EventsCommand::start();
    // Give the command its first snapshot (the state events are changes of).
    std::thread::sleep(Duration::from_millis(800));
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
}
