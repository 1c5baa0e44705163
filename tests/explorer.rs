//! The explorer as users meet it: the real binary in a pseudo-terminal, read back through a
//! terminal emulator (vt100), driven by keystrokes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

#[path = "common/receiver.rs"]
mod receiver;

use std::process::Command;
use std::time::{Duration, Instant};

use common::terminal::{line_of, mark_of, row_of, unmarked, Terminal};
use common::{tcp_client, tcp_server, Child};

#[test]
fn filter_expand_sort_and_quit_in_a_real_terminal() {
    let (mut server, port) = tcp_server("127.0.0.1");
    let (client, client_port) = tcp_client(&mut server, "127.0.0.1", port);

    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });

    // Filter on the server's port; the client's command line names it too.
    ui.press("/");
    ui.press(&port.to_string());
    ui.press("\r");
    let server_pid = server.pid();
    ui.wait_for("the filtered table", |s| {
        line_of(s, server_pid).is_some() && line_of(s, 1).is_none()
    });
    // Lowest pid first puts the server (started before its client) on top; expand it.
    ui.press("N");
    ui.press("\x1b[H"); // Home
    ui.press("\r");
    let listen = format!("127.0.0.1:{port}");
    let peer = format!("<- {} python3", client.pid());
    let looked_for = peer.clone();
    let screen = ui.wait_for("the server's detail block", |s| s.contains(&looked_for));
    assert!(
        screen
            .lines()
            .any(|l| l.contains(&listen) && l.contains("LISTEN")),
        "LISTEN line for {listen}:\n{screen}"
    );
    assert!(
        screen
            .lines()
            .any(|l| l.contains(&format!("127.0.0.1:{client_port}")) && l.contains(&peer)),
        "the client's connection with the client's pid:\n{screen}"
    );

    // A spinning child goes to the top once sorted by CPU.
    let mut spinner = Child::python("print('ready', flush=True)\nwhile True: pass", &[]);
    spinner.line();
    let spinner_row = format!("{} ", spinner.pid());
    ui.press("\x1b"); // Esc clears the filter
    ui.press("E"); // collapse all
    ui.press("P");
    // The selection stays on the server wherever it sorts to; go back to the top.
    ui.press("\x1b[H");
    let top_row = spinner_row.clone();
    let screen = ui.wait_for("the spinner on top", |s| {
        s.lines()
            .skip_while(|l| !l.contains("COMMAND"))
            .nth(1)
            .is_some_and(|first| unmarked(first).starts_with(&top_row))
    });
    assert!(screen.contains("CPU%▼"));
    // htop's habit: P again keeps the biggest CPU user on top (it does not invert).
    ui.press("P");
    std::thread::sleep(Duration::from_millis(1200));
    let screen = ui.wait_for("the spinner still on top after P again", |s| {
        s.contains("CPU%▼")
            && s.lines()
                .skip_while(|l| !l.contains("COMMAND"))
                .nth(1)
                .is_some_and(|first| unmarked(first).starts_with(&spinner_row))
    });
    assert!(!screen.contains("CPU%▲"), "{screen}");

    ui.press("q");
    let status = ui.wait_exit();
    assert!(status.success(), "q exits 0: {status:?}");
    ui.assert_terminal_restored();
}

/// H shows the remote endpoints: a real client's connection is a row for the server's
/// address:port, named with the server's process and held by the client; the server's side is
/// the client's address alone. Enter lists the client's connection; H goes back.
#[test]
fn remote_hosts_view_shows_a_real_client_and_server_pair() {
    let (mut server, port) = tcp_server("127.0.0.1");
    let (client, client_port) = tcp_client(&mut server, "127.0.0.1", port);
    let (server_pid, client_pid) = (server.pid(), client.pid());

    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });
    ui.press("H");
    ui.wait_for("the remote-hosts view", |s| {
        s.contains("REMOTE") && s.contains("PROCS") && !s.contains("COMMAND")
    });
    // Only what the client holds: its one connection, to the server's port.
    ui.press("/");
    ui.press(&format!("pid:{client_pid}"));
    ui.press("\r");
    let service = format!("127.0.0.1:{port} (python3)");
    let looked_for = service.clone();
    let screen = ui.wait_for("the client's row for the server's address:port", |s| {
        s.lines().any(|l| l.starts_with(&looked_for))
    });
    let row = screen
        .lines()
        .find(|l| l.starts_with(&service))
        .unwrap_or_default();
    let cells: Vec<&str> = row[service.len()..].split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"1"), "one connection: {row}");
    assert_eq!(cells.last(), Some(&"python3"), "held by the client: {row}");
    let rows_below_title = screen
        .lines()
        .skip_while(|l| !l.starts_with("REMOTE"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .count();
    assert_eq!(
        rows_below_title, 1,
        "the client talks to one endpoint:\n{screen}"
    );

    ui.press("\x1b[H"); // Home
    ui.press("\r");
    let local = format!("127.0.0.1:{client_port}");
    let screen = ui.wait_for("the client's connection under the row", |s| {
        s.lines()
            .any(|l| l.contains(&format!("{client_pid} python3")) && l.contains(&local))
    });
    let line = screen
        .lines()
        .find(|l| l.contains(&local))
        .unwrap_or_default();
    assert!(line.contains("ESTABLISHED"), "{line}");
    assert!(screen.contains(&format!("▾ {service}")), "{screen}");

    // The server's side: one row for the client's address, whatever its port.
    ui.press("\x1b"); // Esc clears the filter, staying in the view
    ui.press("/");
    ui.press(&format!("pid:{server_pid}"));
    ui.press("\r");
    ui.wait_for("the server's row for the client's address", |s| {
        s.lines().any(|l| {
            l.starts_with("127.0.0.1 (python3)") && !l.contains(&format!(":{client_port}"))
        })
    });

    ui.press("H");
    ui.wait_for("the process table again", |s| {
        s.contains("COMMAND") && line_of(s, server_pid).is_some()
    });
    ui.press("q");
    let status = ui.wait_exit();
    assert!(status.success(), "q exits 0: {status:?}");
    ui.assert_terminal_restored();
}

fn stopped_by(signal: nix::sys::signal::Signal) {
    let mut ui = Terminal::open(&[]);
    ui.wait_for("the first snapshot", |s| s.contains("tasks"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(ui.pid() as i32), signal).unwrap();
    let status = ui.wait_exit();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.code(),
        Some(128 + signal as i32),
        "exits as a program stopped by {signal} ({status:?}, signal {:?})",
        status.signal()
    );
    ui.assert_terminal_restored();
}

#[test]
fn sigterm_restores_the_terminal() {
    stopped_by(nix::sys::signal::Signal::SIGTERM);
}

#[test]
fn sighup_restores_the_terminal() {
    stopped_by(nix::sys::signal::Signal::SIGHUP);
}

/// k on a row, Enter on SIGTERM, y: the process on that row gets SIGTERM (through the real
/// signaller, which checks the pid still belongs to the process that was on screen).
#[test]
fn kill_from_the_explorer_signals_the_process_on_the_row() {
    let mut sleeper = Command::new("sleep")
        .arg("3600")
        .spawn()
        .expect("sleep starts");
    let pid = sleeper.id();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });
    ui.press("/");
    ui.press(&format!("pid:{pid}"));
    ui.press("\r");
    ui.wait_for("only the sleeper", |s| {
        line_of(s, pid).is_some() && line_of(s, 1).is_none()
    });
    ui.press("k");
    ui.wait_for("the kill dialog", |s| {
        s.contains(&format!("Send signal to {pid} (sleep)"))
    });
    ui.press("\r"); // SIGTERM, the first choice
    ui.wait_for("the confirmation", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    assert!(sleeper.try_wait().unwrap().is_none(), "nothing sent yet");
    ui.press("y");
    ui.wait_for("the result", |s| {
        s.contains(&format!("sent SIGTERM to {pid} (sleep)"))
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = sleeper.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "sleep still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    ui.press("q");
    assert!(ui.wait_exit().success());
}

/// Emacs habits in a real terminal: Ctrl-Q (0x11) does not quit, Ctrl-K (0x0b) opens no kill
/// dialog, and once the dialog asks, neither Ctrl-Y (0x19) nor a second Enter sends the signal.
#[test]
fn modified_keys_do_not_quit_or_kill() {
    let mut sleep = Command::new("sleep");
    sleep.arg("3600");
    let mut sleeper = Child::start(sleep);
    let pid = sleeper.pid();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });
    ui.press("/");
    ui.press(&format!("pid:{pid}"));
    ui.press("\r");
    ui.wait_for("only the sleeper", |s| line_of(s, pid).is_some());
    ui.press("\x11"); // Ctrl-Q
    ui.press("\x0b"); // Ctrl-K
    std::thread::sleep(Duration::from_millis(600));
    assert!(ui.exited().is_none(), "Ctrl-Q did not quit");
    assert!(
        !ui.contents().contains("Send signal to"),
        "Ctrl-K opened no dialog:\n{}",
        ui.contents()
    );
    ui.press("k");
    ui.wait_for("the kill dialog", |s| {
        s.contains(&format!("Send signal to {pid} (sleep)"))
    });
    ui.press("\r"); // SIGTERM, the first choice
    ui.wait_for("the confirmation", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    ui.press("\x19"); // Ctrl-Y
    ui.press("\r");
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        !sleeper.has_exited(),
        "neither Ctrl-Y nor Enter sent the signal"
    );
    ui.wait_for("the dialog still asking", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    ui.press("n");
    ui.press("q");
    assert!(ui.wait_exit().success());
}

/// The ssh connection drops: the terminal is hung up under the explorer (as when sshd closes
/// the pty's master). It must exit as a program stopped by SIGHUP, not panic on the writes that
/// now fail, and not hang or spin on a terminal that is gone.
#[test]
fn hangup_of_the_terminal_ends_the_explorer() {
    let mut ui = Terminal::open(&[]);
    ui.wait_for("the first snapshot", |s| s.contains("tasks"));
    // vhangup of the controlling terminal: SIGHUP to the session, and every read and write on
    // the terminal fails from now on. Needs CAP_SYS_ADMIN.
    // (Python's fcntl.ioctl makes the call, so the tests need no unsafe code of their own.)
    let hangup = Command::new(common::PYTHON)
        .args([
            "-c",
            "import fcntl, os, sys\n\
             fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)\n\
             fcntl.ioctl(fd, int(sys.argv[2]))",
            ui.tty_path(),
            &libc::TIOCVHANGUP.to_string(),
        ])
        .output()
        .expect("python3 runs");
    if !hangup.status.success() {
        let error = String::from_utf8_lossy(&hangup.stderr);
        let error = error.lines().last().unwrap_or_default();
        let needs = format!("CAP_SYS_ADMIN to hang up a terminal ({error})");
        common::not_run::runs_here("hangup_of_the_terminal_ends_the_explorer", false, &needs);
        return;
    }
    let status = ui.wait_exit();
    assert_eq!(
        status.code(),
        Some(128 + libc::SIGHUP),
        "exits as a program stopped by SIGHUP: {status:?}"
    );
}

#[test]
fn sigint_restores_the_terminal() {
    stopped_by(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn panic_restores_the_terminal_and_reports() {
    // The explorer panics on its first snapshot when this is set.
    let mut ui = Terminal::open_with_env(&[], &[("WIRETOP_TEST_PANIC", "1")]);
    let status = ui.wait_exit();
    assert_eq!(status.code(), Some(101), "a panic exits 101");
    ui.assert_terminal_restored();
    let raw = String::from_utf8_lossy(&ui.bytes_written()).into_owned();
    assert!(
        raw.contains("injected test panic"),
        "the panic message reaches the user"
    );
}

#[test]
fn secrets_in_command_lines_never_reach_the_screen() {
    let mut child = Child::python(
        "import time;print('ready',flush=True);time.sleep(3600)",
        &[
            "--password=hunter2",
            "--db",
            "postgres://u:hunter3@localhost/x",
        ],
    );
    child.line();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| s.contains("COMMAND"));
    ui.press("/");
    ui.press(&format!("pid:{}", child.pid()));
    ui.press("\r");
    ui.press("\r"); // expand: the full command line
    let screen = ui.wait_for("the child's detail block", |s| s.contains("command:"));
    assert!(screen.contains("--password=********"), "{screen}");
    assert!(screen.contains("postgres://u:********@"), "{screen}");
    let raw = String::from_utf8_lossy(&ui.bytes_written()).into_owned();
    assert!(
        !raw.contains("hunter2") && !raw.contains("hunter3"),
        "no secret ever written"
    );
    ui.press("q");
    ui.wait_exit();
}

#[test]
fn uplink_beside_the_explorer_ships_and_shows_its_state() {
    let receiver = receiver::Receiver::start(|_, _| receiver::Reply::ok());
    let url = receiver.url();
    let mut ui = Terminal::open_with_env(
        &["--interval", "500ms"],
        &[
            ("WIRETOP_UPLINK_ENABLED", "true"),
            ("WIRETOP_UPLINK_ENDPOINT", url.as_str()),
        ],
    );
    let screen = ui.wait_for("the uplink's state in the header", |s| {
        s.contains("uplink ok sent")
    });
    assert!(screen.contains("dropped 0"), "{screen}");
    assert!(receiver.requests().iter().any(|r| r.path == "/v1/metrics"));
    ui.press("q");
    assert!(ui.wait_exit().success());
    ui.assert_terminal_restored();
}

/// Unprivileged, the explorer still lists everything, says in its header that some sockets are
/// hidden, and shows the user's own sockets with their owner.
#[test]
fn unprivileged_explorer_marks_what_it_cannot_see_and_shows_own_sockets() {
    if !common::not_run::runs_as_root(
        "unprivileged_explorer_marks_what_it_cannot_see_and_shows_own_sockets",
    ) {
        return;
    }
    let (root_server, _) = tcp_server("127.0.0.1");
    let binary = common::NobodyBinary::new("nobody-ui");
    let mut own = common::as_nobody(common::PYTHON);
    own.arg("-c").arg(common::TCP_SERVER).arg("127.0.0.1");
    let mut own_server = Child::start(own);
    let own_port: u16 = own_server.line().parse().unwrap();

    let mut ui = Terminal::open_program(
        common::as_nobody(&binary.path),
        &["--interval", "500ms"],
        &[("HOME", "/nonexistent")],
    );
    ui.wait_for("the header's note", |s| {
        s.contains("not root: some processes' sockets hidden")
    });
    // root's process is listed all the same
    ui.press("/");
    ui.press(&format!("pid:{}", root_server.pid()));
    ui.press("\r");
    let root_pid = root_server.pid();
    ui.wait_for("root's server listed", |s| line_of(s, root_pid).is_some());
    ui.press("\r");
    ui.wait_for("its hidden sockets explained", |s| {
        s.contains("sockets: permission denied")
    });
    // and the user's own server shows its listening socket
    ui.press("\x1b");
    ui.press("E");
    ui.press("/");
    ui.press(&format!("pid:{}", own_server.pid()));
    ui.press("\r");
    ui.press("\r");
    let listen = format!("127.0.0.1:{own_port}");
    ui.wait_for("the user's own listening socket", |s| {
        s.lines()
            .any(|l| l.contains(&listen) && l.contains("LISTEN"))
    });
    ui.press("q");
    assert!(ui.wait_exit().success());
    ui.assert_terminal_restored();
}

#[test]
fn credentials_over_plain_http_are_warned_about_in_the_header() {
    let mut ui = Terminal::open_with_env(
        &["--interval", "500ms"],
        &[
            ("WIRETOP_UPLINK_ENABLED", "true"),
            (
                "WIRETOP_UPLINK_ENDPOINT",
                "http://wiretop-collector.invalid:4318",
            ),
            ("WIRETOP_API_KEY", "sentinel-explorer-key"),
        ],
    );
    ui.wait_for("the warning in the header", |s| {
        s.contains("⚠ credentials sent over plain http")
    });
    ui.press("q");
    assert!(ui.wait_exit().success());
    ui.assert_terminal_restored();
    let raw = String::from_utf8_lossy(&ui.bytes_written()).into_owned();
    assert!(!raw.contains("sentinel-explorer-key"));
}

/// A node server answering every request with 200,000 bytes.
const NODE_SERVER: &str = r#"
const http = require("http");
const body = Buffer.alloc(200000, 120);
const server = http.createServer((req, res) => { res.end(body); });
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
"#;

/// The seed's own example: a one-off curl to node lasts milliseconds, between two samples;
/// with the explorer running as root it still shows on node's row, with its bytes.
#[test]
fn a_one_off_curl_shows_as_recently_closed_on_the_servers_row() {
    if !common::not_run::runs_as_root("a_one_off_curl_shows_as_recently_closed_on_the_servers_row")
    {
        return;
    }
    let mut node = Child::start({
        let mut command = Command::new("node");
        command.args(["-e", NODE_SERVER]);
        command
    });
    let port: u16 = node.line().trim().parse().unwrap();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    ui.show_only(node.pid());
    ui.press("\x1b[H"); // Home
    ui.press("\r");
    let listen = format!("127.0.0.1:{port}");
    ui.wait_for("node's detail block", |s| {
        s.lines()
            .any(|l| l.contains(&listen) && l.contains("LISTEN"))
    });
    let curl = Command::new("curl")
        .args(["-s", "-o", "/dev/null"])
        .arg(format!("http://{listen}/"))
        .status()
        .unwrap();
    assert!(curl.success());
    let closed = format!("closed: tcp {listen} <- 127.0.0.1:");
    let screen = ui.wait_for("curl's closed connection on node's row", |s| {
        s.contains(&closed)
    });
    let line = screen
        .lines()
        .find(|l| l.contains(&closed))
        .unwrap_or_default();
    assert!(
        line.contains("sent 195K"),
        "node sent the 200,000-byte body: {line}"
    );
    ui.quit();
}

/// Says `ready`; told `listen`, listens on a loopback port and connects to it (a first connection to a new
/// destination), then prints the port; told `exit`, exits with status 3.
const LISTEN_THEN_EXIT: &str = r#"
import socket, sys
print("ready", flush=True)
sys.stdin.readline()
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
client = socket.create_connection(server.getsockname())
accepted, _ = server.accept()
print(server.getsockname()[1], flush=True)
sys.stdin.readline()
sys.exit(3)
"#;

/// The events pane's row of `kind` for `pid`, if listed (KIND and PID follow the time).
fn event_row<'a>(rows: &'a [String], kind: &str, pid: u32) -> Option<(usize, &'a String)> {
    rows.iter().enumerate().find(|(_, row)| {
        let cells: Vec<&str> = row.split_whitespace().take(3).collect();
        cells.get(1) == Some(&kind) && cells.get(2) == Some(&pid.to_string().as_str())
    })
}

/// A process started after the explorer launched: marked `+` from the first refresh that lists
/// it; its listener and its first connection appear in the events pane (`L`); once it has
/// exited it stays listed, greyed and marked `-`, for `ui.exited_linger` (3 s here, set through
/// the environment), then goes; the pane lists its start and its exit, newest first.
#[test]
fn a_new_process_is_marked_lingers_greyed_after_exit_and_its_events_are_listed() {
    const INTERVAL: Duration = Duration::from_millis(500);
    const LINGER: Duration = Duration::from_secs(3);
    let tag = format!("wiretop-marks-{}", std::process::id());
    let mut ui = Terminal::open_with_env(
        &["--interval", "500ms"],
        &[("WIRETOP_UI_EXITED_LINGER", "3s")],
    );
    // Only processes started since launch with the tag in their command line: the `new` term.
    let filter = format!("new {tag}");
    ui.filter(&filter, |rows| {
        rows.iter()
            .any(|r| r.contains("no process matches the filter"))
    });

    let spawned = Instant::now();
    // The tag leads the script, so it is on screen even where the command line is cut.
    let script = format!("# {tag}\n{LISTEN_THEN_EXIT}");
    let mut child = Child::python_listening(&script, &[]);
    let pid = child.pid();
    assert_eq!(child.line(), "ready");
    let rows = ui.until("the child listed", |rows| row_of(rows, pid).is_some());
    let waited = spawned.elapsed();
    assert_eq!(
        mark_of(&rows, pid),
        Some('+'),
        "marked new from the first refresh that lists it: {:?}",
        row_of(&rows, pid)
    );
    assert_eq!(ui.row_greyed(pid), Some(false), "alive: not greyed");
    // One interval, plus the time a sample and a frame take on a busy 2-core machine.
    assert!(
        waited < INTERVAL + Duration::from_secs(2),
        "listed {waited:?} after it started"
    );

    child.send_line("listen");
    let port: u16 = child.line().parse().unwrap();
    let address = format!("tcp 127.0.0.1:{port}");
    ui.press("L");
    let rows = ui.until(
        "its listener and first connection in the events pane",
        |rows| {
            rows.iter().any(|r| r.contains("TIME (UTC)"))
                && event_row(rows, "listen", pid)
                    .is_some_and(|(_, r)| r.trim_end().ends_with(&address))
                && event_row(rows, "connect", pid)
                    .is_some_and(|(_, r)| r.trim_end().ends_with(&address))
        },
    );
    let (started_at, started) = event_row(&rows, "started", pid).expect("its start listed");
    assert!(
        started.contains(&tag),
        "the start shows the command line: {started}"
    );
    let (listen_at, _) = event_row(&rows, "listen", pid).unwrap();
    assert!(listen_at < started_at, "newest first:\n{}", rows.join("\n"));

    // From here on, the test's children by their parent (an exited process's last reading may
    // be a zombie's, with no command line to find the tag in), lowest pid first, the selection
    // on the explorer itself: the selected row is drawn in the selection's colours instead.
    ui.press("L");
    ui.press("\x1b"); // Esc clears the filter
    ui.press("N");
    let explorer = ui.pid();
    ui.filter(&format!("ppid:{}", std::process::id()), |rows| {
        row_of(rows, pid).is_some() && row_of(rows, explorer).is_some()
    });
    ui.press("\x1b[H"); // Home
    child.send_line("exit");
    common::eventually("the child to exit and be reaped", || {
        child.has_exited().then_some(())
    });
    ui.until("the child greyed and marked exited", |rows| {
        mark_of(rows, pid) == Some('-') && ui.row_greyed(pid) == Some(true)
    });
    let gone_at = Instant::now();
    ui.until("the child gone after the linger", |rows| {
        let listed = row_of(rows, pid);
        if let Some(row) = listed {
            assert!(
                row.starts_with('-'),
                "marked exited while it lingers: {row}"
            );
        }
        listed.is_none() && rows.iter().any(|r| r.contains("COMMAND"))
    });
    let lingered = gone_at.elapsed();
    // Dropped by the first snapshot taken 3 s after the one without it; what a frame's delay
    // can shift either way is far below an interval.
    assert!(
        lingered >= LINGER - INTERVAL && lingered < LINGER + Duration::from_secs(3),
        "listed {lingered:?} after it exited, for a linger of {LINGER:?}"
    );

    ui.press("L");
    let rows = ui.until("its exit in the events pane", |rows| {
        event_row(rows, "exited", pid).is_some()
    });
    let (exited_at, _) = event_row(&rows, "exited", pid).unwrap();
    let (started_at, _) = event_row(&rows, "started", pid).expect("its start still listed");
    assert!(exited_at < started_at, "newest first:\n{}", rows.join("\n"));
    ui.quit();
    ui.assert_terminal_restored();
}

#[test]
fn with_a_baseline_the_explorer_marks_and_counts_what_is_outside_it() {
    let dir =
        std::env::temp_dir().join(format!("wiretop-explorer-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("baseline.yaml");
    let file_text = file.to_str().unwrap();
    let (status, _, stderr) = common::wiretop(&["baseline", "save", file_text]);
    assert!(status.success(), "{stderr}");

    // A listener on a port the baseline does not know.
    let (listener, port) = tcp_server("127.0.0.1");
    let pid = listener.pid();
    let mut ui = Terminal::open(&["--interval", "500ms", "--baseline", file_text]);
    ui.filter(&format!("port:{port}"), |rows| row_of(rows, pid).is_some());
    let rows = ui.until("the listener marked unexpected", |rows| {
        mark_of(rows, pid) == Some('!')
    });
    let header = rows[..4].join("\n");
    assert!(
        rows.iter().any(|r| r.contains(" unexpected")),
        "the header counts them:\n{header}"
    );
    // The explorer itself runs a binary the baseline lists, and opens nothing new.
    let explorer = ui.pid();
    ui.press("\x1b"); // Esc clears the filter
    ui.filter("unexpected", |rows| {
        row_of(rows, pid).is_some() && row_of(rows, explorer).is_none()
    });
    ui.quit();
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The header shows a meter per core of this machine; F2's chooser hides USER and `w` saves the
/// choice to `$XDG_CONFIG_HOME/wiretop/config.yaml`, created 0600, which the next start reads.
#[test]
fn column_chooser_saves_to_the_users_config_file() {
    use std::os::unix::fs::PermissionsExt;

    let home = std::env::temp_dir().join(format!("wiretop-explorer-xdg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(&home).unwrap();
    let home_text = home.to_str().unwrap().to_owned();
    let cores = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();

    let mut ui = Terminal::open_with_env(
        &["--interval", "500ms"],
        &[("XDG_CONFIG_HOME", home_text.as_str())],
    );
    let last_core = format!("{} [", cores - 1);
    let screen = ui.wait_for("a meter per core", |s| {
        s.contains("COMMAND") && s.lines().nth(1).is_some_and(|l| l.contains(&last_core))
    });
    assert!(screen.contains("USER"), "{screen}");

    ui.press("\x1bOQ"); // F2
    ui.wait_for("the chooser", |s| {
        s.contains(" Columns ") && s.contains("[x] USER")
    });
    ui.press("j"); // onto USER
    ui.press(" ");
    ui.press("w");
    let screen = ui.wait_for("the saved message", |s| s.contains("columns saved to"));
    let title = screen
        .lines()
        .find(|l| l.contains("PID") && l.contains("COMMAND"))
        .unwrap()
        .to_owned();
    assert!(!title.contains("USER"), "{title}");
    let file = home.join("wiretop").join("config.yaml");
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("ui:\n  columns: [pid, cpu, mem,"),
        "{written}"
    );
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    ui.press("q");
    assert!(ui.wait_exit().success());

    // The next start reads it: no USER column.
    let mut ui = Terminal::open_with_env(
        &["--interval", "500ms"],
        &[("XDG_CONFIG_HOME", home_text.as_str())],
    );
    let screen = ui.wait_for("the table", |s| s.contains("COMMAND"));
    let title = screen
        .lines()
        .find(|l| l.contains("PID") && l.contains("COMMAND"))
        .unwrap()
        .to_owned();
    assert!(!title.contains("USER"), "{title}");
    ui.press("q");
    assert!(ui.wait_exit().success());
    let _ = std::fs::remove_dir_all(&home);
}

/// The nice value of `pid`, from /proc/<pid>/stat (the 19th field; the name before it is in
/// parentheses and may hold spaces).
fn nice_of(pid: u32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    after_name
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap()
}

/// The table's rows between its title row and the footer, blank ones left out.
fn table_rows(rows: &[String]) -> Vec<&String> {
    let title = rows.iter().position(|r| r.contains("COMMAND")).unwrap_or(0);
    rows[title + 1..rows.len().saturating_sub(1)]
        .iter()
        .filter(|r| !r.trim().is_empty())
        .collect()
}

/// A real child moved into a cgroup `system.slice/demo.service` made by the test: the filter
/// `unit:demo.service` lists exactly it; grouped by service (`v`) it is the one process of a
/// `demo.service` group; F8 renices it a step at a time and the dialog (`r`) to a typed value,
/// as /proc says; and an explorer run as nobody is refused by the kernel, and says so.
#[test]
fn filter_by_unit_group_by_service_and_renice_a_child_in_a_real_cgroup() {
    use common::cgroups::{Hierarchy, TestCgroup};
    let test = "filter_by_unit_group_by_service_and_renice_a_child_in_a_real_cgroup";
    if !common::not_run::runs_as_root(test) {
        return;
    }
    let cgroup = TestCgroup::create(Hierarchy::Unified, "system.slice/demo.service");
    let unavailable = cgroup.as_ref().err().cloned();
    if !common::not_run::runs_here(
        test,
        unavailable.is_none(),
        &format!("cgroups it can make ({})", unavailable.unwrap_or_default()),
    ) {
        return;
    }
    let cgroup = cgroup.expect("checked above");
    // Declared after the cgroup, so dropped (killed) before it is removed.
    let mut sleep = Command::new("sleep");
    sleep.arg("600");
    let child = Child::start(sleep);
    let pid = child.pid();
    cgroup.add(pid).expect("the child moves into demo.service");

    let mut ui = Terminal::open(&["--interval", "500ms"]);
    let rows = ui.filter("unit:demo.service", |rows| row_of(rows, pid).is_some());
    let listed = table_rows(&rows);
    assert_eq!(listed.len(), 1, "exactly the child: {listed:#?}");

    ui.press("v");
    let rows = ui.until("the demo.service group", |rows| {
        rows.iter().any(|r| r.contains("demo.service (1 process)"))
            && rows
                .last()
                .is_some_and(|r| r.contains("[grouped by service]"))
            && row_of(rows, pid).is_some()
    });
    let group = rows
        .iter()
        .position(|r| r.contains("demo.service (1 process)"));
    let member = rows
        .iter()
        .position(|r| row_of(std::slice::from_ref(r), pid).is_some());
    assert!(
        matches!((group, member), (Some(g), Some(m)) if g < m),
        "the child is listed under its group, selected: {rows:#?}"
    );

    // F8 (`ESC [ 19 ~`) three times: three steps down in priority.
    let before = nice_of(pid);
    for _ in 0..3 {
        ui.press("\x1b[19~");
    }
    let expected = (before + 3).min(19);
    let message = format!("{pid} (sleep) now runs at nice {expected}");
    ui.until("the renice's result", |rows| {
        rows.last().is_some_and(|r| r.contains(&message))
    });
    assert_eq!(nice_of(pid), expected);
    ui.press("r");
    ui.until("the renice dialog", |rows| {
        rows.iter()
            .any(|r| r.contains(&format!("Renice {pid} (sleep)")))
    });
    ui.press("12\r");
    let message = format!("{pid} (sleep) now runs at nice 12");
    ui.until("the dialog's result", |rows| {
        rows.last().is_some_and(|r| r.contains(&message))
    });
    assert_eq!(nice_of(pid), 12);
    ui.quit();

    // Root's child, from an explorer run as nobody: the kernel refuses, the footer says why.
    let binary = common::NobodyBinary::new("nobody-renice");
    let mut ui = Terminal::open_program(
        common::as_nobody(&binary.path),
        &["--interval", "500ms"],
        &[("HOME", "/nonexistent")],
    );
    ui.show_only(pid);
    ui.press("\x1b[19~");
    let refused = format!("renice of {pid} (sleep) failed: operation not permitted (EPERM)");
    ui.until("the kernel's refusal", |rows| {
        rows.last().is_some_and(|r| r.contains(&refused))
    });
    assert_eq!(nice_of(pid), 12, "unchanged");
    ui.quit();
    drop(child);
}
