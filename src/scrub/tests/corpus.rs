//! The corpus test: every command line of `corpus.rs` scrubbed with the default scrubber, every
//! leak, wrong result and false positive reported at once, with the counts.

use crate::scrub::corpus::{LEAKS, LOOK_ALIKES, NAMES, NAME_LOOK_ALIKES};
use crate::scrub::Scrubber;

fn owned(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| (*w).to_owned()).collect()
}

#[test]
fn corpus_leaks_nothing_and_changes_no_look_alike() {
    let scrubber = Scrubber::default();
    let mut leaks = Vec::new();
    let mut wrong = Vec::new();
    let mut exact = 0;
    for &(argv, secrets, expected) in LEAKS {
        let got = scrubber.scrub(&owned(argv));
        let text = got.join("\u{0}");
        let leaked: Vec<&str> = secrets
            .iter()
            .copied()
            .filter(|s| text.contains(s))
            .collect();
        if !leaked.is_empty() || got.len() != argv.len() {
            leaks.push(format!(
                "  {argv:?}\n    leaked {leaked:?}\n    got    {got:?}"
            ));
        }
        if !expected.is_empty() {
            exact += 1;
            if got != owned(expected) {
                wrong.push(format!(
                    "  {argv:?}\n    expected {expected:?}\n    got      {got:?}"
                ));
            }
        }
    }
    let mut changed = Vec::new();
    for &argv in LOOK_ALIKES {
        let got = scrubber.scrub(&owned(argv));
        if got != owned(argv) {
            changed.push(format!("  {argv:?}\n    became {got:?}"));
        }
    }
    let mut name_leaks = Vec::new();
    for &(name, secrets, expected) in NAMES {
        let got = scrubber.scrub_name(name);
        if got != expected || secrets.iter().any(|s| got.contains(s)) {
            name_leaks.push(format!("  {name:?} became {got:?}, expected {expected:?}"));
        }
    }
    for &name in NAME_LOOK_ALIKES {
        let got = scrubber.scrub_name(name);
        if got != name {
            changed.push(format!("  name {name:?}\n    became {got:?}"));
        }
    }
    let summary = format!(
        "corpus: {} command lines, {} leaks ({} with an exact expected result, {} different); \
         {} look-alikes and {} names, {} changed; {} names with secrets, {} wrong",
        LEAKS.len(),
        leaks.len(),
        exact,
        wrong.len(),
        LOOK_ALIKES.len(),
        NAME_LOOK_ALIKES.len(),
        changed.len(),
        NAMES.len(),
        name_leaks.len(),
    );
    println!("{summary}");
    let mut report = vec![summary];
    for (what, list) in [
        ("leaks", &leaks),
        ("different from the expected result", &wrong),
        ("look-alikes changed", &changed),
        ("names", &name_leaks),
    ] {
        if !list.is_empty() {
            report.push(format!("{what}:"));
            report.extend(list.iter().cloned());
        }
    }
    assert!(
        leaks.is_empty() && wrong.is_empty() && changed.is_empty() && name_leaks.is_empty(),
        "\n{}",
        report.join("\n")
    );
    assert!(LEAKS.len() >= 300 && LOOK_ALIKES.len() >= 100);
}
