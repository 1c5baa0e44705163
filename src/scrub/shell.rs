//! Splitting shell text found inside an argument (`sh -c "…"`) into words, the way a shell
//! would, closely enough to find the secrets in it. Nothing is unquoted or rewritten: the words
//! are ranges of the original text, so everything not hidden comes back exactly as written.

use std::ops::Range;

/// A shell variable assignment, `NAME=value`, which may come before the command's name.
pub(super) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| is_name(name))
}

/// A shell variable name: a letter or `_`, then letters, digits and `_`.
pub(super) fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The control operators that end one command and start the next.
pub(super) fn is_control_operator_word(word: &str) -> bool {
    matches!(word, ";" | ";;" | "&&" | "||" | "|" | "&")
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
///
/// A quote that never closes is an ordinary character, as in the text a process title is
/// (`--name=O'Brien --password=x`): it must not glue the rest of the text into one word.
pub(super) fn shell_words(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    // Quote characters found not to close: from there on they quote nothing. Each can be found
    // so only once, so a text is scanned at most three times.
    let mut unclosed: Vec<u8> = Vec::new();
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
                None if (b == b'\'' || b == b'"') && !unclosed.contains(&b) => quote = Some(b),
                Some(q) if b == q => quote = None,
                // A backslash escapes the next byte, except between single quotes.
                None | Some(b'"') if b == b'\\' => i += 1,
                _ => {}
            }
            i += 1;
            if i >= bytes.len() {
                if let Some(q) = quote.take() {
                    // Read this word again from its start, with this quote as a character.
                    unclosed.push(q);
                    i = start;
                }
            }
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

/// The words of shell text that are secrets fed to another program's standard input, by
/// index: the arguments of `echo`/`printf` piped into a program that reads a password from
/// its input (`echo pw | docker login --password-stdin`, `echo user:pw | chpasswd`,
/// `echo pw | sudo -S …`), and the word after `<<<` given to one.
pub(super) fn piped_secrets(text: &str, words: &[Range<usize>]) -> Vec<usize> {
    let word = |i: usize| text.get(words[i].clone()).unwrap_or_default();
    // Commands as ranges of word indices, and whether a `|` joins each to the next.
    let mut commands: Vec<(Range<usize>, bool)> = Vec::new();
    let mut start = 0;
    for i in 0..words.len() {
        let w = word(i);
        if is_control_operator_word(w) {
            commands.push((start..i, w == "|"));
            start = i + 1;
        }
    }
    commands.push((start..words.len(), false));

    let mut secrets = Vec::new();
    for (at, (range, piped)) in commands.iter().enumerate() {
        if reads_secret_from_stdin(range.clone().map(word)) {
            secrets.extend(here_strings(range.clone(), &word));
        }
        let Some((next, _)) = commands.get(at + 1) else {
            continue;
        };
        if !piped || !reads_secret_from_stdin(next.clone().map(word)) {
            continue;
        }
        let mut words_of = range.clone().skip_while(|&i| is_assignment(word(i)));
        let Some(command) = words_of.next() else {
            continue;
        };
        match unquote(word(command)).1.rsplit('/').next() {
            Some("echo") => secrets.extend(words_of.filter(|&i| !word(i).starts_with('-'))),
            Some("printf") => secrets.extend(words_of),
            // `cat <<< 'pw' | docker login --password-stdin`
            _ => secrets.extend(here_strings(range.clone(), &word)),
        }
    }
    secrets
}

/// The words given as here-strings (`<<< word`, `<<<word`) among the words `range`.
fn here_strings<'a>(range: Range<usize>, word: &impl Fn(usize) -> &'a str) -> Vec<usize> {
    let mut found = Vec::new();
    for i in range.clone() {
        if word(i) == "<<<" && i + 1 < range.end {
            found.push(i + 1);
        } else if word(i).starts_with("<<<") && word(i).len() > 3 {
            found.push(i);
        }
    }
    found
}

/// Whether a command (its words) reads a password or token from its standard input.
fn reads_secret_from_stdin<'a>(mut words: impl Iterator<Item = &'a str>) -> bool {
    let Some(command) = words.by_ref().find(|w| !is_assignment(w)) else {
        return false;
    };
    let program = unquote(command).1.rsplit('/').next().unwrap_or_default();
    if matches!(program, "chpasswd" | "passwd" | "kinit" | "cryptsetup") {
        return true;
    }
    words.any(|w| match w {
        "--password-stdin" | "--with-token" | "--stdin" | "stdin" => true,
        "-S" => program == "sudo",
        "-i" => program == "htpasswd",
        "-s" => program == "smbpasswd",
        "-" => program == "vault",
        _ => false,
    })
}

/// When a word of shell text has quotes or backslashes inside its key part (before its first
/// unquoted `=`, `:` or `(`, or the whole word without one), not just around it: the length of that
/// part and the part as the shell reads it. One pass over the word.
pub(super) fn glued_quotes(word: &str) -> Option<(usize, String)> {
    let mut key = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut glued = false;
    let mut end = word.len();
    let bytes_start = word.trim_start_matches(['{', '[', '(']).len();
    let lead = word.len() - bytes_start;
    for (i, c) in word.char_indices() {
        if escaped {
            key.push(c);
            escaped = false;
            continue;
        }
        match (quote, c) {
            // A key ends at its separator; a call's arguments are values.
            (None, '=' | ':' | '(') => {
                end = i;
                break;
            }
            (None | Some('"'), '\\') => {
                escaped = true;
                glued = true;
            }
            (None, '\'' | '"') => {
                // A quote that opens the key part (`"password":`) is only around it.
                glued |= i > lead;
                quote = Some(c);
            }
            (Some(q), c) if c == q => {
                glued |= word[i + 1..].starts_with(|n: char| n.is_alphanumeric() || n == '-');
                quote = None;
            }
            _ => key.push(c),
        }
    }
    (glued && quote.is_none() && !key.is_empty()).then_some((end, key))
}
