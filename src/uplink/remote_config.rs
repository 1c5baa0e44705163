//! Settings pushed by the backend (`process_agent.remote_config.enabled`): a JSON document
//! polled from `uplink.remote_config_url` with ETag/If-None-Match, at most once a minute,
//! jittered.
//!
//! Only an allowlist may change remotely: interval, collect_connections, max_per_minute, extra
//! tags, exclude_patterns and custom_sensitive_words (both add to the local ones, never replace
//! them). Endpoint, credentials, TLS, proxy and scrubbing on/off are never remotely settable.
//! Every value is validated with the same rules as the file; one bad value rejects the whole
//! document, and the last good settings stay.
//!
//! ```json
//! {"version": "42", "settings": {"interval": "5s", "max_per_minute": 30, "tags": ["team:db"]}}
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::config::{Interval, Pattern, PerMinute, SensitiveWord, Tag};

/// Never more often than this, whatever the configuration says.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// Keys that exist locally but may never come from the backend; named in the rejection so an
/// operator sees it was refused on purpose.
const NEVER_REMOTE: [&str; 14] = [
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

/// What one poll came to.
#[derive(Debug)]
pub enum Poll {
    /// 304, or the same ETag: nothing to do.
    Unchanged,
    /// A new, valid document.
    Changed(RemoteSettings),
}

/// Polls one URL, remembering the ETag of the last document it accepted.
pub struct Poller {
    client: reqwest::Client,
    url: reqwest::Url,
    etag: Option<String>,
}

impl Poller {
    /// `client` should be the uplink's own (same TLS, proxy and headers).
    pub fn new(client: reqwest::Client, url: reqwest::Url) -> Poller {
        Poller {
            client,
            url,
            etag: None,
        }
    }

    /// One GET. A rejected document leaves the ETag alone, so it is fetched (and refused,
    /// and logged) again until it is fixed.
    pub async fn poll(&mut self) -> Result<Poll, String> {
        let mut request = self.client.get(self.url.clone());
        if let Some(etag) = &self.etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Poll::Unchanged);
        }
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if bytes.len() > 1 << 20 {
            return Err("document larger than 1 MiB".to_owned());
        }
        let settings = parse_document(&bytes)?;
        if etag.is_some() && etag == self.etag {
            return Ok(Poll::Unchanged);
        }
        self.etag = etag;
        Ok(Poll::Changed(settings))
    }
}

/// The wait before the next poll: `every` plus up to 10% jitter, so a fleet does not poll in
/// step. Callers pass at least [`MIN_POLL_INTERVAL`] outside tests.
pub fn next_poll_in(every: Duration, rng: &mut fastrand::Rng) -> Duration {
    let jitter = every.as_millis() as u64 / 10;
    every + Duration::from_millis(rng.u64(0..=jitter))
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
        let cases: [(&[u8], &str); 7] = [
            (
                br#"{"version": "1", "settings": {"endpoint": "http://evil"}}"#,
                "`endpoint` may never be set remotely",
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

    #[test]
    fn polls_are_jittered_by_up_to_a_tenth() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..100 {
            let wait = next_poll_in(MIN_POLL_INTERVAL, &mut rng);
            assert!(wait >= MIN_POLL_INTERVAL && wait <= Duration::from_secs(66));
        }
    }
}
