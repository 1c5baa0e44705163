//! Value types of the configuration file, each validating itself while it is read, so an error
//! carries the file, line and column of the value at fault.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Unexpected};
use serde::Deserialize;

/// The shortest sampling interval accepted: below this the sampler would spend most of a core.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The longest: a snapshot older than this is not "live" any more.
pub const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Parses `500ms`, `2s`, `1m`, `1m30s` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        // try_from: a number of seconds too large for a Duration (1e20) is an error, not a
        // panic (found by fuzz/fuzz_targets/config_load.rs).
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("`{text}` is not a duration (like 500ms, 2s or 1m)"));
    }
    humantime::parse_duration(text)
        .map_err(|_| format!("`{text}` is not a duration (like 500ms, 2s or 1m)"))
}

/// Parses an interval and checks its range.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration < MIN_INTERVAL {
        return Err(format!("`{text}` is below the minimum interval of 100ms"));
    }
    if duration > MAX_INTERVAL {
        return Err(format!("`{text}` is above the maximum interval of 1h"));
    }
    Ok(duration)
}

/// The sampling interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub Duration);

/// Accepts a duration written as text (`2s`) or as a number of seconds; any other type is a
/// type error, while errors of the document itself (a broken quote) pass through untouched.
struct IntervalVisitor;

impl de::Visitor<'_> for IntervalVisitor {
    type Value = Interval;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 500ms, 2s or 1m")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Interval, E> {
        parse_interval(v).map(Interval).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Interval, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Interval, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Interval, E> {
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Interval {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntervalVisitor)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// A timeout or deadline: a duration from 1ms to 1h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout(pub Duration);

struct TimeoutVisitor;

impl de::Visitor<'_> for TimeoutVisitor {
    type Value = Timeout;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 500ms, 5s or 1m")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timeout, E> {
        let d = parse_duration(v).map_err(E::custom)?;
        if d.is_zero() || d > MAX_INTERVAL {
            return Err(E::custom(format!("`{v}` is outside 1ms..1h")));
        }
        Ok(Timeout(d))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timeout, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timeout, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timeout, E> {
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimeoutVisitor)
    }
}

/// How long the explorer keeps an exited process listed: a duration from 0 (one refresh) to 1h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linger(pub Duration);

struct LingerVisitor;

impl de::Visitor<'_> for LingerVisitor {
    type Value = Linger;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 0, 30s or 1m")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Linger, E> {
        let d = parse_duration(v).map_err(E::custom)?;
        if d > MAX_INTERVAL {
            return Err(E::custom(format!("`{v}` is outside 0..1h")));
        }
        Ok(Linger(d))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Linger, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Linger, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Linger, E> {
        self.visit_str(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for Linger {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LingerVisitor)
    }
}

/// A size in bytes, written `16MiB`, `512KiB`, `1GB` or as a plain number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

/// Parses `16MiB`, `512KiB`, `1GiB`, `10MB` (decimal), `4096`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 16MiB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        other => {
            return Err(format!(
                "`{text}`: unknown size unit `{other}` (use B, KiB, MiB, GiB, KB, MB, GB)"
            ))
        }
    };
    let bytes = number * factor;
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("`{text}` is not a size between 1 byte and 1 PB"));
    }
    Ok(bytes as u64)
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum SizeText {
            Bytes(u64),
            Text(String),
        }
        match SizeText::deserialize(d)
            .map_err(|_| de::Error::custom("expected a size such as 16MiB"))?
        {
            SizeText::Bytes(n) => Ok(Size(n)),
            SizeText::Text(t) => parse_size(&t).map(Size).map_err(de::Error::custom),
        }
    }
}

/// The smallest `record.max_size`: a file must hold at least a keyframe of a busy host.
pub const MIN_RECORDING_SIZE: u64 = 1024 * 1024;

/// A recording's size before it is rotated: a [`Size`] of at least [`MIN_RECORDING_SIZE`].
pub(super) fn recording_size<'de, D: Deserializer<'de>>(d: D) -> Result<Size, D::Error> {
    let size = Size::deserialize(d)?;
    if size.0 < MIN_RECORDING_SIZE {
        return Err(de::Error::custom(format!(
            "{} bytes is below the smallest recording size of 1MiB",
            size.0
        )));
    }
    Ok(size)
}

/// The longest `record.max_age`: a year.
pub const MAX_RECORDING_AGE: Duration = Duration::from_secs(366 * 24 * 3600);

/// How long a recording file is written before it is rotated: from a minute to a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingAge(pub Duration);

impl<'de> Deserialize<'de> for RecordingAge {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum AgeText {
            Seconds(u64),
            Text(String),
        }
        let text = match AgeText::deserialize(d)
            .map_err(|_| de::Error::custom("expected a duration such as 24h or 7days"))?
        {
            AgeText::Seconds(n) => n.to_string(),
            AgeText::Text(t) => t,
        };
        let age = parse_duration(&text).map_err(de::Error::custom)?;
        if age < Duration::from_secs(60) || age > MAX_RECORDING_AGE {
            return Err(de::Error::custom(format!(
                "`{text}` is outside 1m..366days"
            )));
        }
        Ok(RecordingAge(age))
    }
}

impl fmt::Display for RecordingAge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// How many rotated recordings (`FILE.1` ...) are kept: 1 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptFiles(pub u32);

impl<'de> Deserialize<'de> for KeptFiles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)
            .map_err(|_| de::Error::custom("expected a whole number of files, such as 3"))?;
        match u32::try_from(value) {
            Ok(n) if (1..=100).contains(&n) => Ok(KeptFiles(n)),
            _ => Err(de::Error::invalid_value(
                Unexpected::Signed(value),
                &"a whole number of files from 1 to 100",
            )),
        }
    }
}

/// A rate limit: a whole number of messages per minute, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMinute(pub u32);

impl<'de> Deserialize<'de> for PerMinute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d).map_err(|_| {
            de::Error::custom("expected a whole number of messages per minute, such as 100")
        })?;
        match u32::try_from(value) {
            Ok(n) if n >= 1 => Ok(PerMinute(n)),
            _ => Err(de::Error::invalid_value(
                Unexpected::Signed(value),
                &"a whole number of messages per minute from 1 to 4294967295",
            )),
        }
    }
}

/// The most conversations `uplink.max_conversations` may allow. Each conversation is up to
/// seven series in every snapshot: past this a single snapshot would be close to a million
/// series, more than a receiver should be asked to index from one host, so a larger number is
/// taken for a typo.
pub const MAX_CONVERSATIONS: u32 = 100_000;

/// Remote write: how many conversations' per-connection series a snapshot carries at most, the
/// busiest kept; 0 sends none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationLimit(pub u32);

impl<'de> Deserialize<'de> for ConversationLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d).map_err(|_| {
            de::Error::custom("expected a whole number of conversations, such as 1000")
        })?;
        match u32::try_from(value) {
            Ok(n) if n <= MAX_CONVERSATIONS => Ok(ConversationLimit(n)),
            _ => Err(de::Error::invalid_value(
                Unexpected::Signed(value),
                &"a whole number of conversations from 0 to 100000",
            )),
        }
    }
}

/// The most entries `exclude_patterns` and `custom_sensitive_words` may hold. Each entry is
/// compiled when read and tried against every command line on every sample: a thousand is far
/// past any real use, and keeps a configuration of any size that is accepted quick to read.
pub const MAX_LIST_ENTRIES: usize = 1000;

/// Reads a list of at most [`MAX_LIST_ENTRIES`], refusing at the first entry too many (before it
/// is compiled).
pub(super) fn at_most_max_entries<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> de::Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {MAX_LIST_ENTRIES} entries")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                if items.len() == MAX_LIST_ENTRIES {
                    return Err(de::Error::custom(format!(
                        "more than {MAX_LIST_ENTRIES} entries (the limit)"
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }
    }

    d.deserialize_seq(Bounded(std::marker::PhantomData))
}

/// A regular expression, compiled when read.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // A bounded size keeps a hostile pattern from costing memory on every sample.
        regex::RegexBuilder::new(&text)
            .size_limit(1 << 20)
            .build()
            .map(Pattern)
            .map_err(|e| {
                let reason = e.to_string();
                let last = reason.lines().last().unwrap_or("invalid").trim();
                let last = last.strip_prefix("error: ").unwrap_or(last).to_owned();
                de::Error::custom(format!(
                    "`{text}` is not a valid regular expression: {last}"
                ))
            })
    }
}

/// A host tag such as `env:production`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(pub String);

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        validate_tag(&text).map(Tag).map_err(de::Error::custom)
    }
}

/// Checks a tag: non-empty, no whitespace or control characters, at most 200 characters.
pub fn validate_tag(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a tag may not be empty".to_owned());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "tag `{}` contains whitespace or control characters",
            text.escape_debug()
        ));
    }
    if text.chars().count() > 200 {
        return Err("a tag may be at most 200 characters".to_owned());
    }
    Ok(text.to_owned())
}

/// An extra argument name whose value is a secret (`*` wildcards), checked as it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveWord(pub String);

impl<'de> Deserialize<'de> for SensitiveWord {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        let options = crate::scrub::ScrubOptions {
            custom_sensitive_words: vec![word.clone()],
            ..crate::scrub::ScrubOptions::default()
        };
        crate::scrub::Scrubber::new(&options)
            .map(|_| SensitiveWord(word))
            .map_err(de::Error::custom)
    }
}

/// The explorer's colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// The 16 basic ANSI colours.
    Default,
    /// No colour at all, as with NO_COLOR.
    Mono,
}

/// A secret (an API key): never printed, logged or shown in Debug output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    /// The secret itself, for the one place that needs it (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_seconds() {
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_interval("50ms")
            .unwrap_err()
            .contains("minimum interval of 100ms"));
        assert!(parse_interval("2h").unwrap_err().contains("maximum"));
        assert!(parse_interval("soon").is_err());
        assert!(parse_interval("-1").is_err());
        assert!(
            parse_interval("1e20").is_err(),
            "too large for a Duration: an error, not a panic"
        );
        assert!(parse_duration("40000000000000000000").is_err());
        assert!(parse_duration("NaN").is_err());
    }

    #[test]
    fn a_linger_is_zero_to_an_hour() {
        let linger = |text: &str| serde_yaml::from_str::<Linger>(text).map(|l| l.0);
        assert_eq!(linger("0").ok(), Some(Duration::ZERO), "0: one refresh");
        assert_eq!(linger("1m").ok(), Some(Duration::from_secs(60)));
        assert_eq!(linger("2.5").ok(), Some(Duration::from_millis(2500)));
        assert!(linger("1h").is_ok());
        let error = linger("2h").unwrap_err().to_string();
        assert!(error.contains("outside 0..1h"), "{error}");
        assert!(linger("-1").is_err());
        assert!(linger("soon").is_err());
        assert!(linger("[1]").is_err(), "a list is no duration");
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 * 1024 * 1024));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("16 parsecs")
            .unwrap_err()
            .contains("unknown size unit"));
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let secret = Secret::new("sentinel-key-123".to_owned());
        assert!(!format!("{secret:?}").contains("sentinel"));
    }

    #[test]
    fn tags_reject_whitespace_and_empties() {
        assert_eq!(validate_tag("env:prod"), Ok("env:prod".to_owned()));
        assert!(validate_tag("").is_err());
        assert!(validate_tag("env: prod").is_err());
    }
}
