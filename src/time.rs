//! Wall-clock time as snapshots count it: milliseconds since the Unix epoch. One helper for the
//! sampler, the explorer and the uplink, so their times compare; and the times a user types
//! (`--at`), read into the same scale.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in ms since the epoch.
pub fn now_ms() -> u64 {
    unix_ms(SystemTime::now())
}

/// `at` in ms since the epoch; 0 for a time before it (a clock set to 1969).
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A time given on the command line (`snapshot --from FILE --at TIME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    /// This moment, in ms since the epoch.
    At(u64),
    /// This long before the end of the recording (`-5m`).
    BeforeEnd(Duration),
}

const DAY_MS: i64 = 86_400_000;

/// How a time may be written, for error messages.
pub const TIME_FORMS: &str = "an RFC 3339 time (2026-11-29T03:12:00Z, or with an offset: \
     2026-11-29T04:12:00+01:00), a local time today (03:12 or 03:12:30), or a time back from \
     the end of the recording (-5m, -1h30m)";

/// The local time zone's offset from UTC now, in seconds, from TZ or /etc/localtime (as the C
/// library reads them). None when it cannot be told: the `time` crate asks the C library only
/// while this process has a single thread, as the commands that read times do.
pub fn local_offset_secs() -> Option<i32> {
    time::UtcOffset::current_local_offset()
        .ok()
        .map(time::UtcOffset::whole_seconds)
}

/// Reads `text` as [`TIME_FORMS`] says. A local `HH:MM[:SS]` is today's date in the local zone
/// (`now_ms` and `local_offset_secs`, None when the zone is unknown), with the zone's offset of
/// now (on the day clocks change, a time on the other side of the change is an hour off).
pub fn parse_time_arg(
    text: &str,
    now_ms: u64,
    local_offset_secs: Option<i32>,
) -> Result<TimeArg, String> {
    let text = text.trim();
    let not_a_time = || format!("`{text}` is not a time: give {TIME_FORMS}");
    if let Some(back) = text.strip_prefix('-') {
        let back = crate::config::parse_duration(back).map_err(|_| not_a_time())?;
        return Ok(TimeArg::BeforeEnd(back));
    }
    if text.contains('T') || text.contains('t') {
        let at = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("{} ({e})", not_a_time()))?;
        let ms = at.unix_timestamp_nanos() / 1_000_000;
        return u64::try_from(ms).map(TimeArg::At).map_err(|_| not_a_time());
    }
    let (hours, minutes, seconds) = clock_time(text).ok_or_else(not_a_time)?;
    let offset = local_offset_secs.ok_or_else(|| {
        let today = i64::try_from(now_ms / 1000)
            .ok()
            .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
            .map_or_else(|| "2026-11-29".to_owned(), |now| now.date().to_string());
        format!(
            "`{text}` is a local time, but the local time zone cannot be told here: give it \
             as RFC 3339 with its zone ({today}T{hours:02}:{minutes:02}:{seconds:02}Z for UTC)"
        )
    })?;
    let offset_ms = i64::from(offset) * 1000;
    let now = i64::try_from(now_ms).map_err(|_| not_a_time())?;
    let local_midnight = (now + offset_ms).div_euclid(DAY_MS) * DAY_MS;
    let at = local_midnight - offset_ms + ((hours * 60 + minutes) * 60 + seconds) * 1000;
    u64::try_from(at).map(TimeArg::At).map_err(|_| not_a_time())
}

/// `HH:MM` or `HH:MM:SS`, each part two digits (one for the hour), within a day.
fn clock_time(text: &str) -> Option<(i64, i64, i64)> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |part: &str, max: i64, widths: &[usize]| {
        let ok = widths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| part.parse::<i64>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    match parts.as_slice() {
        [h, m] => Some((number(h, 23, &[1, 2])?, number(m, 59, &[2])?, 0)),
        [h, m, s] => Some((
            number(h, 23, &[1, 2])?,
            number(m, 59, &[2])?,
            number(s, 59, &[2])?,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_the_epoch_and_never_goes_below_it() {
        assert_eq!(unix_ms(UNIX_EPOCH + Duration::from_millis(1_234)), 1_234);
        assert_eq!(unix_ms(UNIX_EPOCH - Duration::from_secs(1)), 0);
        assert!(now_ms() > 1_700_000_000_000);
    }

    /// 2026-11-29T10:00:00Z.
    const NOW: u64 = 1_795_946_400_000;

    #[test]
    fn rfc_3339_times_read_with_their_zone() {
        let at = |text| parse_time_arg(text, NOW, None);
        assert_eq!(
            at("2026-11-29T03:12:00Z"),
            Ok(TimeArg::At(NOW - 24_480_000))
        );
        assert_eq!(
            at("2026-11-29T04:12:00+01:00"),
            Ok(TimeArg::At(NOW - 24_480_000))
        );
        assert_eq!(
            at("2026-11-29T03:12:00.250Z"),
            Ok(TimeArg::At(NOW - 24_479_750))
        );
        assert!(
            at("2026-11-29T03:12:00").is_err(),
            "a zone is part of RFC 3339"
        );
        assert!(at("2026-13-29T03:12:00Z")
            .unwrap_err()
            .contains("is not a time"));
    }

    #[test]
    fn a_local_clock_time_is_today_in_the_local_zone() {
        let utc_plus_1 = Some(3600);
        assert_eq!(
            parse_time_arg("03:12", NOW, utc_plus_1),
            Ok(TimeArg::At(NOW - 28_080_000)),
            "03:12 at UTC+1 is 02:12Z"
        );
        assert_eq!(
            parse_time_arg("10:00:30", NOW, Some(0)),
            Ok(TimeArg::At(NOW + 30_000))
        );
        // 23:30Z is already the next day at UTC+1: 00:10 local is 23:10Z the same evening.
        let late = NOW + 13 * 3_600_000 + 1_800_000;
        assert_eq!(
            parse_time_arg("00:10", late, utc_plus_1),
            Ok(TimeArg::At(NOW + 13 * 3_600_000 + 600_000))
        );
        // West of Greenwich, before local midnight.
        assert_eq!(
            parse_time_arg("9:00", NOW, Some(-5 * 3600)),
            Ok(TimeArg::At(NOW + 4 * 3_600_000)),
            "09:00 at UTC-5 is 14:00Z"
        );
        let unknown = parse_time_arg("03:12", NOW, None).unwrap_err();
        assert!(unknown.contains("2026-11-29T03:12:00Z"), "{unknown}");
        for bad in [
            "24:00",
            "03:60",
            "3:1",
            "03:12:61",
            "03-12",
            "",
            "noon",
            "03:12:00:00",
        ] {
            assert!(parse_time_arg(bad, NOW, Some(0)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_minus_sign_counts_back_from_the_end() {
        assert_eq!(
            parse_time_arg("-5m", NOW, None),
            Ok(TimeArg::BeforeEnd(Duration::from_secs(300)))
        );
        assert_eq!(
            parse_time_arg("-1h30m", NOW, None),
            Ok(TimeArg::BeforeEnd(Duration::from_secs(5400)))
        );
        assert!(parse_time_arg("-soon", NOW, None).is_err());
    }
}
