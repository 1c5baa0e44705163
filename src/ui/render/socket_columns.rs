//! The columns of an expanded row's socket list, sized to what that process's sockets hold
//! and to the terminal: PEER (who is on the other end) is the point of expanding a row, so on
//! a narrow terminal DIR goes first, then STATE, then addresses are cut in the middle, and
//! PEER stays in view. At 80 columns a loopback connection shows all of them.

use std::net::IpAddr;

use crate::escape::for_terminal;
use crate::format::proto;
use crate::model::{Connection, Direction, Listening, Process, Proto, Role};

const PROTO_WIDTH: usize = 5;
/// An address column is never cut below this: `[2001:d…]:443` still says which network.
const MIN_ADDR_WIDTH: usize = 13;
/// The room PEER is planned with at most: a long name is cut rather than pushing DIR out.
const MAX_PEER_WIDTH: usize = 24;

/// Widths of one process's socket columns; `None`: the column is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketColumns {
    local: usize,
    remote: usize,
    state: Option<usize>,
    dir: Option<usize>,
}

impl SocketColumns {
    /// Fits the columns of `owner`'s sockets in `width` cells (the detail line's room after
    /// its indent).
    pub fn fit(owner: &Process, width: usize) -> SocketColumns {
        let longest = |texts: &mut dyn Iterator<Item = usize>, title: &str| {
            texts.max().unwrap_or(0).max(title.len())
        };
        let local = longest(
            &mut owner
                .listening
                .iter()
                .map(|l| endpoint(l.addr, l.port).chars().count())
                .chain(
                    owner
                        .connections
                        .iter()
                        .map(|c| endpoint(c.local_addr, c.local_port).chars().count()),
                ),
            "LOCAL",
        );
        let remote = longest(
            &mut owner.listening.iter().map(|l| any_remote(l).len()).chain(
                owner
                    .connections
                    .iter()
                    .map(|c| endpoint(c.remote_addr, c.remote_port).chars().count()),
            ),
            "REMOTE",
        );
        let state = longest(
            &mut owner
                .listening
                .iter()
                .map(|l| listening_state(l).len())
                .chain(owner.connections.iter().map(|c| c.state.as_str().len())),
            "STATE",
        );
        let dir = longest(
            &mut owner.connections.iter().map(|c| direction(c).len()),
            "DIR",
        );
        let peer = longest(
            &mut owner
                .connections
                .iter()
                .filter_map(peer_text)
                .map(|p| p.chars().count()),
            "PEER",
        )
        .min(MAX_PEER_WIDTH);
        let mut columns = SocketColumns {
            local,
            remote,
            state: Some(state),
            dir: Some(dir),
        };
        let fits = |c: &SocketColumns| c.width_before_peer() + peer <= width;
        if !fits(&columns) {
            columns.dir = None;
        }
        if !fits(&columns) {
            columns.state = None;
        }
        // Still too wide: cut the longer address first, each down to the minimum.
        while !fits(&columns) {
            let widest = columns.local.max(columns.remote);
            if widest <= MIN_ADDR_WIDTH {
                break;
            }
            if columns.local >= columns.remote {
                columns.local -= 1;
            } else {
                columns.remote -= 1;
            }
        }
        columns
    }

    /// Cells taken before the PEER column, the spaces between columns included.
    fn width_before_peer(&self) -> usize {
        let optional = |w: Option<usize>| w.map_or(0, |w| w + 1);
        PROTO_WIDTH
            + 1
            + self.local
            + 1
            + self.remote
            + 1
            + optional(self.state)
            + optional(self.dir)
    }

    /// The column titles.
    pub fn header(&self) -> String {
        self.row(["PROTO", "LOCAL", "REMOTE", "STATE", "DIR"]) + "PEER"
    }

    /// A listening socket's line.
    pub fn listening(&self, l: &Listening) -> String {
        let local = endpoint(l.addr, l.port);
        self.row([
            proto(l.proto),
            &local,
            any_remote(l),
            listening_state(l),
            "",
        ])
    }

    /// A connection's columns up to PEER, and its peer (`-> 1234 node`) for a local other end.
    pub fn connection(&self, c: &Connection) -> (String, Option<String>) {
        let local = endpoint(c.local_addr, c.local_port);
        let remote = endpoint(c.remote_addr, c.remote_port);
        let text = self.row([
            proto(c.proto),
            &local,
            &remote,
            c.state.as_str(),
            direction(c),
        ]);
        (text, peer_text(c))
    }

    /// `proto local remote state dir ` in this layout, each cell padded or cut to its width.
    fn row(&self, [proto, local, remote, state, dir]: [&str; 5]) -> String {
        let mut text = format!(
            "{} {} {} ",
            pad(proto, PROTO_WIDTH),
            pad(local, self.local),
            pad(remote, self.remote)
        );
        for (cell, width) in [(state, self.state), (dir, self.dir)] {
            if let Some(width) = width {
                text.push_str(&pad(cell, width));
                text.push(' ');
            }
        }
        text
    }
}

/// `text` in exactly `width` cells: padded, or with its middle elided (`[2001:db8:…:2]:443`)
/// so both the network and the port stay readable.
fn pad(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return format!("{text:<width$}");
    }
    if width < 3 {
        return chars[..width].iter().collect();
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `addr:port`; an IPv4 address the kernel reports in its IPv6 form (`::ffff:10.0.0.1`) is
/// shown as the IPv4 address it is. IPv6 addresses come compressed (`2001:db8::2`).
fn endpoint(addr: IpAddr, port: u16) -> String {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    crate::format::endpoint(addr, port)
}

fn any_remote(l: &Listening) -> &'static str {
    if l.addr.is_ipv4() {
        "0.0.0.0:*"
    } else {
        "[::]:*"
    }
}

fn listening_state(l: &Listening) -> &'static str {
    if l.proto == Proto::Udp {
        "UNCONN"
    } else {
        "LISTEN"
    }
}

fn direction(c: &Connection) -> &'static str {
    match c.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
        Direction::Local => "local",
    }
}

/// `-> 1234 node` (`<-` for a connection this process serves), for a local other end.
fn peer_text(c: &Connection) -> Option<String> {
    let arrow = if c.role == Some(Role::Server) {
        "<-"
    } else {
        "->"
    };
    c.peer_pid.map(|pid| {
        let name = c.peer_name.as_deref().map(for_terminal).unwrap_or_default();
        format!("{arrow} {pid} {name}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_in_the_middle_to_its_width() {
        assert_eq!(pad("10.0.0.1:80", 13), "10.0.0.1:80  ");
        let cut = pad("[2001:db8:85a3:8d3:1319:8a2e:370:7348]:443", 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(
            cut.starts_with("[2001:db8:") && cut.ends_with("]:443"),
            "{cut}"
        );
        assert!(cut.contains('…'));
    }

    #[test]
    fn a_mapped_ipv4_address_is_shown_as_ipv4() {
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(endpoint(mapped, 80), "10.0.0.1:80");
        let v6: IpAddr = "2001:db8:0:0:0:0:0:2".parse().unwrap();
        assert_eq!(endpoint(v6, 443), "[2001:db8::2]:443");
    }

    /// As the terminal narrows, DIR goes, then STATE, then the addresses are cut; PEER stays.
    #[test]
    fn narrower_rooms_drop_dir_then_state_then_cut_addresses() {
        let mut p = Process::example(1, "root");
        let mut c = Connection::example_loopback(50312, 8080, Role::Client, (1200, "node"), 1);
        c.local_addr = "2001:db8:85a3:8d3:1319:8a2e:370:7348".parse().unwrap();
        c.remote_addr = "2001:db8:85a3:8d3:1319:8a2e:370:1".parse().unwrap();
        p.connections.push(c);
        let wide = SocketColumns::fit(&p, 200);
        assert!(wide.state.is_some() && wide.dir.is_some());
        let peer = "-> 1200 node".len();
        let full = wide.width_before_peer();
        let no_dir = SocketColumns::fit(&p, full + peer - 1);
        assert_eq!((no_dir.state.is_some(), no_dir.dir), (true, None));
        let narrow = SocketColumns::fit(&p, 75);
        assert_eq!((narrow.state, narrow.dir), (None, None));
        assert!(narrow.width_before_peer() + peer <= 75, "{narrow:?}");
        let (text, peer_shown) = narrow.connection(&p.connections[0]);
        assert!(text.contains('…'), "{text}");
        assert_eq!(peer_shown.as_deref(), Some("-> 1200 node"));
    }
}
