//! Tests that cannot run here: loud, never silent. As root (CI runs as root) or with `CI` set, a
//! test that cannot run fails, naming what is missing; elsewhere (a developer's unprivileged
//! `cargo test`) it is recorded, and `tests/zz_not_run.rs`, the last test binary cargo runs,
//! prints one summary of every test this run did not run.

use std::io::Write;
use std::path::PathBuf;

/// Where this build's skipped tests are listed, one line each: the pid of the `cargo test` that
/// ran them (the test binary's parent), the test, and what it needed.
pub fn ledger() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tests-not-run")
}

/// Whether a test that cannot run may be skipped in this run.
fn skipping_allowed() -> bool {
    !nix::unistd::geteuid().is_root() && std::env::var_os("CI").is_none()
}

/// Goes on (true) when `available`. Otherwise fails the test as root or in CI, naming `needs`;
/// elsewhere records `test` as not run for the summary and returns false (the caller returns).
pub fn runs_here(test: &str, available: bool, needs: &str) -> bool {
    if available {
        return true;
    }
    assert!(
        skipping_allowed(),
        "{test} cannot run: it needs {needs} (as root or in CI a test may not be skipped)"
    );
    let line = format!("{}\t{test}\t{needs}\n", nix::unistd::getppid());
    let recorded = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(ledger())
        .and_then(|mut file| file.write_all(line.as_bytes()));
    assert!(
        recorded.is_ok(),
        "{test} cannot run ({needs}) and could not be recorded as not run: {recorded:?}"
    );
    false
}

/// [`runs_here`] for a test that needs root.
pub fn runs_as_root(test: &str) -> bool {
    runs_here(test, nix::unistd::geteuid().is_root(), "root")
}
