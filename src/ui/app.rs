//! The explorer's state machine: snapshots and input in, view-state changes out. No terminal,
//! no /proc: the event loop in `run` feeds it, the renderer reads it.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyEvent, MouseButton, MouseEvent, MouseEventKind};

use crate::baseline::Baseline;
use crate::model::{Filter, Process, Snapshot};
use crate::uplink::UplinkStatus;

use super::column_chooser::{self, ColumnChooser, Outcome};
use super::columns::Column;
use super::events::EventLog;
use super::ghosts::Ghosts;
use super::keys::{action, Action};
use super::layout::TableLayout;
use super::rows::{self, Line};
use super::state::{
    Cursor, Grouping, KillDialog, Mode, ProcessId, Screen, Sort, ViewState, SIGNALS,
};
use crate::config::save_columns::save_columns;

/// What the event loop should do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Draw a new frame.
    Redraw,
    /// Nothing visible changed.
    Idle,
    Quit,
}

/// Acts on processes for the kill and renice dialogs; a trait so tests can watch without
/// killing or renicing anything.
pub trait Signaller {
    /// Sends `signal` to the process `target`; Err carries the message to show (EPERM, gone).
    fn send(&mut self, target: ProcessId, signal: i32) -> Result<(), String>;

    /// Changes the nice value of `target`; Ok carries the value set, Err the message to show
    /// (EACCES, EPERM, gone).
    fn renice(&mut self, target: ProcessId, change: NiceChange) -> Result<i32, String>;
}

/// A change of nice value: by a step (F7, F8) or to a value (the renice dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NiceChange {
    By(i32),
    To(i32),
}

/// The real thing: a signal to the process with that pid *and* start time (through a pidfd),
/// so a pid reused since the snapshot on screen is never signalled; likewise a renice.
pub struct KillSignaller;

impl Signaller for KillSignaller {
    fn send(&mut self, target: ProcessId, signal: i32) -> Result<(), String> {
        crate::sample::signal_process(target.pid, target.start_time_ms, signal)
            .map_err(|e| e.to_string())
    }

    fn renice(&mut self, target: ProcessId, change: NiceChange) -> Result<i32, String> {
        let (pid, started) = (target.pid, target.start_time_ms);
        let nice = match change {
            NiceChange::To(nice) => nice,
            NiceChange::By(step) => crate::sample::nice_of(pid, started)
                .map_err(|e| e.to_string())?
                .saturating_add(step),
        };
        crate::sample::renice_process(pid, started, nice).map_err(|e| e.to_string())
    }
}

/// `ui.exited_linger`'s default, for explorers built without a configuration (tests, benches).
pub const DEFAULT_EXITED_LINGER: Duration = Duration::from_secs(60);

/// How the explorer starts: what the user configured, and how signals are sent.
pub struct AppOptions {
    /// The sort in force at start (the configuration's `ui.sort`).
    pub sort: Sort,
    /// The columns shown, in order.
    pub columns: Vec<Column>,
    /// Set when collection is switched off: the reason, shown instead of a table.
    pub disabled: Option<String>,
    /// The uplink's state, when one runs beside the explorer.
    pub uplink: Option<Arc<Mutex<UplinkStatus>>>,
    /// `--baseline FILE`: each snapshot is judged against it as it arrives.
    pub baseline: Option<Arc<Baseline>>,
    /// How long an exited process stays listed (`ui.exited_linger`; zero: one refresh).
    pub exited_linger: Duration,
    pub signaller: Box<dyn Signaller>,
    /// Where the column chooser saves `ui.columns` when asked (the user's config file).
    pub config_file: Option<PathBuf>,
}

impl AppOptions {
    /// The default columns, sorted by CPU, signals sent with `signaller`.
    pub fn new(signaller: Box<dyn Signaller>) -> AppOptions {
        AppOptions {
            sort: ViewState::default().sort,
            columns: Column::DEFAULT.to_vec(),
            disabled: None,
            uplink: None,
            baseline: None,
            exited_linger: DEFAULT_EXITED_LINGER,
            signaller,
            config_file: None,
        }
    }
}

/// The explorer's whole state.
pub struct App {
    /// The snapshot on screen.
    snapshot: Option<Arc<Snapshot>>,
    /// A newer snapshot held back while paused.
    pending: Option<Arc<Snapshot>>,
    /// Processes that have exited, shown greyed for `exited_linger`.
    ghosts: Ghosts,
    /// The events the snapshots brought, for the events pane.
    events: EventLog,
    /// When the sampler started, on the start-time clock (the first snapshot's first reading):
    /// what an event's start time is compared with to tell whether its process is new.
    launched_ms: Option<u64>,
    /// What the user has chosen to see; tests set it up directly.
    pub view: ViewState,
    /// Where the table was drawn last, for paging and mouse hits.
    table: TableLayout,
    columns: Vec<Column>,
    /// Set once the columns were picked in the chooser: shown as they are, with no SERVICE or
    /// CONTAINER added (see [`super::columns::shown`]).
    columns_chosen: bool,
    config_file: Option<PathBuf>,
    disabled: Option<String>,
    uplink: Option<Arc<Mutex<UplinkStatus>>>,
    /// The baseline given with `--baseline` (the sampler judges each snapshot against it; here
    /// it says whether there is one to count against).
    baseline: Option<Arc<Baseline>>,
    signaller: Box<dyn Signaller>,
    /// Counts the snapshots applied: what the cached order belongs to.
    generation: u64,
    /// The table's order for one snapshot and view, kept across frames and keys until either
    /// changes: at tens of thousands of processes, filtering and sorting is most of a frame.
    order: RefCell<Option<(OrderKey, rows::Order)>>,
}

/// What the table's order depends on.
#[derive(Debug, Clone)]
struct OrderKey {
    generation: u64,
    sort: Sort,
    filter: Filter,
    tree: bool,
    show_kernel_threads: bool,
    hide_containers: bool,
    grouping: Grouping,
}

impl OrderKey {
    /// Whether the order made under this key still holds for `app` (compared in place: a frame
    /// asks for the lines several times, and nothing is copied to ask).
    fn fits(&self, app: &App) -> bool {
        self.generation == app.generation
            && self.sort == app.view.sort
            && self.filter == app.view.filter
            && self.tree == app.view.tree
            && self.show_kernel_threads == app.view.show_kernel_threads
            && self.hide_containers == app.view.hide_containers
            && self.grouping == app.view.grouping
    }
}

impl App {
    pub fn new(options: AppOptions) -> App {
        App {
            snapshot: None,
            pending: None,
            ghosts: Ghosts::new(options.exited_linger),
            events: EventLog::default(),
            launched_ms: None,
            view: ViewState {
                sort: options.sort,
                ..ViewState::default()
            },
            table: TableLayout::default(),
            columns: options.columns,
            columns_chosen: false,
            config_file: options.config_file,
            disabled: options.disabled,
            uplink: options.uplink,
            baseline: options.baseline,
            signaller: options.signaller,
            generation: 0,
            order: RefCell::new(None),
        }
    }

    /// The snapshot on screen.
    pub fn snapshot(&self) -> Option<&Arc<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// Processes that have exited and are still listed, greyed, oldest first.
    pub fn ghosts(&self) -> &[Process] {
        self.ghosts.processes()
    }

    /// Where the table was drawn last.
    pub fn table(&self) -> &TableLayout {
        &self.table
    }

    /// The columns shown, in order: those configured or chosen, with SERVICE and CONTAINER
    /// added to the default list on a host that has them.
    pub fn columns(&self) -> Vec<Column> {
        if self.columns_chosen {
            return self.columns.clone();
        }
        super::columns::shown(&self.columns, self.snapshot.as_deref())
    }

    /// Why collection is off, when it is.
    pub fn disabled(&self) -> Option<&str> {
        self.disabled.as_deref()
    }

    /// The uplink's state, when one runs beside the explorer.
    pub fn uplink(&self) -> Option<&Arc<Mutex<UplinkStatus>>> {
        self.uplink.as_ref()
    }

    /// How many processes on screen are outside the baseline (the sampler judged them:
    /// `Process::unexpected`); None without one.
    pub fn unexpected_count(&self) -> Option<usize> {
        self.baseline.as_ref()?;
        let snapshot = self.snapshot.as_ref()?;
        let unexpected = snapshot
            .processes
            .iter()
            .filter(|p| p.unexpected == Some(true));
        Some(unexpected.count())
    }

    /// The table's lines for the current snapshot and view.
    pub fn lines(&self) -> Vec<Line<'_>> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let mut cached = self.order.borrow_mut();
        if cached.as_ref().is_none_or(|(was, _)| !was.fits(self)) {
            let key = OrderKey {
                generation: self.generation,
                sort: self.view.sort,
                filter: self.view.filter.clone(),
                tree: self.view.tree,
                show_kernel_threads: self.view.show_kernel_threads,
                hide_containers: self.view.hide_containers,
                grouping: self.view.grouping,
            };
            let order = rows::order(&s.processes, self.ghosts.processes(), &self.view);
            *cached = Some((key, order));
        }
        let order = cached
            .as_ref()
            .map(|(_, order)| order.as_slice())
            .unwrap_or_default();
        rows::build_in_order(
            order,
            &s.processes,
            self.ghosts.processes(),
            &self.view,
            s.collection.connections_collected,
            usize::from(self.table.area.width),
        )
    }

    /// A new snapshot from the sampler.
    pub fn on_snapshot(&mut self, snapshot: Arc<Snapshot>) -> Control {
        // Kept apart from the snapshot, which a pause replaces by the next: no event is lost.
        self.events.receive(&snapshot.events);
        self.launched_ms
            .get_or_insert_with(|| snapshot.first_reading_ms());
        if self.view.paused {
            self.pending = Some(snapshot);
            return Control::Idle;
        }
        self.apply(snapshot);
        Control::Redraw
    }

    fn apply(&mut self, snapshot: Arc<Snapshot>) {
        let live: HashSet<ProcessId> = snapshot.processes.iter().map(ProcessId::of).collect();
        if let Some(old) = &self.snapshot {
            self.ghosts.advance(old, &snapshot, &live);
        }
        self.events.show_held();
        let ghosts: HashSet<ProcessId> = self.ghosts().iter().map(ProcessId::of).collect();
        self.view
            .expanded
            .retain(|id| live.contains(id) || ghosts.contains(id));
        self.snapshot = Some(snapshot);
        self.generation += 1;
        self.forget_gone_hosts();
        self.settle_cursor();
        self.settle_host_cursor();
        self.settle_event_cursor();
    }

    /// The sampler failed: say so in the footer and keep showing the last snapshot.
    pub fn on_sample_error(&mut self, error: String) -> Control {
        self.view.message = Some(format!("sampling failed: {error}"));
        Control::Redraw
    }

    /// Handles a key press.
    pub fn on_key(&mut self, key: KeyEvent) -> Control {
        let act = action(&self.view.mode, self.view.screen, key);
        if act != Action::Ignore {
            self.view.message = None;
        }
        match self.view.mode.clone() {
            Mode::Normal if self.view.screen == Screen::RemoteHosts => self.hosts_normal(act),
            Mode::Normal if self.view.screen == Screen::Events => self.events_normal(act),
            Mode::Normal => self.normal(act),
            Mode::Filter => self.filtering(act),
            Mode::Help => match act {
                Action::Quit => Control::Quit,
                _ => {
                    self.view.mode = Mode::Normal;
                    Control::Redraw
                }
            },
            Mode::SortPicker(at) => self.sort_picker(at, act),
            Mode::Kill(dialog) => self.kill_dialog(dialog, act),
            Mode::Columns(chooser) => self.choose_columns(chooser, act),
            Mode::Renice(dialog) => self.renice_dialog(dialog, act),
            Mode::Search => self.searching(act),
        }
    }

    fn choose_columns(&mut self, chooser: ColumnChooser, act: Action) -> Control {
        if act == Action::Quit {
            return Control::Quit;
        }
        self.view.mode = Mode::Normal;
        match column_chooser::on_action(chooser, act) {
            Outcome::Editing(chooser) => self.view.mode = Mode::Columns(chooser),
            Outcome::Cancel => {}
            Outcome::Apply(columns) => self.set_columns(columns),
            Outcome::Save(columns) => {
                let saved = save_columns(self.config_file.as_deref(), &columns);
                self.view.message = Some(match saved {
                    Ok(path) => format!("columns saved to {} (ui.columns)", path.display()),
                    Err(error) => error.to_string(),
                });
                self.set_columns(columns);
            }
        }
        Control::Redraw
    }

    fn set_columns(&mut self, columns: Vec<Column>) {
        self.columns = columns;
        self.columns_chosen = true;
    }

    fn normal(&mut self, act: Action) -> Control {
        let page = self.table.rows.max(1) as isize;
        match act {
            Action::Quit => return Control::Quit,
            // Moving only moves: the lines are unchanged, so no settling (and no second
            // rebuild of every line) is needed.
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Home
            | Action::End => {
                let delta = match act {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -page,
                    Action::PageDown => page,
                    Action::Home => isize::MIN / 2,
                    _ => isize::MAX / 2,
                };
                self.move_cursor(delta);
                return Control::Redraw;
            }
            Action::Activate => self.activate(),
            Action::Right => match self.selected_process() {
                Some(id) if !self.view.expanded.contains(&id) => {
                    self.view.expanded.insert(id);
                }
                _ => self.view.command_scroll += 8,
            },
            Action::Left => {
                if self.view.command_scroll > 0 {
                    self.view.command_scroll = self.view.command_scroll.saturating_sub(8);
                } else if let Some(id) = self.selected_process() {
                    self.view.expanded.remove(&id);
                    self.view.cursor = Some(Cursor::process(id));
                }
            }
            Action::ScrollLeft => {
                self.view.command_scroll = self.view.command_scroll.saturating_sub(8)
            }
            Action::ScrollRight => self.view.command_scroll += 8,
            Action::ExpandAll => {
                let ids: Vec<ProcessId> = self
                    .lines()
                    .iter()
                    .filter_map(|l| match l {
                        Line::Process { process, .. } => Some(ProcessId::of(process)),
                        _ => None,
                    })
                    .collect();
                self.view.expanded.extend(ids);
            }
            Action::CollapseAll => {
                self.view.expanded.clear();
                if let Some(c) = self.view.cursor.as_mut() {
                    c.socket = None;
                }
            }
            Action::SortBy(column) => self.view.sort = Sort::natural(column),
            Action::SortNext => self.view.sort = self.view.sort.shift(1),
            Action::SortPrevious => self.view.sort = self.view.sort.shift(-1),
            Action::SortInvert => self.view.sort.descending = !self.view.sort.descending,
            Action::OpenSortPicker => {
                let at = Column::ALL
                    .iter()
                    .position(|c| *c == self.view.sort.column)
                    .unwrap_or(0);
                self.view.mode = Mode::SortPicker(at);
            }
            Action::OpenColumnChooser => {
                self.view.mode = Mode::Columns(ColumnChooser::new(&self.columns()))
            }
            Action::OpenFilter => self.view.mode = Mode::Filter,
            Action::ClearFilter => self.view.clear_filter(),
            Action::ToggleTree => self.view.tree = !self.view.tree,
            Action::ToggleKernelThreads => {
                self.view.show_kernel_threads = !self.view.show_kernel_threads
            }
            Action::TogglePause => return self.toggle_pause(),
            Action::OpenHelp => self.view.mode = Mode::Help,
            Action::OpenKill => self.open_kill(),
            Action::NiceBy(step) => self.renice_selected(NiceChange::By(step)),
            Action::OpenRenice => self.open_renice(),
            Action::ToggleContainers => self.view.hide_containers = !self.view.hide_containers,
            Action::CycleGrouping => self.cycle_grouping(),
            Action::OpenSearch => self.view.mode = Mode::Search,
            Action::SearchNext => self.search_next(1),
            Action::ToggleRemoteHosts => {
                self.view.screen = Screen::RemoteHosts;
                self.settle_host_cursor();
            }
            Action::ToggleEvents => {
                self.view.screen = Screen::Events;
                self.settle_event_cursor();
            }
            Action::Ignore => return Control::Idle,
            Action::Type(_)
            | Action::Backspace
            | Action::Confirm
            | Action::Yes
            | Action::Cancel
            | Action::SortHostsBy(_)
            | Action::ToggleColumn
            | Action::ColumnEarlier
            | Action::ColumnLater
            | Action::SaveColumns
            | Action::Back => {}
        }
        self.settle_cursor();
        Control::Redraw
    }

    /// Groups the rows the next way; the selected process's group opens, so it stays selected.
    fn cycle_grouping(&mut self) {
        let grouping = self.view.grouping.next();
        self.view.grouping = grouping;
        let Some(process) = self.selected_process().and_then(|id| self.find(id)) else {
            return;
        };
        if grouping != Grouping::Off {
            let name = super::groups::group_name(process, grouping);
            let id = super::groups::group_id(grouping, name);
            self.view.expanded_groups.insert(id);
        }
    }

    /// Freezes the display, or thaws it with the newest snapshot held back meanwhile.
    fn toggle_pause(&mut self) -> Control {
        self.view.paused = !self.view.paused;
        if !self.view.paused {
            if let Some(newer) = self.pending.take() {
                self.apply(newer);
            }
        }
        Control::Redraw
    }

    fn filtering(&mut self, act: Action) -> Control {
        match act {
            Action::Quit => return Control::Quit,
            Action::Type(c) => {
                let mut text = self.view.filter_text.clone();
                text.push(c);
                self.view.set_filter_text(text);
            }
            Action::Backspace => {
                let mut text = self.view.filter_text.clone();
                text.pop();
                self.view.set_filter_text(text);
            }
            Action::Confirm => self.view.mode = Mode::Normal,
            Action::Cancel => {
                self.view.clear_filter();
                self.view.mode = Mode::Normal;
            }
            Action::Up if self.view.screen == Screen::RemoteHosts => self.move_host_cursor(-1),
            Action::Down if self.view.screen == Screen::RemoteHosts => self.move_host_cursor(1),
            Action::Up if self.view.screen == Screen::Events => self.move_event_cursor(-1),
            Action::Down if self.view.screen == Screen::Events => self.move_event_cursor(1),
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::Ignore => return Control::Idle,
            _ => {}
        }
        self.view.scroll = 0;
        self.view.hosts.scroll = 0;
        self.view.events.scroll = 0;
        self.settle_cursor();
        self.settle_host_cursor();
        self.settle_event_cursor();
        Control::Redraw
    }

    fn sort_picker(&mut self, at: usize, act: Action) -> Control {
        let count = Column::ALL.len();
        self.view.mode = match act {
            Action::Up => Mode::SortPicker((at + count - 1) % count),
            Action::Down => Mode::SortPicker((at + 1) % count),
            Action::Confirm | Action::Yes => {
                let column = Column::ALL[at.min(count - 1)];
                if column != self.view.sort.column {
                    self.view.sort = self.view.sort.by(column);
                }
                Mode::Normal
            }
            Action::Cancel => Mode::Normal,
            Action::Quit => return Control::Quit,
            _ => return Control::Idle,
        };
        self.settle_cursor();
        Control::Redraw
    }

    fn open_kill(&mut self) {
        let Some(id) = self.selected_process() else {
            return;
        };
        let Some(process) = self.find(id) else { return };
        self.view.mode = Mode::Kill(KillDialog {
            target: id,
            name: process.name.clone(),
            signal: 0,
            confirming: false,
        });
    }

    fn kill_dialog(&mut self, mut dialog: KillDialog, act: Action) -> Control {
        match act {
            Action::Up if !dialog.confirming => {
                dialog.signal = (dialog.signal + SIGNALS.len() - 1) % SIGNALS.len()
            }
            Action::Down if !dialog.confirming => {
                dialog.signal = (dialog.signal + 1) % SIGNALS.len()
            }
            Action::Type(digit) if !dialog.confirming => {
                if let Some(i) = digit.to_digit(10).map(|d| d as usize) {
                    if (1..=SIGNALS.len()).contains(&i) {
                        dialog.signal = i - 1;
                    }
                }
            }
            Action::Confirm | Action::Yes if !dialog.confirming => dialog.confirming = true,
            // Sent only on a plain `y`: Enter picked the signal, a second Enter must not
            // send it.
            Action::Yes => {
                self.view.mode = Mode::Normal;
                self.view.message = Some(self.send_signal(&dialog));
                return Control::Redraw;
            }
            Action::Cancel => {
                self.view.mode = Mode::Normal;
                return Control::Redraw;
            }
            Action::Quit => return Control::Quit,
            _ => return Control::Idle,
        }
        self.view.mode = Mode::Kill(dialog);
        Control::Redraw
    }

    fn send_signal(&mut self, dialog: &KillDialog) -> String {
        let (name, number) = SIGNALS[dialog.signal.min(SIGNALS.len() - 1)];
        let pid = dialog.target.pid;
        // The pid may have been reused since the snapshot: never signal a stranger.
        let still_there = self.snapshot.as_ref().is_some_and(|s| {
            s.process(pid)
                .is_some_and(|p| ProcessId::of(p) == dialog.target)
        });
        if !still_there {
            return format!("{pid} ({}) has exited; no signal sent", dialog.name);
        }
        match self.signaller.send(dialog.target, number) {
            Ok(()) => format!("sent SIG{name} to {pid} ({})", dialog.name),
            Err(why) => format!("SIG{name} to {pid} ({}) failed: {why}", dialog.name),
        }
    }

    /// Handles a mouse event inside the last drawn layout.
    pub fn on_mouse(&mut self, mouse: MouseEvent) -> Control {
        // The mouse works on the process table only; the remote-hosts view is keyboard-driven.
        if self.view.mode != Mode::Normal || self.view.screen != Screen::Processes {
            return Control::Idle;
        }
        match mouse.kind {
            MouseEventKind::ScrollDown => self.move_cursor(3),
            MouseEventKind::ScrollUp => self.move_cursor(-3),
            MouseEventKind::Down(MouseButton::Left) => {
                if let Some(column) = self.table.column_at(mouse.column, mouse.row) {
                    self.view.sort = self.view.sort.by(column);
                } else if let Some(line) = self.table.line_at(mouse.row) {
                    let index = self.view.scroll + line;
                    let clicked = self.lines().get(index).and_then(Line::cursor);
                    match clicked {
                        Some(c) if Some(c) == self.view.cursor => {
                            return self.normal(Action::Activate)
                        }
                        Some(c) => {
                            self.view.cursor = Some(c);
                            self.view.cursor_line = index;
                        }
                        None => return Control::Idle,
                    }
                } else {
                    return Control::Idle;
                }
            }
            _ => return Control::Idle,
        }
        self.settle_cursor();
        Control::Redraw
    }

    fn activate(&mut self) {
        let Some(cursor) = self.view.cursor else {
            return;
        };
        if let Some(group) = cursor.group {
            if !self.view.expanded_groups.remove(&group) {
                self.view.expanded_groups.insert(group);
            }
            return;
        }
        match cursor.socket {
            None => self.view.toggle_expanded(cursor.process),
            Some(inode) => self.jump_to_peer(cursor.process, inode),
        }
    }

    /// Moves the selection to the process on the other end of the selected connection.
    fn jump_to_peer(&mut self, owner: ProcessId, inode: u64) {
        let Some(snapshot) = self.snapshot.clone() else {
            return;
        };
        let peer = self
            .find(owner)
            .and_then(|p| p.connections.iter().find(|c| c.inode == inode))
            .and_then(|c| c.peer_pid);
        let Some(peer) = peer.and_then(|pid| snapshot.process(pid)) else {
            self.view.message = Some("no local peer for this connection".to_owned());
            return;
        };
        if !self.view.filter.matches(peer) {
            self.view.clear_filter();
            self.view.message = Some("filter cleared to show the peer".to_owned());
        }
        self.view.cursor = Some(Cursor::process(ProcessId::of(peer)));
    }

    fn find(&self, id: ProcessId) -> Option<&Process> {
        let snapshot = self.snapshot.as_ref()?;
        snapshot
            .process(id.pid)
            .filter(|p| ProcessId::of(p) == id)
            .or_else(|| self.ghosts.find(id))
    }

    /// The process the cursor is on (or inside the detail block of); None on a group row.
    pub fn selected_process(&self) -> Option<ProcessId> {
        self.view
            .cursor
            .filter(|c| c.group.is_none())
            .map(|c| c.process)
    }

    /// Moves the cursor `delta` selectable lines and scrolls to it. The lines it picks from are
    /// the current ones, so nothing is left to settle afterwards.
    fn move_cursor(&mut self, delta: isize) {
        let lines = self.lines();
        let selectable: Vec<(usize, Cursor)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.cursor().map(|c| (i, c)))
            .collect();
        if selectable.is_empty() {
            return;
        }
        let current = self
            .view
            .cursor
            .and_then(|c| selectable.iter().position(|(_, s)| *s == c))
            .unwrap_or(0) as isize;
        let target = (current + delta).clamp(0, selectable.len() as isize - 1) as usize;
        let (line, cursor) = selectable[target];
        self.view.cursor = Some(cursor);
        self.view.cursor_line = line;
        self.scroll_to_cursor();
    }

    /// Keeps the cursor on a line that exists (following its process across re-sorts and
    /// refreshes) and scrolls so that line is visible.
    fn settle_cursor(&mut self) {
        let lines = self.lines();
        let position = self
            .view
            .cursor
            .and_then(|c| lines.iter().position(|l| l.cursor() == Some(c)))
            .or_else(|| {
                // The socket line is gone (connection closed): fall back to its process row.
                let process = self.view.cursor?.process;
                lines
                    .iter()
                    .position(|l| l.cursor() == Some(Cursor::process(process)))
            });
        let (line, cursor) = match position {
            Some(i) => (i, lines[i].cursor()),
            None => {
                // The process left the view: take whatever now sits where it was.
                let from = self.view.cursor_line.min(lines.len().saturating_sub(1));
                let found = lines[from..]
                    .iter()
                    .enumerate()
                    .find_map(|(i, l)| l.cursor().map(|c| (from + i, c)))
                    .or_else(|| {
                        lines[..from]
                            .iter()
                            .enumerate()
                            .rev()
                            .find_map(|(i, l)| l.cursor().map(|c| (i, c)))
                    });
                match found {
                    Some((i, c)) => (i, Some(c)),
                    None => (0, None),
                }
            }
        };
        drop(lines);
        self.view.cursor = cursor;
        self.view.cursor_line = line;
        self.scroll_to_cursor();
    }

    /// Scrolls so the cursor's line is on screen.
    fn scroll_to_cursor(&mut self) {
        let line = self.view.cursor_line;
        let rows = self.table.rows.max(1);
        if line < self.view.scroll {
            self.view.scroll = line;
        } else if line >= self.view.scroll + rows {
            self.view.scroll = line + 1 - rows;
        }
    }

    /// Called after a draw with the table's new geometry, so paging and scrolling use it.
    pub fn set_table_layout(&mut self, table: TableLayout) {
        let changed = table.rows != self.table.rows;
        self.table = table;
        if changed {
            self.settle_cursor();
            self.settle_host_cursor();
            self.settle_event_cursor();
        }
    }
}

mod events;
mod remote_hosts;
mod renice;
mod search;
#[cfg(test)]
mod tests;
