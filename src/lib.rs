//! wiretop: a terminal process explorer that shows every process with the network connections
//! it owns, and who is on the other end.
//!
//! Data flows one way: [`sample`] reads the operating system into a [`model::Snapshot`], which
//! the explorer, the printers in [`output`] and the uplink only ever read.

pub mod cli;
pub mod commands;
pub mod config;
pub mod escape;
pub mod files;
pub mod format;
pub mod model;
pub mod output;
pub mod sample;
pub mod scrub;
pub mod suggest;
pub mod time;
pub mod ui;
pub mod uplink;
