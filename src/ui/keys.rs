//! Key bindings: every key the explorer understands, per mode, in one table. The help overlay is
//! generated from [`HELP`], so it cannot drift from what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::columns::Column;
use super::state::Mode;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Enter: expand or collapse the process, or jump to the peer on a connection line.
    Activate,
    /// Right arrow: expand a collapsed row, else scroll the command right.
    Right,
    /// Left arrow: scroll the command left, else collapse the row.
    Left,
    ScrollLeft,
    ScrollRight,
    ExpandAll,
    CollapseAll,
    SortBy(Column),
    SortNext,
    SortPrevious,
    SortInvert,
    OpenSortPicker,
    OpenFilter,
    ClearFilter,
    ToggleTree,
    ToggleKernelThreads,
    TogglePause,
    OpenHelp,
    OpenKill,
    // Modal input.
    Type(char),
    Backspace,
    Confirm,
    /// A plain `y`: the only key that sends a signal once the kill dialog asks for
    /// confirmation, so a stray Enter (or an emacs user's Ctrl-Y) never does.
    Yes,
    Cancel,
    Ignore,
}

/// Key, what it does; shown by the help overlay in this order.
pub const HELP: [(&str, &str); 23] = [
    (
        "Up/Down j/k",
        "move the selection (also onto an expanded row's sockets)",
    ),
    (
        "PgUp/PgDn Home/End",
        "move by a page / to the top or bottom",
    ),
    (
        "Enter",
        "expand or collapse the row; on a connection: jump to its peer",
    ),
    (
        "Right / Left",
        "expand / collapse the row, or scroll the command",
    ),
    ("[ / ]", "scroll the command column left / right"),
    ("e / E", "expand all / collapse all"),
    (
        "/ or F4",
        "filter: text, port:8080 user:x pid:1 state:listen",
    ),
    ("", "remote:10.0.0.0/8 cpu>5 mem>100M (terms AND together)"),
    ("Esc", "clear the filter / close a dialog"),
    (
        "F6 or < >",
        "choose the sort column / previous / next column",
    ),
    ("I", "invert the sort order"),
    ("P M N T C", "sort by CPU, memory, pid, time, connections"),
    ("click header", "sort by that column (again: invert)"),
    ("t or F5", "tree view by parent process"),
    ("K", "show / hide kernel threads"),
    ("z or Space", "pause (freeze the display); again to resume"),
    ("k or F9", "send a signal to the selected process"),
    ("click / wheel", "select a row / scroll"),
    ("? or F1", "this help"),
    ("q F10 Ctrl-C", "quit"),
    ("", ""),
    ("LISTEN", "ports the process accepts on (u: = UDP)"),
    ("CONN", "connections it holds; expand to see peers"),
];

/// Maps a key press to an action in `mode`.
pub fn action(mode: &Mode, key: KeyEvent) -> Action {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Action::Quit;
    }
    // A key held with Ctrl, Alt or another modifier is a different key: Ctrl-Q, Ctrl-K and
    // Ctrl-Y are emacs habits, and must not quit, open the kill dialog or confirm a signal.
    // Shift is part of the character itself (`P`, `?`, `<`), so it does not count.
    if is_modified(key) {
        return Action::Ignore;
    }
    match mode {
        Mode::Normal => normal(key),
        Mode::Filter => filter(key),
        Mode::Help => match key.code {
            KeyCode::Char('q') | KeyCode::F(10) => Action::Quit,
            _ => Action::Cancel,
        },
        Mode::SortPicker(_) | Mode::Kill(_) => dialog(key),
    }
}

fn normal(key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Char('q') | KeyCode::F(10) => Action::Quit,
        KeyCode::Up => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Home,
        KeyCode::End | KeyCode::Char('G') => Action::End,
        KeyCode::Enter => Action::Activate,
        KeyCode::Right => Action::Right,
        KeyCode::Left => Action::Left,
        KeyCode::Char('[') => Action::ScrollLeft,
        KeyCode::Char(']') => Action::ScrollRight,
        KeyCode::Char('e') => Action::ExpandAll,
        KeyCode::Char('E') => Action::CollapseAll,
        KeyCode::Char('P') => Action::SortBy(Column::Cpu),
        KeyCode::Char('M') => Action::SortBy(Column::Mem),
        KeyCode::Char('N') => Action::SortBy(Column::Pid),
        KeyCode::Char('T') => Action::SortBy(Column::Time),
        KeyCode::Char('C') => Action::SortBy(Column::Conns),
        KeyCode::Char('>') | KeyCode::Char('.') => Action::SortNext,
        KeyCode::Char('<') | KeyCode::Char(',') => Action::SortPrevious,
        KeyCode::Char('I') => Action::SortInvert,
        KeyCode::F(6) => Action::OpenSortPicker,
        KeyCode::Char('/') | KeyCode::F(4) | KeyCode::F(3) => Action::OpenFilter,
        KeyCode::Esc => Action::ClearFilter,
        KeyCode::Char('t') | KeyCode::F(5) => Action::ToggleTree,
        KeyCode::Char('K') => Action::ToggleKernelThreads,
        KeyCode::Char('z') | KeyCode::Char(' ') => Action::TogglePause,
        KeyCode::Char('?') | KeyCode::F(1) | KeyCode::Char('h') => Action::OpenHelp,
        // `k` moves up in vi terms, but htop users reach for it to kill: htop wins, since
        // Up is always there for moving.
        KeyCode::Char('k') | KeyCode::F(9) => Action::OpenKill,
        _ => Action::Ignore,
    }
}

fn filter(key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Esc => Action::Cancel,
        KeyCode::Enter => Action::Confirm,
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Up => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::F(10) => Action::Quit,
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => Action::Type(c),
        _ => Action::Ignore,
    }
}

/// Whether a modifier other than Shift is held.
fn is_modified(key: KeyEvent) -> bool {
    key.modifiers.intersects(
        KeyModifiers::CONTROL
            | KeyModifiers::ALT
            | KeyModifiers::SUPER
            | KeyModifiers::HYPER
            | KeyModifiers::META,
    )
}

fn dialog(key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => Action::Cancel,
        KeyCode::Enter => Action::Confirm,
        KeyCode::Char('y') => Action::Yes,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Char(c) if c.is_ascii_digit() => Action::Type(c),
        _ => Action::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn htop_keys_do_what_htop_users_expect() {
        assert_eq!(action(&Mode::Normal, press(KeyCode::F(10))), Action::Quit);
        assert_eq!(
            action(&Mode::Normal, press(KeyCode::Char('P'))),
            Action::SortBy(Column::Cpu)
        );
        assert_eq!(
            action(&Mode::Normal, press(KeyCode::F(9))),
            Action::OpenKill
        );
        assert_eq!(
            action(&Mode::Normal, press(KeyCode::Char('k'))),
            Action::OpenKill
        );
        assert_eq!(
            action(&Mode::Normal, press(KeyCode::F(5))),
            Action::ToggleTree
        );
        assert_eq!(
            action(&Mode::Normal, press(KeyCode::Char('I'))),
            Action::SortInvert
        );
    }

    #[test]
    fn typing_in_the_filter_never_triggers_commands() {
        assert_eq!(
            action(&Mode::Filter, press(KeyCode::Char('q'))),
            Action::Type('q')
        );
        assert_eq!(
            action(&Mode::Filter, press(KeyCode::Char('k'))),
            Action::Type('k')
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(&Mode::Filter, ctrl_c), Action::Quit);
    }
}
