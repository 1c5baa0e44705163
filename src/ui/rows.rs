//! The lines of the process table for one frame: filtered, sorted (or as a tree), with the
//! detail block of every expanded process inserted under its row. Pure: snapshot plus view
//! state in, lines out.

use std::collections::HashMap;

use crate::model::{ClosedConnection, Connection, Filter, Listening, Process, Role};

use super::groups::{self, Group, GroupRow};
use super::state::{Cursor, Grouping, ProcessId, ViewState};

/// What one line of the table shows.
#[derive(Debug, Clone)]
pub enum Line<'a> {
    /// A group of the grouped view: its processes summed.
    Group { group: GroupRow, expanded: bool },
    /// A process row.
    Process {
        process: &'a Process,
        /// Tree glyphs before the command, in tree view.
        tree_prefix: String,
        /// The process has exited: kept listed, greyed and marked, for `ui.exited_linger`.
        exited: bool,
        expanded: bool,
    },
    /// A line of facts in an expanded process's detail block.
    Info {
        owner: &'a Process,
        label: &'static str,
        text: String,
    },
    /// The column titles of the socket list in a detail block.
    SocketHeader { owner: &'a Process },
    /// A listening socket in a detail block.
    Listening {
        owner: &'a Process,
        socket: &'a Listening,
    },
    /// A connection in a detail block.
    Connection {
        owner: &'a Process,
        socket: &'a Connection,
    },
    /// A detail block for a process with no sockets (or none collected).
    NoSockets {
        owner: &'a Process,
        why: &'static str,
    },
}

impl Line<'_> {
    /// Where the cursor is when it sits on this line; None for lines it skips.
    pub fn cursor(&self) -> Option<Cursor> {
        match self {
            Line::Process { process, .. } => Some(Cursor::process(ProcessId::of(process))),
            Line::Group { group, .. } => Some(Cursor::group(group.id)),
            Line::Listening { owner, socket } => Some(Cursor {
                socket: Some(socket.inode),
                ..Cursor::process(ProcessId::of(owner))
            }),
            Line::Connection { owner, socket } => Some(Cursor {
                socket: Some(socket.inode),
                ..Cursor::process(ProcessId::of(owner))
            }),
            _ => None,
        }
    }
}

/// Where a process of the table comes from: the snapshot's list or the ghosts (processes that
/// have exited, still listed: see `ghosts.rs`), by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Live(usize),
    Ghost(usize),
}

/// One entry of the table's order: a process with its tree glyphs, or a group of the grouped
/// view with its processes.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Process(Source, String),
    Group(Group),
}

/// The table's processes in order (filtered, sorted, as a tree with its glyphs, or grouped):
/// the costly part of a frame at tens of thousands of processes, which the explorer keeps until
/// the snapshot or the view's order changes.
pub type Order = Vec<Entry>;

/// Filters and sorts the processes (and lays them out as a tree when the view says so).
pub fn order(processes: &[Process], ghosts: &[Process], view: &ViewState) -> Order {
    let filter: &Filter = &view.filter;
    let mut visible: Vec<(&Process, Source)> = processes
        .iter()
        .enumerate()
        .map(|(i, p)| (p, Source::Live(i)))
        .chain(
            ghosts
                .iter()
                .enumerate()
                .map(|(i, p)| (p, Source::Ghost(i))),
        )
        .filter(|(p, _)| view.show_kernel_threads || !p.kernel_thread)
        .filter(|(p, _)| !view.hide_containers || p.attribution.container.is_none())
        .filter(|(p, _)| filter.matches(p))
        .collect();
    let sort = view.sort;
    visible.sort_by(|(a, _), (b, _)| {
        let order = sort.column.compare(a, b);
        let order = if sort.descending {
            order.reverse()
        } else {
            order
        };
        order.then(a.pid.cmp(&b.pid))
    });
    // Grouped, the processes of a group are listed flat under it: a tree would cut across
    // groups.
    if view.grouping != Grouping::Off {
        groups::gather(&visible, view.grouping, sort)
            .into_iter()
            .map(Entry::Group)
            .collect()
    } else if view.tree {
        tree_order(&visible)
            .into_iter()
            .map(|(source, glyphs)| Entry::Process(source, glyphs))
            .collect()
    } else {
        visible
            .into_iter()
            .map(|(_, source)| Entry::Process(source, String::new()))
            .collect()
    }
}

/// Builds every line of the table. `ghosts` are processes that have exited, still listed;
/// `width` is the table's width, which long command lines in detail blocks wrap to.
pub fn build<'a>(
    processes: &'a [Process],
    ghosts: &'a [Process],
    view: &ViewState,
    connections_collected: bool,
    width: usize,
) -> Vec<Line<'a>> {
    let order = order(processes, ghosts, view);
    build_in_order(
        &order,
        processes,
        ghosts,
        view,
        connections_collected,
        width,
    )
}

/// [`build`] over an [`Order`] already made.
pub fn build_in_order<'a>(
    order: &[Entry],
    processes: &'a [Process],
    ghosts: &'a [Process],
    view: &ViewState,
    connections_collected: bool,
    width: usize,
) -> Vec<Line<'a>> {
    let mut lines = Vec::with_capacity(order.len());
    let sources = Sources { processes, ghosts };
    for entry in order {
        match entry {
            Entry::Process(source, tree_prefix) => sources.push(
                *source,
                tree_prefix,
                view,
                connections_collected,
                width,
                &mut lines,
            ),
            Entry::Group(group) => {
                let expanded = view.expanded_groups.contains(&group.row.id);
                lines.push(Line::Group {
                    group: group.row.clone(),
                    expanded,
                });
                if expanded {
                    for source in &group.members {
                        sources.push(
                            *source,
                            "  ",
                            view,
                            connections_collected,
                            width,
                            &mut lines,
                        );
                    }
                }
            }
        }
    }
    lines
}

/// Where the order's [`Source`]s point.
struct Sources<'a> {
    processes: &'a [Process],
    ghosts: &'a [Process],
}

impl<'a> Sources<'a> {
    /// Pushes the row of the process at `source`, and its detail block when it is expanded.
    fn push(
        &self,
        source: Source,
        tree_prefix: &str,
        view: &ViewState,
        connections_collected: bool,
        width: usize,
        lines: &mut Vec<Line<'a>>,
    ) {
        let (process, exited) = match source {
            Source::Live(i) => (self.processes.get(i), false),
            Source::Ghost(i) => (self.ghosts.get(i), true),
        };
        let Some(process) = process else {
            return;
        };
        let expanded = view.expanded.contains(&ProcessId::of(process));
        lines.push(Line::Process {
            process,
            tree_prefix: tree_prefix.to_owned(),
            exited,
            expanded,
        });
        if expanded {
            detail_lines(process, connections_collected, width, lines);
        }
    }
}

/// Room left for text on a detail line: `   │ ` plus a 9-wide label and `: `.
const DETAIL_INDENT: usize = 16;
/// A command line longer than this many wrapped lines is cut, saying how much is left out.
const MAX_COMMAND_LINES: usize = 8;

fn detail_lines<'a>(
    p: &'a Process,
    connections_collected: bool,
    width: usize,
    lines: &mut Vec<Line<'a>>,
) {
    // Escaped before wrapping, so an escape sequence is counted at the width it is shown.
    let cmd = crate::escape::for_terminal(&crate::format::command_text(p)).into_owned();
    let room = width.saturating_sub(DETAIL_INDENT).max(20);
    let chars: Vec<char> = cmd.chars().collect();
    for (i, chunk) in chars.chunks(room).enumerate() {
        if i == MAX_COMMAND_LINES {
            let left = chars.len() - room * MAX_COMMAND_LINES;
            lines.push(Line::Info {
                owner: p,
                label: "",
                text: format!("… {left} more characters"),
            });
            break;
        }
        lines.push(Line::Info {
            owner: p,
            label: if i == 0 { "command" } else { "" },
            text: chunk.iter().collect(),
        });
    }
    let exe = p
        .exe
        .clone()
        .unwrap_or_else(|| match p.unreadable.get("exe") {
            Some(why) => format!("? ({why})"),
            None => "-".to_owned(),
        });
    lines.push(Line::Info {
        owner: p,
        label: "exe",
        text: exe,
    });
    let fds = p.fd_count.map_or_else(|| "?".to_owned(), |n| n.to_string());
    let user = p.user.clone().unwrap_or_else(|| "?".to_owned());
    lines.push(Line::Info {
        owner: p,
        label: "process",
        text: format!(
            "user {user} ({})  ppid {}  threads {}  fds {fds}  started {}",
            p.uid,
            p.ppid,
            p.threads,
            start_time(p.start_time_ms)
        ),
    });
    if let Some(container) = &p.container_id {
        lines.push(Line::Info {
            owner: p,
            label: "container",
            text: container.chars().take(12).collect(),
        });
    }
    if let Some(why) = p.unreadable.get("sockets") {
        lines.push(Line::NoSockets {
            owner: p,
            why: if why.contains("denied") {
                "sockets: permission denied (run as root)"
            } else {
                "sockets: unreadable"
            },
        });
        return;
    }
    if !connections_collected {
        lines.push(Line::NoSockets {
            owner: p,
            why: "sockets not collected (collect_connections is off)",
        });
        return;
    }
    if p.listening.is_empty() && p.connections.is_empty() {
        lines.push(Line::NoSockets {
            owner: p,
            why: "no sockets",
        });
    } else {
        lines.push(Line::SocketHeader { owner: p });
        lines.extend(
            p.listening
                .iter()
                .map(|socket| Line::Listening { owner: p, socket }),
        );
        lines.extend(
            p.connections
                .iter()
                .map(|socket| Line::Connection { owner: p, socket }),
        );
    }
    // Newest first: what closed a moment ago is what was being looked for.
    for closed in p.recently_closed.iter().rev() {
        lines.push(Line::Info {
            owner: p,
            label: "closed",
            text: closed_text(closed),
        });
    }
}

/// `tcp 127.0.0.1:8080 <- 127.0.0.1:50312  sent 12K received 78B  rtt 0.1ms` for a connection
/// that closed between samples.
fn closed_text(c: &ClosedConnection) -> String {
    let arrow = if c.role == Role::Server { "<-" } else { "->" };
    let bytes = crate::format::bytes_or_dash;
    let mut text = format!(
        "tcp {} {arrow} {}  sent {} received {}",
        crate::format::endpoint(c.local_addr, c.local_port),
        crate::format::endpoint(c.remote_addr, c.remote_port),
        bytes(c.bytes_sent),
        bytes(c.bytes_received),
    );
    if let Some(rtt) = c.rtt_ms {
        text.push_str(&format!("  rtt {rtt:.1}ms"));
    }
    if let Some(retransmits) = c.retransmits.filter(|r| *r > 0) {
        text.push_str(&format!("  retr {retransmits}"));
    }
    text
}

/// UTC wall-clock time of a unix-ms instant, `YYYY-MM-DD HH:MM:SS`.
pub fn start_time(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Orders processes as a forest by parent pid, siblings in the current sort order, each with
/// the glyphs that draw its branch.
///
/// Exited processes kept in the table can share a pid with a live one (the kernel reused it):
/// a child goes under the process of its parent pid that started last before it did, since a
/// parent is always older than its child.
fn tree_order<T: Copy>(sorted: &[(&Process, T)]) -> Vec<(T, String)> {
    let mut present: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, (p, _)) in sorted.iter().enumerate() {
        present.entry(p.pid).or_default().push(i);
    }
    let parent_of = |child: &Process| -> Option<usize> {
        let candidates = present.get(&child.ppid)?;
        let older = candidates
            .iter()
            .filter(|&&i| sorted[i].0.start_time_ms <= child.start_time_ms)
            .max_by_key(|&&i| sorted[i].0.start_time_ms);
        older
            .or_else(|| {
                candidates
                    .iter()
                    .max_by_key(|&&i| sorted[i].0.start_time_ms)
            })
            .copied()
    };
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, (p, _)) in sorted.iter().enumerate() {
        // A parent filtered out or gone makes the process a root of its own.
        match parent_of(p).filter(|&parent| p.ppid != p.pid && parent != i) {
            Some(parent) => children.entry(parent).or_default().push(i),
            None => roots.push(i),
        }
    }
    let mut out = Vec::with_capacity(sorted.len());
    let mut placed = vec![false; sorted.len()];
    // Depth-first with an explicit stack: (index, prefix for its children, glyph for itself).
    // Processes no root leads to (parents in a loop, which reused pids can make) come last,
    // each a root of its own, so none is ever left out.
    let mut stack: Vec<(usize, String, String)> = roots
        .iter()
        .chain(&(0..sorted.len()).collect::<Vec<usize>>())
        .rev()
        .map(|&i| (i, String::new(), String::new()))
        .collect();
    while let Some((i, child_prefix, own_glyph)) = stack.pop() {
        if std::mem::replace(&mut placed[i], true) {
            continue;
        }
        let (_, source) = sorted[i];
        out.push((source, own_glyph));
        if let Some(kids) = children.get(&i) {
            for (n, &k) in kids.iter().enumerate().rev() {
                let last = n + 1 == kids.len();
                let glyph = format!("{child_prefix}{}", if last { "└─ " } else { "├─ " });
                // Deep trees stop indenting, so commands stay readable.
                let next = if child_prefix.chars().count() >= 30 {
                    child_prefix.clone()
                } else {
                    format!("{child_prefix}{}", if last { "   " } else { "│  " })
                };
                stack.push((k, next, glyph));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_a_utc_date() {
        assert_eq!(start_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(start_time(1_795_735_022_000), "2026-11-26 23:17:02 UTC");
    }

    fn process(pid: u32, ppid: u32, start_time_ms: u64) -> Process {
        let mut p = Process::example(pid, "root");
        p.ppid = ppid;
        p.start_time_ms = start_time_ms;
        p
    }

    /// An exited shell kept in the table (pid 50) left a child; the kernel gave pid 50 to a
    /// newer process since, with a child of its own. Each child stays under its own parent.
    #[test]
    fn a_reused_pid_keeps_each_child_under_the_parent_older_than_it() {
        let procs = [
            process(1, 0, 0),
            process(50, 1, 100),
            process(50, 1, 500),
            process(60, 50, 200),
            process(70, 50, 600),
        ];
        let sorted: Vec<(&Process, (u32, u64))> = procs
            .iter()
            .map(|p| (p, (p.pid, p.start_time_ms)))
            .collect();
        let order = tree_order(&sorted);
        assert_eq!(
            order,
            vec![
                ((1, 0), String::new()),
                ((50, 100), "├─ ".to_owned()),
                ((60, 200), "│  └─ ".to_owned()),
                ((50, 500), "└─ ".to_owned()),
                ((70, 600), "   └─ ".to_owned()),
            ]
        );
    }

    #[test]
    fn parents_in_a_loop_are_still_listed() {
        let procs = [process(5, 6, 10), process(6, 5, 10), process(7, 1, 10)];
        let sorted: Vec<(&Process, u32)> = procs.iter().map(|p| (p, p.pid)).collect();
        let mut pids: Vec<u32> = tree_order(&sorted)
            .into_iter()
            .map(|(pid, _)| pid)
            .collect();
        pids.sort_unstable();
        assert_eq!(pids, [5, 6, 7]);
    }

    #[test]
    fn tree_places_children_under_parents_with_branches() {
        let mut init = Process::example(1, "root");
        init.ppid = 0;
        let mut a = Process::example(10, "root");
        a.ppid = 1;
        let mut b = Process::example(11, "root");
        b.ppid = 10;
        let mut c = Process::example(12, "root");
        c.ppid = 1;
        let procs = [c, b, a, init];
        let sorted: Vec<(&Process, u32)> = {
            let mut v: Vec<_> = procs.iter().map(|p| (p, p.pid)).collect();
            v.sort_by_key(|(p, _)| p.pid);
            v
        };
        let order: Vec<(u32, String)> = tree_order(&sorted);
        assert_eq!(
            order,
            vec![
                (1, String::new()),
                (10, "├─ ".to_owned()),
                (11, "│  └─ ".to_owned()),
                (12, "└─ ".to_owned()),
            ]
        );
    }
}
