//! Per-endpoint circuit breaker: stop hammering a backend that keeps failing.
//!
//! * Closed: requests pass. `failure_threshold` consecutive failures open it.
//! * Open: requests wait out a cool-down (`cool_down` at first).
//! * HalfOpen: after the cool-down one probe request passes. Its success closes the breaker and
//!   resets the cool-down; its failure reopens it with the cool-down doubled, up to
//!   `max_cool_down`. A probe whose result is never recorded does not wedge the breaker: after
//!   another cool-down a new probe is let through.
//!
//! Which outcomes are failures is the caller's call; see
//! [`Outcome::is_endpoint_failure`](super::Outcome::is_endpoint_failure).

use std::time::{Duration, Instant};

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open a closed breaker (at least 1).
    pub failure_threshold: u32,
    /// First cool-down after opening.
    pub cool_down: Duration,
    /// Largest cool-down, reached by doubling on each failed probe.
    pub max_cool_down: Duration,
}

impl Default for BreakerConfig {
    /// 5 failures, 30 s cool-down growing to 5 min.
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
            max_cool_down: Duration::from_secs(5 * 60),
        }
    }
}

/// The breaker's state, for display and decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe was let through at `since`.
    HalfOpen {
        since: Instant,
    },
}

/// One endpoint's circuit breaker; see the module docs.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Inner,
    consecutive_failures: u32,
    /// The cool-down the next opening will use.
    cool_down: Duration,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> Self {
        let config = BreakerConfig {
            failure_threshold: config.failure_threshold.max(1),
            cool_down: config.cool_down,
            max_cool_down: config.max_cool_down.max(config.cool_down),
        };
        CircuitBreaker {
            config,
            inner: Inner::Closed,
            consecutive_failures: 0,
            cool_down: config.cool_down,
        }
    }

    pub fn state(&self) -> BreakerState {
        match self.inner {
            Inner::Closed => BreakerState::Closed,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Failures in a row since the last success.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// The cool-down the breaker uses the next time it opens (or is using now).
    pub fn current_cool_down(&self) -> Duration {
        self.cool_down
    }

    /// May a request be sent at `now`? If not, how long until one may. Letting the half-open
    /// probe through is recorded, so a second caller is refused until the probe's result is in.
    pub fn allow(&mut self, now: Instant) -> Result<(), Duration> {
        let ready_at = match self.inner {
            Inner::Closed => return Ok(()),
            Inner::Open { until } => until,
            // The probe's result never came: another may go once a whole cool-down passed.
            Inner::HalfOpen { since } => since + self.cool_down,
        };
        if now >= ready_at {
            self.inner = Inner::HalfOpen { since: now };
            Ok(())
        } else {
            Err(ready_at - now)
        }
    }

    /// The last request got through: close, and forget past failures.
    pub fn record_success(&mut self) {
        self.inner = Inner::Closed;
        self.consecutive_failures = 0;
        self.cool_down = self.config.cool_down;
    }

    /// The last request failed at `now`.
    pub fn record_failure(&mut self, now: Instant) {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        match self.inner {
            Inner::Closed => {
                if self.consecutive_failures >= self.config.failure_threshold {
                    self.inner = Inner::Open {
                        until: now + self.cool_down,
                    };
                }
            }
            Inner::HalfOpen { .. } => {
                // The probe failed: back off harder.
                self.cool_down = self
                    .cool_down
                    .saturating_mul(2)
                    .min(self.config.max_cool_down);
                self.inner = Inner::Open {
                    until: now + self.cool_down,
                };
            }
            // A request that was already in flight when the breaker opened: it changes nothing.
            Inner::Open { .. } => {}
        }
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker::new(BreakerConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::default();
        for n in 1..5 {
            assert_eq!(b.allow(t0), Ok(()));
            b.record_failure(t0);
            assert_eq!(b.state(), BreakerState::Closed, "after {n} failures");
        }
        b.record_failure(t0);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.allow(t0), Err(30 * S));
        assert_eq!(b.allow(t0 + 10 * S), Err(20 * S));
    }

    #[test]
    fn success_resets_the_consecutive_count() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::default();
        for _ in 0..4 {
            b.record_failure(t0);
        }
        b.record_success();
        assert_eq!(b.consecutive_failures(), 0);
        for _ in 0..4 {
            b.record_failure(t0);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_opens_after_cool_down_and_lets_one_probe_through() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 2,
            ..BreakerConfig::default()
        });
        b.record_failure(t0);
        b.record_failure(t0);
        assert_eq!(b.allow(t0 + 29 * S), Err(S));
        assert_eq!(b.allow(t0 + 30 * S), Ok(()));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        // Only one probe at a time.
        assert!(b.allow(t0 + 31 * S).is_err());
    }

    #[test]
    fn closes_on_probe_success() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            ..BreakerConfig::default()
        });
        b.record_failure(t0);
        assert_eq!(b.allow(t0 + 30 * S), Ok(()));
        b.record_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.allow(t0 + 30 * S), Ok(()));
        assert_eq!(b.current_cool_down(), 30 * S);
    }

    #[test]
    fn failed_probes_grow_the_cool_down_up_to_the_max_and_success_resets_it() {
        let mut t = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            ..BreakerConfig::default()
        });
        b.record_failure(t);
        let mut waits = Vec::new();
        for _ in 0..6 {
            let wait = b.allow(t).err().unwrap_or_default();
            waits.push(wait.as_secs());
            t += wait;
            assert_eq!(b.allow(t), Ok(()));
            b.record_failure(t);
            assert_eq!(b.state(), BreakerState::Open);
        }
        assert_eq!(waits, vec![30, 60, 120, 240, 300, 300]);
        assert_eq!(b.allow(t + 300 * S), Ok(()));
        b.record_success();
        b.record_failure(t);
        assert_eq!(b.allow(t), Err(30 * S));
    }

    #[test]
    fn lost_probe_is_replaced_after_another_cool_down() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            ..BreakerConfig::default()
        });
        b.record_failure(t0);
        assert_eq!(b.allow(t0 + 30 * S), Ok(()));
        assert_eq!(b.allow(t0 + 40 * S), Err(20 * S));
        assert_eq!(b.allow(t0 + 60 * S), Ok(()));
        assert_eq!(b.state(), BreakerState::HalfOpen);
    }

    #[test]
    fn failures_while_open_do_not_extend_it() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            ..BreakerConfig::default()
        });
        b.record_failure(t0);
        b.record_failure(t0 + 20 * S);
        assert_eq!(b.allow(t0 + 30 * S), Ok(()));
    }
}
