//! Real processes that put secrets where people put them: a rewritten process title (Perl's
//! `$0`, bash's `exec -a`), shell text with an assignment before the command, wrappers
//! (`timeout`, `flock`, `xargs`, `env`), and a program file named `TOKEN=…`, whose name the
//! kernel reports as the process name. None of the secrets may reach `wiretop snapshot` (JSON
//! or table), the explorer's terminal, the NDJSON file sink or an OTLP request; each test first
//! finds every one of the processes and its masked form there, so it cannot pass on nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

#[path = "common/receiver.rs"]
mod receiver;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::terminal::{row_of, Terminal};
use common::{eventually, wiretop, Child};
use receiver::{Receiver, Reply};
use wiretop::model::Snapshot;

/// One process holding secrets.
struct Secretive {
    pid: u32,
    /// What it is, for messages.
    what: &'static str,
    /// Text that must never be shown.
    secrets: Vec<String>,
    /// Text that must be shown instead, in its command line (or, for the renamed program, its
    /// name).
    masked: &'static str,
}

/// The processes of one test, each with a tag of its own in its command line (the scratch
/// directory's name), so that test can tell them from the others' and filter on them.
struct Processes {
    tag: String,
    scratch: PathBuf,
    children: Vec<Child>,
    cases: Vec<Secretive>,
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.children.clear();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// A stand-in for a client program: says it is ready, then waits as `sleep`.
const FAKE_TOOL: &str = "#!/bin/sh\necho ready\nexec sleep 600\n";

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).expect("fake tool written");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `/proc/<pid>/cmdline` once it holds `needle` (a process that execs, or sets its title,
/// after saying it is ready).
fn wait_for_cmdline(pid: u32, needle: &str) {
    eventually(
        &format!("pid {pid}'s command line to hold {needle:?}"),
        || {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            String::from_utf8_lossy(&raw).contains(needle).then_some(())
        },
    );
}

fn start_processes() -> Processes {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Short: the explorer's COMMAND column must still show the masked part after it.
    let tag = format!("wts{}x{n}", std::process::id());
    let scratch = std::env::temp_dir().join(&tag);
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch directory");
    let mysql = scratch.join("mysql");
    let redis_cli = scratch.join("redis-cli");
    executable(&mysql, FAKE_TOOL);
    executable(&redis_cli, FAKE_TOOL);
    // `sleep` under a name that is a `KEY=value` of 15 bytes: the kernel's comm holds it all.
    let renamed = scratch.join("TOKEN=s3kr1tJ9x");
    let sleep = std::fs::canonicalize("/bin/sleep").expect("sleep exists");
    std::fs::copy(&sleep, &renamed).expect("copy of sleep");
    std::fs::set_permissions(&renamed, std::fs::Permissions::from_mode(0o755)).expect("chmod");

    let mut processes = Processes {
        tag: tag.clone(),
        scratch: scratch.clone(),
        children: Vec::new(),
        cases: Vec::new(),
    };
    let mut spawn = |what: &'static str,
                     command: Command,
                     ready: Option<&str>,
                     secrets: &[&str],
                     masked: &'static str| {
        let mut child = Child::start(command);
        if ready.is_some() {
            assert_eq!(child.line(), "ready", "{what} started");
        }
        let pid = child.pid();
        wait_for_cmdline(pid, ready.filter(|r| *r != "ready").unwrap_or(&tag));
        processes.cases.push(Secretive {
            pid,
            what,
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            masked,
        });
        processes.children.push(child);
    };

    let mut perl = Command::new("perl");
    perl.arg("-e").arg(format!(
        "$0 = q{{celery worker {tag} --broker=redis://:perl-title-pw-1@127.0.0.1:6379/0 \
         --password=perl-title-pw-2}}; $| = 1; print \"ready\\n\"; sleep 600"
    ));
    spawn(
        "perl $0 title",
        perl,
        Some("ready"),
        &["perl-title-pw-1", "perl-title-pw-2"],
        "redis://:********@127.0.0.1",
    );

    let mut exec_a = Command::new("bash");
    exec_a.arg("-c").arg(format!(
        "echo ready; exec -a 'title {tag} --token=exec-a-token-3' sleep 600"
    ));
    spawn(
        "bash exec -a title",
        exec_a,
        Some("--token="),
        &["exec-a-token-3"],
        "--token=********",
    );

    let mut assignment = Command::new("sh");
    assignment.arg("-c").arg(format!(
        "LANG=C mysql -psh-assign-pw-4 2>/dev/null; echo ready; : {tag}; sleep 600; true"
    ));
    spawn(
        "sh -c with LANG=C before mysql",
        assignment,
        Some("ready"),
        &["sh-assign-pw-4"],
        "LANG=C mysql -p********",
    );

    let mut proxy = Command::new("sh");
    proxy.arg("-c").arg(format!(
        "http_proxy=http://[::1]:9 curl -su bob:sh-proxy-pw-5 http://[::1]:9/ 2>/dev/null; \
         echo ready; : {tag}; sleep 600; true"
    ));
    spawn(
        "sh -c with http_proxy before curl -u",
        proxy,
        Some("ready"),
        &["sh-proxy-pw-5"],
        "curl -su bob:********",
    );

    let mut timeout = Command::new("timeout");
    timeout
        .args(["600"])
        .arg(&mysql)
        .args(["-uroot", "-ptimeout-pw-6", "shop"]);
    spawn(
        "timeout 600 mysql -p…",
        timeout,
        Some("ready"),
        &["timeout-pw-6"],
        "-p********",
    );

    let mut flock = Command::new("flock");
    flock
        .arg(scratch.join("lock"))
        .arg(&redis_cli)
        .args(["-a", "flock-pw-7", "ping"]);
    spawn(
        "flock FILE redis-cli -a …",
        flock,
        Some("ready"),
        &["flock-pw-7"],
        "redis-cli -a ********",
    );

    let mut xargs = Command::new("xargs");
    xargs.arg(&mysql).arg("-pxargs-pw-8");
    spawn(
        "xargs mysql -p…",
        xargs,
        Some("ready"),
        &["xargs-pw-8"],
        "-p********",
    );

    let mut env_perl = Command::new("timeout");
    env_perl.args([
        "600",
        "env",
        "A=1",
        "perl",
        "-esleep(600)",
        "--",
        "--password=env-perl-pw-9",
        &tag,
    ]);
    spawn(
        "timeout 600 env A=1 perl … --password=…",
        env_perl,
        None,
        &["env-perl-pw-9"],
        "--password=********",
    );

    let mut renamed_sleep = Command::new(&renamed);
    renamed_sleep.arg("600");
    spawn(
        "a program file named TOKEN=…",
        renamed_sleep,
        None,
        &["s3kr1tJ9x"],
        "TOKEN=********",
    );
    processes
}

/// Panics naming every secret of `cases` found in `text`, from `where_`.
fn assert_no_secret(where_: &str, text: &[u8], cases: &[Secretive]) {
    let text = String::from_utf8_lossy(text);
    let found: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            case.secrets
                .iter()
                .filter(|s| text.contains(s.as_str()))
                .map(move |s| format!("{s} (of {})", case.what))
        })
        .collect();
    assert!(found.is_empty(), "secrets in {where_}: {found:?}");
}

/// Every process of `cases` is in `snapshot`, showing its masked form.
fn assert_found_masked(where_: &str, snapshot: &Snapshot, cases: &[Secretive]) {
    for case in cases {
        let process = snapshot
            .process(case.pid)
            .unwrap_or_else(|| panic!("{where_}: {} (pid {}) missing", case.what, case.pid));
        let shown = format!(
            "{} {} {}",
            process.name,
            process.cmdline.join(" "),
            process.exe.as_deref().unwrap_or_default()
        );
        assert!(
            shown.contains(case.masked),
            "{where_}: {} shows {shown:?}, not {:?}",
            case.what,
            case.masked
        );
    }
}

#[test]
fn secrets_never_reach_snapshot_json_or_table() {
    let processes = start_processes();
    let (status, json, stderr) = wiretop(&["snapshot", "--format", "json"]);
    assert!(status.success(), "snapshot exits 0: {stderr}");
    let snapshot: Snapshot = serde_json::from_str(&json).expect("snapshot JSON");
    assert_found_masked("snapshot JSON", &snapshot, &processes.cases);
    assert_no_secret("snapshot JSON", json.as_bytes(), &processes.cases);

    // The program file named TOKEN=…: its name, path and argv[0] all hold the key.
    let renamed = processes.cases.last().expect("the renamed program");
    let process = snapshot
        .process(renamed.pid)
        .expect("renamed program listed");
    assert_eq!(process.name, "TOKEN=********");
    assert!(
        process
            .exe
            .as_deref()
            .is_some_and(|exe| exe.ends_with("/TOKEN=********")),
        "{:?}",
        process.exe
    );
    assert!(process.cmdline[0].ends_with("/TOKEN=********"));

    let (status, table, stderr) = wiretop(&["snapshot", "--format", "table"]);
    assert!(status.success(), "table exits 0: {stderr}");
    assert!(
        table.contains("--token=********") && table.contains("LANG=C mysql -p********"),
        "masked forms in the table"
    );
    assert_no_secret("snapshot table", table.as_bytes(), &processes.cases);
}

#[test]
fn secrets_never_reach_the_explorer() {
    let processes = start_processes();
    let mut ui = Terminal::open(&["--interval", "500ms"]);
    let cases = &processes.cases;
    let rows = ui.filter(&processes.tag, |rows| {
        cases.iter().all(|case| row_of(rows, case.pid).is_some())
    });
    for case in cases {
        let row = row_of(&rows, case.pid).expect("row listed");
        // The renamed program's masked name is in its command line too (argv[0] is its path).
        assert!(
            row.contains(case.masked),
            "{}'s row shows {row:?}, not {:?}",
            case.what,
            case.masked
        );
    }
    ui.quit();
    assert_no_secret("the explorer's output", &ui.bytes_written(), cases);
}

/// Runs `wiretop ship` with `env` until `done` holds (or 60 s), then stops it with SIGTERM.
fn ship(scratch: &Path, env: &[(&str, String)], done: impl Fn() -> bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["--interval", "300ms", "ship"])
        .env("XDG_CONFIG_HOME", scratch)
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("wiretop ship starts");
    let give_up = Instant::now() + Duration::from_secs(60);
    while !done() && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let status = child.wait().expect("ship exits");
    assert!(status.success(), "ship exits 0 on SIGTERM: {status:?}");
}

#[test]
fn secrets_never_reach_the_ndjson_file_sink() {
    let processes = start_processes();
    let sink = processes.scratch.join("out.ndjson");
    let has_all = || {
        std::fs::read_to_string(&sink).is_ok_and(|text| {
            text.lines().any(|line| {
                serde_json::from_str::<Snapshot>(line).is_ok_and(|s| {
                    processes
                        .cases
                        .iter()
                        .all(|case| s.process(case.pid).is_some())
                })
            })
        })
    };
    ship(
        &processes.scratch,
        &[
            ("WIRETOP_UPLINK_PROTOCOL", "ndjson".to_owned()),
            (
                "WIRETOP_UPLINK_ENDPOINT",
                format!("file://{}", sink.display()),
            ),
        ],
        has_all,
    );
    let text = std::fs::read_to_string(&sink).expect("the sink file was written");
    let complete = text
        .lines()
        .filter_map(|line| serde_json::from_str::<Snapshot>(line).ok())
        .find(|s| processes.cases.iter().all(|c| s.process(c.pid).is_some()))
        .expect("a snapshot with every process");
    assert_found_masked("the NDJSON sink", &complete, &processes.cases);
    assert_no_secret("the NDJSON sink", text.as_bytes(), &processes.cases);
}

#[test]
fn secrets_never_reach_otlp_requests() {
    let processes = start_processes();
    let receiver = Receiver::start(|_, _| Reply::ok());
    let bodies = || -> Vec<u8> {
        receiver
            .requests()
            .iter()
            .flat_map(|r| r.decoded_body())
            .collect()
    };
    let contains = |haystack: &[u8], needle: &str| {
        haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    let has_all = || {
        let body = bodies();
        contains(&body, &processes.tag)
            && processes
                .cases
                .iter()
                .all(|case| contains(&body, case.masked))
    };
    ship(
        &processes.scratch,
        &[
            ("WIRETOP_UPLINK_PROTOCOL", "otlp".to_owned()),
            ("WIRETOP_UPLINK_ENDPOINT", receiver.url()),
        ],
        has_all,
    );
    let body = bodies();
    for case in &processes.cases {
        assert!(
            contains(&body, case.masked),
            "OTLP requests hold {:?} of {}",
            case.masked,
            case.what
        );
    }
    assert_no_secret("the OTLP requests", &body, &processes.cases);
}
