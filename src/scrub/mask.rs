//! Hiding a value once it is known to be secret, keeping whatever part of it is not.

use super::{Pending, MASK};

/// Authorization schemes kept in front of a masked credential: they tell the reader what kind
/// of credential was there without revealing it.
const AUTH_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "digest",
    "token",
    "negotiate",
    "ntlm",
    "aws4-hmac-sha256",
];

/// `value` hidden, keeping the whitespace before it (`X-Api-Key: ********`); `None` when the
/// value is empty, as there is nothing to hide.
pub(super) fn mask_value(value: &str) -> Option<String> {
    let (gap, secret) = split_leading_whitespace(value);
    (!secret.is_empty()).then(|| format!("{gap}{MASK}"))
}

/// An authorization value with its credential hidden and its scheme kept (`Bearer ********`),
/// and whether the credential is still to come as the next word (the value was empty or only a
/// scheme).
pub(super) fn mask_authorization(value: &str) -> (Option<String>, Pending) {
    let (gap, rest) = split_leading_whitespace(value);
    if rest.is_empty() {
        return (None, Pending::Authorization);
    }
    let scheme_end = rest
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(rest.len());
    let (scheme, after) = rest.split_at(scheme_end);
    // In code the value may be a string: `'Bearer x'`, `` `Bearer x` ``.
    let scheme = scheme.trim_start_matches(['\'', '"', '`']);
    if !AUTH_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return (Some(format!("{gap}{MASK}")), Pending::Nothing);
    }
    let (space, credential) = split_leading_whitespace(after);
    if credential.is_empty() {
        return (None, Pending::Mask);
    }
    let opening = &rest[..scheme_end - scheme.len()];
    (
        Some(format!("{gap}{opening}{scheme}{space}{MASK}")),
        Pending::Nothing,
    )
}

/// `user:password` (with `separator` between them) with the password hidden. A user alone is
/// left (the program will ask for the password); a user with an empty password is hidden, as
/// that is how API tokens are passed (`curl -u sk_live_…:`).
pub(super) fn mask_user_password(value: &str, separator: u8) -> Option<String> {
    let at = value.bytes().position(|b| b == separator)?;
    let (user, password) = (&value[..at], &value[at + 1..]);
    let separator = char::from(separator);
    if !password.is_empty() {
        Some(format!("{user}{separator}{MASK}"))
    } else if !user.is_empty() {
        Some(format!("{MASK}{separator}"))
    } else {
        None
    }
}

/// An Oracle logon, `user/password[@database]`, with the password hidden; `None` when `value`
/// is no such logon (`/nolog`, `/ as sysdba`, a path, a script `@file.sql`).
pub(super) fn mask_logon(value: &str) -> Option<String> {
    let slash = value.find('/')?;
    let user = &value[..slash];
    let is_user_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '#' | '.' | '"');
    if user.is_empty() || !user.chars().all(is_user_char) {
        return None;
    }
    let rest = &value[slash + 1..];
    let end = rest
        .find(|c: char| c == '@' || c.is_whitespace())
        .unwrap_or(rest.len());
    if end == 0 || rest[..end].contains('/') {
        return None;
    }
    Some(format!("{user}/{MASK}{}", &rest[end..]))
}

/// A word of shell text hidden whole, except the quotes around it and the punctuation that
/// follows its closing quote (`'pw');` becomes `'********');`), so the text keeps its shape.
/// Anything else after the quote is part of the same word to a shell (`'pw'x` is `pwx`) and
/// goes too.
pub(super) fn mask_whole(value: &str) -> String {
    if let Some(close) = closing_quote(value) {
        let tail = &value[close + 1..];
        if tail.bytes().all(|b| b")];,}".contains(&b)) {
            return format!("{}{MASK}{}", &value[..1], &value[close..]);
        }
    }
    MASK.to_owned()
}

/// Where the quote that opens `text` closes (its byte index), if `text` starts with `'` or
/// `"` and the quote closes; a backslash escapes the next character inside `"`.
pub(super) fn closing_quote(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let quote = *bytes.first()?;
    if !matches!(quote, b'"' | b'\'') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Values that are switches, not secrets: `--anonymous-auth=false`, `--auth true`.
pub(super) fn is_switch_value(value: &str) -> bool {
    const SWITCHES: &[&str] = &["true", "false", "yes", "no", "on", "off", "none", "null"];
    SWITCHES.iter().any(|s| s.eq_ignore_ascii_case(value))
}

/// A path to a file of a kind that holds configuration or keys (`/root/cf.ini`,
/// `/etc/cifs.cred`): the value of `--dns-cloudflare-credentials` or `credentials=` names where
/// the secret is, and is no secret itself. Only absolute or relative paths with one of these
/// extensions count, which no generated password or key looks like.
pub(super) fn is_secret_file_path(value: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "ini",
        "json",
        "txt",
        "pem",
        "key",
        "crt",
        "conf",
        "cfg",
        "yaml",
        "yml",
        "toml",
        "cred",
        "creds",
        "p12",
        "pfx",
        "jks",
        "keystore",
        "gpg",
        "asc",
        "env",
        "properties",
        "xml",
        "secret",
        "token",
        "pass",
        "passwd",
    ];
    let is_path = ["/", "~/", "./", "../"]
        .iter()
        .any(|p| value.starts_with(p));
    is_path
        && !value.bytes().any(|b| b.is_ascii_whitespace())
        && value
            .rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.ends_with('/') && EXTENSIONS.contains(&ext))
}

/// A long option (`--verbose`): after a sensitive key alone, it says the key was a switch, not
/// that its value is `--verbose`.
pub(super) fn is_long_option(word: &str) -> bool {
    word.strip_prefix("--")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic())
}

fn split_leading_whitespace(text: &str) -> (&str, &str) {
    let rest = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    text.split_at(text.len() - rest.len())
}
