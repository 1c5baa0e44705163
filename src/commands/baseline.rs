//! `wiretop baseline save FILE`: one snapshot, saved as the baseline of what is normal here.

use std::path::Path;

use anyhow::Context;

use crate::baseline::{self, Baseline};
use crate::config::Effective;
use crate::sample::{sample_once, SamplerSettings};

/// Printed when the snapshot behind a baseline missed details of some processes.
const PRIVILEGE_HINT: &str = "wiretop: some processes could not be inspected: they are recorded \
by name instead of executable path, and their sockets are not recorded; save the baseline as \
root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) to record them all";

/// Takes one snapshot, as `wiretop snapshot` does, and saves what it shows to `file`.
pub fn save(effective: &Effective, file: &Path) -> anyhow::Result<()> {
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    if !effective.config.process_agent.collect_connections {
        // Every listener and destination would be missing from it, and so unexpected later.
        anyhow::bail!(
            "a baseline records listening ports and destinations: it cannot be saved with \
             connections switched off (--no-connections, process_agent.collect_connections)"
        );
    }
    let settings = SamplerSettings::from_config(&effective.config, None)?;
    let snapshot = sample_once(&settings).context("taking a snapshot")?;
    if snapshot.collection.restricted {
        eprintln!("{PRIVILEGE_HINT}");
    }
    let recorded = Baseline::from_snapshot(&snapshot);
    baseline::save(&recorded, file, &snapshot.host.hostname)?;
    println!(
        "saved {}: {} executables, {} listening, {} outbound destinations",
        crate::escape::for_terminal(&file.display().to_string()),
        recorded.executables.len(),
        recorded.listening.len(),
        recorded.outbound.len()
    );
    Ok(())
}
