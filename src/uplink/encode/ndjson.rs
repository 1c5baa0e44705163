//! Newline-delimited JSON: one snapshot document per line, exactly as `wiretop snapshot --format
//! json` prints it, so anything that reads that output reads what the uplink sends.

use std::io::{self, Write};
use std::path::Path;

use crate::files::{open_private_append, Problem, UnsafeFile};
use crate::model::Snapshot;
use crate::uplink::batch::{Batch, Class, Records};

/// The batch for one snapshot: a single line holding the whole snapshot as compact JSON
/// ([`Class::Snapshot`], stamped with the snapshot's `taken_at_ms`).
///
/// Compact JSON escapes every control character inside strings, so the document never contains
/// a raw newline and stays one line.
pub fn encode_snapshot(snapshot: &Snapshot) -> Batch {
    let lines = match serde_json::to_string(snapshot) {
        Ok(line) => vec![line],
        // Cannot happen for this type (plain structs, string map keys; non-finite floats are
        // written as null), but if it ever did, one lost snapshot beats a crashed uplink.
        Err(err) => {
            tracing::error!("snapshot could not be written as JSON: {err}");
            Vec::new()
        }
    };
    Batch {
        class: Class::Snapshot,
        taken_at_ms: snapshot.host.taken_at_ms,
        records: Records::Ndjson(lines),
    }
}

/// Appends an NDJSON batch's lines, each followed by `\n`, to the file at `path` (created 0600
/// if missing). Meant for debugging and recording what would be sent, not as a durable store:
/// there is no rotation and no fsync.
///
/// The file is opened afresh for every batch through [`open_private_append`], so a file that is
/// rotated away is created again, and one replaced by a symbolic link or someone else's file is
/// refused (checked again each time). The whole batch goes out in one write on a file opened for
/// appending, so lines from several writers of the same file do not interleave mid-line. A batch
/// of any other kind of records is refused with [`io::ErrorKind::InvalidInput`].
pub fn append_to_file(path: &Path, batch: &Batch) -> Result<(), UnsafeFile> {
    let failed = |error: io::Error| UnsafeFile {
        path: path.to_path_buf(),
        problem: Problem::io(&error),
    };
    let Records::Ndjson(lines) = &batch.records else {
        return Err(failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "only NDJSON batches can be appended to a file",
        )));
    };
    let mut buf = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for line in lines {
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    }
    let mut file = open_private_append(path)?;
    file.write_all(&buf).map_err(failed)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::model::Process;

    fn snapshot() -> Snapshot {
        let mut evil = Process::example(7, "app");
        evil.cmdline = vec!["/tmp/x".to_owned(), "line\nbreak\x1b[2J".to_owned()];
        let mut snapshot = Snapshot::example(vec![Process::example(1, "root"), evil]);
        snapshot.host.tags = vec!["env:test".to_owned()];
        snapshot.collection.restricted = true;
        snapshot
    }

    /// A fresh directory for one test, removed at the end of the test if it passes.
    fn temp_dir(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wiretop-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn snapshot_is_one_line_that_parses_back_to_the_same_snapshot() {
        let snapshot = snapshot();
        let batch = encode_snapshot(&snapshot);
        assert_eq!(batch.class, Class::Snapshot);
        assert_eq!(batch.taken_at_ms, snapshot.host.taken_at_ms);
        let Records::Ndjson(lines) = &batch.records else {
            panic!("not ndjson: {:?}", batch.records);
        };
        assert_eq!(lines.len(), 1);
        assert!(!lines[0].contains('\n'));
        let back: Snapshot = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(back, snapshot);
    }

    #[test]
    fn line_matches_what_snapshot_format_json_prints() {
        let snapshot = snapshot();
        let mut printed = Vec::new();
        crate::output::write_json(&mut printed, &snapshot, false).unwrap();
        let Records::Ndjson(lines) = encode_snapshot(&snapshot).records else {
            panic!("not ndjson");
        };
        assert_eq!(format!("{}\n", lines[0]).into_bytes(), printed);
    }

    #[test]
    fn append_to_file_appends_each_batch_as_lines() {
        let dir = temp_dir("ndjson-append");
        let path = dir.join("out.ndjson");
        let snapshot = snapshot();
        let batch = encode_snapshot(&snapshot);
        append_to_file(&path, &batch).unwrap();
        append_to_file(&path, &batch).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for line in lines {
            assert_eq!(serde_json::from_str::<Snapshot>(line).unwrap(), snapshot);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn append_to_file_refuses_other_records() {
        let dir = temp_dir("ndjson-refuse");
        let path = dir.join("out.ndjson");
        let batch = Batch {
            class: Class::Snapshot,
            taken_at_ms: 0,
            records: Records::RemoteWrite(vec![vec![0x0a, 0]]),
        };
        let err = append_to_file(&path, &batch).unwrap_err();
        assert!(matches!(
            err.problem,
            Problem::Io(io::ErrorKind::InvalidInput, _)
        ));
        assert!(!path.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
