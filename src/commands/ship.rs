//! `wiretop ship`: the sampler feeding the uplink until SIGTERM or SIGINT, then a bounded
//! flush; with remote configuration on, the backend's settings polled and applied as they come.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::{self, Config, Effective};
use crate::sample::{RunningSampler, SampleOutcome, SamplerSettings};
use crate::uplink::remote_config::{next_poll_in, Poll, Poller, MIN_POLL_INTERVAL};
use crate::uplink::transport::Transport;
use crate::uplink::Uplink;

pub fn run(effective: &Effective) -> anyhow::Result<ExitCode> {
    super::init_logging();
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let config = &effective.config;
    let sampler_settings = SamplerSettings::from_config(config, None)?;
    let settings = Uplink::settings(config).context("setting up the uplink")?;
    let poll_every = remote_poll_every();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let uplink = Uplink::start(settings);
        for warning in uplink.status().warnings {
            tracing::warn!("{}", warning.message);
        }
        tracing::info!(
            endpoint = uplink.endpoint(),
            protocol = ?config.uplink.protocol,
            interval = %config.process_agent.interval,
            "shipping snapshots"
        );
        let submit = uplink.submitter();
        let sampler = crate::sample::spawn(sampler_settings, move |outcome| match outcome {
            SampleOutcome::Published(snapshot) => submit(Arc::clone(snapshot)),
            SampleOutcome::Failed(error) => tracing::error!("sampling failed: {error}"),
        })
        .context("starting the sampler")?;
        let sampler = Arc::new(sampler);
        let uplink = Arc::new(uplink);
        let poller_task = if config.process_agent.remote_config.enabled {
            let url =
                config.uplink.remote_config_url.as_deref().context(
                    "process_agent.remote_config.enabled needs uplink.remote_config_url",
                )?;
            let transport =
                Transport::new(&config.uplink, url).context("setting up remote configuration")?;
            let url = reqwest::Url::parse(url).context("uplink.remote_config_url")?;
            let poller = Poller::new(transport.client(), url);
            Some(tokio::spawn(poll_remote_config(
                poller,
                config.clone(),
                poll_every,
                Arc::clone(&sampler),
                Arc::clone(&uplink),
            )))
        } else {
            None
        };
        let signal = wait_for_stop_signal().await?;
        tracing::info!(
            "{signal}: stopping; flushing for at most {:?}",
            config.uplink.shutdown_timeout.0
        );
        if let Some(task) = poller_task {
            task.abort();
            let _ = task.await;
        }
        drop(sampler);
        let uplink = Arc::try_unwrap(uplink)
            .map_err(|_| anyhow::anyhow!("uplink still in use at shutdown"))?;
        let status = uplink.shutdown(Duration::from_secs(1)).await;
        let c = &status.counters;
        tracing::info!(
            produced = c.produced,
            sent = c.sent,
            retried = c.retried,
            dropped = c.dropped_total(),
            "uplink stopped"
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Polls the remote configuration for as long as the process runs, applying each new valid
/// document and keeping the last good one when a document is refused.
async fn poll_remote_config(
    mut poller: Poller,
    config: Config,
    every: Duration,
    sampler: Arc<RunningSampler>,
    uplink: Arc<Uplink>,
) {
    let mut rng = fastrand::Rng::new();
    let mut in_force: Option<String> = None;
    loop {
        match poller.poll().await {
            Ok(Poll::Unchanged) => {}
            Ok(Poll::Changed(remote)) => match SamplerSettings::from_config(&config, Some(&remote))
            {
                Ok(settings) => {
                    sampler.update(settings);
                    uplink.set_rate(
                        remote
                            .max_per_minute
                            .unwrap_or(config.process_agent.max_per_minute.0),
                    );
                    uplink.set_remote_version(remote.version.clone());
                    tracing::info!(version = %remote.version, "applied remote configuration");
                    in_force = Some(remote.version);
                }
                Err(e) => tracing::warn!("remote configuration rejected: {e:#}"),
            },
            Err(reason) => tracing::warn!(
                "remote configuration rejected: {reason}; keeping {}",
                in_force
                    .as_deref()
                    .map_or("the local settings".to_owned(), |v| format!("version {v}"))
            ),
        }
        tokio::time::sleep(next_poll_in(every, &mut rng)).await;
    }
}

/// How often to poll: once a minute. WIRETOP_REMOTE_CONFIG_POLL shortens it for tests only
/// (never below 100 ms); read once, at start.
fn remote_poll_every() -> Duration {
    std::env::var("WIRETOP_REMOTE_CONFIG_POLL")
        .ok()
        .and_then(|v| config::parse_duration(&v).ok())
        .map_or(MIN_POLL_INTERVAL, |d| d.max(Duration::from_millis(100)))
}

async fn wait_for_stop_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
