//! wiretop: a terminal process explorer that shows every process with the network connections
//! it owns, and who is on the other end.
//!
//! Data flows one way: [`sample`] reads the operating system into a [`model::Snapshot`], which
//! the explorer, the printers in [`output`] and the uplink only ever read.
//!
//! Linux only: everything wiretop shows comes from /proc, netlink and cgroups, and a build for
//! another system would be a program with nothing to show.

#[cfg(not(target_os = "linux"))]
compile_error!("wiretop reads /proc, netlink and cgroups: it builds for Linux only");

pub mod baseline;
pub mod cli;
pub mod commands;
pub mod config;
pub mod escape;
pub mod files;
pub mod format;
pub mod history;
pub mod model;
pub mod output;
pub mod sample;
pub mod scrub;
pub mod suggest;
pub mod time;
pub mod ui;
pub mod uplink;
