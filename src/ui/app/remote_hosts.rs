//! The remote-hosts view's keys and cursor: the same moves as the process table's, over the
//! lines of [`crate::ui::remote_hosts::build`].

use std::collections::HashSet;

use crate::model::remote_hosts::{remote_hosts, RemoteEndpoint};
use crate::ui::keys::Action;
use crate::ui::remote_hosts::{self, HostLine};
use crate::ui::state::{Mode, Screen};

use super::{App, Control};

impl App {
    /// The remote-hosts view's lines for the current snapshot and view.
    pub fn host_lines(&self) -> Vec<HostLine<'_>> {
        match self.snapshot() {
            Some(s) => remote_hosts::build(
                &s.processes,
                &self.view.filter,
                &self.view.filter_text,
                &self.view.hosts,
            ),
            None => Vec::new(),
        }
    }

    pub(super) fn hosts_normal(&mut self, act: Action) -> Control {
        let page = self.table().rows.max(1) as isize;
        let hosts = &mut self.view.hosts;
        match act {
            Action::Quit => return Control::Quit,
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = match act {
                    Action::Up => -1,
                    Action::Down => 1,
                    Action::PageUp => -page,
                    _ => page,
                };
                self.move_host_cursor(delta);
                return Control::Redraw;
            }
            Action::Home => {
                self.move_host_cursor(isize::MIN / 2);
                return Control::Redraw;
            }
            Action::End => {
                self.move_host_cursor(isize::MAX / 2);
                return Control::Redraw;
            }
            Action::Activate => {
                if let Some(endpoint) = hosts.cursor {
                    hosts.toggle_expanded(endpoint);
                }
            }
            Action::SortHostsBy(key) => hosts.sort_by(key),
            Action::SortInvert => hosts.descending = !hosts.descending,
            Action::OpenFilter => self.view.mode = Mode::Filter,
            Action::Back if !self.view.filter_text.is_empty() => self.view.clear_filter(),
            Action::Back | Action::ToggleRemoteHosts => {
                self.view.screen = Screen::Processes;
                return Control::Redraw;
            }
            Action::TogglePause => return self.toggle_pause(),
            Action::OpenHelp => self.view.mode = Mode::Help,
            // The kill dialog, tree and columns belong to the process table.
            _ => return Control::Idle,
        }
        self.settle_host_cursor();
        Control::Redraw
    }

    /// Moves the cursor `delta` endpoint rows and scrolls to it.
    pub(super) fn move_host_cursor(&mut self, delta: isize) {
        let rows: Vec<(usize, RemoteEndpoint)> = self
            .host_lines()
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.cursor().map(|c| (i, c)))
            .collect();
        if rows.is_empty() {
            return;
        }
        let hosts = &self.view.hosts;
        let current = hosts
            .cursor
            .and_then(|c| rows.iter().position(|(_, e)| *e == c))
            .unwrap_or(0) as isize;
        let target = (current + delta).clamp(0, rows.len() as isize - 1) as usize;
        let (line, endpoint) = rows[target];
        self.view.hosts.cursor = Some(endpoint);
        self.view.hosts.cursor_line = line;
        self.scroll_to_host_cursor();
    }

    /// Keeps the cursor on an endpoint that is still listed (following it across re-sorts and
    /// refreshes); when it is gone, on the row now where it was.
    pub(super) fn settle_host_cursor(&mut self) {
        let rows: Vec<(usize, RemoteEndpoint)> = self
            .host_lines()
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.cursor().map(|c| (i, c)))
            .collect();
        let hosts = &self.view.hosts;
        let found = hosts
            .cursor
            .and_then(|c| rows.iter().find(|(_, e)| *e == c))
            .or_else(|| {
                rows.iter()
                    .find(|(i, _)| *i >= hosts.cursor_line)
                    .or(rows.last())
            })
            .copied();
        let (line, cursor) = match found {
            Some((line, endpoint)) => (line, Some(endpoint)),
            None => (0, None),
        };
        self.view.hosts.cursor = cursor;
        self.view.hosts.cursor_line = line;
        self.scroll_to_host_cursor();
    }

    fn scroll_to_host_cursor(&mut self) {
        let rows = self.table().rows.max(1);
        let hosts = &mut self.view.hosts;
        let line = hosts.cursor_line;
        if line < hosts.scroll {
            hosts.scroll = line;
        } else if line >= hosts.scroll + rows {
            hosts.scroll = line + 1 - rows;
        }
    }

    /// Drops expanded endpoints no connection goes to any more, so the set does not grow
    /// forever on a host with churning clients.
    pub(super) fn forget_gone_hosts(&mut self) {
        let Some(snapshot) = self.snapshot() else {
            return;
        };
        let present: HashSet<RemoteEndpoint> = remote_hosts(&snapshot.processes)
            .iter()
            .map(|h| h.endpoint)
            .collect();
        self.view.hosts.expanded.retain(|e| present.contains(e));
    }
}
