//! The interactive explorer in a pseudo-terminal (`common::pty`), driven by keystrokes and read
//! back as a user would see it: the explorer's tests, the hostile-input and the secrets tests
//! share it.
#![allow(dead_code)] // each test binary uses a different part of this module

use std::process::{Command, ExitStatus};
use std::time::Duration;

use nix::sys::termios::{tcgetattr, LocalFlags};

use super::pty::{Pty, PtyOptions};

pub const ROWS: u16 = 40;
pub const COLS: u16 = 160;

/// Generous, for a busy 2-core machine: these are no measure of speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// The explorer on a pty.
pub struct Terminal {
    pty: Pty,
}

impl Terminal {
    /// `wiretop ARGS`.
    pub fn open(args: &[&str]) -> Terminal {
        Terminal::open_with_env(args, &[])
    }

    /// `wiretop ARGS` with more environment.
    pub fn open_with_env(args: &[&str], env: &[(&str, &str)]) -> Terminal {
        Terminal::open_program(Command::new(env!("CARGO_BIN_EXE_wiretop")), args, env)
    }

    /// `program ARGS`: wiretop, possibly behind a wrapper such as setpriv.
    pub fn open_program(mut program: Command, args: &[&str], env: &[(&str, &str)]) -> Terminal {
        program.args(args).envs(env.iter().copied());
        let options = PtyOptions {
            rows: ROWS,
            cols: COLS,
            record: true,
            keep_terminal: true,
        };
        let pty = Pty::start("wiretop", &program, options).expect("wiretop starts in a pty");
        Terminal { pty }
    }

    pub fn pid(&self) -> u32 {
        self.pty.pid()
    }

    /// The whole screen as text.
    pub fn contents(&self) -> String {
        self.pty.contents()
    }

    /// The screen, one string per row.
    pub fn rows(&self) -> Vec<String> {
        self.pty.rows()
    }

    /// Every byte wiretop wrote to the terminal.
    pub fn bytes_written(&self) -> Vec<u8> {
        self.pty.written()
    }

    /// Bells rung, window title and icon name set.
    pub fn signals(&self) -> (usize, String, String) {
        self.pty.signals()
    }

    /// Whether the screen is on the alternate buffer, and whether the cursor is hidden.
    pub fn screen_modes(&self) -> (bool, bool) {
        self.pty
            .with_screen(|screen| (screen.alternate_screen(), screen.hide_cursor()))
    }

    /// Whether the row of `pid` is drawn greyed, as the colour theme draws an exited process
    /// (dark grey, the 256-colour palette's 8); None when the row is not on screen.
    pub fn row_greyed(&self, pid: u32) -> Option<bool> {
        let rows = self.rows();
        let (y, row) = rows.iter().enumerate().find(|(_, r)| is_row_of(r, pid))?;
        // The row is ASCII up to its PID (marks, spaces, digits), so bytes are columns there.
        let x = row.find(&pid.to_string())?;
        let (y, x) = (u16::try_from(y).ok()?, u16::try_from(x).ok()?);
        self.pty.with_screen(|screen| {
            screen
                .cell(y, x)
                .map(|cell| cell.fgcolor() == vt100::Color::Idx(8))
        })
    }

    /// Types `keys` and lets the explorer take them as input before the next burst.
    pub fn press(&mut self, keys: &str) {
        self.pty.send(keys.as_bytes()).expect("keys reach wiretop");
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits until the screen's text satisfies `ready`, or fails showing the screen.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.poll(what, || {
            let text = self.contents();
            ready(&text).then_some(text)
        })
    }

    /// Waits until the screen's rows satisfy `done`, and returns them.
    pub fn until(&self, what: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        self.poll(what, || {
            let rows = self.rows();
            done(&rows).then_some(rows)
        })
    }

    /// Looks at the screen every 40 ms until `look` finds what it wants; fails with the
    /// screen after a while.
    fn poll<T>(&self, what: &str, look: impl Fn() -> Option<T>) -> T {
        let give_up = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(found) = look() {
                return found;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "the screen never showed {what}:\n{}",
                self.contents()
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

    /// wiretop's exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.pty.exited()
    }

    /// Waits for wiretop to exit (failing after a while) and for its last output.
    pub fn wait_exit(&mut self) -> ExitStatus {
        self.pty.wait_exit(PATIENCE).expect("wiretop exits")
    }

    /// `q`, then exit status 0.
    pub fn quit(&mut self) {
        self.press("q");
        let status = self.wait_exit();
        assert!(status.success(), "q exits 0: {status:?}");
    }

    /// The terminal device, for hanging it up.
    pub fn tty_path(&self) -> &str {
        self.pty.tty_path()
    }

    /// Checks what a user's shell needs after wiretop: main screen back, cursor visible,
    /// cooked mode (line editing and echo) on.
    pub fn assert_terminal_restored(&self) {
        let raw = self.bytes_written();
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
        let (alternate, hidden) = self.screen_modes();
        assert!(!hidden, "cursor visible");
        assert!(!alternate, "back on the main screen");
        let terminal = self.pty.terminal().expect("the terminal's end is kept");
        let termios = tcgetattr(terminal).expect("tcgetattr");
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

/// A table row after its marks column (`+` started since launch, `-` exited, `!` outside the
/// baseline), from its first character that is not blank: the right-aligned PID.
pub fn unmarked(row: &str) -> &str {
    row.strip_prefix(['+', '-', '!'])
        .unwrap_or(row)
        .trim_start()
}

/// Whether `row` is the process table's row of `pid`.
fn is_row_of(row: &str, pid: u32) -> bool {
    unmarked(row).starts_with(&format!("{pid} "))
}

/// The screen row of the process `pid` (the PID column is right-aligned).
pub fn row_of(rows: &[String], pid: u32) -> Option<&String> {
    rows.iter().find(|r| is_row_of(r, pid))
}

/// The row of `pid` in a screen's text.
pub fn line_of(screen: &str, pid: u32) -> Option<String> {
    screen
        .lines()
        .find(|l| is_row_of(l, pid))
        .map(str::to_owned)
}

/// The mark in the row of `pid`: `+` new, `-` exited, `!` unexpected, ` ` none; None when it is
/// not listed.
pub fn mark_of(rows: &[String], pid: u32) -> Option<char> {
    row_of(rows, pid).and_then(|row| row.chars().next())
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
