//! Text forms of model values shared by every printer and view (the table of `wiretop
//! snapshot` and the explorer), so a figure reads the same everywhere.

use crate::model::{Process, Proto};

/// A byte count, or `-` when it could not be measured (never a made-up 0).
pub fn bytes_or_dash(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), human_bytes)
}

/// A rate in bytes per second without a unit suffix (`1.2M`, for a column titled `/s`), or `-`.
pub fn rate_or_dash(per_sec: Option<f64>) -> String {
    bytes_or_dash(per_sec.map(|r| r.max(0.0).round() as u64))
}

/// A rate with its unit (`1.2M/s`), or `-`.
pub fn rate_per_sec(per_sec: Option<f64>) -> String {
    per_sec.map_or_else(
        || "-".to_owned(),
        |r| format!("{}/s", rate_or_dash(Some(r))),
    )
}

/// Bytes in the binary units top uses: `812K`, `14.2M`, `3.1G`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "K", "M", "G", "T", "P"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit <= 1 || value >= 100.0 {
        format!("{:.0}{}", value, UNITS[unit])
    } else {
        format!("{:.1}{}", value, UNITS[unit])
    }
}

/// argv joined, or the bracketed name for kernel threads and zombies, as ps shows them. Not
/// yet safe for a terminal: pass it through [`crate::escape::for_terminal`].
pub fn command_text(p: &Process) -> String {
    if p.cmdline.is_empty() {
        format!("[{}]", p.name)
    } else {
        p.cmdline.join(" ")
    }
}

/// `:8080,:9090`, with `u` marking UDP ports; empty when the process listens on nothing.
pub fn listen_ports(p: &Process) -> String {
    let mut ports: Vec<(Proto, u16)> = p.listening.iter().map(|l| (l.proto, l.port)).collect();
    ports.sort();
    ports.dedup();
    ports
        .iter()
        .map(|(proto, port)| match proto {
            Proto::Tcp => format!(":{port}"),
            Proto::Udp => format!("u:{port}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// htop's TIME+: minutes:seconds.hundredths, or hours once past an hour.
pub fn cpu_time(ms: u64) -> String {
    let hundredths = (ms / 10) % 100;
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}.{hundredths:02}")
    }
}

/// `addr:port`, with brackets around IPv6 addresses.
pub fn endpoint(addr: std::net::IpAddr, port: u16) -> String {
    match addr {
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        v4 => format!("{v4}:{port}"),
    }
}

/// Protocol name as ss prints it.
pub fn proto(p: Proto) -> &'static str {
    match p {
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
    }
}

/// A duration in seconds as `3d 04:05:06` / `04:05:06`, like top's uptime.
pub fn uptime(secs: f64) -> String {
    let secs = secs.max(0.0) as u64;
    let (d, h, m, s) = (
        secs / 86_400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// The UTC time of day of a unix time in milliseconds, `HH:MM:SS.mmm`.
pub fn clock_time(unix_ms: u64) -> String {
    let ms_of_day = unix_ms % 86_400_000;
    let (hours, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    format!(
        "{hours:02}:{minutes:02}:{:02}.{:03}",
        rest / 1000,
        rest % 1000
    )
}

/// A unix time in milliseconds as `MM-DD HH:MM` in UTC: a process's start, short enough for
/// a column and unambiguous across days.
pub fn month_day_time(unix_ms: u64) -> String {
    let days = unix_ms / 86_400_000;
    let minutes_of_day = (unix_ms % 86_400_000) / 60_000;
    let (_, month, day) = civil_date(days);
    format!(
        "{month:02}-{day:02} {:02}:{:02}",
        minutes_of_day / 60,
        minutes_of_day % 60
    )
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01, proleptic Gregorian:
/// counted in 400-year eras of 146,097 days, each starting on a March 1st so the leap day
/// falls at the end of its year.
fn civil_date(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(2048), "2K");
        assert_eq!(human_bytes(200 * 1024 * 1024), "200M");
        assert_eq!(human_bytes(1536 * 1024 * 1024), "1.5G");
    }

    #[test]
    fn cpu_time_reads_like_htop() {
        assert_eq!(cpu_time(0), "0:00.00");
        assert_eq!(cpu_time(61_230), "1:01.23");
        assert_eq!(cpu_time(3_723_000), "1h02:03");
    }

    #[test]
    fn endpoints_bracket_ipv6() {
        assert_eq!(endpoint("::1".parse().unwrap(), 80), "[::1]:80");
        assert_eq!(endpoint("10.0.0.1".parse().unwrap(), 80), "10.0.0.1:80");
    }

    #[test]
    fn uptime_shows_days_once_past_one() {
        assert_eq!(uptime(59.0), "00:00:59");
        assert_eq!(uptime(90_061.0), "1d 01:01:01");
    }

    #[test]
    fn start_times_are_month_day_and_minute_in_utc() {
        assert_eq!(month_day_time(0), "01-01 00:00");
        // 2024-02-29 13:45:59 UTC: a leap day.
        assert_eq!(month_day_time(1_709_214_359_000), "02-29 13:45");
        // 2023-12-31 23:59 UTC, the last minute of a year.
        assert_eq!(month_day_time(1_704_067_140_000), "12-31 23:59");
        assert_eq!(civil_date(19_783), (2024, 3, 1));
    }
}
