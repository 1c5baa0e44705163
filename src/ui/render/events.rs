//! The events pane: a title row, then one row per event, newest first, drawn where the process
//! table goes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::escape::for_terminal;
use crate::format::clock_time;
use crate::model::LifecycleEvent;
use crate::ui::app::App;
use crate::ui::theme::Theme;

use super::table::{cell, empty_table};

/// The pane's columns, in the order drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventColumn {
    Time,
    Kind,
    Pid,
    Name,
    User,
    /// Last, taking the room left.
    Details,
}

impl EventColumn {
    const ALL: [EventColumn; 6] = [
        EventColumn::Time,
        EventColumn::Kind,
        EventColumn::Pid,
        EventColumn::Name,
        EventColumn::User,
        EventColumn::Details,
    ];
    /// Left out first when the terminal is narrow.
    const DROP_ORDER: [EventColumn; 2] = [EventColumn::User, EventColumn::Time];

    fn title(self) -> &'static str {
        match self {
            EventColumn::Time => "TIME (UTC)",
            EventColumn::Kind => "KIND",
            EventColumn::Pid => "PID",
            EventColumn::Name => "NAME",
            EventColumn::User => "USER",
            EventColumn::Details => "DETAILS",
        }
    }

    /// Width of a fixed column; DETAILS takes what is left.
    fn width(self) -> u16 {
        match self {
            // HH:MM:SS.mmm
            EventColumn::Time => 12,
            EventColumn::Kind => 8,
            EventColumn::Pid => 7,
            EventColumn::Name => 16,
            EventColumn::User => 10,
            EventColumn::Details => 0,
        }
    }

    /// The cell's text, safe for the terminal.
    fn cell(self, event: &LifecycleEvent) -> String {
        match self {
            EventColumn::Time => clock_time(event.observed_at_ms),
            EventColumn::Kind => event.kind.label().to_owned(),
            EventColumn::Pid => event.pid.to_string(),
            EventColumn::Name => for_terminal(&event.name).into_owned(),
            EventColumn::User => for_terminal(event.user.as_deref().unwrap_or("?")).into_owned(),
            EventColumn::Details => for_terminal(&event.details()).into_owned(),
        }
    }
}

/// DETAILS keeps at least this much before other columns are dropped.
const MIN_DETAILS: u16 = 24;

/// A column placed on screen.
struct Placed {
    column: EventColumn,
    x: u16,
    width: u16,
}

fn place(area: Rect) -> Vec<Placed> {
    let mut shown: Vec<EventColumn> = EventColumn::ALL.to_vec();
    let fixed = |shown: &[EventColumn]| -> u16 { shown.iter().map(|c| c.width() + 1).sum() };
    for drop in EventColumn::DROP_ORDER {
        if fixed(&shown) + MIN_DETAILS <= area.width {
            break;
        }
        shown.retain(|c| *c != drop);
    }
    let mut x = area.x;
    let mut placed = Vec::with_capacity(shown.len());
    for column in shown {
        let width = match column {
            EventColumn::Details => (area.x + area.width).saturating_sub(x),
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
    let columns = place(area);
    buf.set_style(Rect::new(area.x, area.y, area.width, 1), theme.title_row());
    for placed in &columns {
        let right = placed.column == EventColumn::Pid;
        // The pane's one order, newest first, is marked as the table marks its sort.
        let (title, style) = if placed.column == EventColumn::Time {
            (format!("{}▼", placed.column.title()), theme.sorted_title())
        } else {
            (placed.column.title().to_owned(), theme.title_row())
        };
        cell(buf, placed.x, area.y, placed.width, &title, right, style);
    }
    let lines = app.event_lines();
    if lines.is_empty() {
        let text = if app.snapshot().is_none() {
            "waiting for the first sample…"
        } else if !app.view.filter_text.is_empty() {
            "no event matches the filter (Esc clears it)"
        } else {
            "no events yet: processes starting, exiting, listening and connecting show here"
        };
        empty_table(buf, area, text, theme);
        return;
    }
    let view = &app.view.events;
    for (row, logged) in lines.iter().skip(view.scroll).take(layout.rows).enumerate() {
        let y = area.y + 1 + row as u16;
        let style = if view.cursor == Some(logged.seq) {
            buf.set_style(Rect::new(area.x, y, area.width, 1), theme.selected());
            theme.selected()
        } else {
            Style::default()
        };
        for placed in &columns {
            let text = placed.column.cell(&logged.event);
            let right = placed.column == EventColumn::Pid;
            cell(buf, placed.x, y, placed.width, &text, right, style);
        }
    }
}

#[cfg(test)]
mod tests;
