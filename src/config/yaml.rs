//! Reading a YAML document wiretop was given in a file (a configuration layer, a baseline): the
//! checks made before serde_yaml sees the text, and errors that say `FILE:line:column: key:
//! what is wrong`. One way for every such file, so each gets the same limits and the same
//! wording.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::error::ConfigError;
use super::nesting;

/// The file's bytes as text; otherwise why not, naming where the first byte that is not UTF-8
/// sits (the caller puts the file name in front).
pub(crate) fn text_of(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(valid.rsplit(|&b| b == b'\n').next().unwrap_or(&[]))
            .chars()
            .count()
            + 1;
        format!("it is not UTF-8 text (an invalid byte at line {line}, column {column})")
    })
}

/// `text`, the contents of `file`, deserialized as a `T`. Refused before serde_yaml reads it
/// when it nests too deep or uses an alias (see [`nesting`]); a value of the wrong type, an
/// unknown key or malformed YAML comes back with its line, column and key path.
pub(crate) fn deserialize<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    nesting::check(text).map_err(|refusal| refused(file.display().to_string(), refusal))?;
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).map_err(|e| ConfigError::from_file(file, e))
}

/// The error for a document refused before it is parsed.
pub(super) fn refused(origin: String, refusal: nesting::Refusal) -> ConfigError {
    match refusal {
        nesting::Refusal::TooDeep(at) => ConfigError::TooDeep {
            origin,
            line: at.line,
            column: at.column,
            limit: nesting::MAX_DEPTH,
        },
        nesting::Refusal::Alias { line, column } => ConfigError::Alias {
            origin,
            line,
            column,
        },
    }
}
