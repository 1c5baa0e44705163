//! What the sampler does and how often, built from the configuration and, in `ship` with
//! remote configuration on, the backend's settings laid over it.

use std::sync::Arc;

use crate::baseline::Baseline;
use std::time::Duration;

use regex::Regex;

use crate::config::remote::RemoteSettings;
use crate::config::Config;
use crate::sample::attribution::AttributionSettings;
use crate::scrub::{ScrubError, ScrubOptions, Scrubber};

/// What the sampler does and how often.
#[derive(Debug, Clone)]
pub struct SamplerSettings {
    /// Time between snapshots.
    pub interval: Duration,
    /// Read sockets and their ownership (the costly part). When false, processes only.
    pub collect_connections: bool,
    /// Ask the kernel for each TCP socket's counters (tcp_info) and follow sockets as they
    /// close: the traffic figures. When false, connections only.
    pub collect_traffic: bool,
    /// Follow the kernel's process events when privileged, so processes that start and end
    /// between two snapshots are still seen.
    pub process_events: bool,
    /// Applied to every command line as it is read, so no snapshot ever holds the secret.
    pub scrubber: Arc<Scrubber>,
    /// Processes whose command line matches any of these are left out of snapshots.
    pub exclude: Vec<Regex>,
    /// Host tags attached to every snapshot.
    pub tags: Vec<String>,
    /// `--baseline FILE`: every snapshot's processes are judged against it (`unexpected`).
    pub baseline: Option<Arc<Baseline>>,
    /// Where container runtimes and the kubelet are asked for containers' names.
    pub attribution: AttributionSettings,
}

impl Default for SamplerSettings {
    fn default() -> Self {
        SamplerSettings {
            interval: Duration::from_secs(2),
            collect_connections: true,
            collect_traffic: true,
            process_events: true,
            scrubber: Arc::new(Scrubber::default()),
            exclude: Vec::new(),
            tags: Vec::new(),
            baseline: None,
            attribution: AttributionSettings::default(),
        }
    }
}

impl SamplerSettings {
    /// The settings of `config`, with the allowlisted remote settings laid over it: a remote
    /// interval or collect_connections replaces the local one; remote tags, exclude patterns
    /// and sensitive words are added to the local ones, never replace them (so the backend can
    /// hide more, never less).
    pub fn from_config(
        config: &Config,
        remote: Option<&RemoteSettings>,
    ) -> Result<SamplerSettings, ScrubError> {
        let agent = &config.process_agent;
        let mut scrub = ScrubOptions {
            scrub_args: agent.scrub_args,
            custom_sensitive_words: agent
                .custom_sensitive_words
                .iter()
                .map(|w| w.0.clone())
                .collect(),
            strip_proc_arguments: agent.strip_proc_arguments,
        };
        let mut exclude: Vec<Regex> = agent.exclude_patterns.iter().map(|p| p.0.clone()).collect();
        let mut tags = config.tag_strings();
        if let Some(remote) = remote {
            scrub
                .custom_sensitive_words
                .extend(remote.custom_sensitive_words.iter().cloned());
            exclude.extend(remote.exclude_patterns.iter().cloned());
            for tag in &remote.tags {
                if !tags.contains(tag) {
                    tags.push(tag.clone());
                }
            }
        }
        Ok(SamplerSettings {
            interval: remote.and_then(|r| r.interval).unwrap_or(agent.interval.0),
            collect_connections: remote
                .and_then(|r| r.collect_connections)
                .unwrap_or(agent.collect_connections),
            collect_traffic: agent.collect_traffic,
            process_events: agent.process_events,
            scrubber: Arc::new(Scrubber::new(&scrub)?),
            exclude,
            tags,
            baseline: None,
            attribution: AttributionSettings {
                docker_socket: agent.docker_socket.clone(),
                podman_socket: agent.podman_socket.clone(),
                ..AttributionSettings::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::remote::parse_document;

    fn local() -> Config {
        let mut config = Config::default();
        config.process_agent.interval = crate::config::Interval(Duration::from_secs(10));
        config.tags = vec![crate::config::Tag("env:prod".to_owned())];
        config
    }

    fn remote(json: &str) -> RemoteSettings {
        match parse_document(json.as_bytes()) {
            Ok(remote) => remote,
            Err(e) => panic!("{json}: {e}"),
        }
    }

    fn settings(config: &Config, remote: Option<&RemoteSettings>) -> SamplerSettings {
        match SamplerSettings::from_config(config, remote) {
            Ok(settings) => settings,
            Err(e) => panic!("settings refused: {e}"),
        }
    }

    #[test]
    fn without_remote_settings_the_configuration_is_taken_as_it_is() {
        let s = settings(&local(), None);
        assert_eq!(s.interval, Duration::from_secs(10));
        assert!(s.collect_connections);
        assert_eq!(s.tags, vec!["env:prod"]);
        assert!(s.exclude.is_empty());
    }

    #[test]
    fn the_default_configuration_asks_the_runtimes_where_the_sampler_would_by_default() {
        let s = settings(&Config::default(), None);
        assert_eq!(s.attribution, AttributionSettings::default());
        let mut config = Config::default();
        config.process_agent.docker_socket = None;
        config.process_agent.podman_socket = Some("/run/user/1000/podman/podman.sock".into());
        let s = settings(&config, None);
        assert_eq!(s.attribution.docker_socket, None);
        assert_eq!(
            s.attribution.podman_socket.as_deref(),
            Some(std::path::Path::new("/run/user/1000/podman/podman.sock"))
        );
    }

    #[test]
    fn remote_interval_and_connections_replace_the_local_ones() {
        let r = remote(
            r#"{"version": "1", "settings": {"interval": "5s", "collect_connections": false}}"#,
        );
        let s = settings(&local(), Some(&r));
        assert_eq!(s.interval, Duration::from_secs(5));
        assert!(!s.collect_connections);
        let silent = remote(r#"{"version": "2", "settings": {}}"#);
        assert_eq!(
            settings(&local(), Some(&silent)).interval,
            Duration::from_secs(10)
        );
    }

    #[test]
    fn remote_tags_patterns_and_words_add_to_the_local_ones() {
        let mut config = local();
        config.process_agent.custom_sensitive_words =
            vec![crate::config::SensitiveWord("*local_word*".to_owned())];
        let r = remote(
            r#"{"version": "1", "settings": {"tags": ["env:prod", "team:db"],
                "exclude_patterns": ["^/usr/bin/secretd"], "custom_sensitive_words": ["*remote_word*"]}}"#,
        );
        let s = settings(&config, Some(&r));
        assert_eq!(s.tags, vec!["env:prod", "team:db"], "added once, in order");
        assert_eq!(s.exclude.len(), 1);
        let argv: Vec<String> = ["app", "--local-word=a", "--remote-word=b"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let scrubbed = s.scrubber.scrub(&argv);
        assert!(
            !scrubbed
                .iter()
                .any(|a| a.ends_with("=a") || a.ends_with("=b")),
            "both words hide their values: {scrubbed:?}"
        );
    }
}
