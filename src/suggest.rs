//! "Did you mean": the known name closest to a mistyped one. One rule for configuration keys,
//! environment variables and filter fields alike.

/// The name in `known` that `typed` most likely meant: a few typing mistakes away (an
/// insertion, deletion, substitution or swap of neighbours each counts one, so `prot` is one
/// from `port`), or failing that the first that shares its first three letters (`memory` for
/// `mem`). Case is ignored. None when nothing is close.
pub fn closest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    let typed = typed.to_ascii_lowercase();
    let near = known
        .iter()
        .map(|name| {
            let distance = strsim::osa_distance(&typed, &name.to_ascii_lowercase());
            (distance, *name)
        })
        .filter(|(distance, name)| *distance <= allowed_edits(&typed, name))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name);
    near.or_else(|| {
        // Names that all start alike (`WIRETOP_…`) are told apart by what follows.
        let common = common_prefix(known);
        let start = typed.get(common..common + 3)?;
        known
            .iter()
            .find(|name| name.to_ascii_lowercase().get(common..common + 3) == Some(start))
            .copied()
    })
}

/// The length of the prefix every name in `known` shares (0 for fewer than two names).
fn common_prefix(known: &[&str]) -> usize {
    let Some((first, rest)) = known.split_first() else {
        return 0;
    };
    if rest.is_empty() {
        return 0;
    }
    let first = first.to_ascii_lowercase();
    rest.iter().fold(first.len(), |shared, name| {
        let name = name.to_ascii_lowercase();
        first
            .bytes()
            .zip(name.bytes())
            .take(shared)
            .take_while(|(a, b)| a == b)
            .count()
    })
}

/// One mistake in a short name, two in a longer one, and a quarter of a long one.
fn allowed_edits(typed: &str, name: &str) -> usize {
    let length = typed.chars().count().max(name.chars().count());
    if length < 5 {
        1
    } else {
        2.max(length / 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_longer_spellings_are_recognised_unrelated_words_are_not() {
        let fields = [
            "port", "user", "pid", "state", "remote", "peer", "cpu", "mem", "threads", "conns",
        ];
        let cases = [
            ("prot", Some("port")),
            ("PORT_", Some("port")),
            ("usr", Some("user")),
            ("treads", Some("threads")),
            ("memory", Some("mem")),
            ("status", Some("state")),
            ("connections", Some("conns")),
            ("foo", None),
            ("http", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(closest(typed, &fields), expected, "{typed}");
        }
    }

    #[test]
    fn long_names_allow_a_quarter_of_their_length() {
        let vars = [
            "WIRETOP_PROCESS_AGENT_INTERVAL",
            "WIRETOP_UPLINK_ENDPOINT",
            "WIRETOP_LOG",
        ];
        assert_eq!(
            closest("WIRETOP_PROCES_AGENT_INTERVL", &vars),
            Some("WIRETOP_PROCESS_AGENT_INTERVAL")
        );
        assert_eq!(closest("WIRETOP_LOGS", &vars), Some("WIRETOP_LOG"));
        assert_eq!(
            closest("interval", &["enabled", "interval"]),
            Some("interval")
        );
        assert_eq!(
            closest("intervl", &["enabled", "interval"]),
            Some("interval")
        );
        assert_eq!(
            closest("WIRETOP_ZZZZZZZZZZZZZZZZZZZZ", &vars),
            None,
            "only the shared prefix"
        );
        assert_eq!(
            closest("WIRETOP_UPL", &vars),
            Some("WIRETOP_UPLINK_ENDPOINT")
        );
    }
}
