//! The process table's marks of change, in the one-character column at the left of each row: a
//! process started since the explorer launched, and one that has exited (kept, greyed, for
//! `ui.exited_linger`). Characters rather than colours, so they read the same with NO_COLOR.

use crate::model::Process;

/// Marks a process started since the explorer launched.
pub const NEW: char = '+';
/// Marks a process that has exited and is kept listed for a while.
pub const EXITED: char = '-';
/// Marks a process outside the baseline given with `--baseline`.
pub const UNEXPECTED: char = '!';

/// Whether `process` counts as new: started since the explorer launched. The sampler decides
/// (`Process::new`: started after its first reading, on the kernel's start-time clock), so the
/// mark, the filter term `new` and `wiretop snapshot`'s JSON all agree.
pub fn is_new(process: &Process) -> bool {
    process.new
}

/// Whether a process that started at `start_time_ms` (an event's process, which may be listed
/// nowhere any more) is new: the rule of [`is_new`], for when only the start time is at hand.
/// `launched_ms` is the reference the sampler used, [`crate::model::Snapshot::first_reading_ms`]
/// of the first snapshot it published; None before that snapshot arrived.
pub fn started_since_launch(start_time_ms: u64, launched_ms: Option<u64>) -> bool {
    launched_ms.is_some_and(|launched| start_time_ms > launched)
}

/// The mark of a process row: exited before unexpected before new (an exited process is gone,
/// however strange or young; a process outside the baseline matters more than a young one),
/// and a space for a process that is none of them.
pub fn mark(process: &Process, exited: bool) -> char {
    if exited {
        EXITED
    } else if process.unexpected == Some(true) {
        UNEXPECTED
    } else if is_new(process) {
        NEW
    } else {
        ' '
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Snapshot;

    #[test]
    fn the_mark_says_exited_then_new_then_nothing() {
        let mut p = Process::example(10, "app");
        assert_eq!(mark(&p, false), ' ');
        assert_eq!(mark(&p, true), EXITED);
        p.new = true;
        assert_eq!(mark(&p, false), NEW);
        assert_eq!(mark(&p, true), EXITED, "gone matters more than young");
        p.unexpected = Some(true);
        assert_eq!(
            mark(&p, false),
            UNEXPECTED,
            "outside the baseline, however young"
        );
        assert_eq!(mark(&p, true), EXITED);
    }

    /// The event rule and the sampler's `Process::new` agree, on the same reference.
    #[test]
    fn a_start_time_after_the_first_reading_is_new_as_the_sampler_marks_it() {
        let mut snapshot = Snapshot::example(vec![
            Process::example(1, "root"),
            Process::example(2, "root"),
        ]);
        let launched = snapshot.first_reading_ms();
        snapshot.processes[0].start_time_ms = launched;
        snapshot.processes[1].start_time_ms = launched + 10;
        snapshot.mark_new_since(launched);
        for p in &snapshot.processes {
            assert_eq!(
                started_since_launch(p.start_time_ms, Some(launched)),
                is_new(p),
                "pid {}",
                p.pid
            );
        }
        assert!(
            !started_since_launch(launched + 10, None),
            "no reference yet"
        );
    }
}
