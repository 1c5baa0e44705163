//! Numbers as the filter's fields write them: plain digits and decimals, ports and port ranges,
//! and figures with units (sizes, rates, times), each turned into the base unit its comparison
//! reads (bytes, bytes per second, milliseconds).

use super::term::Metric;

/// Plain digits as a number; no sign, which `str::parse` would accept.
pub(super) fn parse_digits<T: std::str::FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A whole count, as the f64 comparisons use.
pub(super) fn parse_count(text: &str) -> Option<f64> {
    parse_digits::<u64>(text).map(|n| n as f64)
}

/// Digits with at most one `.`. Checked by hand because `f64::from_str` also takes signs,
/// exponents, `inf` and `NaN`, none of which make sense as a threshold.
pub(super) fn parse_decimal(text: &str) -> Option<f64> {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let dots = text.bytes().filter(|b| *b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != text.len() {
        return None;
    }
    text.parse().ok()
}

/// A port, or a range `low-high` with `low <= high`. A leading `:` is allowed, as ports are often
/// written `:8080`.
pub(super) fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let text = text.strip_prefix(':').unwrap_or(text);
    let (low, high) = match text.split_once('-') {
        Some((low, high)) => (parse_port(low)?, parse_port(high)?),
        None => {
            let port = parse_port(text)?;
            (port, port)
        }
    };
    (low <= high).then_some((low, high))
}

pub(super) fn parse_port(text: &str) -> Option<u16> {
    parse_digits(text)
}

/// Why a figure with a unit did not parse.
#[derive(Debug, PartialEq)]
pub(super) enum UnitError {
    /// The number part is missing or not a plain decimal.
    Number,
    /// The number is followed by a unit the field does not know.
    Unit(String),
}

/// The units `mem` takes, for its unknown-unit message.
pub(super) const MEMORY_UNITS: &str =
    "B, K, M, G or T (also KiB, MiB, GiB, TiB), or % of memory (mem>100M, mem>5%)";
/// The units `rate`, `rx` and `tx` take.
pub(super) const RATE_UNITS: &str =
    "bytes per second as B, K, M, G or T (also KiB, MiB, GiB, TiB), \
                          /s optional (rate>1M, rx>500K/s)";
/// The units `rtt` takes.
pub(super) const TIME_UNITS: &str = "us, ms or s, a bare number being ms (rtt>100ms, rtt>0.5s)";

/// Splits `12.5ms` into its decimal number and the unit after it (possibly empty).
fn number_and_unit(text: &str) -> Result<(f64, &str), UnitError> {
    let unit_at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(unit_at);
    let number = parse_decimal(number).ok_or(UnitError::Number)?;
    Ok((number, unit))
}

/// A `mem` threshold: a percentage of host memory (`5%`) or a size in bytes.
pub(super) fn parse_memory(text: &str) -> Result<(Metric, f64), UnitError> {
    if let Some(percent) = text.strip_suffix('%') {
        let percent = parse_decimal(percent).ok_or(UnitError::Number)?;
        return Ok((Metric::MemPercent, percent));
    }
    parse_size(text).map(|bytes| (Metric::RssBytes, bytes))
}

/// A `rate`, `rx` or `tx` threshold in bytes per second: a size (`1M`), optionally written
/// per second (`1M/s`, `1MiB/s`), which is how rates are usually spelled.
pub(super) fn parse_rate(text: &str) -> Result<f64, UnitError> {
    let per_second = text
        .len()
        .checked_sub(2)
        .filter(|&at| text.is_char_boundary(at) && text[at..].eq_ignore_ascii_case("/s"));
    parse_size(per_second.map_or(text, |at| &text[..at]))
}

/// A size in bytes with an optional binary unit (`100M` is 100 MiB, as top and htop count).
fn parse_size(text: &str) -> Result<f64, UnitError> {
    let (number, unit) = number_and_unit(text)?;
    let power = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        _ => return Err(UnitError::Unit(unit.to_owned())),
    };
    Ok(number * 1024f64.powi(power))
}

/// A duration in milliseconds: `100ms`, `0.5s`, `250us` (or `250µs`, micro sign or Greek mu);
/// a bare number is milliseconds, the unit `ss -ti` prints rtt in.
pub(super) fn parse_milliseconds(text: &str) -> Result<f64, UnitError> {
    let (number, unit) = number_and_unit(text)?;
    // Microseconds are divided rather than multiplied by 0.001, which is inexact: `rtt<=50us`
    // must hold for a 0.05 ms rtt.
    match unit.to_ascii_lowercase().as_str() {
        "" | "ms" => Ok(number),
        "s" => Ok(number * 1000.0),
        "us" | "\u{b5}s" | "\u{3bc}s" => Ok(number / 1000.0),
        _ => Err(UnitError::Unit(unit.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units_and_percentages_compare_memory_percent() {
        let cases = [
            ("512", Ok((Metric::RssBytes, 512.0))),
            ("512b", Ok((Metric::RssBytes, 512.0))),
            ("2K", Ok((Metric::RssBytes, 2048.0))),
            ("2KiB", Ok((Metric::RssBytes, 2048.0))),
            ("1.5m", Ok((Metric::RssBytes, 1.5 * 1024.0 * 1024.0))),
            ("1MiB", Ok((Metric::RssBytes, 1048576.0))),
            ("1G", Ok((Metric::RssBytes, 1073741824.0))),
            ("1gib", Ok((Metric::RssBytes, 1073741824.0))),
            ("1T", Ok((Metric::RssBytes, 1099511627776.0))),
            ("5%", Ok((Metric::MemPercent, 5.0))),
            ("0.5%", Ok((Metric::MemPercent, 0.5))),
            ("%", Err(UnitError::Number)),
            ("M", Err(UnitError::Number)),
            ("1.2.3M", Err(UnitError::Number)),
            ("-1M", Err(UnitError::Number)),
            ("10X", Err(UnitError::Unit("X".into()))),
            ("10 MB", Err(UnitError::Unit(" MB".into()))),
            ("10Mi", Err(UnitError::Unit("Mi".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_memory(text), expected, "{text}");
        }
    }

    #[test]
    fn rates_are_sizes_optionally_per_second() {
        let cases = [
            ("512", Ok(512.0)),
            ("2K", Ok(2048.0)),
            ("1M/s", Ok(1048576.0)),
            ("1MiB/S", Ok(1048576.0)),
            ("1.5g/s", Ok(1.5 * 1073741824.0)),
            ("0/s", Ok(0.0)),
            ("/s", Err(UnitError::Number)),
            ("fast", Err(UnitError::Number)),
            ("1M/sec", Err(UnitError::Unit("M/sec".into()))),
            ("1M/s/s", Err(UnitError::Unit("M/s".into()))),
            ("5%", Err(UnitError::Unit("%".into()))),
            ("1Mbit", Err(UnitError::Unit("Mbit".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_rate(text), expected, "{text}");
        }
    }

    #[test]
    fn times_are_milliseconds_unless_a_unit_says_otherwise() {
        let cases = [
            ("100", Ok(100.0)),
            ("100ms", Ok(100.0)),
            ("100MS", Ok(100.0)),
            ("0.5s", Ok(500.0)),
            ("2S", Ok(2000.0)),
            ("250us", Ok(0.25)),
            ("50\u{b5}s", Ok(0.05)),
            ("50\u{3bc}s", Ok(0.05)),
            ("ms", Err(UnitError::Number)),
            ("-1ms", Err(UnitError::Number)),
            ("10parsecs", Err(UnitError::Unit("parsecs".into()))),
            ("1m", Err(UnitError::Unit("m".into()))),
            ("1ns", Err(UnitError::Unit("ns".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_milliseconds(text), expected, "{text}");
        }
    }

    #[test]
    fn numbers_are_plain_digits_without_sign_exponent_or_special_values() {
        for good in ["0", "5", "5.5", ".5", "5.", "100"] {
            assert!(parse_decimal(good).is_some(), "{good}");
        }
        for bad in [
            "", ".", "-5", "+5", "1e3", "inf", "NaN", "5..", "1.2.3", "5x",
        ] {
            assert_eq!(parse_decimal(bad), None, "{bad}");
        }
        assert_eq!(parse_count("12"), Some(12.0));
        assert_eq!(parse_count("1.5"), None);
        assert_eq!(parse_digits::<u32>("+1"), None);
        assert_eq!(parse_digits::<u32>("4294967296"), None);
    }

    #[test]
    fn ports_and_ranges_stay_within_u16_and_in_order() {
        let cases = [
            ("80", Some((80, 80))),
            (":8080", Some((8080, 8080))),
            ("0", Some((0, 0))),
            ("65535", Some((65535, 65535))),
            ("8000-8100", Some((8000, 8100))),
            ("80-80", Some((80, 80))),
            ("65536", None),
            ("8100-8000", None),
            ("8000-", None),
            ("-8000", None),
            ("http", None),
            ("80-90-100", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_port_range(text), expected, "{text}");
        }
    }
}
