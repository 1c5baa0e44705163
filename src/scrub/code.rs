//! Reading words of shell text that are code rather than a command (what people pass to
//! `perl -e`, `python -c`, `node -e`, or write as JSON and YAML): whether a word assigns
//! (`=`, `:`, `=>`), computes a value (`getpass(…)`, `$T`), is a mapping's key (`token:`) or
//! opens an object (`{"password":`). These decide whether the word after a key is its value.

use super::mask::closing_quote;

/// When `word` is only operator characters (`=`, `:`, `=>`, `?`, `==`), whether it assigns a
/// value (`Some(true)`: `=`, `:`, `=>`, `:=`) or compares or selects (`Some(false)`).
pub(super) fn operator(word: &str) -> Option<bool> {
    if word.is_empty() || !word.bytes().all(|b| b"=:!<>?~+-*/%|&.".contains(&b)) {
        return None;
    }
    Some(matches!(word, "=" | ":" | "=>" | ":="))
}

/// Whether a word after `key =` in code computes its value rather than giving it: a call
/// (`getpass(`, `os.getenv(`) or a variable (`$T`).
pub(super) fn is_expression(word: &str) -> bool {
    if word.starts_with('$') {
        return true;
    }
    // A call, a subscript or an attribute (`getpass(`, `os.environ['X']`, `cfg.pw`) before
    // any quote; a literal in code is quoted or a number.
    match word.find(['(', '[', '.']) {
        Some(at) => at > 0 && !word[..at].contains(['"', '\'']),
        None => false,
    }
}

/// Whether a word is a key of a mapping and nothing else (`token:`, `"db":`), as YAML and
/// JSON split at whitespace give them.
pub(super) fn is_mapping_key(word: &str) -> bool {
    word.strip_suffix(':')
        .map(|key| key.trim_matches(['"', '\'']))
        .is_some_and(|key| {
            !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        })
}

/// Whether a word of shell text opens an object whose first key is written quoted
/// (`{"password":`, `[{'token':`), as JSON and Python dictionaries split at whitespace are.
pub(super) fn opens_object(word: &str) -> bool {
    let inner = word.trim_start_matches(['{', '[']);
    if !word[..word.len() - inner.len()].contains('{') {
        return false;
    }
    closing_quote(inner).is_some_and(|close| inner.as_bytes().get(close + 1) == Some(&b':'))
}
