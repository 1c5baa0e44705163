//! What the sampler's unit tests share: running one test alone in a child process (for what
//! is per process, the fd limit and the fd table, which tests running alongside would
//! disturb), and waiting for a spawned child to finish its exec.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Set in the child's environment: the test it runs does its work instead of starting it.
const CHILD: &str = "WIRETOP_TEST_ALONE";

/// Whether this process is the child, running the test alone.
pub fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` of `module` (pass `module_path!()`) alone in a child process, and
/// returns what it printed. Fails if the child fails, or if it printed nothing: a filter that
/// matched no test would pass without running anything.
pub fn run_in_child(module: &str, name: &str) -> String {
    run_in_child_under(&[], module, name)
}

/// [`run_in_child`], the child started by the command `wrapper` (`unshare --net`, to run the
/// test in namespaces of its own).
pub fn run_in_child_under(wrapper: &[&str], module: &str, name: &str) -> String {
    let module = module
        .split_once("::")
        .map_or(module, |(_crate, rest)| rest);
    let test = format!("{module}::{name}");
    let binary = std::env::current_exe().expect("the test binary");
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(&binary);
            command
        }
        None => Command::new(&binary),
    };
    let output = command
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{test} alone:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "{test} did not run alone:\n{stdout}"
    );
    stdout
}

/// Waits until `child` has finished exec'ing. A spawn returns once the child has replaced its
/// memory, before the kernel has set up its arguments and, a moment earlier, its name: read
/// in between, its command line is empty and its name may be ours.
pub fn wait_for_exec(child: &Child) {
    let cmdline = format!("/proc/{}/cmdline", child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read(&cmdline).is_ok_and(|args| args.is_empty()) {
        assert!(Instant::now() < deadline, "{cmdline} still empty after 5 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}
