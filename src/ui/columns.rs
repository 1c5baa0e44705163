//! The process table's columns: titles, widths, cell text and sort order, in one place.

use std::cmp::Ordering;

use crate::format::{command_text as command, cpu_time, human_bytes, listen_ports};
use crate::model::Process;

/// A column of the process table, in display order. The configuration names columns the same
/// way (`ui.sort`, `ui.columns`: the snake_case of the variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Pid,
    User,
    Cpu,
    Mem,
    MemPct,
    Threads,
    Listen,
    Conn,
    /// Bytes per second sent and received over TCP (UDP has no per-socket counters).
    Net,
    /// Bytes per second received over TCP.
    Rx,
    /// Bytes per second sent over TCP (acknowledged by the other end).
    Tx,
    State,
    Time,
    Command,
}

impl Column {
    /// Every column, left to right.
    pub const ALL: [Column; 14] = [
        Column::Pid,
        Column::User,
        Column::Cpu,
        Column::Mem,
        Column::MemPct,
        Column::Threads,
        Column::Listen,
        Column::Conn,
        Column::Net,
        Column::Rx,
        Column::Tx,
        Column::State,
        Column::Time,
        Column::Command,
    ];

    /// The columns shown when the configuration names none (`ui.columns` in defaults.yaml).
    pub const DEFAULT: [Column; 12] = [
        Column::Pid,
        Column::User,
        Column::Cpu,
        Column::Mem,
        Column::MemPct,
        Column::Threads,
        Column::Listen,
        Column::Conn,
        Column::Net,
        Column::State,
        Column::Time,
        Column::Command,
    ];

    /// Header text.
    pub fn title(self) -> &'static str {
        match self {
            Column::Pid => "PID",
            Column::User => "USER",
            Column::Cpu => "CPU%",
            Column::Mem => "MEM",
            Column::MemPct => "MEM%",
            Column::Threads => "THR",
            Column::Listen => "LISTEN",
            Column::Conn => "CONN",
            Column::Net => "NET/s",
            Column::Rx => "RX/s",
            Column::Tx => "TX/s",
            Column::State => "S",
            Column::Time => "TIME+",
            Column::Command => "COMMAND",
        }
    }

    /// Width in cells; the command column takes whatever is left.
    pub fn width(self) -> u16 {
        match self {
            Column::Pid => 7,
            Column::User => 9,
            Column::Cpu => 6,
            Column::Mem => 6,
            Column::MemPct => 5,
            Column::Threads => 4,
            Column::Listen => 12,
            Column::Conn => 5,
            Column::Net | Column::Rx | Column::Tx => 6,
            Column::State => 1,
            Column::Time => 9,
            Column::Command => 0,
        }
    }

    /// Numbers read best right-aligned, like top.
    pub fn right_aligned(self) -> bool {
        matches!(
            self,
            Column::Pid
                | Column::Cpu
                | Column::Mem
                | Column::MemPct
                | Column::Threads
                | Column::Conn
                | Column::Net
                | Column::Rx
                | Column::Tx
                | Column::Time
        )
    }

    /// Columns dropped first when the terminal is narrow, least useful first.
    pub const DROP_ORDER: [Column; 8] = [
        Column::Tx,
        Column::Rx,
        Column::State,
        Column::Threads,
        Column::MemPct,
        Column::Time,
        Column::Net,
        Column::User,
    ];

    /// The direction a fresh sort on this column starts in: biggest first for figures, like
    /// htop; alphabetical for text.
    pub fn default_descending(self) -> bool {
        !matches!(
            self,
            Column::Pid | Column::User | Column::State | Column::Command | Column::Listen
        )
    }

    /// Orders two processes by this column, ascending.
    pub fn compare(self, a: &Process, b: &Process) -> Ordering {
        let cpu = |p: &Process| p.cpu.map_or(-1.0, |c| c.total_pct);
        let time = |p: &Process| p.cpu_time.user_ms + p.cpu_time.system_ms;
        let first_port = |p: &Process| p.listening.iter().map(|l| l.port).min();
        match self {
            Column::Pid => a.pid.cmp(&b.pid),
            Column::User => user(a).cmp(&user(b)),
            Column::Cpu => cpu(a).total_cmp(&cpu(b)),
            Column::Mem | Column::MemPct => a.memory.rss_bytes.cmp(&b.memory.rss_bytes),
            Column::Threads => a.threads.cmp(&b.threads),
            // Processes that listen come before those that do not, then by lowest port.
            Column::Listen => match (first_port(a), first_port(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            Column::Conn => a.connections.len().cmp(&b.connections.len()),
            // Unknown sorts below zero: a process whose traffic cannot be measured is not
            // taken for the busiest.
            Column::Net => rate(a.net_bytes_per_sec()).total_cmp(&rate(b.net_bytes_per_sec())),
            Column::Rx => rate(a.net_recv_bytes_per_sec).total_cmp(&rate(b.net_recv_bytes_per_sec)),
            Column::Tx => rate(a.net_send_bytes_per_sec).total_cmp(&rate(b.net_send_bytes_per_sec)),
            Column::State => a.state.letter().cmp(&b.state.letter()),
            Column::Time => time(a).cmp(&time(b)),
            Column::Command => command(a).cmp(&command(b)),
        }
    }

    /// The cell text (not yet escaped for the terminal in the command column: the table does that).
    pub fn cell(self, p: &Process) -> String {
        match self {
            Column::Pid => p.pid.to_string(),
            Column::User => user(p),
            Column::Cpu => p
                .cpu
                .map_or_else(|| "-".to_owned(), |c| format!("{:.1}", c.total_pct)),
            Column::Mem => human_bytes(p.memory.rss_bytes),
            Column::MemPct => format!("{:.1}", p.memory.percent),
            Column::Threads => p.threads.to_string(),
            Column::Listen => listen_ports(p),
            Column::Conn => p.connections.len().to_string(),
            Column::Net => rate_cell(p.net_bytes_per_sec()),
            Column::Rx => rate_cell(p.net_recv_bytes_per_sec),
            Column::Tx => rate_cell(p.net_send_bytes_per_sec),
            Column::State => p.state.letter().to_string(),
            Column::Time => cpu_time(p.cpu_time.user_ms + p.cpu_time.system_ms),
            Column::Command => command(p),
        }
    }
}

fn rate(value: Option<f64>) -> f64 {
    value.unwrap_or(-1.0)
}

/// `1.2M` for 1.2 MiB per second; `-` when it cannot be measured, never a made-up 0.
pub fn rate_cell(value: Option<f64>) -> String {
    crate::format::rate_or_dash(value)
}

fn user(p: &Process) -> String {
    p.user.clone().unwrap_or_else(|| p.uid.to_string())
}
