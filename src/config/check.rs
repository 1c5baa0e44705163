//! `wiretop config check`: the configuration in force, each value with its source, secrets
//! masked.

use std::fmt::Write as _;

use serde_yaml::Value;

use super::env::env_var_for;
use super::layers::Effective;

/// Keys whose values are never shown.
fn is_secret(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path).to_ascii_lowercase();
    // Header values often carry credentials (Authorization, X-Api-Key): never shown.
    path.starts_with("uplink.headers.")
        || last == "api_key"
        || last.contains("password")
        || last.contains("token")
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().replace('\n', " "))
            .unwrap_or_default(),
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
            show(value)
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
