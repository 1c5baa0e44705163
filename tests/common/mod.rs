//! Real processes for the integration tests: servers, clients, spinners, started as children
//! and killed when dropped.
#![allow(dead_code)] // each test binary uses a different part of this module

pub mod cgroups;
pub mod engine_api;
pub mod invariants;
pub mod not_run;
pub mod pty;
pub mod system;
pub mod terminal;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use wiretop::model::{Process, Snapshot};
use wiretop::sample::{sample_once, SamplerSettings};

/// Debian's interpreter, readable by every user (a pyenv shim in root's home is not).
pub const PYTHON: &str = "/usr/bin/python3";

/// A child process that is killed and reaped when the test lets go of it.
pub struct Child {
    inner: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    /// Its stdin, when it was started to be told things (`python_listening`).
    stdin: Option<std::process::ChildStdin>,
}

impl Child {
    /// Starts `program args` with stdout piped (for readiness lines) and stderr inherited.
    pub fn start(mut command: Command) -> Child {
        command.stdout(Stdio::piped()).stdin(Stdio::null());
        // A group of its own, so dropping it ends what it started too (`sh -c '…; sleep'`).
        command.process_group(0);
        let mut inner = command.spawn().expect("test child starts");
        let stdout = inner.stdout.take().expect("piped stdout");
        Child {
            inner,
            lines: BufReader::new(stdout).lines(),
            stdin: None,
        }
    }

    /// Runs a Python script that reads lines from the test (`send_line`).
    pub fn python_listening(script: &str, args: &[&str]) -> Child {
        let mut command = Command::new(PYTHON);
        command.arg("-c").arg(script).args(args);
        command.stdout(Stdio::piped()).stdin(Stdio::piped());
        command.process_group(0);
        let mut inner = command.spawn().expect("test child starts");
        let stdout = inner.stdout.take().expect("piped stdout");
        let stdin = inner.stdin.take();
        Child {
            inner,
            lines: BufReader::new(stdout).lines(),
            stdin,
        }
    }

    /// Writes `line` and a newline to the child's stdin.
    pub fn send_line(&mut self, line: &str) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("started with python_listening");
        writeln!(stdin, "{line}").expect("child stdin writable");
        stdin.flush().expect("child stdin flushed");
    }

    /// Runs a Python script with arguments.
    pub fn python(script: &str, args: &[&str]) -> Child {
        let mut command = Command::new(PYTHON);
        command.arg("-c").arg(script).args(args);
        Child::start(command)
    }

    pub fn pid(&self) -> u32 {
        self.inner.id()
    }

    /// Whether the child has ended (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.inner.try_wait(), Ok(None))
    }

    /// The next line the child prints: how children say they are ready.
    pub fn line(&mut self) -> String {
        self.lines
            .next()
            .expect("child printed a line before exiting")
            .expect("child stdout readable")
    }
}

impl Drop for Child {
    /// Ends the child and everything it started (its process group), then reaps it.
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.inner.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(group),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.inner.kill();
        let _ = self.inner.wait();
    }
}

/// TCP server: binds `host:0`, prints its port, then prints `accepted <peer port>` for every
/// connection it takes and holds them all open.
pub const TCP_SERVER: &str = r#"
import socket, sys
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, addr = s.accept()
    held.append(c)
    print("accepted", addr[1], flush=True)
"#;

/// TCP client: connects to `host port`, prints its own port, holds the connection.
pub const TCP_CLIENT: &str = r#"
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
print(c.getsockname()[1], flush=True)
time.sleep(3600)
"#;

/// UDP server: binds `host:0`, prints its port, waits.
pub const UDP_SERVER: &str = r#"
import socket, sys, time
host = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
print(s.getsockname()[1], flush=True)
time.sleep(3600)
"#;

/// UDP client: connect()s to `host port` (fixing its peer), prints its own port, waits.
pub const UDP_CLIENT: &str = r#"
import socket, sys, time
host = sys.argv[1]
c = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
c.connect((host, int(sys.argv[2])))
print(c.getsockname()[1], flush=True)
time.sleep(3600)
"#;

/// Pre-fork server: listens, forks one worker that inherits the socket, prints
/// `<port> <worker pid>`. Both processes then wait.
pub const FORKED_SERVER: &str = r#"
import os, socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
pid = os.fork()
if pid == 0:
    time.sleep(3600)
    os._exit(0)
print(s.getsockname()[1], pid, flush=True)
time.sleep(3600)
"#;

/// Server of a loopback transfer: binds 127.0.0.1:0, prints its port, accepts one connection,
/// sends it exactly `volume` (argv[1]) bytes, prints `sent`, and holds the connection open.
pub const SENDING_SERVER: &str = r#"
import socket, sys, time
volume = int(sys.argv[1])
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print(l.getsockname()[1], flush=True)
c, _ = l.accept()
c.sendall(b"x" * volume)
print("sent", flush=True)
time.sleep(3600)
"#;

/// Client of a loopback transfer: connects to 127.0.0.1:argv[1], prints its own port, reads
/// argv[2] bytes, prints `received <n>`, and holds the connection open.
pub const RECEIVING_CLIENT: &str = r#"
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(c.getsockname()[1], flush=True)
volume, got = int(sys.argv[2]), 0
while got < volume:
    chunk = c.recv(65536)
    if not chunk: break
    got += len(chunk)
print("received", got, flush=True)
time.sleep(3600)
"#;

/// A finished transfer of a known volume from a server to a client over loopback, both ends
/// still open and idle.
pub struct LoopbackTransfer {
    pub server: Child,
    pub client: Child,
    /// The server's listening port (the client's remote port).
    pub port: u16,
    /// The client's own port.
    pub client_port: u16,
    pub volume: u64,
}

impl LoopbackTransfer {
    /// Moves `volume` bytes from a new server to a new client and returns once the client has
    /// read them all.
    pub fn run(volume: u64) -> LoopbackTransfer {
        let volume_text = volume.to_string();
        let mut server = Child::python(SENDING_SERVER, &[&volume_text]);
        let port: u16 = server.line().parse().expect("server prints its port");
        let mut client = Child::python(RECEIVING_CLIENT, &[&port.to_string(), &volume_text]);
        let client_port: u16 = client.line().parse().expect("client prints its port");
        assert_eq!(server.line(), "sent");
        assert_eq!(client.line(), format!("received {volume}"));
        LoopbackTransfer {
            server,
            client,
            port,
            client_port,
            volume,
        }
    }
}

/// Starts a TCP server on `host` and returns it with its port.
pub fn tcp_server(host: &str) -> (Child, u16) {
    let mut server = Child::python(TCP_SERVER, &[host]);
    let port = server.line().parse().expect("server prints its port");
    (server, port)
}

/// Connects a client to `host:port` and waits until the server has accepted it, so both ends
/// are owned by their processes when the snapshot is taken. Returns the client and its port.
pub fn tcp_client(server: &mut Child, host: &str, port: u16) -> (Child, u16) {
    let mut client = Child::python(TCP_CLIENT, &[host, &port.to_string()]);
    let client_port: u16 = client.line().parse().expect("client prints its port");
    let accepted = server.line();
    assert_eq!(accepted, format!("accepted {client_port}"));
    (client, client_port)
}

/// One snapshot with connections, as `wiretop snapshot` takes it.
pub fn snapshot() -> Snapshot {
    sample_once(&SamplerSettings::default()).expect("snapshot succeeds")
}

/// The process with `pid`, or a panic naming it.
pub fn process(snapshot: &Snapshot, pid: u32) -> &Process {
    snapshot
        .process(pid)
        .unwrap_or_else(|| panic!("pid {pid} missing from snapshot"))
}

/// Runs the wiretop binary with `args` and returns (status, stdout, stderr).
pub fn wiretop(args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(args)
        .output()
        .expect("wiretop runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Polls `probe` until it returns Some, for conditions the kernel reaches asynchronously.
pub fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(value) = probe() {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// `program` run as the unprivileged `nobody` user (uid/gid 65534, no groups), via setpriv.
pub fn as_nobody(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program);
    command
}

/// A world-readable copy of the wiretop binary, removed when dropped: the build directory may
/// sit under a home `nobody` cannot enter.
pub struct NobodyBinary {
    dir: std::path::PathBuf,
    pub path: std::path::PathBuf,
}

impl NobodyBinary {
    pub fn new(name: &str) -> NobodyBinary {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("wiretop-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let path = dir.join("wiretop");
        std::fs::copy(env!("CARGO_BIN_EXE_wiretop"), &path).expect("copy of the binary");
        for p in [&dir, &path] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        NobodyBinary { dir, path }
    }
}

impl Drop for NobodyBinary {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory for one test (`wiretop-test-NAME-PID` under the temp dir), removed when
/// dropped.
pub struct Scratch(pub std::path::PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wiretop-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
