//! The summary of tests this `cargo test` could not run (see `common/not_run.rs`). cargo runs
//! test binaries in name order, so this one, `zz_`, comes last.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::io::Write;

#[test]
fn summary_of_tests_not_run() {
    let ledger = common::not_run::ledger();
    let text = std::fs::read_to_string(&ledger).unwrap_or_default();
    let run = format!("{}\t", nix::unistd::getppid());
    let (ours, others): (Vec<&str>, Vec<&str>) = text.lines().partition(|l| l.starts_with(&run));
    // Keep only other runs' lines (another `cargo test` may be going on beside this one).
    if !ours.is_empty() {
        let kept: String = others.iter().map(|l| format!("{l}\n")).collect();
        let _ = std::fs::write(&ledger, kept);
    }
    if ours.is_empty() {
        return;
    }
    let mut summary = format!(
        "\n{} test(s) were NOT run here (they run as root, as CI does):\n",
        ours.len()
    );
    for line in &ours {
        let mut fields = line.splitn(3, '\t').skip(1);
        let (test, needs) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        summary.push_str(&format!("  {test}: needs {needs}\n"));
    }
    // Straight to the terminal: the test harness captures print!/eprint! of passing tests.
    let _ = std::io::stderr().write_all(summary.as_bytes());
}
