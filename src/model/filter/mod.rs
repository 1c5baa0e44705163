//! The explorer's filter language: what the user types after `/`.
//!
//! The text is re-parsed on every keystroke, so parsing is cheap and every mistake comes back as
//! a [`FilterError`] that names the offending term and what was expected, rather than as a
//! filter that silently matches nothing.
//!
//! # Language
//!
//! Terms are separated by whitespace and must all hold (AND). Matching ignores case.
//!
//! | term | a process matches when |
//! |---|---|
//! | `word` | `word` is inside its name, command line, user or pid, or it listens on port `word` (also written `:word`) |
//! | `port:8080`, `port:8000-8100` | it listens on the port, or holds a connection with it at either end |
//! | `user:postgres`, `user:1000` | its owner has that name, or that uid |
//! | `pid:123`, `ppid:1` | its pid (parent pid) is exactly that |
//! | `name:nginx` | its name contains `nginx` |
//! | `state:listen`, `state:time_wait`, … | it holds a socket in that state (`listen`: any listening socket, UDP included) |
//! | `state:running`, `state:R`, … | it is in that scheduler state |
//! | `remote:10.0.0.5`, `remote:10.0.0.0/8`, `remote:fe80::/10` | one of its connections goes to that address or network |
//! | `peer:node`, `peer:1234` | the local process at the other end of a connection is named like, or has pid, that |
//! | `cpu>5`, `mem>100M`, `mem>5%`, `threads>10`, `conns>3`, `fds>100` | the figure compares so (`>`, `>=`, `<`, `<=`, `=`, `!=`) |
//! | `rate>1M`, `rx>500K/s`, `tx>1G` | its TCP bytes per second both ways (received, sent) compare so; sizes as for `mem`, `/s` optional |
//! | `rtt>100ms`, `rtt>0.5s`, `rtt<250us` | one of its connections has a smoothed round-trip time that compares so (a bare number is ms) |
//! | `retrans>0` | one of its connections has retransmitted that many segments over its life |
//! | `new` | it started since wiretop launched ([`Process::new`]); quoted, `"new"` is a word |
//! | `unit:nginx`, `unit:user@1000.service/app` | its systemd unit ([`Attribution::systemd_unit`](crate::model::Attribution)) contains the text |
//! | `container:web-1`, `container:3f2a9c` | its container's name contains the text, or its id starts with it |
//! | `pod:checkout`, `pod:prod/checkout` | its Kubernetes pod's name contains the text (after `namespace/`: in exactly that namespace) |
//! | `image:nginx` | its container's image contains the text |
//! | `unexpected` | it is outside the baseline given with `--baseline` ([`Process::unexpected`]) |
//!
//! A figure the snapshot does not know (no CPU reading yet, unreadable fds, a rate not yet
//! measured, a UDP connection's rtt) satisfies no comparison, so `cpu<1` and `rate<1K` never
//! list processes nobody measured; negation is plain logical not, so `!rate>1M` does list them.
//! `rtt` and `retrans` ask about any one connection, like `port:` and `remote:`: `!rtt>100ms`
//! is "no connection known to be that slow".
//!
//! `!term` or `-term` negates a term. A term can be double-quoted (in whole or after the `:`) to
//! include spaces or to be taken literally: `"a:b"` searches for the text `a:b`, and `"--port"`
//! for a flag. A term that starts with `--` is always literal text, as it is almost always a
//! command-line flag.
//!
//! The same filter narrows the explorer's events pane ([`Filter::matches_event`]): each term is
//! asked of what the event carries of its process (pid, parent, name, command line, user name,
//! the address and port of a socket event), and a bare word also finds the event's kind
//! (`exited`, `listen`); see `event.rs` for the terms an event cannot answer (an event carries
//! no unit, container, pod or image, so `unit:`, `container:`, `pod:` and `image:` match none).

mod event;
mod numbers;
mod parse;
mod term;
#[cfg(test)]
mod tests;

use std::ops::Range;

use super::{LifecycleEvent, Process};
use event::EventSubject;
use term::Term;

/// A parsed filter: the conditions a process must all meet. The default (and the result of
/// parsing empty or blank text) is the empty filter, which matches every process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    terms: Vec<Term>,
}

impl Filter {
    /// Parses filter text (see the module documentation for the language).
    ///
    /// Stops at the first bad term; the error says which term (by byte offset and by index)
    /// and what was expected there.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        parse::parse_terms(text).map(|terms| Filter { terms })
    }

    /// Whether `process` meets every term.
    pub fn matches(&self, process: &Process) -> bool {
        self.terms.iter().all(|term| term.matches(process))
    }

    /// Whether `event` meets every term, as far as an event can answer each (see `event.rs`);
    /// `new` says whether its process is new, which only the caller knows (the event carries
    /// the start time, not the reference it is compared with).
    pub fn matches_event(&self, event: &LifecycleEvent, new: bool) -> bool {
        let subject = EventSubject { event, new };
        self.terms.iter().all(|term| term.matches_event(subject))
    }

    /// Whether the filter has no terms (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// Why filter text could not be parsed.
///
/// Every variant carries where the bad term is: `offset`, its byte offset in the text; `index`,
/// its position among the whitespace-separated terms, from 0; and `term`, the term as typed
/// (negation and quotes included), so `offset..offset + term.len()` spans it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A `"` with no closing `"` before the end of the text.
    #[error("`{term}`: unterminated quote; close it with `\"`")]
    UnterminatedQuote {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed, up to the end of the text.
        term: String,
    },
    /// A lone `!` or `-` with nothing to negate.
    #[error("`{term}`: expected a term to negate after it (!name:nginx)")]
    MissingTerm {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
    },
    /// A `field:` or `field>` with nothing after it.
    #[error("`{term}`: missing value after `{prefix}` ({example})")]
    MissingValue {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The field and operator typed, such as `port:`.
        prefix: String,
        /// A well-formed term for the field.
        example: &'static str,
    },
    /// A field name the language does not have.
    #[error(
        "`{term}`: unknown field `{field}`{}; fields: {} (quote the term to search for the text)",
        did_you_mean(*.suggestion),
        parse::field_names()
    )]
    UnknownField {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The field name as typed.
        field: String,
        /// A known field the name is a likely misspelling of.
        suggestion: Option<&'static str>,
    },
    /// A known field written with the wrong operator: `port>80` or `cpu:5`.
    #[error("`{term}`: `{field}` is written like {example}")]
    WrongOperator {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The field name.
        field: &'static str,
        /// A well-formed term for the field.
        example: &'static str,
    },
    /// A value that should be a number but is not.
    #[error("`{term}`: expected a number ({example})")]
    BadNumber {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// A well-formed term for the field.
        example: &'static str,
    },
    /// A number followed by a unit the field does not take: a size that is not B, K, M, G, T
    /// (or KiB, MiB, …), a time that is not us, ms or s.
    #[error("`{term}`: unknown {what} unit `{unit}`; expected {expected}")]
    BadUnit {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The unit as typed.
        unit: String,
        /// What kind of figure the field compares: `size`, `rate` or `time`.
        what: &'static str,
        /// The units the field takes, with well-formed terms.
        expected: &'static str,
    },
    /// A port above 65535, not a number, or a range whose start is after its end.
    #[error(
        "`{term}`: `{value}` is not a port; expected 0-65535 or a range low-high \
         (port:8080, port:8000-8100)"
    )]
    BadPort {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The value as typed.
        value: String,
    },
    /// A `remote:` value that is not an IP address or CIDR network.
    #[error(
        "`{term}`: `{value}` is not an IP address or network \
         (remote:10.0.0.5, remote:10.0.0.0/8, remote:fe80::/10)"
    )]
    BadAddress {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The value as typed.
        value: String,
    },
    /// A CIDR prefix length longer than the address (32 for IPv4, 128 for IPv6).
    #[error("`{term}`: prefix length /{prefix} is out of range; expected /0 to /{max}")]
    PrefixOutOfRange {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The prefix length as typed.
        prefix: String,
        /// The longest prefix the address family allows.
        max: u8,
    },
    /// A `state:` value that names neither a socket state nor a process state.
    #[error("`{term}`: unknown state `{state}`; expected {}", parse::state_names())]
    BadState {
        /// Byte offset of the term.
        offset: usize,
        /// Index of the term.
        index: usize,
        /// The term as typed.
        term: String,
        /// The state as typed.
        state: String,
    },
}

impl FilterError {
    /// Byte offset of the bad term in the filter text.
    pub fn offset(&self) -> usize {
        self.location().0
    }

    /// Position of the bad term among the whitespace-separated terms, from 0.
    pub fn term_index(&self) -> usize {
        self.location().1
    }

    /// The bad term as typed.
    pub fn term(&self) -> &str {
        self.location().2
    }

    /// Byte range of the bad term in the filter text, for underlining it.
    pub fn span(&self) -> Range<usize> {
        let (offset, _, term) = self.location();
        offset..offset + term.len()
    }

    fn location(&self) -> (usize, usize, &str) {
        // Every variant has the same three location fields; the match stays exhaustive, so a
        // new variant cannot be forgotten here.
        macro_rules! location {
            ($($variant:ident),+) => {
                match self {
                    $(Self::$variant { offset, index, term, .. })|+ => (*offset, *index, term),
                }
            };
        }
        location!(
            UnterminatedQuote,
            MissingTerm,
            MissingValue,
            UnknownField,
            WrongOperator,
            BadNumber,
            BadUnit,
            BadPort,
            BadAddress,
            PrefixOutOfRange,
            BadState
        )
    }
}

/// The " (did you mean `port`?)" part of an unknown-field message, empty without a suggestion.
fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean `{s}`?)"))
}
