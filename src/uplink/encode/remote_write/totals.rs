//! Byte and retransmit totals per conversation that only ever go up while the conversation
//! stays in view, so that a receiver's `rate()` and `increase()` mean what they say.
//!
//! A conversation's connections come and go (a pool reconnects, a server's clients hang up).
//! The sum over its open connections alone would fall whenever one closes, which Prometheus
//! reads as a counter reset and turns into a burst of traffic that never happened. So the
//! totals of connections that left are kept here and added to those still open: a connection
//! that closed counts with its final counters (the snapshot's recently-closed list, counted
//! once however many snapshots list it), or else with the last counters seen of it.
//!
//! Only one snapshot's conversations are ever held: a conversation missing from a snapshot is
//! forgotten, and should it come back its totals start afresh, which a receiver handles as the
//! counter reset it is.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use super::conversations::{Conversation, ConversationKey};
use crate::model::{ClosedConnection, Connection, Traffic};

/// The counters of a connection, or of a conversation; None where nothing was measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    /// Bytes sent and acknowledged.
    pub sent: Option<u64>,
    /// Bytes received.
    pub received: Option<u64>,
    /// Segments retransmitted.
    pub retransmits: Option<u64>,
}

impl Counts {
    fn of_traffic(t: &Traffic) -> Counts {
        Counts {
            sent: t.bytes_sent,
            received: t.bytes_received,
            retransmits: t.retransmits.map(u64::from),
        }
    }

    fn of_closed(c: &ClosedConnection) -> Counts {
        Counts {
            sent: c.bytes_sent,
            received: c.bytes_received,
            retransmits: c.retransmits.map(u64::from),
        }
    }

    /// Figure by figure, the sum of what is known; None only where neither side knows.
    fn plus(self, other: Counts) -> Counts {
        let add = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            _ => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        Counts {
            sent: add(self.sent, other.sent),
            received: add(self.received, other.received),
            retransmits: add(self.retransmits, other.retransmits),
        }
    }

    /// Figure by figure, the larger known value: a kernel counter never falls, and a figure
    /// that went missing (a reading without tcp_info) keeps its last value.
    fn latest(self, earlier: Counts) -> Counts {
        let max = |a: Option<u64>, b: Option<u64>| a.max(b);
        Counts {
            sent: max(self.sent, earlier.sent),
            received: max(self.received, earlier.received),
            retransmits: max(self.retransmits, earlier.retransmits),
        }
    }

    /// Whether a known figure is below the earlier one: then this is not the socket read
    /// before (the kernel's counters of one socket never fall).
    fn fell_below(self, earlier: Counts) -> bool {
        let fell = |now: Option<u64>, then: Option<u64>| matches!((now, then), (Some(n), Some(t)) if n < t);
        fell(self.sent, earlier.sent)
            || fell(self.received, earlier.received)
            || fell(self.retransmits, earlier.retransmits)
    }
}

/// An open connection within its conversation: local port, remote port, socket inode. The
/// ports find it again when it shows up closed (a closed connection has no inode); the inode
/// tells it from a later connection that reuses the ports.
type OpenId = (u16, u16, u64);

/// A closed connection within its conversation: local port, remote port, when it closed.
type CloseId = (u16, u16, u64);

/// How many snapshots in a row a connection may be missing before its last counters are taken
/// as final. Its close may be listed a pass after it left the socket table, and a process's
/// table may be unreadable for a pass; either way it must not be counted twice, once with its
/// last counters and again when it turns up.
const MISSES_BEFORE_GONE: u8 = 2;

/// The last counters of an open connection, and for how many snapshots it has been missing.
#[derive(Debug, Clone, Copy)]
struct Seen {
    counts: Counts,
    missed: u8,
}

/// What is remembered of one conversation between snapshots.
#[derive(Debug, Default)]
struct Tally {
    /// Summed counters of the connections that left it.
    gone: Counts,
    /// Each connection open lately, with its last counters.
    open: BTreeMap<OpenId, Seen>,
    /// Closed connections already in `gone`, as long as snapshots still list them.
    counted_closes: BTreeSet<CloseId>,
}

impl Tally {
    /// The tally after `conversation`'s snapshot, from this one of the snapshot before.
    fn advance(mut self, conversation: &Conversation<'_>) -> Tally {
        let mut next = Tally {
            gone: self.gone,
            ..Tally::default()
        };
        let open_now: BTreeSet<OpenId> = conversation.open.iter().map(|c| open_id(c)).collect();
        for closed in &conversation.closed {
            let id = (closed.local_port, closed.remote_port, closed.closed_at_ms);
            if !self.counted_closes.contains(&id) {
                // Seen open before: its final counters replace the last ones seen.
                let last = self.take_gone(closed.local_port, closed.remote_port, &open_now);
                let last = last.map_or_else(Counts::default, |seen| seen.counts);
                next.gone = next.gone.plus(Counts::of_closed(closed).latest(last));
            }
            next.counted_closes.insert(id);
        }
        for connection in &conversation.open {
            let id = open_id(connection);
            let mut now = Counts::of_traffic(&connection.traffic);
            if let Some(last) = self.open.remove(&id) {
                if now.fell_below(last.counts) {
                    next.gone = next.gone.plus(last.counts);
                } else {
                    now = now.latest(last.counts);
                }
            }
            next.open.insert(
                id,
                Seen {
                    counts: now,
                    missed: 0,
                },
            );
        }
        // Missing with no word of its close: it stays, with its last counters, for a few
        // snapshots in case it turns up; after that those counters are taken as final (the
        // destroy notifications need CAP_NET_ADMIN, so without it no close is ever listed).
        for (id, seen) in self.open {
            if seen.missed < MISSES_BEFORE_GONE {
                let missed = seen.missed + 1;
                next.open.insert(id, Seen { missed, ..seen });
            } else {
                next.gone = next.gone.plus(seen.counts);
            }
        }
        next
    }

    /// Removes and returns a connection with these ports that is not open now, if there was
    /// one: the connection a close just listed was.
    fn take_gone(
        &mut self,
        local_port: u16,
        remote_port: u16,
        open_now: &BTreeSet<OpenId>,
    ) -> Option<Seen> {
        let id = *self
            .open
            .range((local_port, remote_port, 0)..=(local_port, remote_port, u64::MAX))
            .map(|(id, _)| id)
            .find(|id| !open_now.contains(id))?;
        self.open.remove(&id)
    }

    fn total(&self) -> Counts {
        self.open
            .values()
            .fold(self.gone, |sum, seen| sum.plus(seen.counts))
    }
}

fn open_id(c: &Connection) -> OpenId {
    (c.local_port, c.remote_port, c.inode)
}

/// The running totals of every conversation of the last snapshot encoded.
#[derive(Debug, Default)]
pub(super) struct RunningTotals {
    tallies: FxHashMap<ConversationKey, Tally>,
}

impl RunningTotals {
    /// Takes in the next snapshot's conversations and returns their totals, in the same order.
    /// Conversations not among them are forgotten. Feed snapshots in the order they were taken;
    /// feeding one twice changes nothing.
    pub(super) fn advance(&mut self, conversations: &[Conversation<'_>]) -> Vec<Counts> {
        let mut before = std::mem::take(&mut self.tallies);
        let mut totals = Vec::with_capacity(conversations.len());
        for conversation in conversations {
            let tally = before
                .remove(&conversation.key)
                .unwrap_or_default()
                .advance(conversation);
            totals.push(tally.total());
            self.tallies.insert(conversation.key, tally);
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Process, Role};
    use crate::uplink::encode::remote_write::conversations::conversations;

    fn open(local_port: u16, inode: u64, sent: u64, received: u64) -> Connection {
        let mut c = Connection::example_loopback(local_port, 5432, Role::Client, (9, "db"), inode);
        c.traffic = Traffic {
            bytes_sent: Some(sent),
            bytes_received: Some(received),
            retransmits: Some(1),
            ..Traffic::default()
        };
        c
    }

    fn closed(local_port: u16, at: u64, sent: u64, received: u64) -> ClosedConnection {
        ClosedConnection {
            local_addr: [127, 0, 0, 1].into(),
            local_port,
            remote_addr: [127, 0, 0, 1].into(),
            remote_port: 5432,
            role: Role::Client,
            bytes_sent: Some(sent),
            bytes_received: Some(received),
            rtt_ms: Some(0.1),
            retransmits: Some(2),
            closed_at_ms: at,
            attributed_by: "seen".to_owned(),
        }
    }

    /// The totals of the one conversation of a process holding `open` and `closed`.
    fn step(
        totals: &mut RunningTotals,
        open: Vec<Connection>,
        closed: Vec<ClosedConnection>,
    ) -> Counts {
        let mut p = Process::example(7, "app");
        p.connections = open;
        p.recently_closed = closed;
        let processes = [p];
        let found = conversations(&processes);
        assert_eq!(found.len(), 1);
        totals.advance(&found)[0]
    }

    fn counts(sent: u64, received: u64, retransmits: u64) -> Counts {
        Counts {
            sent: Some(sent),
            received: Some(received),
            retransmits: Some(retransmits),
        }
    }

    #[test]
    fn a_pool_that_reconnects_never_makes_its_totals_fall() {
        let mut totals = RunningTotals::default();
        let a = || open(40_001, 1, 1_000, 100);
        assert_eq!(
            step(&mut totals, vec![a(), open(40_002, 2, 500, 50)], vec![]),
            counts(1_500, 150, 2)
        );
        // 40_002 closed after sending 700 in all: its final counters count, once, for as long
        // as the recently-closed list holds it; a new connection adds its own.
        let close = || closed(40_002, 10, 700, 60);
        assert_eq!(
            step(&mut totals, vec![a()], vec![close()]),
            counts(1_700, 160, 3)
        );
        assert_eq!(
            step(&mut totals, vec![a(), open(40_003, 3, 5, 5)], vec![close()]),
            counts(1_705, 165, 4)
        );
        // Feeding the same snapshot again changes nothing.
        assert_eq!(
            step(&mut totals, vec![a(), open(40_003, 3, 5, 5)], vec![close()]),
            counts(1_705, 165, 4)
        );
        // The close drops off the list, and 40_003 leaves with no word of its close: its last
        // counters stay in.
        assert_eq!(step(&mut totals, vec![a()], vec![]), counts(1_705, 165, 4));
    }

    #[test]
    fn a_connection_born_and_closed_between_snapshots_counts_from_its_close() {
        let mut totals = RunningTotals::default();
        assert_eq!(
            step(&mut totals, vec![open(40_001, 1, 10, 10)], vec![]),
            counts(10, 10, 1)
        );
        let quick = closed(40_009, 20, 300, 30);
        assert_eq!(
            step(
                &mut totals,
                vec![open(40_001, 1, 10, 10)],
                vec![quick.clone()]
            ),
            counts(310, 40, 3)
        );
        assert_eq!(step(&mut totals, vec![], vec![quick]), counts(310, 40, 3));
    }

    #[test]
    fn ports_reused_by_a_new_socket_start_a_new_connection() {
        let mut totals = RunningTotals::default();
        assert_eq!(
            step(&mut totals, vec![open(40_001, 1, 900, 90)], vec![]),
            counts(900, 90, 1)
        );
        // Same ports, another inode, smaller counters: the old one's 900 stay counted.
        assert_eq!(
            step(&mut totals, vec![open(40_001, 2, 10, 1)], vec![]),
            counts(910, 91, 2)
        );
        // Same inode whose counters fell (cannot be the same socket): the same.
        assert_eq!(
            step(&mut totals, vec![open(40_001, 2, 5, 1)], vec![]),
            counts(915, 92, 3)
        );
    }

    #[test]
    fn a_connection_missing_for_a_while_is_never_counted_twice() {
        let mut totals = RunningTotals::default();
        let other = || open(40_009, 9, 1, 1);
        assert_eq!(
            step(&mut totals, vec![open(40_001, 1, 100, 10), other()], vec![]),
            counts(101, 11, 2)
        );
        // Missing from one snapshot (its process's table unreadable, say), back in the next
        // with more sent: counted once, with its new counters.
        assert_eq!(step(&mut totals, vec![other()], vec![]), counts(101, 11, 2));
        assert_eq!(
            step(&mut totals, vec![open(40_001, 1, 120, 10), other()], vec![]),
            counts(121, 11, 2)
        );
        // Gone, and its close listed a snapshot later: the final counters replace the last.
        assert_eq!(step(&mut totals, vec![other()], vec![]), counts(121, 11, 2));
        assert_eq!(
            step(
                &mut totals,
                vec![other()],
                vec![closed(40_001, 30, 150, 12)]
            ),
            counts(151, 13, 3)
        );
    }

    #[test]
    fn a_connection_gone_without_a_close_is_folded_in_and_not_kept() {
        let mut totals = RunningTotals::default();
        let other = || open(40_009, 9, 1, 1);
        step(&mut totals, vec![open(40_001, 1, 100, 10), other()], vec![]);
        for _ in 0..=MISSES_BEFORE_GONE {
            assert_eq!(step(&mut totals, vec![other()], vec![]), counts(101, 11, 2));
        }
        let tally = totals.tallies.values().next().unwrap();
        assert_eq!(
            tally.open.len(),
            1,
            "only the open connection is remembered"
        );
        assert_eq!(tally.gone, counts(100, 10, 1));
    }

    #[test]
    fn unmeasured_figures_stay_unknown_or_keep_their_last_value() {
        let mut totals = RunningTotals::default();
        let mut c = open(40_001, 1, 0, 0);
        c.traffic = Traffic::default();
        let unknown = Counts::default();
        assert_eq!(step(&mut totals, vec![c.clone()], vec![]), unknown);
        assert_eq!(
            step(&mut totals, vec![open(40_001, 1, 50, 5)], vec![]),
            counts(50, 5, 1)
        );
        // A reading without counters keeps the last ones rather than falling to nothing.
        assert_eq!(step(&mut totals, vec![c], vec![]), counts(50, 5, 1));
    }

    #[test]
    fn a_conversation_out_of_view_is_forgotten() {
        let mut totals = RunningTotals::default();
        step(&mut totals, vec![open(40_001, 1, 1_000, 0)], vec![]);
        assert!(totals.advance(&[]).is_empty());
        assert!(totals.tallies.is_empty());
        assert_eq!(
            step(&mut totals, vec![open(40_002, 2, 3, 0)], vec![]),
            counts(3, 0, 1)
        );
    }
}
