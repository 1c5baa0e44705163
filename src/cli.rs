//! Command-line arguments. Flags are the last configuration layer: they override the files and
//! the environment (see `config.example.yaml`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// wiretop: every process, the connections it owns, and who is on the other end.
///
/// Without a subcommand, opens the interactive explorer (q quits, ? lists every key).
#[derive(Debug, Parser)]
#[command(name = "wiretop", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Configuration file, read after /etc/wiretop/config.yaml and the user's own.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Time between samples (e.g. 500ms, 2s, 1m) [config: process_agent.interval].
    #[arg(long, global = true, value_parser = check_interval)]
    pub interval: Option<String>,

    /// Skip sockets and ownership (cheaper; processes only)
    /// [config: process_agent.collect_connections].
    #[arg(long, global = true)]
    pub no_connections: bool,

    /// Explorer: no colours (also set by NO_COLOR) [config: ui.theme: mono].
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Explorer: mark processes outside this baseline as unexpected (`wiretop baseline save`
    /// writes one).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print one snapshot (processes, sockets, peers) and exit.
    Snapshot(SnapshotArgs),
    /// Ship snapshots to the configured backend (uplink.*) until SIGTERM: headless, logs to
    /// stderr (WIRETOP_LOG=debug for more).
    Ship,
    /// Record snapshots to FILE until SIGTERM or SIGINT: headless, logs to stderr.
    ///
    /// Each sample is appended to FILE, compressed, as changes since the one before with a full
    /// sample every 60; `wiretop snapshot --from FILE --at TIME` reads them back. FILE is
    /// created 0600 (an existing recording of yours is appended to; a symbolic link, another
    /// user's file or a file that is not a recording is refused) and rotated to FILE.1 by size
    /// and age (record.max_size, record.max_age, record.keep). A full disk stops the recording
    /// with a message and exit status 1; what was recorded stays readable.
    Record(RecordArgs),
    /// Print what happens (processes starting and exiting, ports opened and closed, first
    /// connections to new destinations, exec and setuid) as it is seen, until interrupted: one
    /// JSON object a line, or a table for people.
    Events(EventsArgs),
    /// Print the JSON Schema of the snapshot document.
    Schema,
    /// Record what is normal on this host, for `--baseline FILE` to mark what is not.
    ///
    /// A baseline lists executables with their users, the ports they listen on and the
    /// destinations they connect to (see the README).
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell), e.g.
    /// `wiretop completions bash > ~/.local/share/bash-completion/completions/wiretop`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a manual page (roff): wiretop's own, or a subcommand's (`wiretop man snapshot`,
    /// `wiretop man config check`). `wiretop man | man -l -` reads it.
    Man {
        /// The subcommand, as typed after `wiretop`.
        subcommand: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Take one snapshot and save what runs, listens and connects in it to FILE.
    ///
    /// Executables with their users, listening ports and outbound destinations, as documented
    /// YAML to edit by hand (mode 0600). An existing FILE of yours is replaced whole; a symbolic
    /// link or another user's file is refused.
    Save {
        /// Where to save it.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print every value in force with its source (secrets
    /// masked). Exits 0 when valid, 2 when not.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The full snapshot as one JSON document.
    Json,
    /// An aligned table, like ps and ss joined.
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsFormat {
    /// One JSON object a line (the `events` items of the snapshot schema).
    Json,
    /// Aligned lines for people.
    Table,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Output format [default: json when stdout is not a terminal, else table].
    #[arg(long, value_enum)]
    pub format: Option<EventsFormat>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The recording to append to (created if missing).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Output format [default: json when stdout is not a terminal, else table].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Only this process.
    #[arg(long)]
    pub pid: Option<u32>,

    /// Only processes that listen on or connect to this port (either end).
    #[arg(long)]
    pub port: Option<u16>,

    /// Only processes of this user (name or uid).
    #[arg(long)]
    pub user: Option<String>,

    /// Table: list each process's sockets under it.
    #[arg(long, short = 's')]
    pub sockets: bool,

    /// JSON: indent for reading.
    #[arg(long)]
    pub pretty: bool,

    /// Mark processes outside this baseline (`unexpected`, with `unexpected_reasons`), and
    /// count as `new` those started after it was saved.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Print a recorded sample from this recording (`wiretop record FILE`) instead of taking
    /// one; older samples are looked for in FILE.1, FILE.2 ... too.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,

    /// With --from: the sample nearest to TIME: RFC 3339 (2026-11-29T03:12:00Z), a local
    /// HH:MM[:SS] today, or -5m (back from the last sample) [default: the last sample].
    #[arg(
        long,
        value_name = "TIME",
        requires = "from",
        allow_hyphen_values = true
    )]
    pub at: Option<String>,
}

impl Cli {
    /// The flags that set configuration keys: (key path, value, flag as typed).
    pub fn config_flags(&self) -> Vec<(String, String, String)> {
        let mut flags = Vec::new();
        if let Some(interval) = &self.interval {
            flags.push((
                "process_agent.interval".into(),
                interval.clone(),
                "--interval".into(),
            ));
        }
        if self.no_connections {
            flags.push((
                "process_agent.collect_connections".into(),
                "false".into(),
                "--no-connections".into(),
            ));
        }
        if self.no_color {
            flags.push(("ui.theme".into(), "mono".into(), "--no-color".into()));
        }
        flags
    }
}

/// Checks an interval the same way the configuration file does, keeping the text as given.
fn check_interval(text: &str) -> Result<String, String> {
    crate::config::parse_interval(text).map(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_are_checked_like_the_file_does() {
        assert_eq!(check_interval("2s"), Ok("2s".to_owned()));
        assert!(check_interval("10ms").unwrap_err().contains("minimum"));
        assert!(check_interval("soon").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
