//! The process table's columns: titles, widths, cell text and sort order, in one place.

use std::cmp::Ordering;

use crate::format::{command_text as command, cpu_time, human_bytes, listen_ports};
use crate::model::{Process, Snapshot};

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
    /// The systemd unit the process runs in (`nginx.service`).
    Service,
    /// The container's name, else its short id.
    Container,
    /// Bytes per second read from storage (the block layer: cache hits are not counted).
    DiskRead,
    /// Bytes per second written to storage.
    DiskWrite,
    /// Inode of the network namespace.
    Netns,
    /// The cgroup path.
    Cgroup,
    Nice,
    /// The kernel's scheduling priority, as top's PR.
    Priority,
    /// Virtual memory size.
    Virt,
    /// When the process started (UTC).
    Start,
    /// Open file descriptors.
    Fds,
    Command,
}

impl Column {
    /// Every column, left to right.
    pub const ALL: [Column; 25] = [
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
        Column::Service,
        Column::Container,
        Column::DiskRead,
        Column::DiskWrite,
        Column::Netns,
        Column::Cgroup,
        Column::Nice,
        Column::Priority,
        Column::Virt,
        Column::Start,
        Column::Fds,
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
            Column::Service => "SERVICE",
            Column::Container => "CONTAINER",
            Column::DiskRead => "DISK R/s",
            Column::DiskWrite => "DISK W/s",
            Column::Netns => "NETNS",
            Column::Cgroup => "CGROUP",
            Column::Nice => "NI",
            Column::Priority => "PRI",
            Column::Virt => "VIRT",
            Column::Start => "START",
            Column::Fds => "FDS",
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
            Column::Service => 20,
            Column::Container => 16,
            Column::DiskRead | Column::DiskWrite => 8,
            Column::Netns => 10,
            Column::Cgroup => 28,
            Column::Nice => 3,
            Column::Priority => 4,
            Column::Virt => 6,
            // `12-31 23:59`.
            Column::Start => 11,
            Column::Fds => 5,
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
                | Column::DiskRead
                | Column::DiskWrite
                | Column::Netns
                | Column::Nice
                | Column::Priority
                | Column::Virt
                | Column::Fds
        )
    }

    /// Columns dropped first when the terminal is narrow, least useful first. Every column but
    /// the pid and the command is here, so any choice of columns fits.
    pub const DROP_ORDER: [Column; 23] = [
        Column::Cgroup,
        Column::Netns,
        Column::Start,
        Column::Priority,
        Column::Nice,
        Column::Virt,
        Column::Fds,
        Column::DiskWrite,
        Column::DiskRead,
        Column::Tx,
        Column::Rx,
        Column::State,
        Column::Threads,
        Column::MemPct,
        Column::Time,
        Column::Net,
        Column::Container,
        Column::Service,
        Column::User,
        Column::Conn,
        Column::Mem,
        Column::Cpu,
        Column::Listen,
    ];

    /// The name `ui.columns` and `ui.sort` know the column by.
    pub fn config_name(self) -> &'static str {
        match self {
            Column::Pid => "pid",
            Column::User => "user",
            Column::Cpu => "cpu",
            Column::Mem => "mem",
            Column::MemPct => "mem_pct",
            Column::Threads => "threads",
            Column::Listen => "listen",
            Column::Conn => "conn",
            Column::Net => "net",
            Column::Rx => "rx",
            Column::Tx => "tx",
            Column::State => "state",
            Column::Time => "time",
            Column::Service => "service",
            Column::Container => "container",
            Column::DiskRead => "disk_read",
            Column::DiskWrite => "disk_write",
            Column::Netns => "netns",
            Column::Cgroup => "cgroup",
            Column::Nice => "nice",
            Column::Priority => "priority",
            Column::Virt => "virt",
            Column::Start => "start",
            Column::Fds => "fds",
            Column::Command => "command",
        }
    }

    /// The direction a fresh sort on this column starts in: biggest first for figures, like
    /// htop; alphabetical for text.
    pub fn default_descending(self) -> bool {
        !matches!(
            self,
            Column::Pid
                | Column::User
                | Column::State
                | Column::Command
                | Column::Listen
                | Column::Service
                | Column::Container
                | Column::Cgroup
                | Column::Netns
                | Column::Nice
                | Column::Priority
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
            // Processes without one sort after those with one, whichever the direction.
            Column::Service => known_first(
                a.attribution.systemd_unit.as_deref(),
                b.attribution.systemd_unit.as_deref(),
            ),
            Column::Container => known_first(container(a), container(b)),
            Column::DiskRead => rate(disk(a, Read)).total_cmp(&rate(disk(b, Read))),
            Column::DiskWrite => rate(disk(a, Write)).total_cmp(&rate(disk(b, Write))),
            Column::Netns => a.netns.cmp(&b.netns),
            Column::Cgroup => known_first(a.cgroup.as_deref(), b.cgroup.as_deref()),
            Column::Nice => a.nice.cmp(&b.nice),
            Column::Priority => a.priority.cmp(&b.priority),
            Column::Virt => a.memory.virtual_bytes.cmp(&b.memory.virtual_bytes),
            Column::Start => a.start_time_ms.cmp(&b.start_time_ms),
            Column::Fds => a.fd_count.cmp(&b.fd_count),
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
            Column::Service => text_or_dash(p.attribution.systemd_unit.as_deref()),
            Column::Container => text_or_dash(container(p)),
            Column::DiskRead => rate_cell(disk(p, Read)),
            Column::DiskWrite => rate_cell(disk(p, Write)),
            Column::Netns => p.netns.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            Column::Cgroup => text_or_dash(p.cgroup.as_deref()),
            Column::Nice => p.nice.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            // top's `rt` for the highest real-time priority, which does not fit as a number.
            Column::Priority => match p.priority {
                Some(-100) => "rt".to_owned(),
                Some(priority) => priority.to_string(),
                None => "-".to_owned(),
            },
            Column::Virt => human_bytes(p.memory.virtual_bytes),
            Column::Start => crate::format::month_day_time(p.start_time_ms),
            Column::Fds => p.fd_count.map_or_else(|| "-".to_owned(), |n| n.to_string()),
            Column::Command => command(p),
        }
    }
}

/// The columns to show for the `configured` ones: the default list also gets SERVICE and
/// CONTAINER (before COMMAND) when any process in `snapshot` runs in a systemd unit or a
/// container, so a host without them keeps its room for the command. A list the user chose
/// is shown as it is.
pub fn shown(configured: &[Column], snapshot: Option<&Snapshot>) -> Vec<Column> {
    let mut columns = configured.to_vec();
    if configured != Column::DEFAULT {
        return columns;
    }
    let Some(snapshot) = snapshot else {
        return columns;
    };
    let any = |has: fn(&Process) -> bool| snapshot.processes.iter().any(has);
    let command_at = columns
        .iter()
        .position(|c| *c == Column::Command)
        .unwrap_or(columns.len());
    let mut extra = Vec::new();
    if any(|p| p.attribution.systemd_unit.is_some()) {
        extra.push(Column::Service);
    }
    if any(|p| p.attribution.container.is_some()) {
        extra.push(Column::Container);
    }
    columns.splice(command_at..command_at, extra);
    columns
}

#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}
use Direction::{Read, Write};

fn disk(p: &Process, direction: Direction) -> Option<f64> {
    let disk = p.disk?;
    match direction {
        Read => disk.read_bytes_per_sec,
        Write => disk.write_bytes_per_sec,
    }
}

fn container(p: &Process) -> Option<&str> {
    p.attribution.container.as_ref().map(|c| c.label())
}

fn text_or_dash(text: Option<&str>) -> String {
    text.unwrap_or("-").to_owned()
}

/// Ascending order of optional text, the unknown last.
fn known_first(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
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
