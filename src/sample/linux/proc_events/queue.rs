//! The bounded queue between the reader thread and whoever drains it, with the counts of what
//! was lost. Full, it lets the oldest event go: under a storm the newest say most about now.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Backlog, Drained, Limits, Missing, ProcEvent, ProcEventKind};

/// What the reader thread and the handle share.
pub struct Shared {
    queue: Mutex<Queue>,
    /// The tracker's size, published by the reader after each datagram.
    tracked: AtomicUsize,
}

impl Shared {
    pub fn new(limits: Limits) -> Self {
        Shared {
            queue: Mutex::new(Queue::new(limits)),
            tracked: AtomicUsize::new(0),
        }
    }

    /// The queue. A panic elsewhere while it was held leaves counts, never broken memory:
    /// carry on with it.
    pub fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_tracked(&self, tracked: usize) {
        self.tracked.store(tracked, Ordering::Relaxed);
    }

    pub fn drain(&self) -> Drained {
        self.queue().drain()
    }

    pub fn stopped(&self) -> Option<String> {
        self.queue().stopped.clone()
    }

    pub fn backlog(&self) -> Backlog {
        let queue = self.queue();
        Backlog {
            queued_events: queue.events.len(),
            queued_bytes: queue.bytes,
            tracked_processes: self.tracked.load(Ordering::Relaxed),
        }
    }
}

pub struct Queue {
    /// Each event with its weight, counted once when pushed.
    events: VecDeque<(ProcEvent, usize)>,
    bytes: usize,
    limits: Limits,
    dropped: u64,
    kernel_overruns: u64,
    forgotten: u64,
    pub stopped: Option<String>,
}

impl Queue {
    fn new(limits: Limits) -> Self {
        Queue {
            events: VecDeque::new(),
            bytes: 0,
            limits,
            dropped: 0,
            kernel_overruns: 0,
            forgotten: 0,
            stopped: None,
        }
    }

    /// Queues `event`, letting the oldest go while the queue is at either bound.
    pub fn push(&mut self, event: ProcEvent) {
        let weight = weight(&event);
        if weight > self.limits.queued_bytes || self.limits.queued_events == 0 {
            self.dropped += 1;
            return;
        }
        while self.events.len() >= self.limits.queued_events
            || self.bytes + weight > self.limits.queued_bytes
        {
            let Some((_, oldest)) = self.events.pop_front() else {
                break;
            };
            self.bytes -= oldest;
            self.dropped += 1;
        }
        self.bytes += weight;
        self.events.push_back((event, weight));
    }

    /// Events lost before they reached the queue (unparsable).
    pub fn lost(&mut self, count: u64) {
        self.dropped += count;
    }

    /// The kernel discarded events: an unknown number, counted as one.
    pub fn overrun(&mut self) {
        self.kernel_overruns += 1;
        self.dropped += 1;
    }

    pub fn forgot(&mut self, count: u64) {
        self.forgotten += count;
    }

    fn drain(&mut self) -> Drained {
        self.bytes = 0;
        Drained {
            events: self.events.drain(..).map(|(event, _)| event).collect(),
            dropped: std::mem::take(&mut self.dropped),
            kernel_overruns: std::mem::take(&mut self.kernel_overruns),
            forgotten: std::mem::take(&mut self.forgotten),
            stopped: self.stopped.clone(),
        }
    }
}

/// About how much memory an event holds: its own size, and each string's bytes and header.
fn weight(event: &ProcEvent) -> usize {
    let text = |s: &String| std::mem::size_of::<String>() + s.len();
    let optional = |s: &Option<String>| s.as_ref().map_or(0, text);
    std::mem::size_of::<(ProcEvent, usize)>()
        + match &event.kind {
            ProcEventKind::Fork | ProcEventKind::Uid { .. } => 0,
            ProcEventKind::Comm { name } => text(name),
            ProcEventKind::Exec(exec) => {
                exec.cmdline
                    .as_ref()
                    .map_or(0, |args| args.iter().map(text).sum::<usize>())
                    + optional(&exec.name)
                    + optional(&exec.exe)
                    + match &exec.missing {
                        Some(Missing::Unreadable(reason)) => reason.len(),
                        Some(Missing::Exited) | None => 0,
                    }
            }
            ProcEventKind::Exit(exit) => optional(&exit.name),
        }
}

#[cfg(test)]
mod tests {
    use super::super::ExecDetails;
    use super::*;

    fn fork(pid: u32) -> ProcEvent {
        ProcEvent {
            pid,
            ppid: Some(1),
            at_ms: u64::from(pid),
            kind: ProcEventKind::Fork,
        }
    }

    fn exec(pid: u32, arg_len: usize) -> ProcEvent {
        ProcEvent {
            kind: ProcEventKind::Exec(ExecDetails {
                cmdline: Some(vec!["x".repeat(arg_len)]),
                cmdline_truncated: false,
                name: None,
                exe: None,
                uid: None,
                missing: None,
            }),
            ..fork(pid)
        }
    }

    fn pids(drained: &Drained) -> Vec<u32> {
        drained.events.iter().map(|e| e.pid).collect()
    }

    #[test]
    fn a_full_queue_lets_the_oldest_go_and_counts_them() {
        let limits = Limits {
            queued_events: 3,
            ..Limits::default()
        };
        let shared = Shared::new(limits);
        for pid in 1..=5 {
            shared.queue().push(fork(pid));
            assert!(shared.backlog().queued_events <= 3);
        }
        let drained = shared.drain();
        assert_eq!(pids(&drained), [3, 4, 5]);
        assert_eq!(drained.dropped, 2);
        let again = shared.drain();
        assert!(again.events.is_empty());
        assert_eq!((again.dropped, shared.backlog().queued_bytes), (0, 0));
    }

    #[test]
    fn the_byte_bound_holds_whatever_the_events_carry() {
        let limits = Limits {
            queued_events: 1_000,
            queued_bytes: 10_000,
            tracked_processes: 1,
        };
        let shared = Shared::new(limits);
        for pid in 1..=100 {
            shared.queue().push(exec(pid, 1_000));
            let backlog = shared.backlog();
            assert!(backlog.queued_bytes <= 10_000, "{backlog:?}");
        }
        let drained = shared.drain();
        // Each holds at least its 1,000 bytes of text: fewer than ten fit.
        assert!(
            (1..10).contains(&drained.events.len()),
            "{}",
            drained.events.len()
        );
        assert_eq!(drained.dropped, 100 - drained.events.len() as u64);
        assert_eq!(drained.events.last().map(|e| e.pid), Some(100));
        // One event larger than the whole bound is dropped, not queued.
        shared.queue().push(exec(101, 20_000));
        assert_eq!(shared.drain().dropped, 1);
    }

    #[test]
    fn overruns_count_as_dropped_and_are_told_apart() {
        let shared = Shared::new(Limits::default());
        shared.queue().overrun();
        shared.queue().lost(2);
        shared.queue().forgot(4);
        let drained = shared.drain();
        assert_eq!(
            (drained.dropped, drained.kernel_overruns, drained.forgotten),
            (3, 1, 4)
        );
    }
}
