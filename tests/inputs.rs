//! Inputs that used to hang wiretop or eat its memory: `/dev/zero`, a FIFO, a 50 MB file and
//! YAML nested 100,000 deep, given as `--config` and as the files the configuration names
//! (`uplink.api_key_file`, `uplink.ca_file`). Each is refused with exit 2 and one line naming
//! the file and what is wrong. A watchdog kills a run that has not ended after 10 s (a FIFO
//! used to block forever) and fails the test; memory is checked from the children's peak RSS.
//! How long each refusal takes is printed, not asserted (see the README's measurement).
//!
//! Every child of this test binary is one of these runs, so the largest peak RSS of all of
//! them (getrusage(RUSAGE_CHILDREN)) bounds each.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Far below what reading a 50 MB file whole (or /dev/zero for a second) would take; a debug
/// build checking its configuration peaks around 12 MiB.
const MAX_PEAK_RSS_KIB: i64 = 40 * 1024;

/// A scratch directory with the hostile files, removed afterwards.
struct Hostile {
    dir: PathBuf,
}

impl Hostile {
    fn new(name: &str) -> Hostile {
        let dir =
            std::env::temp_dir().join(format!("wiretop-inputs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Hostile { dir }
    }

    /// A FIFO nobody ever writes to.
    fn fifo(&self) -> PathBuf {
        let path = self.dir.join("fifo");
        if !path.exists() {
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        }
        path
    }

    /// 50 MiB of valid YAML comments, written a line at a time (see [`assert_memory_bounded`]).
    fn big(&self) -> PathBuf {
        use std::io::Write;
        let path = self.dir.join("big.yaml");
        if !path.exists() {
            let line = format!("# {}\n", "x".repeat(97));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            for _ in 0..50 * 1024 * 1024 / line.len() {
                out.write_all(line.as_bytes()).unwrap();
            }
            out.flush().unwrap();
        }
        path
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `[` 100,000 deep (and closed), under a real key.
fn deep_flow() -> String {
    format!("tags: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))
}

/// wiretop with `args` and only the given WIRETOP_ variables, killed (and the test failed)
/// after 10 s. Returns the output and how long it ran.
fn wiretop(args: &[&Path], env: &[(&str, &str)]) -> (Output, Duration) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wiretop"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("WIRETOP_")) {
        command.env_remove(key);
    }
    command
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("wiretop runs");
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wiretop {args:?} still running after 10 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    (child.wait_with_output().expect("output"), elapsed)
}

/// Exit 2, one line on stderr, starting with `start` and ending with `end`; the time printed.
fn assert_refused(what: &str, (output, elapsed): (Output, Duration), start: &str, end: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{what}: refused in {elapsed:?}");
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    assert!(output.stdout.is_empty(), "{what}: nothing ran");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: {stderr}");
    assert!(
        lines[0].starts_with(start) && lines[0].ends_with(end),
        "{what}:\n  got      {}\n  expected {start}...{end}",
        lines[0]
    );
}

/// The largest peak RSS of any child so far is below [`MAX_PEAK_RSS_KIB`]. Pages a child
/// shares with this process before it execs can count towards the child's peak, so this
/// process never holds anything big (the 50 MiB file is written a line at a time).
fn assert_memory_bounded() {
    use nix::sys::resource::{getrusage, UsageWho};
    let peak = getrusage(UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage")
        .max_rss();
    let own = getrusage(UsageWho::RUSAGE_SELF)
        .expect("getrusage")
        .max_rss();
    println!("largest peak RSS of any run so far: {peak} KiB (this test process: {own} KiB)");
    assert!(
        peak < MAX_PEAK_RSS_KIB,
        "a run peaked at {peak} KiB (limit {MAX_PEAK_RSS_KIB} KiB)"
    );
}

#[test]
fn config_files_that_are_not_regular_too_big_or_too_deep_are_refused_at_once() {
    let hostile = Hostile::new("config");
    let fifo = hostile.fifo();
    let big = hostile.big();
    let deep = hostile.file("deep.yaml", &deep_flow());
    let deep_maps = hostile.file(
        "deep-maps.yaml",
        &format!("uplink: {}\n", "{a: ".repeat(100_000)),
    );
    let deep_block = hostile.file(
        "deep-block.yaml",
        &format!("tags:\n{}x\n", "- ".repeat(100_000)),
    );
    let prefix = |path: &Path| format!("wiretop: configuration error: {}", path.display());
    let check = |path: &Path| {
        wiretop(
            &[
                Path::new("--config"),
                path,
                Path::new("config"),
                Path::new("check"),
            ],
            &[],
        )
    };
    let dev_zero = Path::new("/dev/zero");
    assert_refused(
        "--config /dev/zero",
        check(dev_zero),
        &prefix(dev_zero),
        ": cannot read the configuration file: it is a character device, not a regular file",
    );
    assert_refused(
        "--config FIFO",
        check(&fifo),
        &prefix(&fifo),
        ": cannot read the configuration file: it is a FIFO, not a regular file",
    );
    assert_refused(
        "--config 50 MB",
        check(&big),
        &prefix(&big),
        ": cannot read the configuration file: it is 52428800 bytes, over the limit of 1 MiB",
    );
    for (what, path, column) in [
        ("--config 100,000 x [", &deep, 70),
        ("--config 100,000 x {a:", &deep_maps, 261),
        ("--config 100,000 x - ", &deep_block, 127),
    ] {
        assert_refused(
            what,
            check(path),
            &prefix(path),
            &format!(
                ":{}:{column}: nested more than 64 levels deep, the limit (wiretop's own keys go 4 deep)",
                if path == &deep_block { 2 } else { 1 }
            ),
        );
    }
    assert_memory_bounded();
}

/// YAML aliases: a 1 MiB file whose 999 aliases each repeat a 900 KB anchor would be
/// expanded by serde_yaml to gigabytes; it is refused where the first alias stands.
#[test]
fn alias_bombs_are_refused_at_the_first_alias() {
    let hostile = Hostile::new("aliases");
    // Written piece by piece: this process never holds anything big (see
    // `assert_memory_bounded`).
    let write = |name: &str, head: &str, items: &[String], tail: &str| -> PathBuf {
        use std::io::Write;
        let path = hostile.dir.join(name);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        out.write_all(head.as_bytes()).unwrap();
        for _ in 0..900 {
            out.write_all(&[b'y'; 1000]).unwrap();
        }
        for item in items {
            out.write_all(item.as_bytes()).unwrap();
        }
        out.write_all(tail.as_bytes()).unwrap();
        out.flush().unwrap();
        path
    };
    let words: Vec<String> = (0..999).map(|_| ", *a".to_owned()).collect();
    let headers: Vec<String> = (0..999).map(|i| format!(", b{i}: *a")).collect();
    let bombs = [
        (
            "custom_sensitive_words",
            write(
                "words.yaml",
                "process_agent:\n  custom_sensitive_words: [&a \"",
                &[std::iter::once("\"".to_owned())
                    .chain(words)
                    .collect::<String>()],
                "]\n",
            ),
            "2:900035",
        ),
        (
            "headers",
            write(
                "headers.yaml",
                "uplink:\n  headers: {a: &a \"",
                &[std::iter::once("\"".to_owned())
                    .chain(headers)
                    .collect::<String>()],
                "}\n",
            ),
            "2:900027",
        ),
    ];
    for (what, path, at) in bombs {
        assert_refused(
            what,
            wiretop(
                &[
                    Path::new("--config"),
                    &path,
                    Path::new("config"),
                    Path::new("check"),
                ],
                &[],
            ),
            &format!(
                "wiretop: configuration error: {}:{at}: YAML aliases",
                path.display()
            ),
            "are not accepted in wiretop's files: write the value out",
        );
    }
    assert_memory_bounded();
}

/// The natural mistake: the API key file given as the configuration. The error names the file
/// and the problem, never its contents.
#[test]
fn a_file_that_is_one_value_is_refused_without_repeating_it() {
    let hostile = Hostile::new("one-value");
    let key = "0123456789abcdef0123456789abcdef";
    for (name, text) in [
        ("key", format!("{key}\n")),
        ("number", "1234567890123\n".to_owned()),
    ] {
        let path = hostile.file(name, &text);
        let (output, _) = wiretop(
            &[
                Path::new("--config"),
                &path,
                Path::new("config"),
                Path::new("check"),
            ],
            &[],
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&path.display().to_string()), "{stderr}");
        assert!(stderr.contains("expected struct Config"), "{stderr}");
        assert!(
            !stderr.contains(text.trim()),
            "the file's contents were repeated: {stderr}"
        );
    }
}

#[test]
fn a_deeply_nested_environment_value_is_refused_too() {
    // 100,000 unclosed: a variable holds at most 128 KiB.
    let value = "[".repeat(100_000);
    assert_refused(
        "WIRETOP_TAGS 100,000 x [",
        wiretop(&[Path::new("config"), Path::new("check")], &[("WIRETOP_TAGS", &value)]),
        "wiretop: configuration error: environment variable WIRETOP_TAGS:1:65: nested more than 64 levels deep",
        "",
    );
    assert_memory_bounded();
}

#[test]
fn key_and_certificate_files_that_are_not_regular_or_too_big_are_refused_at_start() {
    let hostile = Hostile::new("key");
    let fifo = hostile.fifo();
    let big = hostile.big();
    let dev_zero = PathBuf::from("/dev/zero");
    let ship = |key: &str, path: &Path| {
        let path = path.display().to_string();
        wiretop(
            &[Path::new("ship")],
            &[
                ("WIRETOP_UPLINK_ENABLED", "true"),
                ("WIRETOP_UPLINK_ENDPOINT", "http://127.0.0.1:9"),
                (key, path.as_str()),
            ],
        )
    };
    let prefix = "wiretop: configuration error: setting up the uplink: reading";
    for (key, variable, limit) in [
        ("api_key_file", "WIRETOP_UPLINK_API_KEY_FILE", "64 KiB"),
        ("ca_file", "WIRETOP_UPLINK_CA_FILE", "1 MiB"),
    ] {
        for (path, reason) in [
            (
                &dev_zero,
                "it is a character device, not a regular file".to_owned(),
            ),
            (&fifo, "it is a FIFO, not a regular file".to_owned()),
            (
                &big,
                format!("it is 52428800 bytes, over the limit of {limit}"),
            ),
        ] {
            assert_refused(
                &format!("{key} {}", path.display()),
                ship(variable, path),
                &format!("{prefix} uplink.{key} {}: {reason}", path.display()),
                "",
            );
        }
    }
    assert_memory_bounded();
}
