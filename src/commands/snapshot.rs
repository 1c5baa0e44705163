//! `wiretop snapshot`: one snapshot, printed as JSON or a table.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::baseline::Baseline;
use crate::cli::{Format, SnapshotArgs};
use crate::config::Effective;
use crate::model::{ProcessQuery, Snapshot};
use crate::output::{write_json, write_table, TableOptions};
use crate::sample::{sample_once, SamplerSettings};

/// Printed once on stderr when some processes could not be inspected.
const PRIVILEGE_HINT: &str =
    "wiretop: some processes could not be inspected (marked in `unreadable`); \
run as root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to see them all";

/// Takes and prints one snapshot; with `baseline` (read before anything is sampled, so a bad
/// file stops the command at once), marked against it.
pub fn run(
    effective: &Effective,
    args: &SnapshotArgs,
    baseline: Option<&Path>,
) -> anyhow::Result<()> {
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let baseline = baseline.map(crate::baseline::load).transpose()?;
    let settings = SamplerSettings::from_config(&effective.config, None)?;
    let mut snapshot = sample_once(&settings).context("taking a snapshot")?;
    if snapshot.collection.restricted {
        eprintln!("{PRIVILEGE_HINT}");
    }
    mark(&mut snapshot, baseline.as_ref());
    let query = ProcessQuery {
        pid: args.pid,
        port: args.port,
        user: args.user.clone(),
    };
    let snapshot = query.apply(&snapshot);
    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => write_json(&mut out, &snapshot, args.pretty)?,
        Format::Table => write_table(
            &mut out,
            &snapshot,
            TableOptions {
                sockets: args.sockets,
            },
        )?,
    }
    out.flush()?;
    if format == Format::Table && baseline.is_some() {
        // The table has no column for it; say how many, and where the reasons are.
        let unexpected = snapshot
            .processes
            .iter()
            .filter(|p| p.unexpected == Some(true))
            .count();
        eprintln!(
            "wiretop: processes outside the baseline: {unexpected} (`--format json` lists \
             each with its unexpected_reasons)"
        );
    }
    Ok(())
}

/// Sets `new` on every process (started after the baseline was saved, or else after the first
/// of the snapshot's two readings) and, with a baseline, `unexpected` and its reasons.
fn mark(snapshot: &mut Snapshot, baseline: Option<&Baseline>) {
    let since = baseline
        .and_then(|b| b.saved_at_ms)
        .unwrap_or_else(|| snapshot.first_reading_ms());
    snapshot.mark_new_since(since);
    if let Some(baseline) = baseline {
        baseline.judge(snapshot).apply(snapshot);
    }
}
