//! Writing a baseline as the documented YAML file: a header that explains the sections and how
//! to add a line, then one entry per line (a flow mapping), so an operator can grep for an
//! executable, see a change as one line in a diff, and accept something by adding one.
//!
//! Paths, user and host names come from the processes and the kernel, so they may hold any
//! character: each is written bare only when it is a plain word or path that YAML reads back
//! as the same string, and double-quoted with escapes otherwise, so no name can end the line,
//! open a comment or change the structure (a test reads hostile names back).

use std::borrow::Cow;
use std::fmt::Write;

use super::{Baseline, Wildcard, BASELINE_VERSION};

/// How the file begins: what each section means and how to accept something. `{host}` and
/// `{saved}` are filled in.
const HEADER: &str = "\
# wiretop baseline: what is normal on this host.
# Saved by `wiretop baseline save` on {host} at {saved}.
#
# `wiretop --baseline FILE` and `wiretop snapshot --baseline FILE` mark a process
# \"unexpected\" when something about it is not listed here:
#   executables  an executable (by path) and a user that runs it
#   listening    a protocol (tcp, udp), port and bound address an executable listens on
#   outbound     a remote port and address an executable connects to (this host's own
#                addresses, 127.0.0.1 included, count as destinations too)
# Processes that started after `saved_at` are also marked \"new\".
#
# To accept something, add a line to its section, for example:
#   - { exe: /usr/sbin/nginx, user: www-data }
#   - { exe: /usr/sbin/nginx, proto: tcp, port: 8443, address: \"0.0.0.0\" }
#   - { exe: /usr/bin/curl, port: 443, address: \"0.0.0.0/0\" }
# `*`, or leaving a field out, matches any value in every field but `exe`. An
# address may be a CIDR block: \"10.0.0.0/8\"; \"0.0.0.0/0\" is any IPv4 address,
# \"::/0\" any address at all. A user may be a name or a uid. A process whose
# executable could not be read (another user's, without root) is known by its name:
# write the name where the path goes. Kernel threads are never unexpected.
#
# Saving again rewrites this whole file: keep hand-written lines elsewhere, or add
# them again after saving.
";

/// The whole file for `baseline`, saved on the host `hostname`.
pub(super) fn render(baseline: &Baseline, hostname: &str) -> String {
    let saved = baseline.saved_at_ms.map(time_text);
    let mut out = HEADER
        .replace("{host}", &scalar(hostname))
        .replace("{saved}", saved.as_deref().unwrap_or("an unknown time"));
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = writeln!(out, "version: {BASELINE_VERSION}");
    if let Some(saved) = &saved {
        let _ = writeln!(out, "saved_at: {}", scalar(saved));
    }
    section(&mut out, "executables", &baseline.executables, |e| {
        format!(
            "exe: {}, user: {}",
            scalar(&e.exe),
            scalar(&e.user.to_string())
        )
    });
    section(&mut out, "listening", &baseline.listening, |e| {
        format!(
            "exe: {}, proto: {}, port: {}, address: {}",
            scalar(&e.exe),
            scalar(&e.proto.to_string()),
            port(&e.port),
            scalar(&e.address.to_string())
        )
    });
    section(&mut out, "outbound", &baseline.outbound, |e| {
        format!(
            "exe: {}, port: {}, address: {}",
            scalar(&e.exe),
            port(&e.port),
            scalar(&e.address.to_string())
        )
    });
    out
}

/// A time as the file writes it: RFC 3339, UTC, to the millisecond.
pub(super) fn time_text(ms: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(at).to_string()
}

/// `name:` and its entries, one `- { … }` line each (`name: []` when there are none).
fn section<T>(out: &mut String, name: &str, entries: &[T], line: impl Fn(&T) -> String) {
    if entries.is_empty() {
        let _ = writeln!(out, "{name}: []");
        return;
    }
    let _ = writeln!(out, "{name}:");
    for entry in entries {
        let _ = writeln!(out, "  - {{ {} }}", line(entry));
    }
}

/// A port as a YAML number, or `"*"`.
fn port(port: &Wildcard<u16>) -> Cow<'static, str> {
    match port {
        Wildcard::Only(number) => Cow::Owned(number.to_string()),
        Wildcard::Any => Cow::Borrowed("\"*\""),
    }
}

/// `text` as a YAML string that reads back as exactly `text`.
///
/// Bare when it is a word or path of letters, digits and `_./+@-` that starts with a letter,
/// `_` or `/` (so it cannot be read as a number, a `-` entry or an indicator) and is none of
/// the words YAML reads as a boolean, null or a float. Anything else is double-quoted, escaping
/// `"`, `\` and every character YAML does not allow raw or would read as a line break.
pub(super) fn scalar(text: &str) -> Cow<'_, str> {
    if is_plain_word(text) {
        return Cow::Borrowed(text);
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\t' => quoted.push_str("\\t"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            c if allowed_raw(c) => quoted.push(c),
            c if u32::from(c) <= 0xff => {
                let _ = write!(quoted, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) <= 0xffff => {
                let _ = write!(quoted, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(quoted, "\\U{:08x}", u32::from(c));
            }
        }
    }
    quoted.push('"');
    Cow::Owned(quoted)
}

/// A word YAML reads as that string when written bare.
fn is_plain_word(text: &str) -> bool {
    const READ_AS_OTHER: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf",
    ];
    let mut chars = text.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/');
    starts_well
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '+' | '@' | '-'))
        && !READ_AS_OTHER.contains(&text.to_ascii_lowercase().as_str())
}

/// Characters YAML allows unescaped inside double quotes without reading them as a line break.
fn allowed_raw(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fefe}' | '\u{ff00}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself() {
        let names = [
            "/usr/sbin/sshd",
            "root",
            "www-data",
            "systemd-network",
            "_apt",
            "1000",
            "0755",
            "65535",
            "123456",
            "*",
            "",
            "-",
            "- x",
            "true",
            "No",
            "null",
            "~",
            ".inf",
            "0.0.0.0",
            "::1",
            "10.0.0.0/8",
            "/tmp/a b",
            "/tmp/a: b",
            "/tmp/a #b",
            "/tmp/{a}, [b]",
            "/tmp/'quote'\"double\"\\back",
            "/tmp/line\nbreak\r\ttab",
            "/tmp/\u{7f}del\u{80}c1\u{85}nel\u{9f}",
            "/tmp/\u{2028}ls\u{2029}ps\u{feff}bom\u{fffe}\u{ffff}",
            "/usr/sbin/sshd (deleted)",
            "/opt/émoji-😀/日本",
            "&anchor",
            "*alias",
            "!tag",
            "%directive",
            "@at",
            "`tick",
            "|block",
            ">fold",
            "? key",
        ];
        for name in names {
            let written = scalar(name);
            assert!(!written.contains('\n'), "{name:?} stays on one line");
            let document = format!("{{ exe: {written}, user: x }}");
            let read: std::collections::BTreeMap<String, String> = serde_yaml::from_str(&document)
                .unwrap_or_else(|e| panic!("{name:?} as {written}: {e}"));
            assert_eq!(read.get("exe").map(String::as_str), Some(name), "{written}");
        }
    }

    #[test]
    fn ordinary_words_and_paths_are_written_bare() {
        for name in ["/usr/sbin/sshd", "root", "www-data", "tcp"] {
            assert_eq!(scalar(name), name);
        }
        for name in ["*", "0.0.0.0", "::1", "true", "", "a b", "1000"] {
            assert!(scalar(name).starts_with('"'), "{name:?}");
        }
    }
}
