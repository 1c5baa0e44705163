//! The files `wiretop ship` writes, as root and as `nobody`, in a world-writable sticky
//! directory such as /tmp: nothing is ever written through a symbolic link or into a file
//! another user owns, a new file is created 0600 whatever the umask, and each refusal is one
//! line. Real `wiretop ship` runs with `protocol: ndjson` and a `file://` endpoint.
//!
//! These tests need root (CI runs as root): they plant files as another user and chown.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{as_nobody, NobodyBinary};

const NOBODY: u32 = 65534;
const PRECIOUS: &[u8] = b"root-only contents\n";

/// A scratch area: `shared/` is world-writable and sticky (like /tmp), `private/` is root's
/// alone and holds a file nobody else may read or write.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    /// None when this run is not root (the test is then recorded as not run): these tests
    /// plant files as another user.
    fn new(name: &str) -> Option<Scratch> {
        if !common::not_run::runs_as_root(&format!("files: {name}")) {
            return None;
        }
        let root =
            std::env::temp_dir().join(format!("wiretop-files-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("shared")).unwrap();
        std::fs::create_dir_all(root.join("private")).unwrap();
        chmod(&root, 0o755);
        chmod(&root.join("shared"), 0o1777);
        chmod(&root.join("private"), 0o700);
        std::fs::write(root.join("private/secret"), PRECIOUS).unwrap();
        chmod(&root.join("private/secret"), 0o600);
        Some(Scratch { root })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// A configuration (readable by nobody) that ships NDJSON to `sink`.
    fn config(&self, sink: &Path) -> PathBuf {
        let path = self.root.join("config.yaml");
        std::fs::write(
            &path,
            format!(
                "uplink:\n  enabled: true\n  protocol: ndjson\n  endpoint: file://{}\n",
                sink.display()
            ),
        )
        .unwrap();
        chmod(&path, 0o644);
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Who runs `wiretop ship`.
enum User {
    Root,
    Nobody(NobodyBinary),
}

impl User {
    fn nobody(name: &str) -> User {
        User::Nobody(NobodyBinary::new(name))
    }

    /// `program args...` as this user.
    fn command(&self, program: &str) -> Command {
        match self {
            User::Root => Command::new(program),
            User::Nobody(_) => as_nobody(program),
        }
    }

    /// `wiretop --config CONFIG --interval 300ms ship` under `umask`, with no stray WIRETOP_
    /// variables and no user configuration file.
    fn ship(&self, config: &Path, umask: &str) -> Command {
        let binary = match self {
            User::Root => PathBuf::from(env!("CARGO_BIN_EXE_wiretop")),
            User::Nobody(copy) => copy.path.clone(),
        };
        let mut command = self.command("sh");
        command
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(binary)
            .arg("--config")
            .arg(config)
            .args(["--interval", "300ms", "ship"]);
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WIRETOP_")) {
            command.env_remove(key);
        }
        command
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }
}

/// Runs a `ship` that must stop by itself, killing it (and failing) after 10 s.
fn run_to_exit(mut command: Command) -> Output {
    let mut child = command.spawn().expect("wiretop ship starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wiretop ship did not stop within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Asserts `ship` refused at start, with exit 2 and exactly one line ending in `reason`.
fn assert_refused(output: &Output, sink: &Path, reason: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].ends_with(&format!("refusing to write {}: {reason}", sink.display())),
        "{stderr}"
    );
}

/// `ship` by `user` to `sink` is refused for `reason`, and `kept` still holds `contents`.
fn assert_ship_refused(
    user: &User,
    scratch: &Scratch,
    sink: &Path,
    reason: &str,
    kept: &Path,
    contents: &[u8],
) {
    let output = run_to_exit(user.ship(&scratch.config(sink), "022"));
    assert_refused(&output, sink, reason);
    assert_eq!(std::fs::read(kept).unwrap(), contents, "{}", kept.display());
}

#[test]
fn root_never_writes_through_a_symlink_planted_by_nobody() {
    let Some(scratch) = Scratch::new("root-symlink") else {
        return;
    };
    let sink = scratch.path("shared/out.ndjson");
    let planted = as_nobody("ln")
        .arg("-s")
        .arg(scratch.path("private/secret"))
        .arg(&sink)
        .status()
        .unwrap();
    assert!(planted.success());
    assert_eq!(std::fs::symlink_metadata(&sink).unwrap().uid(), NOBODY);
    let secret = scratch.path("private/secret");
    let link = "it is a symbolic link";
    assert_ship_refused(&User::Root, &scratch, &sink, link, &secret, PRECIOUS);
}

#[test]
fn root_never_writes_through_its_own_symlink_either() {
    // No sticky directory and no other user: nothing the kernel's protected_symlinks would
    // catch. The refusal is wiretop's own.
    let Some(scratch) = Scratch::new("root-own-symlink") else {
        return;
    };
    let sink = scratch.path("out.ndjson");
    std::os::unix::fs::symlink(scratch.path("private/secret"), &sink).unwrap();
    let secret = scratch.path("private/secret");
    let link = "it is a symbolic link";
    assert_ship_refused(&User::Root, &scratch, &sink, link, &secret, PRECIOUS);
}

#[test]
fn root_refuses_a_file_nobody_created_and_appends_nothing_to_it() {
    let Some(scratch) = Scratch::new("root-foreign") else {
        return;
    };
    let sink = scratch.path("shared/out.ndjson");
    let created = as_nobody("sh")
        .arg("-c")
        .arg("umask 000 && printf 'mine\\n' > \"$0\"")
        .arg(&sink)
        .status()
        .unwrap();
    assert!(created.success());
    assert_eq!(std::fs::metadata(&sink).unwrap().uid(), NOBODY);
    let reason = "it belongs to nobody (uid 65534), not to root (uid 0) who runs wiretop";
    assert_ship_refused(&User::Root, &scratch, &sink, reason, &sink, b"mine\n");
}

#[test]
fn nobody_never_writes_through_a_symlink() {
    let Some(scratch) = Scratch::new("nobody-symlink") else {
        return;
    };
    // A file nobody could append to if the link were followed.
    let target = scratch.path("victim");
    std::fs::write(&target, PRECIOUS).unwrap();
    chmod(&target, 0o666);
    let sink = scratch.path("shared/out.ndjson");
    std::os::unix::fs::symlink(&target, &sink).unwrap();
    let user = User::nobody("files-symlink");
    let link = "it is a symbolic link";
    assert_ship_refused(&user, &scratch, &sink, link, &target, PRECIOUS);
}

#[test]
fn nobody_refuses_a_file_owned_by_root() {
    let Some(scratch) = Scratch::new("nobody-foreign") else {
        return;
    };
    let sink = scratch.path("shared/out.ndjson");
    std::fs::write(&sink, PRECIOUS).unwrap();
    chmod(&sink, 0o666); // writable by nobody: only the owner check stands in the way
    let user = User::nobody("files-foreign");
    let reason = "it belongs to root (uid 0), not to nobody (uid 65534) who runs wiretop";
    assert_ship_refused(&user, &scratch, &sink, reason, &sink, PRECIOUS);
}

#[test]
fn a_fifo_as_the_sink_is_refused_at_once() {
    let Some(scratch) = Scratch::new("fifo") else {
        return;
    };
    let sink = scratch.path("shared/out.ndjson");
    nix::unistd::mkfifo(&sink, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let output = run_to_exit(User::Root.ship(&scratch.config(&sink), "022"));
    assert_refused(&output, &sink, "it is a FIFO, not a regular file");
}

/// Runs `ship` until the sink holds a snapshot, then stops it with SIGTERM; returns its log.
fn ship_until_written(mut command: Command, sink: &Path) -> String {
    let child = command.spawn().expect("wiretop ship starts");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(sink).map_or(0, |m| m.len()) == 0 || !written_lines(sink) {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let output = child.wait_with_output().expect("output");
            panic!(
                "no snapshot written within 20 s: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let output = child.wait_with_output().expect("output");
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "clean exit on SIGTERM: {log}");
    log
}

/// Whether the file holds at least one whole line.
fn written_lines(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.contains(&b'\n'))
}

fn assert_private_snapshots(sink: &Path, owner: u32) {
    let metadata = std::fs::metadata(sink).unwrap();
    assert_eq!(metadata.mode() & 0o7777, 0o600, "{}", sink.display());
    assert_eq!(metadata.uid(), owner);
    let text = std::fs::read_to_string(sink).unwrap();
    let first = text.lines().next().expect("a line");
    let snapshot: wiretop::model::Snapshot = serde_json::from_str(first).expect("a snapshot");
    assert!(!snapshot.processes.is_empty());
}

#[test]
fn a_new_sink_is_created_0600_even_with_umask_000_as_root_and_as_nobody() {
    let Some(scratch) = Scratch::new("umask") else {
        return;
    };
    let sink = scratch.path("shared/root.ndjson");
    ship_until_written(User::Root.ship(&scratch.config(&sink), "000"), &sink);
    assert_private_snapshots(&sink, 0);

    let sink = scratch.path("shared/nobody.ndjson");
    let user = User::nobody("files-umask");
    ship_until_written(user.ship(&scratch.config(&sink), "000"), &sink);
    assert_private_snapshots(&sink, NOBODY);
}

#[test]
fn a_new_sink_is_0600_even_when_the_umask_takes_the_owners_write_bit() {
    let Some(scratch) = Scratch::new("umask-277") else {
        return;
    };
    let sink = scratch.path("shared/out.ndjson");
    ship_until_written(User::Root.ship(&scratch.config(&sink), "277"), &sink);
    assert_private_snapshots(&sink, 0);
}

#[test]
fn a_sink_swapped_for_a_symlink_while_shipping_is_refused_and_the_batches_dropped() {
    // A directory anyone may write to without the sticky bit (a mistake, but one that
    // happens): nobody can replace root's file there.
    let Some(scratch) = Scratch::new("swapped") else {
        return;
    };
    std::fs::create_dir(scratch.path("open")).unwrap();
    chmod(&scratch.path("open"), 0o777);
    let sink = scratch.path("open/out.ndjson");
    let mut command = User::Root.ship(&scratch.config(&sink), "022");
    let child = command.spawn().expect("wiretop ship starts");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let stop = |child: std::process::Child| {
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        child.wait_with_output().expect("output")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !written_lines(&sink) {
        if Instant::now() > deadline {
            let output = stop(child);
            panic!(
                "nothing written: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // nobody replaces the file with a link to root's secret, atomically.
    let swapped = as_nobody("sh")
        .arg("-c")
        .arg("ln -s \"$0\" \"$1.new\" && mv -f \"$1.new\" \"$1\"")
        .arg(scratch.path("private/secret"))
        .arg(&sink)
        .status()
        .unwrap();
    assert!(swapped.success());
    // A few more intervals: every batch now meets the link.
    std::thread::sleep(Duration::from_millis(1500));
    let output = stop(child);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    assert_eq!(
        std::fs::read(scratch.path("private/secret")).unwrap(),
        PRECIOUS
    );
    assert!(
        log.contains(&format!(
            "refusing to write {}: it is a symbolic link; dropping the batch",
            sink.display()
        )),
        "{log}"
    );
    let refusals = log.matches("it is a symbolic link").count();
    assert_eq!(refusals, 1, "logged once, not every interval: {log}");
    let stopped = log
        .lines()
        .find(|l| l.contains("uplink stopped"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(!stopped.contains("dropped=0"), "{stopped}");
}

/// The systemd unit's example sink must be writable under the unit's own sandboxing
/// (ProtectSystem=strict leaves only the directories it names writable), and the unit must be
/// one systemd accepts.
#[test]
fn the_systemd_units_example_sink_is_in_a_directory_the_unit_can_write() {
    let unit_path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/wiretop.service");
    let unit = std::fs::read_to_string(unit_path).unwrap();
    let setting = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
    };
    assert_eq!(setting("ProtectSystem").as_deref(), Some("strict"));
    let sink = unit
        .lines()
        .find_map(|l| l.split("endpoint: file://").nth(1))
        .expect("the unit documents a file:// sink")
        .trim()
        .to_owned();
    let directory = Path::new(&sink).parent().unwrap().to_path_buf();
    let writable: Vec<PathBuf> = [
        ("LogsDirectory", "/var/log"),
        ("StateDirectory", "/var/lib"),
        ("CacheDirectory", "/var/cache"),
    ]
    .iter()
    .filter_map(|(key, base)| setting(key).map(|d| Path::new(base).join(d)))
    .chain(
        setting("ReadWritePaths")
            .into_iter()
            .flat_map(|p| p.split_whitespace().map(PathBuf::from).collect::<Vec<_>>()),
    )
    .collect();
    assert!(
        writable.iter().any(|w| directory.starts_with(w)),
        "{sink} is not under a directory the unit makes writable: {writable:?}"
    );

    // systemd's own check, with ExecStart pointing at the binary just built.
    let dir = std::env::temp_dir().join(format!("wiretop-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("wiretop.service");
    std::fs::write(
        &copy,
        unit.replace("/usr/bin/wiretop", env!("CARGO_BIN_EXE_wiretop")),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze (Debian's systemd package) is installed");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// While root's `ship` runs, nobody swaps a directory on the sink's path (one nobody owns) for
/// a link to a root-only directory: later batches must not be created there, and the refusal
/// is logged.
#[test]
fn a_directory_swapped_for_a_symlink_while_shipping_leads_nowhere() {
    let Some(scratch) = Scratch::new("swapped-dir") else {
        return;
    };
    let theirs = scratch.path("shared/nbdir");
    std::fs::create_dir(&theirs).unwrap();
    nix::unistd::chown(&theirs, Some(NOBODY.into()), Some(NOBODY.into())).unwrap();
    let sink = theirs.join("out.ndjson");
    let mut ship = User::Root
        .ship(&scratch.config(&sink), "022")
        .spawn()
        .expect("ship starts");
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::fs::metadata(&sink).map_or(0, |m| m.len()) == 0 {
        assert!(
            Instant::now() < deadline,
            "no batch written to {}",
            sink.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // As nobody: move the directory away, and put a link to root's private one in its place.
    let swap = as_nobody("sh")
        .arg("-c")
        .arg("mv \"$1\" \"$1.old\" && ln -s \"$2\" \"$1\"")
        .arg("swap")
        .arg(&theirs)
        .arg(scratch.path("private"))
        .status()
        .expect("sh runs");
    assert!(swap.success(), "nobody could swap the directory");
    std::thread::sleep(Duration::from_secs(2));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ship.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let output = {
        let _ = ship.wait();
        let mut text = String::new();
        if let Some(mut stderr) = ship.stderr.take() {
            use std::io::Read;
            let _ = stderr.read_to_string(&mut text);
        }
        text
    };
    assert!(
        !scratch.path("private/out.ndjson").exists(),
        "a batch was written into root's private directory through the link"
    );
    assert_eq!(
        std::fs::read(scratch.path("private/secret")).unwrap(),
        PRECIOUS
    );
    assert!(
        output.contains("a directory on its path is a symbolic link"),
        "the refusal is logged: {output}"
    );
}
