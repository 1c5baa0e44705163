//! `Scrubber::scrub` on arbitrary command lines: the input split on NUL bytes (as in
//! `/proc/<pid>/cmdline`), each argument lossy UTF-8. The first argument is also fed to
//! `scrub_name` and `scrub_exe` (a process name, an executable path): argv\[0\] is a process
//! title that may hold a whole command line.
//!
//! Invariants, from the `scrub` module's documentation:
//! - the scrubbed argv has as many elements; argv\[0\] made only of lower-case letters,
//!   digits, `.` and `/`, shorter than any shaped secret, is unchanged;
//! - `strip_proc_arguments` keeps one element, a single word, and `scrub_args: false` changes
//!   nothing (argv, name or path);
//! - a name or path without `=`, `:`, whitespace or upper case is unchanged;
//! - whatever the program, `--password=VALUE` right after it loses its value (nothing but its
//!   whitespace and quotes may stay), and `--password` alone hides the whole next argument,
//!   unless that value is a switch (`true`, `no`, ...), a path, empty quotes, or (alone) an
//!   option.

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

/// Text no rule changes: lower-case letters, digits, `.` and `/`, shorter than the shortest
/// shaped secret with such characters.
fn plain(text: &str) -> bool {
    text.len() < 24
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'/')
}

/// A value the scrubber leaves on purpose after a sensitive key.
fn kept_on_purpose(value: &str) -> bool {
    const SWITCHES: &[&str] = &["true", "false", "yes", "no", "on", "off", "none", "null"];
    let value = value.trim();
    SWITCHES.iter().any(|s| s.eq_ignore_ascii_case(value))
        || ["/", "~/", "./", "../"].iter().any(|p| value.starts_with(p))
        // An empty quoted value: nothing to hide.
        || value.chars().all(|c| c == '\'' || c == '"')
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
    if let Some(first) = argv.first().filter(|first| plain(first)) {
        assert_eq!(&scrubbed[0], first, "a plain argv[0] changed");
    }

    let stripped = scrubbers.strip.scrub(&argv);
    assert_eq!(stripped.len(), argv.len().min(1));
    if let Some(word) = stripped.first() {
        assert!(
            !word.bytes().any(|b| b.is_ascii_whitespace()),
            "strip kept more than a word: {word:?}"
        );
    }
    assert_eq!(scrubbers.off.scrub(&argv), argv);

    // The first argument as a process name and as an executable's path.
    let first = argv.first().cloned().unwrap_or_default();
    let name = scrubbers.default.scrub_name(&first);
    let exe = scrubbers.default.scrub_exe(&first);
    let untouchable = !first
        .bytes()
        .any(|b| b == b'=' || b == b':' || b.is_ascii_whitespace() || b.is_ascii_uppercase());
    if untouchable && plain(&first) {
        assert_eq!(name, first, "a plain name changed");
        assert_eq!(exe, first, "a plain path changed");
    }
    assert_eq!(scrubbers.off.scrub_name(&first), first);
    assert_eq!(scrubbers.off.scrub_exe(&first), first);

    // The documented basic cases, after whatever program the input names (its first word: the
    // rest of a title would come before the probe).
    let program = first
        .split_ascii_whitespace()
        .next()
        .filter(|w| !w.starts_with('-') && !w.contains('=') && !w.ends_with(':'))
        .unwrap_or("app")
        .to_owned();
    let value = argv.get(1).cloned().unwrap_or_default();
    let secret = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    if !secret.is_empty() && !kept_on_purpose(secret) {
        let probe = vec![program.clone(), format!("--password={value}")];
        let scrubbed = scrubbers.default.scrub(&probe);
        let rest = scrubbed[1].strip_prefix("--password=").unwrap_or_default();
        assert!(
            rest.contains(MASK)
                && rest
                    .replace(MASK, "")
                    .chars()
                    .all(|c| c.is_ascii_whitespace() || c == '\'' || c == '"'),
            "value of --password survived after program {program:?}: {:?}",
            scrubbed[1]
        );
    }

    // An option after `--password` may say the key was a switch (`--auth --port 1`,
    // `mysql -p -h db`).
    if !value.starts_with('-') && !kept_on_purpose(&value) && value != "=" {
        let probe = vec![program.clone(), "--password".to_owned(), value];
        let scrubbed = scrubbers.default.scrub(&probe);
        assert_eq!(
            scrubbed[2], MASK,
            "argument after --password survived after program {program:?}"
        );
    }
});
