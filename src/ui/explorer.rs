//! Wiring the explorer: the terminal, the feeders, the app, and the main loop between them.

use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use crate::baseline::Baseline;
use crate::sample::SamplerSettings;
use crate::uplink::UplinkStatus;

use super::app::{App, AppOptions, KillSignaller};
use super::columns::Column;
use super::event_loop::{run_main_loop, Drawing, Hooks, LoopEnd};
use super::feeders::{self, SnapshotHook};
use super::state::Sort;
use super::terminal::{restore_on_panic, TerminalGuard};
use super::theme::Theme;

/// How the explorer is started.
pub struct ExplorerOptions {
    pub no_color: bool,
    /// Initial sort column.
    pub sort: Column,
    /// Columns shown, in order.
    pub columns: Vec<Column>,
    /// Collection is switched off: show this instead of sampling.
    pub disabled: Option<String>,
    /// The uplink beside the explorer: where snapshots go, and its state for the header.
    pub uplink: Option<(SnapshotHook, Arc<Mutex<UplinkStatus>>)>,
    /// `--baseline FILE`, loaded: every snapshot is judged against it (see [`App::judgement`]).
    pub baseline: Option<Arc<Baseline>>,
    /// How long an exited process stays listed (`ui.exited_linger`).
    pub exited_linger: Duration,
    /// Where the column chooser saves `ui.columns` when asked.
    pub config_file: Option<std::path::PathBuf>,
}

/// Why the explorer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitReason {
    /// The user quit.
    Quit,
    /// A signal asked us to stop: exit with 128 + its number, as shells expect.
    Signal(i32),
}

/// Runs the explorer until the user quits or a signal arrives.
pub fn run(settings: SamplerSettings, options: ExplorerOptions) -> anyhow::Result<ExitReason> {
    let hooks = Hooks::from_env();
    let (tx, rx) = mpsc::channel();
    feeders::signals(tx.clone())?;
    restore_on_panic();

    // The guard comes second so that it is dropped first: it restores the terminal (or, when
    // the terminal is gone, detaches from it) before ratatui's own drop writes to it.
    let mut terminal =
        Terminal::new(CrosstermBackend::new(io::stdout())).context("opening the terminal")?;
    let _guard = TerminalGuard::enter().context("setting up the terminal")?;
    feeders::input(tx.clone())?;

    let (hook, uplink) = match options.uplink {
        Some((hook, status)) => (Some(hook), Some(status)),
        None => (None, None),
    };
    let sampler = match options.disabled {
        Some(_) => None,
        None => Some(feeders::sampler(settings, tx, hook)?),
    };
    let mut app = App::new(AppOptions {
        sort: Sort::natural(options.sort),
        columns: options.columns,
        disabled: options.disabled,
        uplink,
        baseline: options.baseline,
        exited_linger: options.exited_linger,
        signaller: Box::new(KillSignaller),
        config_file: options.config_file,
    });
    let theme = Theme::from_env(options.no_color);
    let drawing = Drawing {
        theme: &theme,
        now_ms: &crate::time::now_ms,
    };
    let end = run_main_loop(&mut terminal, &mut app, &rx, &drawing, hooks);
    // Stop sampling before restoring, so nothing else touches the terminal afterwards.
    if let Some(sampler) = sampler {
        sampler.stop();
    }
    match end? {
        LoopEnd::Quit => Ok(ExitReason::Quit),
        LoopEnd::Signal(signal) => Ok(ExitReason::Signal(signal)),
        LoopEnd::InputClosed(why) => anyhow::bail!("terminal input closed: {why}"),
    }
}
