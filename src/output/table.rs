//! The plain table: `ps` and `ss` joined, one row per process.

use std::fmt::Write as _;
use std::io::Write;

use crate::escape::for_terminal;
use crate::format::{command_text, endpoint, human_bytes, listen_ports, proto};
use crate::model::{Connection, Process, Role, Snapshot};

/// What the table shows besides the process rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    /// List each process's sockets on indented lines under it.
    pub sockets: bool,
}

/// Writes the snapshot as an aligned table, busiest CPU first.
pub fn write_table(
    out: &mut impl Write,
    snapshot: &Snapshot,
    options: TableOptions,
) -> std::io::Result<()> {
    let mut rows: Vec<&Process> = snapshot.processes.iter().collect();
    rows.sort_by(|a, b| {
        let cpu = |p: &Process| p.cpu.map_or(-1.0, |c| c.total_pct);
        cpu(b).total_cmp(&cpu(a)).then(a.pid.cmp(&b.pid))
    });

    let user_width = rows
        .iter()
        .map(|p| user_label(p).chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 16);
    let listen_cells: Vec<String> = rows.iter().map(|p| listen_label(p)).collect();
    let listen_width = listen_cells
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 32);

    writeln!(
        out,
        "{:>7} {:<uw$} {:>6} {:>7} {:<lw$} {:>5} COMMAND",
        "PID",
        "USER",
        "CPU%",
        "RSS",
        "LISTEN",
        "CONNS",
        uw = user_width,
        lw = listen_width
    )?;
    for (process, listen) in rows.iter().zip(&listen_cells) {
        let cpu = process
            .cpu
            .map_or_else(|| "-".to_owned(), |c| format!("{:.1}", c.total_pct));
        writeln!(
            out,
            "{:>7} {:<uw$} {:>6} {:>7} {:<lw$} {:>5} {}",
            process.pid,
            truncate(&user_label(process), user_width),
            cpu,
            human_bytes(process.memory.rss_bytes),
            truncate(listen, listen_width),
            process.connections.len(),
            command_label(process),
            uw = user_width,
            lw = listen_width
        )?;
        if options.sockets {
            for l in &process.listening {
                writeln!(
                    out,
                    "{:>7}   {} LISTEN {}",
                    "",
                    proto(l.proto),
                    endpoint(l.addr, l.port)
                )?;
            }
            for c in &process.connections {
                writeln!(out, "{:>7}   {}", "", connection_line(c))?;
            }
        }
    }
    Ok(())
}

fn user_label(p: &Process) -> String {
    p.user.clone().unwrap_or_else(|| p.uid.to_string())
}

fn listen_label(p: &Process) -> String {
    let ports = listen_ports(p);
    if ports.is_empty() {
        "-".to_owned()
    } else {
        ports
    }
}

fn command_label(p: &Process) -> String {
    for_terminal(&command_text(p)).into_owned()
}

fn connection_line(c: &Connection) -> String {
    let arrow = match c.role {
        Some(Role::Server) => "<-",
        _ => "->",
    };
    let mut line = format!(
        "{} {} {} {} {}",
        proto(c.proto),
        c.state.as_str(),
        endpoint(c.local_addr, c.local_port),
        arrow,
        endpoint(c.remote_addr, c.remote_port),
    );
    if let Some(pid) = c.peer_pid {
        let name = c.peer_name.as_deref().unwrap_or("?");
        let _ = write!(line, " ({}/{})", pid, for_terminal(name));
    }
    line
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('+');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cells_are_cut_with_a_mark() {
        assert_eq!(truncate("postgres", 4), "pos+");
        assert_eq!(truncate("root", 4), "root");
    }
}
