//! The bounded queue of batches waiting to be sent.
//!
//! Bounded twice: by the number of entries and by their total size in bytes (the size is given
//! by the caller on push, normally the encoded body length). When a new entry does not fit, the
//! OLDEST entries (from the front) are dropped until it does: the newest data is the most useful
//! to a backend that comes back. An entry larger than the whole byte budget is rejected outright.
//!
//! Coalescing is explicit: before pushing the batches of a newer snapshot, the worker calls
//! [`DeliveryQueue::coalesce_snapshots`], which drops every queued [`Class::Snapshot`] entry
//! (the newer snapshot supersedes them) and keeps every [`Class::Events`] entry (each event
//! happened once). `push` itself never coalesces, so the several batches of one snapshot can be
//! pushed one after another without replacing each other.
//!
//! In flight: the sender takes the front entry out with [`DeliveryQueue::take_front`] and owns
//! it while sending, so nothing done to the queue meanwhile (coalescing, dropping when full) can
//! touch it. Afterwards it either forgets it (sent or dropped), puts it back with
//! [`DeliveryQueue::requeue_front`] (retryable failure, attempt count kept), or pushes the two
//! halves of a split with [`DeliveryQueue::push_front`].
//!
//! Every removal comes back as a [`Dropped`] (batch and [`DropReason`]) so the caller can count
//! it; [`QueueStats`] lengths and byte totals are kept exact on every path.

use std::collections::VecDeque;

use crate::uplink::batch::{Batch, Class};

/// Why a batch was given up on. The queue produces `QueueFull`, `Coalesced`, `TooLarge` and
/// `Shutdown`; the worker produces `TooLarge` (a 413 on a batch that cannot be split) and
/// `Permanent` (a response that must not be retried).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Evicted, oldest first, to make room for a newer entry.
    QueueFull,
    /// Superseded by a newer snapshot.
    Coalesced,
    /// Larger than the queue's byte budget, or refused by the backend (413) and not splittable.
    TooLarge,
    /// The backend answered with a status that must not be retried; 0 when the batch was refused
    /// before any request (it could not be encoded, or the `file://` sink refused its file).
    Permanent(u16),
    /// Still queued when the uplink stopped.
    Shutdown,
}

/// A batch the queue (or the worker) gave up on, handed back so it can be counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub batch: Batch,
    pub reason: DropReason,
}

/// One queued batch.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedBatch {
    pub batch: Batch,
    /// Size charged against the byte budget (as given on push).
    pub bytes: usize,
    /// How many times sending it has failed retryably so far; 0 for a fresh entry. The sender
    /// increments it before [`DeliveryQueue::requeue_front`].
    pub attempts: u32,
}

/// The queue's bounds. Both are at least 1 (smaller values are raised to 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub max_items: usize,
    pub max_bytes: usize,
}

impl Default for QueueLimits {
    /// 256 batches, 16 MiB.
    fn default() -> Self {
        QueueLimits {
            max_items: 256,
            max_bytes: 16 << 20,
        }
    }
}

/// What is in the queue right now (entries held by the sender are not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    pub items: usize,
    pub bytes: usize,
}

/// Bounded FIFO of batches; see the module docs.
#[derive(Debug, Clone)]
pub struct DeliveryQueue {
    limits: QueueLimits,
    entries: VecDeque<QueuedBatch>,
    bytes: usize,
}

impl DeliveryQueue {
    pub fn new(limits: QueueLimits) -> Self {
        let limits = QueueLimits {
            max_items: limits.max_items.max(1),
            max_bytes: limits.max_bytes.max(1),
        };
        DeliveryQueue {
            limits,
            entries: VecDeque::new(),
            bytes: 0,
        }
    }

    pub fn limits(&self) -> QueueLimits {
        self.limits
    }

    /// Number of queued entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sum of the queued entries' sizes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn stats(&self) -> QueueStats {
        QueueStats {
            items: self.entries.len(),
            bytes: self.bytes,
        }
    }

    /// Appends a fresh entry (0 attempts) at the back, first dropping the oldest entries until
    /// it fits. An entry larger than `max_bytes` is not queued and comes back as `TooLarge`.
    pub fn push(&mut self, batch: Batch, bytes: usize) -> Vec<Dropped> {
        if bytes > self.limits.max_bytes {
            return vec![Dropped {
                batch,
                reason: DropReason::TooLarge,
            }];
        }
        let mut dropped = Vec::new();
        while self.entries.len() >= self.limits.max_items
            || self.bytes.saturating_add(bytes) > self.limits.max_bytes
        {
            match self.pop_front_entry() {
                Some(old) => dropped.push(Dropped {
                    batch: old.batch,
                    reason: DropReason::QueueFull,
                }),
                None => break,
            }
        }
        self.bytes += bytes;
        self.entries.push_back(QueuedBatch {
            batch,
            bytes,
            attempts: 0,
        });
        dropped
    }

    /// Inserts a fresh entry (0 attempts) at the front, to be sent next: used for the halves of
    /// a batch split after a 413 (push the second half first, then the first). The new entry is
    /// the oldest data in the queue, so if the queue is full it is the one dropped (`QueueFull`);
    /// an entry larger than `max_bytes` comes back as `TooLarge`.
    pub fn push_front(&mut self, batch: Batch, bytes: usize) -> Vec<Dropped> {
        self.requeue_front(QueuedBatch {
            batch,
            bytes,
            attempts: 0,
        })
    }

    /// Puts an entry taken with [`take_front`](Self::take_front) back at the front, keeping its
    /// attempt count. Drops oldest-first like `push`, and since the entry is the oldest it is
    /// the first to go when the queue filled up while it was away.
    pub fn requeue_front(&mut self, entry: QueuedBatch) -> Vec<Dropped> {
        if entry.bytes > self.limits.max_bytes {
            return vec![Dropped {
                batch: entry.batch,
                reason: DropReason::TooLarge,
            }];
        }
        self.bytes += entry.bytes;
        self.entries.push_front(entry);
        let mut dropped = Vec::new();
        while self.entries.len() > self.limits.max_items || self.bytes > self.limits.max_bytes {
            match self.pop_front_entry() {
                Some(old) => dropped.push(Dropped {
                    batch: old.batch,
                    reason: DropReason::QueueFull,
                }),
                None => break,
            }
        }
        dropped
    }

    /// The entry that would be sent next.
    pub fn front(&self) -> Option<&QueuedBatch> {
        self.entries.front()
    }

    /// Removes the front entry for sending. From here until it is requeued the sender owns it:
    /// it is outside the queue's counts and cannot be coalesced or evicted.
    pub fn take_front(&mut self) -> Option<QueuedBatch> {
        self.pop_front_entry()
    }

    /// Drops every queued (so never an in-flight) `Snapshot`-class entry as `Coalesced`;
    /// `Events` entries stay, in order. Call it before pushing a newer snapshot's batches.
    pub fn coalesce_snapshots(&mut self) -> Vec<Dropped> {
        let mut dropped = Vec::new();
        let mut kept = VecDeque::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            if entry.batch.class == Class::Snapshot {
                self.bytes -= entry.bytes;
                dropped.push(Dropped {
                    batch: entry.batch,
                    reason: DropReason::Coalesced,
                });
            } else {
                kept.push_back(entry);
            }
        }
        self.entries = kept;
        dropped
    }

    /// Whether any queued entry (not the one in flight) is of `class`.
    pub fn has_class(&self, class: Class) -> bool {
        self.entries.iter().any(|e| e.batch.class == class)
    }

    /// Empties the queue at shutdown; every entry comes back as `Shutdown`.
    pub fn drain_shutdown(&mut self) -> Vec<Dropped> {
        self.bytes = 0;
        self.entries
            .drain(..)
            .map(|e| Dropped {
                batch: e.batch,
                reason: DropReason::Shutdown,
            })
            .collect()
    }

    fn pop_front_entry(&mut self) -> Option<QueuedBatch> {
        let entry = self.entries.pop_front()?;
        self.bytes -= entry.bytes;
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uplink::batch::Records;

    fn batch(class: Class, tag: u64) -> Batch {
        Batch {
            class,
            taken_at_ms: tag,
            records: Records::Ndjson(vec![format!("{tag}")]),
        }
    }

    fn tags(q: &DeliveryQueue) -> Vec<u64> {
        q.entries.iter().map(|e| e.batch.taken_at_ms).collect()
    }

    fn dropped_tags(d: &[Dropped]) -> Vec<(u64, DropReason)> {
        d.iter().map(|d| (d.batch.taken_at_ms, d.reason)).collect()
    }

    fn consistent(q: &DeliveryQueue) {
        assert_eq!(q.bytes(), q.entries.iter().map(|e| e.bytes).sum::<usize>());
        assert!(q.len() <= q.limits().max_items);
        assert!(q.bytes() <= q.limits().max_bytes);
    }

    #[test]
    fn drops_oldest_when_full_by_count() {
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 3,
            max_bytes: 1000,
        });
        for t in 1..=3 {
            assert!(q.push(batch(Class::Events, t), 10).is_empty());
        }
        let d = q.push(batch(Class::Events, 4), 10);
        assert_eq!(dropped_tags(&d), vec![(1, DropReason::QueueFull)]);
        assert_eq!(tags(&q), vec![2, 3, 4]);
        assert_eq!(
            q.stats(),
            QueueStats {
                items: 3,
                bytes: 30
            }
        );
        consistent(&q);
    }

    #[test]
    fn drops_oldest_when_full_by_bytes() {
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 100,
            max_bytes: 100,
        });
        q.push(batch(Class::Events, 1), 40);
        q.push(batch(Class::Events, 2), 30);
        q.push(batch(Class::Events, 3), 30);
        // 70 more bytes: the two oldest (40 + 30) must go.
        let d = q.push(batch(Class::Events, 4), 70);
        assert_eq!(
            dropped_tags(&d),
            vec![(1, DropReason::QueueFull), (2, DropReason::QueueFull)]
        );
        assert_eq!(tags(&q), vec![3, 4]);
        assert_eq!(q.bytes(), 100);
        consistent(&q);
    }

    #[test]
    fn rejects_entry_larger_than_byte_budget_and_keeps_the_rest() {
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 10,
            max_bytes: 100,
        });
        q.push(batch(Class::Events, 1), 50);
        let d = q.push(batch(Class::Snapshot, 2), 101);
        assert_eq!(dropped_tags(&d), vec![(2, DropReason::TooLarge)]);
        assert_eq!(tags(&q), vec![1]);
        assert_eq!(q.bytes(), 50);
        // Exactly the budget fits, evicting everything else.
        let d = q.push(batch(Class::Events, 3), 100);
        assert_eq!(dropped_tags(&d), vec![(1, DropReason::QueueFull)]);
        assert_eq!(tags(&q), vec![3]);
        consistent(&q);
    }

    #[test]
    fn coalesces_only_snapshot_class_and_keeps_events_in_order() {
        let mut q = DeliveryQueue::new(QueueLimits::default());
        q.push(batch(Class::Snapshot, 1), 10);
        q.push(batch(Class::Events, 2), 20);
        q.push(batch(Class::Snapshot, 3), 30);
        q.push(batch(Class::Events, 4), 40);
        let d = q.coalesce_snapshots();
        assert_eq!(
            dropped_tags(&d),
            vec![(1, DropReason::Coalesced), (3, DropReason::Coalesced)]
        );
        assert_eq!(tags(&q), vec![2, 4]);
        assert_eq!(q.bytes(), 60);
        assert!(q.coalesce_snapshots().is_empty());
        consistent(&q);
    }

    #[test]
    fn push_does_not_coalesce_batches_of_the_same_snapshot() {
        let mut q = DeliveryQueue::new(QueueLimits::default());
        q.push(batch(Class::Snapshot, 1), 10);
        assert!(q.push(batch(Class::Snapshot, 1), 10).is_empty());
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn in_flight_entry_is_not_coalesced_and_requeue_keeps_attempts() {
        let mut q = DeliveryQueue::new(QueueLimits::default());
        q.push(batch(Class::Snapshot, 1), 10);
        q.push(batch(Class::Snapshot, 2), 20);
        assert_eq!(q.front().map(|e| e.batch.taken_at_ms), Some(1));
        let mut sending = q.take_front().expect("front");
        assert_eq!(
            q.stats(),
            QueueStats {
                items: 1,
                bytes: 20
            }
        );

        let d = q.coalesce_snapshots();
        assert_eq!(dropped_tags(&d), vec![(2, DropReason::Coalesced)]);
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);

        sending.attempts += 1;
        assert!(q.requeue_front(sending).is_empty());
        let front = q.front().expect("requeued");
        assert_eq!(
            (front.batch.taken_at_ms, front.attempts, front.bytes),
            (1, 1, 10)
        );
        assert_eq!(q.bytes(), 10);
        consistent(&q);
    }

    #[test]
    fn requeue_into_a_full_queue_drops_the_requeued_oldest_entry() {
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 2,
            max_bytes: 1000,
        });
        q.push(batch(Class::Events, 1), 10);
        let sending = q.take_front().expect("front");
        q.push(batch(Class::Events, 2), 10);
        q.push(batch(Class::Events, 3), 10);
        let d = q.requeue_front(sending);
        assert_eq!(dropped_tags(&d), vec![(1, DropReason::QueueFull)]);
        assert_eq!(tags(&q), vec![2, 3]);
        consistent(&q);
    }

    #[test]
    fn push_front_puts_split_halves_next_in_order() {
        let mut q = DeliveryQueue::new(QueueLimits::default());
        q.push(batch(Class::Events, 9), 10);
        assert!(q.push_front(batch(Class::Events, 2), 5).is_empty());
        assert!(q.push_front(batch(Class::Events, 1), 6).is_empty());
        assert_eq!(tags(&q), vec![1, 2, 9]);
        assert!(q.entries.iter().all(|e| e.attempts == 0));
        assert_eq!(q.bytes(), 21);
        let d = q.push_front(batch(Class::Events, 0), usize::MAX);
        assert_eq!(dropped_tags(&d), vec![(0, DropReason::TooLarge)]);
        consistent(&q);
    }

    #[test]
    fn drain_shutdown_returns_everything_and_empties() {
        let mut q = DeliveryQueue::new(QueueLimits::default());
        q.push(batch(Class::Events, 1), 10);
        q.push(batch(Class::Snapshot, 2), 10);
        let d = q.drain_shutdown();
        assert_eq!(
            dropped_tags(&d),
            vec![(1, DropReason::Shutdown), (2, DropReason::Shutdown)]
        );
        assert_eq!(q.stats(), QueueStats::default());
    }

    #[test]
    fn zero_limits_are_raised_to_one() {
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 0,
            max_bytes: 0,
        });
        assert_eq!(
            q.limits(),
            QueueLimits {
                max_items: 1,
                max_bytes: 1
            }
        );
        assert!(q.push(batch(Class::Events, 1), 1).is_empty());
        assert_eq!(q.push(batch(Class::Events, 2), 0).len(), 1);
        assert_eq!(tags(&q), vec![2]);
    }
}
