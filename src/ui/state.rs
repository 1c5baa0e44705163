//! What the user has chosen to see: sort, filter, selection, expanded rows, modes. Kept apart
//! from the snapshot so it survives every refresh.

use std::collections::HashSet;

use crate::model::{Filter, FilterError, Process};

use super::columns::Column;
use super::events::EventsView;
use super::remote_hosts::HostsView;

/// A process's identity across snapshots: a reused pid has a new start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId {
    pub pid: u32,
    pub start_time_ms: u64,
}

impl ProcessId {
    pub fn of(p: &Process) -> Self {
        ProcessId {
            pid: p.pid,
            start_time_ms: p.start_time_ms,
        }
    }
}

/// Where the selection is: a process row, one socket line in its detail block, or a group row
/// of the grouped view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The process; on a group row, [`ProcessId`] of pid 0, which no listed process has.
    pub process: ProcessId,
    /// The socket's inode when the cursor is on a socket line.
    pub socket: Option<u64>,
    /// The group when the cursor is on a group row.
    pub group: Option<GroupId>,
}

impl Cursor {
    pub fn process(process: ProcessId) -> Self {
        Cursor {
            process,
            socket: None,
            group: None,
        }
    }

    /// The cursor on a group row.
    pub fn group(group: GroupId) -> Self {
        Cursor {
            process: ProcessId {
                pid: 0,
                start_time_ms: 0,
            },
            socket: None,
            group: Some(group),
        }
    }
}

/// A group of the grouped view, by its kind and name (a hash: kept `Copy` like the cursor that
/// holds it; two names colliding in 64 bits is not a case worth a `String` per key press).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub u64);

/// How the process table groups its rows (`v` cycles through them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Off,
    /// By systemd unit.
    Service,
    /// By container.
    Container,
}

impl Grouping {
    /// The next in the cycle off -> service -> container -> off.
    pub fn next(self) -> Grouping {
        match self {
            Grouping::Off => Grouping::Service,
            Grouping::Service => Grouping::Container,
            Grouping::Container => Grouping::Off,
        }
    }

    /// What the footer calls it.
    pub fn label(self) -> &'static str {
        match self {
            Grouping::Off => "off",
            Grouping::Service => "by service",
            Grouping::Container => "by container",
        }
    }
}

/// Sort column and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: Column,
    pub descending: bool,
}

impl Sort {
    /// Sorts on `column` in its natural direction, whatever the sort was: htop's `P`, `M`,
    /// `T`, so pressing `P` twice still answers "who uses the most CPU?".
    pub fn natural(column: Column) -> Sort {
        Sort {
            column,
            descending: column.default_descending(),
        }
    }

    /// Sorts on `column`; choosing the current column again flips the direction, like a
    /// header click in most tables.
    pub fn by(self, column: Column) -> Sort {
        if column == self.column {
            Sort {
                column,
                descending: !self.descending,
            }
        } else {
            Sort::natural(column)
        }
    }

    /// Sorts on the column `step` places to the right (negative: left), wrapping around.
    pub fn shift(self, step: isize) -> Sort {
        let all = Column::ALL;
        let at = all.iter().position(|c| *c == self.column).unwrap_or(0) as isize;
        Sort::natural(all[(at + step).rem_euclid(all.len() as isize) as usize])
    }
}

/// Signals offered by the kill dialog, most common first.
pub const SIGNALS: [(&str, i32); 9] = [
    ("TERM", libc::SIGTERM),
    ("KILL", libc::SIGKILL),
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("STOP", libc::SIGSTOP),
    ("CONT", libc::SIGCONT),
];

/// The kill dialog's progress: pick a signal, then confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillDialog {
    pub target: ProcessId,
    pub name: String,
    /// Index into [`SIGNALS`].
    pub signal: usize,
    pub confirming: bool,
}

/// The renice dialog: the nice value being typed for one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReniceDialog {
    pub target: ProcessId,
    pub name: String,
    /// As typed: digits and a sign.
    pub text: String,
}

/// Which overlay or input owns the keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing into the filter.
    Filter,
    Help,
    /// Choosing the sort column from a list (F6); the index into [`Column::ALL`].
    SortPicker(usize),
    Kill(KillDialog),
    /// Choosing the columns and their order (F2).
    Columns(super::column_chooser::ColumnChooser),
    /// Typing a nice value for a process (`r`).
    Renice(ReniceDialog),
    /// Typing the search text (F3): the cursor goes to the next match, nothing is hidden.
    Search,
}

/// Which view fills the space under the header: each keeps its own sort, cursor and expanded
/// rows while the other is shown; the filter is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Processes,
    /// Remote endpoints and the local processes talking to them (`H`).
    RemoteHosts,
    /// What happened: processes started and exited, listeners, first connections (`L`).
    Events,
}

/// Everything the user has chosen about the view.
#[derive(Debug, Clone)]
pub struct ViewState {
    pub sort: Sort,
    pub filter_text: String,
    pub filter: Filter,
    pub filter_error: Option<FilterError>,
    pub cursor: Option<Cursor>,
    /// Index of the line the cursor was last on: where it lands if its process exits.
    pub cursor_line: usize,
    /// First line shown.
    pub scroll: usize,
    /// Characters of the command column scrolled off to the left.
    pub command_scroll: usize,
    pub expanded: HashSet<ProcessId>,
    pub tree: bool,
    /// Kernel threads are hidden by default, as in htop: they own no sockets and crowd out the
    /// processes people come to look at.
    pub show_kernel_threads: bool,
    pub paused: bool,
    pub mode: Mode,
    pub screen: Screen,
    /// The remote-hosts view's sort, cursor and expanded rows.
    pub hosts: HostsView,
    /// The events pane's cursor and scroll.
    pub events: EventsView,
    /// A one-line message for the footer (a kill's outcome), cleared by the next key.
    pub message: Option<String>,
    /// Processes in a container are hidden (`c`).
    pub hide_containers: bool,
    /// How rows are grouped (`v`).
    pub grouping: Grouping,
    /// The groups expanded into their processes.
    pub expanded_groups: HashSet<GroupId>,
    /// The search text (F3), in the filter's language; it moves the cursor, it hides nothing.
    pub search_text: String,
    /// The search text parsed; None while it is empty or does not parse.
    pub search: Option<Filter>,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            sort: Sort {
                column: Column::Cpu,
                descending: true,
            },
            filter_text: String::new(),
            filter: Filter::default(),
            filter_error: None,
            cursor: None,
            cursor_line: 0,
            scroll: 0,
            command_scroll: 0,
            expanded: HashSet::new(),
            tree: false,
            show_kernel_threads: false,
            paused: false,
            mode: Mode::Normal,
            screen: Screen::Processes,
            hosts: HostsView::default(),
            events: EventsView::default(),
            message: None,
            hide_containers: false,
            grouping: Grouping::Off,
            expanded_groups: HashSet::new(),
            search_text: String::new(),
            search: None,
        }
    }
}

impl ViewState {
    /// Re-parses the filter after an edit. A bad term keeps the last good filter in force and
    /// shows the error, so the table never empties because of a half-typed term.
    pub fn set_filter_text(&mut self, text: String) {
        match Filter::parse(&text) {
            Ok(filter) => {
                self.filter = filter;
                self.filter_error = None;
            }
            Err(e) => self.filter_error = Some(e),
        }
        self.filter_text = text;
    }

    /// Drops the filter entirely.
    pub fn clear_filter(&mut self) {
        self.filter_text.clear();
        self.filter = Filter::default();
        self.filter_error = None;
    }

    /// Opens or closes the detail block of `id`.
    pub fn toggle_expanded(&mut self, id: ProcessId) {
        if !self.expanded.remove(&id) {
            self.expanded.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosing_the_sort_column_again_inverts_it() {
        let sort = ViewState::default().sort;
        assert_eq!(sort.column, Column::Cpu);
        let inverted = sort.by(Column::Cpu);
        assert!(!inverted.descending);
        let by_pid = inverted.by(Column::Pid);
        assert_eq!((by_pid.column, by_pid.descending), (Column::Pid, false));
        assert_eq!(by_pid.shift(-1).column, Column::Command, "wraps around");
    }

    #[test]
    fn a_bad_filter_term_keeps_the_last_good_filter() {
        let mut view = ViewState::default();
        view.set_filter_text("port:8080".into());
        let good = view.filter.clone();
        view.set_filter_text("port:80x".into());
        assert!(view.filter_error.is_some());
        assert_eq!(view.filter, good);
    }
}
