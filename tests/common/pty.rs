//! A program in a pseudo-terminal of its own, read back through a terminal emulator (vt100): the
//! one harness for the integration tests and the benches (`benches/` include this file by
//! path). The program runs in a session of its own with the pty as its controlling terminal, as
//! under a login shell (so hanging the terminal up delivers SIGHUP), through util-linux's
//! `setsid --ctty`: no code of ours runs between fork and exec.
//!
//! Every read from the terminal is fed to the emulator, counted and timed as it arrives, and
//! may be kept whole; a [`Pty::wait_for`] predicate is checked on each read, so the time it
//! reports is when the bytes arrived, not when a test looked.
#![allow(dead_code)] // each test binary and bench uses a different part of this module

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How a program is started in its pty.
#[derive(Debug, Clone, Copy)]
pub struct PtyOptions {
    pub rows: u16,
    pub cols: u16,
    /// Keep every byte the program wrote (tests that look for raw escape sequences).
    pub record: bool,
    /// Keep our copy of the terminal's end, so its settings can be read after the program
    /// exits, or the terminal hung up under it.
    pub keep_terminal: bool,
}

impl Default for PtyOptions {
    fn default() -> Self {
        PtyOptions {
            rows: 40,
            cols: 140,
            record: true,
            keep_terminal: false,
        }
    }
}

struct Watch {
    ready: Box<dyn Fn(&vt100::Screen) -> bool + Send>,
    seen: Option<Instant>,
}

struct State {
    parser: vt100::Parser,
    /// An escape sequence cut off at the end of the last read, for [`hvp_to_cup`].
    carry: Vec<u8>,
    written: Vec<u8>,
    bytes: u64,
    /// When each read returned: how often the screen was updated.
    reads: Vec<Instant>,
    watch: Option<Watch>,
    closed: bool,
}

/// A program running in a pty of its own.
pub struct Pty {
    label: String,
    child: Child,
    keyboard: File,
    shared: Arc<(Mutex<State>, Condvar)>,
    terminal: Option<OwnedFd>,
    tty_path: String,
    pub started: Instant,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pty {
    /// Starts `command` (its program, arguments and environment; its stdio is the pty's).
    pub fn start(label: &str, command: &Command, options: PtyOptions) -> std::io::Result<Pty> {
        let size = nix::pty::Winsize {
            ws_row: options.rows,
            ws_col: options.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None)?;
        // Children started later (other tests run in parallel) must not inherit either end.
        for fd in [&pty.master, &pty.slave] {
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )?;
        }
        let tty_path = nix::unistd::ttyname(&pty.slave)?
            .to_string_lossy()
            .into_owned();
        let end = || pty.slave.try_clone().map(Stdio::from);
        // setsid(1) makes the session and, with --ctty, the pty its controlling terminal, then
        // execs the program in place: the child's pid is the program's.
        let mut wrapped = Command::new("setsid");
        wrapped
            .arg("--ctty")
            .arg(command.get_program())
            .args(command.get_args())
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .env_remove("COLUMNS")
            .env_remove("LINES")
            .stdin(end()?)
            .stdout(end()?)
            .stderr(end()?);
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = command.get_current_dir() {
            wrapped.current_dir(dir);
        }
        let child = wrapped.spawn()?;
        let started = Instant::now();
        drop(wrapped);
        // Unless asked to keep it, only the program holds the terminal's end now, so the
        // reader ends when it exits.
        let terminal = options.keep_terminal.then_some(pty.slave);
        let keyboard = File::from(pty.master);
        let mut display = keyboard.try_clone()?;
        let shared = Arc::new((
            Mutex::new(State {
                parser: vt100::Parser::new(options.rows, options.cols, 0),
                carry: Vec::new(),
                written: Vec::new(),
                bytes: 0,
                reads: Vec::new(),
                watch: None,
                closed: false,
            }),
            Condvar::new(),
        ));
        let from_reader = Arc::clone(&shared);
        let record = options.record;
        std::thread::Builder::new()
            .name(format!("pty-{label}"))
            .spawn(move || {
                let (state, changed) = &*from_reader;
                let mut chunk = vec![0u8; 1 << 16];
                loop {
                    let n = match display.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let at = Instant::now();
                    let mut guard = lock(state);
                    let st = &mut *guard;
                    let parsed = hvp_to_cup(&mut st.carry, &chunk[..n]);
                    st.parser.process(&parsed);
                    if record {
                        st.written.extend_from_slice(&chunk[..n]);
                    }
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
            })?;
        Ok(Pty {
            label: label.to_owned(),
            child,
            keyboard,
            shared,
            terminal,
            tty_path,
            started,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.state().bytes
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.0)
    }

    /// What `look` makes of the screen as it is now.
    pub fn with_screen<T>(&self, look: impl FnOnce(&vt100::Screen) -> T) -> T {
        look(self.state().parser.screen())
    }

    /// The whole screen as text.
    pub fn contents(&self) -> String {
        self.with_screen(|screen| screen.contents())
    }

    /// The screen, one string per row.
    pub fn rows(&self) -> Vec<String> {
        self.with_screen(|screen| screen.rows(0, screen.size().1).collect())
    }

    /// Bells rung, window title and icon name set, so far.
    pub fn signals(&self) -> (usize, String, String) {
        self.with_screen(|screen| {
            (
                screen.audible_bell_count(),
                screen.title().to_owned(),
                screen.icon_name().to_owned(),
            )
        })
    }

    /// Every byte the program wrote (with [`PtyOptions::record`]).
    pub fn written(&self) -> Vec<u8> {
        self.state().written.clone()
    }

    /// Bytes written so far, and when each read returned.
    pub fn bytes_and_reads(&self) -> (u64, Vec<Instant>) {
        let state = self.state();
        (state.bytes, state.reads.clone())
    }

    /// Types `bytes` on the keyboard.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.keyboard.write_all(bytes)?;
        self.keyboard.flush()
    }

    /// Starts watching for `ready`, to be waited for with [`Self::wait_armed`]: arm, then
    /// send a key, then wait, and the time is the first read after the key that showed its
    /// effect. False (and nothing armed) when the screen already satisfies it.
    pub fn arm(&self, ready: impl Fn(&vt100::Screen) -> bool + Send + 'static) -> bool {
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

    /// When the armed predicate first held, or None after `timeout` or when the program has
    /// closed the terminal.
    pub fn wait_armed(&self, timeout: Duration) -> Option<Instant> {
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

    /// When the screen first satisfied `ready` (now, if it already does), or None after
    /// `timeout` or when the program has closed the terminal.
    pub fn wait_for(
        &self,
        timeout: Duration,
        ready: impl Fn(&vt100::Screen) -> bool + Send + 'static,
    ) -> Option<Instant> {
        if !self.arm(ready) {
            return Some(Instant::now());
        }
        self.wait_armed(timeout)
    }

    /// [`Self::wait_for`], failing the test with `what` and the screen when it never comes.
    pub fn expect(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&vt100::Screen) -> bool + Send + 'static,
    ) -> String {
        if self.wait_for(timeout, ready).is_none() {
            panic!(
                "{} never showed {what} within {timeout:?}; screen:\n{}",
                self.label,
                self.contents()
            );
        }
        self.contents()
    }

    /// The program's exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the program to exit, then lets the reader take what was
    /// written last.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                let (state, changed) = &*self.shared;
                let st = lock(state);
                if !st.closed && self.terminal.is_none() {
                    let _ = changed.wait_timeout(st, Duration::from_millis(500));
                } else {
                    drop(st);
                    std::thread::sleep(Duration::from_millis(200));
                }
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `keys` (if the program still runs) and waits up to `timeout` for it to exit.
    pub fn quit(&mut self, keys: &[u8], timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        if self.send(keys).is_err() {
            return self.exited();
        }
        self.wait_exit(timeout)
    }

    /// Our copy of the terminal's end ([`PtyOptions::keep_terminal`]).
    pub fn terminal(&self) -> Option<&OwnedFd> {
        self.terminal.as_ref()
    }

    /// The terminal's device (`/dev/pts/N`).
    pub fn tty_path(&self) -> &str {
        &self.tty_path
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The program leads its own session and process group: take the whole group.
            if let Ok(pid) = i32::try_from(self.child.id()) {
                let _ = nix::sys::signal::killpg(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// vt100 0.15 does not know HVP (`CSI row;col f`), which btop positions its cursor with; it
/// means the same as CUP (`CSI row;col H`), so it is rewritten before parsing. (vt100 0.16 and
/// later know it, but drop U+FFFD from the screen, which the hostile-input tests look for.) An
/// escape sequence cut off at the end of `input` waits in `carry` for the next read.
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
