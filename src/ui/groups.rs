//! The grouped view (`v`): the table's processes gathered per systemd unit or per container,
//! one row each summing CPU, memory, threads, connections and network rate, expanding into its
//! processes. Pure: the filtered, sorted processes in, groups out.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::format::{human_bytes, rate_or_dash};
use crate::model::Process;

use super::columns::Column;
use super::rows::Source;
use super::state::{GroupId, Grouping, Sort};

/// Where processes with no unit (no container) go.
pub const NONE_GROUP: &str = "(none)";

/// What a group row shows: its name and its processes' figures summed.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub id: GroupId,
    /// The unit (`nginx.service`), the container's name (else its short id), or [`NONE_GROUP`].
    pub name: String,
    pub processes: usize,
    /// CPU summed over the processes measured; None when none was.
    pub cpu_pct: Option<f64>,
    pub rss_bytes: u64,
    pub mem_pct: f64,
    pub threads: u64,
    pub connections: usize,
    /// TCP bytes per second both ways, summed over the processes measured; None when none was.
    pub net_bytes_per_sec: Option<f64>,
}

/// A group: its row, and its processes in the table's sort.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub row: GroupRow,
    pub members: Vec<Source>,
}

/// The name of the group `p` falls in.
pub fn group_name(p: &Process, grouping: Grouping) -> &str {
    let name = match grouping {
        Grouping::Off => None,
        Grouping::Service => p.attribution.systemd_unit.as_deref(),
        Grouping::Container => p.attribution.container.as_ref().map(|c| c.label()),
    };
    name.unwrap_or(NONE_GROUP)
}

/// The id of the group called `name` under `grouping`: the same across refreshes, so the
/// cursor and the expanded groups follow it.
pub fn group_id(grouping: Grouping, name: &str) -> GroupId {
    // DefaultHasher::new() has fixed keys: the id is stable for the life of the explorer.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (grouping as u8, name).hash(&mut hasher);
    GroupId(hasher.finish())
}

/// Gathers `sorted` (the table's processes in its sort) into groups, each keeping that order
/// for its processes; the groups are in `sort` where a sum answers it (CPU, memory, threads,
/// connections, network rate), else by name; "(none)" comes last.
pub fn gather(sorted: &[(&Process, Source)], grouping: Grouping, sort: Sort) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    for (p, source) in sorted {
        let name = group_name(p, grouping);
        let index = *at.entry(name).or_insert_with(|| {
            groups.push(Group {
                row: GroupRow {
                    id: group_id(grouping, name),
                    name: name.to_owned(),
                    processes: 0,
                    cpu_pct: None,
                    rss_bytes: 0,
                    mem_pct: 0.0,
                    threads: 0,
                    connections: 0,
                    net_bytes_per_sec: None,
                },
                members: Vec::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[index];
        group.members.push(*source);
        add(&mut group.row, p);
    }
    groups.sort_by(|a, b| {
        let none_last = (a.row.name == NONE_GROUP).cmp(&(b.row.name == NONE_GROUP));
        let by_sort = compare(&a.row, &b.row, sort.column).map(|order| {
            if sort.descending {
                order.reverse()
            } else {
                order
            }
        });
        none_last
            .then(by_sort.unwrap_or(Ordering::Equal))
            .then_with(|| a.row.name.cmp(&b.row.name))
    });
    groups
}

fn add(row: &mut GroupRow, p: &Process) {
    row.processes += 1;
    if let Some(cpu) = p.cpu {
        *row.cpu_pct.get_or_insert(0.0) += cpu.total_pct;
    }
    row.rss_bytes += p.memory.rss_bytes;
    row.mem_pct += p.memory.percent;
    row.threads += u64::from(p.threads);
    row.connections += p.connections.len();
    if let Some(rate) = p.net_bytes_per_sec() {
        *row.net_bytes_per_sec.get_or_insert(0.0) += rate;
    }
}

/// Orders two group rows by `column`, ascending; None where the column has no sum.
fn compare(a: &GroupRow, b: &GroupRow, column: Column) -> Option<Ordering> {
    let known = |v: Option<f64>| v.unwrap_or(-1.0);
    Some(match column {
        Column::Cpu => known(a.cpu_pct).total_cmp(&known(b.cpu_pct)),
        Column::Mem | Column::MemPct => a.rss_bytes.cmp(&b.rss_bytes),
        Column::Threads => a.threads.cmp(&b.threads),
        Column::Conn => a.connections.cmp(&b.connections),
        Column::Net => known(a.net_bytes_per_sec).total_cmp(&known(b.net_bytes_per_sec)),
        _ => return None,
    })
}

/// A group row's cell in `column`; empty where the column has no sum.
pub fn cell(row: &GroupRow, column: Column, expanded: bool) -> String {
    match column {
        Column::Cpu => row
            .cpu_pct
            .map_or_else(|| "-".to_owned(), |c| format!("{c:.1}")),
        Column::Mem => human_bytes(row.rss_bytes),
        Column::MemPct => format!("{:.1}", row.mem_pct),
        Column::Threads => row.threads.to_string(),
        Column::Conn => row.connections.to_string(),
        Column::Net => rate_or_dash(row.net_bytes_per_sec),
        Column::Command => {
            let marker = if expanded { "▾" } else { "▸" };
            let noun = if row.processes == 1 {
                "process"
            } else {
                "processes"
            };
            format!("{marker} {} ({} {noun})", row.name, row.processes)
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CpuUsage;

    fn in_unit(pid: u32, unit: Option<&str>, cpu: f64, conns: usize) -> Process {
        let mut p = Process::example(pid, "root");
        p.attribution.systemd_unit = unit.map(str::to_owned);
        p.cpu = Some(CpuUsage {
            total_pct: cpu,
            user_pct: cpu,
            system_pct: 0.0,
        });
        p.connections = (0..conns)
            .map(|i| {
                crate::model::Connection::example_loopback(
                    1000 + i as u16,
                    80,
                    crate::model::Role::Client,
                    (1, "x"),
                    i as u64,
                )
            })
            .collect();
        p.memory.rss_bytes = 1024 * u64::from(pid);
        p
    }

    #[test]
    fn groups_sum_their_processes_and_sort_by_the_sum_with_none_last() {
        let procs = [
            in_unit(10, Some("a.service"), 1.0, 1),
            in_unit(11, Some("b.service"), 5.0, 0),
            in_unit(12, None, 50.0, 0),
            in_unit(13, Some("a.service"), 7.0, 2),
        ];
        let sorted: Vec<(&Process, Source)> = procs
            .iter()
            .enumerate()
            .map(|(i, p)| (p, Source::Live(i)))
            .collect();
        let by_cpu = Sort {
            column: Column::Cpu,
            descending: true,
        };
        let groups = gather(&sorted, Grouping::Service, by_cpu);
        let names: Vec<&str> = groups.iter().map(|g| g.row.name.as_str()).collect();
        assert_eq!(names, ["a.service", "b.service", NONE_GROUP]);
        let a = &groups[0];
        assert_eq!(a.row.processes, 2);
        assert_eq!(a.row.cpu_pct, Some(8.0));
        assert_eq!(a.row.connections, 3);
        assert_eq!(a.row.rss_bytes, 1024 * (10 + 13));
        assert_eq!(a.members, [Source::Live(0), Source::Live(3)]);
        let ascending = gather(&sorted, Grouping::Service, by_cpu.by(Column::Cpu));
        assert_eq!(ascending[0].row.name, "b.service");
        assert_eq!(ascending[2].row.name, NONE_GROUP, "(none) stays last");
        assert_eq!(
            cell(&a.row, Column::Command, false),
            "▸ a.service (2 processes)"
        );
        assert_eq!(cell(&a.row, Column::Cpu, false), "8.0");
        assert_eq!(cell(&a.row, Column::Pid, false), "");
    }

    #[test]
    fn by_container_without_containers_everything_is_in_none() {
        let procs = [in_unit(10, Some("a.service"), 1.0, 0)];
        let sorted = [(&procs[0], Source::Live(0))];
        let sort = crate::ui::state::ViewState::default().sort;
        let groups = gather(&sorted, Grouping::Container, sort);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].row.name, NONE_GROUP);
        assert_ne!(
            group_id(Grouping::Container, NONE_GROUP),
            group_id(Grouping::Service, NONE_GROUP)
        );
    }
}
