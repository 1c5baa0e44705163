//! Processes that try to break wiretop: names and arguments full of terminal escape
//! sequences and invalid UTF-8, tens of thousands of open files, zombies, and processes that
//! vanish while they are being read. None of them may crash a snapshot, corrupt the JSON, or
//! reach the user's terminal as anything but visible, escaped text.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use common::terminal::{detail_command, row_of, Terminal, ROWS};
use common::{Child, PYTHON};
use wiretop::model::{Process, ProcessState, Snapshot};
use wiretop::sample::{Sampler, SamplerSettings};

// ---------------------------------------------------------------------------------------------
// Running wiretop
// ---------------------------------------------------------------------------------------------

/// Runs the wiretop binary and returns its exit status and raw stdout bytes (stderr is
/// returned lossily, for messages).
fn wiretop_bytes(args: &[&str]) -> (std::process::ExitStatus, Vec<u8>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("wiretop runs");
    (
        output.status,
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `wiretop snapshot --format json`, checked to exit 0 and to be a valid snapshot document.
fn json_snapshot() -> Snapshot {
    let (status, stdout, stderr) = wiretop_bytes(&["snapshot", "--format", "json"]);
    assert!(status.success(), "snapshot exits 0: {status:?}\n{stderr}");
    serde_json::from_slice(&stdout).unwrap_or_else(|e| {
        panic!(
            "snapshot output is not a valid snapshot document: {e}\n{}",
            String::from_utf8_lossy(&stdout[..stdout.len().min(2000)])
        )
    })
}

fn find(snapshot: &Snapshot, pid: u32) -> &Process {
    snapshot
        .process(pid)
        .unwrap_or_else(|| panic!("pid {pid} missing from the snapshot"))
}

/// The table line of `pid` in `wiretop snapshot --format table` output.
fn table_line(table: &str, pid: u32) -> &str {
    let prefix = format!("{pid} ");
    table
        .lines()
        .find(|l| l.trim_start().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no table row for pid {pid}"))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname readable")
        .trim()
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// A child that finishes by itself
// ---------------------------------------------------------------------------------------------

/// A child told to finish by closing its stdin, so that it can reap its own children before it
/// exits (killing it outright would orphan them). Killed if it does not finish.
struct Polite {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl Polite {
    fn start(mut command: Command) -> Polite {
        command.stdin(Stdio::piped()).stdout(Stdio::piped());
        let mut child = command.spawn().expect("child starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        Polite {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        }
    }

    fn python(script: &str) -> Polite {
        let mut command = Command::new(PYTHON);
        command.arg("-c").arg(script);
        Polite::start(command)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn line(&mut self) -> String {
        self.lines
            .next()
            .expect("child printed a line")
            .expect("child stdout readable")
    }
}

impl Drop for Polite {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..400 {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(25)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Escape sequences, control characters and invalid UTF-8 in names and arguments
// ---------------------------------------------------------------------------------------------

/// What the hostile process writes to /proc/self/comm: a title change, a screen wipe, a
/// carriage return, an invalid byte, and a fake end of the name that would shift every field
/// after it (state `Z`) for a parser that looks for the first `)` (15 bytes, the kernel's most).
const HOSTILE_COMM: &[u8] = b"\x1b]0;t\x07\x1b[2J\r\xff) Z";

/// The hostile process sets its name, says it is ready and waits.
const HOSTILE_SCRIPT: &str = r#"import time
with open('/proc/self/comm', 'wb') as f:
    f.write(b'\x1b]0;t\x07\x1b[2J\r\xff) Z')
print('ready', flush=True)
time.sleep(3600)
"#;

/// Hostile arguments, each with how it must look on a terminal.
const HOSTILE_ARGS: [(&[u8], &str); 9] = [
    (b"\x1b[31mRED", r"\x1b[31mRED"),
    (b"\x1b]0;title\x07", r"\x1b]0;title\x07"),
    (b"\x1b[2Jwiped", r"\x1b[2Jwiped"),
    (b"bell\x07", r"bell\x07"),
    (b"cr\rover", r"cr\rover"),
    (b"bad\xff\xfeutf8", "bad\u{fffd}\u{fffd}utf8"),
    // U+009B, the one-character CSI, in UTF-8.
    (b"c1\xc2\x9b31m", r"c1\x9b31m"),
    // U+202E, right-to-left override.
    (b"rtl\xe2\x80\xaetxt", r"rtl\u{202e}txt"),
    (b"nl\nline", r"nl\nline"),
];

/// argv[0] of the hostile process.
const HOSTILE_ARGV0: &[u8] = b"\x1b]0;title\x07argv0\xff";

/// A copy (or hard link) of the Python interpreter under a directory and file name made of
/// escape sequences and invalid UTF-8, removed when dropped.
struct HostileExe {
    dir: PathBuf,
    path: PathBuf,
    /// What tells this directory from the others of this run.
    tag: String,
}

impl HostileExe {
    fn create() -> HostileExe {
        // Tests run side by side in this process: each takes a directory of its own.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tag = format!("{}.{n}", std::process::id());
        let mut dir = format!("/tmp/wiretop-hostile-{tag}-").into_bytes();
        dir.extend_from_slice(b"\x1b]0;title\x07\xff");
        let dir = PathBuf::from(OsString::from_vec(dir));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("temporary directory");
        let path = dir.join(OsStr::from_bytes(b"py\x1b[2J"));
        let python = std::fs::canonicalize(PYTHON).expect("python3 resolves");
        if std::fs::hard_link(&python, &path).is_err() {
            std::fs::copy(&python, &path).expect("copy of python3");
        }
        HostileExe { dir, path, tag }
    }
}

impl Drop for HostileExe {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The pad arguments: 1,100 of 100 bytes each, over 100 KiB of argv in all.
fn padding() -> Vec<String> {
    (0..1100)
        .map(|i| format!("pad{i:05}-{}", "x".repeat(91)))
        .collect()
}

/// The running hostile process and the argv it was given (as wiretop must report it).
struct Hostile {
    child: Child,
    expected_argv: Vec<String>,
    exe: String,
    exe_file: HostileExe,
}

fn start_hostile() -> Hostile {
    let exe = HostileExe::create();
    let mut command = Command::new(&exe.path);
    command
        .arg0(OsStr::from_bytes(HOSTILE_ARGV0))
        .arg("-c")
        .arg(HOSTILE_SCRIPT)
        // The interpreter away from /usr/bin finds its library here.
        .env("PYTHONHOME", "/usr");
    let mut expected_argv = vec![
        lossy(HOSTILE_ARGV0),
        "-c".to_owned(),
        HOSTILE_SCRIPT.to_owned(),
    ];
    for (raw, _) in HOSTILE_ARGS {
        command.arg(OsStr::from_bytes(raw));
        expected_argv.push(lossy(raw));
    }
    let pads = padding();
    command.args(&pads);
    expected_argv.extend(pads);
    let total: usize = expected_argv.iter().map(|a| a.len() + 1).sum();
    assert!(total > 100 * 1024, "over 100 KiB of arguments ({total})");

    let mut child = Child::start(command);
    assert_eq!(child.line(), "ready");
    Hostile {
        child,
        expected_argv,
        exe: lossy(exe.path.as_os_str().as_bytes()),
        exe_file: exe,
    }
}

#[test]
fn hostile_name_and_arguments_stay_data_in_json() {
    let hostile = start_hostile();
    let pid = hostile.child.pid();
    let snapshot = json_snapshot();
    let p = find(&snapshot, pid);
    assert_eq!(
        p.name,
        lossy(HOSTILE_COMM),
        "the name with its control characters kept and invalid bytes as U+FFFD"
    );
    assert_eq!(
        p.state,
        ProcessState::Sleeping,
        "a `) Z` inside the name is not the end of the name"
    );
    assert_eq!(p.ppid, std::process::id());
    assert_eq!(
        p.cmdline.len(),
        hostile.expected_argv.len(),
        "every argument"
    );
    for (i, (got, want)) in p.cmdline.iter().zip(&hostile.expected_argv).enumerate() {
        assert_eq!(got, want, "argument {i}");
    }
    assert_eq!(p.exe.as_deref(), Some(hostile.exe.as_str()));
    assert!(p.fd_count.is_some_and(|n| n >= 3), "{:?}", p.fd_count);
}

#[test]
fn hostile_name_and_arguments_are_escaped_in_the_table() {
    let hostile = start_hostile();
    let pid = hostile.child.pid();
    let (status, stdout, stderr) = wiretop_bytes(&["snapshot", "--format", "table"]);
    assert!(status.success(), "table exits 0: {status:?}\n{stderr}");
    for (raw, what) in [
        (&b"\x1b"[..], "ESC"),
        (b"\x07", "BEL"),
        (b"\r", "CR"),
        (b"\xc2\x9b", "C1 CSI"),
        (b"\xe2\x80\xae", "RLO"),
    ] {
        assert!(!contains(&stdout, raw), "raw {what} in the table output");
    }
    let table = String::from_utf8(stdout).expect("the table is UTF-8");
    let line = table_line(&table, pid);
    assert!(line.contains(r"\x1b]0;title\x07argv0"), "argv[0]: {line}");
    for (_, shown) in HOSTILE_ARGS {
        assert!(line.contains(shown), "{shown} in the row of {pid}");
    }
    // The newline inside an argument did not break the row: the arguments after it are on it.
    assert!(line.contains(r"nl\nline pad00000-"), "one line per process");
    assert!(line.ends_with(&format!("pad01099-{}", "x".repeat(91))));
}

#[test]
fn hostile_name_and_arguments_never_reach_the_terminal_raw() {
    let hostile = start_hostile();
    let pid = hostile.child.pid();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    let rows = ui.show_only(pid);
    let row = row_of(&rows, pid).unwrap();
    assert!(
        row.contains(r"\x1b]0;title\x07argv0"),
        "argv[0] escaped in the row: {row}"
    );
    ui.press("\r");
    let rows = ui.until("the detail block", |rows| {
        rows.iter().any(|r| r.contains("exe: "))
    });
    let screen = rows.join("\n");

    let command = detail_command(&rows);
    for (_, shown) in HOSTILE_ARGS {
        assert!(
            command.contains(shown),
            "{shown} in the detail block:\n{screen}"
        );
    }
    assert!(
        rows.iter().any(|r| r.contains("more characters")),
        "100 KiB of arguments are cut, not spread over the screen:\n{screen}"
    );
    let exe_shown = format!(
        r"/tmp/wiretop-hostile-{}-\x1b]0;title\x07{}/py\x1b[2J",
        hostile.exe_file.tag, '\u{fffd}'
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("exe: ") && r.contains(&exe_shown)),
        "exe path escaped:\n{screen}"
    );

    // The screen is whole: header on top, table title below it, filter in the footer.
    let host = hostname();
    assert!(
        rows[0].starts_with(&host),
        "header still on row 0 starting with {host}:\n{screen}"
    );
    assert!(rows[1..]
        .iter()
        .any(|r| r.contains("PID") && r.contains("COMMAND")));
    assert!(
        rows[usize::from(ROWS) - 1].starts_with("Filter (/ edits"),
        "{screen}"
    );
    let (bells, title, icon_name) = ui.signals();
    assert!(title.is_empty(), "window title untouched");
    assert!(icon_name.is_empty(), "icon name untouched");
    assert_eq!(bells, 0, "no bell rung");

    // Nothing the process chose went out as bytes that a terminal acts on.
    let raw = ui.bytes_written();
    for (payload, what) in [
        (&b"]0;title\x07"[..], "the title change of argv"),
        (b"]0;t\x07", "the title change of the name"),
        (b"\x1b[31mRED", "the colour change"),
        (b"\x1b[2Jwiped", "the screen wipe"),
        (b"\x1b[2J\r", "the screen wipe of the name"),
        (b"cr\rover", "the carriage return"),
        (b"\x07", "a bell"),
        (b"\xc2\x9b", "a C1 CSI"),
        (b"\xe2\x80\xae", "a right-to-left override"),
        (b"nl\nline", "the newline"),
    ] {
        assert!(
            !contains(&raw, payload),
            "{what} was written to the terminal raw"
        );
    }
    ui.quit();
}

// ---------------------------------------------------------------------------------------------
// 2. Tens of thousands of open files
// ---------------------------------------------------------------------------------------------

/// Raises its fd limit as far as it may, opens 32 listening sockets, 32 socket pairs and then
/// duplicates (of /dev/null, and of the listeners) up to `argv[1]` open fds. Prints its fd
/// limit and the listeners' ports.
const FD_HOG: &str = r#"
import os, resource, socket, sys, time
want = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want + 4096, max(hard, want + 4096)))
except (ValueError, OSError):
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
listeners = []
for _ in range(32):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    listeners.append(s)
pairs = [socket.socketpair() for _ in range(32)]
null = os.open("/dev/null", os.O_RDONLY)
held = len(os.listdir("/proc/self/fd")) - 1
goal = min(want, limit - 16)
dups = []
while held < goal:
    dups.append(os.dup(listeners[held % 32].fileno() if held % 4 == 0 else null))
    held += 1
print(limit, " ".join(str(s.getsockname()[1]) for s in listeners), flush=True)
time.sleep(3600)
"#;

const WANTED_FDS: u32 = 50_000;

#[test]
fn fifty_thousand_open_fds_are_counted_and_their_sockets_found() {
    let mut hog = Child::python(FD_HOG, &[&WANTED_FDS.to_string()]);
    let ready = hog.line();
    let mut words = ready.split_whitespace();
    let limit: u32 = words.next().unwrap().parse().unwrap();
    let mut ports: Vec<u16> = words.map(|w| w.parse().unwrap()).collect();
    ports.sort_unstable();
    assert_eq!(ports.len(), 32);
    let pid = hog.pid();
    // The truth, counted the slow way; the process does nothing more once it has printed.
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u32;
    if limit >= WANTED_FDS + 16 {
        assert!(open >= WANTED_FDS, "the hog holds {open} fds");
    } else {
        eprintln!(
            "note: RLIMIT_NOFILE is {limit} and may not be raised here (no CAP_SYS_RESOURCE): \
             testing with {open} open fds instead of {WANTED_FDS}"
        );
        assert!(
            open >= limit - 64,
            "the hog filled its table: {open} of {limit}"
        );
    }

    let check = |snapshot: &Snapshot, how: &str| {
        let p = find(snapshot, pid);
        assert_eq!(p.fd_count, Some(open), "{how}: fd count");
        let mut listening: Vec<u16> = p.listening.iter().map(|l| l.port).collect();
        listening.sort_unstable();
        assert_eq!(
            listening, ports,
            "{how}: each listener once, however many fds share it"
        );
        assert!(
            !p.unreadable.contains_key("sockets"),
            "{how}: {:?}",
            p.unreadable
        );
    };
    check(&json_snapshot(), "wiretop snapshot");
    // A sampler that keeps its ownership cache between passes sees the same.
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    for pass in 0..3 {
        check(&sampler.sample().unwrap(), &format!("sampler pass {pass}"));
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Zombies
// ---------------------------------------------------------------------------------------------

/// The zombie's name: hostile too, because a process without argv (a zombie, a kernel thread)
/// is the one whose name the table and the explorer draw (as `[name]`): a screen wipe, a bell,
/// a carriage return and an invalid byte.
const ZOMBIE_COMM: &[u8] = b"zk\x1b[2J\x07\r\xff";
/// How the zombie's command column must look on a terminal.
const ZOMBIE_SHOWN: &str = "[zk\\x1b[2J\\x07\\r\u{fffd}]";

/// Forks a child that renames itself (to ZOMBIE_COMM) and exits; waits for the exit without
/// reaping it, prints the child's pid, and reaps it only when its stdin closes.
const ZOMBIE_PARENT: &str = r#"
import os, sys
kid = os.fork()
if kid == 0:
    with open("/proc/self/comm", "wb") as f:
        f.write(b"zk\x1b[2J\x07\r\xff")
    os._exit(7)
os.waitid(os.P_PID, kid, os.WEXITED | os.WNOWAIT)
print(kid, flush=True)
sys.stdin.read()
os.waitpid(kid, 0)
"#;

#[test]
fn zombie_is_listed_as_a_zombie_with_its_bracketed_name() {
    let mut parent = Polite::python(ZOMBIE_PARENT);
    let zombie: u32 = parent.line().parse().expect("the zombie's pid");
    let stat = std::fs::read(format!("/proc/{zombie}/stat")).unwrap();
    let mut named = b"(".to_vec();
    named.extend_from_slice(ZOMBIE_COMM);
    named.extend_from_slice(b") Z ");
    assert!(contains(&stat, &named), "really a zombie: {}", lossy(&stat));

    let snapshot = json_snapshot();
    let z = find(&snapshot, zombie);
    assert_eq!(z.state, ProcessState::Zombie);
    assert_eq!(z.name, lossy(ZOMBIE_COMM), "the name kept as data in JSON");
    assert!(
        z.cmdline.is_empty(),
        "a zombie has no argv: {:?}",
        z.cmdline
    );
    assert_eq!(z.ppid, parent.pid());
    assert!(!z.kernel_thread);
    assert_eq!(z.exe, None);
    assert_eq!(z.memory.rss_bytes, 0);
    assert!(z.listening.is_empty() && z.connections.is_empty());

    let (status, table, stderr) = wiretop_bytes(&["snapshot", "--format", "table"]);
    assert!(status.success(), "{stderr}");
    assert!(
        !contains(&table, b"\x1b[2J"),
        "raw screen wipe in the table"
    );
    let table = String::from_utf8(table).expect("the table is UTF-8");
    let line = table_line(&table, zombie);
    assert!(line.ends_with(&format!(" {ZOMBIE_SHOWN}")), "{line}");

    let mut ui = Terminal::open(&["--interval", "500ms"]);
    let rows = ui.show_only(zombie);
    let row = row_of(&rows, zombie).unwrap();
    assert!(row.contains(ZOMBIE_SHOWN), "{row}");
    assert!(row.contains(" Z "), "state column shows Z: {row}");
    let raw = ui.bytes_written();
    assert!(
        !contains(&raw, b"\x1b[2J\x07") && !contains(&raw, b"\x07\r"),
        "the zombie's name reached the terminal raw"
    );
    assert_eq!(ui.signals().0, 0, "no bell rung");
    ui.quit();
}

/// The fd count the kernel gives for a process holding no files is 0, not the `.` and `..`
/// of an empty /proc/<pid>/fd directory.
#[test]
fn zombie_holds_no_fds() {
    let mut parent = Polite::python(ZOMBIE_PARENT);
    let zombie: u32 = parent.line().parse().expect("the zombie's pid");
    let entries = std::fs::read_dir(format!("/proc/{zombie}/fd")).map_or(0, |d| d.count());
    assert_eq!(entries, 0, "the kernel lists no fds for a zombie");
    let z = find(&json_snapshot(), zombie).clone();
    assert_eq!(z.state, ProcessState::Zombie);
    assert!(
        z.fd_count.is_none_or(|n| n == 0),
        "a zombie holds no files, yet fd_count is {:?} (unreadable {:?})",
        z.fd_count,
        z.unreadable
    );
}

/// Says it is ready, then closes every fd it has (stdout included) and sleeps.
const NO_FDS: &str = r#"
import os, time
print("ready", flush=True)
os.closerange(0, 1 << 20)
time.sleep(3600)
"#;

#[test]
fn live_process_with_no_open_fds_counts_zero() {
    let mut bare = Child::python(NO_FDS, &[]);
    assert_eq!(bare.line(), "ready");
    let pid = bare.pid();
    common::eventually("the process to close all its fds", || {
        let open = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
        (open == 0).then_some(())
    });
    let p = find(&json_snapshot(), pid).clone();
    assert_eq!(p.state, ProcessState::Sleeping);
    assert_eq!(p.fd_count, Some(0), "unreadable {:?}", p.unreadable);
}

// ---------------------------------------------------------------------------------------------
// 4. Processes that exit while they are read
// ---------------------------------------------------------------------------------------------

/// Forks children as fast as it can, half of them exec'ing /bin/true and half exiting at once,
/// reaping each; stops (having reaped all) when its stdin closes.
const CHURN: &str = r#"
import os, sys, threading
stop = threading.Event()
def watch():
    sys.stdin.buffer.read()
    stop.set()
threading.Thread(target=watch, daemon=True).start()
print("ready", flush=True)
n = 0
while not stop.is_set():
    kids = []
    for _ in range(4):
        n += 1
        kid = os.fork()
        if kid == 0:
            if n % 2:
                os.execv("/bin/true", ["true"])
            os._exit(0)
        kids.append(kid)
    for kid in kids:
        os.waitpid(kid, 0)
"#;

/// The unprivileged user the churn runs as: a process wrongly reported as root stands out.
const NOBODY: u32 = 65534;

/// The churn tests each keep a core busy: one at a time.
static CHURNING: Mutex<()> = Mutex::new(());

/// Runs the churn as `nobody` and takes `samples` snapshots with one sampler while it runs,
/// checking what every snapshot must hold, and hands each snapshot to `each` with the churn's
/// pid. Returns how many of the churn's children the snapshots caught.
fn while_churning(samples: usize, mut each: impl FnMut(usize, &Snapshot, u32)) -> usize {
    let _turn = CHURNING.lock().unwrap_or_else(|e| e.into_inner());
    let mut command = Command::new(PYTHON);
    command
        .arg("-c")
        .arg(CHURN)
        .uid(NOBODY)
        .gid(NOBODY)
        .current_dir("/");
    let mut churn = Polite::start(command);
    assert_eq!(churn.line(), "ready");
    let churn_pid = churn.pid();

    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    let mut children_seen = 0;
    for round in 0..samples {
        let snapshot = sampler
            .sample()
            .unwrap_or_else(|e| panic!("sample {round} fails while processes exit: {e}"));
        assert!(
            snapshot.processes.windows(2).all(|w| w[0].pid < w[1].pid),
            "sample {round}: pids sorted and unique"
        );
        let parent = find(&snapshot, churn_pid);
        assert_eq!(parent.cmdline, vec![PYTHON, "-c", CHURN]);
        children_seen += snapshot
            .processes
            .iter()
            .filter(|p| p.ppid == churn_pid)
            .count();
        each(round, &snapshot, churn_pid);
    }
    assert!(children_seen > 0, "no short-lived child was ever caught");
    children_seen
}

#[test]
fn processes_exiting_mid_read_never_fail_a_sample_or_lose_their_identity() {
    while_churning(30, |round, snapshot, churn_pid| {
        let boot = snapshot.host.boot_time_ms;
        for p in &snapshot.processes {
            assert!(p.pid > 0, "sample {round}: a process without a pid");
            assert!(
                p.start_time_ms >= boot,
                "sample {round}: pid {} starts at {} before boot at {boot}",
                p.pid,
                p.start_time_ms
            );
        }
        for p in snapshot.processes.iter().filter(|p| p.ppid == churn_pid) {
            assert!(
                !p.name.is_empty(),
                "sample {round}: pid {} has no name",
                p.pid
            );
            assert!(
                p.state != ProcessState::Unknown,
                "sample {round}: pid {} in no known state",
                p.pid
            );
        }
    });
}

/// A process that is reaped while it is being read must not be listed as root's: the kernel
/// reports uid 0 for a /proc/<pid> whose task is gone. No process of the churn (all `nobody`'s)
/// may ever appear with another owner. The race is narrow, so this takes more samples.
#[test]
fn short_lived_processes_are_never_listed_as_another_users() {
    let nobody = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find(|l| l.split(':').nth(2) == Some(&NOBODY.to_string()))
        .and_then(|l| l.split(':').next().map(str::to_owned));
    let mut wrong = Vec::new();
    let seen = while_churning(100, |round, snapshot, churn_pid| {
        for p in snapshot.processes.iter().filter(|p| p.ppid == churn_pid) {
            if p.uid != NOBODY || p.user != nobody {
                wrong.push(format!(
                    "sample {round}: pid {} ({:?}, state {:?}) listed as uid {} user {:?}, \
                     fd_count {:?}, cmdline {:?}, unreadable {:?}",
                    p.pid, p.name, p.state, p.uid, p.user, p.fd_count, p.cmdline, p.unreadable
                ));
            }
        }
    });
    assert!(
        wrong.is_empty(),
        "{} of {seen} children of a uid {NOBODY} process listed with another owner:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
