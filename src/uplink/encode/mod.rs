//! Turning snapshots into [`Batch`]es for each supported protocol.

pub mod ndjson;
pub mod otlp;
pub mod remote_write;
