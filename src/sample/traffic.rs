//! Traffic rates from two readings of the kernel's TCP counters. Pure arithmetic over the
//! counters of one pass and of the pass before, keyed by socket cookie, so every edge (first
//! sight, a counter that went backwards, a reused inode or 4-tuple) is tested without sockets.

use std::time::Instant;

use crate::model::{Proto, Role, SocketEntry, Traffic, TrafficGap};

/// Windows shorter than this give rates that are mostly noise: no rate is more honest.
const SHORTEST_WINDOW_SECS: f64 = 0.01;
/// No reading.
const NONE: u32 = u32::MAX;

/// What the last pass read of one TCP socket: the counters its rates are measured from and,
/// should it close before the next pass, the inode its owners are found by. All empty for a
/// socket with neither (a TIME_WAIT entry carries its closed socket's cookie and nothing else,
/// and must not stand for the counters that socket is measured from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LastReading {
    /// 0 when no file descriptor referred to it.
    pub inode: u64,
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    pub total_retrans: Option<u32>,
}

/// A socket's key: (cookie, namespace inode or 0 when unknown). Cookies are the host's on
/// recent kernels and the namespace's on older ones, hence the namespace.
type CookieKey = (u64, u64);

/// Whether the kernel sent the socket's counters (TIME_WAIT and half-open sockets have none).
fn counted(entry: &SocketEntry) -> bool {
    entry.counters.is_some_and(|c| c.bytes_acked.is_some())
}

fn key_of(entry: &SocketEntry) -> Option<CookieKey> {
    let cookie = entry.counters?.cookie;
    (cookie != 0).then(|| (cookie, entry.netns.unwrap_or(0)))
}

/// One pass's sockets sorted by key, with their rows: for the few lookups by cookie that the
/// walk in list order cannot answer (see [`TrafficHistory::pass`]).
pub struct CookieOrder {
    keys: Vec<(CookieKey, u32)>,
}

impl CookieOrder {
    pub fn of(entries: &[SocketEntry]) -> Self {
        let mut keys: Vec<(CookieKey, u32)> = entries
            .iter()
            .enumerate()
            .filter_map(|(row, e)| Some((key_of(e)?, u32::try_from(row).unwrap_or(NONE))))
            .collect();
        keys.sort_unstable();
        CookieOrder { keys }
    }

    /// The first row with `key`.
    fn row(&self, key: CookieKey) -> Option<usize> {
        let at = self.keys.partition_point(|k| k.0 < key);
        self.keys
            .get(at)
            .filter(|k| k.0 == key)
            .map(|k| k.1 as usize)
    }

    /// Whether a socket of this pass (`entries`, which this order was made of) has `cookie` in
    /// `netns` and counters (a TIME_WAIT entry with the same cookie is another state of a
    /// closed socket, not the socket).
    pub fn has_counted(&self, entries: &[SocketEntry], netns: Option<u64>, cookie: u64) -> bool {
        let key = (cookie, netns.unwrap_or(0));
        let at = self.keys.partition_point(|k| k.0 < key);
        self.keys[at..]
            .iter()
            .take_while(|k| k.0 == key)
            .filter_map(|k| entries.get(k.1 as usize)?.counters)
            .any(|c| c.bytes_acked.is_some())
    }
}

/// The last pass's counters of one socket, packed small (a sentinel for "not reported")
/// because they are read in no particular order: 24 bytes a socket stay in cache. A real
/// value equal to its sentinel (2^64-1 bytes, 2^32-1 retransmits) reads as not reported, so
/// it gives no rate rather than a wrong one; no socket gets there.
#[derive(Debug, Clone, Copy)]
struct PackedCounters {
    bytes_acked: u64,
    bytes_received: u64,
    total_retrans: u32,
}

const UNREPORTED: u64 = u64::MAX;
const UNREPORTED_32: u32 = u32::MAX;

impl PackedCounters {
    fn of(entry: &SocketEntry) -> Self {
        let c = entry.counters.unwrap_or_default();
        PackedCounters {
            bytes_acked: c.bytes_acked.unwrap_or(UNREPORTED),
            bytes_received: c.bytes_received.unwrap_or(UNREPORTED),
            total_retrans: c.total_retrans.unwrap_or(UNREPORTED_32),
        }
    }

    fn bytes_acked(&self) -> Option<u64> {
        (self.bytes_acked != UNREPORTED).then_some(self.bytes_acked)
    }

    fn bytes_received(&self) -> Option<u64> {
        (self.bytes_received != UNREPORTED).then_some(self.bytes_received)
    }

    fn total_retrans(&self) -> Option<u32> {
        (self.total_retrans != UNREPORTED_32).then_some(self.total_retrans)
    }
}

/// How far ahead in the last pass's list a socket is looked for before falling back to a
/// search: sockets closed since sit between two that live on.
const LOOKAHEAD: usize = 8;

/// The readings of the last pass, in the order its sockets were listed, and when they were
/// made. The kernel lists sockets in the order of its own hash table, which does not change
/// for a socket that lives on, so this pass's sockets find their last readings by walking
/// both lists side by side; only sockets that moved or are new need a search, and the sorted
/// index for it is built on the first such socket. A hash map of every cookie would cost a
/// cache miss per insert and per lookup at every tick: milliseconds at 20,000 sockets.
#[derive(Default)]
pub struct TrafficHistory {
    /// The key of each socket of the last pass that has one, in list order...
    keys: Vec<CookieKey>,
    /// ...its counters...
    counters: Vec<PackedCounters>,
    /// ...and its inode.
    inodes: Vec<u64>,
    /// `keys` sorted, made on first need.
    sorted: std::cell::OnceCell<CookieOrder>,
    /// The highest cookie in `keys`.
    highest_cookie: u64,
    read_at: Option<Instant>,
}

/// The traffic figures of one pass: each socket's counters against the last pass's.
pub struct PassTraffic<'h> {
    counters: &'h [PackedCounters],
    /// Each row's index in `counters` (NONE: not read last pass).
    before: Vec<u32>,
    window_secs: Option<f64>,
}

impl TrafficHistory {
    /// Starts a pass over `entries`, read at `now`; `figures` of the result gives each
    /// socket's traffic. Call `remember` with the pass's sockets once done.
    pub fn pass(&self, entries: &[SocketEntry], now: Instant) -> PassTraffic<'_> {
        let mut before = vec![NONE; entries.len()];
        let mut next = 0;
        for (slot, entry) in before.iter_mut().zip(entries) {
            // Only sockets with counters have rates: a TIME_WAIT entry is not looked for.
            let Some(key) = key_of(entry).filter(|_| counted(entry)) else {
                continue;
            };
            let ahead = self.keys.get(next..).unwrap_or_default();
            let found = match ahead.iter().take(LOOKAHEAD).position(|k| *k == key) {
                Some(skip) => Some(next + skip),
                // No key of the last pass is above its highest cookie, so such a socket is
                // new without a search; the kernel hands out cookies mostly in increasing order
                // (per-CPU batches), so most new sockets are caught here.
                None if key.0 > self.highest_cookie => None,
                None => self.index_of(key),
            };
            if let Some(at) = found {
                *slot = u32::try_from(at).unwrap_or(NONE);
                next = at + 1;
            }
        }
        PassTraffic {
            counters: &self.counters,
            before,
            window_secs: self.window_secs(now),
        }
    }

    /// Where `key` is in the last pass's list, by search.
    fn index_of(&self, key: CookieKey) -> Option<usize> {
        let sorted = self.sorted.get_or_init(|| {
            let mut keys: Vec<(CookieKey, u32)> = self
                .keys
                .iter()
                .enumerate()
                .map(|(at, key)| (*key, u32::try_from(at).unwrap_or(NONE)))
                .collect();
            keys.sort_unstable();
            CookieOrder { keys }
        });
        sorted.row(key)
    }

    /// Seconds between the last pass's dump and `now`; None on the first or after too short
    /// a time.
    pub fn window_secs(&self, now: Instant) -> Option<f64> {
        self.read_at
            .map(|then| now.saturating_duration_since(then).as_secs_f64())
            .filter(|w| *w > SHORTEST_WINDOW_SECS)
    }

    /// What the last pass read of the socket `cookie` in `netns`.
    pub fn last(&self, netns: Option<u64>, cookie: u64) -> Option<LastReading> {
        let at = self.index_of((cookie, netns.unwrap_or(0)))?;
        let counters = self.counters.get(at)?;
        Some(LastReading {
            inode: self.inodes.get(at).copied().unwrap_or(0),
            bytes_acked: counters.bytes_acked(),
            bytes_received: counters.bytes_received(),
            total_retrans: counters.total_retrans(),
        })
    }

    /// Keeps this pass's readings for the next one, in list order; sockets gone since are
    /// forgotten.
    pub fn remember(&mut self, entries: &[SocketEntry], read_at: Instant) {
        self.keys.clear();
        self.counters.clear();
        self.inodes.clear();
        for entry in entries {
            // Sockets with counters or an owner: a TIME_WAIT entry carries its closed socket's
            // cookie and nothing else, and must not stand for that socket.
            if let Some(key) = key_of(entry).filter(|_| counted(entry) || entry.inode != 0) {
                self.keys.push(key);
                self.counters.push(PackedCounters::of(entry));
                self.inodes.push(entry.inode);
            }
        }
        self.highest_cookie = self.keys.iter().map(|k| k.0).max().unwrap_or(0);
        self.sorted = std::cell::OnceCell::new();
        self.read_at = Some(read_at);
    }
}

impl PassTraffic<'_> {
    /// The figures of the socket at `row` of the pass (`entry`), `role` being which end it is.
    pub fn figures(&self, row: usize, entry: &SocketEntry, role: Role) -> Traffic {
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
        let before = self
            .before
            .get(row)
            .and_then(|at| self.counters.get(*at as usize))
            .filter(|b| b.bytes_acked().is_some());
        let rate = |now: Option<u64>, before: Option<u64>| -> Option<f64> {
            let window = self.window_secs?;
            // A counter that went backwards is another socket's: no rate, not a huge one.
            let grown = now?.checked_sub(before?)?;
            Some(grown as f64 / window)
        };
        let (send, recv, retrans) = match before {
            Some(before) if self.window_secs.is_some() => (
                rate(now.bytes_acked, before.bytes_acked()),
                rate(now.bytes_received, before.bytes_received()),
                now.total_retrans
                    .zip(before.total_retrans())
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
    use crate::model::TcpCounters;
    use std::time::Duration;

    fn remember(history: &mut TrafficHistory, entries: &[SocketEntry], at: Instant) {
        history.remember(entries, at);
    }

    /// The figures of one socket read alone at `at`.
    fn figures(history: &TrafficHistory, entry: &SocketEntry, at: Instant, role: Role) -> Traffic {
        let entries = std::slice::from_ref(entry);
        history.pass(entries, at).figures(0, entry, role)
    }

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
        remember(&mut history, &[tcp(9, 1_000, 500, 1)], start);
        let later = start + Duration::from_secs(2);
        let t = figures(&history, &tcp(9, 5_000, 2_500, 4), later, Role::Server);
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
        let c = figures(&history, &tcp(9, 5_000, 2_500, 4), later, Role::Client);
        assert_eq!(c.bytes_sent, Some(4_999));
        assert_eq!(c.send_bytes_per_sec, Some(2_000.0));
    }

    /// Many sockets, listed in another order each pass, some new, some gone, one cookie in
    /// two namespaces (older kernels count cookies per namespace): each is measured against
    /// its own last reading only.
    #[test]
    fn each_socket_is_measured_against_its_own_last_reading() {
        let start = Instant::now();
        let later = start + Duration::from_secs(1);
        let socket = |netns: u64, cookie: u64, acked: u64| {
            let mut e = tcp(cookie, acked, 2 * acked, 0);
            e.netns = Some(netns);
            e
        };
        let mut first: Vec<SocketEntry> = (1..=40).map(|c| socket(1, c, 1_000 * c)).collect();
        first.push(socket(2, 7, 50));
        let mut history = TrafficHistory::default();
        remember(&mut history, &first, start);
        // Cookies 1-10 closed, 41-45 are new, the rest sent 100 * cookie more; listed backwards.
        let mut second: Vec<SocketEntry> = (11..=45)
            .map(|c| socket(1, c, 1_000 * c + if c <= 40 { 100 * c } else { 0 }))
            .collect();
        second.push(socket(2, 7, 350));
        second.reverse();
        let order = CookieOrder::of(&second);
        let pass = history.pass(&second, later);
        for (row, entry) in second.iter().enumerate() {
            let t = pass.figures(row, entry, Role::Server);
            let cookie = entry.counters.unwrap().cookie;
            match (entry.netns, cookie) {
                (Some(2), 7) => assert_eq!(t.send_bytes_per_sec, Some(300.0)),
                (_, 41..) => assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen)),
                _ => assert_eq!(
                    t.send_bytes_per_sec,
                    Some(100.0 * cookie as f64),
                    "{cookie}"
                ),
            }
        }
        assert_eq!(
            history.last(Some(1), 7).map(|l| l.bytes_acked),
            Some(Some(7_000))
        );
        assert_eq!(
            history.last(Some(2), 7).map(|l| l.bytes_acked),
            Some(Some(50))
        );
        assert_eq!(history.last(Some(3), 7), None);
        assert!(order.has_counted(&second, Some(2), 7));
        assert!(!order.has_counted(&second, Some(1), 7), "closed since");
    }

    /// In list order, as the kernel keeps it: a run of closed sockets longer than the
    /// lookahead, new sockets between old ones, one socket moved far back, and a TIME_WAIT
    /// entry carrying a live-looking cookie: each finds its own last reading or none.
    #[test]
    fn the_walk_in_list_order_survives_gaps_moves_and_newcomers() {
        let start = Instant::now();
        let later = start + Duration::from_secs(2);
        let first: Vec<SocketEntry> = (1..=60).map(|c| tcp(c, 1_000 * c, 0, 0)).collect();
        let mut history = TrafficHistory::default();
        remember(&mut history, &first, start);
        let mut second: Vec<SocketEntry> = Vec::new();
        for c in 1..=60u64 {
            if (10..30).contains(&c) || c == 5 {
                continue; // closed, or moved (5 comes last)
            }
            if c % 7 == 0 {
                second.push(tcp(1_000 + c, 1, 0, 0)); // new, between old ones
            }
            second.push(tcp(c, 1_000 * c + 2 * c, 0, 0));
        }
        second.push(tcp(5, 5_000 + 10, 0, 0));
        let mut time_wait = tcp(12, 0, 0, 0);
        time_wait.counters = Some(TcpCounters {
            cookie: 12,
            ..TcpCounters::default()
        });
        second.push(time_wait);
        let pass = history.pass(&second, later);
        for (row, entry) in second.iter().enumerate() {
            let cookie = entry.counters.unwrap().cookie;
            let t = pass.figures(row, entry, Role::Server);
            match cookie {
                12 => assert_eq!(t.traffic_unavailable, Some(TrafficGap::NotReported)),
                1_000.. => assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen)),
                _ => assert_eq!(t.send_bytes_per_sec, Some(cookie as f64), "cookie {cookie}"),
            }
        }
    }

    /// Zero is a reading like any other: a socket that had received nothing and retransmitted
    /// nothing at the last pass has rates and retransmits over the interval, not "unknown".
    #[test]
    fn zero_counters_at_the_last_pass_are_readings() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        remember(&mut history, &[tcp(9, 0, 0, 0)], start);
        let t = figures(
            &history,
            &tcp(9, 0, 3_000, 2),
            start + Duration::from_secs(1),
            Role::Server,
        );
        assert_eq!(t.recv_bytes_per_sec, Some(3_000.0));
        assert_eq!(t.send_bytes_per_sec, Some(0.0));
        assert_eq!(t.retransmits_last_interval, Some(2));
        assert_eq!(t.traffic_unavailable, None);
    }

    /// A TIME_WAIT entry carries its closed socket's cookie and no counters: it is not the
    /// socket, neither for the last reading nor for "still in this dump".
    #[test]
    fn a_time_wait_entry_does_not_stand_for_its_socket() {
        let start = Instant::now();
        let mut time_wait = tcp(9, 0, 0, 0);
        time_wait.inode = 0;
        time_wait.counters = Some(TcpCounters {
            cookie: 9,
            ..TcpCounters::default()
        });
        let mut history = TrafficHistory::default();
        remember(&mut history, &[tcp(9, 1_000, 500, 0)], start);
        assert!(history.last(Some(1), 9).is_some());
        remember(&mut history, std::slice::from_ref(&time_wait), start);
        assert_eq!(history.last(Some(1), 9), None);
        let order = CookieOrder::of(std::slice::from_ref(&time_wait));
        assert!(!order.has_counted(std::slice::from_ref(&time_wait), Some(1), 9));
        let both = [time_wait, tcp(9, 5, 5, 0)];
        assert!(CookieOrder::of(&both).has_counted(&both, Some(1), 9));
    }

    #[test]
    fn a_socket_first_seen_has_totals_and_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        // First pass of all: no window.
        let t = figures(&history, &tcp(9, 1_000, 500, 0), start, Role::Server);
        assert_eq!((t.bytes_sent, t.send_bytes_per_sec), (Some(1_000), None));
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
        remember(&mut history, &[tcp(9, 1_000, 500, 0)], start);
        // A new cookie in a later pass, even on the same inode and 4-tuple.
        let t = figures(
            &history,
            &tcp(10, 64, 32, 0),
            start + Duration::from_secs(1),
            Role::Server,
        );
        assert_eq!((t.bytes_sent, t.send_bytes_per_sec), (Some(64), None));
        assert_eq!(t.retransmits_last_interval, None);
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
    }

    #[test]
    fn a_counter_that_went_backwards_gives_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        remember(&mut history, &[tcp(9, 1_000, 500, 3)], start);
        let t = figures(
            &history,
            &tcp(9, 10, 600, 1),
            start + Duration::from_secs(1),
            Role::Server,
        );
        assert_eq!(t.send_bytes_per_sec, None);
        assert_eq!(t.recv_bytes_per_sec, Some(100.0));
        assert_eq!(t.retransmits_last_interval, None);
    }

    #[test]
    fn gone_sockets_are_forgotten_and_a_tiny_window_gives_no_rate() {
        let start = Instant::now();
        let mut history = TrafficHistory::default();
        remember(&mut history, &[tcp(9, 1_000, 500, 0)], start);
        remember(
            &mut history,
            &[tcp(11, 1, 1, 0)],
            start + Duration::from_secs(1),
        );
        let t = figures(
            &history,
            &tcp(9, 2_000, 500, 0),
            start + Duration::from_secs(2),
            Role::Server,
        );
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::FirstSeen));
        let t = figures(
            &history,
            &tcp(11, 2, 2, 0),
            start + Duration::from_millis(1_001),
            Role::Server,
        );
        assert_eq!(t.send_bytes_per_sec, None);
    }

    #[test]
    fn udp_and_sockets_without_counters_say_why() {
        let history = TrafficHistory::default();
        let now = Instant::now();
        let mut udp = tcp(1, 0, 0, 0);
        udp.proto = Proto::Udp;
        assert_eq!(
            figures(&history, &udp, now, Role::Server),
            Traffic::unavailable(TrafficGap::Udp)
        );
        let mut from_proc = tcp(1, 0, 0, 0);
        from_proc.counters = None;
        assert_eq!(
            figures(&history, &from_proc, now, Role::Server).traffic_unavailable,
            Some(TrafficGap::NamespaceNotEntered)
        );
        let mut time_wait = tcp(1, 0, 0, 0);
        time_wait.counters = Some(TcpCounters {
            cookie: 1,
            ..TcpCounters::default()
        });
        let t = figures(&history, &time_wait, now, Role::Server);
        assert_eq!(t.traffic_unavailable, Some(TrafficGap::NotReported));
        assert_eq!(t.bytes_sent, None);
    }
}
