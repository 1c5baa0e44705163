//! Owning the terminal: raw mode and the alternate screen on the way in, and their undoing on
//! every way out (quit, error, panic, SIGTERM, SIGHUP, SIGINT), plus the event loop.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent, KeyEventKind,
};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen,
};
use crossterm::{cursor, execute};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::model::Snapshot;
use crate::sample::{self, SampleOutcome, SamplerSettings};

use super::app::{App, Control, KillSignaller};
use super::columns::Column;
use super::render;
use super::state::{Sort, ViewState};
use super::theme::Theme;
use crate::config::ColumnName;
use crate::uplink::UplinkStatus;
use std::sync::Mutex;

/// Also hands each snapshot to the uplink when it runs beside the explorer.
pub type SnapshotHook = Box<dyn Fn(Arc<Snapshot>) + Send + Sync>;

/// How the explorer is started.
pub struct ExplorerOptions {
    pub no_color: bool,
    /// Initial sort column.
    pub sort: ColumnName,
    /// Columns shown, in order.
    pub columns: Vec<ColumnName>,
    /// Collection is switched off: show this instead of sampling.
    pub disabled: Option<String>,
    /// The uplink beside the explorer: where snapshots go, and its state for the header.
    pub uplink: Option<(SnapshotHook, Arc<Mutex<UplinkStatus>>)>,
}

/// Why the explorer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The user quit.
    Quit,
    /// A signal asked us to stop: exit with 128 + its number, as shells expect.
    Signal(i32),
}

enum Event {
    Terminal(TermEvent),
    Snapshot(Arc<Snapshot>),
    SampleFailed(String),
    Signal(i32),
    InputClosed(String),
}

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
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
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

/// Runs the explorer until the user quits or a signal arrives.
pub fn run(settings: SamplerSettings, options: ExplorerOptions) -> anyhow::Result<ExitReason> {
    let (tx, rx) = mpsc::channel::<Event>();

    // Signals first: a SIGTERM during start-up must still restore the terminal.
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])
        .context("installing signal handlers")?;
    let signal_tx = tx.clone();
    std::thread::Builder::new()
        .name("wiretop-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = signal_tx.send(Event::Signal(signal));
            }
        })
        .context("starting the signal thread")?;

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        default_hook(info);
    }));

    // The guard comes second so that it is dropped first: it restores the terminal (or, when
    // the terminal is gone, detaches from it) before ratatui's own drop writes to it.
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).context("opening the terminal")?;
    let _guard = TerminalGuard::enter().context("setting up the terminal")?;

    let input_tx = tx.clone();
    std::thread::Builder::new()
        .name("wiretop-input".to_owned())
        .spawn(move || loop {
            match event::read() {
                Ok(ev) => {
                    if input_tx.send(Event::Terminal(ev)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = input_tx.send(Event::InputClosed(e.to_string()));
                    return;
                }
            }
        })
        .context("starting the input thread")?;

    let sampler_tx = tx;
    let (hook, uplink_status) = match options.uplink {
        Some((hook, status)) => (Some(hook), Some(status)),
        None => (None, None),
    };
    let sampler = if options.disabled.is_some() {
        None
    } else {
        Some(
            sample::spawn(settings, move |outcome| {
                let event = match outcome {
                    SampleOutcome::Published(snapshot) => {
                        if let Some(hook) = &hook {
                            hook(Arc::clone(snapshot));
                        }
                        Event::Snapshot(Arc::clone(snapshot))
                    }
                    SampleOutcome::Failed(error) => Event::SampleFailed(error.to_string()),
                };
                let _ = sampler_tx.send(event);
            })
            .context("starting the sampler")?,
        )
    };

    let theme = Theme::from_env(options.no_color);
    let mut view = ViewState::default();
    let sort_column = Column::from(options.sort);
    view.sort = Sort {
        column: sort_column,
        descending: sort_column.default_descending(),
    };
    let mut app = App::new(view, Box::new(KillSignaller));
    app.columns = options.columns.iter().copied().map(Column::from).collect();
    app.disabled = options.disabled.clone();
    app.uplink = uplink_status;
    draw(&mut terminal, &mut app, &theme)?;

    let reason = loop {
        let Ok(first) = rx.recv() else {
            break ExitReason::Quit;
        };
        // Take everything already queued (key repeat, a burst of wheel events) before drawing
        // once, so the screen never lags behind input.
        let mut redraw = false;
        let mut stop = None;
        for event in std::iter::once(first).chain(rx.try_iter()) {
            let control = match event {
                Event::Terminal(TermEvent::Key(key)) if key.kind != KeyEventKind::Release => {
                    app.on_key(key)
                }
                Event::Terminal(TermEvent::Mouse(mouse)) => app.on_mouse(mouse),
                Event::Terminal(TermEvent::Resize(..)) => Control::Redraw,
                Event::Terminal(_) => Control::Idle,
                Event::Snapshot(snapshot) => {
                    if std::env::var_os("WIRETOP_TEST_PANIC").is_some() {
                        panic!("injected test panic (WIRETOP_TEST_PANIC)");
                    }
                    app.on_snapshot(snapshot)
                }
                Event::SampleFailed(error) => app.on_sample_error(error),
                Event::Signal(signal) => {
                    stop = Some(ExitReason::Signal(signal));
                    break;
                }
                Event::InputClosed(why) => {
                    drop(sampler);
                    anyhow::bail!("terminal input closed: {why}");
                }
            };
            match control {
                Control::Quit => {
                    stop = Some(ExitReason::Quit);
                    break;
                }
                Control::Redraw => redraw = true,
                Control::Idle => {}
            }
        }
        if let Some(reason) = stop {
            break reason;
        }
        if redraw {
            draw(&mut terminal, &mut app, &theme)?;
        }
    };
    // Stop sampling before restoring, so nothing else touches the terminal afterwards.
    if let Some(sampler) = sampler {
        sampler.stop();
    }
    Ok(reason)
}

fn draw(
    terminal: &mut Terminal<CrosstermBackend<io::Stdout>>,
    app: &mut App,
    theme: &Theme,
) -> anyhow::Result<()> {
    let size = terminal.size().context("reading the terminal size")?;
    let screen = render::prepare(app, Rect::new(0, 0, size.width, size.height));
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    terminal
        .draw(|frame| render::draw(frame, app, &screen, theme, now_ms))
        .context("drawing")?;
    Ok(())
}
