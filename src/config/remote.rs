//! Settings pushed by the backend (`process_agent.remote_config.enabled`): the last layer of
//! configuration, a JSON document that `uplink::remote_config` polls for. This module says what
//! such a document may hold and validates it; `sample::SamplerSettings::from_config` lays it
//! over the local configuration.
//!
//! Only an allowlist may change remotely: interval, collect_connections, max_per_minute, extra
//! tags, exclude_patterns and custom_sensitive_words (both add to the local ones, never replace
//! them). Endpoint, credentials, TLS, proxy, scrubbing on/off and the container runtimes'
//! sockets are never remotely settable.
//! Every value is validated with the same rules as the file; one bad value rejects the whole
//! document, and the last good settings stay.
//!
//! ```json
//! {"version": "42", "settings": {"interval": "5s", "max_per_minute": 30, "tags": ["team:db"]}}
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::{Interval, Pattern, PerMinute, SensitiveWord, Tag};

/// Keys that exist locally but may never come from the backend; named in the rejection so an
/// operator sees it was refused on purpose.
const NEVER_REMOTE: [&str; 16] = [
    "endpoint",
    "api_key",
    "api_key_file",
    "api_key_header",
    "headers",
    "ca_file",
    "client_cert_file",
    "client_key_file",
    "insecure_skip_verify",
    "proxy_url",
    "scrub_args",
    "strip_proc_arguments",
    "enabled",
    "remote_config_url",
    // Which local sockets wiretop connects to is the host's business alone.
    "docker_socket",
    "podman_socket",
];

/// A validated remote document.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// The document's own version, reported once applied.
    pub version: String,
    pub interval: Option<Duration>,
    pub collect_connections: Option<bool>,
    pub max_per_minute: Option<u32>,
    /// Added to the local tags.
    pub tags: Vec<String>,
    /// Added to the local exclude patterns.
    pub exclude_patterns: Vec<regex::Regex>,
    /// Added to the local sensitive words.
    pub custom_sensitive_words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    interval: Option<Interval>,
    collect_connections: Option<bool>,
    max_per_minute: Option<PerMinute>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    exclude_patterns: Vec<Pattern>,
    #[serde(default)]
    custom_sensitive_words: Vec<SensitiveWord>,
}

/// Validates a document; the error says which key or value was refused and why.
pub fn parse_document(bytes: &[u8]) -> Result<RemoteSettings, String> {
    let document: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let object = document
        .as_object()
        .ok_or("the document is not a JSON object")?;
    if let Some(key) = object.keys().find(|k| *k != "version" && *k != "settings") {
        return Err(format!(
            "unknown top-level key `{key}` (expected version and settings)"
        ));
    }
    let version = match object.get("version") {
        Some(serde_json::Value::String(v)) if !v.is_empty() => v.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err("`version` is missing or not a string".to_owned()),
    };
    let settings = object.get("settings").cloned().unwrap_or_default();
    if let Some(map) = settings.as_object() {
        if let Some(key) = map.keys().find(|k| NEVER_REMOTE.contains(&k.as_str())) {
            return Err(format!("`{key}` may never be set remotely"));
        }
    }
    let settings: Settings = serde_path_to_error::deserialize(settings)
        .map_err(|e| format!("settings.{}: {}", e.path(), e.inner()))?;
    Ok(RemoteSettings {
        version,
        interval: settings.interval.map(|i| i.0),
        collect_connections: settings.collect_connections,
        max_per_minute: settings.max_per_minute.map(|p| p.0),
        tags: settings.tags.into_iter().map(|t| t.0).collect(),
        exclude_patterns: settings.exclude_patterns.into_iter().map(|p| p.0).collect(),
        custom_sensitive_words: settings
            .custom_sensitive_words
            .into_iter()
            .map(|w| w.0)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_settings_are_validated_and_applied() {
        let doc = br#"{"version": "7", "settings": {"interval": "5s", "collect_connections": false,
            "max_per_minute": 30, "tags": ["team:db"], "exclude_patterns": ["^/usr/bin/secretd"],
            "custom_sensitive_words": ["*vault_token*"]}}"#;
        let s = parse_document(doc).unwrap();
        assert_eq!(s.version, "7");
        assert_eq!(s.interval, Some(Duration::from_secs(5)));
        assert_eq!(s.collect_connections, Some(false));
        assert_eq!(s.max_per_minute, Some(30));
        assert_eq!(s.tags, vec!["team:db"]);
        assert_eq!(s.exclude_patterns.len(), 1);
        assert_eq!(s.custom_sensitive_words, vec!["*vault_token*"]);
    }

    #[test]
    fn a_single_bad_or_forbidden_value_rejects_the_whole_document() {
        let cases: [(&[u8], &str); 8] = [
            (
                br#"{"version": "1", "settings": {"endpoint": "http://evil"}}"#,
                "`endpoint` may never be set remotely",
            ),
            (
                br#"{"version": "1", "settings": {"docker_socket": "/run/evil.sock"}}"#,
                "`docker_socket` may never be set remotely",
            ),
            (
                br#"{"version": "1", "settings": {"scrub_args": false}}"#,
                "`scrub_args` may never be set remotely",
            ),
            (
                br#"{"version": "1", "settings": {"interval": "10ms"}}"#,
                "minimum interval",
            ),
            (
                br#"{"version": "1", "settings": {"max_per_minute": -3}}"#,
                "settings.max_per_minute",
            ),
            (
                br#"{"version": "1", "settings": {"exclude_patterns": ["(open"]}}"#,
                "not a valid regular expression",
            ),
            (
                br#"{"version": "1", "settings": {"colour": "blue"}}"#,
                "unknown field `colour`",
            ),
            (b"{not json", "not JSON"),
        ];
        for (doc, expected) in cases {
            let error = parse_document(doc).unwrap_err();
            assert!(
                error.contains(expected),
                "{error} should mention {expected}"
            );
        }
        assert!(parse_document(br#"{"settings": {}}"#)
            .unwrap_err()
            .contains("version"));
    }
}
