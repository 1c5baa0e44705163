//! The remote-hosts view: a title row, then one row per remote endpoint (with the connections of
//! expanded ones under it), drawn where the process table goes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::escape::for_terminal;
use crate::format::endpoint;
use crate::model::remote_hosts::RemoteHost;
use crate::model::{Connection, Process};
use crate::ui::app::App;
use crate::ui::columns::rate_cell;
use crate::ui::remote_hosts::{remote_text, HostLine, HostSortKey, HostsView};
use crate::ui::theme::Theme;

use super::table::{cell, detail, empty_table, traffic_text};

/// The view's columns, in the order drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostColumn {
    Remote,
    Conn,
    Rx,
    Tx,
    Rtt,
    Retr,
    /// Last, taking the room left: the list of names is as long as it is.
    Procs,
}

impl HostColumn {
    const ALL: [HostColumn; 7] = [
        HostColumn::Remote,
        HostColumn::Conn,
        HostColumn::Rx,
        HostColumn::Tx,
        HostColumn::Rtt,
        HostColumn::Retr,
        HostColumn::Procs,
    ];
    /// Left out first when the terminal is narrow.
    const DROP_ORDER: [HostColumn; 3] = [HostColumn::Retr, HostColumn::Rtt, HostColumn::Tx];

    fn title(self) -> &'static str {
        match self {
            HostColumn::Remote => "REMOTE",
            HostColumn::Conn => "CONN",
            HostColumn::Rx => "RX/s",
            HostColumn::Tx => "TX/s",
            HostColumn::Rtt => "RTT",
            HostColumn::Retr => "RETR",
            HostColumn::Procs => "PROCS",
        }
    }

    /// Width of a fixed column (REMOTE and PROCS are sized from the room there is).
    fn width(self) -> u16 {
        match self {
            HostColumn::Conn | HostColumn::Retr => 5,
            HostColumn::Rx | HostColumn::Tx => 7,
            HostColumn::Rtt => 8,
            HostColumn::Remote | HostColumn::Procs => 0,
        }
    }

    fn right_aligned(self) -> bool {
        !matches!(self, HostColumn::Remote | HostColumn::Procs)
    }

    /// Whether the view is sorted on this column (rate sorts on both RX and TX).
    fn sorted(self, sort: HostSortKey) -> bool {
        matches!(
            (self, sort),
            (HostColumn::Remote, HostSortKey::Remote)
                | (HostColumn::Conn, HostSortKey::Connections)
                | (HostColumn::Rx | HostColumn::Tx, HostSortKey::Rate)
                | (HostColumn::Rtt, HostSortKey::Rtt)
        )
    }

    /// The cell's text, safe for the terminal.
    fn cell(self, host: &RemoteHost<'_>) -> String {
        match self {
            HostColumn::Remote => for_terminal(&remote_text(host)).into_owned(),
            HostColumn::Conn => host.connections.len().to_string(),
            HostColumn::Rx => rate_cell(host.recv_bytes_per_sec()),
            HostColumn::Tx => rate_cell(host.send_bytes_per_sec()),
            HostColumn::Rtt => host.worst_rtt_ms().map_or_else(|| "-".to_owned(), rtt),
            HostColumn::Retr => host
                .retransmits()
                .map_or_else(|| "-".to_owned(), |r| r.to_string()),
            HostColumn::Procs => host
                .process_names()
                .iter()
                .map(|name| for_terminal(name).into_owned())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// `0.4ms`, `250ms`: a tenth of a millisecond matters on a LAN, not past 10 ms.
fn rtt(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// REMOTE is never narrower than an IPv4 address and port, nor wider than an IPv6 one with a
/// peer's name; PROCS keeps at least this much.
const MIN_REMOTE: u16 = 16;
const MAX_REMOTE: u16 = 44;
const MIN_PROCS: u16 = 10;

/// A column placed on screen.
struct Placed {
    column: HostColumn,
    x: u16,
    width: u16,
}

/// Places the columns that fit in `width`, REMOTE as wide as its longest text needs.
fn place(area: Rect, longest_remote: usize) -> Vec<Placed> {
    let mut shown: Vec<HostColumn> = HostColumn::ALL.to_vec();
    // Every column's width and the space after it; REMOTE and PROCS count only their space here.
    let fixed = |shown: &[HostColumn]| -> u16 { shown.iter().map(|c| c.width() + 1).sum() };
    for drop in HostColumn::DROP_ORDER {
        if fixed(&shown) + MIN_REMOTE + MIN_PROCS <= area.width {
            break;
        }
        shown.retain(|c| *c != drop);
    }
    let wanted = u16::try_from(longest_remote)
        .unwrap_or(MAX_REMOTE)
        .clamp(MIN_REMOTE, MAX_REMOTE);
    let room = area
        .width
        .saturating_sub(fixed(&shown) + MIN_PROCS)
        .max(MIN_REMOTE);
    let mut x = area.x;
    let mut placed = Vec::with_capacity(shown.len());
    for column in shown {
        let width = match column {
            HostColumn::Remote => wanted.min(room),
            HostColumn::Procs => (area.x + area.width).saturating_sub(x),
            fixed => fixed.width(),
        };
        placed.push(Placed { column, x, width });
        x = x.saturating_add(width + 1);
    }
    placed
}

pub fn draw(buf: &mut Buffer, app: &App, theme: &Theme) {
    let layout = app.table();
    let area = layout.area;
    if area.height == 0 {
        return;
    }
    let lines = app.host_lines();
    let longest = lines
        .iter()
        .filter_map(|l| match l {
            HostLine::Host { host, .. } => Some(remote_text(host).chars().count() + 2),
            HostLine::Connection { .. } => None,
        })
        .max()
        .unwrap_or(0);
    let columns = place(area, longest);
    let view = &app.view.hosts;
    title_row(buf, area, &columns, view, theme);

    if lines.is_empty() {
        let text = match app.snapshot() {
            None => "waiting for the first sample…",
            Some(s) if !s.collection.connections_collected => {
                "connections not collected (collect_connections is off)"
            }
            Some(_) if !app.view.filter_text.is_empty() => {
                "no remote endpoint matches the filter (Esc clears it)"
            }
            Some(_) => "no connections to remote endpoints",
        };
        empty_table(buf, area, text, theme);
        return;
    }
    for (row, line) in lines.iter().skip(view.scroll).take(layout.rows).enumerate() {
        let y = area.y + 1 + row as u16;
        let selected = view.cursor.is_some() && line.cursor() == view.cursor;
        let base = if selected {
            buf.set_style(Rect::new(area.x, y, area.width, 1), theme.selected());
            theme.selected()
        } else {
            Style::default()
        };
        match line {
            HostLine::Host { host, expanded } => {
                for placed in &columns {
                    let mut text = placed.column.cell(host);
                    if placed.column == HostColumn::Remote && *expanded {
                        text = format!("▾ {text}");
                    }
                    let text = fit(&text, usize::from(placed.width));
                    let right = placed.column.right_aligned();
                    cell(buf, placed.x, y, placed.width, &text, right, base);
                }
            }
            HostLine::Connection {
                process,
                connection,
            } => {
                let text = connection_text(process, connection);
                detail(
                    buf,
                    area.x,
                    y,
                    area.width,
                    &text,
                    theme.detail().patch(base),
                );
            }
        }
    }
}

fn title_row(buf: &mut Buffer, area: Rect, columns: &[Placed], view: &HostsView, theme: &Theme) {
    buf.set_style(Rect::new(area.x, area.y, area.width, 1), theme.title_row());
    for placed in columns {
        let sorted = placed.column.sorted(view.sort);
        let (title, style) = if sorted {
            let arrow = if view.descending { "▼" } else { "▲" };
            (
                format!("{}{arrow}", placed.column.title()),
                theme.sorted_title(),
            )
        } else {
            (placed.column.title().to_owned(), theme.title_row())
        };
        let right = placed.column.right_aligned();
        cell(buf, placed.x, area.y, placed.width, &title, right, style);
    }
}

/// `text` cut to `width` characters, ending in `…` when something was cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// One connection of an expanded endpoint: who holds it, from where, in what state, and its
/// traffic.
fn connection_text(process: &Process, c: &Connection) -> String {
    let name = fit(&for_terminal(&process.name), 15);
    format!(
        "{:>7} {name:<15} {:<26} {:<11} {}",
        process.pid,
        endpoint(c.local_addr, c.local_port),
        c.state.as_str(),
        traffic_text(&c.traffic)
    )
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::ui::app::App;
    use crate::ui::fixture::{remote_peers_app, screen};
    use crate::ui::state::Screen;

    fn press(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    /// The fixture app with remote peers, drawn once at 120x16 (as the explorer draws before
    /// any key), then switched to the remote-hosts view.
    fn hosts_app() -> App {
        let mut app = remote_peers_app();
        screen(&mut app, 120, 16);
        press(&mut app, KeyCode::Char('H'));
        app
    }

    /// The line of `text` holding `what`.
    fn line_with<'a>(text: &'a str, what: &str) -> &'a str {
        text.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line with {what}:\n{text}"))
    }

    #[test]
    fn endpoints_busiest_first_with_their_processes_and_unknowns_as_dashes() {
        let mut app = hosts_app();
        assert_eq!(app.view.screen, Screen::RemoteHosts);
        let text = screen(&mut app, 120, 16);
        assert!(text.contains("RX/s▼") && text.contains("TX/s▼"), "{text}");
        let rows: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("REMOTE"))
            .skip(1)
            .take(4)
            .collect();
        assert!(rows[0].starts_with("127.0.0.1 (curl)"), "{rows:?}");
        assert!(rows[1].starts_with("127.0.0.1:8080 (node)"), "{rows:?}");
        assert!(rows[2].starts_with("10.0.0.7 "), "{rows:?}");
        let postgres = line_with(&text, "10.0.0.7");
        // Two connections, 300K + 100K/s sent, 1.6 ms the worst, 3 retransmits.
        let cells: Vec<&str> = postgres.split_whitespace().collect();
        assert_eq!(
            cells,
            ["10.0.0.7", "2", "29K", "391K", "1.6ms", "3", "postgres"]
        );
        let api = line_with(&text, "203.0.113.9:443");
        let cells: Vec<&str> = api.split_whitespace().collect();
        assert_eq!(cells, ["203.0.113.9:443", "1", "-", "-", "-", "-", "node"]);
        insta::assert_snapshot!("remote_hosts", text);
    }

    #[test]
    fn enter_lists_the_endpoints_connections_and_enter_again_folds_them() {
        let mut app = hosts_app();
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Enter);
        let text = screen(&mut app, 120, 16);
        assert!(text.contains("▾ 10.0.0.7"), "{text}");
        let first = line_with(&text, "10.0.0.2:40401");
        assert!(
            first.contains("1400 postgres") && first.contains("ESTABLISHED"),
            "{first}"
        );
        assert!(first.contains("tx 293K/s rx 20K/s"), "{first}");
        assert!(first.contains("rtt 0.4ms"), "{first}");
        assert!(line_with(&text, "10.0.0.2:40402").contains("retr 3"));
        insta::assert_snapshot!("remote_hosts_expanded", text);
        press(&mut app, KeyCode::Enter);
        let text = screen(&mut app, 120, 16);
        assert!(!text.contains("10.0.0.2:40401"), "{text}");
    }

    #[test]
    fn sort_keys_reorder_and_mark_the_column() {
        let mut app = hosts_app();
        press(&mut app, KeyCode::Char('R'));
        let text = screen(&mut app, 120, 16);
        assert!(text.contains("RTT▼"), "{text}");
        let first = text
            .lines()
            .skip_while(|l| !l.contains("REMOTE"))
            .nth(1)
            .unwrap_or_default();
        assert!(first.starts_with("10.0.0.7"), "worst rtt first: {text}");
        press(&mut app, KeyCode::Char('A'));
        press(&mut app, KeyCode::Char('I'));
        let text = screen(&mut app, 120, 16);
        assert!(text.contains("REMOTE▼"), "{text}");
        let first = text
            .lines()
            .skip_while(|l| !l.contains("REMOTE"))
            .nth(1)
            .unwrap_or_default();
        assert!(first.starts_with("203.0.113.9:443"), "{text}");
    }

    #[test]
    fn narrow_terminal_drops_minor_columns_and_keeps_remote_and_procs() {
        let mut app = hosts_app();
        let text = screen(&mut app, 60, 15);
        assert!(text.contains("REMOTE") && text.contains("PROCS"), "{text}");
        assert!(!text.contains("RETR"), "{text}");
        insta::assert_snapshot!("remote_hosts_60x15", text);
    }

    #[test]
    fn filter_narrows_esc_clears_it_then_goes_back_and_h_returns() {
        let mut app = hosts_app();
        app.view.set_filter_text("postgres".into());
        let text = screen(&mut app, 120, 16);
        assert!(
            text.contains("10.0.0.7") && !text.contains("127.0.0.1"),
            "{text}"
        );
        press(&mut app, KeyCode::Esc);
        assert!(app.view.filter_text.is_empty());
        assert_eq!(app.view.screen, Screen::RemoteHosts, "Esc first clears");
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.view.screen, Screen::Processes);
        press(&mut app, KeyCode::Char('H'));
        press(&mut app, KeyCode::Char('H'));
        assert_eq!(app.view.screen, Screen::Processes);
        assert!(screen(&mut app, 120, 16).contains("COMMAND"));
    }

    #[test]
    fn a_hostile_peer_name_is_shown_escaped() {
        let mut processes = crate::ui::fixture::processes_with_remote_peers();
        for p in &mut processes {
            for c in &mut p.connections {
                if c.peer_name.as_deref() == Some("node") {
                    c.peer_name = Some("\x1b]0;pwned\x07node".into());
                }
            }
        }
        let mut app = remote_peers_app();
        app.on_snapshot(std::sync::Arc::new(crate::model::Snapshot::example(
            processes,
        )));
        press(&mut app, KeyCode::Char('H'));
        let text = screen(&mut app, 120, 16);
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert!(text.contains("pwned"), "{text}");
    }

    #[test]
    fn help_in_the_view_lists_the_views_own_keys() {
        let mut app = hosts_app();
        press(&mut app, KeyCode::Char('?'));
        let text = screen(&mut app, 120, 40);
        assert!(text.contains("back to the process table"), "{text}");
        assert!(text.contains("B C R A"), "{text}");
        assert!(!text.contains("send a signal"), "no kill here: {text}");
        press(&mut app, KeyCode::Char('x'));
        assert_eq!(app.view.screen, Screen::RemoteHosts, "closing help stays");
    }
}
