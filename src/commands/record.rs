//! `wiretop record FILE`: the sampler feeding a [`Recorder`] until SIGTERM or SIGINT. The
//! sampler's callback only hands each snapshot over a channel; this thread writes, so a slow
//! disk delays the recording, never the sampler.

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, TrySendError};
use std::sync::Arc;

use anyhow::Context;

use crate::config::Effective;
use crate::history::{Recorder, RecorderSettings};
use crate::model::Snapshot;
use crate::sample::{SampleOutcome, SamplerSettings};

/// Snapshots waiting for the writer; past this the newest are dropped (and counted) rather
/// than held in memory behind a stalled disk.
const QUEUE: usize = 8;

enum Message {
    Sample(Arc<Snapshot>),
    Stop(&'static str),
}

pub fn run(effective: &Effective, file: &Path) -> anyhow::Result<ExitCode> {
    super::init_logging();
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let config = &effective.config;
    let sampler_settings = SamplerSettings::from_config(config, None)?;
    let mut recorder = Recorder::open(file, RecorderSettings::from_config(config))?;
    for notice in recorder.take_notices() {
        tracing::warn!("{notice}");
    }
    let (sender, receiver) = mpsc::sync_channel::<Message>(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let sampler = {
        let sender = sender.clone();
        let dropped = Arc::clone(&dropped);
        crate::sample::spawn(sampler_settings, move |outcome| match outcome {
            SampleOutcome::Published(snapshot) => {
                if let Err(TrySendError::Full(_)) =
                    sender.try_send(Message::Sample(Arc::clone(snapshot)))
                {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            SampleOutcome::Failed(error) => tracing::error!("sampling failed: {error}"),
        })
        .context("starting the sampler")?
    };
    forward_stop_signals(sender)?;
    tracing::info!(
        file = %file.display(),
        interval = %config.process_agent.interval,
        max_size = config.record.max_size.0,
        max_age = %config.record.max_age,
        "recording"
    );
    let mut reported_drops = 0;
    let outcome = loop {
        match receiver.recv() {
            Ok(Message::Sample(snapshot)) => {
                if let Err(error) = recorder.record(&snapshot) {
                    break Err(error);
                }
                for notice in recorder.take_notices() {
                    tracing::info!("{notice}");
                }
                let dropped = dropped.load(Ordering::Relaxed);
                if dropped > reported_drops {
                    tracing::warn!(
                        dropped = dropped - reported_drops,
                        "the disk is slower than the sampler: samples were left out"
                    );
                    reported_drops = dropped;
                }
            }
            Ok(Message::Stop(signal)) => {
                tracing::info!("{signal}: stopping");
                break Ok(());
            }
            Err(mpsc::RecvError) => break Ok(()),
        }
    };
    sampler.stop();
    let stats = recorder.stats();
    tracing::info!(
        samples = stats.samples,
        keyframes = stats.keyframes,
        bytes = stats.bytes,
        rotations = stats.rotations,
        "recording stopped"
    );
    match outcome {
        Ok(()) => {
            recorder.finish()?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let _ = recorder.finish();
            Err(anyhow::Error::new(error).context(format!(
                "recording stopped after {} samples this run",
                stats.samples
            )))
        }
    }
}

/// A thread that turns the first SIGTERM or SIGINT into a Stop message.
fn forward_stop_signals(sender: mpsc::SyncSender<Message>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("installing the SIGTERM and SIGINT handlers")?;
    std::thread::Builder::new()
        .name("wiretop-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                let _ = sender.send(Message::Stop(name));
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}
