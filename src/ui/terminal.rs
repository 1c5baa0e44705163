//! Owning the terminal: raw mode and the alternate screen on the way in, and their undoing on
//! every way out (quit, error, panic, SIGTERM, SIGHUP, SIGINT), including a terminal that has
//! been hung up under us (the ssh connection dropped).

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};

/// Whether stderr was the terminal when the explorer took it over (checked then: once the
/// terminal is hung up, isatty() says no).
static STDERR_ON_TERMINAL: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as we found it. Safe to call more than once and from a panic hook.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let restored = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        cursor::Show
    )
    .and_then(|()| io::stdout().flush());
    if restored.is_err() {
        detach_from_terminal();
    }
}

/// The terminal is gone (hung up: the ssh connection dropped). Whatever still writes to it
/// afterwards (ratatui's drop showing the cursor, our last error line, the panic hook) would
/// fail, and `eprintln!` panics on a failed write: point stdout, and stderr if it was the
/// terminal, at /dev/null so the exit stays orderly.
fn detach_from_terminal() {
    let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
        return;
    };
    let _ = nix::unistd::dup2_stdout(&null);
    if STDERR_ON_TERMINAL.load(Ordering::Relaxed) {
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

/// Restores the terminal when dropped, whatever path leaves the explorer.
pub struct TerminalGuard;

impl TerminalGuard {
    /// Raw mode, the alternate screen (cleared), mouse reporting, no cursor.
    pub fn enter() -> io::Result<TerminalGuard> {
        STDERR_ON_TERMINAL.store(io::stderr().is_terminal(), Ordering::Relaxed);
        enable_raw_mode()?;
        let guard = TerminalGuard;
        // Cleared here rather than with ratatui's `Terminal::clear`, which asks the terminal
        // where its cursor is and gives up after two seconds on a slow or silent one.
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            Clear(ClearType::All),
            EnableMouseCapture,
            cursor::Hide
        )?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restores the terminal before a panic's message is printed, so the message lands on the
/// user's screen, not in the alternate one.
pub fn restore_on_panic() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        default_hook(info);
    }));
}
