//! The events pane's keys and cursor: the same moves as the process table's, over the lines
//! of [`crate::ui::events::lines`], and Enter to go from an event to its process.

use crate::ui::events::{self, LoggedEvent};
use crate::ui::keys::Action;
use crate::ui::state::{Cursor, Mode, ProcessId, Screen};

use super::{App, Control};

impl App {
    /// The events pane's lines for the current filter, newest first.
    pub fn event_lines(&self) -> Vec<&LoggedEvent> {
        events::lines(&self.events, &self.view.filter, self.launched_ms)
    }

    pub(super) fn events_normal(&mut self, act: Action) -> Control {
        let page = self.table().rows.max(1) as isize;
        match act {
            Action::Quit => return Control::Quit,
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = match act {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -page,
                    _ => page,
                };
                self.move_event_cursor(delta);
                return Control::Redraw;
            }
            Action::Home => {
                self.move_event_cursor(isize::MIN / 2);
                return Control::Redraw;
            }
            Action::End => {
                self.move_event_cursor(isize::MAX / 2);
                return Control::Redraw;
            }
            Action::Activate => return self.jump_to_event_process(),
            Action::OpenFilter => self.view.mode = Mode::Filter,
            Action::Back if !self.view.filter_text.is_empty() => self.view.clear_filter(),
            Action::Back | Action::ToggleEvents => {
                self.view.screen = Screen::Processes;
                self.settle_cursor();
                return Control::Redraw;
            }
            Action::TogglePause => return self.toggle_pause(),
            Action::OpenHelp => self.view.mode = Mode::Help,
            // Sorting, the tree, the kill dialog belong to the process table.
            _ => return Control::Idle,
        }
        self.settle_event_cursor();
        Control::Redraw
    }

    /// Enter on an event: back to the table with its process selected, while the process is
    /// listed (alive, or exited and still shown greyed); otherwise a word in the footer.
    fn jump_to_event_process(&mut self) -> Control {
        let Some(event) = self.view.events.cursor.and_then(|seq| self.events.get(seq)) else {
            return Control::Idle;
        };
        let id = ProcessId {
            pid: event.pid,
            start_time_ms: event.start_time_ms,
        };
        let who = format!("{} ({})", event.pid, event.name);
        let Some(process) = self.find(id) else {
            self.view.message = Some(format!("{who} is no longer listed"));
            return Control::Redraw;
        };
        let (kernel_thread, shown_by_filter) =
            (process.kernel_thread, self.view.filter.matches(process));
        if !shown_by_filter {
            self.view.clear_filter();
            self.view.message = Some(format!("filter cleared to show {who}"));
        }
        if kernel_thread {
            self.view.show_kernel_threads = true;
        }
        self.view.screen = Screen::Processes;
        self.view.cursor = Some(Cursor::process(id));
        self.settle_cursor();
        Control::Redraw
    }

    /// Moves the cursor `delta` events and scrolls to it.
    pub(super) fn move_event_cursor(&mut self, delta: isize) {
        let seqs: Vec<u64> = self.event_lines().iter().map(|l| l.seq).collect();
        if seqs.is_empty() {
            return;
        }
        let view = &self.view.events;
        let current = view
            .cursor
            .and_then(|c| seqs.iter().position(|s| *s == c))
            .unwrap_or(0) as isize;
        let target = (current + delta).clamp(0, seqs.len() as isize - 1) as usize;
        self.view.events.cursor = Some(seqs[target]);
        self.view.events.cursor_line = target;
        self.scroll_to_event_cursor();
    }

    /// On the top line the cursor follows the newest event, as `tail -f` does; lower down it
    /// keeps to its event while the event is listed (newer ones push it down), and when that
    /// is gone (filtered out, or dropped as the oldest) to the line where it was.
    pub(super) fn settle_event_cursor(&mut self) {
        let seqs: Vec<u64> = self.event_lines().iter().map(|l| l.seq).collect();
        let view = &self.view.events;
        let at_line = |line: usize| (!seqs.is_empty()).then(|| line.min(seqs.len() - 1));
        let found = if view.cursor_line == 0 {
            at_line(0)
        } else {
            view.cursor
                .and_then(|c| seqs.iter().position(|s| *s == c))
                .or_else(|| at_line(view.cursor_line))
        };
        let (line, cursor) = match found {
            Some(line) => (line, Some(seqs[line])),
            None => (0, None),
        };
        self.view.events.cursor = cursor;
        self.view.events.cursor_line = line;
        self.scroll_to_event_cursor();
    }

    fn scroll_to_event_cursor(&mut self) {
        let rows = self.table().rows.max(1);
        let view = &mut self.view.events;
        let line = view.cursor_line;
        if line < view.scroll {
            view.scroll = line;
        } else if line >= view.scroll + rows {
            view.scroll = line + 1 - rows;
        }
    }
}
