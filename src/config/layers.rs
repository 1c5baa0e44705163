//! Reading and merging the configuration layers, remembering where each value came from.
//!
//! Each file is first deserialized straight from its text, so a bad value is reported with its
//! line and column; only then is it flattened into `key.path -> value` leaves that override the
//! layers below. Lists are leaves: a later layer replaces a list, it does not append to it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::error::ConfigError;
use super::{env, nesting, yaml, Config};
use crate::files::{read_capped, Problem, CONFIG_FILE_LIMIT};

/// The built-in defaults, as a layer (kept equal to `Config::default()` by a test).
pub const DEFAULTS_YAML: &str = include_str!("defaults.yaml");

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// What to read. Built from the real environment by [`LoadOptions::from_environment`]; tests
/// build it by hand so they never depend on the machine's own files or variables.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `/etc/wiretop/config.yaml`; silently skipped when missing.
    pub system_file: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/wiretop/config.yaml`; silently skipped when missing.
    pub user_file: Option<PathBuf>,
    /// `--config FILE`: must exist.
    pub explicit_file: Option<PathBuf>,
    /// Environment variables (only `WIRETOP_*` ones matter).
    pub env: Vec<(String, String)>,
    /// Flags given: (key path, value as YAML text, flag as typed).
    pub flags: Vec<(String, String, String)>,
}

impl LoadOptions {
    /// The standard file locations and this process's environment.
    pub fn from_environment(
        explicit_file: Option<PathBuf>,
        flags: Vec<(String, String, String)>,
    ) -> Self {
        let user_dir = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")));
        LoadOptions {
            system_file: Some(PathBuf::from("/etc/wiretop/config.yaml")),
            user_file: user_dir.map(|dir| dir.join("wiretop").join("config.yaml")),
            explicit_file,
            env: std::env::vars()
                .filter(|(k, _)| k.starts_with("WIRETOP_"))
                .collect(),
            flags,
        }
    }
}

/// The configuration in force, with the source and value of every key.
#[derive(Debug, Clone)]
pub struct Effective {
    pub config: Config,
    /// Every leaf key path with its value and where it came from, in key order.
    pub leaves: BTreeMap<String, (Value, Source)>,
}

fn defaults_tree() -> Value {
    // The constant is checked by a test; an unparsable one would fail every test run.
    serde_yaml::from_str(DEFAULTS_YAML).unwrap_or(Value::Null)
}

/// Every key path the configuration knows, such as `process_agent.interval`.
pub fn leaf_paths() -> Vec<String> {
    let mut leaves = BTreeMap::new();
    flatten(&defaults_tree(), "", &mut leaves);
    leaves.into_keys().collect()
}

/// Reads every layer and returns the validated result.
pub fn load(options: &LoadOptions) -> Result<Effective, ConfigError> {
    let defaults = defaults_tree();
    let mut leaves: BTreeMap<String, (Value, Source)> = BTreeMap::new();
    let mut flat = BTreeMap::new();
    flatten(&defaults, "", &mut flat);
    for (path, value) in flat {
        leaves.insert(path, (value, Source::Default));
    }

    let files = [
        (options.system_file.as_deref(), false),
        (options.user_file.as_deref(), false),
        (options.explicit_file.as_deref(), true),
    ];
    for (file, required) in files {
        let Some(file) = file else { continue };
        let Some(tree) = read_file(file, required)? else {
            continue;
        };
        let mut flat = BTreeMap::new();
        flatten(&tree, "", &mut flat);
        for (path, value) in flat {
            leaves.insert(path, (value, Source::File(file.to_path_buf())));
        }
    }

    let list_leaves: Vec<String> = leaves
        .iter()
        .filter(|(_, (v, _))| v.is_sequence())
        .map(|(k, _)| k.clone())
        .collect();
    let env: BTreeMap<&str, &str> = options
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (path, text, var) in env::settings_from(&env, leaves.keys())? {
        let origin = format!("environment variable {var}");
        let value = setting_value(&text, list_leaves.contains(&path), &origin)?;
        validate_setting(&path, &value, origin)?;
        leaves.insert(path, (value, Source::Env(var)));
    }

    for (path, text, flag) in &options.flags {
        let origin = format!("flag {flag}");
        let value = setting_value(text, list_leaves.contains(path), &origin)?;
        validate_setting(path, &value, origin)?;
        leaves.insert(path.clone(), (value, Source::Flag(flag.clone())));
    }

    let merged = unflatten(leaves.iter().map(|(k, (v, _))| (k.as_str(), v.clone())));
    let config: Config = serde_path_to_error::deserialize(merged)
        .map_err(|e| ConfigError::from_setting("merged configuration".to_owned(), e))?;
    Ok(Effective { config, leaves })
}

/// Reads and validates one file. None when an optional file does not exist.
///
/// Only a regular file of at most [`CONFIG_FILE_LIMIT`] bytes is read (never more than that is
/// held in memory), and its nesting is checked before serde_yaml parses it, so any file is
/// accepted or refused quickly.
fn read_file(file: &Path, required: bool) -> Result<Option<Value>, ConfigError> {
    let unreadable = |reason: String| ConfigError::Unreadable {
        file: file.display().to_string(),
        reason,
    };
    let bytes = match read_capped(file, CONFIG_FILE_LIMIT) {
        Ok(bytes) => bytes,
        Err(e) => match &e.problem {
            Problem::Io(std::io::ErrorKind::NotFound, _) if !required => return Ok(None),
            // A directory on the way we may not enter (HOME still pointing at root's home under
            // setpriv or sudo) hides whether the file exists at all: an optional file we cannot
            // even see is treated as absent. A file we can see but not read is still an error.
            Problem::Io(std::io::ErrorKind::PermissionDenied, _)
                if !required && std::fs::symlink_metadata(file).is_err() =>
            {
                return Ok(None)
            }
            problem => return Err(unreadable(problem.to_string())),
        },
    };
    let text = yaml::text_of(bytes).map_err(unreadable)?;
    // An empty file is a valid, empty layer (whitespace neither nests nor holds an alias).
    if text.trim().is_empty() {
        return Ok(Some(Value::Null));
    }
    yaml::deserialize::<Config>(file, &text)?;
    let tree: Value = serde_yaml::from_str(&text).map_err(|e| ConfigError::InFile {
        file: file.display().to_string(),
        line: e.location().map_or(1, |l| l.line()),
        column: e.location().map_or(1, |l| l.column()),
        path: "(top level)".to_owned(),
        message: e.to_string(),
    })?;
    Ok(Some(tree))
}

/// Reads an environment or flag value: YAML for scalars (`true`, `5`, `2s`), and for lists
/// either a YAML list (`[a, b]`) or comma-separated items (`env:prod,service:web`).
/// A value nested past the limit is refused like a file would be (an environment variable can
/// hold 128 KiB of `[`).
fn setting_value(text: &str, is_list: bool, origin: &str) -> Result<Value, ConfigError> {
    let trimmed = text.trim();
    if is_list && !trimmed.starts_with('[') {
        let items = trimmed
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_owned()))
            .collect();
        return Ok(Value::Sequence(items));
    }
    nesting::check(trimmed).map_err(|refusal| yaml::refused(origin.to_owned(), refusal))?;
    Ok(match serde_yaml::from_str::<Value>(trimmed) {
        Ok(Value::Mapping(_)) | Err(_) => Value::String(text.to_owned()),
        Ok(value) => value,
    })
}

fn validate_setting(path: &str, value: &Value, origin: String) -> Result<(), ConfigError> {
    let tree = unflatten(std::iter::once((path, value.clone())));
    serde_path_to_error::deserialize::<_, Config>(tree)
        .map(drop)
        .map_err(|e| ConfigError::from_setting(origin, e))
}

fn flatten(value: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let key = match key {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let path = if prefix.is_empty() {
                    key
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(child, &path, out);
            }
        }
        Value::Null if prefix.is_empty() => {}
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

fn unflatten<'a>(leaves: impl Iterator<Item = (&'a str, Value)>) -> Value {
    let mut root = Mapping::new();
    for (path, value) in leaves {
        let mut node = &mut root;
        let parts: Vec<&str> = path.split('.').collect();
        let Some((last, parents)) = parts.split_last() else {
            continue;
        };
        for part in parents {
            let key = Value::String((*part).to_owned());
            if !matches!(node.get(&key), Some(Value::Mapping(_))) {
                node.insert(key.clone(), Value::Mapping(Mapping::new()));
            }
            node = match node.get_mut(&key) {
                Some(Value::Mapping(child)) => child,
                _ => return Value::Mapping(root),
            };
        }
        node.insert(Value::String((*last).to_owned()), value);
    }
    Value::Mapping(root)
}

#[cfg(test)]
mod tests;
