//! A busy host built by a bench: idle processes plus established loopback TCP connections spread
//! over several processes, so that ownership looks like a host with a few busy clients talking
//! to a couple of servers.
//!
//! The socket holders are the bench binary itself started again in a helper role: a bench that
//! builds a load dispatches [`HELPER_ARG`] to [`run_helper`] before anything else, and then
//! needs nothing beyond `sleep` and `setpriv`. Every child is started so that the kernel kills
//! it if the bench dies, and [`Load`]'s Drop kills and reaps the rest however the bench ends.
//! Every socket is reset on close (SO_LINGER 0), so no TIME_WAIT entry outlives the load to
//! inflate what is measured next.
#![allow(dead_code)] // each bench uses a different part of this module

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use crate::support::grouped;
use crate::system;

/// First argument that turns a bench binary into a load helper instead of the bench.
pub const HELPER_ARG: &str = "__wiretop_bench_helper";
/// Connections are spread over this many client processes (fewer if there are fewer
/// connections)...
pub const CLIENT_PROCESSES: usize = 10;
/// ...talking to this many servers.
pub const SERVER_PROCESSES: usize = 2;
/// Descriptors a helper needs beside its connections (stdio, the listener, the binary's own).
pub const HELPER_SPARE_FDS: u64 = 16;
/// How long the kernel may take to show every connection once the helpers say they are ready,
/// and to forget them once the helpers are gone.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

/// A load size: idle processes and loopback TCP connections (two sockets each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    pub procs: usize,
    pub conns: usize,
}

impl Scale {
    pub fn sockets(&self) -> usize {
        2 * self.conns
    }

    pub fn client_processes(&self) -> usize {
        self.conns.min(CLIENT_PROCESSES)
    }

    pub fn server_processes(&self) -> usize {
        self.client_processes().min(SERVER_PROCESSES)
    }

    /// The most connections one server holds.
    pub fn conns_per_server(&self) -> usize {
        match self.server_processes() {
            0 => 0,
            servers => self.conns.div_ceil(servers),
        }
    }

    /// `1000x10000`: idle processes x connections.
    pub fn parse(text: &str) -> Result<Scale> {
        let (procs, conns) = text
            .trim()
            .split_once(['x', 'X'])
            .with_context(|| format!("{text:?} is not PROCESSESxCONNECTIONS (e.g. 1000x10000)"))?;
        let number = |part: &str, what: &str| -> Result<usize> {
            part.trim()
                .replace('_', "")
                .parse()
                .with_context(|| format!("{part:?} in {text:?} is not a number of {what}"))
        };
        Ok(Scale {
            procs: number(procs, "processes")?,
            conns: number(conns, "connections")?,
        })
    }

    /// `1000x10000,5000x25000`: one scale after the other.
    pub fn parse_list(text: &str) -> Result<Vec<Scale>> {
        let scales = text
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Scale::parse)
            .collect::<Result<Vec<_>>>()?;
        ensure!(!scales.is_empty(), "{text:?} names no scale");
        Ok(scales)
    }
}

impl fmt::Display for Scale {
    /// `1,000 processes / 20,000 sockets (10,000 connections)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} processes / {} sockets ({} connections)",
            grouped(self.procs),
            grouped(self.sockets()),
            grouped(self.conns)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers: the bench binary started again as a TCP server or client that holds its sockets
// ---------------------------------------------------------------------------------------------

/// The helper role: `server EXPECTED` or `client PORT COUNT` (the arguments after
/// [`HELPER_ARG`]).
pub fn run_helper(args: &[String]) -> Result<()> {
    match args {
        [role, expected] if role == "server" => serve(expected.parse().context("server count")?),
        [role, port, count] if role == "client" => connect(
            port.parse().context("client port")?,
            count.parse().context("client count")?,
        ),
        _ => bail!("unknown helper invocation {args:?}"),
    }
}

/// Listens on an ephemeral loopback port, reports it, accepts `expected` connections, reports
/// readiness, then holds everything until killed.
fn serve(expected: usize) -> Result<()> {
    system::make_room_for_fds(expected as u64 + HELPER_SPARE_FDS)
        .map_err(|e| anyhow::anyhow!("{e}; ask for fewer connections"))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding the listener")?;
    // std's backlog can be as small as 128; clients connecting flat out could overflow it, and
    // an overflowed handshake is only retried after a second. Listening again resizes the queue
    // (the kernel caps it at net.core.somaxconn).
    let backlog = nix::sys::socket::Backlog::new(4096).context("a backlog of 4096")?;
    nix::sys::socket::listen(&listener, backlog).context("listen(4096)")?;
    report(&format!("port {}", listener.local_addr()?.port()))?;
    let mut held = Vec::with_capacity(expected);
    while held.len() < expected {
        let (stream, _) = listener.accept().context("accepting a connection")?;
        system::reset_on_close(&stream).context("setsockopt(SO_LINGER)")?;
        held.push(stream);
    }
    report(&format!("ready {}", held.len()))?;
    hold_forever(&(listener, held))
}

/// Opens `count` connections to the server on `port`, reports readiness, then holds them.
fn connect(port: u16, count: usize) -> Result<()> {
    system::make_room_for_fds(count as u64 + HELPER_SPARE_FDS)
        .map_err(|e| anyhow::anyhow!("{e}; ask for fewer connections"))?;
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        system::reset_on_close(&stream).context("setsockopt(SO_LINGER)")?;
        held.push(stream);
    }
    report(&format!("ready {}", held.len()))?;
    hold_forever(&held)
}

/// One line to the parent, which reads helpers' stdout to know when the load is up.
fn report(line: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush().context("reporting to the bench")
}

/// Keeps the sockets (borrowed, so they stay open) until the bench kills us.
fn hold_forever<T>(_sockets: &T) -> ! {
    loop {
        std::thread::park();
    }
}

// ---------------------------------------------------------------------------------------------
// The load, owned by the bench and torn down by Drop (also when setup or measuring fails)
// ---------------------------------------------------------------------------------------------

struct Helper {
    role: &'static str,
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Helper {
    /// Starts this binary as a helper with the given role arguments.
    fn spawn(role: &'static str, args: &[String]) -> Result<Helper> {
        let exe = std::env::current_exe().context("locating the bench binary")?;
        // The kernel kills the helper should the bench die without running its Drop guard.
        let mut child = system::dies_with_us(&Command::new(exe))
            .arg(HELPER_ARG)
            .arg(role)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting a {role} helper"))?;
        let stdout = child.stdout.take().context("helper stdout was not piped")?;
        Ok(Helper {
            role,
            child,
            stdout: BufReader::new(stdout),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the helper's next report, which must start with `word`, and returns the rest.
    /// A helper that fails exits after printing why on stderr, which ends this read with EOF.
    fn expect(&mut self, word: &str) -> Result<String> {
        let mut line = String::new();
        let read = self
            .stdout
            .read_line(&mut line)
            .with_context(|| format!("reading from {} helper {}", self.role, self.pid()))?;
        ensure!(
            read > 0,
            "{} helper {} exited before reporting '{word}' (its error is on stderr above)",
            self.role,
            self.pid()
        );
        match line.trim().strip_prefix(word) {
            Some(rest) => Ok(rest.trim().to_owned()),
            None => bail!(
                "{} helper said {:?}, expected '{word} ...'",
                self.role,
                line.trim()
            ),
        }
    }
}

/// Idle processes and the helpers holding the connections, up until dropped.
pub struct Load {
    scale: Scale,
    idle: Vec<Child>,
    servers: Vec<Helper>,
    clients: Vec<Helper>,
    /// Listening port of each server, in the order of `servers`.
    server_ports: Vec<u16>,
}

impl Load {
    /// Starts everything and returns once every connection is established and accepted.
    pub fn start(scale: Scale) -> Result<Load> {
        // Built up in place, so whatever was started before a failure is torn down by Drop.
        let mut load = Load {
            scale,
            idle: Vec::new(),
            servers: Vec::new(),
            clients: Vec::new(),
            server_ports: Vec::new(),
        };
        load.start_idle()?;
        load.start_connections()?;
        load.wait_settled()?;
        Ok(load)
    }

    pub fn scale(&self) -> Scale {
        self.scale
    }

    fn start_idle(&mut self) -> Result<()> {
        for _ in 0..self.scale.procs {
            let child = system::dies_with_us(&Command::new("sleep"))
                .arg("3600")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .context("starting an idle `sleep 3600` process")?;
            self.idle.push(child);
        }
        Ok(())
    }

    fn start_connections(&mut self) -> Result<()> {
        let conns = self.scale.conns;
        let clients = self.scale.client_processes();
        if clients == 0 {
            return Ok(());
        }
        let servers = self.scale.server_processes();
        // Client i holds share(i) connections to server i % servers.
        let share = |i: usize| conns / clients + usize::from(i < conns % clients);
        let mut expected = vec![0; servers];
        for i in 0..clients {
            expected[i % servers] += share(i);
        }

        for count in expected {
            // Owned by the load before anything can fail, so that Drop reaps it in every case.
            self.servers
                .push(Helper::spawn("server", &[count.to_string()])?);
            let server = self.servers.last_mut().context("server just added")?;
            let port = server.expect("port")?;
            self.server_ports.push(
                port.parse()
                    .with_context(|| format!("server reported port {port:?}"))?,
            );
        }
        for i in 0..clients {
            let port = self.server_ports[i % servers];
            let args = [port.to_string(), share(i).to_string()];
            self.clients.push(Helper::spawn("client", &args)?);
        }
        // Clients first: a client that fails exits (EOF here), whereas its server would wait
        // for the missing connections forever.
        for helper in self.clients.iter_mut().chain(self.servers.iter_mut()) {
            helper.expect("ready")?;
        }
        Ok(())
    }

    /// Both ends of every connection must be ESTABLISHED in the kernel's table.
    fn wait_settled(&self) -> Result<()> {
        let ports = self.ports();
        let expected = self.scale.sockets();
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let seen = count_established(&ports)?.ours;
            if seen >= expected {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "only {seen} of {expected} loopback sockets ESTABLISHED after {SETTLE_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Kills and reaps everything, then waits until the kernel lists none of the load's
    /// connections any more, so that whatever is measured next does not pay for them.
    pub fn stop(self) -> Result<()> {
        let ports = self.ports();
        drop(self);
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            let left = count_established(&ports)?.ours;
            if left == 0 {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "{left} load sockets still ESTABLISHED {SETTLE_TIMEOUT:?} after the helpers died"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The servers' listening ports: a connection of the load has one at either end.
    pub fn ports(&self) -> HashSet<u16> {
        self.server_ports.iter().copied().collect()
    }

    pub fn idle_pids(&self) -> HashSet<u32> {
        self.idle.iter().map(Child::id).collect()
    }

    pub fn client_pids(&self) -> HashSet<u32> {
        self.clients.iter().map(Helper::pid).collect()
    }

    /// Servers and clients.
    pub fn helper_pids(&self) -> HashSet<u32> {
        self.servers
            .iter()
            .chain(&self.clients)
            .map(Helper::pid)
            .collect()
    }

    /// Which server process listens on each port.
    pub fn server_by_port(&self) -> HashMap<u16, u32> {
        self.server_ports
            .iter()
            .copied()
            .zip(self.servers.iter().map(Helper::pid))
            .collect()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let mut children: Vec<&mut Child> = self
            .idle
            .iter_mut()
            .chain(self.servers.iter_mut().map(|h| &mut h.child))
            .chain(self.clients.iter_mut().map(|h| &mut h.child))
            .collect();
        // Kill everything first and reap afterwards: each wait is then immediate.
        for child in children.iter_mut() {
            let _ = child.kill();
        }
        for child in children.iter_mut() {
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the kernel lists
// ---------------------------------------------------------------------------------------------

/// How big the host is: its processes and the TCP sockets (any state) of our network
/// namespace. Taken before and after a measurement, it shows whether something else started or
/// stopped meanwhile (on a shared machine another load can come and go).
#[derive(Debug, Clone, Copy)]
pub struct HostSize {
    pub processes: usize,
    pub tcp_sockets: usize,
}

impl HostSize {
    pub fn now() -> Result<HostSize> {
        let processes = std::fs::read_dir("/proc")
            .context("listing /proc")?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .count();
        Ok(HostSize {
            processes,
            tcp_sockets: count_established(&HashSet::new())?.rows,
        })
    }

    /// Whether `later` differs from this by more than a few percent (or a few dozen) in
    /// either count: more than a measurement's own comings and goings.
    pub fn changed(&self, later: &HostSize) -> bool {
        let moved = |a: usize, b: usize, floor: usize| a.abs_diff(b) > (a / 20).max(floor);
        moved(self.processes, later.processes, 30)
            || moved(self.tcp_sockets, later.tcp_sockets, 100)
    }
}

impl fmt::Display for HostSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} processes, {} TCP sockets",
            grouped(self.processes),
            grouped(self.tcp_sockets)
        )
    }
}

/// TCP sockets in our network namespace: ESTABLISHED ones with a load port at either end,
/// all ESTABLISHED ones, and all rows in any state (leftover TIME_WAIT sockets inflate the
/// tables every tool here has to read).
pub struct Established {
    pub ours: usize,
    pub total: usize,
    pub rows: usize,
}

pub fn count_established(ports: &HashSet<u16>) -> Result<Established> {
    let mut counted = Established {
        ours: 0,
        total: 0,
        rows: 0,
    };
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match std::fs::read_to_string(table) {
            Ok(text) => text,
            // tcp6 is absent when IPv6 is disabled.
            Err(e) if e.kind() == io::ErrorKind::NotFound && table.ends_with('6') => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {table}")),
        };
        for line in text.lines().skip(1) {
            counted.rows += 1;
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "01" is TCP_ESTABLISHED.
            if fields.len() < 4 || fields[3] != "01" {
                continue;
            }
            counted.total += 1;
            let port = |addr: &str| {
                addr.rsplit_once(':')
                    .and_then(|(_, hex)| u16::from_str_radix(hex, 16).ok())
            };
            let at_load_port = [fields[1], fields[2]]
                .iter()
                .any(|addr| port(addr).is_some_and(|p| ports.contains(&p)));
            if at_load_port {
                counted.ours += 1;
            }
        }
    }
    Ok(counted)
}
