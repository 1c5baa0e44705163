//! Render tests: the fixture host drawn into ratatui's TestBackend, compared with the screens
//! stored under `src/ui/render/snapshots/` (review changes with `cargo insta review`, or
//! regenerate with `INSTA_UPDATE=always cargo test --lib render`).

use crate::ui::columns::Column;
use crate::ui::fixture::{app, screen};
use crate::ui::state::{Mode, ProcessId};

fn expand(app: &mut crate::ui::app::App, pid: u32) {
    let id = app
        .snapshot()
        .and_then(|s| s.process(pid))
        .map(ProcessId::of)
        .expect("fixture pid");
    app.view.expanded.insert(id);
}

#[test]
fn table_sorted_by_each_column_in_both_directions() {
    // The columns the fixture shows, and RX/TX; the others' sorts are in column_tests.rs.
    let shown = Column::ALL
        .into_iter()
        .filter(|c| Column::DEFAULT.contains(c) || matches!(c, Column::Rx | Column::Tx));
    for column in shown {
        for descending in [true, false] {
            let mut app = app();
            app.view.sort = crate::ui::state::Sort { column, descending };
            let text = screen(&mut app, 120, 16);
            let name = format!(
                "sorted_by_{}_{}",
                column
                    .title()
                    .replace('%', "pct")
                    .replace('+', "plus")
                    .to_lowercase(),
                if descending { "desc" } else { "asc" }
            );
            insta::assert_snapshot!(name, text);
        }
    }
}

#[test]
fn sort_by_cpu_puts_busiest_first_and_marks_the_column() {
    let mut app = app();
    let text = screen(&mut app, 120, 24);
    let rows: Vec<&str> = text.lines().skip(5).collect();
    assert!(rows[0].contains("node"), "node (12.5%) first: {}", rows[0]);
    assert!(
        rows[1].contains("postgres"),
        "postgres (3.2%) second: {}",
        rows[1]
    );
    assert!(text.contains("CPU%▼"));
}

#[test]
fn expanded_client_row_names_its_local_peer() {
    let mut app = app();
    expand(&mut app, 1300);
    let text = screen(&mut app, 120, 24);
    assert!(text.contains("127.0.0.1:50312"), "{text}");
    assert!(
        text.contains("-> 1200 node"),
        "curl's connection names node: {text}"
    );
    insta::assert_snapshot!("expanded_client_with_local_peer", text);
}

#[test]
fn expanded_server_row_lists_listener_and_accepted_connection() {
    let mut app = app();
    expand(&mut app, 1200);
    let text = screen(&mut app, 120, 24);
    assert!(text.contains("LISTEN"));
    assert!(text.contains("<- 1300 curl"), "{text}");
    insta::assert_snapshot!("expanded_server", text);
}

#[test]
fn filter_with_a_field_term_shows_only_matches_and_the_input() {
    let mut app = app();
    app.view.mode = Mode::Filter;
    app.view.set_filter_text("port:8080".into());
    let text = screen(&mut app, 100, 20);
    assert!(text.contains("node") && text.contains("curl"));
    assert!(!text.contains("postgres"), "{text}");
    assert!(text.contains("Filter: port:8080_"));
    insta::assert_snapshot!("filter_port_8080", text);
}

#[test]
fn bad_filter_term_shows_an_inline_error_not_an_empty_table() {
    let mut app = app();
    app.view.mode = Mode::Filter;
    app.view.set_filter_text("port:80x".into());
    let text = screen(&mut app, 100, 20);
    assert!(text.contains("✗"), "{text}");
    assert!(
        text.contains("postgres"),
        "the table keeps the last good filter (none)"
    );
    insta::assert_snapshot!("filter_bad_term", text);
}

#[test]
fn tree_view_nests_children_under_parents() {
    let mut app = app();
    app.view.tree = true;
    app.view.sort = crate::ui::state::Sort {
        column: Column::Pid,
        descending: false,
    };
    let text = screen(&mut app, 100, 20);
    assert!(
        text.contains("├─ sshd") || text.contains("└─ sshd"),
        "{text}"
    );
    assert!(text.contains("│  └─ -bash"), "bash under sshd: {text}");
    assert!(text.contains("│     ├─ curl"), "curl under bash: {text}");
    insta::assert_snapshot!("tree_view", text);
}

/// Every help line, keys and words, is inside the box, at any width: the box grows to its
/// longest line and, on a narrower terminal, descriptions wrap instead of being cut.
#[test]
fn help_overlay_lists_every_binding_and_fits_its_text() {
    let normalize = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    for (width, height) in [(200, 50), (160, 50), (100, 60), (80, 70)] {
        let mut app = app();
        app.view.mode = Mode::Help;
        let text = screen(&mut app, width, height);
        // What is between the box's side borders, row after row.
        let inside: Vec<&str> = text
            .lines()
            .filter_map(|line| {
                let start = line.find('│')?;
                let end = line.rfind('│').filter(|end| *end > start)?;
                Some(&line[start + '│'.len_utf8()..end])
            })
            .collect();
        let joined = normalize(&inside.join(" "));
        for (keys, what) in crate::ui::keys::help_lines(crate::ui::state::Screen::Processes) {
            assert!(
                joined.contains(&normalize(&keys)),
                "{width}x{height}: keys {keys:?} in the box:\n{text}"
            );
            assert!(
                joined.contains(&normalize(what)),
                "{width}x{height}: {what:?} whole in the box:\n{text}"
            );
        }
        if width == 100 {
            insta::assert_snapshot!("help_overlay", text);
        }
    }
}

#[test]
fn standard_80x24_terminal_shows_header_table_and_footer() {
    let mut app = app();
    let text = screen(&mut app, 80, 24);
    assert!(text.lines().next().unwrap_or("").contains("web-1"));
    assert!(text.contains("COMMAND"));
    assert!(text.lines().last().unwrap_or("").contains("F1"));
    insta::assert_snapshot!("terminal_80x24", text);
}

#[test]
fn small_60x15_terminal_collapses_header_and_columns() {
    let mut app = app();
    let text = screen(&mut app, 60, 15);
    assert!(text.contains("PID") && text.contains("COMMAND"));
    assert!(!text.contains("THR"), "minor columns dropped");
    insta::assert_snapshot!("terminal_60x15", text);
}

#[test]
fn tiny_terminal_says_so_instead_of_drawing() {
    let mut app = app();
    let text = screen(&mut app, 30, 6);
    assert!(text.contains("terminal too small"));
}

#[test]
fn escape_sequences_in_names_and_arguments_are_shown_escaped() {
    let mut app = app();
    app.view.sort = crate::ui::state::Sort {
        column: Column::Pid,
        descending: true,
    };
    expand(&mut app, 1500);
    let text = screen(&mut app, 120, 24);
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\r'));
    assert!(text.contains("\\x1b]0;pwned\\x07"), "{text}");
    assert!(text.contains("\\rgone\\x1b[2J"), "{text}");
    insta::assert_snapshot!("hostile_process", text);
}

#[test]
fn kill_dialog_and_sort_picker_draw_over_the_table() {
    let mut app = app();
    app.view.mode = Mode::SortPicker(3);
    let text = screen(&mut app, 100, 24);
    assert!(text.contains("Sort by"));
    let mut app = crate::ui::fixture::app();
    app.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::F(9),
    ));
    let text = screen(&mut app, 100, 24);
    assert!(
        text.contains("SIGTERM") && text.contains("Send signal to 1200"),
        "{text}"
    );
    insta::assert_snapshot!("kill_dialog", text);
}

#[test]
fn paused_view_is_marked() {
    let mut app = app();
    app.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('z'),
    ));
    let text = screen(&mut app, 100, 20);
    assert!(text.lines().next().unwrap_or("").contains("PAUSED"));
}

#[test]
fn kernel_threads_are_hidden_until_asked_for() {
    let mut app = app();
    assert!(!screen(&mut app, 120, 24).contains("[kthreadd]"));
    app.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('K'),
    ));
    assert!(screen(&mut app, 120, 24).contains("[kthreadd]"));
}

#[test]
fn huge_command_line_wraps_a_few_lines_then_says_how_much_is_left() {
    let mut app = app();
    let mut snapshot = crate::ui::fixture::snapshot();
    if let Some(p) = snapshot.processes.iter_mut().find(|p| p.pid == 1500) {
        p.cmdline = vec!["/tmp/x".to_owned(), "A".repeat(100 * 1024)];
    }
    app.on_snapshot(std::sync::Arc::new(snapshot));
    expand(&mut app, 1500);
    let text = screen(&mut app, 100, 40);
    let wrapped = text.lines().filter(|l| l.contains("AAAA")).count();
    assert!(wrapped <= 9, "a bounded number of lines: {wrapped}");
    assert!(text.contains("more characters"), "{text}");
}

#[test]
fn uplink_security_warnings_show_in_the_header_next_to_its_state() {
    let status = crate::uplink::UplinkStatus {
        warnings: vec![crate::uplink::warnings::SecurityWarning {
            headline: "credentials sent over plain http".to_owned(),
            message: "uplink.endpoint http://collector:4318 is plain http:// ...".to_owned(),
        }],
        ..Default::default()
    };
    let mut app = crate::ui::fixture::app_with(|options| {
        options.uplink = Some(std::sync::Arc::new(std::sync::Mutex::new(status)));
    });
    let text = screen(&mut app, 120, 24);
    let header = text.lines().nth(3).unwrap_or_default();
    assert!(
        header.contains("uplink starting ⚠ credentials sent over plain http sent 0"),
        "{header}"
    );
}

/// The worker started after launch is marked `+`, curl (exited) `-` and greyed, in the column
/// left of PID; the marks are characters, so NO_COLOR shows them too (curl dimmed).
#[test]
fn new_and_exited_processes_are_marked_left_of_the_row_with_or_without_colour() {
    use ratatui::style::{Color, Modifier};

    use crate::ui::theme::Theme;

    let mut app = crate::ui::fixture::changed_app();
    app.view.sort = crate::ui::state::Sort {
        column: Column::Pid,
        descending: false,
    };
    let text = screen(&mut app, 120, 24);
    let row = |pid: u32| {
        text.lines()
            .find(|l| {
                l.get(2..)
                    .is_some_and(|rest| rest.trim_start().starts_with(&format!("{pid} ")))
            })
            .unwrap_or_else(|| panic!("no row for {pid}:\n{text}"))
            .to_owned()
    };
    assert!(row(1600).starts_with("+ "), "{}", row(1600));
    assert!(row(1300).starts_with("- "), "{}", row(1300));
    assert!(row(1200).starts_with("  "), "{}", row(1200));
    insta::assert_snapshot!("new_and_exited_marks", text);

    for color in [true, false] {
        let buffer = crate::ui::fixture::draw(&mut app, 120, 24, Theme::new(color));
        let drawn = crate::ui::fixture::text(&buffer);
        let y = |pid: u32| -> u16 {
            let at = drawn
                .lines()
                .position(|l| {
                    l.get(2..)
                        .is_some_and(|r| r.trim_start().starts_with(&format!("{pid} ")))
                })
                .unwrap_or_else(|| panic!("no row for {pid}:\n{drawn}"));
            u16::try_from(at).unwrap_or(u16::MAX)
        };
        let (worker, curl) = (y(1600), y(1300));
        assert_eq!(buffer[(0, worker)].symbol(), "+");
        assert_eq!(buffer[(0, curl)].symbol(), "-");
        let greyed = &buffer[(10, curl)];
        if color {
            assert_eq!(greyed.fg, Color::DarkGray, "curl's row greyed");
        } else {
            assert!(greyed.modifier.contains(Modifier::DIM), "curl's row dimmed");
            assert_eq!(buffer[(0, worker)].fg, Color::Reset, "no colour at all");
        }
    }
}

#[test]
fn tree_view_keeps_exited_processes_under_their_parents() {
    let mut app = crate::ui::fixture::changed_app();
    app.view.tree = true;
    app.view.sort = crate::ui::state::Sort {
        column: Column::Pid,
        descending: false,
    };
    let text = screen(&mut app, 120, 24);
    assert!(
        text.lines()
            .any(|l| l.starts_with("- ") && l.contains("│     ├─ curl")),
        "curl, exited, still under bash: {text}"
    );
    app.view.set_filter_text("new".into());
    let text = screen(&mut app, 120, 24);
    assert!(text.contains("/srv/app/worker"), "{text}");
    assert!(
        !text.contains("curl") && !text.contains("postgres"),
        "{text}"
    );
}
