//! Credentials inside URLs: `scheme://user:password@host` and secret query parameters.
//!
//! The scan works on bytes: every delimiter it looks for is ASCII, and ASCII bytes never occur
//! inside a multi-byte UTF-8 sequence, so every position it cuts at is a character boundary.

use std::ops::Range;

use super::MASK;

/// Masks the password (or the lone token) in the userinfo of every URL in `text`, and the value
/// of every query or fragment parameter whose name `is_secret` accepts (`?api_key=…`,
/// `#access_token=…`). Returns `None` when there is nothing to mask.
pub(super) fn scrub_urls(text: &str, is_secret: &dyn Fn(&str) -> bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut masks: Vec<Range<usize>> = Vec::new();
    // Whether `i` is past a `scheme://` with no whitespace since: parameters only count there,
    // so `a?password=b` in ordinary text is left to the key rules.
    let mut in_url = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            in_url = false;
        } else if b == b':' && bytes[i + 1..].starts_with(b"//") && has_scheme_before(bytes, i) {
            in_url = true;
            let authority = i + 3;
            i = authority;
            if let Some(at) = last_at_in_authority(bytes, authority) {
                masks.extend(userinfo_secret(bytes, authority, at));
                // The userinfo may hold `&` or `;`; it has been dealt with and is not a query.
                i = at + 1;
            }
            continue;
        } else if in_url && matches!(b, b'?' | b'&' | b';' | b'#') {
            if let Some(value) = secret_parameter(text, i + 1, is_secret) {
                i = value.end;
                if !value.is_empty() {
                    masks.push(value);
                }
                continue;
            }
        }
        i += 1;
    }
    apply_masks(text, &masks)
}

/// Whether the `:` at `colon` ends a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*`). The scheme is the
/// run of scheme characters before it, from its first letter (`--db=postgres://` has `postgres`).
fn has_scheme_before(bytes: &[u8], colon: usize) -> bool {
    let mut start = colon;
    while start > 0 && is_scheme_byte(bytes[start - 1]) {
        start -= 1;
    }
    bytes[start..colon].iter().any(u8::is_ascii_alphabetic)
}

/// Whether the scheme ending at the `:` at `colon` is a web one (`http`, `https`, `ws`, `wss`,
/// `git+https`), whose lone userinfo is a token rather than a user name.
fn is_web_scheme(bytes: &[u8], colon: usize) -> bool {
    let mut start = colon;
    while start > 0 && is_scheme_byte(bytes[start - 1]) {
        start -= 1;
    }
    let scheme = &bytes[start..colon];
    let scheme = scheme
        .iter()
        .rposition(|&b| b == b'+')
        .map_or(scheme, |plus| &scheme[plus + 1..]);
    ["http", "https", "ws", "wss"]
        .iter()
        .any(|s| s.as_bytes().eq_ignore_ascii_case(scheme))
}

fn is_scheme_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')
}

/// The last `@` of the authority that starts at `from`, which ends at the first `/`, `?`, `#` or
/// whitespace. The last rather than the first, as most URL parsers do, so that a password with
/// an unencoded `@` (`u:p@ss@host`) is masked whole instead of leaking its tail as the host.
/// A password with an unencoded `#` or `?` (`mysql://root:p#ss@db`) would end the authority
/// early and leak: an `@` after it, before any `/`, still ends the userinfo when a `:` came
/// before the `#` (so `https://example.com?email=a@b.com` is no userinfo).
fn last_at_in_authority(bytes: &[u8], from: usize) -> Option<usize> {
    let mut last = None;
    let mut last_anywhere = None;
    let mut query = None;
    for (offset, &b) in bytes[from..].iter().enumerate() {
        if b == b'/' || b.is_ascii_whitespace() {
            break;
        }
        if matches!(b, b'?' | b'#') && query.is_none() {
            query = Some(from + offset);
        }
        if b == b'@' {
            if query.is_none() {
                last = Some(from + offset);
            }
            last_anywhere = Some(from + offset);
        }
    }
    match (last_anywhere, query) {
        (Some(at), Some(query)) if at > query && bytes[from..query].contains(&b':') => Some(at),
        _ => last,
    }
}

/// What to hide of the userinfo `bytes[start..at]`: the password after the first `:`, or, when
/// there is no password, the user part itself in a web URL, because `https://TOKEN@host` and
/// `https://TOKEN:@host` carry their secret there (elsewhere, `ssh://git@host` and
/// `rsync://backup@nas` name a user).
fn userinfo_secret(bytes: &[u8], start: usize, at: usize) -> Option<Range<usize>> {
    let userinfo = &bytes[start..at];
    if userinfo.is_empty() {
        return None;
    }
    match userinfo.iter().position(|&b| b == b':') {
        None if is_web_scheme(bytes, start - 3) => Some(start..at),
        None => None,
        Some(colon) if colon + 1 < userinfo.len() => Some(start + colon + 1..at),
        // Only `:`: nothing was given.
        Some(0) => None,
        Some(colon) => Some(start..start + colon),
    }
}

/// When the parameter starting at `from` is `name=value` with a secret name, the range of its
/// value (up to `&`, `;`, `#` or whitespace).
fn secret_parameter(
    text: &str,
    from: usize,
    is_secret: &dyn Fn(&str) -> bool,
) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let ends_name =
        |b: u8| matches!(b, b'=' | b'?' | b'&' | b';' | b'#') || b.is_ascii_whitespace();
    let name_end = bytes[from..]
        .iter()
        .position(|&b| ends_name(b))
        .map_or(bytes.len(), |offset| from + offset);
    if name_end == from || bytes.get(name_end) != Some(&b'=') || !is_secret(&text[from..name_end]) {
        return None;
    }
    let start = name_end + 1;
    let end = bytes[start..]
        .iter()
        .position(|&b| matches!(b, b'&' | b';' | b'#') || b.is_ascii_whitespace())
        .map_or(bytes.len(), |offset| start + offset);
    Some(start..end)
}

/// `text` with each range (sorted, not overlapping, on character boundaries) replaced by
/// [`MASK`], or `None` if there are no ranges.
pub(super) fn apply_masks(text: &str, masks: &[Range<usize>]) -> Option<String> {
    if masks.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + masks.len() * MASK.len());
    let mut copied = 0;
    for mask in masks {
        // The ranges come from ASCII delimiters, so `get` cannot fail; if it ever did, hiding
        // the whole text is the safe way to be wrong.
        let Some(before) = text.get(copied..mask.start) else {
            return Some(MASK.to_owned());
        };
        out.push_str(before);
        out.push_str(MASK);
        copied = mask.end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    Some(out)
}
