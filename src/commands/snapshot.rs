//! `wiretop snapshot`: one snapshot, printed as JSON or a table; taken now, or read from a
//! recording (`--from FILE --at TIME`).

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use crate::baseline::Baseline;
use crate::cli::{Format, SnapshotArgs};
use crate::config::Effective;
use crate::history;
use crate::model::{ProcessQuery, Snapshot};
use crate::output::{write_json, write_table, TableOptions};
use crate::sample::{sample_once, SamplerSettings};
use crate::time::TimeArg;

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
    if let Some(recording) = &args.from {
        let baseline = baseline.map(crate::baseline::load).transpose()?;
        let mut snapshot = recorded(recording, args.at.as_deref())?;
        // As recorded (`new` as the sampler marked it), unless judged against a baseline.
        if let Some(baseline) = &baseline {
            mark(&mut snapshot, Some(baseline));
        }
        return print(&snapshot, args, baseline.is_some());
    }
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
    print(&snapshot, args, baseline.is_some())
}

/// The recorded sample nearest to `at` (the last one without it); what was skipped on the way
/// is said on stderr.
fn recorded(recording: &Path, at: Option<&str>) -> anyhow::Result<Snapshot> {
    let at = match at {
        None => TimeArg::BeforeEnd(std::time::Duration::ZERO),
        Some(text) => {
            let offset = crate::time::local_offset_secs();
            crate::time::parse_time_arg(text, crate::time::now_ms(), offset).map_err(BadTime)?
        }
    };
    let found = history::sample_near(recording, at)?;
    for warning in &found.warnings {
        eprintln!("wiretop: warning: {warning}");
    }
    Ok(found.snapshot)
}

/// A `--at` that is not a time.
#[derive(Debug, thiserror::Error)]
#[error("--at: {0}")]
pub struct BadTime(String);

/// Prints `snapshot`, narrowed to the processes asked for, in the format asked for.
fn print(snapshot: &Snapshot, args: &SnapshotArgs, judged: bool) -> anyhow::Result<()> {
    let query = ProcessQuery {
        pid: args.pid,
        port: args.port,
        user: args.user.clone(),
    };
    let snapshot = query.apply(snapshot);
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
    if format == Format::Table && judged {
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
