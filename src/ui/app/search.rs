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

    /// A half-typed term (`port:80x`) leaves no search in force and says why, as the filter
    /// does.
    fn set_search_text(&mut self, text: String) {
        match Filter::parse(&text) {
            Ok(search) => self.view.search = Some(search).filter(|f| !f.is_empty()),
            Err(e) => {
                self.view.search = None;
                self.view.message = Some(format!("✗ {e}"));
            }
        }
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

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent};

    use crate::ui::app::App;
    use crate::ui::fixture::{self, screen};
    use crate::ui::state::{Grouping, Mode};

    fn key(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::from(code));
    }

    fn selected_pid(app: &App) -> Option<u32> {
        app.selected_process().map(|id| id.pid)
    }

    /// F3 and a word: the cursor goes to the first row matching; n to the next, wrapping; no
    /// row is hidden meanwhile.
    #[test]
    fn search_moves_to_each_match_in_turn_and_wraps_without_filtering() {
        let mut app = fixture::app();
        let rows_before = app.lines().len();
        screen(&mut app, 120, 30);
        key(&mut app, KeyCode::F(3));
        assert_eq!(app.view.mode, Mode::Search);
        for c in "user:app".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        // Typing searches from the cursor on: `u` found postgres (/usr/...), then `user:a`
        // the next of app's processes after it. By CPU they are node (12.5), evil (1.0),
        // curl (0.5), bash (0.0).
        assert_eq!(selected_pid(&app), Some(1500));
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.view.mode, Mode::Normal);
        let mut seen = vec![selected_pid(&app)];
        for _ in 0..4 {
            key(&mut app, KeyCode::Char('n'));
            seen.push(selected_pid(&app));
        }
        let seen: Vec<u32> = seen.into_iter().flatten().collect();
        assert_eq!(seen, [1500, 1300, 1250, 1200, 1500], "wraps to the first");
        assert_eq!(app.lines().len(), rows_before, "nothing filtered");
        assert!(screen(&mut app, 120, 30).contains("postgres"));
    }

    #[test]
    fn a_search_nothing_matches_says_so_and_n_without_one_too() {
        let mut app = fixture::app();
        screen(&mut app, 120, 30);
        key(&mut app, KeyCode::Char('n'));
        assert!(app
            .view
            .message
            .as_deref()
            .unwrap_or("")
            .contains("no search"));
        key(&mut app, KeyCode::F(3));
        for c in "nosuch".chars() {
            key(&mut app, KeyCode::Char(c));
        }
        key(&mut app, KeyCode::F(3));
        let text = screen(&mut app, 120, 30);
        assert!(
            text.contains("no row matches the search `nosuch`"),
            "{text}"
        );
    }

    /// Grouping keeps the selected process selected (its group opens); on a group row Enter
    /// collapses and expands it, and kill and renice have no process there to act on.
    #[test]
    fn a_group_row_expands_and_is_no_process_to_act_on() {
        let mut app = fixture::attributed_app();
        screen(&mut app, 120, 30);
        assert_eq!(selected_pid(&app), Some(1200), "node, the busiest");
        key(&mut app, KeyCode::Char('v'));
        assert_eq!(app.view.grouping, Grouping::Service);
        assert_eq!(selected_pid(&app), Some(1200), "still node, in app.service");
        key(&mut app, KeyCode::Up);
        assert!(app.view.cursor.is_some_and(|c| c.group.is_some()));
        assert_eq!(app.selected_process(), None);
        key(&mut app, KeyCode::Char('k'));
        key(&mut app, KeyCode::Char('r'));
        assert_eq!(app.view.mode, Mode::Normal, "no dialog on a group");
        let rows = app.lines().len();
        key(&mut app, KeyCode::Enter);
        assert_eq!(
            app.lines().len(),
            rows - 2,
            "collapsed: node and postgres go"
        );
        key(&mut app, KeyCode::Enter);
        key(&mut app, KeyCode::Down);
        assert_eq!(selected_pid(&app), Some(1200));
        key(&mut app, KeyCode::Char('v'));
        assert_eq!(app.view.grouping, Grouping::Container);
        assert_eq!(selected_pid(&app), Some(1200), "in web-1");
        key(&mut app, KeyCode::Char('v'));
        assert_eq!(app.view.grouping, Grouping::Off);
        assert_eq!(selected_pid(&app), Some(1200));
    }
}
