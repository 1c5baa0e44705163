//! The interactive explorer: a ratatui + crossterm front end over the sampler's snapshots.
//!
//! Three feeders (the sampler thread, a blocking input reader, a signal watcher) send events
//! into one channel; the loop here applies each to the [`app::App`] and draws a frame only when
//! something visible changed. Nothing here reads /proc or waits for a scan.

pub mod app;
pub mod column_chooser;
pub mod columns;
pub mod cpu_meters;
pub mod event_loop;
pub mod events;
mod explorer;
mod feeders;
pub mod ghosts;
pub mod groups;
pub mod keys;
pub mod layout;
pub mod marks;
pub mod remote_hosts;
pub mod render;
pub mod rows;
pub mod state;
mod terminal;
pub mod theme;

#[cfg(test)]
mod fixture;

pub use explorer::{run, ExitReason, ExplorerOptions};
pub use feeders::SnapshotHook;
