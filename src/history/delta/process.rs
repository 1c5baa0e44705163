//! One process in a sample's payload, when the previous sample has the same process with the
//! same identity: only what changes from tick to tick (its numbers, and its connections' traffic
//! figures) is written, against the previous values.
//!
//! Which fields are identity and which are numbers is decided here, field by field, and the
//! struct patterns below name every field with no `..`: a field added to `Process`,
//! `Connection` or `Traffic` stops the build here until it is put on one side. Identity: compared
//! whole, any change writes the process whole (its command line, user, cgroup, listening
//! sockets). Numbers: written as changes every sample.

use rustc_hash::FxHashMap;

use crate::model::{
    Connection, CpuTime, CpuUsage, DiskIo, Process, ProcessMemory, ProcessState, Traffic,
    TrafficGap,
};

use super::wire::{Numbers, Reader, WireError, Writer};
use super::{from_blob, to_blob, EncodeError};

/// Whether `current` can be written as changes against `previous`: the same process (pid and
/// start time) with nothing changed but its numbers and connections.
pub(super) fn same_identity(current: &Process, previous: &Process) -> bool {
    let Process {
        pid,
        ppid,
        name,
        exe,
        cmdline,
        user,
        uid,
        state: _,
        threads: _,
        start_time_ms,
        kernel_thread,
        cpu: _,
        cpu_time: _,
        memory: _,
        disk: _,
        net_send_bytes_per_sec: _,
        net_recv_bytes_per_sec: _,
        net_sent_bytes: _,
        net_received_bytes: _,
        fd_count: _,
        cgroup,
        container_id,
        netns,
        listening,
        connections: _,
        recently_closed: _,
        unreadable,
        new: _,
        unexpected: _,
        unexpected_reasons,
        nice,
        priority,
        attribution,
    } = current;
    // A renice changes nice and priority: rare enough to write the process whole.
    *pid == previous.pid
        && *nice == previous.nice
        && *priority == previous.priority
        && *attribution == previous.attribution
        && *start_time_ms == previous.start_time_ms
        && *ppid == previous.ppid
        && *uid == previous.uid
        && *kernel_thread == previous.kernel_thread
        && *netns == previous.netns
        && *name == previous.name
        && *exe == previous.exe
        && *user == previous.user
        && *cgroup == previous.cgroup
        && *container_id == previous.container_id
        && *cmdline == previous.cmdline
        && *listening == previous.listening
        && *unreadable == previous.unreadable
        && *unexpected_reasons == previous.unexpected_reasons
}

/// A process's numbers: 13 integers and 8 floats, in this order (the order is the format).
type ProcessNumbers = Numbers<13, 8>;

fn process_numbers(p: &Process) -> ProcessNumbers {
    let Process {
        pid: _,
        ppid: _,
        name: _,
        exe: _,
        cmdline: _,
        user: _,
        uid: _,
        state,
        threads,
        start_time_ms: _,
        kernel_thread: _,
        cpu,
        cpu_time,
        memory,
        disk,
        net_send_bytes_per_sec,
        net_recv_bytes_per_sec,
        net_sent_bytes,
        net_received_bytes,
        fd_count,
        cgroup: _,
        container_id: _,
        netns: _,
        listening: _,
        // Written apart: lists, not numbers.
        connections: _,
        recently_closed: _,
        unreadable: _,
        new,
        unexpected,
        unexpected_reasons: _,
        nice: _,
        priority: _,
        attribution: _,
    } = p;
    Numbers {
        integers: [
            Some(u64::from(state_code(*state))),
            Some(u64::from(*threads)),
            Some(cpu_time.user_ms),
            Some(cpu_time.system_ms),
            Some(memory.rss_bytes),
            Some(memory.virtual_bytes),
            disk.map(|d| d.read_bytes_total),
            disk.map(|d| d.write_bytes_total),
            *net_sent_bytes,
            *net_received_bytes,
            fd_count.map(u64::from),
            Some(u64::from(*new)),
            unexpected.map(u64::from),
        ],
        floats: [
            cpu.map(|c| c.total_pct),
            cpu.map(|c| c.user_pct),
            cpu.map(|c| c.system_pct),
            Some(memory.percent),
            disk.and_then(|d| d.read_bytes_per_sec),
            disk.and_then(|d| d.write_bytes_per_sec),
            *net_send_bytes_per_sec,
            *net_recv_bytes_per_sec,
        ],
    }
}

/// Writes what changed in `current` since `previous` (which passed [`same_identity`]): its
/// numbers (the fields [`same_identity`] leaves out), its recently closed connections when they
/// changed, and its connections.
pub(super) fn write_changes(
    w: &mut Writer<'_>,
    scratch: &mut Vec<u8>,
    current: &Process,
    previous: &Process,
) -> Result<(), EncodeError> {
    w.numbers(&process_numbers(current), &process_numbers(previous));
    if current.recently_closed == previous.recently_closed {
        w.byte(0);
    } else {
        w.byte(1);
        to_blob(w, scratch, &current.recently_closed)?;
    }
    write_connections(w, scratch, &current.connections, &previous.connections)
}

/// Reads what [`write_changes`] wrote, on top of `previous`.
pub(super) fn read_changes(r: &mut Reader<'_>, previous: &Process) -> Result<Process, WireError> {
    let Numbers { integers, floats } = r.numbers(&process_numbers(previous))?;
    let [state, threads, user_ms, system_ms, rss, virtual_bytes, read_total, write_total, net_sent_bytes, net_received_bytes, fd_count, new, unexpected] =
        integers;
    let [cpu_total, cpu_user, cpu_system, percent, read_rate, write_rate, net_send_bytes_per_sec, net_recv_bytes_per_sec] =
        floats;
    let cpu = match (cpu_total, cpu_user, cpu_system) {
        (Some(total_pct), Some(user_pct), Some(system_pct)) => Some(CpuUsage {
            total_pct,
            user_pct,
            system_pct,
        }),
        (None, None, None) => None,
        _ => return Err(invalid("cpu figures present in part")),
    };
    let disk = match (read_total, write_total) {
        (Some(read_bytes_total), Some(write_bytes_total)) => Some(DiskIo {
            read_bytes_per_sec: read_rate,
            write_bytes_per_sec: write_rate,
            read_bytes_total,
            write_bytes_total,
        }),
        (None, None) if read_rate.is_none() && write_rate.is_none() => None,
        _ => return Err(invalid("disk figures present in part")),
    };
    let state = state_from_code(narrow(required(state, "state")?)?)?;
    let unexpected = match unexpected {
        None => None,
        Some(0) => Some(false),
        Some(1) => Some(true),
        Some(other) => return Err(invalid(&format!("unexpected {other}"))),
    };
    let recently_closed = match r.byte()? {
        0 => previous.recently_closed.clone(),
        1 => from_blob(r.blob()?)?,
        other => return Err(invalid(&format!("closed connections byte {other}"))),
    };
    let connections = read_connections(r, &previous.connections)?;
    Ok(Process {
        pid: previous.pid,
        ppid: previous.ppid,
        name: previous.name.clone(),
        exe: previous.exe.clone(),
        cmdline: previous.cmdline.clone(),
        user: previous.user.clone(),
        uid: previous.uid,
        state,
        threads: narrow(required(threads, "threads")?)?,
        start_time_ms: previous.start_time_ms,
        kernel_thread: previous.kernel_thread,
        cpu,
        cpu_time: CpuTime {
            user_ms: required(user_ms, "cpu_time")?,
            system_ms: required(system_ms, "cpu_time")?,
        },
        memory: ProcessMemory {
            rss_bytes: required(rss, "memory")?,
            virtual_bytes: required(virtual_bytes, "memory")?,
            percent: required(percent, "memory")?,
        },
        disk,
        net_send_bytes_per_sec,
        net_recv_bytes_per_sec,
        net_sent_bytes,
        net_received_bytes,
        fd_count: fd_count.map(narrow).transpose()?,
        cgroup: previous.cgroup.clone(),
        container_id: previous.container_id.clone(),
        netns: previous.netns,
        listening: previous.listening.clone(),
        connections,
        recently_closed,
        unreadable: previous.unreadable.clone(),
        new: match new {
            Some(0) => false,
            Some(1) => true,
            _ => return Err(invalid("new")),
        },
        unexpected,
        unexpected_reasons: previous.unexpected_reasons.clone(),
        nice: previous.nice,
        priority: previous.priority,
        attribution: previous.attribution.clone(),
    })
}

fn invalid(what: &str) -> WireError {
    WireError::Invalid(what.to_owned())
}

fn required<T>(value: Option<T>, what: &str) -> Result<T, WireError> {
    value.ok_or_else(|| invalid(&format!("{what} missing")))
}

fn narrow<T: TryFrom<u64>>(value: u64) -> Result<T, WireError> {
    T::try_from(value).map_err(|_| invalid(&format!("{value} out of range")))
}

/// Whether `current` is `previous` with other traffic figures: the same socket, in the same
/// state, with the same peer.
fn same_connection(current: &Connection, previous: &Connection) -> bool {
    let Connection {
        proto,
        family,
        local_addr,
        local_port,
        remote_addr,
        remote_port,
        state,
        direction,
        role,
        inode,
        netns,
        peer_pid,
        peer_name,
        traffic: _,
    } = current;
    *inode == previous.inode
        && *local_port == previous.local_port
        && *remote_port == previous.remote_port
        && *state == previous.state
        && *proto == previous.proto
        && *family == previous.family
        && *local_addr == previous.local_addr
        && *remote_addr == previous.remote_addr
        && *direction == previous.direction
        && *role == previous.role
        && *netns == previous.netns
        && *peer_pid == previous.peer_pid
        && *peer_name == previous.peer_name
}

/// Each connection is either whole (tag 0) or a reference to the previous sample's list of the
/// same process plus its traffic. The reference is written relative to the slot after the last
/// one referenced, so an unchanged list is a run of tag 1.
fn write_connections(
    w: &mut Writer<'_>,
    scratch: &mut Vec<u8>,
    current: &[Connection],
    previous: &[Connection],
) -> Result<(), EncodeError> {
    w.varint(current.len() as u64);
    let mut by_inode: Option<FxHashMap<u64, usize>> = None;
    let mut expected = 0usize;
    for connection in current {
        let at_expected = previous
            .get(expected)
            .filter(|p| same_connection(connection, p))
            .map(|_| expected);
        let found = at_expected.or_else(|| {
            let index = by_inode
                .get_or_insert_with(|| {
                    previous
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (p.inode, i))
                        .collect()
                })
                .get(&connection.inode)
                .copied()?;
            previous
                .get(index)
                .filter(|p| same_connection(connection, p))
                .map(|_| index)
        });
        match found.and_then(|index| Some((index, previous.get(index)?))) {
            Some((index, before)) => {
                let offset = index as i64 - expected as i64;
                w.varint(1 + super::wire::zigzag(offset));
                write_traffic(w, &connection.traffic, &before.traffic);
                expected = index + 1;
            }
            None => {
                w.varint(0);
                to_blob(w, scratch, connection)?;
            }
        }
    }
    Ok(())
}

fn read_connections(
    r: &mut Reader<'_>,
    previous: &[Connection],
) -> Result<Vec<Connection>, WireError> {
    let count = r.count()?;
    let mut connections = Vec::with_capacity(count);
    let mut expected = 0usize;
    for _ in 0..count {
        match r.varint()? {
            0 => connections.push(from_blob(r.blob()?)?),
            tag => {
                let index = i64::try_from(expected)
                    .ok()
                    .and_then(|e| e.checked_add(super::wire::unzigzag(tag - 1)))
                    .and_then(|i| usize::try_from(i).ok())
                    .ok_or_else(|| WireError::Invalid("connection reference".to_owned()))?;
                let before = previous.get(index).ok_or_else(|| {
                    WireError::Invalid(format!(
                        "connection {index} of a process that had {}",
                        previous.len()
                    ))
                })?;
                let traffic = read_traffic(r, &before.traffic)?;
                connections.push(Connection {
                    traffic,
                    ..before.clone()
                });
                expected = index + 1;
            }
        }
    }
    Ok(connections)
}

/// A connection's traffic figures: 8 integers (the last the reason they are missing) and 4
/// floats, in this order.
type TrafficNumbers = Numbers<8, 4>;

fn traffic_numbers(traffic: &Traffic) -> TrafficNumbers {
    let Traffic {
        bytes_sent,
        bytes_received,
        send_bytes_per_sec,
        recv_bytes_per_sec,
        rtt_ms,
        rttvar_ms,
        retransmits,
        retransmits_last_interval,
        send_queue_bytes,
        recv_queue_bytes,
        idle_ms,
        traffic_unavailable,
    } = traffic;
    let wide = |v: &Option<u32>| v.map(u64::from);
    Numbers {
        integers: [
            *bytes_sent,
            *bytes_received,
            wide(retransmits),
            wide(retransmits_last_interval),
            wide(send_queue_bytes),
            wide(recv_queue_bytes),
            wide(idle_ms),
            traffic_unavailable.map(|gap| u64::from(gap_code(gap))),
        ],
        floats: [
            *send_bytes_per_sec,
            *recv_bytes_per_sec,
            *rtt_ms,
            *rttvar_ms,
        ],
    }
}

fn write_traffic(w: &mut Writer<'_>, current: &Traffic, previous: &Traffic) {
    w.numbers(&traffic_numbers(current), &traffic_numbers(previous));
}

fn read_traffic(r: &mut Reader<'_>, previous: &Traffic) -> Result<Traffic, WireError> {
    let Numbers { integers, floats } = r.numbers(&traffic_numbers(previous))?;
    let [bytes_sent, bytes_received, retransmits, retransmits_last_interval, send_queue_bytes, recv_queue_bytes, idle_ms, gap] =
        integers;
    let [send_bytes_per_sec, recv_bytes_per_sec, rtt_ms, rttvar_ms] = floats;
    let small = |v: Option<u64>| v.map(narrow::<u32>).transpose();
    Ok(Traffic {
        bytes_sent,
        bytes_received,
        send_bytes_per_sec,
        recv_bytes_per_sec,
        rtt_ms,
        rttvar_ms,
        retransmits: small(retransmits)?,
        retransmits_last_interval: small(retransmits_last_interval)?,
        send_queue_bytes: small(send_queue_bytes)?,
        recv_queue_bytes: small(recv_queue_bytes)?,
        idle_ms: small(idle_ms)?,
        traffic_unavailable: gap.map(|code| gap_from_code(narrow(code)?)).transpose()?,
    })
}

/// The state as the letter ps shows (`ProcessState::letter`), which maps back one to one.
fn state_code(state: ProcessState) -> u8 {
    state.letter() as u8
}

fn state_from_code(code: u8) -> Result<ProcessState, WireError> {
    let state = ProcessState::from_letter(char::from(code));
    if state_code(state) == code {
        Ok(state)
    } else {
        Err(WireError::Invalid(format!("process state {code}")))
    }
}

/// Stable numbers for the reasons traffic is missing; a new reason gets the next number.
fn gap_code(gap: TrafficGap) -> u8 {
    match gap {
        TrafficGap::Udp => 1,
        TrafficGap::NamespaceNotEntered => 2,
        TrafficGap::NotReported => 3,
        TrafficGap::FirstSeen => 4,
        TrafficGap::NotCollected => 5,
    }
}

fn gap_from_code(code: u8) -> Result<TrafficGap, WireError> {
    Ok(match code {
        1 => TrafficGap::Udp,
        2 => TrafficGap::NamespaceNotEntered,
        3 => TrafficGap::NotReported,
        4 => TrafficGap::FirstSeen,
        5 => TrafficGap::NotCollected,
        other => return Err(invalid(&format!("traffic gap {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_traffic_gap_code_maps_back() {
        use ProcessState::*;
        for state in [
            Running,
            Sleeping,
            DiskSleep,
            Zombie,
            Stopped,
            TracingStop,
            Dead,
            Idle,
            Parked,
            Unknown,
        ] {
            assert_eq!(state_from_code(state_code(state)), Ok(state));
        }
        assert!(state_from_code(b'x').is_err());
        use TrafficGap::*;
        for gap in [
            Udp,
            NamespaceNotEntered,
            NotReported,
            FirstSeen,
            NotCollected,
        ] {
            assert_eq!(gap_from_code(gap_code(gap)), Ok(gap));
        }
        assert!(gap_from_code(0).is_err() && gap_from_code(6).is_err());
    }
}
