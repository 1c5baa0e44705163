//! How deep a YAML document nests, measured before serde_yaml reads it.
//!
//! libyaml, under serde_yaml, spends time proportional to nesting depth times length on flow
//! collections (`[[[[…`, `{a: {a: …`): for every token it re-examines one saved "simple key" per
//! open flow level, so 40,000 levels in an 80 KB file take seconds and 100,000 do not finish.
//! No configuration needs more than a handful of levels (wiretop's own go four deep), so a
//! document nested past [`MAX_DEPTH`] is refused, with the line and column where the limit was
//! passed, before serde_yaml sees it.
//!
//! The walk below follows libyaml's scanner (libyaml 0.2.5, `scanner.c`) for exactly the parts
//! that decide where structure is: which characters are line breaks, where comments, quoted
//! scalars, plain scalars, block scalars, anchors and tags begin and end, and the block
//! indentation stack that block scalars and multi-line plain scalars are measured against.
//! Everything else (the values themselves, most syntax errors) is left to serde_yaml.
//!
//! The invariant is one-sided: this walk never sees *less* nesting than libyaml would on a
//! document libyaml accepts up to that point. Where the two could part (text after a point
//! where libyaml stops with a syntax error), the walk only goes on counting, which can refuse
//! a document that serde_yaml would refuse anyway, never let a deep one through. The fuzz target
//! `config_load` checks this against serde_yaml on every input it makes. It is one pass over
//! the bytes, so refusing costs microseconds whatever the depth; no `unsafe` is involved.

/// The deepest nesting accepted, counting every mapping and sequence, block or flow
/// (wiretop's configuration needs 4: the document, `uplink`, `headers`, a value).
pub const MAX_DEPTH: usize = 64;

/// Where a document first nests deeper than [`MAX_DEPTH`] (1-based, as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
}

/// Ok when `text` never nests deeper than [`MAX_DEPTH`].
pub fn check_depth(text: &str) -> Result<(), TooDeep> {
    match Walk::new(text.as_bytes(), MAX_DEPTH).run() {
        Ok(_) => Ok(()),
        Err(Refusal::TooDeep(at)) => Err(at),
        // Aliases are refused only by `check`.
        Err(Refusal::Alias { .. }) => Ok(()),
    }
}

/// Why a document is refused before serde_yaml reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep(TooDeep),
    /// Uses an alias (`*name`) at this line and column (1-based). serde_yaml expands every
    /// alias in place, so a 1 MiB file of aliases to a large anchor becomes gigabytes ("billion
    /// laughs"); neither wiretop's configuration nor its baselines have any use for them.
    Alias { line: usize, column: usize },
}

/// Ok when `text` nests at most [`MAX_DEPTH`] deep and uses no alias.
pub fn check(text: &str) -> Result<(), Refusal> {
    let mut walk = Walk::new(text.as_bytes(), MAX_DEPTH);
    walk.refuse_aliases = true;
    walk.run().map(drop)
}

/// The deepest nesting the walk sees in `text`, with no limit: what the fuzz target compares
/// with libyaml's own count on small documents. Not an API.
#[doc(hidden)]
pub fn deepest_nesting(text: &str) -> usize {
    Walk::new(text.as_bytes(), usize::MAX)
        .run()
        .unwrap_or(usize::MAX)
}

/// A simple key (`key:` without `?`) that may still turn out to start a block mapping: libyaml
/// opens the mapping at the key's column when the `:` comes, if it comes on the same line
/// within 1,024 bytes.
#[derive(Debug, Clone, Copy)]
struct SimpleKey {
    line: usize,
    offset: usize,
    column: usize,
}

/// An open flow collection.
#[derive(Debug, Clone, Copy)]
struct FlowLevel {
    /// `{`, not `[`.
    mapping: bool,
    /// A sequence whose current entry is a `key: value` pair, which libyaml makes a mapping.
    pair: bool,
    /// Where the current entry starts, and the deepest nesting inside it so far: when its `:`
    /// comes, the pair's mapping is found to have started there, around all of it.
    entry_line: usize,
    entry_column: usize,
    entry_deepest: usize,
    /// The deepest nesting anywhere inside the collection so far.
    deepest: usize,
}

/// An open block collection.
#[derive(Debug, Clone, Copy)]
struct Level {
    /// The column it is indented to.
    column: usize,
    /// A mapping (started by a key), not a sequence (started by `-`).
    mapping: bool,
    /// A mapping whose current value is an indentless sequence.
    indentless: bool,
}

struct Walk<'a> {
    text: &'a [u8],
    /// The most nesting allowed, and the most seen so far.
    limit: usize,
    deepest: usize,
    /// Stop at the first alias (`*name`).
    refuse_aliases: bool,
    /// Byte offset of the next character.
    at: usize,
    /// 0-based line and column (in characters) of `at`.
    line: usize,
    column: usize,
    /// Open flow collections (`[`, `{`): how many, and each one innermost last.
    flow: usize,
    flows: Vec<FlowLevel>,
    /// How many flow sequences hold a single-pair mapping (`[a: b]`), a level of its own.
    pairs: usize,
    /// The open block collections, outermost first (libyaml's indentation stack).
    levels: Vec<Level>,
    /// How many of them hold an indentless sequence (`key:` then `- a` in the key's column):
    /// libyaml opens no indentation level for one, but it is a level of nesting all the same.
    indentless: usize,
    /// Whether a simple key may start here (libyaml's `simple_key_allowed`).
    key_allowed: bool,
    /// The simple key saved outside flow collections, which block mappings start from, and
    /// the deepest nesting since it: a mapping that starts at the key holds all of it.
    block_key: Option<SimpleKey>,
    key_deepest: usize,
}

impl<'a> Walk<'a> {
    fn new(text: &'a [u8], limit: usize) -> Self {
        Walk {
            text,
            limit,
            deepest: 0,
            refuse_aliases: false,
            at: 0,
            line: 0,
            column: 0,
            flow: 0,
            flows: Vec::new(),
            pairs: 0,
            levels: Vec::new(),
            indentless: 0,
            key_allowed: true,
            block_key: None,
            key_deepest: 0,
        }
    }

    /// The deepest nesting seen, or where it first went past the limit.
    fn run(mut self) -> Result<usize, Refusal> {
        loop {
            self.skip_to_next_token();
            self.forget_stale_key();
            if self.flow == 0 {
                self.unroll_indent(self.column as isize);
            }
            let Some(c) = self.byte(0) else {
                return Ok(self.deepest);
            };
            if self.flow == 0 && self.indent() == self.column as isize {
                // Anything but another `-` in the mapping's own column ends its indentless
                // sequence (the parser sees the next key).
                if !(c == b'-' && self.blank_or_end(1)) {
                    self.end_indentless();
                }
            }
            if self.column == 0 && c == b'%' {
                // A directive (`%YAML 1.1`): nothing nests on its line.
                self.skip_to_break();
                self.end_document_part();
                continue;
            }
            if self.column == 0 && self.document_marker() {
                self.advance_n(3);
                self.end_document_part();
                continue;
            }
            match c {
                b'[' | b'{' => {
                    self.save_key();
                    self.flow += 1;
                    let depth = self.depth();
                    self.flows.push(FlowLevel {
                        mapping: c == b'{',
                        pair: false,
                        entry_line: self.line,
                        entry_column: self.column + 1,
                        entry_deepest: depth,
                        deepest: depth,
                    });
                    self.check(self.line, self.column)?;
                    self.advance();
                    self.key_allowed = true;
                }
                b']' | b'}' => {
                    self.end_pair();
                    if let Some(closed) = self.flows.pop() {
                        // What it held, pairs found later included, counts for what holds it.
                        match self.flows.last_mut() {
                            Some(outer) => {
                                outer.entry_deepest = outer.entry_deepest.max(closed.deepest);
                                outer.deepest = outer.deepest.max(closed.deepest);
                            }
                            None if self.block_key.is_some() => {
                                self.key_deepest = self.key_deepest.max(closed.deepest);
                            }
                            None => {}
                        }
                    }
                    self.flow = self.flow.saturating_sub(1);
                    self.advance();
                    self.key_allowed = false;
                }
                b',' => {
                    self.end_pair();
                    self.advance();
                    let (line, column, depth) = (self.line, self.column, self.depth());
                    if let Some(level) = self.flows.last_mut() {
                        level.entry_line = line;
                        level.entry_column = column;
                        level.entry_deepest = depth;
                    }
                    self.key_allowed = true;
                }
                b'-' if self.blank_or_end(1) => {
                    self.block_entry()?;
                    self.remove_key();
                    self.advance();
                    self.key_allowed = true;
                }
                b'?' if self.flow > 0 || self.blank_or_end(1) => {
                    self.start_pair()?;
                    self.roll_indent(self.column, true)?;
                    self.remove_key();
                    self.advance();
                    self.key_allowed = self.flow == 0;
                }
                b':' if self.flow > 0 || self.blank_or_end(1) => self.value()?,
                b'*' if self.refuse_aliases => {
                    return Err(Refusal::Alias {
                        line: self.line + 1,
                        column: self.column + 1,
                    });
                }
                b'*' | b'&' => {
                    self.save_key();
                    self.advance();
                    while self.byte(0).is_some_and(is_anchor_char) {
                        self.advance();
                    }
                    self.key_allowed = false;
                }
                b'!' => {
                    self.save_key();
                    self.tag();
                    self.key_allowed = false;
                }
                b'|' | b'>' if self.flow == 0 => {
                    self.remove_key();
                    self.block_scalar();
                    self.key_allowed = true;
                }
                b'\'' | b'"' => {
                    self.save_key();
                    self.quoted_scalar(c);
                    self.key_allowed = false;
                }
                _ => {
                    self.save_key();
                    // A plain scalar that ran over line breaks leaves a simple key allowed.
                    self.key_allowed = self.plain_scalar();
                }
            }
        }
    }

    /// The innermost open collection starts here: refuse it when it is one too many.
    fn depth(&self) -> usize {
        self.flow + self.pairs + self.levels.len() + self.indentless
    }

    /// Records the current nesting; refuses it when it is past the limit.
    fn check(&mut self, line: usize, column: usize) -> Result<(), Refusal> {
        let depth = self.depth();
        if let Some(level) = self.flows.last_mut() {
            level.entry_deepest = level.entry_deepest.max(depth);
            level.deepest = level.deepest.max(depth);
        }
        if self.block_key.is_some() {
            self.key_deepest = self.key_deepest.max(depth);
        }
        self.reached(depth, line, column)
    }

    /// Nesting `depth` was reached at `line`:`column`.
    fn reached(&mut self, depth: usize, line: usize, column: usize) -> Result<(), Refusal> {
        self.deepest = self.deepest.max(depth);
        if depth > self.limit {
            return Err(Refusal::TooDeep(TooDeep {
                line: line + 1,
                column: column + 1,
            }));
        }
        Ok(())
    }

    /// `:` as an indicator: a block mapping starts at the simple key before it (or here, for a
    /// complex key), when outside flow collections.
    fn value(&mut self) -> Result<(), Refusal> {
        if self.flow == 0 {
            match self.block_key.take() {
                Some(key) => {
                    if self.roll_indent_at(key.column, true) {
                        // The mapping starts at the key, around everything since it.
                        self.reached(self.key_deepest + 1, key.line, key.column)?;
                        self.check(key.line, key.column)?;
                    }
                    self.key_allowed = false;
                }
                None => {
                    self.roll_indent(self.column, true)?;
                    self.key_allowed = true;
                }
            }
        } else {
            self.start_pair()?;
            self.key_allowed = false;
        }
        self.advance();
        Ok(())
    }

    /// `?` or `:` inside a flow sequence: the entry is a single-pair mapping, one level deeper
    /// (counted at the indicator, whether or not a key came before it: without one libyaml
    /// stops with an error, and counting more is the safe side).
    fn start_pair(&mut self) -> Result<(), Refusal> {
        match self.flows.last_mut() {
            Some(level) if !level.mapping && !level.pair => {
                level.pair = true;
                let around = level.entry_deepest + 1;
                level.entry_deepest = around;
                level.deepest = level.deepest.max(around);
                let (line, column) = (level.entry_line, level.entry_column);
                self.pairs += 1;
                // The mapping starts where the entry does, around everything in it so far.
                self.reached(around, line, column)?;
                self.check(self.line, self.column)
            }
            _ => Ok(()),
        }
    }

    /// `,`, `]` or `}`: the single-pair mapping of the entry, if any, ends.
    fn end_pair(&mut self) {
        if let Some(level) = self.flows.last_mut().filter(|level| level.pair) {
            level.pair = false;
            self.pairs -= 1;
        }
    }

    /// `-` outside flow collections: a block sequence starts here when it is deeper than the
    /// current collection, or an indentless one when a mapping's value is in the mapping's
    /// own column.
    fn block_entry(&mut self) -> Result<(), Refusal> {
        if self.flow > 0 {
            return Ok(());
        }
        if self.roll_indent_at(self.column, false) {
            return self.check(self.line, self.column);
        }
        match self.levels.last_mut() {
            Some(level) if level.mapping && !level.indentless && level.column == self.column => {
                level.indentless = true;
                self.indentless += 1;
                self.check(self.line, self.column)
            }
            _ => Ok(()),
        }
    }

    /// A block collection starts at `column` when it is deeper than the current one.
    fn roll_indent(&mut self, column: usize, mapping: bool) -> Result<(), Refusal> {
        if self.flow == 0 && self.roll_indent_at(column, mapping) {
            self.check(self.line, column)?;
        }
        Ok(())
    }

    fn roll_indent_at(&mut self, column: usize, mapping: bool) -> bool {
        if self.indent() < column as isize {
            self.levels.push(Level {
                column,
                mapping,
                indentless: false,
            });
            return true;
        }
        false
    }

    /// The column of the innermost open block collection, -1 outside any.
    fn indent(&self) -> isize {
        self.levels.last().map_or(-1, |level| level.column as isize)
    }

    /// Block collections deeper than `column` end.
    fn unroll_indent(&mut self, column: isize) {
        while self.indent() > column {
            self.end_indentless();
            self.levels.pop();
        }
    }

    fn end_indentless(&mut self) {
        if let Some(level) = self.levels.last_mut().filter(|level| level.indentless) {
            level.indentless = false;
            self.indentless -= 1;
        }
    }

    /// `---`, `...` and directives close every block collection.
    fn end_document_part(&mut self) {
        self.unroll_indent(-1);
        self.remove_key();
        self.key_allowed = false;
    }

    fn save_key(&mut self) {
        if self.flow == 0 && self.key_allowed {
            self.block_key = Some(SimpleKey {
                line: self.line,
                offset: self.at,
                column: self.column,
            });
            self.key_deepest = self.depth();
        }
    }

    fn remove_key(&mut self) {
        if self.flow == 0 {
            self.block_key = None;
        }
    }

    /// A simple key can no longer be one once its line has ended or 1,024 bytes have passed.
    fn forget_stale_key(&mut self) {
        if self
            .block_key
            .is_some_and(|key| key.line < self.line || key.offset + 1024 < self.at)
        {
            self.block_key = None;
        }
    }

    /// Spaces, tabs, comments and line breaks up to the next token.
    fn skip_to_next_token(&mut self) {
        loop {
            if self.column == 0 && self.text[self.at..].starts_with(b"\xEF\xBB\xBF") {
                self.advance();
            }
            // libyaml refuses a tab where indentation is measured; going on counting past
            // that error can only see more nesting, never less.
            while matches!(self.byte(0), Some(b' ' | b'\t')) {
                self.advance();
            }
            if self.byte(0) == Some(b'#') {
                self.skip_to_break();
            }
            if self.break_width(0) == 0 {
                return;
            }
            self.advance();
            if self.flow == 0 {
                self.key_allowed = true;
            }
        }
    }

    /// `!tag`, `!handle!suffix` or `!<verbatim>`: the characters a tag may hold.
    fn tag(&mut self) {
        self.advance();
        let verbatim = self.byte(0) == Some(b'<');
        if verbatim {
            self.advance();
        }
        while let Some(b) = self.byte(0) {
            if verbatim && b == b'>' {
                self.advance();
                return;
            }
            if !(is_uri_char(b) || verbatim && matches!(b, b',' | b'[' | b']')) {
                return;
            }
            self.advance();
        }
    }

    /// `'…'` (a quote doubled inside) or `"…"` (backslash escapes, including an escaped line
    /// break), over as many lines as it takes.
    fn quoted_scalar(&mut self, quote: u8) {
        self.advance();
        while let Some(b) = self.byte(0) {
            if quote == b'\'' && b == b'\'' && self.byte(1) == Some(b'\'') {
                self.advance_n(2);
            } else if b == quote {
                self.advance();
                return;
            } else if quote == b'"' && b == b'\\' && self.byte(1).is_some() {
                // The escaped character (or line break) is content, whatever it is.
                self.advance_n(2);
            } else {
                self.advance();
            }
        }
    }

    /// A plain scalar, as libyaml's `yaml_parser_scan_plain_scalar` delimits it. Returns
    /// whether it ended after a line break.
    fn plain_scalar(&mut self) -> bool {
        let indent = self.indent() + 1;
        let mut after_break = false;
        loop {
            if self.column == 0 && self.document_marker() {
                return after_break;
            }
            if self.byte(0) == Some(b'#') {
                return after_break;
            }
            while !self.blank_or_end(0) {
                let Some(b) = self.byte(0) else { break };
                if b == b':' && self.blank_or_end(1)
                    || self.flow > 0 && matches!(b, b',' | b'[' | b']' | b'{' | b'}')
                {
                    break;
                }
                if self.flow > 0
                    && b == b':'
                    && matches!(self.byte(1), Some(b',' | b'?' | b'[' | b']' | b'{' | b'}'))
                {
                    // libyaml stops with an error here.
                    return after_break;
                }
                // Once a plain scalar has content after a break it no longer ends a line.
                after_break = false;
                self.advance();
            }
            if !(matches!(self.byte(0), Some(b' ' | b'\t')) || self.break_width(0) > 0) {
                return after_break;
            }
            while matches!(self.byte(0), Some(b' ' | b'\t')) || self.break_width(0) > 0 {
                if self.break_width(0) > 0 {
                    after_break = true;
                }
                self.advance();
            }
            if self.flow == 0 && (self.column as isize) < indent {
                return after_break;
            }
        }
    }

    /// `|` or `>`: its header, then every line indented at least as far as its content.
    fn block_scalar(&mut self) {
        self.advance();
        let mut increment = 0isize;
        for _ in 0..2 {
            match self.byte(0) {
                Some(b'+' | b'-') => self.advance(),
                Some(d @ b'1'..=b'9') if increment == 0 => {
                    increment = isize::from(d - b'0');
                    self.advance();
                }
                _ => break,
            }
        }
        while matches!(self.byte(0), Some(b' ' | b'\t')) {
            self.advance();
        }
        if self.byte(0) == Some(b'#') {
            self.skip_to_break();
        }
        if self.break_width(0) == 0 {
            // libyaml stops here ("did not find expected comment or line break") unless the
            // text has ended; either way no content follows.
            return;
        }
        self.advance();
        let mut indent = if increment > 0 {
            if self.indent() >= 0 {
                self.indent() + increment
            } else {
                increment
            }
        } else {
            0
        };
        self.block_scalar_breaks(&mut indent);
        while self.column as isize == indent && self.byte(0).is_some() {
            self.skip_to_break();
            if self.break_width(0) == 0 {
                return;
            }
            self.advance();
            self.block_scalar_breaks(&mut indent);
        }
    }

    /// Empty lines and indentation inside a block scalar; settles the content's indentation
    /// when the header did not give it.
    fn block_scalar_breaks(&mut self, indent: &mut isize) {
        let mut max_indent = 0isize;
        loop {
            while (*indent == 0 || (self.column as isize) < *indent) && self.byte(0) == Some(b' ') {
                self.advance();
            }
            max_indent = max_indent.max(self.column as isize);
            if self.break_width(0) == 0 {
                break;
            }
            self.advance();
        }
        if *indent == 0 {
            *indent = max_indent.max(self.indent() + 1).max(1);
        }
    }

    fn skip_to_break(&mut self) {
        while self.byte(0).is_some() && self.break_width(0) == 0 {
            self.advance();
        }
    }

    /// `---` or `...` followed by a blank or the end.
    fn document_marker(&self) -> bool {
        let rest = &self.text[self.at..];
        (rest.starts_with(b"---") || rest.starts_with(b"...")) && self.blank_or_end(3)
    }

    fn byte(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.at + ahead).copied()
    }

    /// The length in bytes of the line break `ahead` bytes on, 0 if there is none: libyaml
    /// also breaks lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR.
    fn break_width(&self, ahead: usize) -> usize {
        let rest = self.text.get(self.at + ahead..).unwrap_or_default();
        match rest {
            [b'\r', b'\n', ..] => 2,
            [b'\r' | b'\n', ..] => 1,
            [0xC2, 0x85, ..] => 2,
            [0xE2, 0x80, 0xA8 | 0xA9, ..] => 3,
            _ => 0,
        }
    }

    /// A space, tab, line break or the end of the text, `ahead` bytes on.
    fn blank_or_end(&self, ahead: usize) -> bool {
        matches!(self.byte(ahead), None | Some(b' ' | b'\t')) || self.break_width(ahead) > 0
    }

    /// Steps over one character or line break.
    fn advance(&mut self) {
        let width = self.break_width(0);
        if width > 0 {
            self.at += width;
            self.line += 1;
            self.column = 0;
            return;
        }
        let Some(first) = self.byte(0) else { return };
        self.at += utf8_width(first);
        self.column += 1;
    }

    fn advance_n(&mut self, characters: usize) {
        for _ in 0..characters {
            self.advance();
        }
    }
}

/// The bytes of the UTF-8 character that starts with `first` (text from a `&str` is valid).
fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// What an anchor or alias name is made of.
fn is_anchor_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// What a tag may hold outside `!<…>`.
fn is_uri_char(b: u8) -> bool {
    is_anchor_char(b)
        || matches!(
            b,
            b';' | b'/'
                | b'?'
                | b':'
                | b'@'
                | b'&'
                | b'='
                | b'+'
                | b'$'
                | b'.'
                | b'%'
                | b'!'
                | b'~'
                | b'*'
                | b'\''
                | b'('
                | b')'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_flow(depth: usize) -> String {
        format!("tags: {}{}\n", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn ordinary_configurations_pass() {
        for text in [
            "",
            "# only a comment\n",
            include_str!("defaults.yaml"),
            include_str!("../../config.example.yaml"),
            "uplink:\n  headers: {X-Scope-OrgID: tenant1}\n",
            "not: [valid\n",
            "---\nuplink:\n  enabled: true\n...\n---\ntags: [a]\n",
            "%YAML 1.1\n---\ntags: [a, b]\n",
        ] {
            assert_eq!(check_depth(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn the_limit_itself_passes_and_one_more_is_refused_where_it_starts() {
        // The document's mapping is the first level, `tags:` value the second.
        assert_eq!(check_depth(&nested_flow(MAX_DEPTH - 1)), Ok(()));
        assert_eq!(
            check_depth(&nested_flow(MAX_DEPTH)),
            Err(TooDeep {
                line: 1,
                column: 7 + MAX_DEPTH - 1
            })
        );
    }

    #[test]
    fn flow_mappings_block_sequences_and_indentation_all_count() {
        let deep = MAX_DEPTH + 1;
        let flow_maps = format!("{}1{}", "{a: ".repeat(deep), "}".repeat(deep));
        let dashes = format!("{}x\n", "- ".repeat(deep));
        let indented: String = (0..deep)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let indented = format!("{indented}{}v\n", " ".repeat(deep));
        let complex_keys = format!("{}x\n", "? ".repeat(deep));
        for text in [&flow_maps, &dashes, &indented, &complex_keys] {
            assert!(check_depth(text).is_err(), "{text}");
        }
        let shallow: String = (0..MAX_DEPTH - 1)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_depth(&shallow), Ok(()));
    }

    #[test]
    fn indentless_sequences_are_levels_too() {
        // `k:` then `- ` in the key's own column: a sequence inside the mapping all the same.
        // Each line opens two: `- ` in the mapping's column, then the mapping `k:` in it.
        let lines = |n: usize| -> String {
            let entries: String = (0..n)
                .map(|i| format!("{}- k:\n", "  ".repeat(i)))
                .collect();
            format!("k:\n{entries}")
        };
        assert_eq!(check_depth(&lines(MAX_DEPTH / 2 - 1)), Ok(()));
        assert!(check_depth(&lines(MAX_DEPTH / 2)).is_err());
        let siblings = "k:\n- a\n- b\nj:\n- c\n".repeat(100);
        assert_eq!(check_depth(&siblings), Ok(()));
    }

    #[test]
    fn a_pair_in_a_flow_sequence_is_a_mapping() {
        // `[k: [k: …]]`: each entry is a one-pair mapping holding the next sequence.
        let pairs = |n: usize| format!("tags: {}x{}\n", "[k: ".repeat(n), "]".repeat(n));
        assert_eq!(check_depth(&pairs(MAX_DEPTH / 2 - 1)), Ok(()));
        assert!(check_depth(&pairs(MAX_DEPTH / 2)).is_err());
        let many = format!("tags: [{}]\n", "a: b, ? c : d, ".repeat(1000));
        assert_eq!(check_depth(&many), Ok(()));
    }

    #[test]
    fn a_key_holds_what_came_between_it_and_its_colon() {
        // A flow collection used as a key: the mapping opens before it, so it is one deeper.
        let deep = MAX_DEPTH;
        let block = format!("{}x{}: v\n", "[".repeat(deep), "]".repeat(deep));
        assert!(check_depth(&block).is_err());
        assert_eq!(
            check_depth(&format!(
                "{}x{}: v\n",
                "[".repeat(deep - 1),
                "]".repeat(deep - 1)
            )),
            Ok(())
        );
        let in_sequence = format!("[{}x{}: v]\n", "[".repeat(deep - 1), "]".repeat(deep - 1));
        assert!(check_depth(&in_sequence).is_err());
        // Pairs found late wrap pairs found earlier: each `:` here makes its entry, which holds
        // the one before, a mapping (found by fuzzing against libyaml).
        let nested_pairs =
            |n: usize| format!("tags: {}x{}\n", "[".repeat(n), "]: a".repeat(n - 1) + "]");
        assert_eq!(deepest_nesting(&nested_pairs(10)), 1 + 10 + 9);
        assert!(check_depth(&nested_pairs(MAX_DEPTH / 2 + 1)).is_err());
    }

    #[test]
    fn closed_collections_give_their_levels_back() {
        let many_siblings = format!("tags: {}\n", "[[a]], ".repeat(10_000));
        assert_eq!(check_depth(&format!("tags: [{many_siblings}]")), Ok(()));
        let dedented: String = (0..200)
            .map(|i| format!("k{i}:\n  a:\n    b: [1, {{c: 2}}]\n"))
            .collect();
        assert_eq!(check_depth(&dedented), Ok(()));
    }

    #[test]
    fn brackets_in_quotes_comments_and_block_scalars_are_text() {
        let many = "[".repeat(MAX_DEPTH * 2);
        for text in [
            format!("tags: ['{many}']\n"),
            format!("tags: ['it''s {many}']\n"),
            format!("tags: [\"{many}\\\"{many}\"]\n"),
            format!("tags: [\"{many}\\\n{many}\"]\n"),
            format!("tags: []  # {many}\n"),
            format!("# {many}\ntags: []\n"),
            format!("uplink:\n  api_key: |\n    {many}\n    {many}\n"),
            format!("uplink:\n  api_key: >-2 # {many}\n    {many}\n\n    {many}\n"),
            format!("uplink:\n  api_key: a{many}\n"),
            format!("uplink:\n  api_key: it's\n    {many}\n"),
            format!("tags: [a, !<tag:x,[[[> b, !t c]\n# {many}\n"),
        ] {
            assert_eq!(check_depth(&text), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_quote_inside_a_plain_scalar_does_not_hide_what_follows() {
        // `a 'b` is a plain key; what follows `: ` is a real flow sequence, whatever the quote
        // (a scanner that took `'` for the start of a string would see nothing here).
        let deep = MAX_DEPTH + 1;
        let text = format!("a 'b: {}x{} '\n", "[".repeat(deep), "]".repeat(deep));
        assert!(check_depth(&text).is_err());
        let flow = format!(
            "tags: [a 'b, {}x{} ']\n",
            "[".repeat(deep),
            "]".repeat(deep)
        );
        assert!(check_depth(&flow).is_err());
    }

    #[test]
    fn a_block_scalar_ends_where_its_indentation_does() {
        // The next key, less indented than the block scalar's content, is structure again,
        // and so is everything after it: a quote there starts nothing hidden.
        let deep = MAX_DEPTH + 1;
        let text = format!(
            "- key: |\n    \"text\n  other: {}x{}\n",
            "[".repeat(deep),
            "]".repeat(deep)
        );
        assert!(check_depth(&text).is_err());
    }

    #[test]
    fn unicode_line_breaks_end_comments() {
        // libyaml ends a comment at NEL (U+0085) and LINE SEPARATOR (U+2028) too.
        let deep = MAX_DEPTH + 1;
        for separator in ["\u{85}", "\u{2028}", "\r"] {
            let text = format!(
                "# c{separator}tags: {}x{}\n",
                "[".repeat(deep),
                "]".repeat(deep)
            );
            assert!(check_depth(&text).is_err(), "{separator:?}");
        }
    }

    #[test]
    fn aliases_are_refused_where_they_are_anchors_are_not() {
        let bomb = format!(
            "process_agent:\n  custom_sensitive_words: [&a \"{}\", {}]\n",
            "y".repeat(1000),
            ["*a"; 999].join(", ")
        );
        assert_eq!(
            check(&bomb),
            Err(Refusal::Alias {
                line: 2,
                column: 1035
            })
        );
        assert_eq!(check("tags: [&t env:prod]\n"), Ok(()));
        // Not an alias: inside quotes, a plain scalar, a comment.
        assert_eq!(check("tags: ['*a', b*c]  # *d\n"), Ok(()));
        assert_eq!(check_depth(&bomb), Ok(()), "depth alone does not mind");
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_at_the_first_level_too_many() {
        let refused = check_depth(&nested_flow(100_000));
        assert_eq!(
            refused,
            Err(TooDeep {
                line: 1,
                column: 70
            })
        );
        let unclosed = format!("tags: {}\n", "{a: ".repeat(100_000));
        assert!(check_depth(&unclosed).is_err());
    }
}
