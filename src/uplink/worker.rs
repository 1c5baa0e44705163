//! The delivery loop: one task that takes snapshots, turns them into batches, and sends them one
//! request at a time through the rate limiter, the circuit breaker and the retry policy.
//!
//! Snapshots never wait for the network: they arrive on an unbounded channel the loop drains
//! between requests. While a snapshot's batches are still queued, newer snapshots replace each
//! other in a single slot (coalescing), so a backend that is down or rate-limited receives the
//! newest state when it comes back, while lifecycle events (found by diffing every consecutive
//! pair of snapshots) are all kept, up to the queue's bounds.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

use crate::model::{LifecycleEvent, Snapshot};
use crate::uplink::batch::{Batch, Class, Compression, Encoding, Records};
use crate::uplink::delivery::{
    classify, parse_retry_after, Backoff, BreakerConfig, CircuitBreaker, DeliveryCounters,
    DeliveryQueue, DropReason, Outcome, QueueLimits, QueuedBatch, TokenBucket, TransportErrorKind,
    UplinkState,
};
use crate::uplink::encode::ndjson;
use crate::uplink::encode::otlp::OtlpEncoder;
use crate::uplink::encode::remote_write::RemoteWriteEncoder;
use crate::uplink::transport::Transport;
use crate::uplink::warnings::SecurityWarning;

/// What the uplink reports to whoever shows it (the explorer header, the ship log).
#[derive(Debug, Clone, Default)]
pub struct UplinkStatus {
    pub state: UplinkState,
    pub counters: DeliveryCounters,
    /// Batches waiting (including one being retried).
    pub queued: u64,
    /// The remote configuration version in force, if any was applied.
    pub remote_config_version: Option<String>,
    /// Risks in the settings, found at start (plain-http credentials, unchecked certificates).
    pub warnings: Vec<SecurityWarning>,
}

/// Which protocol turns snapshots into batches.
pub enum SnapshotEncoder {
    /// OTLP; the flag says whether logs (connections, lifecycle events) are sent too.
    Otlp(OtlpEncoder, bool),
    RemoteWrite(RemoteWriteEncoder),
    Ndjson,
}

impl SnapshotEncoder {
    fn snapshot(&mut self, snapshot: &Snapshot) -> Vec<Batch> {
        match self {
            SnapshotEncoder::Otlp(e, logs) => {
                let mut batches = e.encode_snapshot(snapshot);
                if !*logs {
                    batches.retain(|b| !matches!(b.records, Records::OtlpLogs(_)));
                }
                batches
            }
            SnapshotEncoder::RemoteWrite(e) => e.encode_snapshot(snapshot),
            SnapshotEncoder::Ndjson => vec![ndjson::encode_snapshot(snapshot)],
        }
    }

    /// Lifecycle events as batches; only OTLP carries them (as logs).
    fn events(&self, snapshot: &Snapshot, events: &[LifecycleEvent]) -> Vec<Batch> {
        match self {
            SnapshotEncoder::Otlp(e, true) if !events.is_empty() => {
                e.encode_events(&snapshot.host, events)
            }
            _ => Vec::new(),
        }
    }

    fn carries_events(&self) -> bool {
        matches!(self, SnapshotEncoder::Otlp(_, true))
    }
}

/// Where batches go.
pub enum Sink {
    Http(Transport),
    /// NDJSON appended to a local file (debugging and recording).
    File(PathBuf),
}

/// Everything the loop needs; built from the configuration by [`super::start`].
pub struct WorkerSettings {
    pub sink: Sink,
    pub encoder: SnapshotEncoder,
    pub encoding: Encoding,
    pub compression: Compression,
    pub per_minute: u32,
    pub queue: QueueLimits,
    pub backoff: Backoff,
    pub breaker: BreakerConfig,
    pub shutdown_timeout: Duration,
    /// Shown in the status from the start: see [`super::warnings`].
    pub warnings: Vec<SecurityWarning>,
}

impl std::fmt::Debug for WorkerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerSettings")
            .field("per_minute", &self.per_minute)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

pub(super) enum Command {
    Snapshot(Arc<Snapshot>),
    SetRate(u32),
    RemoteVersion(String),
    Shutdown(oneshot::Sender<()>),
}

struct Worker {
    settings: WorkerSettings,
    queue: DeliveryQueue,
    bucket: TokenBucket,
    breaker: CircuitBreaker,
    rng: fastrand::Rng,
    /// The newest snapshot not yet encoded (replaced by each newer one while waiting).
    slot: Option<Arc<Snapshot>>,
    events: Vec<LifecycleEvent>,
    /// Events dropped because too many waited (see [`MAX_WAITING_EVENTS`]).
    events_dropped: u64,
    /// When the front batch may be tried again.
    retry_at: Option<Instant>,
    /// The class of the batch being sent, while it is out of the queue.
    in_flight: Option<Class>,
    /// Snapshots (taken_at_ms, class) whose batches were already split after a 413: a second
    /// 413 for them drops the batch instead of splitting again.
    split_once: std::collections::HashSet<(u64, Class)>,
    auth_failed: bool,
    /// The last permanent refusal logged at error level.
    last_refusal: Option<String>,
    status: Arc<Mutex<UplinkStatus>>,
    counters: DeliveryCounters,
}

pub(super) async fn run(
    settings: WorkerSettings,
    mut commands: mpsc::UnboundedReceiver<Command>,
    status: Arc<Mutex<UplinkStatus>>,
) {
    let now = Instant::now();
    let mut worker = Worker {
        queue: DeliveryQueue::new(settings.queue),
        bucket: TokenBucket::new(settings.per_minute, now),
        breaker: CircuitBreaker::new(settings.breaker),
        settings,
        rng: fastrand::Rng::new(),
        slot: None,
        events: Vec::new(),
        events_dropped: 0,
        retry_at: None,
        in_flight: None,
        split_once: std::collections::HashSet::new(),
        auth_failed: false,
        last_refusal: None,
        status,
        counters: DeliveryCounters::default(),
    };
    worker.publish(UplinkState::Starting);
    loop {
        worker.fill_queue();
        let wait = worker.next_send_in(Instant::now());
        let command = match wait {
            Some(wait) if wait.is_zero() => {
                worker.send_front().await;
                continue;
            }
            Some(wait) => tokio::select! {
                command = commands.recv() => command,
                () = tokio::time::sleep(wait) => continue,
            },
            None => commands.recv().await,
        };
        match command {
            Some(Command::Snapshot(snapshot)) => worker.receive(snapshot),
            Some(Command::SetRate(per_minute)) => {
                worker.bucket = TokenBucket::new(per_minute, Instant::now());
            }
            Some(Command::RemoteVersion(version)) => {
                if let Ok(mut status) = worker.status.lock() {
                    status.remote_config_version = Some(version);
                }
            }
            Some(Command::Shutdown(done)) => {
                worker.flush().await;
                let _ = done.send(());
                return;
            }
            None => {
                worker.flush().await;
                return;
            }
        }
    }
}

/// Lifecycle events kept while they wait for the backend, at most.
const MAX_WAITING_EVENTS: usize = 10_000;

impl Worker {
    fn receive(&mut self, snapshot: Arc<Snapshot>) {
        // The sampler worked the events out (one model for every consumer); each snapshot
        // carries those since the one before, so none is lost when snapshots coalesce here.
        if self.settings.encoder.carries_events() {
            self.events.extend(snapshot.events.iter().cloned());
            // While the backend is away the events wait; an exec storm during an outage must
            // not grow them without bound: the oldest go first.
            let excess = self.events.len().saturating_sub(MAX_WAITING_EVENTS);
            if excess > 0 {
                self.events.drain(..excess);
                self.events_dropped = self.events_dropped.saturating_add(excess as u64);
                tracing::warn!(
                    "{} lifecycle events dropped so far: more than {MAX_WAITING_EVENTS} waited \
                     for the backend",
                    self.events_dropped
                );
            }
        }
        if self.slot.replace(snapshot).is_some() {
            // The replaced snapshot was never encoded, so it was never produced either: the
            // newer one carries its state (and delta sums cover both intervals).
            self.counters.record_drop(DropReason::Coalesced);
            self.counters.record_produced(1);
        }
        self.publish_current();
    }

    /// Encodes the waiting snapshot once the previous snapshot's batches are gone, and the
    /// waiting events whenever a request is due.
    fn fill_queue(&mut self) {
        let snapshot_queued = self.queue_has(Class::Snapshot);
        if !snapshot_queued {
            if let Some(snapshot) = self.slot.take() {
                let batches = self.settings.encoder.snapshot(&snapshot);
                if !self.events.is_empty() {
                    let events = std::mem::take(&mut self.events);
                    let event_batches = self.settings.encoder.events(&snapshot, &events);
                    self.push_all(event_batches);
                }
                self.push_all(batches);
            }
        }
        self.publish_current();
    }

    fn queue_has(&self, class: Class) -> bool {
        self.queue.has_class(class) || self.in_flight == Some(class)
    }

    fn push_all(&mut self, batches: Vec<Batch>) {
        for batch in batches {
            let bytes = self.size_of(&batch);
            self.counters.record_produced(1);
            let dropped = self.queue.push(batch, bytes);
            self.counters.record_dropped(&dropped);
        }
    }

    fn size_of(&self, batch: &Batch) -> usize {
        batch
            .body(self.settings.encoding, self.settings.compression)
            .map(|b| b.bytes.len())
            .unwrap_or(0)
    }

    /// How long until the front batch may be sent; None when there is nothing to send.
    fn next_send_in(&mut self, now: Instant) -> Option<Duration> {
        self.queue.front()?;
        let retry = self
            .retry_at
            .map_or(Duration::ZERO, |at| at.saturating_duration_since(now));
        let breaker = self.breaker.allow(now).err().unwrap_or(Duration::ZERO);
        let wait = retry.max(breaker);
        if !wait.is_zero() {
            return Some(wait);
        }
        // Only take a token when everything else allows the request.
        match self.bucket.try_take(now) {
            Ok(()) => Some(Duration::ZERO),
            Err(wait) => Some(wait),
        }
    }

    async fn send_front(&mut self) {
        let Some(entry) = self.queue.take_front() else {
            return;
        };
        self.in_flight = Some(entry.batch.class);
        let (outcome, retry_after, message) = self.attempt(&entry).await;
        self.in_flight = None;
        self.settle(entry, outcome, retry_after, message);
    }

    /// One attempt at sending `entry`: what came of it, any Retry-After, and a loggable message.
    async fn attempt(
        &mut self,
        entry: &QueuedBatch,
    ) -> (Outcome, Option<Duration>, Option<String>) {
        let body = match entry
            .batch
            .body(self.settings.encoding, self.settings.compression)
        {
            Ok(body) => body,
            // Cannot happen for records we built ourselves; dropped rather than retried forever.
            Err(e) => {
                return (
                    Outcome::Permanent(0),
                    None,
                    Some(format!("encoding a batch: {e}")),
                )
            }
        };
        match &self.settings.sink {
            Sink::File(path) => match ndjson::append_to_file(path, &entry.batch) {
                Ok(()) => (Outcome::Success, None, None),
                // A symlink, someone else's file, a FIFO: refused now, refused on every retry.
                // The batch is dropped (counted under status 0) and the reason logged once.
                Err(e) if e.is_refusal() => (Outcome::Permanent(0), None, Some(e.to_string())),
                // A full disk or a missing directory may be fixed: retried like a network error.
                Err(e) => (
                    classify(None, Some(TransportErrorKind::Io)),
                    None,
                    Some(e.to_string()),
                ),
            },
            Sink::Http(transport) => match transport.send(&body).await {
                Ok(response) => {
                    let outcome =
                        classify(Some(response.status), None).with_rejected(response.rejected);
                    let retry_after = response
                        .retry_after
                        .as_deref()
                        .and_then(|h| parse_retry_after(h, SystemTime::now()));
                    let message = (!(200..300).contains(&response.status)).then(|| {
                        format!(
                            "HTTP {} from {}{}",
                            response.status,
                            transport.endpoint_for(body.path),
                            response
                                .message
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        )
                    });
                    (outcome, retry_after, message)
                }
                Err(e) => {
                    let kind = if e.timed_out {
                        TransportErrorKind::Timeout
                    } else {
                        TransportErrorKind::Connect
                    };
                    (classify(None, Some(kind)), None, Some(e.message))
                }
            },
        }
    }

    fn settle(
        &mut self,
        mut entry: QueuedBatch,
        outcome: Outcome,
        retry_after: Option<Duration>,
        message: Option<String>,
    ) {
        let now = Instant::now();
        if outcome.is_endpoint_failure() {
            self.breaker.record_failure(now);
        } else {
            self.breaker.record_success();
        }
        match outcome {
            Outcome::Success => {
                self.counters.record_sent(crate::time::now_ms());
                self.retry_at = None;
                self.auth_failed = false;
            }
            Outcome::PartialSuccess { rejected } => {
                self.counters
                    .record_partial_success(rejected, crate::time::now_ms());
                if let Some(message) = &message {
                    tracing::warn!(
                        "backend accepted a batch but rejected {rejected} records: {message}"
                    );
                }
                self.retry_at = None;
                self.auth_failed = false;
            }
            Outcome::Retry | Outcome::RetryAfterAuth => {
                let message = message.unwrap_or_else(|| "retryable failure".to_owned());
                self.counters.record_retry(&message);
                let backoff = self.settings.backoff;
                let delay = if outcome == Outcome::RetryAfterAuth {
                    if !self.auth_failed {
                        tracing::error!(
                            "{message}: the backend refused the credentials; retrying every {:?}",
                            backoff.auth_interval
                        );
                    }
                    self.auth_failed = true;
                    backoff.auth_delay(retry_after)
                } else {
                    tracing::warn!("{message}; retrying (attempt {})", entry.attempts + 1);
                    backoff.delay(entry.attempts, retry_after, &mut self.rng)
                };
                self.retry_at = Some(now + delay);
                entry.attempts = entry.attempts.saturating_add(1);
                let dropped = self.queue.requeue_front(entry);
                self.counters.record_dropped(&dropped);
            }
            Outcome::TooLarge => {
                let key = (entry.batch.taken_at_ms, entry.batch.class);
                let halves = entry
                    .batch
                    .records
                    .split()
                    .filter(|_| !self.split_once.contains(&key));
                match halves {
                    Some((first, second)) => {
                        tracing::warn!(
                            "backend said 413 Payload Too Large; splitting the batch once"
                        );
                        self.split_once.insert(key);
                        self.counters.record_split();
                        // Second half first, so the first half ends up at the front.
                        for records in [second, first] {
                            let half = Batch {
                                class: entry.batch.class,
                                taken_at_ms: entry.batch.taken_at_ms,
                                records,
                            };
                            let bytes = self.size_of(&half);
                            let dropped = self.queue.push_front(half, bytes);
                            self.counters.record_dropped(&dropped);
                        }
                    }
                    None => {
                        self.counters
                            .record_error(&message.unwrap_or_else(|| "HTTP 413".to_owned()));
                        self.counters.record_drop(DropReason::TooLarge);
                    }
                }
            }
            Outcome::Permanent(status) => {
                let message = message.unwrap_or_else(|| format!("HTTP {status}"));
                // A backend that refuses one kind of data (logs on a metrics-only store) would
                // otherwise log the same error every interval: say it once, then at debug.
                if self.last_refusal.as_deref() == Some(message.as_str()) {
                    tracing::debug!("{message}; dropping the batch (not retryable)");
                } else {
                    tracing::error!("{message}; dropping the batch (not retryable)");
                    self.last_refusal = Some(message.clone());
                }
                self.counters.record_error(&message);
                self.counters.record_drop(DropReason::Permanent(status));
            }
        }
        self.publish_current();
    }

    /// Sends what is queued until the deadline, then counts the rest as dropped.
    async fn flush(&mut self) {
        let deadline = Instant::now() + self.settings.shutdown_timeout;
        self.publish(UplinkState::Stopped);
        loop {
            self.fill_queue();
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match self.next_send_in(now) {
                None => break,
                Some(wait) if wait.is_zero() => {
                    let left = deadline.saturating_duration_since(now);
                    if tokio::time::timeout(left, self.send_front()).await.is_err() {
                        break;
                    }
                }
                Some(wait) => {
                    let left = deadline.saturating_duration_since(now);
                    if wait >= left {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
        let dropped = self.queue.drain_shutdown();
        self.counters.record_dropped(&dropped);
        if self.slot.take().is_some() {
            // Never encoded: count it as produced and dropped so the books still balance.
            self.counters.record_produced(1);
            self.counters.record_drop(DropReason::Shutdown);
        }
        self.publish(UplinkState::Stopped);
    }

    fn state(&self) -> UplinkState {
        if self.auth_failed {
            UplinkState::AuthFailed
        } else if self.retry_at.is_some() {
            UplinkState::Retrying
        } else if self.counters.dropped_queue_full > 0
            && self.queue.len() >= self.queue.limits().max_items
        {
            UplinkState::Dropping
        } else if self.counters.sent > 0 || self.counters.last_success_at_ms.is_some() {
            UplinkState::Ok
        } else {
            UplinkState::Starting
        }
    }

    fn publish_current(&mut self) {
        let state = self.state();
        self.publish(state);
    }

    fn publish(&mut self, state: UplinkState) {
        if let Ok(mut status) = self.status.lock() {
            status.state = state;
            status.counters = self.counters.clone();
            status.queued = self.queue.len() as u64;
        }
    }
}
