//! The explorer's main loop: events from one channel applied to the [`App`], a frame drawn only
//! when something visible changed. Generic over ratatui's `Backend`, so the loop itself (its
//! coalescing, its quitting) runs under `TestBackend` in unit tests, as gitui's does.

use std::sync::mpsc::Receiver;
use std::sync::Arc;

use anyhow::Context;
use crossterm::event::{Event as TerminalEvent, KeyEventKind};
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use ratatui::Terminal;

use crate::model::Snapshot;

use super::app::{App, Control};
use super::render;
use super::theme::Theme;

/// Everything that happens to the explorer, from its three feeders: the terminal (keys, mouse,
/// resizes), the sampler, and the signal watcher.
pub enum Event {
    Terminal(TerminalEvent),
    Snapshot(Arc<Snapshot>),
    SampleFailed(String),
    Signal(i32),
    /// The terminal's input ended (it was closed or hung up).
    InputClosed(String),
}

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopEnd {
    /// The user quit, or every feeder has gone.
    Quit,
    /// A signal asked us to stop.
    Signal(i32),
    /// The terminal's input ended.
    InputClosed(String),
}

/// Test hooks, read from the environment once, at start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// Panic on the first snapshot (`WIRETOP_TEST_PANIC`), to test restoring the terminal.
    pub panic_on_snapshot: bool,
}

impl Hooks {
    /// Honoured only in debug builds (the ones the tests run): a release binary has no test
    /// hooks.
    pub fn from_env() -> Hooks {
        Hooks {
            panic_on_snapshot: cfg!(debug_assertions)
                && std::env::var_os("WIRETOP_TEST_PANIC").is_some(),
        }
    }
}

/// What the loop draws with: the theme and a clock (unix ms) that dates the snapshot's age.
pub struct Drawing<'a> {
    pub theme: &'a Theme,
    pub now_ms: &'a dyn Fn() -> u64,
}

/// Draws a first frame, then applies events until the user quits, a signal arrives, the
/// terminal's input ends or every sender has gone. Everything already queued is applied before
/// drawing once, so the screen never lags behind input (key repeat, a burst of wheel events).
pub fn run_main_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &Receiver<Event>,
    drawing: &Drawing<'_>,
    hooks: Hooks,
) -> anyhow::Result<LoopEnd>
where
    B::Error: Send + Sync + 'static,
{
    draw(terminal, app, drawing)?;
    loop {
        let Ok(first) = events.recv() else {
            return Ok(LoopEnd::Quit);
        };
        let mut redraw = false;
        for event in std::iter::once(first).chain(events.try_iter()) {
            let control = match event {
                Event::Terminal(TerminalEvent::Key(key)) if key.kind != KeyEventKind::Release => {
                    app.on_key(key)
                }
                Event::Terminal(TerminalEvent::Mouse(mouse)) => app.on_mouse(mouse),
                Event::Terminal(TerminalEvent::Resize(..)) => Control::Redraw,
                Event::Terminal(_) => Control::Idle,
                Event::Snapshot(snapshot) => {
                    if hooks.panic_on_snapshot {
                        panic!("injected test panic (WIRETOP_TEST_PANIC)");
                    }
                    app.on_snapshot(snapshot)
                }
                Event::SampleFailed(error) => app.on_sample_error(error),
                Event::Signal(signal) => return Ok(LoopEnd::Signal(signal)),
                Event::InputClosed(why) => return Ok(LoopEnd::InputClosed(why)),
            };
            match control {
                Control::Quit => return Ok(LoopEnd::Quit),
                Control::Redraw => redraw = true,
                Control::Idle => {}
            }
        }
        if redraw {
            draw(terminal, app, drawing)?;
        }
    }
}

fn draw<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    drawing: &Drawing<'_>,
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let size = terminal.size().context("reading the terminal size")?;
    let screen = render::prepare(app, Rect::new(0, 0, size.width, size.height));
    let now_ms = (drawing.now_ms)();
    terminal
        .draw(|frame| render::draw(frame, app, &screen, drawing.theme, now_ms))
        .context("drawing")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::ui::fixture;

    fn key(code: KeyCode) -> Event {
        Event::Terminal(TerminalEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    /// Runs the loop over `events` (the channel closes after them) on an 100x30 test terminal;
    /// returns how it ended, the frames drawn and the last screen.
    fn run(app: &mut App, events: Vec<Event>, hooks: Hooks) -> (LoopEnd, usize, String) {
        let (tx, rx) = mpsc::channel();
        for event in events {
            let _ = tx.send(event);
        }
        drop(tx);
        let Ok(mut terminal) = Terminal::new(TestBackend::new(100, 30));
        let theme = Theme::new(true);
        let drawing = Drawing {
            theme: &theme,
            now_ms: &|| fixture::NOW_MS,
        };
        let end = match run_main_loop(&mut terminal, app, &rx, &drawing, hooks) {
            Ok(end) => end,
            Err(e) => panic!("the loop failed: {e:#}"),
        };
        let frames = terminal.get_frame().count();
        let screen = format!("{:?}", terminal.backend());
        (end, frames, screen)
    }

    #[test]
    fn a_burst_of_events_is_drawn_once() {
        let mut app = fixture::app();
        let burst = (0..50).map(|_| key(KeyCode::Down)).collect();
        let (end, frames, _) = run(&mut app, burst, Hooks::default());
        assert_eq!(end, LoopEnd::Quit, "the channel closed");
        // The first frame, then one for the whole burst (all 50 were queued before the loop
        // looked): never one per key.
        assert_eq!(frames, 2);
    }

    #[test]
    fn nothing_visible_changed_means_no_frame() {
        let mut app = fixture::app();
        let idle = vec![
            key(KeyCode::Char('x')),
            Event::Terminal(TerminalEvent::FocusGained),
            key(KeyCode::F(12)),
        ];
        let (_, frames, _) = run(&mut app, idle, Hooks::default());
        assert_eq!(frames, 1, "only the first frame");
    }

    #[test]
    fn quit_stops_before_the_events_after_it() {
        let mut app = fixture::app();
        let (end, _, _) = run(
            &mut app,
            vec![key(KeyCode::Char('q')), key(KeyCode::Char('t'))],
            Hooks::default(),
        );
        assert_eq!(end, LoopEnd::Quit);
        assert!(!app.view.tree, "the key after q was never applied");
    }

    #[test]
    fn a_signal_or_closed_input_ends_the_loop_with_its_reason() {
        let mut app = fixture::app();
        let (end, _, _) = run(
            &mut app,
            vec![key(KeyCode::Down), Event::Signal(libc::SIGTERM)],
            Hooks::default(),
        );
        assert_eq!(end, LoopEnd::Signal(libc::SIGTERM));
        let (end, _, _) = run(
            &mut app,
            vec![Event::InputClosed("EIO".to_owned())],
            Hooks::default(),
        );
        assert_eq!(end, LoopEnd::InputClosed("EIO".to_owned()));
    }

    #[test]
    fn snapshots_and_keys_reach_the_app_and_the_screen() {
        let mut app = fixture::app();
        let mut newer = fixture::snapshot();
        newer.host.hostname = "web-2".to_owned();
        let mouse = MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 10,
            row: 10,
            modifiers: KeyModifiers::NONE,
        };
        let (_, frames, screen) = run(
            &mut app,
            vec![
                Event::Snapshot(Arc::new(newer)),
                key(KeyCode::Char('t')),
                Event::Terminal(TerminalEvent::Mouse(mouse)),
                Event::SampleFailed("cannot read /proc".to_owned()),
            ],
            Hooks::default(),
        );
        assert_eq!(frames, 2);
        assert!(app.view.tree);
        assert!(screen.contains("web-2"), "{screen}");
        assert!(
            screen.contains("sampling failed: cannot read /proc"),
            "{screen}"
        );
    }

    #[test]
    fn released_keys_are_not_presses() {
        let mut app = fixture::app();
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        let (end, frames, _) = run(
            &mut app,
            vec![Event::Terminal(TerminalEvent::Key(release))],
            Hooks::default(),
        );
        assert_eq!(
            (end, frames),
            (LoopEnd::Quit, 1),
            "ended by the closed channel"
        );
    }

    #[test]
    #[should_panic(expected = "injected test panic")]
    fn the_panic_hook_fires_on_a_snapshot() {
        let mut app = fixture::app();
        let hooks = Hooks {
            panic_on_snapshot: true,
        };
        run(
            &mut app,
            vec![Event::Snapshot(Arc::new(fixture::snapshot()))],
            hooks,
        );
    }
}
