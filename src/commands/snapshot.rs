//! `wiretop snapshot`: one snapshot, printed as JSON or a table.

use std::io::{IsTerminal, Write};

use anyhow::Context;

use crate::cli::{Format, SnapshotArgs};
use crate::config::Effective;
use crate::model::ProcessQuery;
use crate::output::{write_json, write_table, TableOptions};
use crate::sample::{sample_once, SamplerSettings};

/// Printed once on stderr when some processes could not be inspected.
const PRIVILEGE_HINT: &str =
    "wiretop: some processes could not be inspected (marked in `unreadable`); \
run as root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to see them all";

pub fn run(effective: &Effective, args: &SnapshotArgs) -> anyhow::Result<()> {
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let settings = SamplerSettings::from_config(&effective.config, None)?;
    let snapshot = sample_once(&settings).context("taking a snapshot")?;
    if snapshot.collection.restricted {
        eprintln!("{PRIVILEGE_HINT}");
    }
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
    Ok(())
}
