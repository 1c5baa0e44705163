//! `wiretop baseline save` and `wiretop snapshot --baseline`, run as the real binary against real
//! processes and loopback sockets the tests start: what changed after the save is marked
//! unexpected with its reasons, a line an operator adds accepts it, a malformed baseline is a
//! `FILE:line:column` error with exit status 2, and the file is private and never written
//! through a symbolic link.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::net::IpAddr;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{tcp_client, tcp_server, wiretop, Child, Scratch};
use wiretop::model::{Process, Proto, Snapshot, UnexpectedReason};

fn text(path: &Path) -> &str {
    path.to_str().expect("scratch paths are UTF-8")
}

/// `wiretop baseline save FILE`, which must succeed.
fn save(file: &Path) {
    let (status, stdout, stderr) = wiretop(&["baseline", "save", text(file)]);
    assert!(status.success(), "baseline save: {stderr}");
    assert!(stdout.starts_with("saved "), "{stdout}");
}

/// `wiretop snapshot --baseline FILE --format json`, parsed, with the pid of the wiretop that
/// took it.
fn judged(file: &Path) -> (Snapshot, u32) {
    snapshot_by_wiretop(&["--baseline", text(file)])
}

/// `wiretop snapshot --format json ARGS`, which must succeed: the snapshot, and the pid of the
/// wiretop that took it (other tests run wiretop at the same time).
fn snapshot_by_wiretop(args: &[&str]) -> (Snapshot, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["snapshot", "--format", "json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "snapshot {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let snapshot = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("snapshot JSON ({e}): {stdout:.300}"));
    (snapshot, pid)
}

fn process(snapshot: &Snapshot, pid: u32) -> &Process {
    snapshot
        .process(pid)
        .unwrap_or_else(|| panic!("pid {pid} is in the snapshot"))
}

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// The baseline scenario of issue 14: save, start an extra listener, a connection to a new port
/// and an executable never seen, then judge. Exactly those three are unexpected, each for its
/// own reason; what ran at the save and did not change is not; an added line accepts one.
#[test]
fn what_changed_after_the_save_is_unexpected_and_an_added_line_accepts_it() {
    let dir = Scratch::new("scenario");
    let file = dir.path("baseline.yaml");
    // What is normal: a server and a client connected to it.
    let (mut server, server_port) = tcp_server("127.0.0.1");
    let (client, _) = tcp_client(&mut server, "127.0.0.1", server_port);
    // An executable that will run only after the save: a copy of sleep under a new path.
    let stranger_exe = dir.path("stranger");
    std::fs::copy("/bin/sleep", &stranger_exe).unwrap();
    std::fs::set_permissions(&stranger_exe, std::fs::Permissions::from_mode(0o755)).unwrap();

    save(&file);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.contains(&format!("port: {server_port}, address: \"127.0.0.1\" }}")),
        "the server's port and the client's destination are recorded:\n{saved}"
    );

    // What changes: a listener on a new port, a client connecting to it (a destination never
    // used), and the stranger.
    let (mut listener, new_port) = tcp_server("127.0.0.1");
    let (connector, _) = tcp_client(&mut listener, "127.0.0.1", new_port);
    let mut stranger = Command::new(&stranger_exe);
    stranger.arg("600");
    let stranger = Child::start(stranger);
    let stranger_path = std::fs::canonicalize(&stranger_exe).unwrap();
    common::eventually("the stranger has exec'd", || {
        let exe = std::fs::read_link(format!("/proc/{}/exe", stranger.pid())).ok()?;
        (exe == stranger_path).then_some(())
    });

    let (snapshot, judge) = judged(&file);
    let user = process(&snapshot, server.pid()).user.clone().unwrap();
    let expected = [
        (
            listener.pid(),
            vec![UnexpectedReason::Listening {
                proto: Proto::Tcp,
                address: loopback(),
                port: new_port,
            }],
        ),
        (
            connector.pid(),
            vec![UnexpectedReason::Outbound {
                proto: Proto::Tcp,
                address: loopback(),
                port: new_port,
            }],
        ),
        (
            stranger.pid(),
            vec![UnexpectedReason::Executable {
                exe: stranger_path.to_str().unwrap().to_owned(),
                user: user.clone(),
            }],
        ),
    ];
    for (pid, reasons) in &expected {
        let p = process(&snapshot, *pid);
        assert_eq!(p.unexpected, Some(true), "{} ({pid})", p.name);
        assert_eq!(&p.unexpected_reasons, reasons, "{} ({pid})", p.name);
        assert!(p.new, "{} started after the save", p.name);
    }
    // What ran at the save and did not change: not unexpected, not new. The test itself and
    // the wiretop that judged (its executable is in the baseline) are not unexpected either.
    for pid in [server.pid(), client.pid()] {
        let p = process(&snapshot, pid);
        assert_eq!((p.unexpected, p.new), (Some(false), false), "{pid}");
        assert!(p.unexpected_reasons.is_empty());
    }
    for pid in [std::process::id(), judge] {
        assert_eq!(process(&snapshot, pid).unexpected, Some(false), "{pid}");
    }
    // Nothing else: on a shared host other processes come and go while the test runs, so any
    // other unexpected process must have started after the save, or (running at the save)
    // have opened a port or connection since. None that ran at the save changed executable.
    let ours: Vec<u32> = expected.iter().map(|(pid, _)| *pid).collect();
    for p in &snapshot.processes {
        assert!(p.unexpected.is_some(), "every process is judged: {}", p.pid);
        if p.unexpected != Some(true) || ours.contains(&p.pid) {
            continue;
        }
        let changed_executable = p
            .unexpected_reasons
            .iter()
            .any(|r| matches!(r, UnexpectedReason::Executable { .. }));
        assert!(
            p.new || !changed_executable,
            "{} ({}) ran at the save, yet its executable is unexpected: {:?}",
            p.name,
            p.pid,
            p.unexpected_reasons
        );
    }

    // The operator accepts the listener and the destination, each with one line, the second
    // with a block that takes any IPv4 address on that port.
    let python = process(&snapshot, listener.pid()).exe.clone().unwrap();
    let edited = saved
        .replacen(
            "\nlistening:\n",
            &format!("\nlistening:\n  - {{ exe: {python}, proto: tcp, port: {new_port} }}\n"),
            1,
        )
        .replacen(
            "\noutbound:\n",
            &format!(
                "\noutbound:\n  - {{ exe: {python}, port: {new_port}, address: \"0.0.0.0/0\" }}\n"
            ),
            1,
        );
    assert_eq!(
        edited.lines().count(),
        saved.lines().count() + 2,
        "{edited}"
    );
    std::fs::write(&file, &edited).unwrap();
    let (snapshot, _) = judged(&file);
    for pid in [listener.pid(), connector.pid()] {
        let p = process(&snapshot, pid);
        assert_eq!(p.unexpected, Some(false), "{} is accepted", p.name);
        assert!(p.new, "and still new: it started after the save");
    }
    assert_eq!(process(&snapshot, stranger.pid()).unexpected, Some(true));
}

/// Without a baseline, `unexpected` is null and `new` means "started between the two readings".
#[test]
fn without_a_baseline_nothing_is_judged() {
    let (snapshot, taker) = snapshot_by_wiretop(&[]);
    assert!(snapshot
        .processes
        .iter()
        .all(|p| p.unexpected.is_none() && p.unexpected_reasons.is_empty()));
    assert!(
        !process(&snapshot, std::process::id()).new,
        "the test ran before wiretop's first reading"
    );
    assert!(
        !process(&snapshot, taker).new,
        "wiretop itself started before its first reading"
    );
    // In the JSON, both fields are always there: `unexpected` null, no reasons.
    let (status, stdout, _) = wiretop(&[
        "snapshot",
        "--format",
        "json",
        "--pid",
        &std::process::id().to_string(),
    ]);
    assert!(status.success());
    assert!(
        stdout.contains(r#""new":false,"unexpected":null,"unexpected_reasons":[]"#),
        "{stdout}"
    );
    // A process started between the two readings is new: one started now, while wiretop
    // waits between them, is seen as new in at least one of a few tries (the gap is 250 ms).
    let newcomer_seen_new = (0..5).any(|_| {
        let child = Command::new(env!("CARGO_BIN_EXE_wiretop"))
            .args(["snapshot", "--format", "json"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(150));
        let newcomer = Child::start(sleeper());
        let output = child.wait_with_output().unwrap();
        let snapshot: Snapshot = serde_json::from_slice(&output.stdout).unwrap();
        snapshot.process(newcomer.pid()).is_some_and(|p| p.new)
    });
    assert!(newcomer_seen_new);
}

fn sleeper() -> Command {
    let mut command = Command::new("sleep");
    command.arg("600");
    command
}

/// Each mistake names the file, line and column, and the command exits 2 before sampling.
#[test]
fn a_malformed_baseline_is_a_file_line_column_error_with_exit_status_2() {
    let dir = Scratch::new("malformed");
    let cases = [
        (
            "bad-yaml.yaml",
            "version: 1\nexecutables:\n  - { exe: /bin/x, user: root\n",
            ":4:1: executables: malformed YAML",
        ),
        (
            "wrong-type.yaml",
            "version: 1\nlistening:\n  - { exe: /bin/x, proto: tcp, port: [22] }\n",
            ":3:38: listening[0].port: invalid type: sequence, expected a port number",
        ),
        (
            "newer.yaml",
            "version: 2\nexecutables: []\n",
            ":1:10: version: this baseline is version 2, from a newer wiretop; this one reads \
             version 1",
        ),
    ];
    for (name, contents, expected) in cases {
        let file = dir.path(name);
        std::fs::write(&file, contents).unwrap();
        // Both ways in: the snapshot's flag, and the explorer's (checked before the terminal).
        for args in [
            vec!["snapshot", "--baseline", text(&file), "--format", "json"],
            vec!["--baseline", text(&file)],
        ] {
            let (status, stdout, stderr) = wiretop(&args);
            assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "{args:?} printed {stdout:.200}");
            let wanted = format!("wiretop: baseline error: {}{expected}", text(&file));
            assert!(
                stderr.starts_with(&wanted),
                "{args:?}\n{stderr}\nwanted {wanted}"
            );
        }
    }
    let (status, _, stderr) = wiretop(&["--baseline", "/nonexistent/b.yaml", "schema"]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--baseline FILE is for the explorer"),
        "{stderr}"
    );
}

/// A new file is 0600 whatever the umask; a symbolic link is refused and what it points to is
/// left alone; saving again replaces the file whole.
#[test]
fn the_file_is_private_and_never_written_through_a_link() {
    let dir = Scratch::new("file");
    let file = dir.path("baseline.yaml");
    let status = Command::new("sh")
        .args([
            "-c",
            "umask 000 && exec \"$0\" baseline save \"$1\" >/dev/null",
        ])
        .arg(env!("CARGO_BIN_EXE_wiretop"))
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::metadata(&file).unwrap().mode() & 0o7777, 0o600);
    std::fs::write(&file, "x".repeat(1 << 20)).unwrap();
    save(&file);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(
        saved.starts_with("# wiretop baseline") && !saved.contains("xxx"),
        "replaced whole"
    );

    let target = dir.path("precious");
    std::fs::write(&target, "keep\n").unwrap();
    let link = dir.path("link.yaml");
    symlink(&target, &link).unwrap();
    let (status, stdout, stderr) = wiretop(&["baseline", "save", text(&link)]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "wiretop: baseline error: refusing to write {}: it is a symbolic link",
            text(&link)
        )
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep\n");
}
