//! Printing a snapshot for `wiretop snapshot`: JSON for machines, an aligned table for people.

mod table;

use std::io::Write;

use crate::model::Snapshot;

pub use table::{write_table, TableOptions};

/// Writes the snapshot as one JSON document followed by a newline.
pub fn write_json(out: &mut impl Write, snapshot: &Snapshot, pretty: bool) -> std::io::Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, snapshot)?;
    } else {
        serde_json::to_writer(&mut *out, snapshot)?;
    }
    out.write_all(b"\n")
}
