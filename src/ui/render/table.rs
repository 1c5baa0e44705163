//! The process table: the title row, then only the lines that fit on screen.

use ratatui::buffer::Buffer;
use ratatui::style::Style;

use crate::escape::for_terminal;
use crate::format::{bytes_or_dash, rate_per_sec};
use crate::model::{Connection, Process, Traffic, TrafficGap};
use crate::ui::app::App;
use crate::ui::columns::Column;
use crate::ui::groups;
use crate::ui::layout::TableLayout;
use crate::ui::marks;
use crate::ui::rows::Line;
use crate::ui::state::ProcessId;
use crate::ui::theme::Theme;

use super::socket_columns::SocketColumns;

/// Cells a detail line's indent takes (`   │ `).
const DETAIL_INDENT: u16 = 5;

/// The socket columns of `owner`'s detail block in a table `width` cells wide.
fn socket_columns(owner: &Process, width: u16) -> SocketColumns {
    SocketColumns::fit(owner, usize::from(width.saturating_sub(DETAIL_INDENT)))
}

pub fn draw(buf: &mut Buffer, app: &App, theme: &Theme) {
    let layout = app.table();
    let area = layout.area;
    if area.height == 0 {
        return;
    }
    title_row(buf, layout, app, theme);

    let lines = app.lines();
    if lines.is_empty() {
        let text = if app.snapshot().is_none() {
            "waiting for the first sample…"
        } else if !app.view.filter_text.is_empty() {
            "no process matches the filter (Esc clears it)"
        } else {
            "no processes"
        };
        empty_table(buf, area, text, theme);
        return;
    }
    let selected = app.view.cursor;
    // A detail block's lines are contiguous: its columns are fitted once, not per line (a
    // process can hold thousands of sockets).
    let mut fitted: Option<(ProcessId, SocketColumns)> = None;
    let mut columns_of = |owner: &Process| -> SocketColumns {
        let id = ProcessId::of(owner);
        match fitted {
            Some((was, columns)) if was == id => columns,
            _ => {
                let columns = socket_columns(owner, area.width);
                fitted = Some((id, columns));
                columns
            }
        }
    };
    for (row, line) in lines
        .iter()
        .skip(app.view.scroll)
        .take(layout.rows)
        .enumerate()
    {
        let y = area.y + 1 + row as u16;
        let is_selected = selected.is_some() && line.cursor() == selected;
        let base = if is_selected {
            theme.selected()
        } else {
            Style::default()
        };
        if is_selected {
            buf.set_style(ratatui::layout::Rect::new(area.x, y, area.width, 1), base);
        }
        match line {
            Line::Group { group, expanded } => {
                for placed in &layout.columns {
                    let text =
                        for_terminal(&groups::cell(group, placed.column, *expanded)).into_owned();
                    cell(
                        buf,
                        placed.x,
                        y,
                        placed.width,
                        &text,
                        placed.column.right_aligned(),
                        theme.label().patch(base),
                    );
                }
            }
            Line::Process {
                process,
                tree_prefix,
                exited,
                expanded,
            } => {
                let style = if *exited && !is_selected {
                    theme.exited()
                } else {
                    base
                };
                let mark = marks::mark(process, *exited);
                let mark_style = if mark == marks::NEW && !is_selected {
                    theme.new_mark()
                } else {
                    style
                };
                buf.set_stringn(area.x, y, mark.to_string(), 1, mark_style);
                for placed in &layout.columns {
                    let text = if placed.column == Column::Command {
                        let marker = if *expanded { "▾ " } else { "" };
                        let command = for_terminal(&placed.column.cell(process)).into_owned();
                        let shown: String = command.chars().skip(app.view.command_scroll).collect();
                        format!("{tree_prefix}{marker}{shown}")
                    } else {
                        for_terminal(&placed.column.cell(process)).into_owned()
                    };
                    cell(
                        buf,
                        placed.x,
                        y,
                        placed.width,
                        &text,
                        placed.column.right_aligned(),
                        style,
                    );
                }
            }
            Line::Info { label, text, .. } => {
                let text: String = for_terminal(text)
                    .chars()
                    .skip(app.view.command_scroll)
                    .collect();
                detail(
                    buf,
                    area.x,
                    y,
                    area.width,
                    &if label.is_empty() {
                        format!("{label:>9}  {text}")
                    } else {
                        format!("{label:>9}: {text}")
                    },
                    theme.detail().patch(base),
                );
            }
            Line::SocketHeader { owner } => {
                let text = columns_of(owner).header();
                detail(buf, area.x, y, area.width, &text, theme.label().patch(base));
            }
            Line::Listening { owner, socket } => {
                detail(
                    buf,
                    area.x,
                    y,
                    area.width,
                    &columns_of(owner).listening(socket),
                    theme.listening().patch(base),
                );
            }
            Line::Connection { owner, socket } => {
                let columns = columns_of(owner);
                connection_line(buf, (area.x, y, area.width), &columns, socket, theme, base);
            }
            Line::NoSockets { why, .. } => {
                detail(buf, area.x, y, area.width, why, theme.detail().patch(base));
            }
        }
    }
}

/// The line a table shows in place of rows when it has none, saying why.
pub(super) fn empty_table(
    buf: &mut Buffer,
    area: ratatui::layout::Rect,
    text: &str,
    theme: &Theme,
) {
    buf.set_stringn(
        area.x + 1,
        area.y + 1,
        text,
        usize::from(area.width),
        theme.detail(),
    );
}

fn title_row(buf: &mut Buffer, layout: &TableLayout, app: &App, theme: &Theme) {
    let area = layout.area;
    buf.set_style(
        ratatui::layout::Rect::new(area.x, area.y, area.width, 1),
        theme.title_row(),
    );
    let sort = app.view.sort;
    for placed in &layout.columns {
        let sorted = placed.column == sort.column;
        let title = if sorted {
            format!(
                "{}{}",
                placed.column.title(),
                if sort.descending { "▼" } else { "▲" }
            )
        } else {
            placed.column.title().to_owned()
        };
        let style = if sorted {
            theme.sorted_title()
        } else {
            theme.title_row()
        };
        cell(
            buf,
            placed.x,
            area.y,
            placed.width,
            &title,
            placed.column.right_aligned(),
            style,
        );
    }
}

/// Writes `text` into a cell of `width`, cut to fit, right-aligned for figures.
pub(super) fn cell(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    width: u16,
    text: &str,
    right: bool,
    style: Style,
) {
    let width = usize::from(width);
    let len = text.chars().count();
    let x = if right && len < width {
        x + (width - len) as u16
    } else {
        x
    };
    buf.set_stringn(x, y, text, width, style);
}

/// One connection of an expanded row: where it goes, the process on the other end, then its
/// traffic (the peer first: who is on the other end matters more than how much).
fn connection_line(
    buf: &mut Buffer,
    (x, y, width): (u16, u16, u16),
    columns: &SocketColumns,
    socket: &Connection,
    theme: &Theme,
    base: Style,
) {
    let (text, peer) = columns.connection(socket);
    let end = x.saturating_add(width);
    let (mut x, _) = detail(buf, x, y, width, &text, theme.detail().patch(base));
    if let Some(peer) = peer {
        let room = usize::from(end.saturating_sub(x));
        (x, _) = buf.set_stringn(x, y, format!("{peer} "), room, theme.peer().patch(base));
    }
    let room = usize::from(end.saturating_sub(x));
    buf.set_stringn(
        x,
        y,
        traffic_text(&socket.traffic),
        room,
        theme.detail().patch(base),
    );
}

/// A detail line: indented under its process with a bar joining the block.
pub(super) fn detail(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    width: u16,
    text: &str,
    style: Style,
) -> (u16, u16) {
    let line = format!("   │ {text}");
    buf.set_stringn(x, y, line, usize::from(width), style)
}

/// A connection's traffic in one short run: rates (`-` until a second reading), totals, rtt
/// and retransmits; nothing for UDP, which has no counters, and why when TCP has none.
pub(super) fn traffic_text(t: &Traffic) -> String {
    match t.traffic_unavailable {
        Some(TrafficGap::Udp) => return String::new(),
        Some(TrafficGap::NamespaceNotEntered) => return "no counters (netns) ".to_owned(),
        Some(TrafficGap::NotReported | TrafficGap::NotCollected) => return String::new(),
        Some(TrafficGap::FirstSeen) | None => {}
    }
    let mut text = format!(
        "tx {} rx {} ({}/{}) ",
        rate_per_sec(t.send_bytes_per_sec),
        rate_per_sec(t.recv_bytes_per_sec),
        bytes_or_dash(t.bytes_sent),
        bytes_or_dash(t.bytes_received),
    );
    if let Some(rtt) = t.rtt_ms {
        text.push_str(&format!("rtt {rtt:.1}ms "));
    }
    if let Some(retransmits) = t.retransmits.filter(|r| *r > 0) {
        text.push_str(&format!("retr {retransmits} "));
    }
    text
}

#[cfg(test)]
mod tests;
