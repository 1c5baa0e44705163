//! The `wiretop` command: parses the arguments, loads the configuration, runs the subcommand
//! (`wiretop::commands`) and turns what comes back into an exit status.

use std::process::ExitCode;

use clap::Parser;

use wiretop::baseline::BaselineError;
use wiretop::cli::Cli;
use wiretop::commands::BadTime;
use wiretop::config::{self, LoadOptions};
use wiretop::history::{LookupError, WriteError};
use wiretop::uplink::transport::SetupError;

/// Exit status for a configuration (or a baseline, a recording, a time) that cannot be used, as
/// for bad arguments.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(result) = wiretop::commands::run_standalone(&cli) {
        return result.unwrap_or_else(|e| report(&e));
    }
    let options = LoadOptions::from_environment(cli.config.clone(), cli.config_flags());
    let effective = match config::load(&options) {
        Ok(effective) => effective,
        Err(e) => {
            eprintln!("wiretop: configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match wiretop::commands::run(cli, &effective) {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// One line on stderr for what went wrong, and the exit status that goes with it.
fn report(error: &anyhow::Error) -> ExitCode {
    // A closed pipe (`wiretop snapshot | head`) is the reader's choice, not a failure.
    if error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    {
        return ExitCode::SUCCESS;
    }
    // The uplink's settings are configuration too (a key file that is a FIFO, a sink that is a
    // symlink): exit as for any other configuration error.
    if error.downcast_ref::<SetupError>().is_some() {
        eprintln!("wiretop: configuration error: {error:#}");
        return ExitCode::from(EXIT_CONFIG);
    }
    // A baseline that cannot be read, or a place it may not be saved, is a bad argument too.
    if let Some(baseline) = error.downcast_ref::<BaselineError>() {
        eprintln!("wiretop: baseline error: {error:#}");
        return if baseline.is_refusal() {
            ExitCode::from(EXIT_CONFIG)
        } else {
            ExitCode::FAILURE
        };
    }
    // A recording that may not be written, or read (not a recording, a later format), and a
    // time that is not one or lies outside the recording: bad arguments too.
    let bad_input = error
        .downcast_ref::<WriteError>()
        .is_some_and(WriteError::is_refusal)
        || error
            .downcast_ref::<LookupError>()
            .is_some_and(LookupError::is_bad_input)
        || error.downcast_ref::<BadTime>().is_some();
    eprintln!("wiretop: error: {error:#}");
    if bad_input {
        ExitCode::from(EXIT_CONFIG)
    } else {
        ExitCode::FAILURE
    }
}
