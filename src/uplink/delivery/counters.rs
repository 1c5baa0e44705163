//! What the uplink did, counted in batches, and the one-word state shown in the explorer header.
//!
//! Accounting is in batches (one batch = one request body). Every batch handed to the queue is
//! `produced`; it ends up exactly once as `sent` (including partial successes) or in one of the
//! `dropped_*` counters, or is still queued (in the queue or held by the sender). So at any
//! moment `produced == sent + dropped + queued`: see [`DeliveryCounters::accounted`].
//!
//! A 413 split turns one batch into two: [`DeliveryCounters::record_split`] counts it as one
//! more batch produced (the original stops existing and two take its place), which keeps the
//! equation. Retries change no batch count; `retried` counts attempts, not batches.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::queue::{DropReason, Dropped};

/// Longest `last_error` kept, in characters (a hostile backend's error body can be long).
pub const MAX_ERROR_CHARS: usize = 200;

/// Delivery counters; see the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounters {
    /// Batches handed to the queue, plus one per 413 split.
    pub produced: u64,
    /// Batches accepted by the backend (fully or partially).
    pub sent: u64,
    /// Failed attempts that will be retried (not batches).
    pub retried: u64,
    pub dropped_queue_full: u64,
    pub dropped_coalesced: u64,
    pub dropped_too_large: u64,
    /// Batches dropped on a non-retryable status, by status.
    pub dropped_permanent: BTreeMap<u16, u64>,
    pub dropped_shutdown: u64,
    /// Records (not batches) the backend reported rejecting in partial successes.
    pub partial_rejected: u64,
    /// The caller's description of the last failure, made safe for a terminal and shortened.
    /// It holds only what the caller passes: never put credentials or full URLs with secrets in.
    pub last_error: Option<String>,
    /// When a batch was last accepted (unix ms).
    pub last_success_at_ms: Option<u64>,
}

impl DeliveryCounters {
    /// `batches` were handed to the queue (count them whether or not `push` kept them: the ones
    /// it refused come back as drops).
    pub fn record_produced(&mut self, batches: u64) {
        self.produced = self.produced.saturating_add(batches);
    }

    /// A batch was split in two after a 413.
    pub fn record_split(&mut self) {
        self.record_produced(1);
    }

    /// A batch was accepted at `now_ms` (unix ms).
    pub fn record_sent(&mut self, now_ms: u64) {
        self.sent = self.sent.saturating_add(1);
        self.last_success_at_ms = Some(now_ms);
    }

    /// A batch was accepted but the backend rejected `rejected` of its records.
    pub fn record_partial_success(&mut self, rejected: u64, now_ms: u64) {
        self.record_sent(now_ms);
        self.partial_rejected = self.partial_rejected.saturating_add(rejected);
    }

    /// An attempt failed and will be retried; `error` describes why.
    pub fn record_retry(&mut self, error: &str) {
        self.retried = self.retried.saturating_add(1);
        self.record_error(error);
    }

    /// Remembers `error` as the last error, escaped for the terminal and cut to
    /// [`MAX_ERROR_CHARS`].
    pub fn record_error(&mut self, error: &str) {
        let safe = crate::escape::for_terminal(error);
        let text = match safe.char_indices().nth(MAX_ERROR_CHARS) {
            Some((cut, _)) => format!("{}…", &safe[..cut]),
            None => safe.into_owned(),
        };
        self.last_error = Some(text);
    }

    /// One batch dropped for `reason`.
    pub fn record_drop(&mut self, reason: DropReason) {
        let counter = match reason {
            DropReason::QueueFull => &mut self.dropped_queue_full,
            DropReason::Coalesced => &mut self.dropped_coalesced,
            DropReason::TooLarge => &mut self.dropped_too_large,
            DropReason::Shutdown => &mut self.dropped_shutdown,
            DropReason::Permanent(status) => self.dropped_permanent.entry(status).or_default(),
        };
        *counter = counter.saturating_add(1);
    }

    /// Counts every batch in `dropped` under its reason.
    pub fn record_dropped(&mut self, dropped: &[Dropped]) {
        for d in dropped {
            self.record_drop(d.reason);
        }
    }

    /// Batches dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        let permanent: u64 = self
            .dropped_permanent
            .values()
            .fold(0, |a, b| a.saturating_add(*b));
        [
            self.dropped_queue_full,
            self.dropped_coalesced,
            self.dropped_too_large,
            self.dropped_shutdown,
        ]
        .into_iter()
        .fold(permanent, u64::saturating_add)
    }

    /// Whether every produced batch is accounted for: `sent + dropped_total() + queued ==
    /// produced`, where `queued` is the batches still waiting: the queue's length plus the one
    /// the sender holds, if any.
    pub fn accounted(&self, queued: u64) -> bool {
        self.sent
            .saturating_add(self.dropped_total())
            .saturating_add(queued)
            == self.produced
    }
}

/// The uplink's state in one word or two, for the explorer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UplinkState {
    /// Nothing attempted yet.
    #[default]
    Starting,
    /// The last attempt succeeded.
    Ok,
    /// Attempts are failing retryably (network, 429, 502-504, breaker open); data is kept.
    Retrying,
    /// The backend refuses the credentials (401/403); retrying slowly.
    AuthFailed,
    /// Data is being lost: queue overflowing, or permanent errors.
    Dropping,
    /// Shut down.
    Stopped,
}

impl UplinkState {
    /// Short lowercase label.
    pub fn label(self) -> &'static str {
        match self {
            UplinkState::Starting => "starting",
            UplinkState::Ok => "ok",
            UplinkState::Retrying => "retrying",
            UplinkState::AuthFailed => "auth failed",
            UplinkState::Dropping => "dropping",
            UplinkState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for UplinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uplink::batch::{Batch, Class, Records};
    use crate::uplink::delivery::queue::{DeliveryQueue, QueueLimits};

    fn batch(class: Class, n: usize) -> Batch {
        Batch {
            class,
            taken_at_ms: 0,
            records: Records::Ndjson((0..n).map(|i| i.to_string()).collect()),
        }
    }

    #[test]
    fn accounting_holds_through_sends_drops_splits_and_shutdown() {
        let mut c = DeliveryCounters::default();
        let mut q = DeliveryQueue::new(QueueLimits {
            max_items: 3,
            max_bytes: 100,
        });
        let push = |c: &mut DeliveryCounters, q: &mut DeliveryQueue, b: Batch, bytes: usize| {
            c.record_produced(1);
            let dropped = q.push(b, bytes);
            c.record_dropped(&dropped);
        };
        push(&mut c, &mut q, batch(Class::Snapshot, 4), 10);
        push(&mut c, &mut q, batch(Class::Events, 1), 10);
        push(&mut c, &mut q, batch(Class::Events, 1), 500); // too large
        assert!(c.accounted(q.len() as u64));

        // Send the first: 413, split in two; while held by the sender it still counts as queued.
        let held = q.take_front().expect("front");
        assert!(c.accounted(q.len() as u64 + 1));
        let (a, b) = held.batch.records.split().expect("splittable");
        c.record_split();
        c.record_dropped(&q.push_front(
            Batch {
                records: b,
                ..held.batch.clone()
            },
            5,
        ));
        c.record_dropped(&q.push_front(
            Batch {
                records: a,
                ..held.batch
            },
            5,
        ));
        assert!(c.accounted(q.len() as u64));

        // First half: retried, then sent. Second half: partially accepted.
        let mut half = q.take_front().expect("half");
        c.record_retry("503 Service Unavailable");
        half.attempts += 1;
        c.record_dropped(&q.requeue_front(half));
        let _half = q.take_front().expect("half");
        c.record_sent(1_000);
        let _half = q.take_front().expect("half");
        c.record_partial_success(1, 2_000);
        assert!(c.accounted(q.len() as u64));

        // Queue overflow, coalescing, a permanent error, then shutdown.
        for _ in 0..4 {
            push(&mut c, &mut q, batch(Class::Snapshot, 1), 10);
        }
        c.record_dropped(&q.coalesce_snapshots());
        push(&mut c, &mut q, batch(Class::Events, 1), 10);
        push(&mut c, &mut q, batch(Class::Events, 1), 10);
        let _bad = q.take_front().expect("front");
        c.record_drop(DropReason::Permanent(400));
        assert!(c.accounted(q.len() as u64));
        c.record_dropped(&q.drain_shutdown());
        assert!(c.accounted(0));
        assert!(!c.accounted(1));

        assert_eq!(c.produced, 10);
        assert_eq!(c.sent, 2);
        assert_eq!(c.retried, 1);
        assert_eq!(c.partial_rejected, 1);
        assert_eq!(c.dropped_too_large, 1);
        assert_eq!(c.dropped_queue_full, 2);
        assert_eq!(c.dropped_coalesced, 3);
        assert_eq!(c.dropped_permanent, BTreeMap::from([(400, 1)]));
        assert_eq!(c.dropped_shutdown, 1);
        assert_eq!(c.dropped_total(), 8);
        assert_eq!(c.last_success_at_ms, Some(2_000));
        assert_eq!(c.last_error.as_deref(), Some("503 Service Unavailable"));
    }

    #[test]
    fn permanent_drops_are_counted_per_status() {
        let mut c = DeliveryCounters::default();
        c.record_drop(DropReason::Permanent(400));
        c.record_drop(DropReason::Permanent(400));
        c.record_drop(DropReason::Permanent(500));
        assert_eq!(c.dropped_permanent, BTreeMap::from([(400, 2), (500, 1)]));
        assert_eq!(c.dropped_total(), 3);
    }

    #[test]
    fn last_error_is_escaped_and_shortened() {
        let mut c = DeliveryCounters::default();
        c.record_error("bad\x1b[2Jbody");
        assert_eq!(c.last_error.as_deref(), Some("bad\\x1b[2Jbody"));
        c.record_error(&"é".repeat(1000));
        let kept = c.last_error.clone().unwrap_or_default();
        assert_eq!(kept.chars().count(), MAX_ERROR_CHARS + 1);
        assert!(kept.ends_with('…'));
    }

    #[test]
    fn serializes_with_status_keys() {
        let mut c = DeliveryCounters::default();
        c.record_produced(2);
        c.record_drop(DropReason::Permanent(404));
        let json = serde_json::to_value(&c).expect("serializes");
        assert_eq!(json["produced"], 2);
        assert_eq!(json["dropped_permanent"]["404"], 1);
        assert_eq!(json["last_error"], serde_json::Value::Null);
    }

    #[test]
    fn uplink_state_labels_are_short() {
        let all = [
            UplinkState::Starting,
            UplinkState::Ok,
            UplinkState::Retrying,
            UplinkState::AuthFailed,
            UplinkState::Dropping,
            UplinkState::Stopped,
        ];
        let labels: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            labels,
            [
                "starting",
                "ok",
                "retrying",
                "auth failed",
                "dropping",
                "stopped"
            ]
        );
        assert!(all.iter().all(|s| s.label().len() <= 12));
        assert_eq!(UplinkState::default(), UplinkState::Starting);
        assert_eq!(
            serde_json::to_value(UplinkState::AuthFailed).expect("serializes"),
            "auth_failed"
        );
    }
}
