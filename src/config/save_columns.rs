//! Saving the explorer's column choice (`ui.columns`) to the user's configuration file, and
//! nothing else of it.
//!
//! The file is the user's, with their comments and layout: it is edited as text, one key, not
//! parsed and printed again (which would drop every comment). The edit replaces the `columns:`
//! line under the top-level `ui:` (and a block list under it), or adds one, or adds `ui:` at
//! the end. Before anything is written, the edited text is parsed and compared with the
//! original: if anything but `ui.columns` differs, or `ui.columns` is not the list asked for
//! (a layout this edit does not understand, such as `ui: {sort: cpu}`), the file is left alone
//! and the error says what to add by hand.
//!
//! The file is written as every file wiretop writes (see [`crate::files`]): never through a
//! symbolic link, never someone else's file or one others may read, a new one created 0600.

use std::io::Write;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::files::{open_private_replace, read_capped};
use crate::ui::columns::Column;

/// Configuration files are small; a bigger one is not the user's config.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Why the columns were not saved: a sentence for the explorer's message line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    #[error("no configuration file to save to: neither XDG_CONFIG_HOME nor HOME is set")]
    NoPath,
    #[error("{0}")]
    Unsafe(String),
    #[error("cannot edit {path} safely ({why}); add `ui: {{columns: {list}}}` yourself")]
    Layout {
        path: String,
        why: &'static str,
        list: String,
    },
    #[error("cannot save to {path}: {reason}")]
    Io { path: String, reason: String },
}

/// `[pid, user, cpu, command]`: the columns as `ui.columns` names them.
pub fn flow_list(columns: &[Column]) -> String {
    let names: Vec<&str> = columns.iter().map(|c| c.config_name()).collect();
    format!("[{}]", names.join(", "))
}

/// Writes `columns` as `ui.columns` into the file at `path` (created, with its directory, when
/// missing), keeping everything else in it as it was.
pub fn save_columns(path: Option<&Path>, columns: &[Column]) -> Result<PathBuf, SaveError> {
    let path = path.ok_or(SaveError::NoPath)?;
    let shown = path.display().to_string();
    let io = |e: std::io::Error| SaveError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let original = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(SaveError::Unsafe(format!(
                "refusing to write {shown}: it is a symbolic link"
            )))
        }
        Ok(_) => {
            let bytes = read_capped(path, MAX_CONFIG_BYTES)
                .map_err(|e| SaveError::Unsafe(e.to_string()))?;
            String::from_utf8(bytes).map_err(|_| SaveError::Io {
                path: shown.clone(),
                reason: "it is not UTF-8 text".to_owned(),
            })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io(e)),
    };
    let edited = with_columns(&original, columns).map_err(|why| SaveError::Layout {
        path: shown.clone(),
        why,
        list: flow_list(columns),
    })?;
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    let mut file = open_private_replace(path).map_err(|e| SaveError::Unsafe(e.to_string()))?;
    file.write_all(edited.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(path.to_owned())
}

/// `text` with its `ui.columns` set to `columns`; Err (why) when the edit cannot be made
/// without touching anything else.
pub fn with_columns(text: &str, columns: &[Column]) -> Result<String, &'static str> {
    let before: Value = parse(text)?;
    let edited = edit_text(text, &flow_list(columns))?;
    let after: Value = parse(&edited)?;
    let wanted: Vec<Value> = columns
        .iter()
        .map(|c| Value::String(c.config_name().to_owned()))
        .collect();
    if after.get("ui").and_then(|ui| ui.get("columns")) != Some(&Value::Sequence(wanted)) {
        return Err("its `ui` section has a layout this edit does not understand");
    }
    if without_columns(before) != without_columns(after) {
        return Err("the edit would change more than ui.columns");
    }
    Ok(edited)
}

fn parse(text: &str) -> Result<Value, &'static str> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_yaml::from_str(text).map_err(|_| "it is not valid YAML")
}

/// The document with `ui.columns` (and a `ui` left empty by that) taken out.
fn without_columns(mut doc: Value) -> Value {
    if let Some(map) = doc.as_mapping_mut() {
        let emptied = match map.get_mut("ui").and_then(Value::as_mapping_mut) {
            Some(ui) => {
                ui.remove("columns");
                ui.is_empty()
            }
            None => false,
        };
        if emptied {
            map.remove("ui");
        }
        if map.is_empty() {
            return Value::Null;
        }
    }
    doc
}

/// The text edit itself; [`with_columns`] checks its result.
fn edit_text(text: &str, list: &str) -> Result<String, &'static str> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(ui) = lines.iter().position(|l| is_key(l, "ui")) else {
        let mut out = text.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("ui:\n  columns: {list}\n"));
        return Ok(out);
    };
    if !value_after_key(lines[ui]).is_empty() {
        return Err("its `ui:` has a value on the same line");
    }
    // The section: the lines after `ui:` that are indented, blank or comments.
    let end = (ui + 1..lines.len())
        .find(|&i| {
            let l = lines[i];
            !l.trim().is_empty() && !l.starts_with(' ') && !l.trim_start().starts_with('#')
        })
        .unwrap_or(lines.len());
    let indent = (ui + 1..end)
        .map(|i| lines[i])
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map_or(2, |l| l.len() - l.trim_start().len());
    let pad = " ".repeat(indent);
    let mut out: Vec<String> = lines[..=ui].iter().map(|l| (*l).to_owned()).collect();
    let mut replaced = false;
    let mut i = ui + 1;
    while i < end {
        let line = lines[i];
        let own_indent = line.len() - line.trim_start().len();
        if !replaced && own_indent == indent && is_key(&line[indent..], "columns") {
            out.push(format!("{pad}columns: {list}"));
            replaced = true;
            i += 1;
            // A block list under it (`- pid`, indented or not) goes with it.
            while i < end {
                let next = lines[i];
                let next_indent = next.len() - next.trim_start().len();
                let item = next.trim_start().starts_with('-') && next_indent >= indent;
                if item || (next_indent > indent && !next.trim().is_empty()) {
                    i += 1;
                } else {
                    break;
                }
            }
            continue;
        }
        out.push(line.to_owned());
        i += 1;
    }
    if !replaced {
        out.insert(ui + 1, format!("{pad}columns: {list}"));
    }
    out.extend(lines[end..].iter().map(|l| (*l).to_owned()));
    let mut text = out.join("\n");
    text.push('\n');
    Ok(text)
}

/// Whether `line` (its indentation already taken off, or none) starts the key `key:`.
fn is_key(line: &str, key: &str) -> bool {
    line.strip_prefix(key).is_some_and(|rest| {
        rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t']))
    })
}

/// What follows `key:` on its line, comments left out.
fn value_after_key(line: &str) -> &str {
    let rest = line.split_once(':').map_or("", |(_, rest)| rest);
    rest.split(" #").next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: [Column; 3] = [Column::Pid, Column::Service, Column::Command];

    #[test]
    fn edits_keep_comments_and_every_other_key() {
        let cases: &[(&str, &str)] = &[
            ("", "ui:\n  columns: [pid, service, command]\n"),
            (
                "# mine\ntags: [a]\n",
                "# mine\ntags: [a]\nui:\n  columns: [pid, service, command]\n",
            ),
            (
                "ui:\n  # sort by memory\n  sort: mem\n",
                "ui:\n  columns: [pid, service, command]\n  # sort by memory\n  sort: mem\n",
            ),
            (
                "ui:\n    columns: [pid]   # old\n    sort: mem\ntags: []\n",
                "ui:\n    columns: [pid, service, command]\n    sort: mem\ntags: []\n",
            ),
            (
                "ui:\n  columns:\n  - pid\n  - cpu\n  sort: mem\n",
                "ui:\n  columns: [pid, service, command]\n  sort: mem\n",
            ),
            (
                "ui:\n  columns:\n    - pid\n    - cpu\n# end\n",
                "ui:\n  columns: [pid, service, command]\n# end\n",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(
                with_columns(before, &LIST).as_deref(),
                Ok(*after),
                "{before}"
            );
        }
    }

    #[test]
    fn layouts_it_does_not_understand_are_left_alone() {
        for text in [
            "ui: {sort: mem}\n",
            "ui: [\n",
            "ui:\n  columns: &a [pid]\nx: *a\n",
        ] {
            assert!(with_columns(text, &LIST).is_err(), "{text}");
        }
    }
}
