//! The interactive explorer (no subcommand), with the uplink beside it when it is enabled.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::{Effective, ThemeName};
use crate::sample::SamplerSettings;
use crate::ui::{ExitReason, ExplorerOptions, SnapshotHook};
use crate::uplink::Uplink;

/// Runs the explorer; with `baseline` (read first, before the terminal is looked at or taken
/// over, so a bad file is reported as a plain error), marking what is outside it.
pub fn run(effective: &Effective, baseline: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = &effective.config;
    let baseline = baseline
        .map(crate::baseline::load)
        .transpose()?
        .map(Arc::new);
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the explorer needs a terminal; for output to a pipe or file use `wiretop snapshot`"
        );
    }
    let settings = SamplerSettings {
        baseline: baseline.clone(),
        ..SamplerSettings::from_config(config, None)?
    };
    // The uplink beside the explorer runs on its own small runtime, only when enabled; its logs
    // would corrupt the screen, so none are printed (its state shows in the header).
    let uplink = if config.uplink.enabled && config.process_agent.enabled {
        let settings = Uplink::settings(config).context("setting up the uplink")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let uplink = {
            let _entered = runtime.enter();
            Uplink::start(settings)
        };
        Some((runtime, uplink))
    } else {
        None
    };
    let options = ExplorerOptions {
        no_color: config.ui.theme == ThemeName::Mono,
        sort: config.ui.sort,
        columns: config.ui.columns.clone(),
        disabled: super::disabled_reason(effective),
        uplink: uplink.as_ref().map(|(_, u)| {
            let hook: SnapshotHook = Box::new(u.submitter());
            (hook, u.status_handle())
        }),
        baseline,
        exited_linger: config.ui.exited_linger.0,
        // The chooser saves where the user's own file is read from, whatever --config says.
        config_file: crate::config::LoadOptions::from_environment(None, Vec::new()).user_file,
    };
    let reason = crate::ui::run(settings, options);
    if let Some((runtime, uplink)) = uplink {
        runtime.block_on(uplink.shutdown(Duration::from_secs(1)));
    }
    match reason? {
        ExitReason::Quit => Ok(ExitCode::SUCCESS),
        // Stopped by a signal: exit as shells expect a signalled program to (128 + signal).
        ExitReason::Signal(signal) => Ok(ExitCode::from(
            u8::try_from(128 + signal).unwrap_or(u8::MAX),
        )),
    }
}
