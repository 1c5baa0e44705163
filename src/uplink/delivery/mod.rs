//! Delivery: getting batches to the backend without losing track of any, and without hurting a
//! backend that is slow, down or hostile.
//!
//! Everything here is synchronous and pure: no I/O, no sleeping, no clock reads. Each call is
//! given `now` (or a duration) by the caller, so the async worker that owns these pieces decides
//! when things happen, and tests control time exactly.
//!
//! # The worker's loop
//!
//! 1. **Produce.** For each new snapshot: [`DeliveryQueue::coalesce_snapshots`] (the new
//!    snapshot supersedes queued, unsent `Snapshot` batches; `Events` stay), then
//!    [`DeliveryQueue::push`] each encoded batch with its body length. Count the batches with
//!    [`DeliveryCounters::record_produced`] and every returned [`Dropped`] with
//!    [`DeliveryCounters::record_dropped`].
//! 2. **Gate.** Ask the [`CircuitBreaker`] ([`CircuitBreaker::allow`]), then the
//!    [`TokenBucket`] ([`TokenBucket::try_take`]); either may answer "wait this long". Only then
//!    [`DeliveryQueue::take_front`]: from here the sender owns the entry, so coalescing or
//!    overflow cannot touch it mid-flight.
//! 3. **Send** (transport, outside this module), then [`classify`] the status or transport
//!    error; apply [`Outcome::with_rejected`] for an OTLP partial success. Report to the
//!    breaker: [`Outcome::is_endpoint_failure`] -> `record_failure(now)`, otherwise
//!    `record_success()`.
//! 4. **Act on the outcome.**
//!    * `Success` / `PartialSuccess`: forget the entry;
//!      [`DeliveryCounters::record_sent`] / [`DeliveryCounters::record_partial_success`].
//!    * `Retry`: `attempts += 1`, [`DeliveryQueue::requeue_front`], wait
//!      [`Backoff::delay`] (a `Retry-After` read with [`parse_retry_after`] overrides the
//!      jittered backoff, capped); [`DeliveryCounters::record_retry`].
//!    * `RetryAfterAuth`: requeue likewise, but wait [`Backoff::auth_delay`] (slow) and show
//!      [`UplinkState::AuthFailed`].
//!    * `TooLarge`: split the records ([`Records::split`](crate::uplink::batch::Records::split)),
//!      [`DeliveryCounters::record_split`], and [`DeliveryQueue::push_front`] the second half
//!      then the first; a batch that cannot be split is dropped as [`DropReason::TooLarge`].
//!    * `Permanent(status)`: drop as [`DropReason::Permanent`].
//! 5. **Stop.** [`DeliveryQueue::drain_shutdown`] after the final flush; the held entry, if any,
//!    is dropped as [`DropReason::Shutdown`].
//!
//! Throughout, [`DeliveryCounters::accounted`] holds: every produced batch is sent, dropped
//! (with a reason) or still queued.

pub mod breaker;
pub mod counters;
pub mod queue;
pub mod rate;
pub mod retry;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use counters::{DeliveryCounters, UplinkState, MAX_ERROR_CHARS};
pub use queue::{DeliveryQueue, DropReason, Dropped, QueueLimits, QueueStats, QueuedBatch};
pub use rate::TokenBucket;
pub use retry::{
    classify, parse_retry_after, Backoff, Outcome, TransportErrorKind, MAX_RETRY_AFTER,
};
