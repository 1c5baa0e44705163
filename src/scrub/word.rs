//! Sensitive words: compiled once when the scrubber is built, then matched against argument keys.
//!
//! Matching is a hand-written glob on folded text rather than a regex: the only operator is `*`,
//! and splitting a word at its `*`s and finding the pieces left to right is linear in the key, so
//! no argument a process chooses can make the sampler slow.

use std::borrow::Cow;

use super::ScrubError;

/// A sensitive word ready for matching.
#[derive(Debug, Clone)]
pub(super) struct Word {
    /// The literal text between the `*`s, folded, in order; never empty strings.
    pieces: Vec<String>,
    /// The word starts with `*`: anything may come before the first piece.
    open_start: bool,
    /// The word ends with `*`: anything may come after the last piece.
    open_end: bool,
}

impl Word {
    /// Compiles one configured word, refusing words that could never match or would match
    /// everything, because either is surely a configuration mistake the user wants to hear of.
    pub(super) fn compile(word: &str) -> Result<Word, ScrubError> {
        // Keys are compared without their leading dashes, so `--api-token` in the configuration
        // means the flag `--api-token`, not a key that starts with dashes (there is none).
        let bare = word.trim_start_matches('-');
        if bare.is_empty() {
            return Err(ScrubError::EmptyWord {
                word: word.to_owned(),
            });
        }
        if bare.chars().all(|c| c == '*') {
            return Err(ScrubError::OnlyWildcards {
                word: word.to_owned(),
            });
        }
        if let Some(found) = bare.chars().find(|&c| !can_be_in_key(c)) {
            return Err(ScrubError::ImpossibleCharacter {
                word: word.to_owned(),
                found,
            });
        }
        let folded = fold(bare);
        Ok(Word {
            pieces: folded
                .split('*')
                .filter(|piece| !piece.is_empty())
                .map(str::to_owned)
                .collect(),
            open_start: folded.starts_with('*'),
            open_end: folded.ends_with('*'),
        })
    }

    /// Whether `key`, already [`fold`]ed, is this word.
    pub(super) fn matches(&self, key: &str) -> bool {
        let pieces = self.pieces.as_slice();
        let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
            // Unreachable for compiled words (they hold at least one literal character); a word
            // with no pieces would be all wildcards, which is refused.
            return false;
        };
        if !self.open_start && !self.open_end && pieces.len() == 1 {
            return key == first.as_str();
        }
        // The part of the key still free for the floating pieces.
        let mut low = 0;
        let mut high = key.len();
        let mut floating = pieces;
        if !self.open_start {
            if !key.starts_with(first.as_str()) {
                return false;
            }
            low = first.len();
            floating = &floating[1..];
        }
        if !self.open_end {
            // With both ends closed there is a `*` in between, so `first` and `last` are two
            // different pieces and must not overlap in the key.
            if key.len() < low + last.len() || !key.ends_with(last.as_str()) {
                return false;
            }
            high = key.len() - last.len();
            floating = floating.split_last().map_or(floating, |(_, rest)| rest);
        }
        // Taking each piece at its leftmost place leaves the most room for the ones after it, so
        // the greedy search never needs to backtrack.
        for piece in floating {
            match key
                .get(low..high)
                .and_then(|free| free.find(piece.as_str()))
            {
                Some(at) => low += at + piece.len(),
                None => return false,
            }
        }
        true
    }
}

/// Whether a character can occur in an argument key at all. Keys end at the first `=` or `:` and
/// at whitespace, and a key with `/` is a path, which is never treated as a key.
fn can_be_in_key(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || matches!(c, '=' | ':' | '/'))
}

/// Folds text for comparison: lowercase, and `-` written as `_`, so that `X-Api-Key` and
/// `x_api_key` are the same key. Borrows when there is nothing to change (the common case).
pub(super) fn fold(text: &str) -> Cow<'_, str> {
    // Non-ASCII text always takes the full path: some letters change under lowercasing without
    // being uppercase (titlecase digraphs), and this is not worth a finer test.
    if text.is_ascii() && !text.bytes().any(|b| b == b'-' || b.is_ascii_uppercase()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .flat_map(char::to_lowercase)
            .map(|c| if c == '-' { '_' } else { c })
            .collect(),
    )
}
