//! Configuration errors: each names where the bad value came from (file:line:column, or the
//! environment variable or flag), the key path, and what was expected.

use std::path::Path;

/// Why the configuration could not be used. Every variant is fatal: neither the explorer nor
/// the uplink starts on a configuration it could not fully read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value in a file is wrong (or the file is not YAML). Baselines report their mistakes
    /// this way too.
    #[error("{file}:{line}:{column}: {path}: {message}")]
    InFile {
        file: String,
        line: usize,
        column: usize,
        path: String,
        message: String,
    },
    /// A value from the environment or a flag is wrong.
    #[error("{origin}: {path}: {message}")]
    Setting {
        origin: String,
        path: String,
        message: String,
    },
    /// A file exists but cannot be read, or a file named with --config is missing, or it is not
    /// a regular file, or it is over the size limit.
    #[error("{file}: cannot read the configuration file: {reason}")]
    Unreadable { file: String, reason: String },
    /// A file (or an environment or flag value) nests deeper than the limit; `origin` is the
    /// file, or the variable or flag, and the position is where the limit was passed.
    #[error(
        "{origin}:{line}:{column}: nested more than {limit} levels deep, the limit (wiretop's \
         own keys go 4 deep)"
    )]
    TooDeep {
        origin: String,
        line: usize,
        column: usize,
        limit: usize,
    },
    /// A file (a configuration layer or a baseline, or an environment or flag value) uses a YAML
    /// alias (`*name`), which serde_yaml would expand in place: refused, so a small file cannot
    /// become gigabytes.
    #[error(
        "{origin}:{line}:{column}: YAML aliases (*name) are not accepted in wiretop's \
         files: write the value out"
    )]
    Alias {
        origin: String,
        line: usize,
        column: usize,
    },
    /// A `WIRETOP_*` environment variable that names no key (a typo, most likely).
    #[error(
        "environment variable {var}: not a wiretop setting{suggestion}; settings are WIRETOP_ \
         and the key path in capitals, such as WIRETOP_PROCESS_AGENT_INTERVAL"
    )]
    UnknownVariable { var: String, suggestion: String },
}

impl ConfigError {
    /// Converts a deserialization error of `file`'s text, keeping its position and key path.
    pub(super) fn from_file(
        file: &Path,
        error: serde_path_to_error::Error<serde_yaml::Error>,
    ) -> Self {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let (line, column) = inner
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let (path, message) = explain(&path, &inner.to_string());
        ConfigError::InFile {
            file: file.display().to_string(),
            line,
            column,
            path,
            message,
        }
    }

    /// Converts an error in a value that came from the environment or a flag.
    pub(super) fn from_setting(
        origin: String,
        error: serde_path_to_error::Error<serde_yaml::Error>,
    ) -> Self {
        let path = error.path().to_string();
        let (path, message) = explain(&path, &error.into_inner().to_string());
        ConfigError::Setting {
            origin,
            path,
            message,
        }
    }
}

/// Turns serde's wording into ours: drops the position suffix (we print it in front) and the
/// path serde_yaml sometimes repeats, never repeats the value that was refused (it may be a
/// credential: an API key in the wrong place, a key file given as `--config`), and suggests the
/// key or value that was probably meant.
fn explain(path: &str, raw: &str) -> (String, String) {
    let mut message = without_values(raw);
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    // serde_yaml prefixes some messages with (part of) the path we print anyway.
    if let Some((head, rest)) = message.split_once(": ") {
        let looks_like_path = !head.is_empty()
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        if looks_like_path && path.starts_with(head.split('[').next().unwrap_or(head)) {
            message = rest.to_owned();
        }
    }
    // The YAML scanner's own complaints mean the file is not well-formed YAML at all.
    if [
        "found ",
        "while ",
        "did not find",
        "mapping values are not allowed",
    ]
    .iter()
    .any(|lead| message.starts_with(lead))
    {
        message = format!("malformed YAML: {message}");
    }
    let path = if path == "." || path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.to_owned()
    };
    for (lead, noun) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        if let Some(rest) = message.strip_prefix(lead) {
            let names: Vec<&str> = rest.split('`').step_by(2).collect();
            let unknown = names.first().copied().unwrap_or("");
            let expected: Vec<&str> = names.iter().skip(1).copied().collect();
            let message = format!(
                "unknown {noun} `{unknown}`{}; expected one of: {}",
                suggestion(unknown, &expected),
                expected.join(", ")
            );
            return (path, message);
        }
    }
    (path, message)
}

/// `message` without the scalar values serde quotes in it: `invalid type: string "…",
/// expected …` becomes `invalid type: string, expected …`, and so for integers, floats,
/// characters and booleans. Names of keys and of enum variants (`unknown variant `x``) stay:
/// they are wiretop's vocabulary, not the user's data.
fn without_values(message: &str) -> String {
    static QUOTED: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"\b(string|integer|floating point|character|boolean|bytes) (?:"(?:[^"\\]|\\.)*"|`[^`]*`)"#,
        )
        .ok()
    });
    match QUOTED.as_ref() {
        Some(quoted) => quoted.replace_all(message, "$1").into_owned(),
        // The pattern is a constant that compiles; were it not to, say nothing of the value.
        None => "invalid value".to_owned(),
    }
}

/// ` (did you mean `x`?)` for the closest known name, when one is close enough.
pub(super) fn suggestion(unknown: &str, known: &[&str]) -> String {
    crate::suggest::closest(unknown, known)
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let (path, message) = explain(
            "process_agent.intervl",
            "process_agent: unknown field `intervl`, expected one of `enabled`, `interval`, `scrub_args` at line 3 column 3",
        );
        assert_eq!(path, "process_agent.intervl");
        assert!(message.contains("did you mean `interval`?"), "{message}");
        let (_, message) = explain("", "unknown field `zzzzzz`, expected `tags` or `ui`");
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn refused_values_are_never_repeated() {
        for (raw, expected) in [
            (
                r#"invalid type: string "0123456789abcdef-api-key", expected struct Config at line 1 column 1"#,
                "invalid type: string, expected struct Config",
            ),
            (
                "invalid type: integer `1234567890123`, expected a string",
                "invalid type: integer, expected a string",
            ),
            (
                "invalid type: floating point `575180969539832217770`, expected a string",
                "invalid type: floating point, expected a string",
            ),
            (
                r#"invalid value: string "s3cr\"et", expected a duration"#,
                "invalid value: string, expected a duration",
            ),
        ] {
            let (_, message) = explain("uplink.api_key", raw);
            assert_eq!(message, expected);
        }
    }
}
