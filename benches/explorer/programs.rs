//! What the pty measurements start programs with: the wiretop binary, tools on PATH, a scratch
//! HOME.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::pty::{Pty, PtyOptions};
use crate::{PTY_COLS, PTY_ROWS};

/// `program ARGS` in a pty of its own, with a plain UTF-8 environment and `home` as HOME (htop
/// and btop write their configuration there). Output is counted, not kept.
pub(crate) fn start(label: &str, program: &Path, args: &[&str], home: &Path) -> Result<Pty> {
    let mut command = Command::new(program);
    command
        .args(args)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME");
    let options = PtyOptions {
        rows: PTY_ROWS,
        cols: PTY_COLS,
        record: false,
        keep_terminal: false,
    };
    Pty::start(label, &command, options)
        .with_context(|| format!("starting {label} ({})", program.display()))
}

/// A scratch HOME for the children (htop and btop write their configuration there), removed
/// when dropped.
pub(crate) struct ScratchDir(pub(crate) PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> Result<ScratchDir> {
        let path =
            std::env::temp_dir().join(format!("wiretop-explorer-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn wiretop_binary() -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = option_env!("CARGO_BIN_EXE_wiretop") {
        candidates.push(PathBuf::from(path));
    }
    // target/release/deps/explorer-<hash> -> target/release/wiretop
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
    {
        candidates.push(dir.join("wiretop"));
    }
    match candidates.iter().find(|p| p.is_file()) {
        Some(path) => Ok(path.clone()),
        None => bail!(
            "the wiretop binary is missing (looked at {candidates:?}); run `cargo build --release` \
             first"
        ),
    }
}

pub(crate) fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

pub(crate) fn non_blank_rows(screen: &vt100::Screen) -> usize {
    screen
        .rows(0, PTY_COLS)
        .filter(|row| !row.trim().is_empty())
        .count()
}
