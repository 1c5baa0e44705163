//! The explorer's three feeders, each on its own thread, all sending into one channel of
//! [`Event`]s: the terminal's input, the signals that stop us, and the sampler.

use std::sync::mpsc::Sender;
use std::sync::Arc;

use anyhow::Context;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::model::Snapshot;
use crate::sample::{self, RunningSampler, SampleOutcome, SamplerSettings};

use super::event_loop::Event;

/// Also hands each snapshot to the uplink when it runs beside the explorer.
pub type SnapshotHook = Box<dyn Fn(Arc<Snapshot>) + Send + Sync>;

/// SIGTERM, SIGHUP and SIGINT become an [`Event::Signal`]. Installed first, so that a signal
/// during start-up still restores the terminal.
pub fn signals(events: Sender<Event>) -> anyhow::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])
        .context("installing signal handlers")?;
    std::thread::Builder::new()
        .name("wiretop-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _ = events.send(Event::Signal(signal));
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// Every key, mouse and resize event of the terminal; [`Event::InputClosed`] when it ends.
pub fn input(events: Sender<Event>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("wiretop-input".to_owned())
        .spawn(move || loop {
            match crossterm::event::read() {
                Ok(event) => {
                    if events.send(Event::Terminal(event)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = events.send(Event::InputClosed(e.to_string()));
                    return;
                }
            }
        })
        .context("starting the input thread")?;
    Ok(())
}

/// The sampler, publishing each snapshot to the loop (and to `hook`, the uplink, first).
pub fn sampler(
    settings: SamplerSettings,
    events: Sender<Event>,
    hook: Option<SnapshotHook>,
) -> anyhow::Result<RunningSampler> {
    sample::spawn(settings, move |outcome| {
        let event = match outcome {
            SampleOutcome::Published(snapshot) => {
                if let Some(hook) = &hook {
                    hook(Arc::clone(snapshot));
                }
                Event::Snapshot(Arc::clone(snapshot))
            }
            SampleOutcome::Failed(error) => Event::SampleFailed(error.to_string()),
        };
        let _ = events.send(event);
    })
    .context("starting the sampler")
}
