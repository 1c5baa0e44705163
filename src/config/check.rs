//! `wiretop config check`: the configuration in force, each value with its source, secrets
//! masked: the API key and header values whole, URLs' passwords, tokens and secret parameters.

use std::fmt::Write as _;

use serde_yaml::Value;

use super::env::env_var_for;
use super::layers::Effective;
use super::url_secrets::mask_url;

/// Keys whose values are never shown.
fn is_secret(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path).to_ascii_lowercase();
    // Header values often carry credentials (Authorization, X-Api-Key): never shown.
    path.starts_with("uplink.headers.")
        || last == "api_key"
        || last.contains("password")
        || last.contains("token")
}

/// The value as one line, with the credentials of any URL in it masked (`endpoint`,
/// `proxy_url` and `remote_config_url`, and any other value holding a `scheme://`).
fn show(path: &str, value: &Value) -> String {
    let url_key = path.ends_with("url") || path.ends_with("endpoint");
    match value {
        Value::Null => "null".to_owned(),
        Value::String(s) if url_key || s.contains("://") => mask_url(s).into_owned(),
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(&masked_strings(other))
            .map(|s| s.trim().replace('\n', " "))
            .unwrap_or_default(),
    }
}

/// `value` with every string holding a URL masked (a list of tags may hold one).
fn masked_strings(value: &Value) -> Value {
    match value {
        Value::String(s) if s.contains("://") => Value::String(mask_url(s).into_owned()),
        Value::Sequence(items) => Value::Sequence(items.iter().map(masked_strings).collect()),
        other => other.clone(),
    }
}

/// Renders the effective configuration, one `key: value  # source` line per key.
pub fn render(effective: &Effective) -> String {
    let width = effective.leaves.keys().map(String::len).max().unwrap_or(0) + 1;
    let mut out = String::new();
    for (path, (value, source)) in &effective.leaves {
        let shown = if is_secret(path) && !value.is_null() {
            "********".to_owned()
        } else {
            show(path, value)
        };
        let key = format!("{path}:");
        let _ = writeln!(out, "{key:<width$} {shown:<24} # {source}");
    }
    let _ = writeln!(
        out,
        "# environment: any key as {} etc.",
        env_var_for("process_agent.interval")
    );
    out
}
