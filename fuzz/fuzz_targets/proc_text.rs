//! Text parsing that handles what processes control or what people type:
//! `escape::for_terminal` (process names and command lines put on a terminal), the
//! configuration's `parse_duration`, `parse_interval` and `parse_size`, and the sampler's
//! `/proc` parsers (`split_cmdline`, `cgroup_path`, `attribution_of`, `parse_ns_link`,
//! `socket_inode`, `parse_stat`, `parse_io`), re-exported for this target as
//! `wiretop::sample::fuzzing`.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wiretop::config::{parse_duration, parse_interval, parse_size};
use wiretop::escape::for_terminal;

/// What `for_terminal` must leave out of its output: control characters and bidirectional
/// overrides and isolates.
fn dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let safe = for_terminal(&text);
    if let Some(c) = safe.chars().find(|c| dangerous(*c)) {
        panic!("for_terminal left {c:?} in {safe:?}");
    }
    if !text.chars().any(dangerous) {
        assert_eq!(safe, text, "for_terminal changed text with nothing to escape");
    }

    let _ = parse_duration(&text);
    if let Ok(interval) = parse_interval(&text) {
        assert!(
            (Duration::from_millis(100)..=Duration::from_secs(3600)).contains(&interval),
            "parse_interval accepted {interval:?} from {text:?}"
        );
    }
    if let Ok(size) = parse_size(&text) {
        assert!(
            (1..=1_000_000_000_000_000).contains(&size),
            "parse_size accepted {size} from {text:?}"
        );
    }

    proc_parsers::check(data, &text);
});

mod proc_parsers {
    use std::ffi::CStr;

    use wiretop::sample::fuzzing::{
        attribution_of, cgroup_path, parse_io, parse_ns_link, parse_stat, socket_inode,
        split_cmdline,
    };

    pub fn check(data: &[u8], text: &str) {
        // /proc/<pid>/cmdline: one argument per NUL, the final NUL optional, every argument
        // kept (empty ones too) with its text intact.
        let raw = data.strip_suffix(b"\0").unwrap_or(data);
        let args = split_cmdline(data);
        if raw.is_empty() {
            assert!(args.is_empty(), "{data:?} gave {args:?}");
        } else {
            assert_eq!(args.len(), raw.iter().filter(|b| **b == 0).count() + 1);
            assert_eq!(args.join("\0"), String::from_utf8_lossy(raw));
        }

        // /proc/<pid>/cgroup: the path is the third field of one of its lines.
        if let Some(path) = cgroup_path(text) {
            assert!(
                text.lines().any(|line| line.splitn(3, ':').nth(2) == Some(path.as_str())),
                "cgroup path {path:?} is on no line of {text:?}"
            );
        }

        // What a cgroup file names: a container id of 64 hex digits, a pod uid and a unit
        // found in the text, a unit that ends as a unit does.
        let attribution = attribution_of(text);
        if let Some(container) = &attribution.container {
            let id = &container.id;
            assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id:?}");
            assert!(text.contains(id.as_str()));
        }
        if let Some(uid) = &attribution.pod_uid {
            assert!(text.contains(uid.as_str()) || text.contains(&uid.replace('-', "_")));
        }
        if let Some(unit) = &attribution.unit {
            let last = unit.unit.rsplit('/').next().unwrap_or_default();
            assert!(text.contains(last), "{unit:?} not in {text:?}");
            assert!(
                [".service", ".scope", ".socket", ".mount", ".swap"]
                    .iter()
                    .any(|suffix| last.ends_with(suffix)),
                "{unit:?}"
            );
        }

        // ns/net and fd link targets: `net:[N]`, `socket:[N]`, and N comes back the same.
        if let Some(inode) = parse_ns_link(text) {
            assert!(text.starts_with("net:[") && text.ends_with(']'), "{text:?}");
            assert_eq!(parse_ns_link(&format!("net:[{inode}]")), Some(inode));
        }
        // /proc/<pid>/stat: the name is everything between the first '(' and the last ')', so
        // what follows it holds no ')'; the pid comes back as it was written.
        if let Some(stat) = parse_stat(data) {
            let open = data.iter().position(|b| *b == b'(').expect("a '(' was found");
            let after = &data[open + 1 + stat.comm.len()..];
            assert_eq!(&data[open + 1..open + 1 + stat.comm.len()], stat.comm);
            assert!(after.starts_with(b") "), "{data:?}");
            assert!(!after[1..].contains(&b')'), "the name ended before the last ')'");
            assert!(data.starts_with(format!("{} (", stat.pid).as_bytes()));
        }

        // /proc/<pid>/io: both figures are on lines of their own.
        if let Some((read, written)) = parse_io(data) {
            let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
            assert!(lines.contains(&format!("read_bytes: {read}").as_bytes()), "{text:?}");
            assert!(lines.contains(&format!("write_bytes: {written}").as_bytes()), "{text:?}");
        }

        let mut link = data.split(|b| *b == 0).next().unwrap_or_default().to_vec();
        link.push(0);
        let link = CStr::from_bytes_with_nul(&link).expect("one NUL, at the end");
        if let Some(inode) = socket_inode(link) {
            assert!(link.to_bytes().starts_with(b"socket:["), "{link:?}");
            let again = format!("socket:[{inode}]\0");
            let again = CStr::from_bytes_with_nul(again.as_bytes()).expect("one NUL");
            assert_eq!(socket_inode(again), Some(inode));
        }
    }
}
