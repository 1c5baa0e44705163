//! `config::remote::parse_document` on arbitrary bytes: a document the backend sends
//! is untrusted, and any `Err` is fine, a panic is not.
//!
//! What is accepted must be usable as is: a version, an interval in the documented range, and
//! sensitive words that the scrubber takes.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wiretop::scrub::{ScrubOptions, Scrubber};
use wiretop::config::remote::parse_document;

fuzz_target!(|data: &[u8]| {
    let Ok(settings) = parse_document(data) else {
        return;
    };
    assert!(!settings.version.is_empty(), "accepted {settings:?} without a version");
    if let Some(interval) = settings.interval {
        assert!(
            (Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&interval),
            "accepted interval {interval:?} outside 100ms..=1h"
        );
    }
    if let Some(per_minute) = settings.max_per_minute {
        assert!(per_minute >= 1, "accepted max_per_minute 0");
    }
    let options = ScrubOptions {
        custom_sensitive_words: settings.custom_sensitive_words.clone(),
        ..ScrubOptions::default()
    };
    if let Err(error) = Scrubber::new(&options) {
        panic!("accepted sensitive words the scrubber refuses: {error}");
    }
});
