//! Boxes drawn over the table: help, the sort-column picker, the kill dialog.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::sanitize::for_terminal;
use crate::ui::columns::Column;
use crate::ui::keys::HELP;
use crate::ui::state::{KillDialog, Sort, SIGNALS};
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

pub fn help(buf: &mut Buffer, area: Rect, theme: &Theme) {
    let inner = popup(
        buf,
        area,
        76,
        HELP.len() as u16 + 3,
        " wiretop keys (any key closes) ",
    );
    for (row, (key, what)) in HELP.iter().enumerate().take(usize::from(inner.height)) {
        let y = inner.y + row as u16;
        let (x, _) = buf.set_stringn(
            inner.x + 1,
            y,
            format!("{key:<20}"),
            usize::from(inner.width),
            theme.label(),
        );
        buf.set_stringn(
            x,
            y,
            *what,
            usize::from((inner.x + inner.width).saturating_sub(x)),
            theme.value(),
        );
    }
}

pub fn sort_picker(buf: &mut Buffer, area: Rect, at: usize, sort: Sort, theme: &Theme) {
    let inner = popup(buf, area, 28, Column::ALL.len() as u16 + 2, " Sort by ");
    for (row, column) in Column::ALL
        .iter()
        .enumerate()
        .take(usize::from(inner.height))
    {
        let mark = if *column == sort.column { "•" } else { " " };
        let width = usize::from(inner.width) - 2;
        let text = format!("{mark} {:<width$}", column.title());
        choice(buf, inner, row, text, row == at, theme);
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
