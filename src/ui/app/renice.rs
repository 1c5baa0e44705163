//! Renice: F7 / F8 step the selected process's nice value, `r` opens a dialog to type one.
//! The same identity guard as the kill dialog: the process on screen must still be the one
//! with that pid and start time, or nothing is done.

use crate::ui::keys::Action;
use crate::ui::state::{Mode, ProcessId, ReniceDialog};

use super::{App, Control, NiceChange};

impl App {
    pub(super) fn open_renice(&mut self) {
        let Some(id) = self.selected_process() else {
            self.view.message = Some("select a process to renice".to_owned());
            return;
        };
        let Some(process) = self.find(id) else { return };
        self.view.mode = Mode::Renice(ReniceDialog {
            target: id,
            name: process.name.clone(),
            text: String::new(),
        });
    }

    /// F7 / F8 on the selected process.
    pub(super) fn renice_selected(&mut self, change: NiceChange) {
        let Some(id) = self.selected_process() else {
            self.view.message = Some("select a process to renice".to_owned());
            return;
        };
        let Some(name) = self.find(id).map(|p| p.name.clone()) else {
            return;
        };
        self.view.message = Some(self.renice(id, &name, change));
    }

    pub(super) fn renice_dialog(&mut self, mut dialog: ReniceDialog, act: Action) -> Control {
        match act {
            Action::Type(c) if dialog.text.len() < 4 => dialog.text.push(c),
            Action::Backspace => {
                dialog.text.pop();
            }
            Action::Confirm => {
                self.view.mode = Mode::Normal;
                self.view.message = Some(match dialog.text.parse::<i32>() {
                    Ok(nice) => self.renice(dialog.target, &dialog.name, NiceChange::To(nice)),
                    Err(_) => format!("`{}` is not a nice value (-20 to 19)", dialog.text),
                });
                return Control::Redraw;
            }
            Action::Cancel => {
                self.view.mode = Mode::Normal;
                return Control::Redraw;
            }
            Action::Quit => return Control::Quit,
            _ => return Control::Idle,
        }
        self.view.mode = Mode::Renice(dialog);
        Control::Redraw
    }

    /// Renices `target` if the snapshot on screen still lists it; the message to show.
    fn renice(&mut self, target: ProcessId, name: &str, change: NiceChange) -> String {
        let pid = target.pid;
        // The pid may have been reused since the snapshot: never renice a stranger.
        let still_there = self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.process(pid).is_some_and(|p| ProcessId::of(p) == target));
        if !still_there {
            return format!("{pid} ({name}) has exited; not reniced");
        }
        match self.signaller.renice(target, change) {
            Ok(nice) => format!("{pid} ({name}) now runs at nice {nice}"),
            Err(why) => format!("renice of {pid} ({name}) failed: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crossterm::event::{KeyCode, KeyEvent};

    use crate::ui::app::App;
    use crate::ui::fixture::{self, screen};
    use crate::ui::state::Mode;

    fn key(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::from(code));
    }

    fn select(app: &mut App, pid: u32) {
        screen(app, 120, 30);
        for _ in 0..50 {
            if app.selected_process().map(|id| id.pid) == Some(pid) {
                return;
            }
            key(app, KeyCode::Down);
        }
        panic!("could not select {pid}");
    }

    fn message(app: &App) -> String {
        app.view.message.clone().unwrap_or_default()
    }

    #[test]
    fn f8_and_f7_step_the_nice_value_and_say_where_it_is() {
        let (mut app, sent, reniced) = fixture::renice_app(false);
        select(&mut app, 1400);
        key(&mut app, KeyCode::F(8));
        key(&mut app, KeyCode::F(8));
        assert!(
            message(&app).contains("1400 (postgres) now runs at nice 2"),
            "{}",
            message(&app)
        );
        key(&mut app, KeyCode::F(7));
        assert_eq!(*reniced.lock().unwrap(), [(1400, 1), (1400, 2), (1400, 1)]);
        assert!(sent.lock().unwrap().is_empty(), "no signal");
    }

    #[test]
    fn the_dialog_sets_a_typed_value_and_refuses_text_that_is_not_one() {
        let (mut app, _, reniced) = fixture::renice_app(false);
        select(&mut app, 1400);
        key(&mut app, KeyCode::Char('r'));
        assert!(matches!(app.view.mode, Mode::Renice(_)));
        for c in ['-', '5', 'x'] {
            key(&mut app, KeyCode::Char(c));
        }
        assert!(screen(&mut app, 120, 30).contains("nice value: -5_"));
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.view.mode, Mode::Normal);
        assert_eq!(*reniced.lock().unwrap(), [(1400, -5)]);
        key(&mut app, KeyCode::Char('r'));
        key(&mut app, KeyCode::Char('-'));
        key(&mut app, KeyCode::Enter);
        assert!(
            message(&app).contains("not a nice value"),
            "{}",
            message(&app)
        );
        key(&mut app, KeyCode::Char('r'));
        key(&mut app, KeyCode::Char('3'));
        key(&mut app, KeyCode::Esc);
        assert_eq!(reniced.lock().unwrap().len(), 1, "Esc sets nothing");
    }

    /// As a non-root user raising a priority: the kernel's EACCES is the footer's message.
    #[test]
    fn a_refused_renice_is_a_message_not_a_crash() {
        let (mut app, _, reniced) = fixture::renice_app(true);
        select(&mut app, 1400);
        key(&mut app, KeyCode::F(7));
        assert!(message(&app).contains("EACCES"), "{}", message(&app));
        assert!(screen(&mut app, 120, 30).contains("EACCES"));
        assert!(reniced.lock().unwrap().is_empty());
    }

    #[test]
    fn renice_is_refused_when_the_pid_now_belongs_to_another_process() {
        let (mut app, _, reniced) = fixture::renice_app(false);
        select(&mut app, 1400);
        key(&mut app, KeyCode::Char('r'));
        key(&mut app, KeyCode::Char('5'));
        let mut reused = fixture::snapshot();
        for p in reused.processes.iter_mut().filter(|p| p.pid == 1400) {
            p.start_time_ms += 60_000;
            p.name = "stranger".to_owned();
        }
        app.on_snapshot(Arc::new(reused));
        key(&mut app, KeyCode::Enter);
        assert!(
            reniced.lock().unwrap().is_empty(),
            "the newcomer is left alone"
        );
        assert!(message(&app).contains("has exited"), "{}", message(&app));
    }
}
