//! How big a load this machine lets a bench build: free pids, descriptors (per process and
//! system-wide) and loopback ports, read from the kernel and from this process's limits. A
//! bench that asks for more than fits scales down to the most that does and says why, instead
//! of failing half-way through building the load (or, worse, measuring a sampler that ran out
//! of descriptors).
#![allow(dead_code)] // each bench uses a different part of this module

use nix::sys::resource::{getrlimit, Resource};

use crate::load::{Scale, HELPER_SPARE_FDS, SERVER_PROCESSES};
use crate::support::grouped;

/// Pids left for what runs beside the load: the helpers, `ss` and `ps`, the tools in ptys and
/// the threads of all of them.
const PID_HEADROOM: usize = 500;
/// Descriptors left free in any one process, and system-wide, beyond what is counted.
const FD_HEADROOM: u64 = 256;
/// Ephemeral ports left free for everything else on the host, per server port.
const PORT_HEADROOM: usize = 1000;

/// The scale a bench will run, and why it is smaller than asked, if it is.
pub struct Fitted {
    pub scale: Scale,
    /// One line per limit that made the scale smaller.
    pub reasons: Vec<String>,
    /// The limits as read, for the report whether they bound or not.
    pub limits: String,
}

/// The largest scale within `requested` that this machine allows. `own_fds(processes)` is how
/// many descriptors the bench process itself needs while `processes` processes run on the host
/// (the samplers it holds hold files of each).
pub fn fit(requested: Scale, own_fds: impl Fn(usize) -> u64) -> Fitted {
    let machine = Machine::read();
    let mut fitting = Fitting {
        scale: requested,
        reasons: Vec::new(),
    };
    fitting.processes_within_pids(&machine);
    fitting.processes_within_own_fds(&machine, &own_fds);
    fitting.connections_within_server_fds(&machine);
    fitting.connections_within_ports(&machine);
    fitting.connections_within_files(&machine);
    let scale = fitting.scale;
    let limits = format!(
        "{} pids free ({}), {} tasks running; hard RLIMIT_NOFILE {} (this bench needs {} with \
         the load, a server {}); {} ephemeral ports; {} open files left system-wide",
        grouped(machine.pids.free),
        machine.pids.bound_by,
        grouped(machine.running),
        machine.fd_hard,
        grouped(own_fds(machine.running + scale.procs) as usize),
        grouped(scale.conns_per_server() + HELPER_SPARE_FDS as usize),
        grouped(machine.ports),
        grouped(machine.files)
    );
    Fitted {
        scale,
        reasons: fitting.reasons,
        limits,
    }
}

/// The limits as read once.
struct Machine {
    running: usize,
    pids: FreePids,
    fd_hard: u64,
    ports: usize,
    files: usize,
}

impl Machine {
    fn read() -> Machine {
        let running = running_tasks();
        Machine {
            running,
            pids: free_pids(running),
            fd_hard: fd_hard_limit(),
            ports: ephemeral_ports(),
            files: free_files(),
        }
    }
}

/// A scale being brought within the limits, one limit at a time.
struct Fitting {
    scale: Scale,
    reasons: Vec<String>,
}

impl Fitting {
    fn processes_within_pids(&mut self, machine: &Machine) {
        let helpers = self.scale.client_processes() + SERVER_PROCESSES;
        let most = machine.pids.free.saturating_sub(PID_HEADROOM + helpers);
        if self.scale.procs > most {
            self.reasons.push(format!(
                "processes {} -> {}: {} pids free ({}), {PID_HEADROOM} kept for helpers and tools",
                grouped(self.scale.procs),
                grouped(most),
                grouped(machine.pids.free),
                machine.pids.bound_by
            ));
            self.scale.procs = most;
        }
    }

    fn processes_within_own_fds(&mut self, machine: &Machine, own_fds: &impl Fn(usize) -> u64) {
        let budget = machine.fd_hard.saturating_sub(FD_HEADROOM);
        let needed = |procs: usize| own_fds(machine.running + procs);
        if needed(self.scale.procs) <= budget {
            return;
        }
        let mut most = self.scale.procs;
        while most > 0 && needed(most) > budget {
            most -= most.div_ceil(100);
        }
        self.reasons.push(format!(
            "processes {} -> {}: this bench would need {} descriptors with {} processes on the \
             host, its hard RLIMIT_NOFILE is {}",
            grouped(self.scale.procs),
            grouped(most),
            grouped(needed(self.scale.procs) as usize),
            grouped(machine.running + self.scale.procs),
            machine.fd_hard
        ));
        self.scale.procs = most;
    }

    /// A server holds its share of the connections, plus a few.
    fn connections_within_server_fds(&mut self, machine: &Machine) {
        let per_server = machine
            .fd_hard
            .saturating_sub(HELPER_SPARE_FDS + FD_HEADROOM) as usize;
        if self.scale.conns_per_server() > per_server {
            let most = per_server * self.scale.server_processes().max(1);
            self.reasons.push(format!(
                "connections {} -> {}: a server would hold {} sockets, the hard RLIMIT_NOFILE \
                 is {}",
                grouped(self.scale.conns),
                grouped(most),
                grouped(self.scale.conns_per_server()),
                machine.fd_hard
            ));
            self.scale.conns = most;
        }
    }

    /// Every client connection to one server port takes an ephemeral port of its own.
    fn connections_within_ports(&mut self, machine: &Machine) {
        let per_port = machine.ports.saturating_sub(PORT_HEADROOM);
        if self.scale.conns_per_server() > per_port {
            let servers = self.scale.server_processes().max(1);
            let most = per_port * servers;
            self.reasons.push(format!(
                "connections {} -> {}: {} ephemeral ports (net.ipv4.ip_local_port_range less \
                 reserved ones) for each of {servers} server ports, {PORT_HEADROOM} kept free",
                grouped(self.scale.conns),
                grouped(most),
                grouped(machine.ports)
            ));
            self.scale.conns = most;
        }
    }

    /// Both ends of every connection are open files system-wide.
    fn connections_within_files(&mut self, machine: &Machine) {
        let most = machine
            .files
            .saturating_sub(FD_HEADROOM as usize + self.scale.procs)
            / 2;
        if self.scale.conns > most {
            self.reasons.push(format!(
                "connections {} -> {}: {} open files left system-wide (fs.file-max less \
                 fs.file-nr)",
                grouped(self.scale.conns),
                grouped(most),
                grouped(machine.files)
            ));
            self.scale.conns = most;
        }
    }
}

/// Tasks (threads included: each takes a pid) running now, from /proc/loadavg.
fn running_tasks() -> usize {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| {
            let field = text.split_whitespace().nth(3)?;
            field.split_once('/')?.1.parse().ok()
        })
        .unwrap_or(0)
}

struct FreePids {
    free: usize,
    bound_by: String,
}

/// Pids still free under kernel.pid_max, kernel.threads-max, the pids cgroup and (for a user
/// other than root, whom the kernel exempts) RLIMIT_NPROC; which of them binds.
fn free_pids(running: usize) -> FreePids {
    let mut candidates: Vec<(usize, String)> = Vec::new();
    for (path, name) in [
        ("/proc/sys/kernel/pid_max", "kernel.pid_max"),
        ("/proc/sys/kernel/threads-max", "kernel.threads-max"),
    ] {
        if let Some(max) = read_number(path) {
            candidates.push((
                max.saturating_sub(running),
                format!("{name} {max} less {running} tasks"),
            ));
        }
    }
    if let Some((max, current)) = pids_cgroup() {
        candidates.push((
            max.saturating_sub(current),
            format!("pids cgroup: pids.max {max}, pids.current {current}"),
        ));
    }
    if !nix::unistd::geteuid().is_root() {
        if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NPROC) {
            let soft = usize::try_from(soft).unwrap_or(usize::MAX);
            if soft < usize::MAX / 2 {
                // The user's tasks are counted against it; ours is a fair stand-in on a
                // machine a bench runs on.
                candidates.push((
                    soft.saturating_sub(running),
                    format!("RLIMIT_NPROC {soft} less {running} tasks"),
                ));
            }
        }
    }
    candidates
        .into_iter()
        .min_by_key(|(free, _)| *free)
        .map_or_else(
            || FreePids {
                free: usize::MAX,
                bound_by: "no limit found".to_owned(),
            },
            |(free, bound_by)| FreePids { free, bound_by },
        )
}

/// pids.max and pids.current of this process's pids cgroup (v1 or v2), when it has a limit.
fn pids_cgroup() -> Option<(usize, usize)> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let dir = text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.split(',').any(|c| c == "pids") {
            Some(format!("/sys/fs/cgroup/pids{path}"))
        } else if controllers.is_empty() {
            Some(format!("/sys/fs/cgroup{path}"))
        } else {
            None
        }
    })?;
    // "max" (no limit) does not parse, and neither does a missing file: no limit either way.
    let max = read_number(&format!("{dir}/pids.max"))?;
    let current = read_number(&format!("{dir}/pids.current")).unwrap_or(0);
    Some((max, current))
}

/// The hard RLIMIT_NOFILE: the most any process of ours can raise its soft limit to.
pub fn fd_hard_limit() -> u64 {
    getrlimit(Resource::RLIMIT_NOFILE).map_or(1024, |(_, hard)| hard)
}

/// Ports in net.ipv4.ip_local_port_range less net.ipv4.ip_local_reserved_ports.
fn ephemeral_ports() -> usize {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok();
    let Some((low, high)) = range.as_deref().and_then(|text| {
        let mut numbers = text.split_whitespace().map(str::parse::<usize>);
        Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
    }) else {
        // The kernel's default range.
        return 60999 - 32768 + 1;
    };
    let reserved = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_reserved_ports")
        .map(|text| reserved_within(&text, low, high))
        .unwrap_or(0);
    (high + 1).saturating_sub(low).saturating_sub(reserved)
}

/// How many ports of `low..=high` the list `8080,9000-9010` names.
fn reserved_within(list: &str, low: usize, high: usize) -> usize {
    list.trim()
        .split(',')
        .filter_map(|item| {
            let (from, to) = item.split_once('-').unwrap_or((item, item));
            let (from, to) = (
                from.trim().parse::<usize>().ok()?,
                to.trim().parse::<usize>().ok()?,
            );
            let (from, to) = (from.max(low), to.min(high));
            Some((to + 1).saturating_sub(from))
        })
        .sum()
}

/// Files that can still be opened system-wide: fs.file-max less the allocated ones.
fn free_files() -> usize {
    let Ok(text) = std::fs::read_to_string("/proc/sys/fs/file-nr") else {
        return usize::MAX;
    };
    let numbers: Vec<usize> = text
        .split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect();
    match numbers[..] {
        [allocated, _, max] => max.saturating_sub(allocated),
        _ => usize::MAX,
    }
}

fn read_number(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Descriptors a root bench raises its limit to: what a host's default hard limit usually is
/// (systemd's 524288) rather than a sandbox's lower one, so the sampler can hold the /proc
/// files of every process at 5,000 processes (four a process) the way it would there.
const RAISED_FD_LIMIT: u64 = 1 << 19;

/// As root, raises this process's descriptor limits (soft and hard; children inherit them) to
/// [`RAISED_FD_LIMIT`] when they are lower, capped by the kernel's fs.nr_open. Returns a line
/// for the report saying what was done.
pub fn raise_fd_limit_for_root() -> String {
    use nix::sys::resource::setrlimit;
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return "RLIMIT_NOFILE unreadable; left as it is".to_owned();
    };
    if !nix::unistd::geteuid().is_root() || hard >= RAISED_FD_LIMIT {
        return format!("RLIMIT_NOFILE soft {soft}, hard {hard} (as found)");
    }
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .unwrap_or(1 << 20);
    let raised = RAISED_FD_LIMIT.min(nr_open);
    match setrlimit(Resource::RLIMIT_NOFILE, raised, raised) {
        Ok(()) => format!(
            "RLIMIT_NOFILE raised from soft {soft}, hard {hard} to {raised} (root; a host's usual \
             hard limit)"
        ),
        Err(e) => format!("RLIMIT_NOFILE soft {soft}, hard {hard}: raising it failed ({e})"),
    }
}
