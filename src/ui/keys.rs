//! Key bindings as data: every key the explorer understands, per mode, in tables that both
//! dispatch ([`action`]) and the help overlay ([`help_lines`]) read, so what the help says a key
//! does is what it does.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::columns::Column;
use super::remote_hosts::HostSortKey;
use super::state::{Mode, Screen};

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
    /// Sort on this column in its natural direction (htop's `P`, `M`, `T`: pressing `P` again
    /// keeps the biggest CPU users on top).
    SortBy(Column),
    SortNext,
    SortPrevious,
    SortInvert,
    OpenSortPicker,
    /// F2: the column chooser.
    OpenColumnChooser,
    /// In the column chooser: show or hide the column, move it left (up the list) or right,
    /// save the choice to the user's configuration file.
    ToggleColumn,
    ColumnEarlier,
    ColumnLater,
    SaveColumns,
    OpenFilter,
    ClearFilter,
    ToggleTree,
    ToggleKernelThreads,
    TogglePause,
    OpenHelp,
    OpenKill,
    /// Change the selected process's nice value by this much (htop's F7 / F8).
    NiceBy(i32),
    /// The renice dialog: type a nice value.
    OpenRenice,
    /// Hide or show the processes that run in a container.
    ToggleContainers,
    /// Group rows: off, by service, by container.
    CycleGrouping,
    /// Open the search prompt (htop's F3); in it, the next match.
    OpenSearch,
    /// The next row matching the search, wrapping.
    SearchNext,
    /// Between the process table and the remote-hosts view.
    ToggleRemoteHosts,
    /// Between the process table and the events pane.
    ToggleEvents,
    /// Sort the remote-hosts view on this, in its natural direction.
    SortHostsBy(HostSortKey),
    /// Esc in the remote-hosts view: clear the filter, or with none, back to the table.
    Back,
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

/// A key as bindings name it. Letters are case-sensitive (`K` is Shift-k); only Ctrl-C carries
/// a modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    F(u8),
    Ctrl(char),
    Up,
    Down,
    /// Shift held with the arrow (Shift is part of a character, but not of an arrow).
    ShiftUp,
    ShiftDown,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Enter,
    Esc,
    Backspace,
}

impl Key {
    /// Whether the key press `event` is this key.
    pub fn matches(self, event: KeyEvent) -> bool {
        match self {
            Key::Ctrl(c) => {
                event.code == KeyCode::Char(c) && event.modifiers.contains(KeyModifiers::CONTROL)
            }
            Key::ShiftUp | Key::ShiftDown => {
                !is_modified(event)
                    && event.modifiers.contains(KeyModifiers::SHIFT)
                    && event.code == self.code()
            }
            key => !is_modified(event) && event.code == key.code(),
        }
    }

    /// The key press, as crossterm reports it.
    pub fn event(self) -> KeyEvent {
        match self {
            Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            Key::ShiftUp | Key::ShiftDown => KeyEvent::new(self.code(), KeyModifiers::SHIFT),
            key => KeyEvent::new(key.code(), KeyModifiers::NONE),
        }
    }

    fn code(self) -> KeyCode {
        match self {
            Key::Char(c) | Key::Ctrl(c) => KeyCode::Char(c),
            Key::F(n) => KeyCode::F(n),
            Key::Up | Key::ShiftUp => KeyCode::Up,
            Key::Down | Key::ShiftDown => KeyCode::Down,
            Key::Left => KeyCode::Left,
            Key::Right => KeyCode::Right,
            Key::PageUp => KeyCode::PageUp,
            Key::PageDown => KeyCode::PageDown,
            Key::Home => KeyCode::Home,
            Key::End => KeyCode::End,
            Key::Enter => KeyCode::Enter,
            Key::Esc => KeyCode::Esc,
            Key::Backspace => KeyCode::Backspace,
        }
    }

    /// How the help names the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".to_owned(),
            Key::Char(c) => c.to_string(),
            Key::F(n) => format!("F{n}"),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Up => "Up".to_owned(),
            Key::ShiftUp => "Shift-Up".to_owned(),
            Key::ShiftDown => "Shift-Down".to_owned(),
            Key::Down => "Down".to_owned(),
            Key::Left => "Left".to_owned(),
            Key::Right => "Right".to_owned(),
            Key::PageUp => "PgUp".to_owned(),
            Key::PageDown => "PgDn".to_owned(),
            Key::Home => "Home".to_owned(),
            Key::End => "End".to_owned(),
            Key::Enter => "Enter".to_owned(),
            Key::Esc => "Esc".to_owned(),
            Key::Backspace => "Backspace".to_owned(),
        }
    }
}

/// Keys bound to one action, and the help line they start.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    pub action: Action,
    /// What the help says. `None`: the keys join the help line of the binding before, whose
    /// words cover this action too (`P M N T C`: sort by CPU, memory, ...).
    pub help: Option<&'static str>,
}

const fn bind(keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        keys,
        action,
        help: Some(help),
    }
}

const fn also(keys: &'static [Key], action: Action) -> Binding {
    Binding {
        keys,
        action,
        help: None,
    }
}

/// Keys that work in every mode.
pub const GLOBAL: &[Binding] = &[bind(&[Key::Ctrl('c')], Action::Quit, "quit, from anywhere")];

/// The table's keys, in the order the help lists them.
pub const NORMAL: &[Binding] = &[
    bind(
        &[Key::Up],
        Action::Up,
        "move the selection (also onto an expanded row's sockets)",
    ),
    also(&[Key::Down, Key::Char('j')], Action::Down),
    bind(
        &[Key::PageUp],
        Action::PageUp,
        "move by a page / to the top / to the bottom",
    ),
    also(&[Key::PageDown], Action::PageDown),
    also(&[Key::Home, Key::Char('g')], Action::Home),
    also(&[Key::End, Key::Char('G')], Action::End),
    bind(
        &[Key::Enter],
        Action::Activate,
        "expand or collapse the row; on a connection: jump to its peer",
    ),
    bind(
        &[Key::Right],
        Action::Right,
        "expand / collapse the row, or scroll the command",
    ),
    also(&[Key::Left], Action::Left),
    bind(
        &[Key::Char('[')],
        Action::ScrollLeft,
        "scroll the command column left / right",
    ),
    also(&[Key::Char(']')], Action::ScrollRight),
    bind(
        &[Key::Char('e')],
        Action::ExpandAll,
        "expand all / collapse all",
    ),
    also(&[Key::Char('E')], Action::CollapseAll),
    bind(
        &[Key::Char('/'), Key::F(4)],
        Action::OpenFilter,
        "filter as you type: words, port:8080 user:x pid:1 state:listen \
         remote:10.0.0.0/8 peer:node cpu>5 mem>100M rate>1M rx> tx> rtt>100ms \
         retrans>0 unit:nginx container:web-1 pod:prod/checkout image:nginx \
         new (started since launch) !term (terms AND together)",
    ),
    bind(
        &[Key::F(3)],
        Action::OpenSearch,
        "search: the next row matching (the filter's terms), hiding nothing; n: the next",
    ),
    also(&[Key::Char('n')], Action::SearchNext),
    bind(
        &[Key::Esc],
        Action::ClearFilter,
        "clear the filter (in a dialog: close it)",
    ),
    bind(
        &[Key::F(6)],
        Action::OpenSortPicker,
        "choose the sort column / the column left / right of it",
    ),
    also(&[Key::Char('<'), Key::Char(',')], Action::SortPrevious),
    also(&[Key::Char('>'), Key::Char('.')], Action::SortNext),
    bind(
        &[Key::F(2)],
        Action::OpenColumnChooser,
        "choose the columns and their order (w there saves them to your config file)",
    ),
    bind(
        &[Key::Char('I')],
        Action::SortInvert,
        "invert the sort order",
    ),
    bind(
        &[Key::Char('P')],
        Action::SortBy(Column::Cpu),
        "sort by CPU, memory, pid, time, connections, network rate (each its natural way: \
         pressed again, the same)",
    ),
    also(&[Key::Char('M')], Action::SortBy(Column::Mem)),
    also(&[Key::Char('N')], Action::SortBy(Column::Pid)),
    also(&[Key::Char('T')], Action::SortBy(Column::Time)),
    also(&[Key::Char('C')], Action::SortBy(Column::Conn)),
    also(&[Key::Char('B')], Action::SortBy(Column::Net)),
    bind(
        &[Key::Char('t'), Key::F(5)],
        Action::ToggleTree,
        "tree view by parent process",
    ),
    bind(
        &[Key::Char('K')],
        Action::ToggleKernelThreads,
        "show / hide kernel threads",
    ),
    bind(
        &[Key::Char('c')],
        Action::ToggleContainers,
        "hide / show processes in containers",
    ),
    bind(
        &[Key::Char('v')],
        Action::CycleGrouping,
        "group rows by service, by container, or not (Enter on a group lists its processes)",
    ),
    bind(
        &[Key::Char('z'), Key::Char(' ')],
        Action::TogglePause,
        "pause (freeze the display); again to resume",
    ),
    // `k` moves up in vi terms, but htop users reach for it to kill: htop wins, since Up is
    // always there for moving.
    bind(
        &[Key::Char('k'), Key::F(9)],
        Action::OpenKill,
        "send a signal to the selected process (confirmed with y)",
    ),
    bind(
        &[Key::F(7)],
        Action::NiceBy(-1),
        "renice the selected process: nice -1 (more priority; needs root) / +1 / type a value",
    ),
    also(&[Key::F(8)], Action::NiceBy(1)),
    also(&[Key::Char('r')], Action::OpenRenice),
    bind(
        &[Key::Char('H')],
        Action::ToggleRemoteHosts,
        "remote hosts: who this box talks to, and who here does (again: back)",
    ),
    bind(
        &[Key::Char('L')],
        Action::ToggleEvents,
        "events: processes started and exited, listeners, first connections (again: back)",
    ),
    bind(
        &[Key::Char('?'), Key::F(1), Key::Char('h')],
        Action::OpenHelp,
        "this help",
    ),
    bind(&[Key::Char('q'), Key::F(10)], Action::Quit, "quit"),
];

/// The remote-hosts view's keys, in the order its help lists them.
pub const REMOTE_HOSTS: &[Binding] = &[
    bind(&[Key::Up], Action::Up, "move the selection"),
    also(&[Key::Down, Key::Char('j')], Action::Down),
    bind(
        &[Key::PageUp],
        Action::PageUp,
        "move by a page / to the top / to the bottom",
    ),
    also(&[Key::PageDown], Action::PageDown),
    also(&[Key::Home, Key::Char('g')], Action::Home),
    also(&[Key::End, Key::Char('G')], Action::End),
    bind(
        &[Key::Enter],
        Action::Activate,
        "expand or collapse the endpoint into its connections",
    ),
    bind(
        &[Key::Char('/'), Key::F(4), Key::F(3)],
        Action::OpenFilter,
        "filter: endpoints held by a matching process, or whose REMOTE contains the text",
    ),
    bind(
        &[Key::Esc],
        Action::Back,
        "clear the filter; with none, back to the process table",
    ),
    bind(
        &[Key::Char('H')],
        Action::ToggleRemoteHosts,
        "back to the process table",
    ),
    bind(
        &[Key::Char('B')],
        Action::SortHostsBy(HostSortKey::Rate),
        "sort by rate (RX + TX), connections, worst rtt, remote address",
    ),
    also(
        &[Key::Char('C')],
        Action::SortHostsBy(HostSortKey::Connections),
    ),
    also(&[Key::Char('R')], Action::SortHostsBy(HostSortKey::Rtt)),
    also(&[Key::Char('A')], Action::SortHostsBy(HostSortKey::Remote)),
    bind(
        &[Key::Char('I')],
        Action::SortInvert,
        "invert the sort order",
    ),
    bind(
        &[Key::Char('z'), Key::Char(' ')],
        Action::TogglePause,
        "pause (freeze the display); again to resume",
    ),
    bind(
        &[Key::Char('?'), Key::F(1), Key::Char('h')],
        Action::OpenHelp,
        "this help",
    ),
    bind(&[Key::Char('q'), Key::F(10)], Action::Quit, "quit"),
];

/// The events pane's keys, in the order its help lists them.
pub const EVENTS: &[Binding] = &[
    bind(&[Key::Up], Action::Up, "move the selection"),
    also(&[Key::Down, Key::Char('j')], Action::Down),
    bind(
        &[Key::PageUp],
        Action::PageUp,
        "move by a page / to the newest / to the oldest",
    ),
    also(&[Key::PageDown], Action::PageDown),
    also(&[Key::Home, Key::Char('g')], Action::Home),
    also(&[Key::End, Key::Char('G')], Action::End),
    bind(
        &[Key::Enter],
        Action::Activate,
        "select the event's process in the table, while it is listed",
    ),
    bind(
        &[Key::Char('/'), Key::F(4), Key::F(3)],
        Action::OpenFilter,
        "filter: words (also the kind: exited, listen), pid:1 name:x user:x port:8080 \
         remote:10.0.0.0/8 state:listen new !term; terms about what an event does not \
         carry (cpu>5, unit:x) match none",
    ),
    bind(
        &[Key::Esc],
        Action::Back,
        "clear the filter; with none, back to the process table",
    ),
    bind(
        &[Key::Char('L')],
        Action::ToggleEvents,
        "back to the process table",
    ),
    bind(
        &[Key::Char('z'), Key::Char(' ')],
        Action::TogglePause,
        "pause (freeze the display); again to resume",
    ),
    bind(
        &[Key::Char('?'), Key::F(1), Key::Char('h')],
        Action::OpenHelp,
        "this help",
    ),
    bind(&[Key::Char('q'), Key::F(10)], Action::Quit, "quit"),
];

/// Typing into the filter: these keys, and any other character is typed.
pub const FILTER: &[Binding] = &[
    bind(&[Key::Esc], Action::Cancel, "clear the filter and close it"),
    bind(
        &[Key::Enter],
        Action::Confirm,
        "keep the filter, back to the table",
    ),
    bind(&[Key::Backspace], Action::Backspace, "delete a character"),
    bind(&[Key::Up], Action::Up, "move the selection"),
    also(&[Key::Down], Action::Down),
    bind(&[Key::F(10)], Action::Quit, "quit"),
];

/// Typing the search text: these keys, and any other character is typed.
pub const SEARCH: &[Binding] = &[
    bind(&[Key::Esc], Action::Cancel, "close the search"),
    bind(
        &[Key::Enter],
        Action::Confirm,
        "keep the search, back to the table",
    ),
    bind(&[Key::F(3)], Action::SearchNext, "the next match"),
    bind(&[Key::Backspace], Action::Backspace, "delete a character"),
    bind(&[Key::F(10)], Action::Quit, "quit"),
];

/// The renice dialog: these keys, and digits and a sign are typed.
pub const RENICE: &[Binding] = &[
    bind(&[Key::Esc], Action::Cancel, "close"),
    bind(&[Key::Enter], Action::Confirm, "set the nice value"),
    bind(&[Key::Backspace], Action::Backspace, "delete a character"),
];

/// The sort picker and the kill dialog: these keys, and digits pick a line.
pub const DIALOG: &[Binding] = &[
    bind(
        &[Key::Esc, Key::Char('n'), Key::Char('q')],
        Action::Cancel,
        "close",
    ),
    bind(&[Key::Enter], Action::Confirm, "choose"),
    bind(&[Key::Char('y')], Action::Yes, "choose; send the signal"),
    bind(&[Key::Up, Key::Char('k')], Action::Up, "move"),
    also(&[Key::Down, Key::Char('j')], Action::Down),
];

/// The column chooser (F2).
pub const COLUMN_CHOOSER: &[Binding] = &[
    bind(
        &[Key::Char(' ')],
        Action::ToggleColumn,
        "show / hide the column",
    ),
    // Before the plain arrows: Shift-Up is also an Up.
    bind(
        &[Key::ShiftUp, Key::Char('-')],
        Action::ColumnEarlier,
        "move the column left / right",
    ),
    also(
        &[Key::ShiftDown, Key::Char('+'), Key::Char('=')],
        Action::ColumnLater,
    ),
    bind(&[Key::Up, Key::Char('k')], Action::Up, "move"),
    also(&[Key::Down, Key::Char('j')], Action::Down),
    bind(&[Key::Enter], Action::Confirm, "apply"),
    bind(&[Key::Esc, Key::Char('q')], Action::Cancel, "cancel"),
    bind(
        &[Key::Char('w')],
        Action::SaveColumns,
        "apply and save as ui.columns in your config file",
    ),
];

/// The help overlay: these keys, and any other closes it.
pub const HELP_MODE: &[Binding] = &[bind(&[Key::Char('q'), Key::F(10)], Action::Quit, "quit")];

/// What the mouse does, for the help (it has no keys to bind).
pub const MOUSE_HELP: [(&str, &str); 2] = [
    ("click header", "sort by that column (again: invert)"),
    ("click / wheel", "select a row (again: expand) / scroll"),
];

/// What the table's less obvious columns mean, for the help.
pub const LEGEND: [(&str, &str); 5] = [
    (
        "+ -",
        "started since wiretop launched / exited (kept greyed for ui.exited_linger)",
    ),
    (
        "!",
        "outside the baseline (wiretop --baseline FILE; filter: unexpected)",
    ),
    ("LISTEN", "ports the process accepts on (u: = UDP)"),
    ("CONN", "connections it holds; expand to see peers"),
    (
        "SERVICE CONTAINER",
        "systemd unit; container name, else short id (F2 adds NI PRI VIRT START (UTC) FDS, \
         DISK R/s W/s, NETNS, CGROUP)",
    ),
];

/// What the remote-hosts view's columns mean, for its help.
pub const HOSTS_LEGEND: [(&str, &str); 3] = [
    (
        "REMOTE",
        "address:port of a service this box uses; address alone for clients of its servers",
    ),
    ("PROCS", "local processes holding the connections"),
    (
        "RTT RETR",
        "worst round-trip time; retransmits summed (- unknown)",
    ),
];

/// What the events pane's kinds mean, for its help.
pub const EVENTS_LEGEND: [(&str, &str); 4] = [
    (
        "started exited",
        "a process began / ended (exit status and runtime when the kernel said)",
    ),
    (
        "listen unlisten",
        "it began / stopped listening on that address",
    ),
    (
        "connect",
        "its first connection to that address:port since wiretop started",
    ),
    (
        "exec setuid",
        "another executable / another user, same process",
    ),
];

/// The normal-mode bindings of `screen`.
pub fn screen_bindings(screen: Screen) -> &'static [Binding] {
    match screen {
        Screen::Processes => NORMAL,
        Screen::RemoteHosts => REMOTE_HOSTS,
        Screen::Events => EVENTS,
    }
}

/// The notes the help shows after the keys of `screen`: what the mouse does, what columns
/// mean.
pub fn help_notes(screen: Screen) -> &'static [(&'static str, &'static str)] {
    match screen {
        Screen::Processes => &NOTES,
        Screen::RemoteHosts => &HOSTS_LEGEND,
        Screen::Events => &EVENTS_LEGEND,
    }
}

const NOTES: [(&str, &str); 6] = [
    MOUSE_HELP[0],
    MOUSE_HELP[1],
    LEGEND[0],
    LEGEND[1],
    LEGEND[2],
    LEGEND[4],
];

/// The help overlay's lines for `screen`: the keys (as labels) and what they do, from its
/// bindings and [`GLOBAL`], then its notes ([`help_notes`]).
pub fn help_lines(screen: Screen) -> Vec<(String, &'static str)> {
    let mut lines: Vec<(String, &'static str)> = Vec::new();
    for binding in screen_bindings(screen).iter().chain(GLOBAL) {
        let labels: Vec<String> = binding.keys.iter().map(|k| k.label()).collect();
        match (binding.help, lines.last_mut()) {
            (None, Some((keys, _))) => {
                keys.push(' ');
                keys.push_str(&labels.join(" "));
            }
            (help, _) => lines.push((labels.join(" "), help.unwrap_or_default())),
        }
    }
    lines.push((String::new(), ""));
    lines.extend(
        help_notes(screen)
            .iter()
            .map(|(keys, what)| ((*keys).to_owned(), *what)),
    );
    lines
}

/// The bindings in force in `mode` on `screen`, after [`GLOBAL`].
pub fn bindings(mode: &Mode, screen: Screen) -> &'static [Binding] {
    match mode {
        Mode::Normal => screen_bindings(screen),
        Mode::Filter => FILTER,
        Mode::Search => SEARCH,
        Mode::Renice(_) => RENICE,
        Mode::Help => HELP_MODE,
        Mode::SortPicker(_) | Mode::Kill(_) => DIALOG,
        Mode::Columns(_) => COLUMN_CHOOSER,
    }
}

/// Maps a key press to an action in `mode` on `screen`.
pub fn action(mode: &Mode, screen: Screen, key: KeyEvent) -> Action {
    let bound = GLOBAL
        .iter()
        .chain(bindings(mode, screen))
        .find(|binding| binding.keys.iter().any(|k| k.matches(key)));
    if let Some(binding) = bound {
        return binding.action;
    }
    // A key held with Ctrl, Alt or another modifier is a different key: Ctrl-Q, Ctrl-K and
    // Ctrl-Y are emacs habits, and must not quit, open the kill dialog or confirm a signal.
    // Shift is part of the character itself (`P`, `?`, `<`), so it does not count.
    if is_modified(key) {
        return Action::Ignore;
    }
    match (mode, key.code) {
        (Mode::Filter | Mode::Search, KeyCode::Char(c)) => Action::Type(c),
        (Mode::Renice(_), KeyCode::Char(c)) if c.is_ascii_digit() || c == '-' || c == '+' => {
            Action::Type(c)
        }
        (Mode::SortPicker(_) | Mode::Kill(_), KeyCode::Char(c)) if c.is_ascii_digit() => {
            Action::Type(c)
        }
        (Mode::Help, _) => Action::Cancel,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{KillDialog, ProcessId, ReniceDialog};

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn all_modes() -> Vec<Mode> {
        let dialog = KillDialog {
            target: ProcessId {
                pid: 1,
                start_time_ms: 0,
            },
            name: "init".to_owned(),
            signal: 0,
            confirming: false,
        };
        let renice = ReniceDialog {
            target: dialog.target,
            name: dialog.name.clone(),
            text: String::new(),
        };
        vec![
            Mode::Normal,
            Mode::Filter,
            Mode::Search,
            Mode::Help,
            Mode::SortPicker(0),
            Mode::Kill(dialog),
            Mode::Columns(crate::ui::column_chooser::ColumnChooser::new(
                &Column::DEFAULT,
            )),
            Mode::Renice(renice),
        ]
    }

    /// Every key on every help line does what that line's bindings say, on every screen: the
    /// help is built from the table, and dispatch reads the same table, so this holds by
    /// construction; the test keeps it so if either ever stops reading the table.
    #[test]
    fn every_help_line_keys_do_what_it_says() {
        for screen in [Screen::Processes, Screen::RemoteHosts, Screen::Events] {
            let table = screen_bindings(screen);
            let lines = help_lines(screen);
            let mut line = 0;
            for binding in table {
                if binding.help.is_some() {
                    line = lines
                        .iter()
                        .position(|(_, what)| Some(*what) == binding.help)
                        .unwrap_or_else(|| panic!("{:?} has a help line", binding.action));
                }
                for key in binding.keys {
                    assert!(
                        lines[line].0.split(' ').any(|label| label == key.label()),
                        "help line {:?} names {}",
                        lines[line],
                        key.label()
                    );
                    assert_eq!(
                        action(&Mode::Normal, screen, key.event()),
                        binding.action,
                        "{} does what its help line says on {screen:?}",
                        key.label()
                    );
                }
            }
            // and every key label on a help line is one of that line's keys
            for (keys, what) in lines.iter().filter(|(keys, _)| !keys.is_empty()) {
                if help_notes(screen).iter().any(|(_, w)| w == what) {
                    continue;
                }
                for label in keys.split(' ') {
                    assert!(
                        table
                            .iter()
                            .chain(GLOBAL)
                            .any(|b| b.keys.iter().any(|k| k.label() == label)),
                        "{label} on the help line {what:?} is bound on {screen:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_remote_hosts_key_goes_there_and_back() {
        let key = press(KeyCode::Char('H'));
        assert_eq!(
            action(&Mode::Normal, Screen::Processes, key),
            Action::ToggleRemoteHosts
        );
        assert_eq!(
            action(&Mode::Normal, Screen::RemoteHosts, key),
            Action::ToggleRemoteHosts
        );
        assert_eq!(
            action(&Mode::Normal, Screen::RemoteHosts, press(KeyCode::Esc)),
            Action::Back
        );
        // The kill dialog is the process table's: no `k` in a view of endpoints.
        assert_eq!(
            action(
                &Mode::Normal,
                Screen::RemoteHosts,
                press(KeyCode::Char('k'))
            ),
            Action::Ignore
        );
    }

    #[test]
    fn the_events_key_goes_there_and_back() {
        let key = press(KeyCode::Char('L'));
        assert_eq!(
            action(&Mode::Normal, Screen::Processes, key),
            Action::ToggleEvents
        );
        assert_eq!(
            action(&Mode::Normal, Screen::Events, key),
            Action::ToggleEvents
        );
        assert_eq!(
            action(&Mode::Normal, Screen::Events, press(KeyCode::Esc)),
            Action::Back
        );
        // Sorting and the kill dialog are the process table's.
        for c in ['k', 'P', 't'] {
            assert_eq!(
                action(&Mode::Normal, Screen::Events, press(KeyCode::Char(c))),
                Action::Ignore,
                "{c}"
            );
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_mode() {
        for screen in [Screen::Processes, Screen::RemoteHosts, Screen::Events] {
            for mode in all_modes() {
                let mut seen: Vec<Key> = Vec::new();
                for binding in GLOBAL.iter().chain(bindings(&mode, screen)) {
                    for key in binding.keys {
                        assert!(!seen.contains(key), "{key:?} bound twice in {mode:?}");
                        seen.push(*key);
                    }
                }
            }
        }
    }

    #[test]
    fn htop_keys_do_what_htop_users_expect() {
        let normal = |code| action(&Mode::Normal, Screen::Processes, press(code));
        assert_eq!(normal(KeyCode::F(10)), Action::Quit);
        assert_eq!(normal(KeyCode::Char('P')), Action::SortBy(Column::Cpu));
        assert_eq!(normal(KeyCode::F(9)), Action::OpenKill);
        assert_eq!(normal(KeyCode::Char('k')), Action::OpenKill);
        assert_eq!(normal(KeyCode::F(5)), Action::ToggleTree);
        assert_eq!(normal(KeyCode::Char('I')), Action::SortInvert);
        // crossterm reports Shift with the capital letter; it is still `P`.
        let shifted = KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT);
        assert_eq!(
            action(&Mode::Normal, Screen::Processes, shifted),
            Action::SortBy(Column::Cpu)
        );
    }

    #[test]
    fn typing_in_the_filter_never_triggers_commands() {
        assert_eq!(
            action(&Mode::Filter, Screen::Processes, press(KeyCode::Char('q'))),
            Action::Type('q')
        );
        assert_eq!(
            action(&Mode::Filter, Screen::Processes, press(KeyCode::Char('k'))),
            Action::Type('k')
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            action(&Mode::Filter, Screen::Processes, ctrl_c),
            Action::Quit
        );
    }

    #[test]
    fn modified_letters_are_not_the_plain_letter_in_any_mode() {
        for mode in all_modes() {
            for c in ['q', 'k', 'y', 'P', 'e'] {
                for modifiers in [KeyModifiers::CONTROL, KeyModifiers::ALT] {
                    let got = action(
                        &mode,
                        Screen::Processes,
                        KeyEvent::new(KeyCode::Char(c), modifiers),
                    );
                    assert_eq!(got, Action::Ignore, "{modifiers:?}-{c} in {mode:?}");
                }
            }
        }
    }
}
