//! Configuration: one validated [`Config`] built from layers, read once at start.
//!
//! Layers, each overriding the one before: built-in defaults, `/etc/wiretop/config.yaml`,
//! `$XDG_CONFIG_HOME/wiretop/config.yaml` (or `~/.config/...`), `--config FILE`, environment
//! variables (`WIRETOP_` + the key path, `WIRETOP_PROCESS_AGENT_INTERVAL=5s`), then command-line
//! flags. Every value remembers which layer set it, for `wiretop config check`.

mod check;
mod env;
mod error;
mod layers;
mod nesting;
pub mod remote;
pub mod save_columns;
mod url_secrets;
mod value;
pub(crate) mod yaml;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::ui::columns::Column;

pub use check::render as render_check;
pub use env::{env_var_for, ENV_ALIASES, NON_CONFIG_VARIABLES};
pub use error::ConfigError;
pub use layers::{leaf_paths, load, Effective, LoadOptions, Source};
pub use nesting::{check, check_depth, deepest_nesting, Refusal, TooDeep, MAX_DEPTH};
pub use url_secrets::{is_secret_name, mask_url, url_has_credentials};
pub use value::{
    parse_duration, parse_interval, parse_size, ConversationLimit, Interval, KeptFiles, Linger,
    Pattern, PerMinute, RecordingAge, Secret, SensitiveWord, Size, Tag, ThemeName, Timeout,
    MAX_CONVERSATIONS, MAX_LIST_ENTRIES, MAX_RECORDING_AGE, MIN_RECORDING_SIZE,
};

/// Everything wiretop can be told.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub process_agent: ProcessAgent,
    /// Host tags attached to every snapshot (`env:production`, `service:web`).
    pub tags: Vec<Tag>,
    pub uplink: Uplink,
    pub ui: Ui,
    pub record: Record,
}

/// Collection settings; the key names are those of the agent our users already run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessAgent {
    /// False: collect nothing (the explorer says why).
    pub enabled: bool,
    pub interval: Interval,
    /// False: no socket scan at all.
    pub collect_connections: bool,
    /// False: sockets without the kernel's TCP counters (no traffic figures, no closed
    /// connections).
    pub collect_traffic: bool,
    /// False: no subscription to the kernel's process events (events come from comparing
    /// snapshots only, and short-lived processes are missed).
    pub process_events: bool,
    /// Uplink: at most this many messages per minute.
    pub max_per_minute: PerMinute,
    pub remote_config: RemoteConfig,
    /// Processes whose command line matches any of these are not collected (at most
    /// [`MAX_LIST_ENTRIES`]).
    #[serde(deserialize_with = "value::at_most_max_entries")]
    pub exclude_patterns: Vec<Pattern>,
    pub scrub_args: bool,
    /// At most [`MAX_LIST_ENTRIES`].
    #[serde(deserialize_with = "value::at_most_max_entries")]
    pub custom_sensitive_words: Vec<SensitiveWord>,
    pub strip_proc_arguments: bool,
    /// The Docker Engine API's unix socket, asked for containers' names and images; None:
    /// never asked.
    pub docker_socket: Option<PathBuf>,
    /// Podman's API socket, asked the same; None: never asked.
    pub podman_socket: Option<PathBuf>,
}

/// Settings pushed by the backend.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    pub enabled: bool,
}

/// Where snapshots are shipped, and how.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Uplink {
    pub enabled: bool,
    pub protocol: Protocol,
    /// Base URL (OTLP: `/v1/metrics` and `/v1/logs` are appended), the full remote-write URL,
    /// or for NDJSON an HTTP URL or `file:///path`.
    pub endpoint: Option<String>,
    pub encoding: EncodingName,
    pub compression: CompressionName,
    pub temporality: TemporalityName,
    /// OTLP: also send connections and lifecycle events as logs (false for metrics-only
    /// backends such as VictoriaMetrics, which refuse /v1/logs).
    pub logs: bool,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    /// The header the API key is sent in.
    pub api_key_header: String,
    /// Extra request headers.
    pub headers: std::collections::BTreeMap<String, String>,
    pub timeout: Timeout,
    pub ca_file: Option<PathBuf>,
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
    pub proxy_url: Option<String>,
    pub queue_max_batches: u32,
    pub queue_max_bytes: Size,
    /// Client-side size cap: at most this many resources (or series) per request.
    pub max_batch_records: u32,
    /// Remote write: per-connection series for at most this many conversations per snapshot,
    /// the busiest.
    pub max_conversations: ConversationLimit,
    pub shutdown_timeout: Timeout,
    /// Polled for settings when `process_agent.remote_config.enabled`.
    pub remote_config_url: Option<String>,
}

/// The wire protocol of the uplink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// OTLP/HTTP metrics and logs.
    Otlp,
    /// Prometheus remote-write 1.0.
    RemoteWrite,
    /// The `wiretop snapshot` JSON, one document per line.
    Ndjson,
}

/// OTLP body encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingName {
    Protobuf,
    Json,
}

/// Request body compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompressionName {
    Gzip,
    None,
}

/// OTLP aggregation temporality of monotonic sums (Datadog's intake wants delta).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TemporalityName {
    Cumulative,
    Delta,
}

impl Default for Uplink {
    fn default() -> Self {
        Uplink {
            enabled: false,
            protocol: Protocol::Otlp,
            endpoint: None,
            encoding: EncodingName::Protobuf,
            compression: CompressionName::Gzip,
            temporality: TemporalityName::Cumulative,
            logs: true,
            api_key: None,
            api_key_file: None,
            api_key_header: "dd-api-key".to_owned(),
            headers: std::collections::BTreeMap::new(),
            timeout: Timeout(Duration::from_secs(10)),
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            insecure_skip_verify: false,
            proxy_url: None,
            queue_max_batches: 100,
            queue_max_bytes: Size(16 * 1024 * 1024),
            max_batch_records: 500,
            max_conversations: ConversationLimit(1000),
            shutdown_timeout: Timeout(Duration::from_secs(5)),
            remote_config_url: None,
        }
    }
}

/// The explorer's defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ui {
    /// Initial sort column (a name from `columns`).
    pub sort: Column,
    /// Columns shown, in order.
    pub columns: Vec<Column>,
    pub theme: ThemeName,
    /// How long an exited process stays listed, greyed (0: until the next refresh).
    pub exited_linger: Linger,
}

/// `wiretop record`: when a recording is rotated, and how many rotated files are kept.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Record {
    /// Rotate before the file would grow past this (at least 1 MiB).
    #[serde(deserialize_with = "value::recording_size")]
    pub max_size: Size,
    /// Rotate once the file was started this long ago.
    pub max_age: RecordingAge,
    /// Rotated files kept (`FILE.1` the newest); the oldest beyond this is deleted.
    pub keep: KeptFiles,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            max_size: Size(256 * 1024 * 1024),
            max_age: RecordingAge(Duration::from_secs(24 * 3600)),
            keep: KeptFiles(3),
        }
    }
}

impl Default for ProcessAgent {
    fn default() -> Self {
        ProcessAgent {
            enabled: true,
            interval: Interval(Duration::from_secs(2)),
            collect_connections: true,
            collect_traffic: true,
            process_events: true,
            max_per_minute: PerMinute(100),
            remote_config: RemoteConfig::default(),
            exclude_patterns: Vec::new(),
            scrub_args: true,
            custom_sensitive_words: Vec::new(),
            strip_proc_arguments: false,
            docker_socket: Some(PathBuf::from("/var/run/docker.sock")),
            podman_socket: Some(PathBuf::from("/run/podman/podman.sock")),
        }
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            sort: Column::Cpu,
            columns: Column::DEFAULT.to_vec(),
            theme: ThemeName::Default,
            exited_linger: Linger(crate::ui::app::DEFAULT_EXITED_LINGER),
        }
    }
}

impl Config {
    /// Tags as plain strings.
    pub fn tag_strings(&self) -> Vec<String> {
        self.tags.iter().map(|t| t.0.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_file_matches_default_values() {
        let parsed: Config = serde_yaml::from_str(layers::DEFAULTS_YAML).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn example_file_loads_as_is_and_documents_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let parsed: Config = serde_yaml::from_str(&text).unwrap();
        assert_eq!(parsed, Config::default());
        // Every key the program knows is in the example, so users can find it.
        for key in layers::leaf_paths() {
            let last = key.rsplit('.').next().unwrap_or(&key).to_owned();
            assert!(
                text.contains(&format!("{last}:")),
                "config.example.yaml documents {key}"
            );
        }
    }

    #[test]
    fn example_file_names_every_column() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        let ui = &text[text.find("\nui:").expect("a ui section")..];
        for column in Column::ALL {
            let name = column.config_name();
            let mut words = ui.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
            assert!(
                words.any(|word| word == name),
                "config.example.yaml's ui section names the column {name}"
            );
        }
    }
}
