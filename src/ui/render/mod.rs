//! Drawing one frame from the app state. Reads only; never blocks.

#[cfg(test)]
mod chooser_tests;
#[cfg(test)]
mod column_tests;
mod events;
mod header;
#[cfg(test)]
mod header_tests;
mod overlay;
mod remote_hosts;
mod socket_columns;
mod table;
#[cfg(test)]
mod tests;

use ratatui::layout::Rect;
use ratatui::Frame;

use super::app::App;
use super::layout::{ScreenLayout, MIN_HEIGHT, MIN_WIDTH};
use super::state::{Mode, Screen};
use super::theme::Theme;

/// Lays out a frame of `area` and hands the table geometry to the app, so its paging and mouse
/// hits match what is about to be drawn. Call before [`draw`].
pub fn prepare(app: &mut App, area: Rect) -> ScreenLayout {
    let cores = app
        .snapshot()
        .map_or(1, |s| super::cpu_meters::cores_of(&s.host));
    let screen = super::layout::screen(area, cores);
    let layout = super::layout::TableLayout::new(screen.table, &app.columns());
    app.set_table_layout(layout);
    screen
}

/// Draws the whole screen. `now_ms` (unix ms) dates the snapshot's age.
pub fn draw(frame: &mut Frame<'_>, app: &App, layout: &ScreenLayout, theme: &Theme, now_ms: u64) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    if layout.too_small {
        let text = format!(
            "terminal too small: {}x{}, wiretop needs at least {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        buf.set_stringn(area.x, area.y, text, usize::from(area.width), theme.error());
        return;
    }
    header::draw(buf, layout.header, app, theme, now_ms);
    if let Some(reason) = app.disabled() {
        let area = layout.table;
        buf.set_stringn(
            area.x + 1,
            area.y + 1,
            reason,
            usize::from(area.width.saturating_sub(1)),
            theme.error(),
        );
        footer(buf, layout.footer, app, theme);
        return;
    }
    match app.view.screen {
        Screen::Processes => table::draw(buf, app, theme),
        Screen::RemoteHosts => remote_hosts::draw(buf, app, theme),
        Screen::Events => events::draw(buf, app, theme),
    }
    footer(buf, layout.footer, app, theme);
    match &app.view.mode {
        Mode::Help => overlay::help(buf, area, app.view.screen, theme),
        Mode::SortPicker(at) => overlay::sort_picker(buf, area, *at, app.view.sort, theme),
        Mode::Kill(dialog) => overlay::kill(buf, area, dialog, theme),
        Mode::Columns(chooser) => overlay::column_chooser(buf, area, chooser, theme),
        Mode::Renice(dialog) => overlay::renice(buf, area, dialog, theme),
        Mode::Normal | Mode::Filter | Mode::Search => {}
    }
}

fn footer(buf: &mut ratatui::buffer::Buffer, area: Rect, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    let view = &app.view;
    if view.mode == Mode::Search {
        let (x, _) = buf.set_stringn(area.x, area.y, "Search: ", width, theme.label());
        let text = crate::escape::for_terminal(&view.search_text);
        let (x, _) = buf.set_stringn(
            x,
            area.y,
            format!("{text}_"),
            width.saturating_sub(usize::from(x - area.x)),
            theme.value(),
        );
        let hint = view
            .message
            .clone()
            .unwrap_or_else(|| "F3: next  Enter: keep  Esc: close".to_owned());
        buf.set_stringn(
            x + 2,
            area.y,
            crate::escape::for_terminal(&hint),
            width.saturating_sub(usize::from(x + 2 - area.x)),
            theme.label(),
        );
        return;
    }
    let area = view_state(buf, area, app, theme);
    let width = usize::from(area.width);
    if view.mode == Mode::Filter || !view.filter_text.is_empty() {
        let editing = view.mode == Mode::Filter;
        let label = if editing {
            "Filter: "
        } else {
            "Filter (/ edits, Esc clears): "
        };
        let (x, _) = buf.set_stringn(area.x, area.y, label, width, theme.label());
        let text = crate::escape::for_terminal(&view.filter_text);
        let cursor = if editing { "_" } else { "" };
        let (x, _) = buf.set_stringn(
            x,
            area.y,
            format!("{text}{cursor}"),
            width.saturating_sub(usize::from(x - area.x)),
            theme.value(),
        );
        if let Some(error) = &view.filter_error {
            let message = crate::escape::for_terminal(&error.to_string()).into_owned();
            buf.set_stringn(
                x + 2,
                area.y,
                format!("✗ {message}"),
                width.saturating_sub(usize::from(x + 2 - area.x)),
                theme.error(),
            );
        } else if let Some(message) = view.message.as_ref().filter(|_| !editing) {
            // A kill's result or a sampling failure must not hide behind an applied filter.
            let message = crate::escape::for_terminal(message);
            buf.set_stringn(
                x + 2,
                area.y,
                message,
                width.saturating_sub(usize::from(x + 2 - area.x)),
                theme.label(),
            );
        }
        return;
    }
    if let Some(message) = &view.message {
        let message = crate::escape::for_terminal(message);
        buf.set_stringn(area.x, area.y, message, width, theme.label());
        return;
    }
    let hints: &[(&str, &str)] = match view.screen {
        Screen::Processes => &[
            ("F1", "Help"),
            ("F2", "Columns"),
            ("F4", "Filter"),
            ("F5", "Tree"),
            ("F6", "Sort"),
            ("F9", "Kill"),
            ("F10", "Quit"),
            ("Enter", "Expand"),
            ("z", "Pause"),
            ("L", "Events"),
        ],
        Screen::RemoteHosts => &[
            ("F1", "Help"),
            ("F4", "Filter"),
            ("H", "Processes"),
            ("Enter", "Expand"),
            ("B", "Rate"),
            ("C", "Conns"),
            ("R", "RTT"),
            ("A", "Remote"),
            ("I", "Invert"),
            ("F10", "Quit"),
        ],
        Screen::Events => &[
            ("F1", "Help"),
            ("F4", "Filter"),
            ("L", "Processes"),
            ("Enter", "Go to process"),
            ("z", "Pause"),
            ("F10", "Quit"),
        ],
    };
    let mut x = area.x;
    for (key, what) in hints {
        let room = usize::from((area.x + area.width).saturating_sub(x));
        if room < key.len() + what.len() + 1 {
            break;
        }
        let (after_key, _) = buf.set_stringn(x, area.y, key, room, theme.key());
        let (after, _) = buf.set_stringn(
            after_key,
            area.y,
            format!("{what} "),
            room - key.len(),
            theme.value(),
        );
        x = after;
    }
}

/// The view's state that hides or gathers rows, at the footer's left (`[grouped by service]`,
/// `[containers hidden]`), so a table missing rows says why; the area left after it.
fn view_state(buf: &mut ratatui::buffer::Buffer, area: Rect, app: &App, theme: &Theme) -> Rect {
    let view = &app.view;
    if view.screen != Screen::Processes {
        return area;
    }
    let mut parts = Vec::new();
    if view.grouping != super::state::Grouping::Off {
        parts.push(format!("grouped {}", view.grouping.label()));
    }
    if view.hide_containers {
        parts.push("containers hidden".to_owned());
    }
    if parts.is_empty() {
        return area;
    }
    let text = format!("[{}] ", parts.join(", "));
    let (x, _) = buf.set_stringn(area.x, area.y, text, usize::from(area.width), theme.error());
    Rect {
        x,
        width: area.width.saturating_sub(x - area.x),
        ..area
    }
}
