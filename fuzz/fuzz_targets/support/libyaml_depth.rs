//! How deep libyaml itself, as serde_yaml runs it, sees a document nest: the reference the
//! crate's hand-written `config::check_depth` is fuzzed against. Test tooling only: the crate
//! forbids `unsafe`, this fuzz package is where libyaml's C-shaped API may be driven directly.

use std::mem::MaybeUninit;

use unsafe_libyaml as y;

/// The deepest nesting of mappings and sequences libyaml reports in `text`, up to its first
/// syntax error, and the byte offset where that depth was first reached. libyaml is quadratic
/// in the depth of flow collections, so callers keep inputs small.
pub fn deepest(text: &str) -> (usize, u64) {
    let mut raw = Box::new(MaybeUninit::<y::yaml_parser_t>::uninit());
    let parser = raw.as_mut_ptr();
    let (mut depth, mut deepest, mut at) = (0usize, 0usize, 0u64);
    // SAFETY: `parser` points into a box that outlives every use below and is never moved;
    // it is initialised before use and deleted exactly once. The input pointer and length
    // describe `text`, which outlives the parser. Each event is read, then deleted once.
    unsafe {
        if y::yaml_parser_initialize(parser).fail {
            return (0, 0);
        }
        y::yaml_parser_set_encoding(parser, y::YAML_UTF8_ENCODING);
        y::yaml_parser_set_input_string(parser, text.as_ptr(), text.len() as u64);
        loop {
            let mut event = MaybeUninit::<y::yaml_event_t>::uninit();
            if y::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                break;
            }
            let event = event.as_mut_ptr();
            let (kind, offset) = ((*event).type_, (*event).start_mark.index);
            y::yaml_event_delete(event);
            match kind {
                y::YAML_SEQUENCE_START_EVENT | y::YAML_MAPPING_START_EVENT => {
                    depth += 1;
                    if depth > deepest {
                        deepest = depth;
                        at = offset;
                    }
                }
                y::YAML_SEQUENCE_END_EVENT | y::YAML_MAPPING_END_EVENT => {
                    depth = depth.saturating_sub(1);
                }
                y::YAML_STREAM_END_EVENT | y::YAML_NO_EVENT => break,
                _ => {}
            }
        }
        y::yaml_parser_delete(parser);
    }
    (deepest, at)
}
