//! One argument on its own: keys and their values (`--password=x`, `PASSWORD=x`,
//! `password: x`, `{"password": "x"}`, `user=u;password=p`, `PASSWORD('x')`), headers, URLs,
//! and command lines written inside it.

use super::key::KeyForm;
use super::mask::{
    closing_quote, is_secret_file_path, is_switch_value, mask_authorization, mask_value,
};
use super::shell::is_name;
use super::{programs, url, Kind, Outcome, Pending, Scrubber, MASK, MAX_NESTING};

/// Where an argument's key ends, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// `key=value`, `key:value` or `key(value)`: the separator is at `end`.
    Key { end: usize, separator: u8 },
    /// Whitespace comes before any separator: text made of words, not a key.
    Words,
    /// The first `:` starts `://`: a URL, not a key.
    Url,
    /// No separator and no whitespace: the whole argument may be a key on its own.
    Bare,
}

/// `last_whitespace`: where the last whitespace of `text` is, if it has any (found once per
/// argument, so that reading a list of URLs entry by entry stays linear).
fn split(text: &str, last_whitespace: Option<usize>) -> Split {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'=' | b'(' => {
                return Split::Key {
                    end: i,
                    separator: b,
                }
            }
            b':' if bytes[i + 1..].starts_with(b"//") => {
                return if last_whitespace.is_some_and(|w| w > i) {
                    Split::Words
                } else {
                    Split::Url
                };
            }
            b':' => {
                return Split::Key {
                    end: i,
                    separator: b,
                }
            }
            b if b.is_ascii_whitespace() => return Split::Words,
            _ => {}
        }
    }
    Split::Bare
}

/// The characters that separate the entries of a list the key may be in: a connection string
/// (`a=b;Password=c`), mount options (`user=u,password=p`), a query (`a=1&token=x`), JSON or
/// YAML flow (`{"password": "x"}`), a call (`connect(password='x')`).
const LIST_DELIMITERS: &[u8] = b";,&{[(";

/// The key that `key_text` ends with, and the list delimiter before it if it is in a list.
/// Surrounding quotes are not part of the key (`"password"` in JSON).
fn effective_key(key_text: &str, before: Option<u8>) -> (Option<u8>, &str) {
    let (list, key) = match key_text.bytes().rposition(|b| LIST_DELIMITERS.contains(&b)) {
        Some(at) => (Some(key_text.as_bytes()[at]), &key_text[at + 1..]),
        None => (before.filter(|b| LIST_DELIMITERS.contains(b)), key_text),
    };
    (list, key.trim_matches(['"', '\'']))
}

/// Whether a key and its value are the text of a prompt rather than a setting: the key opens
/// a string that closes right after the separator (`getpass('Password: ')`).
fn is_prompt(key_text: &str, value: &str) -> bool {
    let key = key_text
        .rsplit(|c: char| c.is_ascii() && LIST_DELIMITERS.contains(&(c as u8)))
        .next()
        .unwrap_or(key_text);
    let Some(quote) = key.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        return false;
    };
    // The string is still open at the separator (`'Password: '`, not `['SECRET_KEY']=`).
    !key[1..].contains(quote)
        && value
            .trim_start_matches(|c: char| c.is_ascii_whitespace())
            .starts_with(quote)
}

/// Whether `value` is only the mask, perhaps quoted and followed by closing punctuation
/// (`'********'/>`).
fn is_masked(value: &str) -> bool {
    value
        .trim_end_matches(|c: char| ")]};,/>".contains(c))
        .trim_matches(['"', '\''])
        == MASK
}

/// `text` without one pair of quotes around it, and the length of the opening one.
fn strip_quotes(text: &str) -> (&str, usize) {
    match closing_quote(text) {
        Some(close) if close + 1 == text.len() => (&text[1..close], 1),
        _ => (text, 0),
    }
}

/// Whether `value` opens more brackets than it closes.
fn opens_bracket(value: &str) -> bool {
    let depth = value.bytes().fold(0i64, |depth, b| match b {
        b'(' | b'[' | b'{' => depth + 1,
        b')' | b']' | b'}' => depth - 1,
        _ => depth,
    });
    depth > 0
}

/// Where a value ends, when something says so.
struct Extent {
    /// The secret itself, inside the value (no leading whitespace, no quotes).
    secret: std::ops::Range<usize>,
    /// Where the text after the value starts, for a value that ends before the argument does.
    next: Option<usize>,
}

/// The extent of the value that starts `value`: a quoted string, an entry of the list the key
/// is in, the inside of `key(…)`, or else the whole rest of the argument.
fn value_extent(value: &str, list: Option<u8>, separator: u8) -> Extent {
    let gap = value.len()
        - value
            .trim_start_matches(|c: char| c.is_ascii_whitespace())
            .len();
    let text = &value[gap..];
    // `PASSWORD('x')`, `db.auth('user', 'pw')`: everything up to the parenthesis.
    if separator == b'(' {
        return up_to(gap, value, text.find(')'));
    }
    if let Some(close) = closing_quote(text) {
        // `"abc"def` is one value to a shell, and `--password='a b' c` or `--password='x')y`
        // one to a program: only a quote followed by the end of the text, or inside a list
        // (`{"password": "x", …}`, `f(password='x')`) by the end of the entry, ends it.
        let after = text.as_bytes().get(close + 1);
        let ends_entry = |b: u8| b",;&}])".contains(&b) || b.is_ascii_whitespace();
        if after.is_none_or(|&b| list.is_some() && ends_entry(b)) {
            return Extent {
                secret: gap + 1..gap + close,
                next: Some(gap + close + 1),
            };
        }
    }
    let terminators: &[u8] = match list {
        Some(b';') => b";",
        Some(b'&') => b"&",
        Some(b',') => b",;}])",
        Some(b'{') => b",}",
        Some(b'[') => b",]",
        Some(b'(') => b",)",
        _ => b"",
    };
    up_to(
        gap,
        value,
        text.bytes().position(|b| terminators.contains(&b)),
    )
}

/// The value from `gap` to `end` (counted from `gap`), or to the end of `value` without one.
fn up_to(gap: usize, value: &str, end: Option<usize>) -> Extent {
    match end {
        Some(end) => Extent {
            secret: gap..gap + end,
            next: Some(gap + end),
        },
        None => Extent {
            secret: gap..value.len(),
            next: None,
        },
    }
}

/// Replacements collected left to right over one text, applied at the end.
pub(super) struct Edits<'t> {
    text: &'t str,
    out: Option<String>,
    copied: usize,
}

impl<'t> Edits<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Edits {
            text,
            out: None,
            copied: 0,
        }
    }

    /// Replaces `text[range]` (after everything replaced so far, on character boundaries).
    pub(super) fn replace(&mut self, range: std::ops::Range<usize>, with: &str) {
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(self.text.len()));
        out.push_str(self.text.get(self.copied..range.start).unwrap_or_default());
        out.push_str(with);
        self.copied = range.end.max(self.copied);
    }

    /// The text with its replacements, or `None` when there were none.
    pub(super) fn finish(self) -> Option<String> {
        let mut out = self.out?;
        out.push_str(self.text.get(self.copied..).unwrap_or_default());
        Some(out)
    }
}

/// One argument being scrubbed: the edits so far and what the keys already read said.
struct Scan<'t> {
    arg: &'t str,
    edits: Edits<'t>,
    /// Where the text still to examine starts: after the keys already dealt with.
    start: usize,
    /// The list the last key was in: a URL that is the value of an entry ends with it.
    in_list: Option<u8>,
    /// The last entry was `name` or `key` with a sensitive key for its value.
    named_secret: bool,
    /// How deep in command lines written inside arguments this one is.
    depth: usize,
}

/// What the scan of one argument does after a step.
enum Step {
    /// Go on from `Scan::start`.
    Next,
    /// The argument is done.
    Done(Outcome),
}

impl Scan<'_> {
    /// The argument with its replacements (the scan ends here).
    fn finish(&mut self) -> Option<String> {
        std::mem::replace(&mut self.edits, Edits::new(self.arg)).finish()
    }

    /// Done, with the replacements so far and nothing owed to the next argument.
    fn done(&mut self) -> Step {
        Step::Done(Outcome::replaced(self.finish()))
    }

    /// Done, owing `then` to the next argument.
    fn done_then(&mut self, then: Pending) -> Step {
        Step::Done(Outcome {
            replaced: self.finish(),
            then,
        })
    }
}

impl Scrubber {
    /// Scrubs one argument on its own, and says what the argument after it must get.
    /// `bare_keys`: whether a bare word without dashes (`password`) may be a key whose value
    /// is the next argument.
    pub(super) fn scrub_arg(&self, arg: &str, depth: usize, bare_keys: bool) -> Outcome {
        let mut scan = Scan {
            arg,
            edits: Edits::new(arg),
            start: 0,
            in_list: None,
            named_secret: false,
            depth,
        };
        let last_whitespace = arg.bytes().rposition(|b| b.is_ascii_whitespace());
        loop {
            let step = self.scan_step(&mut scan, last_whitespace, bare_keys);
            if let Step::Done(outcome) = step {
                return outcome;
            }
        }
    }

    /// One step: the key (or words, URL, bare word) at `scan.start`.
    fn scan_step(&self, scan: &mut Scan<'_>, last_whitespace: Option<usize>, bare: bool) -> Step {
        let (arg, start) = (scan.arg, scan.start);
        let Some(rest) = arg.get(start..) else {
            return scan.done();
        };
        let before = start.checked_sub(1).map(|i| arg.as_bytes()[i]);
        // `define('DB_PASSWORD', 'x')`, `os.putenv('TOKEN', 'x')`: a key given as the first
        // argument of a call, its value as the second.
        if before == Some(b'(') {
            match self.call_pair(rest) {
                Some(Some(value)) => {
                    scan.edits
                        .replace(start + value.start..start + value.end, MASK);
                    scan.start += value.end;
                    return Step::Next;
                }
                Some(None) => return scan.done_then(Pending::Mask),
                None => {}
            }
        }
        match split(rest, last_whitespace.and_then(|w| w.checked_sub(start))) {
            // YAML written into one argument (`auth:\n  password: x`): the key's value is
            // the mapping on the next lines, read word by word.
            Split::Key {
                separator: b':',
                end,
            } if scan.depth < MAX_NESTING
                && rest[end + 1..]
                    .trim_start_matches([' ', '\t', '\r'])
                    .starts_with('\n') =>
            {
                if let Some(scrubbed) = self.scrub_words(rest, scan.depth + 1) {
                    scan.edits.replace(start..arg.len(), &scrubbed);
                }
                scan.done()
            }
            Split::Key { end, separator } => self.scan_key(scan, end, separator, before),
            Split::Bare => {
                let then = if start == 0 {
                    let form = if rest.starts_with('-') {
                        KeyForm::Key
                    } else {
                        KeyForm::Bare
                    };
                    if form == KeyForm::Bare && !bare {
                        Pending::Nothing
                    } else {
                        self.classify(rest, form).pending()
                    }
                } else if before == Some(b':')
                    && arg[..start].contains('/')
                    && self.classify(rest, KeyForm::Key) == Kind::Secret
                {
                    // `npm config set //registry.npmjs.org/:_authToken VALUE`
                    Pending::Mask
                } else {
                    Pending::Nothing
                };
                scan.done_then(then)
            }
            Split::Words if scan.depth < MAX_NESTING => {
                let (scrubbed, then) = self.scrub_words_then(rest, scan.depth + 1);
                if let Some(scrubbed) = scrubbed {
                    scan.edits.replace(start..arg.len(), &scrubbed);
                }
                scan.done_then(then)
            }
            Split::Url if matches!(scan.in_list, Some(b',' | b';')) => {
                // `computerName=https://web/x,password=…`: the URL is one entry.
                let end = rest.find([',', ';']).unwrap_or(rest.len());
                if let Some(scrubbed) = self.scrub_urls(&rest[..end]) {
                    scan.edits.replace(start..start + end, &scrubbed);
                }
                if end == rest.len() {
                    return scan.done();
                }
                scan.start += end + 1;
                Step::Next
            }
            Split::Url | Split::Words => {
                if let Some(scrubbed) = self.scrub_urls(rest) {
                    scan.edits.replace(start..arg.len(), &scrubbed);
                }
                scan.done()
            }
        }
    }

    /// A key at `scan.start` whose separator is at `end` (relative to it): what its kind
    /// says to do with the value.
    fn scan_key(&self, scan: &mut Scan<'_>, end: usize, separator: u8, before: Option<u8>) -> Step {
        let (arg, start) = (scan.arg, scan.start);
        let rest = &arg[start..];
        let value_at = start + end + 1;
        let (list, key) = effective_key(&rest[..end], before);
        scan.in_list = list;
        // ODBC's `PWD` is its password; the environment's `PWD` (a directory) is never an
        // entry of a list. `{"name":"DB_PASSWORD","value":"x"}`: an entry named by a
        // sensitive key holds its secret in `value`.
        let named_value =
            std::mem::take(&mut scan.named_secret) && key.eq_ignore_ascii_case("value");
        let kind = if named_value || (list.is_some() && key.eq_ignore_ascii_case("pwd")) {
            Kind::Secret
        } else {
            self.classify(key, KeyForm::Key)
        };
        if kind == Kind::Plain
            && list.is_some()
            && ["name", "key"].iter().any(|k| key.eq_ignore_ascii_case(k))
        {
            let value = &arg[value_at..];
            let extent = value_extent(value, list, separator);
            scan.named_secret = self.classify(&value[extent.secret], KeyForm::Key) != Kind::Plain;
        }
        match kind {
            Kind::Plain => self.scan_plain_key(scan, end, separator),
            Kind::SecretCommand => {
                let (value, quote) = strip_quotes(&arg[value_at..]);
                let at = value_at + quote;
                if let Some(scrubbed) = self.scrub_secret_command(value, scan.depth) {
                    scan.edits.replace(at..at + value.len(), &scrubbed);
                }
                scan.done()
            }
            // A prompt's text, or a value another rule has already hidden (markup's
            // `password='********'/>`).
            _ if is_prompt(&rest[..end], &arg[value_at..]) || is_masked(&arg[value_at..]) => {
                scan.start = value_at;
                Step::Next
            }
            kind => mask_key_value(scan, kind, value_at, list, separator),
        }
    }

    /// A key that is not sensitive: its value is examined in turn, and a first key that is
    /// an assignment may start a command line.
    fn scan_plain_key(&self, scan: &mut Scan<'_>, end: usize, separator: u8) -> Step {
        let (arg, start) = (scan.arg, scan.start);
        let value_at = start + end + 1;
        if start == 0 && separator == b':' {
            if let Some(masked) = self.mask_after_first_equals(arg) {
                return Step::Done(Outcome::replaced(Some(masked)));
            }
        }
        if start == 0
            && separator == b'='
            && is_name(&arg[..end])
            && scan.depth < MAX_NESTING
            && arg[value_at..].bytes().any(|b| b.is_ascii_whitespace())
        {
            // `ProxyCommand=sshpass -p … ssh`, `CMD="mysql -p…"`: the value is a command line
            // of its own.
            let (value, quote) = strip_quotes(&arg[value_at..]);
            let first = value.split_ascii_whitespace().next();
            if first.is_some_and(programs::is_known) {
                let scrubbed = self.scrub_words(value, scan.depth + 1);
                let at = value_at + quote;
                if let Some(scrubbed) = scrubbed {
                    scan.edits.replace(at..at + value.len(), &scrubbed);
                }
                return scan.done();
            }
            // `LANG=C mysql -psecret`: an assignment before a command.
            return Step::Done(Outcome::replaced(self.scrub_words(arg, scan.depth + 1)));
        }
        scan.start = value_at;
        Step::Next
    }

    /// When `text` (right after a `(`) starts with a quoted sensitive key and a comma, the
    /// value that follows: `Some(Some(range))` for a quoted value in `text` (its inside),
    /// `Some(None)` when the value is the next word.
    fn call_pair(&self, text: &str) -> Option<Option<std::ops::Range<usize>>> {
        let close = closing_quote(text)?;
        if self.classify(&text[1..close], KeyForm::Key) == Kind::Plain {
            return None;
        }
        let after = text[close + 1..].strip_prefix(',')?;
        let value = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if value.is_empty() {
            return Some(None);
        }
        let at = text.len() - value.len();
        // An empty string (`os.environ.get('API_KEY', '')`) hides nothing.
        let value_close = closing_quote(value).filter(|&close| close > 1)?;
        Some(Some(at + 1..at + value_close))
    }

    /// `arg` with its value hidden when everything before its first `=` is a sensitive key.
    ///
    /// Keys normally end at the first `=` or `:`, whichever comes first, and the value of a
    /// plain key is then examined in turn, which catches `db:password=x`. This covers the rest
    /// of the classic rule (the key ends at the first `=`), for a custom wildcard word that
    /// spans the `:` (`*pass*word*` against `pass:word=x`).
    fn mask_after_first_equals(&self, arg: &str) -> Option<String> {
        let equals = arg.find('=')?;
        if self.classify(&arg[..equals], KeyForm::Key) != Kind::Secret {
            return None;
        }
        let masked = mask_value(&arg[equals + 1..])?;
        Some(format!("{}{masked}", &arg[..=equals]))
    }

    /// The URL credentials and secret query parameters in `text`.
    pub(super) fn scrub_urls(&self, text: &str) -> Option<String> {
        url::scrub_urls(text, &|name| self.is_secret_parameter(name))
    }
}

/// The value of a sensitive key at `value_at` loses its secret: up to the end of its list
/// entry, or of the argument (where a value still owed is the next argument's).
fn mask_key_value(
    scan: &mut Scan<'_>,
    kind: Kind,
    value_at: usize,
    list: Option<u8>,
    separator: u8,
) -> Step {
    let arg = scan.arg;
    let value = &arg[value_at..];
    let extent = value_extent(value, list, separator);
    // `credentials=/etc/cifs.cred,uid=1000`: a file path first in a list of options names
    // where the secret is. (Looked for only in a value that runs to the end, which is read to
    // the end anyway: the scan stays linear.)
    if extent.next.is_none() {
        if let Some(comma) = value.find(',') {
            if is_secret_file_path(&value[..comma]) {
                scan.start = value_at + comma;
                return Step::Next;
            }
        }
    }
    let Some(next) = extent.next else {
        // The value runs to the end of the argument.
        let (masked, then) = match kind {
            _ if is_switch_value(value.trim()) || is_secret_file_path(value.trim()) => {
                (None, Pending::Nothing)
            }
            Kind::Authorization => mask_authorization(value),
            _ => match mask_value(value) {
                Some(masked) => (Some(masked), Pending::Nothing),
                None => (None, Pending::Mask),
            },
        };
        if let Some(masked) = masked {
            scan.edits.replace(value_at..arg.len(), &masked);
        }
        // `Authorization:` alone (split out of shell text) is a header whose value is the
        // next word, as is `{password:` in code split at whitespace; `--password=` is just
        // empty. A value that opens a bracket it does not close goes on in the next word
        // (`auth=('user', 'pw')`). `Password: ` with a space after it is a prompt's text.
        let owes_next = (separator == b':' && value.is_empty()) || opens_bracket(value);
        let then = if opens_bracket(value) {
            Pending::Mask
        } else {
            then
        };
        return if owes_next {
            scan.done_then(then)
        } else {
            scan.done()
        };
    };
    let secret = &value[extent.secret.clone()];
    let masked = match kind {
        _ if secret.is_empty() || is_switch_value(secret) || is_secret_file_path(secret) => None,
        Kind::Authorization => mask_authorization(secret).0,
        _ => Some(MASK.to_owned()),
    };
    if let Some(masked) = masked {
        let range = extent.secret;
        scan.edits
            .replace(value_at + range.start..value_at + range.end, &masked);
    }
    scan.start = value_at + next;
    Step::Next
}
