//! What a response means for the batch, and how long to wait before trying again.
//!
//! Classification follows the OTLP/HTTP specification ("Failures" and "Throttling"): only 429,
//! 502, 503 and 504 are retryable; every other 4xx and 5xx must not be retried. On top of that:
//! network failures (no response at all) and 408 are retried like timeouts; 401/403 put the
//! uplink in an "auth failed" state that retries slowly (credentials may be fixed server-side);
//! 413 asks the caller to split the batch in two.
//!
//! Waiting: exponential backoff with full jitter (uniform in `[0, min(max, base * factor^n)]`),
//! unless the server sent `Retry-After`, which overrides it (capped, so a hostile server cannot
//! park the uplink for a year).

use std::time::{Duration, SystemTime};

/// Why there was no HTTP response. All kinds are retryable: the request may not even have
/// reached the backend. (A request that cannot be built at all, e.g. an invalid URL, is a
/// configuration error found before sending and never gets here.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// Could not connect: DNS failure, refused, unreachable.
    Connect,
    /// No (complete) response in time.
    Timeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// The connection broke during the exchange (reset, closed early).
    Io,
}

/// What to do with a batch after one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Accepted (any 2xx).
    Success,
    /// Accepted, but the backend reported `rejected` records it dropped (OTLP `partial_success`).
    /// Never retried: resending would only be rejected again. The caller decides how to report
    /// it. Produced by [`Outcome::with_rejected`], since only the response body tells.
    PartialSuccess { rejected: u64 },
    /// Try again after a backoff (or the server's `Retry-After`).
    Retry,
    /// 401/403: credentials refused. Retry slowly ([`Backoff::auth_interval`]) and show
    /// "auth failed"; the data stays queued (and ages out through the bounded queue).
    RetryAfterAuth,
    /// 413: split the batch in two and send the halves; if it cannot be split, drop it.
    TooLarge,
    /// Must not be retried: drop the batch, counting it under this status.
    Permanent(u16),
}

impl Outcome {
    /// Turns `Success` into `PartialSuccess` when the response body reported rejected records;
    /// any other outcome (and `rejected == 0`) is returned unchanged.
    pub fn with_rejected(self, rejected: u64) -> Outcome {
        match self {
            Outcome::Success if rejected > 0 => Outcome::PartialSuccess { rejected },
            other => other,
        }
    }

    /// Whether the batch stays queued for another attempt (`Retry`, `RetryAfterAuth`).
    pub fn is_retryable(self) -> bool {
        matches!(self, Outcome::Retry | Outcome::RetryAfterAuth)
    }

    /// Whether this attempt counts as a failure of the endpoint for the circuit breaker: only
    /// `Retry` (network failures, timeouts, 429, 502-504). Any other answer shows the endpoint
    /// is up and judging requests, so it counts as a breaker success.
    pub fn is_endpoint_failure(self) -> bool {
        matches!(self, Outcome::Retry)
    }
}

/// Classifies one attempt. A status, when there is one, decides (a body read that failed after
/// the status arrived does not undo an acceptance); otherwise a transport error, or no answer
/// at all, is retryable.
pub fn classify(status: Option<u16>, transport_error: Option<TransportErrorKind>) -> Outcome {
    match (status, transport_error) {
        (Some(status), _) => classify_status(status),
        // No response: every transport error kind is retryable, and so (defensively) is the
        // case of neither a status nor an error.
        (None, _) => Outcome::Retry,
    }
}

fn classify_status(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Success,
        401 | 403 => Outcome::RetryAfterAuth,
        // Request Timeout: the server gave up waiting for us, like a client-side timeout.
        408 => Outcome::Retry,
        413 => Outcome::TooLarge,
        // Throttled, or a gateway/proxy in front of the backend failed: the OTLP retryable set.
        429 | 502 | 503 | 504 => Outcome::Retry,
        // 500 is deliberately NOT retried: the OTLP/HTTP spec lists only 429, 502, 503 and 504
        // as retryable, and a backend that crashes on a request would crash on it again.
        // Likewise 400, 404, other 4xx, 501 and other 5xx, plus anything outside 2xx that is
        // not an error code (1xx, unfollowed 3xx): permanent.
        other => Outcome::Permanent(other),
    }
}

/// Upper bound on any `Retry-After` the server may ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// Parses a `Retry-After` value: delay-seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`, also the obsolete RFC 850 and asctime forms), relative to
/// `now`. Anything else (fractions, signs other than a leading `-`, units, empty) is `None`.
/// Results are clamped to `[0, MAX_RETRY_AFTER]`: negative seconds and past dates mean "now",
/// absurd values mean the cap.
pub fn parse_retry_after(header: &str, now: SystemTime) -> Option<Duration> {
    let value = header.trim();
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if negative {
            return Some(Duration::ZERO);
        }
        // All digits: only overflow can make parsing fail, which is "very long" -> the cap.
        let secs = digits.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    if negative {
        return None;
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let wait = at.duration_since(now).unwrap_or(Duration::ZERO);
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Exponential backoff with full jitter, plus the slow cadence of the auth-failed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling of the first retry's delay.
    pub base: Duration,
    /// Growth of the ceiling per failed attempt (1 means constant).
    pub factor: u32,
    /// Largest ceiling; also caps a `Retry-After`.
    pub max: Duration,
    /// Delay between attempts while credentials are refused (401/403).
    pub auth_interval: Duration,
}

impl Default for Backoff {
    /// base 1 s, factor 2, max 5 min, auth retries every 5 min.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            factor: 2,
            max: Duration::from_secs(5 * 60),
            auth_interval: Duration::from_secs(5 * 60),
        }
    }
}

impl Backoff {
    /// The largest delay for retry number `attempt` (0 for the first retry):
    /// `min(max, base * factor^attempt)`, without overflow.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let growth = self.factor.max(1).saturating_pow(attempt);
        self.base.saturating_mul(growth).min(self.max)
    }

    /// Full jitter: uniform in `[0, ceiling(attempt)]`, nanosecond resolution. Deterministic for
    /// a seeded `rng`.
    pub fn next_delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.u64(0..=ceiling))
    }

    /// The wait before retry number `attempt`: the server's `Retry-After` when it sent one
    /// (capped at `max`), else [`next_delay`](Self::next_delay).
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut fastrand::Rng,
    ) -> Duration {
        match retry_after {
            Some(wait) => wait.min(self.max),
            None => self.next_delay(attempt, rng),
        }
    }

    /// The wait after a 401/403: the slow auth cadence, or a longer `Retry-After` (capped at
    /// `max(auth_interval, max)`).
    pub fn auth_delay(&self, retry_after: Option<Duration>) -> Duration {
        let cap = self.auth_interval.max(self.max);
        retry_after
            .map_or(self.auth_interval, |wait| wait.max(self.auth_interval))
            .min(cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_code_is_classified() {
        let cases = [
            (200, Outcome::Success),
            (202, Outcome::Success),
            (204, Outcome::Success),
            (400, Outcome::Permanent(400)),
            (401, Outcome::RetryAfterAuth),
            (403, Outcome::RetryAfterAuth),
            (404, Outcome::Permanent(404)),
            (405, Outcome::Permanent(405)),
            (408, Outcome::Retry),
            (413, Outcome::TooLarge),
            (415, Outcome::Permanent(415)),
            (429, Outcome::Retry),
            (500, Outcome::Permanent(500)),
            (501, Outcome::Permanent(501)),
            (502, Outcome::Retry),
            (503, Outcome::Retry),
            (504, Outcome::Retry),
            (505, Outcome::Permanent(505)),
            (302, Outcome::Permanent(302)),
            (101, Outcome::Permanent(101)),
        ];
        for (status, expected) in cases {
            assert_eq!(classify(Some(status), None), expected, "status {status}");
        }
    }

    #[test]
    fn transport_errors_are_retryable_and_a_status_wins_over_them() {
        for kind in [
            TransportErrorKind::Connect,
            TransportErrorKind::Timeout,
            TransportErrorKind::Tls,
            TransportErrorKind::Io,
        ] {
            assert_eq!(classify(None, Some(kind)), Outcome::Retry);
        }
        assert_eq!(classify(None, None), Outcome::Retry);
        assert_eq!(
            classify(Some(200), Some(TransportErrorKind::Io)),
            Outcome::Success
        );
    }

    #[test]
    fn partial_success_only_from_success_with_rejections_and_never_retried() {
        assert_eq!(Outcome::Success.with_rejected(0), Outcome::Success);
        let partial = Outcome::Success.with_rejected(3);
        assert_eq!(partial, Outcome::PartialSuccess { rejected: 3 });
        assert!(!partial.is_retryable());
        assert_eq!(Outcome::Retry.with_rejected(3), Outcome::Retry);
    }

    #[test]
    fn only_retry_outcomes_are_endpoint_failures() {
        assert!(Outcome::Retry.is_endpoint_failure());
        assert!(Outcome::Retry.is_retryable());
        assert!(Outcome::RetryAfterAuth.is_retryable());
        for o in [
            Outcome::Success,
            Outcome::RetryAfterAuth,
            Outcome::TooLarge,
            Outcome::Permanent(400),
        ] {
            assert!(!o.is_endpoint_failure(), "{o:?}");
        }
        for o in [Outcome::Success, Outcome::TooLarge, Outcome::Permanent(500)] {
            assert!(!o.is_retryable(), "{o:?}");
        }
    }

    fn now() -> SystemTime {
        // A fixed, whole-second instant: HTTP dates have second resolution.
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn retry_after_delta_seconds() {
        assert_eq!(
            parse_retry_after("120", now()),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now()), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("007", now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn retry_after_http_date() {
        let at = now() + Duration::from_secs(90);
        let header = httpdate::fmt_http_date(at);
        assert_eq!(
            parse_retry_after(&header, now()),
            Some(Duration::from_secs(90))
        );
        // 1_700_000_000 is Tue, 14 Nov 2023 22:13:20 GMT.
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:14:00 GMT", now()),
            Some(Duration::from_secs(40))
        );
        // Obsolete RFC 850 form is still accepted.
        assert_eq!(
            parse_retry_after("Tuesday, 14-Nov-23 22:14:00 GMT", now()),
            Some(Duration::from_secs(40))
        );
    }

    #[test]
    fn retry_after_malformed_is_rejected() {
        for bad in [
            "",
            "   ",
            "1.5",
            "+5",
            "5s",
            "soon",
            "-",
            "-x",
            "12 34",
            "Tue, 99 Nov 2023 22:14:00 GMT",
            "0x10",
        ] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_huge_is_capped() {
        assert_eq!(parse_retry_after("86400", now()), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("99999999999999999999999999", now()),
            Some(MAX_RETRY_AFTER)
        );
        let far = httpdate::fmt_http_date(now() + Duration::from_secs(365 * 86400));
        assert_eq!(parse_retry_after(&far, now()), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_past_date_and_negative_are_zero() {
        let past = httpdate::fmt_http_date(now() - Duration::from_secs(3600));
        assert_eq!(parse_retry_after(&past, now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-5", now()), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_ceiling_grows_exponentially_up_to_max() {
        let b = Backoff::default();
        let secs: Vec<u64> = (0..12).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(b.ceiling(u32::MAX), b.max);
        let constant = Backoff { factor: 1, ..b };
        assert_eq!(constant.ceiling(10), Duration::from_secs(1));
    }

    #[test]
    fn backoff_is_jittered_within_zero_and_ceiling() {
        let b = Backoff::default();
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 0..20 {
            let ceiling = b.ceiling(attempt);
            let delays: Vec<Duration> = (0..200).map(|_| b.next_delay(attempt, &mut rng)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            // Jittered: not all the same, and spread over the range.
            assert!(delays.iter().any(|d| *d < ceiling / 4));
            assert!(delays.iter().any(|d| *d > ceiling * 3 / 4));
        }
    }

    #[test]
    fn backoff_is_deterministic_with_a_seeded_rng() {
        let b = Backoff::default();
        let run = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..10)
                .map(|n| b.next_delay(n, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn retry_after_overrides_backoff_and_is_capped_by_max() {
        let b = Backoff {
            max: Duration::from_secs(60),
            ..Backoff::default()
        };
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(30)), &mut rng),
            Duration::from_secs(30)
        );
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(600)), &mut rng),
            Duration::from_secs(60)
        );
        assert_eq!(b.delay(3, Some(Duration::ZERO), &mut rng), Duration::ZERO);
        assert!(b.delay(3, None, &mut rng) <= b.ceiling(3));
    }

    #[test]
    fn auth_failures_retry_slowly() {
        let b = Backoff::default();
        assert_eq!(b.auth_delay(None), Duration::from_secs(300));
        // A shorter Retry-After does not speed it up; a longer one is honoured up to the cap.
        assert_eq!(
            b.auth_delay(Some(Duration::from_secs(5))),
            Duration::from_secs(300)
        );
        let slow = Backoff {
            max: Duration::from_secs(900),
            ..b
        };
        assert_eq!(
            slow.auth_delay(Some(Duration::from_secs(600))),
            Duration::from_secs(600)
        );
        assert_eq!(
            slow.auth_delay(Some(Duration::from_secs(3600))),
            Duration::from_secs(900)
        );
    }
}
