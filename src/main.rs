use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

mod cli;

use cli::{Cli, Command, ConfigCommand, Format, SnapshotArgs};
use wiretop::config::{self, Config, Effective, LoadOptions, ThemeName};
use wiretop::model::ProcessQuery;
use wiretop::output::{write_json, write_table, TableOptions};
use wiretop::sample::{sample_once, SamplerSettings};
use wiretop::scrub::{ScrubOptions, Scrubber};
use wiretop::ui::{ExitReason, ExplorerOptions};
use wiretop::uplink::remote_config::{next_poll_in, Poll, Poller, RemoteSettings};
use wiretop::uplink::transport::SetupError;

/// Printed once on stderr when some processes could not be inspected.
const PRIVILEGE_HINT: &str =
    "wiretop: some processes could not be inspected (marked in `unreadable`); \
run as root, or grant CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, to see them all";

/// Exit status for a configuration that cannot be used, as for bad arguments.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let options = LoadOptions::from_environment(cli.config.clone(), cli.config_flags());
    let effective = match config::load(&options) {
        Ok(effective) => effective,
        Err(e) => {
            eprintln!("wiretop: configuration error: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match run(cli, effective) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`wiretop snapshot | head`) is the reader's choice, not a failure.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            // The uplink's settings are configuration too (a key file that is a FIFO, a sink
            // that is a symlink): exit as for any other configuration error.
            if e.downcast_ref::<SetupError>().is_some() {
                eprintln!("wiretop: configuration error: {e:#}");
                return ExitCode::from(EXIT_CONFIG);
            }
            eprintln!("wiretop: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn scrub_options(config: &Config) -> ScrubOptions {
    ScrubOptions {
        scrub_args: config.process_agent.scrub_args,
        custom_sensitive_words: config
            .process_agent
            .custom_sensitive_words
            .iter()
            .map(|w| w.0.clone())
            .collect(),
        strip_proc_arguments: config.process_agent.strip_proc_arguments,
    }
}

fn sampler_settings(config: &Config) -> anyhow::Result<SamplerSettings> {
    sampler_settings_with(config, None)
}

/// The sampler's settings: the local configuration, with the allowlisted remote settings laid
/// over it (replacing interval and collect_connections, adding tags, patterns and words).
fn sampler_settings_with(
    config: &Config,
    remote: Option<&RemoteSettings>,
) -> anyhow::Result<SamplerSettings> {
    let agent = &config.process_agent;
    let mut scrub = scrub_options(config);
    let mut exclude: Vec<regex::Regex> =
        agent.exclude_patterns.iter().map(|p| p.0.clone()).collect();
    let mut tags = config.tag_strings();
    if let Some(remote) = remote {
        scrub
            .custom_sensitive_words
            .extend(remote.custom_sensitive_words.iter().cloned());
        exclude.extend(remote.exclude_patterns.iter().cloned());
        tags.extend(
            remote
                .tags
                .iter()
                .filter(|t| !tags.contains(t))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
    Ok(SamplerSettings {
        interval: remote.and_then(|r| r.interval).unwrap_or(agent.interval.0),
        collect_connections: remote
            .and_then(|r| r.collect_connections)
            .unwrap_or(agent.collect_connections),
        scrubber: Arc::new(Scrubber::new(&scrub)?),
        exclude,
        tags,
    })
}

fn run(cli: Cli, effective: Effective) -> anyhow::Result<ExitCode> {
    let config = &effective.config;
    match cli.command {
        Some(Command::Snapshot(args)) => snapshot(&effective, &args).map(|()| ExitCode::SUCCESS),
        Some(Command::Schema) => {
            let schema = schemars::schema_for!(wiretop::model::Snapshot);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &schema)?;
            writeln!(out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Ship) => ship(&effective),
        Some(Command::Config(ConfigCommand::Check)) => {
            print!("{}", config::render_check(&effective));
            Ok(ExitCode::SUCCESS)
        }
        None => explore(config, &effective),
    }
}

/// `wiretop ship`: the sampler feeding the uplink until SIGTERM or SIGINT, then a bounded
/// flush.
fn ship(effective: &Effective) -> anyhow::Result<ExitCode> {
    init_logging();
    if let Some(reason) = disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let config = &effective.config;
    let settings = wiretop::uplink::Uplink::settings(config).context("setting up the uplink")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let uplink = wiretop::uplink::Uplink::start(settings);
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
        let sampler =
            wiretop::sample::spawn(sampler_settings(config)?, move |outcome| match outcome {
                wiretop::sample::SampleOutcome::Published(snapshot) => submit(Arc::clone(snapshot)),
                wiretop::sample::SampleOutcome::Failed(error) => {
                    tracing::error!("sampling failed: {error}")
                }
            })
            .context("starting the sampler")?;
        let sampler = Arc::new(sampler);
        let uplink = Arc::new(uplink);
        let poller_task = if config.process_agent.remote_config.enabled {
            let url =
                config.uplink.remote_config_url.as_deref().context(
                    "process_agent.remote_config.enabled needs uplink.remote_config_url",
                )?;
            let transport = wiretop::uplink::transport::Transport::new(&config.uplink, url)
                .context("setting up remote configuration")?;
            let url = reqwest::Url::parse(url).context("uplink.remote_config_url")?;
            let poller = Poller::new(transport.client(), url);
            Some(tokio::spawn(poll_remote_config(
                poller,
                config.clone(),
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
        let status = uplink.shutdown(std::time::Duration::from_secs(1)).await;
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
    sampler: Arc<wiretop::sample::RunningSampler>,
    uplink: Arc<wiretop::uplink::Uplink>,
) {
    let mut rng = fastrand::Rng::new();
    let mut in_force: Option<String> = None;
    loop {
        match poller.poll().await {
            Ok(Poll::Unchanged) => {}
            Ok(Poll::Changed(remote)) => match sampler_settings_with(&config, Some(&remote)) {
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
        tokio::time::sleep(next_poll_in(remote_poll_every(), &mut rng)).await;
    }
}

/// How often to poll: once a minute. WIRETOP_REMOTE_CONFIG_POLL shortens it for tests only
/// (never below 100 ms).
fn remote_poll_every() -> std::time::Duration {
    std::env::var("WIRETOP_REMOTE_CONFIG_POLL")
        .ok()
        .and_then(|v| config::parse_duration(&v).ok())
        .map_or(wiretop::uplink::remote_config::MIN_POLL_INTERVAL, |d| {
            d.max(std::time::Duration::from_millis(100))
        })
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

/// Why collection is off, naming where that was decided.
fn disabled_reason(effective: &Effective) -> Option<String> {
    if effective.config.process_agent.enabled {
        return None;
    }
    let source = &effective.leaves["process_agent.enabled"].1;
    Some(format!(
        "process collection is disabled by the configuration (process_agent.enabled: false, from {source})"
    ))
}

/// The interactive explorer (no subcommand).
fn explore(config: &Config, effective: &Effective) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the explorer needs a terminal; for output to a pipe or file use `wiretop snapshot`"
        );
    }
    // The uplink beside the explorer runs on its own small runtime, only when enabled; its logs
    // would corrupt the screen, so none are printed (its state shows in the header).
    let uplink = if config.uplink.enabled && config.process_agent.enabled {
        let settings =
            wiretop::uplink::Uplink::settings(config).context("setting up the uplink")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let uplink = {
            let _entered = runtime.enter();
            wiretop::uplink::Uplink::start(settings)
        };
        Some((runtime, uplink))
    } else {
        None
    };
    let options = ExplorerOptions {
        no_color: config.ui.theme == ThemeName::Mono,
        sort: config.ui.sort,
        columns: config.ui.columns.clone(),
        disabled: disabled_reason(effective),
        uplink: uplink.as_ref().map(|(_, u)| {
            let hook: wiretop::ui::SnapshotHook = Box::new(u.submitter());
            (hook, u.status_handle())
        }),
    };
    let reason = wiretop::ui::run(sampler_settings(config)?, options);
    if let Some((runtime, uplink)) = uplink {
        runtime.block_on(uplink.shutdown(std::time::Duration::from_secs(1)));
    }
    match reason? {
        ExitReason::Quit => Ok(ExitCode::SUCCESS),
        // Stopped by a signal: exit as shells expect a signalled program to (128 + signal).
        ExitReason::Signal(signal) => Ok(ExitCode::from(128u8.saturating_add(signal as u8))),
    }
}

fn snapshot(effective: &Effective, args: &SnapshotArgs) -> anyhow::Result<()> {
    if let Some(reason) = disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let settings = sampler_settings(&effective.config)?;
    let snapshot = sample_once(&settings).context("taking a snapshot")?;
    if snapshot.collection.restricted {
        eprintln!("{PRIVILEGE_HINT}");
    }
    let query = ProcessQuery {
        pid: args.pid,
        port: args.port,
        user: args.user.clone(),
    };
    let snapshot = query.apply(&snapshot);
    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Json
    });
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => write_json(&mut out, &snapshot, args.pretty)?,
        Format::Table => write_table(
            &mut out,
            &snapshot,
            TableOptions {
                sockets: args.sockets,
            },
        )?,
    }
    out.flush()?;
    Ok(())
}
