//! Secrets in markup written inside an argument, wherever it stands (a value, shell text, a
//! title): XML and HTML elements named by a sensitive key (`<password>x</password>`), attributes
//! named by one (`<datasource password='x'/>`), and the key and value pairs of configuration
//! files (`<add key="ApiKey" value="x"/>`, `<entry key="db.password">x</entry>`) and property
//! lists (`<key>Password</key><string>x</string>`).
//!
//! Markup does not split into words the way a command line does (`<Password>x</Password>` is
//! one word), so it gets its own pass, like shaped secrets. The pass reads the text once from
//! left to right, looking only inside tags and at the text right after a tag; each byte is read
//! at most twice (a `<` that starts no tag is looked past, not read again), so the cost stays
//! linear whatever the text holds.

use std::ops::Range;

use super::url::apply_masks;

/// `text` with the secrets of its markup replaced by the mask, or `None` when it holds none.
/// `is_secret` says whether an element or attribute name, or the key an entry names, is a
/// sensitive key.
pub(super) fn mask_markup(text: &str, is_secret: &dyn Fn(&str) -> bool) -> Option<String> {
    if !text.contains('<') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut masks: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    // The last `<key>` element named a sensitive key.
    let mut value_next = false;
    while let Some(offset) = text.get(at..).and_then(|rest| rest.find('<')) {
        let open = at + offset;
        let tag = match read_tag(text, open + 1, is_secret) {
            Ok(tag) => tag,
            // Not a tag: go on after what was read of it, so no byte is read twice.
            Err(resume) => {
                at = resume.max(open + 1);
                continue;
            }
        };
        masks.extend(tag.secret_attributes);
        at = tag.end;
        // A property list's `<key>Password</key><string>x</string>`: the element after the
        // key holds its value.
        let secret = tag.secret || std::mem::take(&mut value_next);
        if secret {
            if let Some(value) = tag.value_attribute {
                masks.push(value);
            }
        }
        if tag.self_closing || !(secret || tag.is_key) {
            continue;
        }
        // The element's text, up to the next tag, or a CDATA section right after the tag.
        let content = if text[at..].starts_with("<![CDATA[") {
            let start = at + "<![CDATA[".len();
            let end = text[start..].find("]]>").map_or(bytes.len(), |o| start + o);
            at = end;
            start..end
        } else {
            let end = text[at..].find('<').map_or(bytes.len(), |o| at + o);
            let content = &text[at..end];
            let lead = content.len()
                - content
                    .trim_start_matches(|c: char| c.is_ascii_whitespace())
                    .len();
            let inner = content.trim_matches(|c: char| c.is_ascii_whitespace());
            let start = at;
            at = end;
            start + lead..start + lead + inner.len()
        };
        if content.is_empty() {
            continue;
        }
        if secret {
            masks.push(content);
        } else {
            value_next = is_secret(&text[content]);
        }
    }
    masks.sort_by_key(|m| m.start);
    masks.dedup_by(|later, earlier| later.start < earlier.end);
    apply_masks(text, &masks)
}

/// What one start tag says.
struct Tag {
    /// Where the text after the tag starts.
    end: usize,
    /// The element holds a secret: it is named by a sensitive key, or it is an entry whose
    /// `key`, `name` or `id` attribute is one.
    secret: bool,
    self_closing: bool,
    /// It is a `<key>` element, whose text names the value of the element after it.
    is_key: bool,
    /// The value of its `value` attribute, if it has one.
    value_attribute: Option<Range<usize>>,
    /// The values of its attributes that are named by a sensitive key.
    secret_attributes: Vec<Range<usize>>,
}

/// The start tag whose name begins at `from` (just after `<`), or, when there is none there (a
/// closing tag, a comment, a `<` in ordinary text), where to look on from.
fn read_tag(text: &str, from: usize, is_secret: &dyn Fn(&str) -> bool) -> Result<Tag, usize> {
    let bytes = text.as_bytes();
    let name_end = scan_name(bytes, from);
    if name_end == from || !bytes[from].is_ascii_alphabetic() {
        return Err(from);
    }
    let mut tag = Tag {
        end: name_end,
        secret: is_secret(&text[from..name_end]),
        self_closing: false,
        is_key: text[from..name_end].eq_ignore_ascii_case("key"),
        value_attribute: None,
        secret_attributes: Vec::new(),
    };
    let mut i = name_end;
    loop {
        i = skip_whitespace(bytes, i);
        match bytes.get(i) {
            None => return Err(i),
            Some(b'>') => {
                tag.end = i + 1;
                return Ok(tag);
            }
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => {
                tag.end = i + 2;
                tag.self_closing = true;
                return Ok(tag);
            }
            Some(_) => {}
        }
        let attribute_end = scan_name(bytes, i);
        if attribute_end == i {
            // Not markup after all (`a < b`, `<<<`).
            return Err(i);
        }
        let attribute = &text[i..attribute_end];
        i = skip_whitespace(bytes, attribute_end);
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i = skip_whitespace(bytes, i + 1);
        let value = match bytes.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let start = i + 1;
                let Some(close) = text[start..].find(char::from(quote)) else {
                    return Err(bytes.len());
                };
                i = start + close + 1;
                start..start + close
            }
            _ => {
                // An unquoted value ends where a tag could start, so no scan passes a `<`
                // outside quotes.
                let start = i;
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !b"<>".contains(&bytes[i])
                {
                    i += 1;
                }
                start..i
            }
        };
        if is_secret(attribute) {
            if !value.is_empty() {
                tag.secret_attributes.push(value);
            }
        } else if attribute.eq_ignore_ascii_case("value") {
            tag.value_attribute = Some(value).filter(|v| !v.is_empty());
        } else if ["key", "name", "id"]
            .iter()
            .any(|k| attribute.eq_ignore_ascii_case(k))
            && is_secret(&text[value.clone()])
        {
            tag.secret = true;
        }
    }
}

/// Where the element or attribute name starting at `from` ends.
fn scan_name(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || b"_-.:".contains(&bytes[i])) {
        i += 1;
    }
    i
}

fn skip_whitespace(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}
