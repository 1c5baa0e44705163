//! The remote-hosts view's lines: the snapshot's remote endpoints (grouped by
//! [`crate::model::remote_hosts`]) narrowed by the filter, sorted, with the connections of each
//! expanded endpoint under its row. Pure: snapshot plus view state in, lines out.

use std::cmp::Ordering;
use std::collections::HashSet;

use crate::model::remote_hosts::{remote_hosts, RemoteEndpoint, RemoteHost};
use crate::model::{Connection, Filter, Process};

/// What the remote-hosts view can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSortKey {
    /// Bytes per second both ways.
    Rate,
    Connections,
    /// The worst round-trip time.
    Rtt,
    /// The endpoint itself: address, then port.
    Remote,
}

impl HostSortKey {
    /// Figures start with the biggest, addresses in order.
    pub fn default_descending(self) -> bool {
        self != HostSortKey::Remote
    }
}

/// The remote-hosts view's own choices, kept while the process table is shown.
#[derive(Debug, Clone, PartialEq)]
pub struct HostsView {
    pub sort: HostSortKey,
    pub descending: bool,
    /// The endpoint the cursor is on.
    pub cursor: Option<RemoteEndpoint>,
    /// Index of the line the cursor was last on: where it lands if its endpoint goes.
    pub cursor_line: usize,
    /// First line shown.
    pub scroll: usize,
    pub expanded: HashSet<RemoteEndpoint>,
}

impl Default for HostsView {
    /// Busiest first: "who does this box talk to most?" is the first question.
    fn default() -> Self {
        HostsView {
            sort: HostSortKey::Rate,
            descending: true,
            cursor: None,
            cursor_line: 0,
            scroll: 0,
            expanded: HashSet::new(),
        }
    }
}

impl HostsView {
    /// Sorts by `key` in its natural direction (pressed again: the same, as in the table).
    pub fn sort_by(&mut self, key: HostSortKey) {
        self.sort = key;
        self.descending = key.default_descending();
    }

    /// Opens or closes the connections of `endpoint`.
    pub fn toggle_expanded(&mut self, endpoint: RemoteEndpoint) {
        if !self.expanded.remove(&endpoint) {
            self.expanded.insert(endpoint);
        }
    }
}

/// One line of the remote-hosts view.
#[derive(Debug, Clone)]
pub enum HostLine<'a> {
    /// An endpoint's row.
    Host {
        host: RemoteHost<'a>,
        expanded: bool,
    },
    /// One of an expanded endpoint's connections, with the process holding it.
    Connection {
        process: &'a Process,
        connection: &'a Connection,
    },
}

impl HostLine<'_> {
    /// The endpoint the cursor stands on at this line; None for connection lines, which it
    /// skips.
    pub fn cursor(&self) -> Option<RemoteEndpoint> {
        match self {
            HostLine::Host { host, .. } => Some(host.endpoint),
            HostLine::Connection { .. } => None,
        }
    }
}

/// The REMOTE cell's text: the endpoint, and the local process(es) at the other end, if any.
/// Not yet safe for a terminal (peer names come from processes).
pub fn remote_text(host: &RemoteHost<'_>) -> String {
    let peers = host.peer_names();
    if peers.is_empty() {
        host.endpoint.to_string()
    } else {
        format!("{} ({})", host.endpoint, peers.join(", "))
    }
}

/// Every line of the view. An endpoint is kept when one of the processes holding its
/// connections matches `filter`, or when `filter_text` (the text as typed) is found in its
/// REMOTE cell, so typing an address or a peer's name finds it.
pub fn build<'a>(
    processes: &'a [Process],
    filter: &Filter,
    filter_text: &str,
    view: &HostsView,
) -> Vec<HostLine<'a>> {
    let wanted = filter_text.trim().to_lowercase();
    let mut hosts: Vec<RemoteHost<'a>> = remote_hosts(processes)
        .into_iter()
        .filter(|h| {
            h.connections.iter().any(|(p, _)| filter.matches(p))
                || (!wanted.is_empty() && remote_text(h).to_lowercase().contains(&wanted))
        })
        .collect();
    hosts.sort_by(|a, b| {
        let order = compare(view.sort, a, b);
        let order = if view.descending {
            order.reverse()
        } else {
            order
        };
        order.then(a.endpoint.cmp(&b.endpoint))
    });
    let mut lines = Vec::with_capacity(hosts.len());
    for host in hosts {
        let expanded = view.expanded.contains(&host.endpoint);
        let connections = if expanded {
            host.connections.clone()
        } else {
            Vec::new()
        };
        lines.push(HostLine::Host { host, expanded });
        lines.extend(
            connections
                .into_iter()
                .map(|(process, connection)| HostLine::Connection {
                    process,
                    connection,
                }),
        );
    }
    lines
}

/// Orders two endpoints by `key`, ascending. An unknown figure sorts below every known one, so
/// an endpoint nobody could measure is never taken for the busiest or the slowest.
fn compare(key: HostSortKey, a: &RemoteHost<'_>, b: &RemoteHost<'_>) -> Ordering {
    let known = |v: Option<f64>| v.unwrap_or(-1.0);
    match key {
        HostSortKey::Rate => {
            known(a.total_bytes_per_sec()).total_cmp(&known(b.total_bytes_per_sec()))
        }
        HostSortKey::Connections => a.connections.len().cmp(&b.connections.len()),
        HostSortKey::Rtt => known(a.worst_rtt_ms()).total_cmp(&known(b.worst_rtt_ms())),
        HostSortKey::Remote => a.endpoint.cmp(&b.endpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::fixture::processes_with_remote_peers as processes;

    fn shown(lines: &[HostLine<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|line| match line {
                HostLine::Host { host, .. } => remote_text(host),
                HostLine::Connection { process, .. } => format!("  {}", process.pid),
            })
            .collect()
    }

    #[test]
    fn busiest_endpoint_first_and_unmeasured_last() {
        let processes = processes();
        let lines = build(&processes, &Filter::default(), "", &HostsView::default());
        assert_eq!(
            shown(&lines),
            [
                "127.0.0.1 (curl)",
                "127.0.0.1:8080 (node)",
                "10.0.0.7",
                "203.0.113.9:443"
            ]
        );
    }

    #[test]
    fn sorting_by_connections_rtt_and_remote() {
        let processes = processes();
        let mut view = HostsView::default();
        let order = |view: &HostsView| shown(&build(&processes, &Filter::default(), "", view));
        view.sort_by(HostSortKey::Connections);
        assert_eq!(order(&view)[0], "10.0.0.7", "two connections");
        view.sort_by(HostSortKey::Rtt);
        assert_eq!(order(&view)[0], "10.0.0.7", "1.6 ms is the worst");
        assert_eq!(order(&view)[3], "203.0.113.9:443", "no rtt known");
        view.sort_by(HostSortKey::Remote);
        assert_eq!(order(&view)[0], "10.0.0.7");
        view.descending = !view.descending;
        assert_eq!(order(&view)[0], "203.0.113.9:443");
    }

    #[test]
    fn filter_keeps_endpoints_of_matching_processes_or_matching_addresses() {
        let processes = processes();
        let view = HostsView::default();
        let filtered = |text: &str| {
            let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            shown(&build(&processes, &filter, text, &view))
        };
        assert_eq!(filtered("postgres"), ["10.0.0.7"]);
        assert_eq!(
            filtered("node"),
            [
                "127.0.0.1 (curl)",
                "127.0.0.1:8080 (node)",
                "203.0.113.9:443"
            ],
            "node's own rows, and curl's row whose peer is node"
        );
        assert_eq!(filtered("203.0.113"), ["203.0.113.9:443"]);
        assert!(filtered("nothing-like-this").is_empty());
    }

    #[test]
    fn an_expanded_endpoint_lists_its_connections_under_it() {
        let processes = processes();
        let mut view = HostsView::default();
        let endpoint = RemoteEndpoint {
            addr: [10, 0, 0, 7].into(),
            port: None,
        };
        view.toggle_expanded(endpoint);
        let lines = build(&processes, &Filter::default(), "", &view);
        assert_eq!(
            shown(&lines),
            [
                "127.0.0.1 (curl)",
                "127.0.0.1:8080 (node)",
                "10.0.0.7",
                "  1400",
                "  1400",
                "203.0.113.9:443"
            ]
        );
        assert_eq!(lines[3].cursor(), None, "the cursor skips connection lines");
        view.toggle_expanded(endpoint);
        assert_eq!(build(&processes, &Filter::default(), "", &view).len(), 4);
    }
}
