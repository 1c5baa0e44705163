//! How deep a YAML document nests, measured before serde_yaml reads it.
//!
//! libyaml, under serde_yaml, spends time proportional to nesting depth times length on flow
//! collections (`[[[[…`, `{a: {a: …`): 40,000 levels in an 80 KB file take seconds and 100,000
//! do not finish. No configuration needs more than a handful of levels (wiretop's own go four
//! deep), so a document nested past [`MAX_DEPTH`] is refused, with the line and column where the
//! limit was passed, before serde_yaml sees it.
//!
//! The depth is counted on libyaml's own events, not by a hand-written approximation of YAML:
//! quotes, comments, block scalars and plain scalars running over several lines are decided by
//! the same code that reads the document next, so no text can look shallow here and be deep
//! there (a scanner that disagreed with libyaml in one corner case would bring the slowness
//! back). The walk stops at the first collection past the limit, which libyaml reaches after
//! looking at most about 1,024 characters ahead, so refusing costs microseconds whatever the
//! depth. It also stops at the first syntax error and leaves that to serde_yaml to report.
//!
//! This is the crate's one use of `unsafe`: libyaml's C-shaped API, used exactly as serde_yaml
//! uses it (a heap-pinned parser over a borrowed string, each event deleted once read).

use std::marker::PhantomData;
use std::mem::MaybeUninit;

/// The deepest nesting accepted, counting every mapping and sequence (wiretop's configuration
/// needs 4: the document, `uplink`, `headers`, a value).
pub const MAX_DEPTH: usize = 64;

/// Where a document first nests deeper than [`MAX_DEPTH`] (1-based, as editors count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
}

/// Ok when `text` never nests deeper than [`MAX_DEPTH`], or when it is not well-formed YAML
/// (serde_yaml reports that, with its position, from the same parser).
pub fn check_depth(text: &str) -> Result<(), TooDeep> {
    let Some(mut parser) = EventParser::new(text.as_bytes()) else {
        return Ok(());
    };
    let mut depth = 0usize;
    while let Some((kind, mark)) = parser.next() {
        match kind {
            unsafe_libyaml::YAML_SEQUENCE_START_EVENT
            | unsafe_libyaml::YAML_MAPPING_START_EVENT => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(TooDeep {
                        line: usize::try_from(mark.line)
                            .unwrap_or(usize::MAX)
                            .saturating_add(1),
                        column: usize::try_from(mark.column)
                            .unwrap_or(usize::MAX)
                            .saturating_add(1),
                    });
                }
            }
            unsafe_libyaml::YAML_SEQUENCE_END_EVENT | unsafe_libyaml::YAML_MAPPING_END_EVENT => {
                depth = depth.saturating_sub(1);
            }
            unsafe_libyaml::YAML_STREAM_END_EVENT => break,
            _ => {}
        }
    }
    Ok(())
}

/// A libyaml parser over a borrowed string, yielding event kinds and their start positions.
struct EventParser<'input> {
    /// On the heap and never moved: libyaml keeps a pointer to the parser inside the parser.
    raw: Box<MaybeUninit<unsafe_libyaml::yaml_parser_t>>,
    input: PhantomData<&'input [u8]>,
}

impl<'input> EventParser<'input> {
    /// None if libyaml could not allocate its buffers.
    fn new(input: &'input [u8]) -> Option<EventParser<'input>> {
        let mut raw = Box::new(MaybeUninit::<unsafe_libyaml::yaml_parser_t>::uninit());
        let parser = MaybeUninit::as_mut_ptr(&mut *raw);
        // SAFETY: `parser` points to memory that lives (boxed, unmoved) as long as `raw`.
        // yaml_parser_initialize fully initialises it, or fails and leaves nothing to free.
        // The input pointer and length describe `input`, which outlives the returned value
        // (its lifetime is tied to it); libyaml only reads it.
        unsafe {
            if unsafe_libyaml::yaml_parser_initialize(parser).fail {
                return None;
            }
            unsafe_libyaml::yaml_parser_set_encoding(parser, unsafe_libyaml::YAML_UTF8_ENCODING);
            unsafe_libyaml::yaml_parser_set_input_string(
                parser,
                input.as_ptr(),
                input.len() as u64,
            );
        }
        Some(EventParser {
            raw,
            input: PhantomData,
        })
    }

    /// The next event's kind and start position; None at a syntax error or after the end.
    fn next(
        &mut self,
    ) -> Option<(
        unsafe_libyaml::yaml_event_type_t,
        unsafe_libyaml::yaml_mark_t,
    )> {
        let parser = MaybeUninit::as_mut_ptr(&mut *self.raw);
        let mut event = MaybeUninit::<unsafe_libyaml::yaml_event_t>::uninit();
        // SAFETY: the parser was initialised in `new` and is deleted only in `drop`.
        // yaml_parser_parse fills `event` when it succeeds (and zeroes it when it fails); the
        // two fields are copied out before yaml_event_delete frees what the event owns, and the
        // event is not used after that.
        let found = unsafe {
            if unsafe_libyaml::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                return None;
            }
            let event = event.as_mut_ptr();
            let found = ((*event).type_, (*event).start_mark);
            unsafe_libyaml::yaml_event_delete(event);
            found
        };
        // Once the stream has ended (or failed) libyaml answers with empty events forever.
        (found.0 != unsafe_libyaml::YAML_NO_EVENT).then_some(found)
    }
}

impl Drop for EventParser<'_> {
    fn drop(&mut self) {
        // SAFETY: the parser was initialised in `new` (an EventParser exists only then) and is
        // deleted exactly once, here.
        unsafe { unsafe_libyaml::yaml_parser_delete(MaybeUninit::as_mut_ptr(&mut *self.raw)) }
    }
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
        for text in [&flow_maps, &dashes, &indented] {
            assert!(check_depth(text).is_err(), "{text}");
        }
        let shallow: String = (0..MAX_DEPTH - 1)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert_eq!(check_depth(&shallow), Ok(()));
    }

    #[test]
    fn brackets_in_quotes_comments_and_block_scalars_are_text() {
        let many = "[".repeat(MAX_DEPTH * 2);
        for text in [
            format!("tags: ['{many}']\n"),
            format!("tags: [\"{many}\\\"{many}\"]\n"),
            format!("tags: []  # {many}\n"),
            format!("# {many}\ntags: []\n"),
            format!("uplink:\n  api_key: |\n    {many}\n    {many}\n"),
            format!("uplink:\n  api_key: a{many}\n"),
            format!("uplink:\n  api_key: it's\n    {many}\n"),
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
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_at_the_first_level_too_many() {
        let refused = check_depth(&nested_flow(100_000)).unwrap_err();
        assert_eq!(
            refused,
            TooDeep {
                line: 1,
                column: 70
            }
        );
        let unclosed = format!("tags: {}\n", "{a: ".repeat(100_000));
        assert!(check_depth(&unclosed).is_err());
    }
}
