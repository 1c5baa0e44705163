//! `Scrubber::scrub` on arbitrary command lines: the input split on NUL bytes (as in
//! `/proc/<pid>/cmdline`), each argument lossy UTF-8.
//!
//! Invariants, from the `scrub` module's documentation:
//! - the scrubbed argv has as many elements, and argv[0] (the program) is unchanged;
//! - `strip_proc_arguments` keeps argv[0] alone, and `scrub_args: false` changes nothing;
//! - whatever the program, `--password=VALUE` right after it keeps its key and loses its value
//!   (leading whitespace of the value kept), and `--password` alone hides the whole next
//!   argument.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wiretop::scrub::{ScrubOptions, Scrubber, MASK};

struct Scrubbers {
    default: Scrubber,
    strip: Scrubber,
    off: Scrubber,
}

fn scrubbers() -> &'static Scrubbers {
    static SCRUBBERS: OnceLock<Scrubbers> = OnceLock::new();
    SCRUBBERS.get_or_init(|| {
        let build = |options: &ScrubOptions| {
            Scrubber::new(options).expect("the default sensitive words compile")
        };
        Scrubbers {
            default: build(&ScrubOptions::default()),
            strip: build(&ScrubOptions {
                strip_proc_arguments: true,
                ..ScrubOptions::default()
            }),
            off: build(&ScrubOptions {
                scrub_args: false,
                ..ScrubOptions::default()
            }),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let argv: Vec<String> = if data.is_empty() {
        Vec::new()
    } else {
        data.split(|b| *b == 0)
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect()
    };
    let scrubbers = scrubbers();

    let scrubbed = scrubbers.default.scrub(&argv);
    assert_eq!(scrubbed.len(), argv.len(), "{argv:?} became {scrubbed:?}");
    assert_eq!(scrubbed.first(), argv.first(), "argv[0] changed: {scrubbed:?}");

    let stripped = scrubbers.strip.scrub(&argv);
    assert_eq!(stripped.as_slice(), &argv[..argv.len().min(1)]);
    assert_eq!(scrubbers.off.scrub(&argv), argv);

    // The documented basic case, after whatever program the input names.
    let program = argv.first().cloned().unwrap_or_default();
    let value = argv.get(1).cloned().unwrap_or_default();
    let probe = vec![program.clone(), format!("--password={value}")];
    let scrubbed = scrubbers.default.scrub(&probe);
    let secret = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if !secret.is_empty() {
        let gap = &value[..value.len() - secret.len()];
        assert_eq!(
            scrubbed[1],
            format!("--password={gap}{MASK}"),
            "value of --password survived after program {program:?}"
        );
    }

    let probe = vec![program.clone(), "--password".to_owned(), value];
    let scrubbed = scrubbers.default.scrub(&probe);
    assert_eq!(
        scrubbed[2], MASK,
        "argument after --password survived after program {program:?}"
    );
});
