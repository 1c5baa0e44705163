//! Interface byte counters from `/proc/net/dev` (the sampler's own network namespace) and
//! `/proc/<pid>/net/dev` (another namespace, through one of its members): what htop's and
//! btop's network meters show, for the host and for each container.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::model::NetworkIo;

/// Bytes received and sent since the interfaces came up, summed over every interface but
/// loopback (traffic between two local processes never leaves the host), and how many
/// interfaces that was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterfaceTotals {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub interfaces: u32,
}

/// Parses the text of `/proc/net/dev`: two header lines, then `name: rx_bytes packets errs
/// drop fifo frame compressed multicast tx_bytes ...` per interface. Lines that do not parse
/// are skipped rather than failing the whole reading.
pub fn parse_net_dev(text: &str) -> InterfaceTotals {
    let mut totals = InterfaceTotals::default();
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        if name.trim() == "lo" {
            continue;
        }
        let fields: Vec<u64> = counters
            .split_ascii_whitespace()
            .map_while(|f| f.parse().ok())
            .collect();
        if let (Some(rx), Some(tx)) = (fields.first(), fields.get(8)) {
            totals.rx_bytes = totals.rx_bytes.saturating_add(*rx);
            totals.tx_bytes = totals.tx_bytes.saturating_add(*tx);
            totals.interfaces += 1;
        }
    }
    totals
}

/// The last reading of each namespace's interfaces, for rates.
#[derive(Debug, Default)]
pub struct InterfaceHistory {
    previous: BTreeMap<u64, (InterfaceTotals, Instant)>,
}

impl InterfaceHistory {
    /// The figures of namespace `netns` read at `now`: totals, and rates against the last
    /// reading (none on the first, or when a counter went backwards: an interface went away).
    pub fn figures(&mut self, netns: u64, now: Instant, totals: InterfaceTotals) -> NetworkIo {
        let previous = self.previous.insert(netns, (totals, now));
        let rate = |now_bytes: u64, then_bytes: u64, secs: f64| {
            now_bytes
                .checked_sub(then_bytes)
                .map(|grown| grown as f64 / secs)
        };
        let (rx_rate, tx_rate) = match previous {
            Some((then, at)) => {
                let secs = now.saturating_duration_since(at).as_secs_f64();
                if secs > 0.01 {
                    (
                        rate(totals.rx_bytes, then.rx_bytes, secs),
                        rate(totals.tx_bytes, then.tx_bytes, secs),
                    )
                } else {
                    (None, None)
                }
            }
            None => (None, None),
        };
        NetworkIo {
            rx_bytes: totals.rx_bytes,
            tx_bytes: totals.tx_bytes,
            rx_bytes_per_sec: rx_rate,
            tx_bytes_per_sec: tx_rate,
            interfaces: totals.interfaces,
        }
    }

    /// Forgets namespaces not in `present`.
    pub fn keep_only(&mut self, present: &[u64]) {
        self.previous.retain(|netns, _| present.contains(netns));
    }
}

/// The interface totals of the namespace `/proc/<pid>` is in (`pid` None: our own).
pub fn read_net_dev(pid: Option<u32>) -> Option<InterfaceTotals> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/net/dev"),
        None => "/proc/net/dev".to_owned(),
    };
    std::fs::read_to_string(path)
        .ok()
        .map(|text| parse_net_dev(&text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const SAMPLE: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 9000000   100    0    0    0     0          0         0  9000000   100    0    0    0     0       0          0
  eth0: 1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
veth1a2b:  500       5    0    0    0     0          0         0      700       7    0    0    0     0       0          0
";

    #[test]
    fn totals_leave_loopback_out_and_add_the_rest() {
        let totals = parse_net_dev(SAMPLE);
        assert_eq!(
            totals,
            InterfaceTotals {
                rx_bytes: 1_500,
                tx_bytes: 2_700,
                interfaces: 2
            }
        );
        assert_eq!(parse_net_dev("garbage"), InterfaceTotals::default());
        assert_eq!(
            parse_net_dev("h\nh\n  eth0: 12 x\n  eth1: 1 2 3\n"),
            InterfaceTotals::default(),
            "short or broken lines are skipped"
        );
    }

    #[test]
    fn rates_need_a_second_reading_and_a_counter_that_grew() {
        let mut history = InterfaceHistory::default();
        let start = Instant::now();
        let first = history.figures(1, start, parse_net_dev(SAMPLE));
        assert_eq!(
            (first.rx_bytes_per_sec, first.tx_bytes_per_sec),
            (None, None)
        );
        let later = InterfaceTotals {
            rx_bytes: 3_500,
            tx_bytes: 2_700,
            interfaces: 2,
        };
        let second = history.figures(1, start + Duration::from_secs(2), later);
        assert_eq!(second.rx_bytes_per_sec, Some(1_000.0));
        assert_eq!(second.tx_bytes_per_sec, Some(0.0));
        let shrunk = InterfaceTotals {
            rx_bytes: 10,
            tx_bytes: 2_800,
            interfaces: 1,
        };
        let third = history.figures(1, start + Duration::from_secs(3), shrunk);
        assert_eq!(third.rx_bytes_per_sec, None);
        assert_eq!(third.tx_bytes_per_sec, Some(100.0));
        history.keep_only(&[]);
        let again = history.figures(1, start + Duration::from_secs(4), shrunk);
        assert_eq!(
            again.rx_bytes_per_sec, None,
            "forgotten namespaces start over"
        );
    }
}
