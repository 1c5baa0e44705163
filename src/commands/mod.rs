//! What each subcommand does, given the parsed arguments and the configuration in force.
//! `main` only parses, loads the configuration and reports what comes back.

mod baseline;
pub mod docs;
mod events;
mod explore;
mod record;
mod ship;
mod snapshot;

pub use snapshot::BadTime;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::cli::{BaselineCommand, Cli, Command, ConfigCommand};
use crate::config::{self, Effective};

/// Exit status for arguments that cannot be used (as clap's own).
const EXIT_USAGE: u8 = 2;

/// The subcommands that need no configuration (so a broken one cannot keep a user from their
/// completions or manual): run them, or None for every other.
pub fn run_standalone(cli: &Cli) -> Option<anyhow::Result<ExitCode>> {
    match &cli.command {
        Some(Command::Completions { shell }) => Some(
            docs::run_completions(*shell)
                .map(|()| ExitCode::SUCCESS)
                .map_err(anyhow::Error::from),
        ),
        Some(Command::Man { subcommand }) => {
            let mut out = std::io::stdout().lock();
            Some(
                docs::man_page(subcommand, &mut out)
                    .and_then(|()| out.flush().map_err(anyhow::Error::from))
                    .map(|()| ExitCode::SUCCESS),
            )
        }
        _ => None,
    }
}

/// Runs the subcommand `cli` names (the explorer without one).
pub fn run(cli: Cli, effective: &Effective) -> anyhow::Result<ExitCode> {
    // `--baseline` before the subcommand is the explorer's; `snapshot` takes it either side.
    if cli.baseline.is_some() && !matches!(cli.command, None | Some(Command::Snapshot(_))) {
        eprintln!(
            "wiretop: --baseline FILE is for the explorer (`wiretop --baseline FILE`) and \
             `wiretop snapshot --baseline FILE`"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    match cli.command {
        Some(Command::Completions { .. } | Command::Man { .. }) => {
            run_standalone(&cli).unwrap_or(Ok(ExitCode::SUCCESS))
        }
        Some(Command::Snapshot(args)) => {
            let baseline = args.baseline.as_deref().or(cli.baseline.as_deref());
            snapshot::run(effective, &args, baseline).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Baseline(BaselineCommand::Save { file })) => {
            baseline::save(effective, &file).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Schema) => {
            let schema = schemars::schema_for!(crate::model::Snapshot);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ship) => ship::run(effective),
        Some(Command::Record(args)) => record::run(effective, &args.file),
        Some(Command::Events(args)) => events::run(effective, &args).map(|()| ExitCode::SUCCESS),
        Some(Command::Config(ConfigCommand::Check)) => {
            print!("{}", config::render_check(effective));
            Ok(ExitCode::SUCCESS)
        }
        None => explore::run(effective, cli.baseline.as_deref()),
    }
}

/// Why collection is off, naming where that was decided.
fn disabled_reason(effective: &Effective) -> Option<String> {
    if effective.config.process_agent.enabled {
        return None;
    }
    let source = effective
        .leaves
        .get("process_agent.enabled")
        .map_or_else(|| "default".to_owned(), |(_, source)| source.to_string());
    Some(format!(
        "process collection is disabled by the configuration (process_agent.enabled: false, from {source})"
    ))
}

/// Logs to stderr (journald picks it up under systemd). Level from WIRETOP_LOG (default info).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WIRETOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
