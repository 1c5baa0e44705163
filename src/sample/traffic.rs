//! Traffic rates from two readings of the kernel's TCP counters. Pure arithmetic over the
//! counters of one pass and of the pass before, keyed by socket cookie, so every edge (first
//! sight, a counter that went backwards, a reused inode or 4-tuple) is tested without sockets.

use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::model::{Proto, Role, SocketEntry, TcpCounters, Traffic, TrafficGap};

/// Windows shorter than this give rates that are mostly noise: no rate is more honest.
const SHORTEST_WINDOW_SECS: f64 = 0.01;

/// The counters of the last pass, by cookie, and when they were read.
#[derive(Debug, Default)]
pub struct TrafficHistory {
    previous: FxHashMap<u64, TcpCounters>,
    read_at: Option<Instant>,
}

/// The traffic figures of one pass: each socket's counters against the last pass's.
pub struct PassTraffic<'h> {
    previous: &'h FxHashMap<u64, TcpCounters>,
    window_secs: Option<f64>,
}

impl TrafficHistory {
    /// Starts a pass whose sockets were read at `now`; `figures` of the result gives each
    /// socket's traffic. Call `remember` with the pass's sockets once done.
    pub fn pass(&self, now: Instant) -> PassTraffic<'_> {
        let window_secs = self
            .read_at
            .map(|then| now.saturating_duration_since(then).as_secs_f64())
            .filter(|w| *w > SHORTEST_WINDOW_SECS);
        PassTraffic {
            previous: &self.previous,
            window_secs,
        }
    }

    /// The counters of the last pass, by cookie.
    pub fn previous(&self) -> &FxHashMap<u64, TcpCounters> {
        &self.previous
    }

    /// Keeps this pass's counters for the next one; sockets gone since are forgotten.
    pub fn remember(&mut self, entries: &[SocketEntry], read_at: Instant) {
        self.previous.clear();
        // Only sockets with counters: a TIME_WAIT entry carries its socket's cookie and no
        // tcp_info, and must not hide the last counters the closed socket is measured from.
        self.previous.extend(
            entries
                .iter()
                .filter_map(|e| e.counters)
                .filter(|c| c.cookie != 0 && c.bytes_acked.is_some())
                .map(|c| (c.cookie, c)),
        );
        self.read_at = Some(read_at);
    }
}

impl PassTraffic<'_> {
    /// Seconds since the last pass's dump; None on the first or after too short a time.
    pub fn window_secs(&self) -> Option<f64> {
        self.window_secs
    }

    /// The figures of one socket, `role` being which end it is.
    pub fn figures(&self, entry: &SocketEntry, role: Role) -> Traffic {
        if entry.proto == Proto::Udp {
            return Traffic::unavailable(TrafficGap::Udp);
        }
        let Some(now) = entry.counters else {
            return Traffic::unavailable(TrafficGap::NamespaceNotEntered);
        };
        if now.bytes_acked.is_none() && now.rtt_us.is_none() {
            return Traffic {
                send_queue_bytes: Some(now.send_queue),
                recv_queue_bytes: Some(now.recv_queue),
                ..Traffic::unavailable(TrafficGap::NotReported)
            };
        }
        let before = self.previous.get(&now.cookie).filter(|_| now.cookie != 0);
        let rate = |now: Option<u64>, before: Option<u64>| -> Option<f64> {
            let window = self.window_secs?;
            // A counter that went backwards is another socket's: no rate, not a huge one.
            let grown = now?.checked_sub(before?)?;
            Some(grown as f64 / window)
        };
        let (send, recv, retrans) = match before {
            Some(before) if self.window_secs.is_some() => (
                rate(now.bytes_acked, before.bytes_acked),
                rate(now.bytes_received, before.bytes_received),
                now.total_retrans
                    .zip(before.total_retrans)
                    .and_then(|(n, b)| n.checked_sub(b)),
            ),
            _ => (None, None, None),
        };
        let idle_ms = match (now.last_data_sent_ms, now.last_data_recv_ms) {
            (Some(sent), Some(recv)) => Some(sent.min(recv)),
            (one, other) => one.or(other),
        };
        // The kernel counts the SYN of an active open in bytes_acked (a client that sent 1,000
        // bytes shows 1,001, the server that accepted it 0 + what it sent): data bytes only.
        let handshake = u64::from(role == Role::Client);
        Traffic {
            bytes_sent: now.bytes_acked.map(|b| b.saturating_sub(handshake)),
            bytes_received: now.bytes_received,
            send_bytes_per_sec: send,
            recv_bytes_per_sec: recv,
            rtt_ms: now.rtt_us.map(|us| f64::from(us) / 1000.0),
            rttvar_ms: now.rttvar_us.map(|us| f64::from(us) / 1000.0),
            retransmits: now.total_retrans,
            retransmits_last_interval: retrans,
            send_queue_bytes: Some(now.send_queue),
            recv_queue_bytes: Some(now.recv_queue),
            idle_ms,
            traffic_unavailable: (before.is_none() || self.window_secs.is_none())
                .then_some(TrafficGap::FirstSeen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SocketState;
    use std::time::Duration;

    fn tcp(cookie: u64, acked: u64, received: u64, retrans: u32) -> SocketEntry {
        SocketEntry {
            netns: Some(1),
            proto: Proto::Tcp,
            local: "127.0.0.1:40000".parse().unwrap(),
            remote: "127.0.0.1:8080".parse().unwrap(),
            state: SocketState::Established,
            inode: 77,
            uid: 0,
            counters: Some(TcpCounters {
                cookie,
                bytes_acked: Some(acked),
                bytes_received: Some(received),
                rtt_us: Some(1500),
                rttvar_us: Some(250),
                total_retrans: Some(retrans),
                last_data_sent_ms: Some(30),
                last_data_recv_ms: Some(10),
                send_queue: 5,
                recv_queue: 6,
            }),
        }
    }

    #[test]
    fn rates_are_the_counters_growth_over_the_window() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        history.remember(&[tcp(9, 1_000, 500, 1)], start);
        let later = start + Duration::from_secs(2);
        let t = history
            .pass(later)
            .figures(&tcp(9, 5_000, 2_500, 4), Role::Server);
        assert_eq!(t.send_bytes_per_sec, Some(2_000.0));
        assert_eq!(t.recv_bytes_per_sec, Some(1_000.0));
        assert_eq!(t.total_bytes_per_sec(), Some(3_000.0));
        assert_eq!(t.retransmits, Some(4));
        assert_eq!(t.retransmits_last_interval, Some(3));
        assert_eq!((t.bytes_sent, t.bytes_received), (Some(5_000), Some(2_500)));
        assert_eq!((t.rtt_ms, t.rttvar_ms), (Some(1.5), Some(0.25)));
        assert_eq!(t.idle_ms, Some(10));
        assert_eq!((t.send_queue_bytes, t.recv_queue_bytes), (Some(5), Some(6)));
        assert_eq!(t.traffic_unavailable, None);
        // A client's count holds its SYN: data bytes only, the rate unchanged.
        let c = history
            .pass(later)
            .figures(&tcp(9, 5_000, 2_500, 4), Role::Client);
        assert_eq!(c.bytes_sent, Some(4_999));
        assert_eq!(c.send_bytes_per_sec, Some(2_000.0));
    }

    #[test]
    fn a_socket_first_seen_has_totals_and_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        // First pass of all: no window.
        let t = history
            .pass(start)
            .figures(&tcp(9, 1_000, 500, 0), Role::Server);
        assert_eq!((t.bytes_sent, t.send_bytes_per_sec), (Some(1_000), None));
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
        history.remember(&[tcp(9, 1_000, 500, 0)], start);
        // A new cookie in a later pass, even on the same inode and 4-tuple.
        let t = history
            .pass(start + Duration::from_secs(1))
            .figures(&tcp(10, 64, 32, 0), Role::Server);
        assert_eq!((t.bytes_sent, t.send_bytes_per_sec), (Some(64), None));
        assert_eq!(t.retransmits_last_interval, None);
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
    }

    #[test]
    fn a_counter_that_went_backwards_gives_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        history.remember(&[tcp(9, 1_000, 500, 3)], start);
        let t = history
            .pass(start + Duration::from_secs(1))
            .figures(&tcp(9, 10, 600, 1), Role::Server);
        assert_eq!(t.send_bytes_per_sec, None);
        assert_eq!(t.recv_bytes_per_sec, Some(100.0));
        assert_eq!(t.retransmits_last_interval, None);
    }

    #[test]
    fn gone_sockets_are_forgotten_and_a_tiny_window_gives_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        history.remember(&[tcp(9, 1_000, 500, 0)], start);
        history.remember(&[tcp(11, 1, 1, 0)], start + Duration::from_secs(1));
        let t = history
            .pass(start + Duration::from_secs(2))
            .figures(&tcp(9, 2_000, 500, 0), Role::Server);
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
        let t = history
            .pass(start + Duration::from_millis(1_001))
            .figures(&tcp(11, 2, 2, 0), Role::Server);
        assert_eq!(t.send_bytes_per_sec, None);
    }

    #[test]
    fn udp_and_sockets_without_counters_say_why() {
        let history = TrafficHistory::default();
        let pass = history.pass(Instant::now());
        let mut udp = tcp(1, 0, 0, 0);
        udp.proto = Proto::Udp;
        assert_eq!(
            pass.figures(&udp, Role::Server),
            Traffic::unavailable(TrafficGap::Udp)
        );
        let mut from_proc = tcp(1, 0, 0, 0);
        from_proc.counters = None;
        assert_eq!(
            pass.figures(&from_proc, Role::Server).traffic_unavailable,
            Some(TrafficGap::NamespaceNotEntered)
        );
        let mut time_wait = tcp(1, 0, 0, 0);
        time_wait.counters = Some(TcpCounters {
            cookie: 1,
            ..TcpCounters::default()
        });
        let t = pass.figures(&time_wait, Role::Server);
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::NotReported));
        assert_eq!(t.bytes_sent, None);
    }
}
