//! The interactive explorer in a pseudo-terminal, read back through a terminal emulator
//! (vt100), with a copy of every byte it wrote: for tests that check what reaches the user's
//! terminal.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const ROWS: u16 = 40;
pub const COLS: u16 = 140;

/// The interactive explorer on a pty, with a terminal emulator reading what it draws and a
/// copy of every byte it wrote.
pub struct Terminal {
    wiretop: std::process::Child,
    keyboard: std::fs::File,
    pub emulator: Arc<Mutex<vt100::Parser>>,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    pub fn open(args: &[&str]) -> Terminal {
        use nix::fcntl::{fcntl, FcntlArg, FdFlag};
        let size = nix::pty::Winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).expect("a pseudo-terminal");
        // Other tests spawn children concurrently: they must not inherit either end.
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("close-on-exec");
        }
        let end = || Stdio::from(pty.slave.try_clone().expect("dup pty"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_wiretop"));
        command
            .args(args)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(end())
            .stdout(end())
            .stderr(end());
        // Runs after stdin is the pty: a session of its own with the pty as its terminal.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let wiretop = command.spawn().expect("wiretop starts");
        // Only wiretop holds the terminal end now, so reads end when it exits.
        drop(command);
        drop(pty.slave);

        let keyboard = std::fs::File::from(pty.master);
        let mut display = keyboard.try_clone().expect("dup pty master");
        let emulator = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let written = Arc::new(Mutex::new(Vec::new()));
        let (to_emulator, to_log) = (Arc::clone(&emulator), Arc::clone(&written));
        std::thread::spawn(move || {
            let mut chunk = vec![0u8; 1 << 16];
            loop {
                match display.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        to_emulator.lock().unwrap().process(&chunk[..n]);
                        to_log.lock().unwrap().extend_from_slice(&chunk[..n]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                }
            }
        });
        Terminal {
            wiretop,
            keyboard,
            emulator,
            written,
        }
    }

    /// The screen, one string per row.
    pub fn rows(&self) -> Vec<String> {
        self.emulator
            .lock()
            .unwrap()
            .screen()
            .rows(0, COLS)
            .collect()
    }

    pub fn bytes_written(&self) -> Vec<u8> {
        self.written.lock().unwrap().clone()
    }

    pub fn press(&mut self, keys: &str) {
        self.keyboard
            .write_all(keys.as_bytes())
            .expect("keys reach wiretop");
        self.keyboard.flush().unwrap();
    }

    /// Waits for the screen to show what `done` looks for; fails with the screen if it never
    /// does (the limit is generous: this is no measure of speed).
    pub fn until(&self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            let rows = self.rows();
            if done(&rows) {
                return rows;
            }
            assert!(
                Instant::now() < give_up,
                "the screen never showed {what}:\n{}",
                rows.join("\n")
            );
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Filters the table down to `pid` and waits until only that process is listed.
    pub fn show_only(&mut self, pid: u32) -> Vec<String> {
        self.filter(&format!("pid:{pid}"), |rows| {
            row_of(rows, pid).is_some() && row_of(rows, 1).is_none()
        })
    }

    /// Applies the filter `term` and waits until the filtered table shows what `done` looks
    /// for.
    pub fn filter(&mut self, term: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        self.until("the process table", |rows| {
            rows.iter().any(|r| r.contains("COMMAND"))
        });
        self.press("/");
        self.until("the filter prompt", |rows| {
            rows.last().is_some_and(|r| r.starts_with("Filter: "))
        });
        self.press(term);
        self.until("the typed filter", |rows| {
            rows.last().is_some_and(|r| r.contains(term))
        });
        self.press("\r");
        self.until("the filtered table", |rows| {
            rows.last()
                .is_some_and(|r| r.starts_with("Filter (/ edits"))
                && done(rows)
        })
    }

    pub fn quit(&mut self) {
        self.press("q");
        let give_up = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.wiretop.try_wait().expect("wiretop waitable") {
                assert!(status.success(), "q exits 0: {status:?}");
                return;
            }
            assert!(Instant::now() < give_up, "wiretop did not quit on q");
            std::thread::sleep(Duration::from_millis(40));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.wiretop.kill();
        let _ = self.wiretop.wait();
    }
}

/// The screen row of the process `pid` (the PID column is right-aligned).
pub fn row_of(rows: &[String], pid: u32) -> Option<&String> {
    let prefix = format!("{pid} ");
    rows.iter().find(|r| r.trim_start().starts_with(&prefix))
}

/// The text of the `command:` lines of a detail block, rejoined from the screen rows it was
/// wrapped over (it ends at the `exe:` line).
pub fn detail_command(rows: &[String]) -> String {
    let first = rows
        .iter()
        .position(|r| r.contains("command: "))
        .expect("a command: line");
    let at = rows[first].find("command: ").unwrap();
    let column = rows[first][..at].chars().count() + "command: ".len();
    let mut text = String::new();
    for row in &rows[first..] {
        if row.contains("exe: ") {
            break;
        }
        text.extend(row.chars().skip(column));
    }
    text
}
