//! A sample as bytes, whole or as its changes since the previous sample: the payload of a
//! block before compression (see [`super::format`] for the blocks themselves).
//!
//! Layout of a payload (all numbers are LEB128 varints unless said otherwise):
//!
//! ```text
//! head      blob: MessagePack of schema_version, host, unowned_sockets, collection, events
//! count     how many processes the sample has
//! process*  in the sample's order (by pid):
//!   0, blob                 the whole process, MessagePack (new, or its identity changed)
//!   1, pid change, changes  the process of the previous sample with this pid and the same
//!                           identity: its numbers and connections as changes (process.rs)
//! ```
//!
//! A keyframe is the same layout with no previous sample: every process whole. A process of
//! the previous sample that is not listed has gone. MessagePack keeps every value exactly (a
//! float's 64 bits, NaN included) and names each field, so a field added later to the model
//! with a default still reads from an older file; the hand-written changes in process.rs carry
//! no names and change only with the format version.

mod process;
mod wire;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::{Collection, Host, LifecycleEvent, Process, Snapshot, UnownedSocket};

pub use wire::WireError;
use wire::{Reader, Writer};

/// Why a sample could not be written (MessagePack refused a value: never seen in practice, but
/// not a reason to panic).
#[derive(Debug, thiserror::Error)]
#[error("encoding the sample: {0}")]
pub struct EncodeError(String);

const WHOLE: u8 = 0;
const CHANGES: u8 = 1;

/// The parts of a snapshot written whole in every sample.
#[derive(Serialize)]
struct HeadOut<'a> {
    schema_version: u32,
    host: &'a Host,
    unowned_sockets: &'a [UnownedSocket],
    collection: &'a Collection,
    events: &'a [LifecycleEvent],
}

#[derive(Deserialize)]
struct HeadIn {
    schema_version: u32,
    host: Host,
    unowned_sockets: Vec<UnownedSocket>,
    collection: Collection,
    events: Vec<LifecycleEvent>,
}

/// Appends `snapshot` to `out`: whole when `previous` is None (a keyframe), else as changes
/// since `previous`, which the reader must hold to read it back.
pub fn encode(
    snapshot: &Snapshot,
    previous: Option<&Snapshot>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let mut scratch = Vec::new();
    let mut w = Writer::new(out);
    let head = HeadOut {
        schema_version: snapshot.schema_version,
        host: &snapshot.host,
        unowned_sockets: &snapshot.unowned_sockets,
        collection: &snapshot.collection,
        events: &snapshot.events,
    };
    to_blob(&mut w, &mut scratch, &head)?;
    w.varint(snapshot.processes.len() as u64);
    let mut last_pid = 0u32;
    for process in &snapshot.processes {
        let before = previous
            .and_then(|p| p.process(process.pid))
            .filter(|before| process::same_identity(process, before));
        match before {
            Some(before) => {
                w.byte(CHANGES);
                w.change(u64::from(process.pid), u64::from(last_pid));
                process::write_changes(&mut w, &mut scratch, process, before)?;
            }
            None => {
                w.byte(WHOLE);
                to_blob(&mut w, &mut scratch, process)?;
            }
        }
        last_pid = process.pid;
    }
    Ok(())
}

/// Reads a payload [`encode`] wrote, given the sample it was written against (None for a
/// keyframe; a payload of changes without it is an error).
pub fn decode(payload: &[u8], previous: Option<&Snapshot>) -> Result<Snapshot, WireError> {
    let mut r = Reader::new(payload);
    let head: HeadIn = from_blob(r.blob()?)?;
    let count = r.count()?;
    let mut processes = Vec::with_capacity(count);
    let mut last_pid = 0u32;
    for _ in 0..count {
        let process: Process = match r.byte()? {
            WHOLE => from_blob(r.blob()?)?,
            CHANGES => {
                let pid = r.change_u32(last_pid)?;
                let previous = previous.ok_or_else(|| {
                    WireError::Invalid("changes in a sample that has no previous one".to_owned())
                })?;
                let before = previous.process(pid).ok_or_else(|| {
                    WireError::Invalid(format!("changes to pid {pid}, absent before"))
                })?;
                process::read_changes(&mut r, before)?
            }
            other => return Err(WireError::Invalid(format!("process record {other}"))),
        };
        last_pid = process.pid;
        processes.push(process);
    }
    if !r.is_at_end() {
        return Err(WireError::Invalid(
            "bytes after the last process".to_owned(),
        ));
    }
    Ok(Snapshot {
        schema_version: head.schema_version,
        host: head.host,
        processes,
        unowned_sockets: head.unowned_sockets,
        collection: head.collection,
        events: head.events,
    })
}

/// Writes `value` as a MessagePack blob: maps with field names, and the human-readable forms
/// (addresses as text), the forms serde's buffering of flattened and tagged fields expects.
fn to_blob<T: Serialize + ?Sized>(
    w: &mut Writer<'_>,
    scratch: &mut Vec<u8>,
    value: &T,
) -> Result<(), EncodeError> {
    scratch.clear();
    let mut serializer = rmp_serde::Serializer::new(&mut *scratch)
        .with_struct_map()
        .with_human_readable();
    value
        .serialize(&mut serializer)
        .map_err(|e| EncodeError(e.to_string()))?;
    w.blob(scratch);
    Ok(())
}

fn from_blob<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WireError> {
    let mut deserializer = rmp_serde::Deserializer::from_read_ref(bytes).with_human_readable();
    T::deserialize(&mut deserializer).map_err(|e| WireError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests;
