//! Request rate limit: a token bucket over requests.
//!
//! Refill is continuous at `per_minute` tokens a minute (one token every `60 s / per_minute`,
//! rounded up to the nanosecond so the rate never exceeds `per_minute`). Capacity (the burst)
//! is `max(1, per_minute / 6)`: ten seconds' worth, so a backend that comes back after an outage
//! sees a short burst, not a whole minute's worth at once. It starts full.
//!
//! Guarantees: over any window of length `w`, at most `capacity + w / interval` requests pass;
//! so at most `per_minute + capacity` in any 60 s window, and the long-run average is at most
//! `per_minute`.
//!
//! Implemented as the equivalent "virtual scheduling" form (GCRA): instead of a fractional
//! token count it keeps the theoretical time at which the bucket would be full again, which is
//! exact integer arithmetic on `Instant`s.

use std::time::{Duration, Instant};

/// Token bucket over requests; see the module docs.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_minute: u32,
    capacity: u32,
    /// Time for one token to refill.
    interval: Duration,
    /// How far ahead of `now` the full-again time may be while a token is still available:
    /// `(capacity - 1) * interval`.
    tolerance: Duration,
    /// When the bucket will be full again (in the past or `now` when it is full).
    full_at: Instant,
}

impl TokenBucket {
    /// A full bucket allowing `per_minute` requests a minute (0 is raised to 1).
    pub fn new(per_minute: u32, now: Instant) -> Self {
        let per_minute = per_minute.max(1);
        let capacity = (per_minute / 6).max(1);
        let minute_ns: u64 = 60_000_000_000;
        let interval = Duration::from_nanos(minute_ns.div_ceil(u64::from(per_minute)));
        let tolerance = interval.saturating_mul(capacity - 1);
        TokenBucket {
            per_minute,
            capacity,
            interval,
            tolerance,
            full_at: now,
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// The burst size: how many requests may pass back to back from a full bucket.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Takes a token if one is available at `now`; otherwise how long until one is.
    /// A `now` earlier than a previous call's never creates tokens: it only finds a longer wait.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let full_at = self.full_at.max(now);
        let ahead = full_at.saturating_duration_since(now);
        if ahead > self.tolerance {
            return Err(ahead - self.tolerance);
        }
        self.full_at = full_at + self.interval;
        Ok(())
    }

    /// Whole tokens available at `now` (without taking any).
    pub fn available(&self, now: Instant) -> u32 {
        let ahead = self.full_at.saturating_duration_since(now);
        let missing = ahead.as_nanos().div_ceil(self.interval.as_nanos());
        let missing = u32::try_from(missing).unwrap_or(u32::MAX);
        self.capacity.saturating_sub(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs an eager sender for `total`: it sends whenever allowed and otherwise sleeps exactly
    /// the returned wait. Returns the send times as offsets from the start.
    fn eager(per_minute: u32, total: Duration) -> Vec<Duration> {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(per_minute, start);
        let mut t = Duration::ZERO;
        let mut sent = Vec::new();
        while t <= total {
            match bucket.try_take(start + t) {
                Ok(()) => sent.push(t),
                Err(wait) => {
                    assert!(wait > Duration::ZERO);
                    t += wait;
                }
            }
        }
        sent
    }

    fn max_in_window(sent: &[Duration], window: Duration) -> usize {
        // Closed windows [s, s + window] starting at each send (the worst case always starts at
        // a send); `sent` is in time order, so a second index sweeps along.
        let mut end = 0;
        let mut most = 0;
        for (start, &s) in sent.iter().enumerate() {
            while end < sent.len() && sent[end] <= s + window {
                end += 1;
            }
            most = most.max(end - start);
        }
        most
    }

    #[test]
    fn six_per_minute_over_ten_simulated_minutes_stays_within_bound() {
        let minute = Duration::from_secs(60);
        let sent = eager(6, minute * 10);
        let bucket = TokenBucket::new(6, Instant::now());
        assert_eq!(bucket.capacity(), 1);
        // Documented bound: per_minute + capacity in any 60 s window.
        assert!(max_in_window(&sent, minute) <= 6 + 1, "{sent:?}");
        // Long run: at most capacity + 6 per minute over 10 minutes (the +capacity is the
        // initial full bucket), i.e. an average of at most 6/min after the burst.
        assert!(sent.len() <= 60 + 1, "{}", sent.len());
        let first_to_last = sent.last().copied().unwrap_or_default() - sent[0];
        let rate_per_min = (sent.len() - 1) as f64 / (first_to_last.as_secs_f64() / 60.0);
        assert!(rate_per_min <= 6.0, "{rate_per_min}");
        // And the eager sender is not starved either.
        assert!(sent.len() >= 60);
    }

    #[test]
    fn burst_is_capacity_then_one_per_interval() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(120, start);
        assert_eq!(bucket.capacity(), 20);
        assert_eq!(bucket.available(start), 20);
        for _ in 0..20 {
            assert_eq!(bucket.try_take(start), Ok(()));
        }
        assert_eq!(bucket.available(start), 0);
        assert_eq!(bucket.try_take(start), Err(Duration::from_millis(500)));
        assert_eq!(
            bucket.try_take(start + Duration::from_millis(499)),
            Err(Duration::from_millis(1))
        );
        assert_eq!(bucket.try_take(start + Duration::from_millis(500)), Ok(()));
    }

    #[test]
    fn high_rate_over_ten_minutes_respects_window_bound() {
        let minute = Duration::from_secs(60);
        let sent = eager(600, minute * 10);
        assert!(max_in_window(&sent, minute) <= 600 + 100);
        assert!(sent.len() <= 6000 + 100);
    }

    #[test]
    fn uneven_rate_rounds_interval_up_so_rate_never_exceeds_limit() {
        let start = Instant::now();
        let bucket = TokenBucket::new(7, start);
        // 60 s / 7 = 8.571428571428... s, rounded up.
        assert_eq!(bucket.interval, Duration::from_nanos(8_571_428_572));
        assert!(bucket.interval * 7 >= Duration::from_secs(60));
    }

    #[test]
    fn idle_time_refills_only_up_to_capacity() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(60, start);
        assert_eq!(bucket.capacity(), 10);
        let later = start + Duration::from_secs(3600);
        assert_eq!(bucket.available(later), 10);
        for _ in 0..10 {
            assert_eq!(bucket.try_take(later), Ok(()));
        }
        assert_eq!(bucket.try_take(later), Err(Duration::from_secs(1)));
    }

    #[test]
    fn zero_rate_is_raised_to_one_and_clock_going_back_is_harmless() {
        let start = Instant::now() + Duration::from_secs(100);
        let mut bucket = TokenBucket::new(0, start);
        assert_eq!((bucket.per_minute(), bucket.capacity()), (1, 1));
        assert_eq!(bucket.try_take(start), Ok(()));
        assert_eq!(
            bucket.try_take(start - Duration::from_secs(10)),
            Err(Duration::from_secs(70))
        );
    }
}
