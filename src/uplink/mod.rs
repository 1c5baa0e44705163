//! The uplink: ships the sampler's snapshots to a backend and survives it failing.
//!
//! snapshot -> [`encode`] (records, fixed at collection) -> [`delivery`] (queue, rate limit,
//! retry, circuit breaker) -> transport (HTTP). It never reaches back into the sampler.

pub mod batch;
pub mod delivery;
pub mod encode;
pub mod remote_config;
pub mod transport;
pub mod warnings;
mod worker;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::config::{CompressionName, Config, EncodingName, Protocol, TemporalityName};
use crate::model::Snapshot;
use batch::{Compression, Encoding};
use delivery::{Backoff, BreakerConfig, QueueLimits};
use encode::otlp::{OtlpEncoder, Temporality};
use encode::remote_write::RemoteWriteEncoder;
use transport::{SetupError, Transport};
use worker::{Command, Sink, SnapshotEncoder};

pub use worker::{UplinkStatus, WorkerSettings};

/// Remote-write series per process, roughly: the size cap is given in processes.
const SERIES_PER_PROCESS: usize = 12;

/// A running uplink. Cheap to use from any thread: `submit` never waits.
pub struct Uplink {
    commands: mpsc::UnboundedSender<Command>,
    status: Arc<Mutex<UplinkStatus>>,
    task: tokio::task::JoinHandle<()>,
    endpoint: String,
}

impl Uplink {
    /// Builds the worker settings from the configuration (without starting anything). Reads the
    /// files the configuration names (API key, certificates) and, for a `file://` sink, opens the
    /// file once (creating it) to find out now whether it can be written.
    pub fn settings(config: &Config) -> Result<WorkerSettings, SetupError> {
        let up = &config.uplink;
        let endpoint = up.endpoint.as_deref().ok_or(SetupError::NoEndpoint)?;
        let max_records = usize::try_from(up.max_batch_records)
            .unwrap_or(usize::MAX)
            .max(1);
        let (sink, encoder) = match up.protocol {
            Protocol::Ndjson if endpoint.starts_with("file://") => {
                let path = std::path::PathBuf::from(endpoint.trim_start_matches("file://"));
                if !path.is_absolute() {
                    return Err(SetupError::BadEndpoint(
                        crate::config::mask_url(endpoint).into_owned(),
                    ));
                }
                // Opened (and created, 0600) once now, so a sink that is refused (a symlink,
                // someone else's file) or cannot be written stops `ship` at start with the
                // reason; the worker checks again on every batch.
                crate::files::open_private_append(&path).map_err(SetupError::Sink)?;
                (Sink::File(path), SnapshotEncoder::Ndjson)
            }
            Protocol::Ndjson => (
                Sink::Http(Transport::new(up, endpoint)?),
                SnapshotEncoder::Ndjson,
            ),
            Protocol::RemoteWrite => (
                Sink::Http(Transport::new(up, endpoint)?),
                // Remote write counts series, about a dozen per process (benches/uplink.rs):
                // scaled so a request holds roughly max_batch_records processes, not 40.
                SnapshotEncoder::RemoteWrite(RemoteWriteEncoder::new(
                    max_records.saturating_mul(SERIES_PER_PROCESS),
                    usize::try_from(up.max_conversations.0).unwrap_or(usize::MAX),
                )),
            ),
            Protocol::Otlp => {
                let temporality = match up.temporality {
                    TemporalityName::Cumulative => Temporality::Cumulative,
                    TemporalityName::Delta => Temporality::Delta,
                };
                (
                    Sink::Http(Transport::new(up, endpoint)?),
                    SnapshotEncoder::Otlp(OtlpEncoder::new(temporality, max_records), up.logs),
                )
            }
        };
        Ok(WorkerSettings {
            sink,
            encoder,
            encoding: match up.encoding {
                EncodingName::Protobuf => Encoding::Protobuf,
                EncodingName::Json => Encoding::Json,
            },
            compression: match up.compression {
                CompressionName::Gzip => Compression::Gzip,
                CompressionName::None => Compression::None,
            },
            per_minute: config.process_agent.max_per_minute.0,
            queue: QueueLimits {
                max_items: usize::try_from(up.queue_max_batches).unwrap_or(usize::MAX),
                max_bytes: usize::try_from(up.queue_max_bytes.0).unwrap_or(usize::MAX),
            },
            backoff: Backoff::default(),
            breaker: BreakerConfig::default(),
            shutdown_timeout: up.shutdown_timeout.0,
            warnings: warnings::security_warnings(config),
        })
    }

    /// Starts the delivery task on the current tokio runtime.
    pub fn start(settings: WorkerSettings) -> Uplink {
        let endpoint = match &settings.sink {
            Sink::Http(t) => t.endpoint(),
            Sink::File(path) => format!("file://{}", path.display()),
        };
        let (commands, receiver) = mpsc::unbounded_channel();
        let status = Arc::new(Mutex::new(UplinkStatus {
            warnings: settings.warnings.clone(),
            ..UplinkStatus::default()
        }));
        let task = tokio::spawn(worker::run(settings, receiver, Arc::clone(&status)));
        Uplink {
            commands,
            status,
            task,
            endpoint,
        }
    }

    /// Hands a snapshot to the uplink. Never blocks.
    pub fn submit(&self, snapshot: Arc<Snapshot>) {
        let _ = self.commands.send(Command::Snapshot(snapshot));
    }

    /// A handle that only submits, for the sampler's thread.
    pub fn submitter(&self) -> impl Fn(Arc<Snapshot>) + Send + Sync + 'static {
        let commands = self.commands.clone();
        move |snapshot| {
            let _ = commands.send(Command::Snapshot(snapshot));
        }
    }

    /// Changes the request rate limit (remote configuration).
    pub fn set_rate(&self, per_minute: u32) {
        let _ = self.commands.send(Command::SetRate(per_minute));
    }

    /// Records the remote configuration version now in force, for the status.
    pub fn set_remote_version(&self, version: String) {
        let _ = self.commands.send(Command::RemoteVersion(version));
    }

    /// Where batches go, safe to log.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// State and counters right now.
    pub fn status(&self) -> UplinkStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A shared view of the status, for a display that polls it.
    pub fn status_handle(&self) -> Arc<Mutex<UplinkStatus>> {
        Arc::clone(&self.status)
    }

    /// Flushes for at most the configured shutdown timeout (plus `grace` for the task to
    /// finish), then returns the final status.
    pub async fn shutdown(self, grace: Duration) -> UplinkStatus {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
        let _ = tokio::time::timeout(grace, self.task).await;
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
