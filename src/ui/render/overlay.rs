//! Boxes drawn over the table: help, the sort-column picker, the column chooser, the kill and
//! renice dialogs.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::escape::for_terminal;
use crate::ui::column_chooser::ColumnChooser;
use crate::ui::columns::Column;
use crate::ui::keys::help_lines;
use crate::ui::state::{KillDialog, ReniceDialog, Screen, Sort, SIGNALS};
use crate::ui::theme::Theme;

/// A bordered box of `width`x`height` centred in `area` (shrunk to fit), cleared.
fn popup(buf: &mut Buffer, area: Rect, width: u16, height: u16, title: &str) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    Clear.render(rect, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title.to_owned());
    let inner = block.inner(rect);
    block.render(rect, buf);
    inner
}

/// The help box: as wide as its longest line needs, narrower only when the terminal is, and
/// then each description wraps under itself instead of being cut at the box's edge.
pub fn help(buf: &mut Buffer, area: Rect, screen: Screen, theme: &Theme) {
    let lines = help_lines(screen);
    let key_width = lines
        .iter()
        .map(|(keys, _)| columns(keys))
        .max()
        .unwrap_or(0)
        + 2;
    let text_width = lines
        .iter()
        .map(|(_, what)| columns(what))
        .max()
        .unwrap_or(0);
    // Borders, a space either side.
    let width = (key_width + text_width + 4).min(usize::from(area.width));
    let wrap_at = width.saturating_sub(key_width + 4).max(10);
    let rows: Vec<(&str, Vec<String>)> = lines
        .iter()
        .map(|(keys, what)| (keys.as_str(), wrap(what, wrap_at)))
        .collect();
    let height = rows
        .iter()
        .map(|(_, text)| text.len().max(1))
        .sum::<usize>()
        + 2;
    let inner = popup(
        buf,
        area,
        u16::try_from(width).unwrap_or(u16::MAX),
        u16::try_from(height).unwrap_or(u16::MAX),
        " wiretop keys (any key closes) ",
    );
    let mut y = inner.y;
    let bottom = inner.y + inner.height;
    for (keys, text) in rows {
        if y >= bottom {
            break;
        }
        buf.set_stringn(
            inner.x + 1,
            y,
            keys,
            usize::from(inner.width.saturating_sub(1)),
            theme.label(),
        );
        if text.is_empty() {
            y += 1;
        }
        for part in text {
            if y >= bottom {
                break;
            }
            let x = inner.x + 1 + u16::try_from(key_width).unwrap_or(u16::MAX);
            buf.set_stringn(
                x,
                y,
                part,
                usize::from((inner.x + inner.width).saturating_sub(x)),
                theme.value(),
            );
            y += 1;
        }
    }
}

/// Cells taken by the help's text, which is ours and plain ASCII.
fn columns(text: &str) -> usize {
    text.chars().count()
}

/// `text` in lines of at most `width` columns, broken at spaces (a longer word is cut).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn sort_picker(buf: &mut Buffer, area: Rect, at: usize, sort: Sort, theme: &Theme) {
    let inner = popup(buf, area, 28, Column::ALL.len() as u16 + 2, " Sort by ");
    let first = first_visible(at, usize::from(inner.height));
    for (row, (index, column)) in Column::ALL
        .iter()
        .enumerate()
        .skip(first)
        .take(usize::from(inner.height))
        .enumerate()
    {
        let mark = if *column == sort.column { "•" } else { " " };
        let width = usize::from(inner.width) - 2;
        let text = format!("{mark} {:<width$}", column.title());
        choice(buf, inner, row, text, index == at, theme);
    }
}

/// The first line of a list shown in `height` rows so that line `at` is on screen.
fn first_visible(at: usize, height: usize) -> usize {
    (at + 1).saturating_sub(height.max(1))
}

/// The column chooser: `[x] CPU%` per column, in the order they will be shown, the keys at
/// the bottom.
pub fn column_chooser(buf: &mut Buffer, area: Rect, chooser: &ColumnChooser, theme: &Theme) {
    const KEYS: [&str; 3] = [
        "Space show/hide  +/- move",
        "Enter apply  Esc cancel",
        "w apply and save to config",
    ];
    let height = chooser.entries.len() + KEYS.len() + 3;
    let inner = popup(
        buf,
        area,
        32,
        u16::try_from(height).unwrap_or(u16::MAX),
        " Columns ",
    );
    let list_rows = usize::from(inner.height).saturating_sub(KEYS.len() + 1);
    let first = first_visible(chooser.at, list_rows);
    for (row, (index, (column, on))) in chooser
        .entries
        .iter()
        .enumerate()
        .skip(first)
        .take(list_rows)
        .enumerate()
    {
        let mark = if *on { "[x]" } else { "[ ]" };
        let width = usize::from(inner.width).saturating_sub(5);
        let text = format!(" {mark} {:<width$}", column.title());
        choice(buf, inner, row, text, index == chooser.at, theme);
    }
    let keys_y = inner.y + inner.height.saturating_sub(KEYS.len() as u16);
    buf.set_stringn(
        inner.x + 1,
        keys_y.saturating_sub(1),
        "COMMAND: always, last",
        usize::from(inner.width.saturating_sub(1)),
        theme.label(),
    );
    for (line, keys) in KEYS.iter().enumerate() {
        buf.set_stringn(
            inner.x + 1,
            keys_y + line as u16,
            keys,
            usize::from(inner.width.saturating_sub(1)),
            theme.key(),
        );
    }
}

/// One line of a list in a box, highlighted when it is the current choice.
fn choice(buf: &mut Buffer, inner: Rect, row: usize, text: String, current: bool, theme: &Theme) {
    let style = if current {
        theme.selected()
    } else {
        theme.value()
    };
    buf.set_stringn(
        inner.x,
        inner.y + row as u16,
        text,
        usize::from(inner.width),
        style,
    );
}

pub fn kill(buf: &mut Buffer, area: Rect, dialog: &KillDialog, theme: &Theme) {
    let name = for_terminal(&dialog.name);
    let title = format!(" Send signal to {} ({name}) ", dialog.target.pid);
    let inner = popup(buf, area, 44, SIGNALS.len() as u16 + 4, &title);
    for (row, (sig, number)) in SIGNALS.iter().enumerate().take(usize::from(inner.height)) {
        let text = format!(" {}  SIG{sig:<6} ({number})", row + 1);
        choice(buf, inner, row, text, row == dialog.signal, theme);
    }
    let (sig, _) = SIGNALS[dialog.signal.min(SIGNALS.len() - 1)];
    let prompt = if dialog.confirming {
        format!("Send SIG{sig} to {}? y / n", dialog.target.pid)
    } else {
        "Enter: choose   Esc: cancel".to_owned()
    };
    let style = if dialog.confirming {
        theme.error()
    } else {
        theme.label()
    };
    buf.set_stringn(
        inner.x + 1,
        inner.y + inner.height.saturating_sub(1),
        prompt,
        usize::from(inner.width),
        style,
    );
}

/// The renice dialog: the value typed so far, and what the range means.
pub fn renice(buf: &mut Buffer, area: Rect, dialog: &ReniceDialog, theme: &Theme) {
    let name = for_terminal(&dialog.name);
    let title = format!(" Renice {} ({name}) ", dialog.target.pid);
    let inner = popup(buf, area, 44, 6, &title);
    let lines = [
        (format!("nice value: {}_", dialog.text), theme.value()),
        (
            "-20 most priority (root only) .. 19 least".to_owned(),
            theme.label(),
        ),
        (String::new(), theme.label()),
        ("Enter: set   Esc: cancel".to_owned(), theme.label()),
    ];
    for (row, (text, style)) in lines
        .into_iter()
        .enumerate()
        .take(usize::from(inner.height))
    {
        buf.set_stringn(
            inner.x + 1,
            inner.y + row as u16,
            text,
            usize::from(inner.width.saturating_sub(1)),
            style,
        );
    }
}
