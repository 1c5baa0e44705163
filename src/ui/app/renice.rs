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
