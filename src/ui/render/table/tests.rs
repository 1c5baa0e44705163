//! Render tests of the process table's grouped view and of the expanded row's connection
//! lines at a standard terminal's width.

use crate::ui::fixture::{attributed_app, screen};
use crate::ui::state::{Grouping, ProcessId};

/// The rows of a screen below the header (the table's title row first).
fn table_rows(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.contains("COMMAND"))
        .collect()
}

#[test]
fn grouped_by_service_each_group_sums_its_processes_and_expands_into_them() {
    let mut app = attributed_app();
    app.view.grouping = Grouping::Service;
    let text = screen(&mut app, 200, 32);
    let rows = table_rows(&text);
    // By CPU, biggest first: app.service (node 12.5 + postgres 3.2), session-3.scope (curl
    // 0.5), ssh.service, then (none) last whatever its sum (init, the evil process: 1.0).
    let order: Vec<usize> = [
        "app.service (2 processes)",
        "session-3.scope (2 processes)",
        "ssh.service (1 process)",
        "(none) (2 processes)",
    ]
    .iter()
    .map(|name| {
        rows.iter()
            .position(|r| r.contains(name))
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}\n{text}");
    let app_row = rows[order[0]];
    assert!(app_row.contains("15.7"), "CPU summed: {app_row}");
    assert!(app_row.contains("380M"), "memory summed: {app_row}");
    assert!(
        !text.contains("bin/postgres -D"),
        "collapsed: no process rows\n{text}"
    );
    assert!(
        text.contains("[grouped by service]"),
        "the footer says so\n{text}"
    );
    insta::assert_snapshot!("grouped_by_service", text);

    // Enter on the first group lists its processes beneath it, in the table's sort.
    app.on_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Enter,
    ));
    let text = screen(&mut app, 200, 32);
    let rows = table_rows(&text);
    let group = rows.iter().position(|r| r.contains("▾ app.service"));
    let node = rows.iter().position(|r| r.contains("node /srv/app"));
    let postgres = rows.iter().position(|r| r.contains("bin/postgres -D"));
    let session = rows.iter().position(|r| r.contains("session-3.scope"));
    assert!(
        matches!((group, node, postgres, session), (Some(g), Some(n), Some(p), Some(s)) if g < n && n < p && p < s),
        "{text}"
    );
    insta::assert_snapshot!("grouped_by_service_expanded", text);
}

#[test]
fn grouped_by_container_puts_processes_outside_containers_in_none() {
    let mut app = attributed_app();
    app.view.grouping = Grouping::Container;
    let text = screen(&mut app, 200, 32);
    assert!(text.contains("web-1 (1 process)"), "{text}");
    assert!(text.contains("(none) (6 processes)"), "{text}");
    assert!(text.contains("[grouped by container]"), "{text}");
}

#[test]
fn hiding_containers_leaves_out_their_processes_and_says_so() {
    let mut app = attributed_app();
    app.view.hide_containers = true;
    let text = screen(&mut app, 200, 32);
    assert!(!text.contains("node /srv/app"), "{text}");
    assert!(text.contains("bin/postgres -D"), "{text}");
    assert!(text.contains("[containers hidden]"), "{text}");
}

/// At 80x24 the connection line of an expanded row keeps its PEER column: who is on the other
/// end is the point of expanding it.
#[test]
fn expanded_row_with_a_local_peer_at_80x24_shows_the_peer() {
    let mut app = attributed_app();
    let curl = app
        .snapshot()
        .and_then(|s| s.process(1300))
        .map(ProcessId::of)
        .expect("curl in the fixture");
    app.view.expanded.insert(curl);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("-> 1200 node"), "{text}");
    let header = text
        .lines()
        .find(|l| l.contains("PROTO"))
        .unwrap_or_else(|| panic!("a socket header in\n{text}"));
    assert!(header.contains("PEER"), "{header}");
    insta::assert_snapshot!("expanded_client_with_local_peer_80x24", text);
}
