//! Splitting shell text found inside an argument (`sh -c "…"`) into words, the way a shell
//! would, closely enough to find the secrets in it. Nothing is unquoted or rewritten: the words
//! are ranges of the original text, so everything not hidden comes back exactly as written.

use std::ops::Range;

/// A shell variable assignment, `NAME=value`, which may come before the command's name.
pub(super) fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A word wholly inside one pair of quotes, split into the quotes and what they hold.
pub(super) fn unquote(word: &str) -> (&str, &str, &str) {
    let bytes = word.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last))
            if bytes.len() >= 2 && first == last && matches!(first, b'\'' | b'"') =>
        {
            (
                &word[..1],
                &word[1..word.len() - 1],
                &word[word.len() - 1..],
            )
        }
        _ => ("", word, ""),
    }
}

/// The words of shell text, as byte ranges: split at unquoted whitespace, with quotes and
/// backslash escapes kept inside the words (they are only looked through, not removed). The
/// control operators `;`, `|`, `||`, `&`, `&&` are words of their own even when written against
/// another word (`mysql -psecret; ls`), because they end one command and start the next.
pub(super) fn shell_words(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if is_control_operator(bytes, i) {
            // `;;`, `||`, `&&` are one operator; a single character otherwise.
            let doubled = bytes.get(i + 1) == Some(&bytes[i]);
            i += if doubled { 2 } else { 1 };
            words.push(start..i);
            continue;
        }
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                None if b.is_ascii_whitespace() || is_control_operator(bytes, i) => break,
                None if b == b'\'' || b == b'"' => quote = Some(b),
                Some(q) if b == q => quote = None,
                // A backslash escapes the next byte, except between single quotes.
                None | Some(b'"') if b == b'\\' => i += 1,
                _ => {}
            }
            i += 1;
        }
        // Stepping over an escaped last byte may overshoot the end.
        let end = i.min(bytes.len());
        // An escaped byte may be the first of a multi-byte character; move to its end.
        let end = (end..=bytes.len())
            .find(|&e| text.is_char_boundary(e))
            .unwrap_or(bytes.len());
        words.push(start..end);
        i = end;
    }
    words
}

/// Whether the unquoted byte at `i` is (the start of) a control operator. The `&` of a
/// redirection (`2>&1`, `&>file`) is not one.
fn is_control_operator(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        b';' | b'|' => true,
        b'&' => {
            let after_redirect = i > 0 && matches!(bytes[i - 1], b'>' | b'<');
            !after_redirect && bytes.get(i + 1) != Some(&b'>')
        }
        _ => false,
    }
}
