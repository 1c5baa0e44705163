//! Search (htop's F3): type text in the filter's language and the cursor goes to the next row
//! that matches, hiding nothing; `n` (or F3 again in the prompt) goes on to the next, wrapping.

use crate::model::Filter;
use crate::ui::keys::Action;
use crate::ui::rows::Line;
use crate::ui::state::Mode;

use super::{App, Control};

impl App {
    pub(super) fn searching(&mut self, act: Action) -> Control {
        match act {
            Action::Quit => return Control::Quit,
            Action::Type(c) => {
                let mut text = self.view.search_text.clone();
                text.push(c);
                self.set_search_text(text);
                // As you type, the cursor stays on a row that still matches.
                self.search_next(0);
            }
            Action::Backspace => {
                let mut text = self.view.search_text.clone();
                text.pop();
                self.set_search_text(text);
                self.search_next(0);
            }
            Action::SearchNext => self.search_next(1),
            Action::Confirm => self.view.mode = Mode::Normal,
            Action::Cancel => {
                self.set_search_text(String::new());
                self.view.mode = Mode::Normal;
            }
            Action::Ignore => return Control::Idle,
            _ => {}
        }
        Control::Redraw
    }

    fn set_search_text(&mut self, text: String) {
        self.view.search = Filter::parse(&text).ok().filter(|f| !f.is_empty());
        self.view.search_text = text;
    }

    /// Moves the cursor to the first process row that matches the search, starting `skip`
    /// rows after the cursor's (0: the cursor's own row counts), wrapping at the end.
    pub(super) fn search_next(&mut self, skip: usize) {
        let Some(search) = self.view.search.clone() else {
            if self.view.mode != Mode::Search {
                self.view.message = Some("no search (F3 to search)".to_owned());
            }
            return;
        };
        let lines = self.lines();
        let matching: Vec<(usize, crate::ui::state::Cursor)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| match line {
                Line::Process { process, .. } if search.matches(process) => {
                    line.cursor().map(|c| (i, c))
                }
                _ => None,
            })
            .collect();
        drop(lines);
        let from = self.view.cursor_line + skip;
        let found = matching
            .iter()
            .find(|(i, _)| *i >= from)
            .or_else(|| matching.first());
        match found {
            Some(&(line, cursor)) => {
                self.view.cursor = Some(cursor);
                self.view.cursor_line = line;
                self.scroll_to_cursor();
            }
            None => {
                self.view.message = Some(format!(
                    "no row matches the search `{}`",
                    self.view.search_text
                ))
            }
        }
    }
}
