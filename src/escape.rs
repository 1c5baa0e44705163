//! Making untrusted text (process names, command lines) safe to put on a terminal.
//!
//! Any process can choose its own name and arguments, including escape sequences that would
//! recolour, move the cursor, retitle the window or worse. Everything a process controls goes
//! through [`for_terminal`] before it is printed or drawn.

use std::borrow::Cow;

/// Replaces control characters (C0, DEL, C1) and bidirectional overrides with visible escapes
/// (`\x1b`, `\n`, `\u{202e}`), leaving all other text as it was.
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_executed() {
        assert_eq!(for_terminal("a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(for_terminal("bell\x07"), "bell\\x07");
        assert_eq!(for_terminal("cr\rnl\n"), "cr\\rnl\\n");
        assert_eq!(for_terminal("c1\u{9b}2J"), "c1\\x9b2J");
        assert_eq!(for_terminal("rtl\u{202e}txt"), "rtl\\u{202e}txt");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        let text = "nginx: worker process — ünïcode 日本";
        assert!(matches!(for_terminal(text), Cow::Borrowed(t) if t == text));
    }
}
