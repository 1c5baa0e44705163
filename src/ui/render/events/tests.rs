//! The events pane: what it lists and in what order, the filter, Enter to a process, and the
//! hostile names it escapes; on the fixture host after [`fixture::changed_snapshot`].

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::ui::app::App;
use crate::ui::fixture::{self, screen};
use crate::ui::state::{Mode, Screen};

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

/// The app after the change, drawn once (as the explorer draws before any key), then in the
/// events pane.
fn events_app() -> App {
    let mut app = fixture::changed_app();
    screen(&mut app, 120, 16);
    press(&mut app, KeyCode::Char('L'));
    assert_eq!(app.view.screen, Screen::Events);
    app
}

/// The pane's rows below its title, as (kind, pid) read off the screen.
fn rows(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .skip_while(|l| !l.contains("TIME (UTC)"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("F1"))
        .filter_map(|l| {
            let mut cells = l.split_whitespace().skip(1);
            let kind = cells.next()?.to_owned();
            let pid = cells.next()?.parse().ok()?;
            Some((kind, pid))
        })
        .collect()
}

/// Types `text` into the filter as a user does: `/`, the text, Enter.
fn type_filter(app: &mut App, text: &str) {
    press(app, KeyCode::Char('/'));
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
    press(app, KeyCode::Enter);
    assert_eq!(app.view.filter_text, text);
}

fn kinds(rows: &[(String, u32)]) -> Vec<(&str, u32)> {
    rows.iter().map(|(k, p)| (k.as_str(), *p)).collect()
}

/// Exits `pid` in a snapshot `seconds` after the first one, keeping the rest of `previous`.
fn without(app: &mut App, seconds: u64, pid: u32) {
    let previous = app.snapshot().map(|s| (**s).clone()).expect("a snapshot");
    let mut processes = previous.processes.clone();
    processes.retain(|p| p.pid != pid);
    let next = fixture::next_snapshot(&previous, seconds, processes, &[]);
    app.on_snapshot(Arc::new(next));
}

#[test]
fn events_newest_first_with_time_kind_pid_name_and_details() {
    let mut app = events_app();
    let text = screen(&mut app, 120, 16);
    assert!(text.contains("TIME (UTC)▼"), "{text}");
    assert_eq!(
        kinds(&rows(&text)),
        [
            ("listen", 1600),
            ("started", 1600),
            ("exited", 1300),
            ("connect", 1200)
        ],
        "{text}"
    );
    let listen = text.lines().find(|l| l.contains("listen")).unwrap_or("");
    // 2 s after the fixture's first snapshot (2026-01-01 00:00:00 UTC).
    assert!(listen.starts_with("00:00:02.000 listen"), "{listen}");
    assert!(
        listen.contains("1600 worker") && listen.contains("app"),
        "{listen}"
    );
    assert!(listen.ends_with("tcp 0.0.0.0:9090"), "{listen}");
    let started = text.lines().find(|l| l.contains("started")).unwrap_or("");
    assert!(
        started.ends_with("/srv/app/worker --port 9090"),
        "{started}"
    );
    let connect = text.lines().find(|l| l.contains("connect")).unwrap_or("");
    assert!(connect.ends_with("tcp 203.0.113.9:443"), "{connect}");
    insta::assert_snapshot!("events_pane", text);

    // Later events go on top.
    without(&mut app, 4, 1600);
    let text = screen(&mut app, 120, 16);
    let listed = rows(&text);
    let now = kinds(&listed);
    assert_eq!(
        &now[..2],
        [("exited", 1600), ("unlisten", 1600)],
        "the worker's exit on top: {text}"
    );
    assert_eq!(now.len(), 6);
}

#[test]
fn the_filter_narrows_the_pane_to_what_events_carry() {
    let mut app = events_app();
    let filtered = |app: &mut App, text: &str| {
        app.view.set_filter_text(text.to_owned());
        assert!(app.view.filter_error.is_none(), "{text}");
        kinds(&rows(&screen(app, 120, 16)))
            .into_iter()
            .map(|(kind, pid)| (kind.to_owned(), pid))
            .collect::<Vec<_>>()
    };
    let pairs = |list: &[(&str, u32)]| -> Vec<(String, u32)> {
        list.iter().map(|(k, p)| ((*k).to_owned(), *p)).collect()
    };
    assert_eq!(
        filtered(&mut app, "pid:1600"),
        pairs(&[("listen", 1600), ("started", 1600)])
    );
    assert_eq!(filtered(&mut app, "port:9090"), pairs(&[("listen", 1600)]));
    assert_eq!(
        filtered(&mut app, "remote:203.0.113.0/24"),
        pairs(&[("connect", 1200)])
    );
    assert_eq!(filtered(&mut app, "curl"), pairs(&[("exited", 1300)]));
    assert_eq!(filtered(&mut app, "exited"), pairs(&[("exited", 1300)]));
    assert_eq!(
        filtered(&mut app, "new"),
        pairs(&[("listen", 1600), ("started", 1600)]),
        "only the worker started after launch"
    );
    assert_eq!(filtered(&mut app, "!new").len(), 2);
    assert_eq!(filtered(&mut app, "user:postgres"), pairs(&[]));
    let text = screen(&mut app, 120, 16);
    assert!(
        text.contains("no event matches the filter (Esc clears it)"),
        "{text}"
    );
    // Esc clears the filter first, then goes back.
    press(&mut app, KeyCode::Esc);
    assert!(app.view.filter_text.is_empty());
    assert_eq!(app.view.screen, Screen::Events);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view.screen, Screen::Processes);
}

#[test]
fn enter_selects_the_events_process_in_the_table_while_it_is_listed() {
    let mut app = events_app();
    // Top line: the worker's listen event; the worker is alive.
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view.screen, Screen::Processes);
    assert_eq!(app.view.cursor.map(|c| c.process.pid), Some(1600));
    let text = screen(&mut app, 120, 16);
    assert!(
        text.lines()
            .any(|l| l.starts_with("+") && l.contains("/srv/app/worker")),
        "{text}"
    );

    // curl exited 2 s ago: still listed, greyed, and Enter finds it there.
    press(&mut app, KeyCode::Char('L'));
    type_filter(&mut app, "exited");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view.screen, Screen::Processes);
    assert_eq!(app.view.cursor.map(|c| c.process.pid), Some(1300));
    assert!(
        app.view.filter_text.is_empty(),
        "`exited` hides curl's row in the table: the filter is cleared"
    );
    assert_eq!(
        app.view.message.as_deref(),
        Some("filter cleared to show 1300 (curl)")
    );

    // A minute on, curl is no longer listed: Enter says so and stays.
    let previous = app.snapshot().map(|s| (**s).clone()).expect("a snapshot");
    let later = fixture::next_snapshot(&previous, 70, previous.processes.clone(), &[]);
    app.on_snapshot(Arc::new(later));
    assert!(app.ghosts().is_empty());
    press(&mut app, KeyCode::Char('L'));
    type_filter(&mut app, "pid:1300");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.view.screen, Screen::Events);
    assert_eq!(
        app.view.message.as_deref(),
        Some("1300 (curl) is no longer listed")
    );
    let text = screen(&mut app, 120, 16);
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.contains("1300 (curl) is no longer listed")),
        "{text}"
    );
}

#[test]
fn the_cursor_follows_the_newest_on_top_and_keeps_its_event_below() {
    let mut app = events_app();
    let selected = |app: &App| {
        app.view.events.cursor.and_then(|seq| {
            app.event_lines()
                .into_iter()
                .find(|l| l.seq == seq)
                .map(|l| (l.event.kind.label(), l.event.pid))
        })
    };
    assert_eq!(selected(&app), Some(("listen", 1600)));
    without(&mut app, 4, 1400);
    assert_eq!(selected(&app), Some(("exited", 1400)), "on top: the newest");
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    let below = selected(&app);
    without(&mut app, 6, 1600);
    assert_eq!(selected(&app), below, "lower down: the same event");
    press(&mut app, KeyCode::Home);
    assert_eq!(selected(&app), Some(("exited", 1600)));
    press(&mut app, KeyCode::End);
    assert_eq!(selected(&app), Some(("connect", 1200)), "the oldest");
}

#[test]
fn events_that_arrive_while_paused_are_shown_on_resume() {
    let mut app = events_app();
    press(&mut app, KeyCode::Char('z'));
    without(&mut app, 4, 1400);
    without(&mut app, 6, 1600);
    let text = screen(&mut app, 120, 16);
    assert_eq!(rows(&text).len(), 4, "frozen while paused: {text}");
    press(&mut app, KeyCode::Char('z'));
    let text = screen(&mut app, 120, 16);
    let listed = rows(&text);
    let now = kinds(&listed);
    assert!(now.contains(&("exited", 1400)), "{text}");
    assert!(now.contains(&("exited", 1600)), "{text}");
}

#[test]
fn hostile_names_and_arguments_are_escaped_in_the_pane() {
    let mut app = events_app();
    without(&mut app, 4, 1500);
    app.view.set_filter_text("pid:1500".to_owned());
    let text = screen(&mut app, 120, 16);
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains("\\x1b[31mevil"), "{text}");
}

#[test]
fn help_in_the_pane_lists_its_own_keys_and_kinds() {
    let mut app = events_app();
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.view.mode, Mode::Help);
    let text = screen(&mut app, 140, 40);
    assert!(text.contains("select the event's process"), "{text}");
    assert!(text.contains("listen unlisten"), "{text}");
    assert!(!text.contains("send a signal"), "no kill here: {text}");
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.view.screen, Screen::Events, "closing help stays");
}

#[test]
fn a_narrow_terminal_drops_user_then_time_and_keeps_the_details() {
    let mut app = events_app();
    let text = screen(&mut app, 80, 15);
    assert!(!text.contains("USER") && text.contains("TIME"), "{text}");
    assert!(text.contains("tcp 203.0.113.9:443"), "{text}");
    let text = screen(&mut app, 60, 15);
    assert!(!text.contains("TIME") && text.contains("DETAILS"), "{text}");
    assert!(text.contains("tcp 203.0.113.9:443"), "{text}");
}
