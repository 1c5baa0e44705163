//! The events pane's data: the last [`EVENT_CAPACITY`] events the snapshots brought, and the
//! lines of the pane (newest first, narrowed by the filter). Pure: events plus view state in,
//! lines out.
//!
//! Events arrive with snapshots. While the explorer is paused the snapshots wait, and so do
//! their events: they are held apart and shown when the display moves on, so pausing loses
//! none of them (only the oldest beyond the capacity, as always).

use std::collections::VecDeque;

use crate::model::{Filter, LifecycleEvent};

use super::marks::started_since_launch;

/// The most events kept for the pane (the oldest go first).
pub const EVENT_CAPACITY: usize = 5_000;

/// One event as the pane keeps it, with a number that names it while it is kept (the cursor
/// follows it as newer events push it down).
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub seq: u64,
    pub event: LifecycleEvent,
}

/// The events shown, oldest first, and those held while paused.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    shown: VecDeque<LoggedEvent>,
    held: VecDeque<LoggedEvent>,
    next_seq: u64,
}

impl EventLog {
    /// Takes a snapshot's events, held until [`Self::show_held`].
    pub fn receive(&mut self, events: &[LifecycleEvent]) {
        for event in events {
            push_bounded(
                &mut self.held,
                LoggedEvent {
                    seq: self.next_seq,
                    event: event.clone(),
                },
            );
            self.next_seq += 1;
        }
    }

    /// Moves the held events into the pane: called when a snapshot is put on screen.
    pub fn show_held(&mut self) {
        while let Some(logged) = self.held.pop_front() {
            push_bounded(&mut self.shown, logged);
        }
    }

    /// The events shown, oldest first.
    pub fn shown(&self) -> &VecDeque<LoggedEvent> {
        &self.shown
    }

    /// The shown event numbered `seq`.
    pub fn get(&self, seq: u64) -> Option<&LifecycleEvent> {
        // Numbers rise with position, so the event is found by bisection.
        let at = self.shown.partition_point(|l| l.seq < seq);
        self.shown
            .get(at)
            .filter(|l| l.seq == seq)
            .map(|l| &l.event)
    }
}

fn push_bounded(queue: &mut VecDeque<LoggedEvent>, logged: LoggedEvent) {
    if queue.len() == EVENT_CAPACITY {
        queue.pop_front();
    }
    queue.push_back(logged);
}

/// The events pane's own choices, kept while another view is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsView {
    /// The number of the event the cursor is on.
    pub cursor: Option<u64>,
    /// Index of the line the cursor was last on: where it lands if its event goes.
    pub cursor_line: usize,
    /// First line shown.
    pub scroll: usize,
}

/// The pane's lines: the shown events that `filter` keeps, newest first. `launched_ms` is what
/// the filter term `new` compares start times with (see [`started_since_launch`]).
pub fn lines<'a>(
    log: &'a EventLog,
    filter: &Filter,
    launched_ms: Option<u64>,
) -> Vec<&'a LoggedEvent> {
    log.shown()
        .iter()
        .rev()
        .filter(|logged| {
            let event = &logged.event;
            let new = started_since_launch(event.start_time_ms, launched_ms);
            filter.matches_event(event, new)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EventSource, LifecycleKind, Proto};

    fn event(pid: u32, kind: LifecycleKind) -> LifecycleEvent {
        LifecycleEvent {
            kind,
            pid,
            ppid: Some(1),
            name: format!("proc{pid}"),
            cmdline: vec![format!("/bin/proc{pid}")],
            user: Some("app".to_owned()),
            start_time_ms: 1_000 + u64::from(pid),
            observed_at_ms: 5_000,
            exit: None,
            runtime_ms: None,
            short_lived: false,
            source: EventSource::Snapshots,
        }
    }

    fn pids(lines: &[&LoggedEvent]) -> Vec<(u32, &'static str)> {
        lines
            .iter()
            .map(|l| (l.event.pid, l.event.kind.label()))
            .collect()
    }

    #[test]
    fn newest_first_and_the_oldest_go_past_the_capacity() {
        let mut log = EventLog::default();
        let burst: Vec<LifecycleEvent> = (0..EVENT_CAPACITY as u32 + 10)
            .map(|pid| event(pid, LifecycleKind::Started))
            .collect();
        log.receive(&burst);
        log.show_held();
        assert_eq!(log.shown().len(), EVENT_CAPACITY);
        let shown = lines(&log, &Filter::default(), None);
        assert_eq!(
            shown[0].event.pid,
            EVENT_CAPACITY as u32 + 9,
            "newest first"
        );
        assert_eq!(shown.last().map(|l| l.event.pid), Some(10), "0..9 dropped");
        assert_eq!(log.get(shown[0].seq), Some(&shown[0].event));
        assert_eq!(log.get(3), None, "dropped with its event");
    }

    #[test]
    fn held_events_wait_for_the_display_and_keep_their_order() {
        let mut log = EventLog::default();
        log.receive(&[event(1, LifecycleKind::Started)]);
        log.show_held();
        log.receive(&[event(2, LifecycleKind::Started)]);
        log.receive(&[event(1, LifecycleKind::Exited)]);
        assert_eq!(
            pids(&lines(&log, &Filter::default(), None)),
            [(1, "started")],
            "held while paused"
        );
        log.show_held();
        assert_eq!(
            pids(&lines(&log, &Filter::default(), None)),
            [(1, "exited"), (2, "started"), (1, "started")]
        );
    }

    #[test]
    fn the_filter_narrows_by_what_events_carry() {
        let mut log = EventLog::default();
        let listen = LifecycleKind::BeganListening {
            proto: Proto::Tcp,
            addr: [0, 0, 0, 0].into(),
            port: 8080,
        };
        let connect = LifecycleKind::FirstConnection {
            proto: Proto::Tcp,
            addr: [10, 0, 0, 5].into(),
            port: 5432,
        };
        log.receive(&[
            event(10, LifecycleKind::Started),
            event(10, listen),
            event(20, connect),
            event(30, LifecycleKind::Exited),
        ]);
        log.show_held();
        let filtered = |text: &str, launched: Option<u64>| {
            let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            pids(&lines(&log, &filter, launched))
        };
        assert_eq!(filtered("pid:10", None), [(10, "listen"), (10, "started")]);
        assert_eq!(filtered("port:8080", None), [(10, "listen")]);
        assert_eq!(filtered("8080", None), [(10, "listen")]);
        assert_eq!(filtered("remote:10.0.0.0/8", None), [(20, "connect")]);
        assert_eq!(filtered("exited", None), [(30, "exited")]);
        assert_eq!(filtered("proc20", None), [(20, "connect")]);
        assert_eq!(filtered("state:listen", None), [(10, "listen")]);
        assert!(filtered("cpu>5", None).is_empty(), "events carry no CPU");
        assert_eq!(filtered("!cpu>5", None).len(), 4);
        // Started after 1_015: pids 20 and 30 (start times 1_020 and 1_030).
        assert_eq!(
            filtered("new", Some(1_015)),
            [(30, "exited"), (20, "connect")]
        );
        assert!(
            filtered("new", None).is_empty(),
            "nothing is new before launch is known"
        );
    }
}
