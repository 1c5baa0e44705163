//! The explorer as users meet it: the real binary in a pseudo-terminal, read back through a
//! terminal emulator (vt100), driven by keystrokes.

mod common;

#[path = "common/receiver.rs"]
mod receiver;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{tcp_client, tcp_server, Child};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, LocalFlags};

const ROWS: u16 = 40;
const COLS: u16 = 140;

/// wiretop running in a pty, with everything it printed.
struct Explorer {
    child: std::process::Child,
    master: std::fs::File,
    /// Kept open so the terminal's settings can be inspected after wiretop exits.
    slave: OwnedFd,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
}

impl Explorer {
    fn start(args: &[&str]) -> Explorer {
        Explorer::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Explorer {
        Explorer::start_program(Command::new(env!("CARGO_BIN_EXE_wiretop")), args, env)
    }

    /// Starts `program` (wiretop, possibly behind a wrapper such as setpriv) in the pty.
    fn start_program(program: Command, args: &[&str], env: &[(&str, &str)]) -> Explorer {
        let size = Winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        let slave_fd = pty.slave.as_raw_fd();
        let stdio = || Stdio::from(pty.slave.try_clone().expect("dup slave"));
        let mut command = program;
        command
            .args(args)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .envs(env.iter().copied())
            .stdin(stdio())
            .stdout(stdio())
            .stderr(stdio());
        // A session of its own with the pty as controlling terminal, as a login shell has:
        // that is what delivers SIGHUP when the terminal goes away.
        unsafe {
            command.pre_exec(move || {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
                if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("wiretop starts");
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup master");
        let (screen_w, raw_w) = (Arc::clone(&screen), Arc::clone(&raw));
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen_w.lock().unwrap().process(&buf[..n]);
                raw_w.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Explorer {
            child,
            master,
            slave: pty.slave,
            screen,
            raw,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `ready`, or fails showing the screen.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.contents();
            if ready(&text) {
                return text;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.master.write_all(keys.as_bytes()).unwrap();
        self.master.flush().unwrap();
        // Let the explorer take each burst as input before the next.
        std::thread::sleep(Duration::from_millis(150));
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader drain what was written last.
                std::thread::sleep(Duration::from_millis(200));
                return status;
            }
            assert!(Instant::now() < deadline, "wiretop did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks what a user's shell needs after wiretop: main screen back, cursor visible,
    /// cooked mode (line editing and echo) on.
    fn assert_terminal_restored(&self) {
        let raw = self.raw.lock().unwrap().clone();
        let text = String::from_utf8_lossy(&raw);
        let entered = text
            .find("\x1b[?1049h")
            .expect("entered the alternate screen");
        let left = text
            .rfind("\x1b[?1049l")
            .expect("left the alternate screen");
        assert!(left > entered);
        // The last word on the cursor is "show", and the emulator agrees it is visible.
        assert!(
            text.rfind("\x1b[?25h") > text.rfind("\x1b[?25l"),
            "cursor shown after it was last hidden"
        );
        let screen = self.screen.lock().unwrap();
        assert!(!screen.screen().hide_cursor(), "cursor visible");
        assert!(
            !screen.screen().alternate_screen(),
            "back on the main screen"
        );
        drop(screen);
        let termios = tcgetattr(&self.slave).expect("tcgetattr");
        assert!(
            termios.local_flags.contains(LocalFlags::ICANON),
            "canonical mode back on"
        );
        assert!(
            termios.local_flags.contains(LocalFlags::ECHO),
            "echo back on"
        );
    }
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The row of the table that shows `pid` (the PID column is right-aligned in 7 cells).
fn row_of(screen: &str, pid: u32) -> Option<String> {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{pid} ")))
        .map(str::to_owned)
}

#[test]
fn filter_expand_sort_and_quit_in_a_real_terminal() {
    let (mut server, port) = tcp_server("127.0.0.1");
    let (client, client_port) = tcp_client(&mut server, "127.0.0.1", port);

    let mut ui = Explorer::start(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });

    // Filter on the server's port; the client's command line names it too.
    ui.type_keys("/");
    ui.type_keys(&port.to_string());
    ui.type_keys("\r");
    ui.wait_for("the filtered table", |s| {
        row_of(s, server.pid()).is_some() && row_of(s, 1).is_none()
    });
    // Lowest pid first puts the server (started before its client) on top; expand it.
    ui.type_keys("N");
    ui.type_keys("\x1b[H"); // Home
    ui.type_keys("\r");
    let listen = format!("127.0.0.1:{port}");
    let peer = format!("<- {} python3", client.pid());
    let screen = ui.wait_for("the server's detail block", |s| s.contains(&peer));
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
    ui.type_keys("\x1b"); // Esc clears the filter
    ui.type_keys("E"); // collapse all
    ui.type_keys("P");
    // The selection stays on the server wherever it sorts to; go back to the top.
    ui.type_keys("\x1b[H");
    let screen = ui.wait_for("the spinner on top", |s| {
        s.lines()
            .skip_while(|l| !l.contains("COMMAND"))
            .nth(1)
            .is_some_and(|first| {
                first
                    .trim_start()
                    .starts_with(&format!("{} ", spinner.pid()))
            })
    });
    assert!(screen.contains("CPU%▼"));
    // htop's habit: P again keeps the biggest CPU user on top (it does not invert).
    ui.type_keys("P");
    std::thread::sleep(Duration::from_millis(1200));
    let screen = ui.wait_for("the spinner still on top after P again", |s| {
        s.contains("CPU%▼")
            && s.lines()
                .skip_while(|l| !l.contains("COMMAND"))
                .nth(1)
                .is_some_and(|first| {
                    first
                        .trim_start()
                        .starts_with(&format!("{} ", spinner.pid()))
                })
    });
    assert!(!screen.contains("CPU%▲"), "{screen}");

    ui.type_keys("q");
    let status = ui.wait_exit();
    assert!(status.success(), "q exits 0: {status:?}");
    ui.assert_terminal_restored();
}

fn stopped_by(signal: nix::sys::signal::Signal) {
    let mut ui = Explorer::start(&[]);
    ui.wait_for("the first snapshot", |s| s.contains("tasks"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(ui.child.id() as i32), signal).unwrap();
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
    let mut ui = Explorer::start(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });
    ui.type_keys("/");
    ui.type_keys(&format!("pid:{pid}"));
    ui.type_keys("\r");
    ui.wait_for("only the sleeper", |s| {
        row_of(s, pid).is_some() && row_of(s, 1).is_none()
    });
    ui.type_keys("k");
    ui.wait_for("the kill dialog", |s| {
        s.contains(&format!("Send signal to {pid} (sleep)"))
    });
    ui.type_keys("\r"); // SIGTERM, the first choice
    ui.wait_for("the confirmation", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    assert!(sleeper.try_wait().unwrap().is_none(), "nothing sent yet");
    ui.type_keys("y");
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
    ui.type_keys("q");
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
    let mut ui = Explorer::start(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| {
        s.contains("tasks") && s.contains("COMMAND")
    });
    ui.type_keys("/");
    ui.type_keys(&format!("pid:{pid}"));
    ui.type_keys("\r");
    ui.wait_for("only the sleeper", |s| row_of(s, pid).is_some());
    ui.type_keys("\x11"); // Ctrl-Q
    ui.type_keys("\x0b"); // Ctrl-K
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        ui.child.try_wait().unwrap().is_none(),
        "Ctrl-Q did not quit"
    );
    assert!(
        !ui.contents().contains("Send signal to"),
        "Ctrl-K opened no dialog:\n{}",
        ui.contents()
    );
    ui.type_keys("k");
    ui.wait_for("the kill dialog", |s| {
        s.contains(&format!("Send signal to {pid} (sleep)"))
    });
    ui.type_keys("\r"); // SIGTERM, the first choice
    ui.wait_for("the confirmation", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    ui.type_keys("\x19"); // Ctrl-Y
    ui.type_keys("\r");
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        !sleeper.has_exited(),
        "neither Ctrl-Y nor Enter sent the signal"
    );
    ui.wait_for("the dialog still asking", |s| {
        s.contains(&format!("Send SIGTERM to {pid}? y / n"))
    });
    ui.type_keys("n");
    ui.type_keys("q");
    assert!(ui.wait_exit().success());
}

/// The ssh connection drops: the terminal is hung up under the explorer (as when sshd closes
/// the pty's master). It must exit as a program stopped by SIGHUP, not panic on the writes that
/// now fail, and not hang or spin on a terminal that is gone.
#[test]
fn hangup_of_the_terminal_ends_the_explorer() {
    let mut ui = Explorer::start(&[]);
    ui.wait_for("the first snapshot", |s| s.contains("tasks"));
    // vhangup of the controlling terminal: SIGHUP to the session, and every read and write on
    // the terminal fails from now on. Needs CAP_SYS_ADMIN.
    if unsafe { libc::ioctl(ui.slave.as_raw_fd(), libc::TIOCVHANGUP as _, 0) } != 0 {
        let error = std::io::Error::last_os_error();
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
    let mut ui = Explorer::start_with_env(&[], &[("WIRETOP_TEST_PANIC", "1")]);
    let status = ui.wait_exit();
    assert_eq!(status.code(), Some(101), "a panic exits 101");
    ui.assert_terminal_restored();
    let raw = String::from_utf8_lossy(&ui.raw.lock().unwrap()).into_owned();
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
    let mut ui = Explorer::start(&["--interval", "500ms"]);
    ui.wait_for("the first snapshot", |s| s.contains("COMMAND"));
    ui.type_keys("/");
    ui.type_keys(&format!("pid:{}", child.pid()));
    ui.type_keys("\r");
    ui.type_keys("\r"); // expand: the full command line
    let screen = ui.wait_for("the child's detail block", |s| s.contains("command:"));
    assert!(screen.contains("--password=********"), "{screen}");
    assert!(screen.contains("postgres://u:********@"), "{screen}");
    let raw = String::from_utf8_lossy(&ui.raw.lock().unwrap()).into_owned();
    assert!(
        !raw.contains("hunter2") && !raw.contains("hunter3"),
        "no secret ever written"
    );
    ui.type_keys("q");
    ui.wait_exit();
}

#[test]
fn uplink_beside_the_explorer_ships_and_shows_its_state() {
    let receiver = receiver::Receiver::start(|_, _| receiver::Reply::ok());
    let url = receiver.url();
    let mut ui = Explorer::start_with_env(
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
    ui.type_keys("q");
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

    let mut ui = Explorer::start_program(
        common::as_nobody(&binary.path),
        &["--interval", "500ms"],
        &[("HOME", "/nonexistent")],
    );
    ui.wait_for("the header's note", |s| {
        s.contains("not root: some processes' sockets hidden")
    });
    // root's process is listed all the same
    ui.type_keys("/");
    ui.type_keys(&format!("pid:{}", root_server.pid()));
    ui.type_keys("\r");
    ui.wait_for("root's server listed", |s| {
        row_of(s, root_server.pid()).is_some()
    });
    ui.type_keys("\r");
    ui.wait_for("its hidden sockets explained", |s| {
        s.contains("sockets: permission denied")
    });
    // and the user's own server shows its listening socket
    ui.type_keys("\x1b");
    ui.type_keys("E");
    ui.type_keys("/");
    ui.type_keys(&format!("pid:{}", own_server.pid()));
    ui.type_keys("\r");
    ui.type_keys("\r");
    let listen = format!("127.0.0.1:{own_port}");
    ui.wait_for("the user's own listening socket", |s| {
        s.lines()
            .any(|l| l.contains(&listen) && l.contains("LISTEN"))
    });
    ui.type_keys("q");
    assert!(ui.wait_exit().success());
    ui.assert_terminal_restored();
}

#[test]
fn credentials_over_plain_http_are_warned_about_in_the_header() {
    let mut ui = Explorer::start_with_env(
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
    ui.type_keys("q");
    assert!(ui.wait_exit().success());
    ui.assert_terminal_restored();
    let raw = String::from_utf8_lossy(&ui.raw.lock().unwrap()).into_owned();
    assert!(!raw.contains("sentinel-explorer-key"));
}
