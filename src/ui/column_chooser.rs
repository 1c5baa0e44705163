//! The column chooser (F2, htop's setup screen reduced to columns and their order): every
//! column but COMMAND, on or off, in the order they will be shown. Plain state edited by keys;
//! nothing is shown differently until it is applied, nothing saved unless asked.
//!
//! COMMAND is not listed: it is always shown, always last, and takes the room the others leave.

use super::columns::Column;
use super::keys::Action;

/// What a key did in the chooser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still choosing.
    Editing(ColumnChooser),
    /// Show these columns (Enter).
    Apply(Vec<Column>),
    /// Show these columns and save them to the configuration file (`w`).
    Save(Vec<Column>),
    /// Leave the columns as they were (Esc).
    Cancel,
}

/// Applies one of the chooser's keys.
pub fn on_action(mut chooser: ColumnChooser, act: Action) -> Outcome {
    match act {
        Action::Up => chooser.step(-1),
        Action::Down => chooser.step(1),
        Action::ToggleColumn => chooser.toggle(),
        Action::ColumnEarlier => chooser.shift(-1),
        Action::ColumnLater => chooser.shift(1),
        Action::Confirm => return Outcome::Apply(chooser.columns()),
        Action::SaveColumns => return Outcome::Save(chooser.columns()),
        Action::Cancel => return Outcome::Cancel,
        _ => {}
    }
    Outcome::Editing(chooser)
}

/// The list being edited and the line the cursor is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChooser {
    /// Shown columns first, in their order, then the hidden ones in [`Column::ALL`]'s order.
    pub entries: Vec<(Column, bool)>,
    pub at: usize,
}

impl ColumnChooser {
    /// Starts from the columns on screen now.
    pub fn new(shown: &[Column]) -> ColumnChooser {
        let mut entries: Vec<(Column, bool)> = Vec::with_capacity(Column::ALL.len());
        for column in shown.iter().chain(Column::ALL.iter()) {
            if *column != Column::Command && !entries.iter().any(|(c, _)| c == column) {
                entries.push((*column, shown.contains(column)));
            }
        }
        ColumnChooser { entries, at: 0 }
    }

    /// Moves the cursor `delta` lines, wrapping around.
    pub fn step(&mut self, delta: isize) {
        let count = self.entries.len() as isize;
        if count > 0 {
            self.at = (self.at as isize + delta).rem_euclid(count) as usize;
        }
    }

    /// Shows or hides the column under the cursor.
    pub fn toggle(&mut self) {
        if let Some((_, on)) = self.entries.get_mut(self.at) {
            *on = !*on;
        }
    }

    /// Moves the column under the cursor `delta` places (negative: to the left), the cursor
    /// with it; at either end it stays.
    pub fn shift(&mut self, delta: isize) {
        let to = self.at as isize + delta;
        if to < 0 || to as usize >= self.entries.len() {
            return;
        }
        self.entries.swap(self.at, to as usize);
        self.at = to as usize;
    }

    /// The columns to show: those switched on, in order, then COMMAND.
    pub fn columns(&self) -> Vec<Column> {
        self.entries
            .iter()
            .filter(|(_, on)| *on)
            .map(|(column, _)| *column)
            .chain(std::iter::once(Column::Command))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_with_the_shown_columns_in_order_then_the_rest_off() {
        let chooser = ColumnChooser::new(&[Column::Cpu, Column::Pid, Column::Command]);
        assert_eq!(chooser.entries[0], (Column::Cpu, true));
        assert_eq!(chooser.entries[1], (Column::Pid, true));
        assert_eq!(chooser.entries[2], (Column::User, false));
        assert_eq!(chooser.entries.len(), Column::ALL.len() - 1, "no COMMAND");
        assert_eq!(
            chooser.columns(),
            [Column::Cpu, Column::Pid, Column::Command]
        );
    }

    #[test]
    fn toggling_and_moving_change_what_is_shown_and_where() {
        let mut chooser = ColumnChooser::new(&[Column::Pid, Column::Cpu, Column::Command]);
        chooser.step(2); // USER, off
        chooser.toggle();
        chooser.shift(-1);
        chooser.shift(-1);
        assert_eq!(chooser.at, 0);
        assert_eq!(
            chooser.columns(),
            [Column::User, Column::Pid, Column::Cpu, Column::Command]
        );
        chooser.shift(-1);
        assert_eq!(chooser.at, 0, "the first stays first");
        chooser.step(1);
        chooser.toggle();
        assert_eq!(
            chooser.columns(),
            [Column::User, Column::Cpu, Column::Command]
        );
        chooser.step(-3);
        assert_eq!(chooser.at, chooser.entries.len() - 2, "wraps around");
    }
}
