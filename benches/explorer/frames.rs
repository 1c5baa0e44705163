//! 1 and 2: the cost of a frame, and of a key and its frame, in process on ratatui's
//! TestBackend.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use ratatui::Terminal;
use wiretop::model::Snapshot;
use wiretop::ui::app::{App, AppOptions, KillSignaller};
use wiretop::ui::render::{draw, prepare};
use wiretop::ui::rows::Line;
use wiretop::ui::state::ProcessId;
use wiretop::ui::theme::Theme;

use crate::{millis, Config, Summary, NOW_MS, SIZES, WARMUP_FRAMES};

pub(crate) fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub(crate) fn char_key(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

pub(crate) fn new_app(snapshot: &Arc<Snapshot>) -> App {
    let mut app = App::new(AppOptions::new(Box::new(KillSignaller)));
    app.on_snapshot(Arc::clone(snapshot));
    app
}

pub(crate) fn new_terminal(width: u16, height: u16) -> Result<Terminal<TestBackend>> {
    Terminal::new(TestBackend::new(width, height)).context("creating a test terminal")
}

/// One frame, as the explorer's loop draws it: layout, then draw (ratatui diffs and "flushes"
/// into the test backend).
pub(crate) fn frame(
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    theme: &Theme,
) -> Result<()> {
    let size = terminal.size().context("test terminal size")?;
    let layout = prepare(app, Rect::new(0, 0, size.width, size.height));
    terminal
        .draw(|f| draw(f, app, &layout, theme, NOW_MS))
        .context("drawing a frame")?;
    Ok(())
}

/// Process rows the current view shows (filter applied).
pub(crate) fn visible_processes(app: &App) -> usize {
    app.lines()
        .iter()
        .filter(|l| matches!(l, Line::Process { .. }))
        .count()
}

/// Times `frames` frames; `before` runs untimed ahead of each (a key, a new snapshot).
pub(crate) fn time_frames(
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    theme: &Theme,
    frames: usize,
    mut before: impl FnMut(&mut App, usize),
) -> Result<Vec<f64>> {
    for i in 0..WARMUP_FRAMES {
        before(app, i);
        frame(app, terminal, theme)?;
    }
    let mut samples = Vec::with_capacity(frames);
    for i in 0..frames {
        before(app, WARMUP_FRAMES + i);
        let started = Instant::now();
        frame(app, terminal, theme)?;
        samples.push(millis(started.elapsed()));
    }
    Ok(samples)
}

/// Times `samples` keys, each with the frame it asks for (when it asks for one).
pub(crate) fn time_keys(
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    theme: &Theme,
    samples: usize,
    mut next_key: impl FnMut(usize) -> KeyEvent,
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..WARMUP_FRAMES + samples {
        let pressed = next_key(i);
        let started = Instant::now();
        let control = app.on_key(pressed);
        if control == wiretop::ui::app::Control::Redraw {
            frame(app, terminal, theme)?;
        }
        let elapsed = millis(started.elapsed());
        if i >= WARMUP_FRAMES {
            out.push(elapsed);
        }
    }
    Ok(out)
}

pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) size: String,
    pub(crate) note: String,
    pub(crate) summary: Summary,
}

pub(crate) fn render_rows(
    config: &Config,
    a: &Arc<Snapshot>,
    b: &Arc<Snapshot>,
) -> Result<Vec<Row>> {
    let theme = Theme::new(true);
    let frames = config.frames;
    let mut rows = Vec::new();
    for (width, height) in SIZES {
        let size = format!("{width}x{height}");
        let mut add = |name: &str, note: String, samples: Vec<f64>| {
            rows.push(Row {
                name: name.to_owned(),
                size: size.clone(),
                note,
                summary: Summary::of(&samples),
            })
        };

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add("(a) redraw, view unchanged", "sort CPU%".into(), samples);

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |app, i| {
            app.on_key(char_key(if i % 2 == 0 { 'M' } else { 'P' }));
        })?;
        add(
            "(b) frame after re-sort",
            "M / P alternately; key untimed".into(),
            samples,
        );

        let mut app = new_app(a);
        app.view.set_filter_text("port:8080".to_owned());
        let shown = visible_processes(&app);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add(
            "(c) filter port:8080",
            format!("{shown} of {} processes match", a.processes.len()),
            samples,
        );

        let mut app = new_app(a);
        app.on_key(char_key('C'));
        let expanded: Vec<ProcessId> = app
            .lines()
            .iter()
            .filter_map(|l| match l {
                Line::Process { process, .. } => Some(ProcessId::of(process)),
                _ => None,
            })
            .take(5)
            .collect();
        app.view.expanded.extend(expanded);
        let lines = app.lines().len();
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add(
            "(d) 5 rows expanded",
            format!("sort CONN, top 5 open, {lines} lines"),
            samples,
        );

        let mut app = new_app(a);
        app.on_key(char_key('t'));
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |_, _| {})?;
        add("(e) tree view", "t".into(), samples);

        let mut app = new_app(a);
        let mut term = new_terminal(width, height)?;
        let samples = time_frames(&mut app, &mut term, &theme, frames, |app, i| {
            app.on_snapshot(Arc::clone(if i % 2 == 0 { b } else { a }));
        })?;
        add(
            "(f) frame after new snapshot",
            "on_snapshot untimed; 20 exits + 20 new".into(),
            samples,
        );
    }
    Ok(rows)
}

pub(crate) fn input_rows(config: &Config, a: &Arc<Snapshot>) -> Result<Vec<Row>> {
    let theme = Theme::new(true);
    let samples = config.frames;
    let mut rows = Vec::new();
    for (width, height) in SIZES {
        let size = format!("{width}x{height}");
        let mut add = |name: &str, note: &str, samples: Vec<f64>| {
            rows.push(Row {
                name: name.to_owned(),
                size: size.clone(),
                note: note.to_owned(),
                summary: Summary::of(&samples),
            })
        };
        let fresh = || -> Result<(App, Terminal<TestBackend>)> {
            let mut app = new_app(a);
            let mut term = new_terminal(width, height)?;
            frame(&mut app, &mut term, &theme)?;
            Ok((app, term))
        };

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |_| key(KeyCode::Down))?;
        add("Down", "cursor walks down, scrolls", s);

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            key(if i % 2 == 0 {
                KeyCode::PageDown
            } else {
                KeyCode::PageUp
            })
        })?;
        add("PgDn / PgUp", "alternately", s);

        let (mut app, mut term) = fresh()?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            char_key(if i % 2 == 0 { 'M' } else { 'P' })
        })?;
        add("M / P (re-sort)", "alternately", s);

        let (mut app, mut term) = fresh()?;
        let typed: Vec<KeyEvent> = std::iter::once(char_key('/'))
            .chain("port:8080".chars().map(char_key))
            .chain([key(KeyCode::Enter), key(KeyCode::Esc)])
            .collect();
        let s = time_keys(&mut app, &mut term, &theme, samples, |i| {
            typed[i % typed.len()]
        })?;
        add("typing a filter", "/ p o r t : 8 0 8 0 Enter Esc", s);

        let (mut app, mut term) = fresh()?;
        app.on_key(char_key('C'));
        frame(&mut app, &mut term, &theme)?;
        let s = time_keys(&mut app, &mut term, &theme, samples, |_| {
            key(KeyCode::Enter)
        })?;
        add("Enter (expand/collapse)", "top row of sort CONN", s);
    }
    Ok(rows)
}

pub(crate) fn print_rows(title: &str, rows: &[Row], target_ms: f64) {
    println!("{title}");
    println!(
        "| {:<29} | {:>7} | {:>5} | {:>9} | {:>9} | {:>9} | {:>8} | {:<40} |",
        "scenario", "size", "n", "median ms", "p95 ms", "max ms", "target", "notes"
    );
    println!(
        "|{:-<31}|{:->9}|{:->7}|{:->11}|{:->11}|{:->11}|{:->10}|{:-<42}|",
        "", "", "", "", "", "", "", ""
    );
    for row in rows {
        let s = &row.summary;
        println!(
            "| {:<29} | {:>7} | {:>5} | {:>9.3} | {:>9.3} | {:>9.3} | {:>8} | {:<40} |",
            row.name,
            row.size,
            s.count,
            s.median,
            s.p95,
            s.max,
            s.verdict(target_ms),
            row.note
        );
    }
}
