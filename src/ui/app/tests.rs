//! Behaviour of the explorer's state machine: selection, expansion, refreshes, kill, mouse.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::{App, Control};
use crate::model::Snapshot;
use crate::ui::columns::Column;
use crate::ui::fixture::{self, screen};
use crate::ui::rows::Line;
use crate::ui::state::{Mode, ProcessId};

fn key(app: &mut App, code: KeyCode) -> Control {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn selected_pid(app: &App) -> Option<u32> {
    app.view.cursor.map(|c| c.process.pid)
}

fn select(app: &mut App, pid: u32) {
    for _ in 0..50 {
        if selected_pid(app) == Some(pid) {
            return;
        }
        key(app, KeyCode::Down);
    }
    panic!("could not select {pid}");
}

fn without(pid: u32) -> Snapshot {
    let mut s = fixture::snapshot();
    s.processes.retain(|p| p.pid != pid);
    s
}

#[test]
fn selection_follows_the_process_across_resorts() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    select(&mut app, 1400);
    key(&mut app, KeyCode::Char('N'));
    assert_eq!(selected_pid(&app), Some(1400));
    key(&mut app, KeyCode::Char('I'));
    assert_eq!(selected_pid(&app), Some(1400));
    assert_eq!(app.view.sort.column, Column::Pid);
}

#[test]
fn selection_follows_the_process_across_refreshes_that_reorder_rows() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    select(&mut app, 1400);
    let mut next = fixture::snapshot();
    for p in &mut next.processes {
        if p.pid == 1400 {
            p.cpu = Some(crate::model::CpuUsage {
                total_pct: 90.0,
                user_pct: 90.0,
                system_pct: 0.0,
            });
        }
    }
    app.on_snapshot(Arc::new(next));
    assert_eq!(selected_pid(&app), Some(1400));
    let text = screen(&mut app, 120, 30);
    assert!(
        text.lines().nth(5).unwrap_or("").contains("postgres"),
        "now on top: {text}"
    );
}

/// The fixture host `seconds` after the first snapshot, without `pid`.
fn without_at(seconds: u64, pid: u32) -> Snapshot {
    let mut processes = fixture::processes();
    processes.retain(|p| p.pid != pid);
    fixture::snapshot_at(seconds, processes)
}

#[test]
fn exited_process_stays_for_the_linger_then_goes_and_its_expansion_with_it() {
    let mut app =
        fixture::app_with(|options| options.exited_linger = std::time::Duration::from_secs(10));
    let curl = app
        .snapshot()
        .and_then(|s| s.process(1300))
        .map(ProcessId::of)
        .unwrap();
    app.view.expanded.insert(curl);
    // Gone in the snapshot 2 s on; kept at 6 s and 11 s (9 s gone), dropped at 12 s.
    for seconds in [2, 6, 11] {
        app.on_snapshot(Arc::new(without_at(seconds, 1300)));
        assert_eq!(app.ghosts().len(), 1, "still listed at {seconds} s");
        assert!(
            app.view.expanded.contains(&curl),
            "still expanded while shown"
        );
        let text = screen(&mut app, 120, 30);
        assert!(
            text.lines()
                .any(|l| l.starts_with("- ") && l.contains("curl -sN")),
            "{text}"
        );
    }
    app.on_snapshot(Arc::new(without_at(12, 1300)));
    assert!(app.ghosts().is_empty(), "10 s after it went");
    assert!(!app.view.expanded.contains(&curl));
    assert!(!screen(&mut app, 120, 30).contains("curl -sN"));
}

#[test]
fn a_zero_linger_keeps_an_exited_process_for_one_refresh() {
    let mut app = fixture::app_with(|options| options.exited_linger = std::time::Duration::ZERO);
    app.on_snapshot(Arc::new(without_at(2, 1300)));
    assert_eq!(app.ghosts().len(), 1, "greyed for one refresh");
    app.on_snapshot(Arc::new(without_at(4, 1300)));
    assert!(app.ghosts().is_empty());
}

#[test]
fn a_paused_explorer_keeps_its_exited_processes_until_it_resumes() {
    let mut app =
        fixture::app_with(|options| options.exited_linger = std::time::Duration::from_secs(10));
    app.on_snapshot(Arc::new(without_at(2, 1300)));
    key(&mut app, KeyCode::Char('z'));
    app.on_snapshot(Arc::new(without_at(60, 1300)));
    assert_eq!(app.ghosts().len(), 1, "nothing moves while paused");
    key(&mut app, KeyCode::Char('z'));
    assert!(
        app.ghosts().is_empty(),
        "the snapshot shown on resume is 58 s on"
    );
}

#[test]
fn sorting_and_filtering_take_exited_processes_along() {
    let mut app = fixture::app();
    app.on_snapshot(Arc::new(without_at(2, 1300)));
    key(&mut app, KeyCode::Char('N'));
    let order: Vec<u32> = app
        .lines()
        .iter()
        .filter_map(|l| match l {
            Line::Process { process, .. } => Some(process.pid),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        [1, 812, 1200, 1250, 1300, 1400, 1500],
        "curl in pid order"
    );
    app.view.set_filter_text("curl".into());
    let exited: Vec<(u32, bool)> = app
        .lines()
        .iter()
        .filter_map(|l| match l {
            Line::Process {
                process, exited, ..
            } => Some((process.pid, *exited)),
            _ => None,
        })
        .collect();
    assert_eq!(exited, [(1300, true)]);
}

#[test]
fn expanded_row_stays_expanded_across_refreshes() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    select(&mut app, 1200);
    key(&mut app, KeyCode::Enter);
    app.on_snapshot(Arc::new(fixture::snapshot()));
    assert!(screen(&mut app, 120, 30).contains("<- 1300 curl"));
    key(&mut app, KeyCode::Char('E'));
    assert!(!screen(&mut app, 120, 30).contains("<- 1300 curl"));
    key(&mut app, KeyCode::Char('e'));
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("<- 1300 curl") && text.contains("-> 1200 node"),
        "all expanded"
    );
}

#[test]
fn enter_on_a_connection_jumps_to_the_peer_process() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    select(&mut app, 1300);
    key(&mut app, KeyCode::Right); // expand
    key(&mut app, KeyCode::Down); // onto curl's connection line
    assert!(app.view.cursor.is_some_and(|c| c.socket.is_some()));
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), Some(1200));
    assert_eq!(app.view.cursor.and_then(|c| c.socket), None);
}

#[test]
fn jumping_to_a_peer_hidden_by_the_filter_clears_the_filter() {
    let mut app = fixture::app();
    app.view.set_filter_text("name:curl".into());
    screen(&mut app, 120, 30);
    select(&mut app, 1300);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Enter);
    assert_eq!(selected_pid(&app), Some(1200));
    assert!(app.view.filter_text.is_empty());
}

/// htop's habit: `P` sets CPU, biggest first, and pressing it again keeps it so; only `I`
/// or a second click on the header inverts.
#[test]
fn sort_keys_set_the_natural_order_and_keep_it_when_pressed_again() {
    let mut app = fixture::app();
    for _ in 0..2 {
        key(&mut app, KeyCode::Char('P'));
        assert_eq!(
            (app.view.sort.column, app.view.sort.descending),
            (Column::Cpu, true)
        );
    }
    key(&mut app, KeyCode::Char('N'));
    key(&mut app, KeyCode::Char('N'));
    assert_eq!(
        (app.view.sort.column, app.view.sort.descending),
        (Column::Pid, false),
        "pid: lowest first, again"
    );
    key(&mut app, KeyCode::Char('M'));
    key(&mut app, KeyCode::Char('I'));
    assert_eq!(
        (app.view.sort.column, app.view.sort.descending),
        (Column::Mem, false),
        "I inverts"
    );
}

#[test]
fn filter_typing_is_incremental_and_escape_clears_it() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char('/'));
    assert_eq!(app.view.mode, Mode::Filter);
    for c in "postgres".chars() {
        key(&mut app, KeyCode::Char(c));
    }
    let text = screen(&mut app, 120, 30);
    assert!(text.contains("/usr/lib/postgresql") && !text.contains("node /srv"));
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view.mode, Mode::Normal);
    assert!(screen(&mut app, 120, 30).contains("node /srv"));
}

#[test]
fn kill_asks_for_confirmation_then_sends_the_chosen_signal() {
    let (mut app, sent) = fixture::recording_app(false);
    screen(&mut app, 120, 30);
    select(&mut app, 1400);
    key(&mut app, KeyCode::F(9));
    key(&mut app, KeyCode::Down); // SIGKILL
    key(&mut app, KeyCode::Enter);
    assert!(
        sent.lock().unwrap().is_empty(),
        "nothing sent before confirming"
    );
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(*sent.lock().unwrap(), vec![(1400, libc::SIGKILL)]);
    assert!(app
        .view
        .message
        .as_deref()
        .unwrap_or("")
        .contains("sent SIGKILL to 1400"));
}

/// Emacs habits: Ctrl-K, Ctrl-Y and a second Enter must never send a signal, and Ctrl-Q must
/// not quit.
#[test]
fn modified_keys_and_a_second_enter_never_kill_or_quit() {
    let (mut app, sent) = fixture::recording_app(false);
    screen(&mut app, 120, 30);
    select(&mut app, 1400);
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let alt = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT);
    assert_eq!(app.on_key(ctrl('q')), Control::Idle, "Ctrl-Q does not quit");
    assert_eq!(app.on_key(alt('q')), Control::Idle, "Alt-Q does not quit");
    app.on_key(ctrl('k'));
    assert_eq!(app.view.mode, Mode::Normal, "Ctrl-K opens nothing");
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Enter); // SIGTERM chosen: now asking
    assert!(matches!(&app.view.mode, Mode::Kill(d) if d.confirming));
    app.on_key(ctrl('y'));
    key(&mut app, KeyCode::Enter);
    app.on_key(alt('y'));
    assert!(sent.lock().unwrap().is_empty(), "only a plain y sends");
    assert!(matches!(&app.view.mode, Mode::Kill(d) if d.confirming));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(*sent.lock().unwrap(), vec![(1400, libc::SIGTERM)]);
}

#[test]
fn refused_kill_is_a_message_not_a_crash() {
    let (mut app, _) = fixture::recording_app(true);
    key(&mut app, KeyCode::Char('k'));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("EPERM"), "{message}");
    assert!(screen(&mut app, 120, 30).contains("EPERM"));
}

#[test]
fn kill_is_refused_for_a_process_that_exited_meanwhile() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    select(&mut app, 1300);
    key(&mut app, KeyCode::F(9));
    app.on_snapshot(Arc::new(without(1300)));
    app.on_snapshot(Arc::new(without(1300)));
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    assert!(app
        .view
        .message
        .clone()
        .unwrap_or_default()
        .contains("has exited"));
}

#[test]
fn kill_is_refused_when_the_pid_now_belongs_to_another_process() {
    let (mut app, sent) = fixture::recording_app(false);
    screen(&mut app, 120, 30);
    select(&mut app, 1400);
    key(&mut app, KeyCode::F(9));
    key(&mut app, KeyCode::Enter);
    // Meanwhile 1400 exited and the pid was handed to a newer process.
    let mut reused = fixture::snapshot();
    for p in reused.processes.iter_mut().filter(|p| p.pid == 1400) {
        p.start_time_ms += 60_000;
        p.name = "stranger".to_owned();
    }
    app.on_snapshot(Arc::new(reused));
    key(&mut app, KeyCode::Char('y'));
    assert!(sent.lock().unwrap().is_empty(), "no signal to the newcomer");
    let message = app.view.message.clone().unwrap_or_default();
    assert!(message.contains("has exited"), "{message}");
}

#[test]
fn pause_holds_new_snapshots_until_resumed() {
    let mut app = fixture::app();
    key(&mut app, KeyCode::Char(' '));
    assert_eq!(app.on_snapshot(Arc::new(without(1400))), Control::Idle);
    assert!(screen(&mut app, 120, 30).contains("postgres"));
    key(&mut app, KeyCode::Char(' '));
    assert!(
        app.ghosts().iter().any(|p| p.pid == 1400),
        "resuming applies the held snapshot: postgres has exited"
    );
}

#[test]
fn header_click_sorts_and_row_click_selects_then_expands() {
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    let table = app.table().clone();
    let pid_title = table
        .columns
        .iter()
        .find(|c| c.column == Column::Pid)
        .unwrap();
    let click = |column, row| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column,
        row,
        modifiers: KeyModifiers::NONE,
    };
    app.on_mouse(click(pid_title.x + 1, table.area.y));
    assert_eq!(app.view.sort.column, Column::Pid);
    app.on_mouse(click(pid_title.x + 1, table.area.y));
    assert!(app.view.sort.descending, "second click inverts");
    let third_row = table.area.y + 3;
    app.on_mouse(click(10, third_row));
    let picked = selected_pid(&app);
    assert!(picked.is_some());
    app.on_mouse(click(10, third_row));
    let id = app.view.cursor.unwrap().process;
    assert!(
        app.view.expanded.contains(&id),
        "click on the selected row expands it"
    );
}

#[test]
fn quit_keys_quit_from_every_mode() {
    let mut app = fixture::app();
    assert_eq!(key(&mut app, KeyCode::Char('q')), Control::Quit);
    key(&mut app, KeyCode::Char('/'));
    assert_eq!(key(&mut app, KeyCode::F(10)), Control::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c), Control::Quit);
}

#[test]
fn paging_keeps_the_selection_on_screen() {
    let mut app = fixture::app();
    screen(&mut app, 120, 12); // a table of 6 rows for 8 processes
    key(&mut app, KeyCode::End);
    let rows = app.table().rows;
    let line = app.view.cursor_line;
    assert!(line >= app.view.scroll && line < app.view.scroll + rows);
    key(&mut app, KeyCode::Home);
    assert_eq!(app.view.scroll, 0);
}

/// The table's order is kept between frames, and made again when what it depends on
/// changes: a new snapshot, the sort, the filter, tree view, kernel threads.
#[test]
fn the_kept_order_follows_every_change_it_depends_on() {
    let pids = |app: &App| -> Vec<u32> {
        app.lines()
            .iter()
            .filter_map(|l| match l {
                crate::ui::rows::Line::Process { process, .. } => Some(process.pid),
                _ => None,
            })
            .collect()
    };
    let fresh = |app: &App| {
        let s = app.snapshot().unwrap();
        crate::ui::rows::build(&s.processes, app.ghosts(), &app.view, true, 120)
            .iter()
            .filter_map(|l| match l {
                crate::ui::rows::Line::Process { process, .. } => Some(process.pid),
                _ => None,
            })
            .collect::<Vec<u32>>()
    };
    let mut app = fixture::app();
    screen(&mut app, 120, 30);
    let first = pids(&app);
    assert_eq!(pids(&app), first, "the same frame twice");
    key(&mut app, KeyCode::Char('N'));
    assert_ne!(pids(&app), first, "sorted by pid now");
    assert_eq!(pids(&app), fresh(&app));
    key(&mut app, KeyCode::Char('I'));
    assert_eq!(pids(&app), fresh(&app), "reversed");
    let unfiltered = pids(&app).len();
    app.view.filter = crate::model::Filter::parse("node").unwrap();
    assert_eq!(pids(&app), fresh(&app), "filtered");
    assert!(!pids(&app).is_empty() && pids(&app).len() < unfiltered);
    app.view.tree = true;
    assert_eq!(pids(&app), fresh(&app), "tree");
    app.view.show_kernel_threads = !app.view.show_kernel_threads;
    assert_eq!(pids(&app), fresh(&app), "kernel threads");
    app.view.filter = crate::model::Filter::default();
    let before = pids(&app);
    app.on_snapshot(Arc::new(without_at(2, 1400)));
    assert_eq!(pids(&app), fresh(&app), "a new snapshot: 1400 greyed");
    app.on_snapshot(Arc::new(without_at(62, 1400)));
    assert_eq!(pids(&app), fresh(&app), "a minute on: 1400 gone");
    assert_eq!(pids(&app).len() + 1, before.len());
}

#[test]
fn the_header_counts_what_the_sampler_judged_unexpected_when_there_is_a_baseline() {
    use crate::baseline::Baseline;

    let baseline = Arc::new(Baseline::from_snapshot(&fixture::snapshot()));
    let mut app = fixture::app_with(|options| options.baseline = Some(Arc::clone(&baseline)));
    assert_eq!(app.unexpected_count(), Some(0), "the host as it was saved");
    // The sampler judges each snapshot (`Process::unexpected`); the app counts its verdicts.
    let mut changed = fixture::snapshot();
    baseline.judge(&changed).apply(&mut changed);
    let stranger = changed
        .processes
        .iter_mut()
        .find(|p| !p.kernel_thread)
        .expect("the fixture has user processes");
    stranger.exe = Some("/tmp/stranger".to_owned());
    baseline.judge(&changed.clone()).apply(&mut changed);
    app.on_snapshot(Arc::new(changed));
    assert_eq!(app.unexpected_count(), Some(1));
    // Paused, a snapshot waits, and counts when it is shown.
    key(&mut app, KeyCode::Char('z'));
    let mut saved = fixture::snapshot();
    baseline.judge(&saved.clone()).apply(&mut saved);
    app.on_snapshot(Arc::new(saved));
    assert_eq!(app.unexpected_count(), Some(1));
    key(&mut app, KeyCode::Char('z'));
    assert_eq!(app.unexpected_count(), Some(0));

    assert_eq!(
        fixture::app().unexpected_count(),
        None,
        "no baseline, no count"
    );
}
