//! The per-connection series: one set per conversation kept under the cap, each figure only
//! when measured, and the count of conversations left out.

use super::conversations::{busiest, conversations, Activity, Conversation, Side};
use super::totals::{Counts, RunningTotals};
use super::{add_label, Label, Series};
use crate::model::Process;

/// The series of the busiest `max_conversations` conversations with anything measured,
/// and how many others were left out.
pub(super) fn conversation_series(
    out: &mut Series,
    totals: &mut RunningTotals,
    max_conversations: usize,
    processes: &[Process],
    base: &[Label],
) {
    let all = conversations(processes);
    // Totals advance for every conversation, kept or not: one cut this time and kept the
    // next must not start again from its open connections alone.
    let totals = totals.advance(&all);
    let figures: Vec<ConversationFigures<'_>> = all
        .iter()
        .zip(totals)
        .map(|(c, totals)| ConversationFigures::of(c, totals))
        .filter(ConversationFigures::any_measured)
        .collect();
    let activity: Vec<Activity> = figures.iter().map(ConversationFigures::activity).collect();
    let keep = busiest(&activity, max_conversations);
    let mut dropped = 0_u32;
    for (figures, keep) in figures.iter().zip(keep) {
        if keep {
            figures.push_series(out, base);
        } else {
            dropped = dropped.saturating_add(1);
        }
    }
    let name = "wiretop_connection_conversations_dropped";
    out.push(name, base, None, dropped.into());
}

/// What one conversation's series say.
struct ConversationFigures<'a> {
    conversation: &'a Conversation<'a>,
    totals: Counts,
    send_bytes_per_sec: Option<f64>,
    recv_bytes_per_sec: Option<f64>,
    rtt_ms: Option<f64>,
    rttvar_ms: Option<f64>,
}

impl<'a> ConversationFigures<'a> {
    fn of(conversation: &'a Conversation<'a>, totals: Counts) -> Self {
        ConversationFigures {
            conversation,
            totals,
            send_bytes_per_sec: conversation.send_bytes_per_sec(),
            recv_bytes_per_sec: conversation.recv_bytes_per_sec(),
            rtt_ms: conversation.worst_rtt_ms(),
            rttvar_ms: conversation.worst_rttvar_ms(),
        }
    }

    /// Whether any series would be sent: a conversation of UDP sockets (no counters in the
    /// kernel) has none, and neither takes a place under the cap nor counts as left out.
    fn any_measured(&self) -> bool {
        let t = self.totals;
        t.sent.is_some()
            || t.received.is_some()
            || t.retransmits.is_some()
            || self.send_bytes_per_sec.is_some()
            || self.recv_bytes_per_sec.is_some()
            || self.rtt_ms.is_some()
            || self.rttvar_ms.is_some()
    }

    fn activity(&self) -> Activity {
        let rate = |r: Option<f64>| r.unwrap_or(0.0);
        let bytes = |b: Option<u64>| b.unwrap_or(0);
        Activity {
            bytes_per_sec: rate(self.send_bytes_per_sec) + rate(self.recv_bytes_per_sec),
            bytes: bytes(self.totals.sent).saturating_add(bytes(self.totals.received)),
        }
    }

    /// The conversation's series, each only when measured: an unknown figure is left out,
    /// never sent as 0. Totals are counters (kept monotonic by `totals.rs`); rates and
    /// round-trip times are gauges, times in seconds as Prometheus has them.
    fn push_series(&self, out: &mut Series, base: &[Label]) {
        let labels = conversation_labels(self.conversation, base);
        let labels = labels.as_slice();
        for (direction, bytes, rate) in [
            ("transmit", self.totals.sent, self.send_bytes_per_sec),
            ("receive", self.totals.received, self.recv_bytes_per_sec),
        ] {
            let direction = Some(("direction", direction));
            if let Some(bytes) = bytes {
                let name = "wiretop_connection_bytes_total";
                out.push(name, labels, direction, bytes as f64);
            }
            if let Some(rate) = rate {
                let name = "wiretop_connection_bytes_per_second";
                out.push(name, labels, direction, rate);
            }
        }
        if let Some(rtt) = self.rtt_ms {
            let name = "wiretop_connection_rtt_seconds";
            out.push(name, labels, None, rtt / 1000.0);
        }
        if let Some(rttvar) = self.rttvar_ms {
            let name = "wiretop_connection_rtt_variation_seconds";
            out.push(name, labels, None, rttvar / 1000.0);
        }
        if let Some(retransmits) = self.totals.retransmits {
            let name = "wiretop_connection_retransmits_total";
            out.push(name, labels, None, retransmits as f64);
        }
    }
}

/// Labels of a conversation's series: the host's, the process by pid and name (its command
/// line and owner are on the process series, joined by pid: repeating a long command line on
/// every conversation would cost the receiver for nothing), the role, and what names the
/// other end.
fn conversation_labels(conversation: &Conversation<'_>, base: &[Label]) -> Vec<Label> {
    let mut labels = base.to_vec();
    add_label(&mut labels, "pid", &conversation.key.pid.to_string());
    add_label(&mut labels, "process_name", &conversation.process.name);
    match conversation.key.side {
        Side::Client {
            remote_addr,
            remote_port,
        } => {
            add_label(&mut labels, "role", "client");
            add_label(&mut labels, "remote_address", &remote_addr.to_string());
            add_label(&mut labels, "remote_port", &remote_port.to_string());
        }
        Side::Server {
            local_port,
            remote_addr,
        } => {
            add_label(&mut labels, "role", "server");
            add_label(&mut labels, "local_port", &local_port.to_string());
            add_label(&mut labels, "remote_address", &remote_addr.to_string());
        }
    }
    labels
}
