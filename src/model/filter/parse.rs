//! Filter text to terms, in two steps: split the text into tokens (whitespace outside quotes
//! separates them, quotes are removed), then read each token as a term.

use super::numbers::{
    parse_count, parse_decimal, parse_digits, parse_memory, parse_milliseconds, parse_port,
    parse_port_range, parse_rate, UnitError, MEMORY_UNITS, RATE_UNITS, TIME_UNITS,
};
use super::term::{ConnectionMetric, Metric, Op, Term, TermKind, TextQuery};
use super::FilterError;
use crate::model::{Network, NetworkError};
use crate::model::{ProcessState, SocketState};

/// Builds a `FilterError` variant located at a token.
macro_rules! error_at {
    ($token:expr, $variant:ident { $($field:tt)* }) => {
        FilterError::$variant {
            offset: $token.offset,
            index: $token.index,
            term: $token.raw.to_owned(),
            $($field)*
        }
    };
}

/// Parses every term of `input`; blank input gives no terms.
pub(super) fn parse_terms(input: &str) -> Result<Vec<Term>, FilterError> {
    let mut terms = Vec::new();
    for token in tokenize(input)? {
        if let Some(term) = parse_token(&token)? {
            terms.push(term);
        }
    }
    Ok(terms)
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// One whitespace-separated piece of the filter text.
#[derive(Debug)]
struct Token<'a> {
    /// As typed, quotes included.
    raw: &'a str,
    /// Byte offset of `raw` in the filter text.
    offset: usize,
    /// Position among the tokens, from 0.
    index: usize,
    /// With quotes removed.
    text: String,
    /// Length of the start of `text` that was outside quotes. Syntax (`!`, `field:`, `>`) is only
    /// recognised there, which is what lets quotes make a term literal.
    plain_len: usize,
}

fn tokenize(input: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(start, first)) = chars.peek() {
        if first.is_whitespace() {
            chars.next();
            continue;
        }
        let mut text = String::new();
        let mut plain_len = None;
        let mut in_quotes = false;
        let mut end = input.len();
        while let Some(&(at, c)) = chars.peek() {
            if c.is_whitespace() && !in_quotes {
                end = at;
                break;
            }
            chars.next();
            match c {
                '"' => {
                    in_quotes = !in_quotes;
                    plain_len.get_or_insert(text.len());
                }
                // Inside quotes, \" and \\ stand for themselves so a quote can be searched for.
                '\\' if in_quotes => match chars.peek() {
                    Some(&(_, escaped @ ('"' | '\\'))) => {
                        text.push(escaped);
                        chars.next();
                    }
                    _ => text.push('\\'),
                },
                _ => text.push(c),
            }
        }
        let token = Token {
            raw: &input[start..end],
            offset: start,
            index: tokens.len(),
            plain_len: plain_len.unwrap_or(text.len()),
            text,
        };
        if in_quotes {
            return Err(error_at!(token, UnterminatedQuote {}));
        }
        tokens.push(token);
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Terms

/// Reads one token; `None` for an empty quoted term (`""`), which asks for nothing.
fn parse_token(token: &Token<'_>) -> Result<Option<Term>, FilterError> {
    let text = token.text.as_str();
    // A leading `--` is a command-line flag far more often than a negated `-flag`.
    let negated = token.plain_len >= 1
        && (text.starts_with('!') || text.starts_with('-'))
        && !(token.plain_len >= 2 && text.starts_with("--"));
    let skip = usize::from(negated);
    let body = &text[skip..];
    if body.is_empty() {
        return if negated {
            Err(error_at!(token, MissingTerm {}))
        } else {
            Ok(None)
        };
    }
    let kind = match split_field(&text[skip..token.plain_len]) {
        // A keyword only when typed bare: `"new"` searches for the text.
        None if token.plain_len == text.len() && body.eq_ignore_ascii_case(NEW_KEYWORD) => {
            TermKind::New
        }
        None if token.plain_len == text.len() && body.eq_ignore_ascii_case(UNEXPECTED_KEYWORD) => {
            TermKind::Unexpected
        }
        None => TermKind::Text(TextQuery {
            text: body.to_lowercase(),
            port: parse_port(body.strip_prefix(':').unwrap_or(body)),
        }),
        Some((name, operator, op)) => {
            let value = &body[name.len() + operator.len()..];
            field_term(token, name, operator, op, value)?
        }
    };
    Ok(Some(Term { negated, kind }))
}

/// The word that asks for processes started since wiretop launched.
const NEW_KEYWORD: &str = "new";
/// The word that asks for processes outside the baseline (`--baseline FILE`).
const UNEXPECTED_KEYWORD: &str = "unexpected";

/// Operators that may follow a field name, longest first so `>=` is not read as `>`. `None` is
/// the `:` of a field that takes a value rather than a comparison.
const OPERATORS: [(&str, Option<Op>); 8] = [
    (":", None),
    (">=", Some(Op::Ge)),
    ("<=", Some(Op::Le)),
    ("==", Some(Op::Eq)),
    ("!=", Some(Op::Ne)),
    (">", Some(Op::Gt)),
    ("<", Some(Op::Lt)),
    ("=", Some(Op::Eq)),
];

/// Splits `name` and operator off the unquoted start of a term, when it starts with a word
/// followed by an operator. Anything else (`:8080`, `/usr/bin`, `--flag=x`) is free text.
fn split_field(plain: &str) -> Option<(&str, &'static str, Option<Op>)> {
    let name_len = plain
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(plain.len());
    let (name, rest) = plain.split_at(name_len);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    OPERATORS
        .into_iter()
        .find(|(operator, _)| rest.starts_with(operator))
        .map(|(operator, op)| (name, operator, op))
}

/// Reads `name` `operator` `value` as a field term.
fn field_term(
    token: &Token<'_>,
    name: &str,
    operator: &str,
    op: Option<Op>,
    value: &str,
) -> Result<TermKind, FilterError> {
    let Some(field) = Field::from_name(name) else {
        return Err(error_at!(
            token,
            UnknownField {
                field: name.to_owned(),
                suggestion: suggest_field(name),
            }
        ));
    };
    let example = field.example();
    let op = match (op, field.is_comparison()) {
        (None, false) => Op::Eq,
        (Some(op), true) => op,
        _ => {
            return Err(error_at!(
                token,
                WrongOperator {
                    field: field.name(),
                    example,
                }
            ))
        }
    };
    if value.is_empty() {
        return Err(error_at!(
            token,
            MissingValue {
                prefix: format!("{name}{operator}"),
                example,
            }
        ));
    }
    let bad_number = || error_at!(token, BadNumber { example });
    let compare = |metric, value| TermKind::Compare { metric, op, value };
    let any_connection = |metric, value| TermKind::AnyConnection { metric, op, value };
    let bad_unit = |unit, what, expected| {
        error_at!(
            token,
            BadUnit {
                unit,
                what,
                expected
            }
        )
    };
    Ok(match field {
        Field::Port => {
            let (low, high) = parse_port_range(value).ok_or_else(|| {
                error_at!(
                    token,
                    BadPort {
                        value: value.to_owned(),
                    }
                )
            })?;
            TermKind::Port { low, high }
        }
        Field::User => TermKind::User {
            name: value.to_lowercase(),
            uid: parse_digits(value),
        },
        Field::Pid => TermKind::Pid(parse_digits(value).ok_or_else(bad_number)?),
        Field::Ppid => TermKind::Ppid(parse_digits(value).ok_or_else(bad_number)?),
        Field::Name => TermKind::Name(value.to_lowercase()),
        Field::Unit => TermKind::Unit(value.to_lowercase()),
        Field::Container => TermKind::Container(value.to_lowercase()),
        Field::Pod => TermKind::Pod(value.to_lowercase()),
        Field::Image => TermKind::Image(value.to_lowercase()),
        Field::State => parse_state(value).ok_or_else(|| {
            error_at!(
                token,
                BadState {
                    state: value.to_owned(),
                }
            )
        })?,
        Field::Remote => TermKind::Remote(Network::parse(value).map_err(|e| match e {
            NetworkError::Malformed => error_at!(
                token,
                BadAddress {
                    value: value.to_owned(),
                }
            ),
            NetworkError::PrefixOutOfRange { max } => error_at!(
                token,
                PrefixOutOfRange {
                    prefix: value.rsplit('/').next().unwrap_or_default().to_owned(),
                    max,
                }
            ),
        })?),
        Field::Peer if value.bytes().all(|b| b.is_ascii_digit()) => {
            TermKind::PeerPid(parse_digits(value).ok_or_else(bad_number)?)
        }
        Field::Peer => TermKind::PeerName(value.to_lowercase()),
        Field::Cpu => {
            let percent = value.strip_suffix('%').unwrap_or(value);
            compare(
                Metric::CpuPercent,
                parse_decimal(percent).ok_or_else(bad_number)?,
            )
        }
        Field::Mem => match parse_memory(value) {
            Ok((metric, amount)) => compare(metric, amount),
            Err(UnitError::Number) => return Err(bad_number()),
            Err(UnitError::Unit(unit)) => return Err(bad_unit(unit, "size", MEMORY_UNITS)),
        },
        Field::Rate | Field::Rx | Field::Tx => {
            let metric = match field {
                Field::Rx => Metric::NetRecvBytesPerSec,
                Field::Tx => Metric::NetSendBytesPerSec,
                _ => Metric::NetBytesPerSec,
            };
            match parse_rate(value) {
                Ok(rate) => compare(metric, rate),
                Err(UnitError::Number) => return Err(bad_number()),
                Err(UnitError::Unit(unit)) => return Err(bad_unit(unit, "rate", RATE_UNITS)),
            }
        }
        Field::Rtt => match parse_milliseconds(value) {
            Ok(ms) => any_connection(ConnectionMetric::RttMs, ms),
            Err(UnitError::Number) => return Err(bad_number()),
            Err(UnitError::Unit(unit)) => return Err(bad_unit(unit, "time", TIME_UNITS)),
        },
        Field::Retrans => any_connection(
            ConnectionMetric::Retransmits,
            parse_count(value).ok_or_else(bad_number)?,
        ),
        Field::Threads => compare(Metric::Threads, parse_count(value).ok_or_else(bad_number)?),
        Field::Conns => compare(
            Metric::Connections,
            parse_count(value).ok_or_else(bad_number)?,
        ),
        Field::Fds => compare(Metric::Fds, parse_count(value).ok_or_else(bad_number)?),
    })
}

// ---------------------------------------------------------------------------------------------
// Fields

/// The named fields, in the order error messages list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Port,
    User,
    Pid,
    Ppid,
    Name,
    State,
    Remote,
    Peer,
    Cpu,
    Mem,
    Threads,
    Conns,
    Fds,
    Rate,
    Rx,
    Tx,
    Rtt,
    Retrans,
    Unit,
    Container,
    Pod,
    Image,
}

impl Field {
    const ALL: [Field; 22] = [
        Self::Port,
        Self::User,
        Self::Pid,
        Self::Ppid,
        Self::Name,
        Self::State,
        Self::Remote,
        Self::Peer,
        Self::Cpu,
        Self::Mem,
        Self::Threads,
        Self::Conns,
        Self::Fds,
        Self::Rate,
        Self::Rx,
        Self::Tx,
        Self::Rtt,
        Self::Retrans,
        Self::Unit,
        Self::Container,
        Self::Pod,
        Self::Image,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Port => "port",
            Self::User => "user",
            Self::Pid => "pid",
            Self::Ppid => "ppid",
            Self::Name => "name",
            Self::State => "state",
            Self::Remote => "remote",
            Self::Peer => "peer",
            Self::Cpu => "cpu",
            Self::Mem => "mem",
            Self::Threads => "threads",
            Self::Conns => "conns",
            Self::Fds => "fds",
            Self::Rate => "rate",
            Self::Rx => "rx",
            Self::Tx => "tx",
            Self::Rtt => "rtt",
            Self::Retrans => "retrans",
            Self::Unit => "unit",
            Self::Container => "container",
            Self::Pod => "pod",
            Self::Image => "image",
        }
    }

    /// A well-formed term, shown in error messages.
    fn example(self) -> &'static str {
        match self {
            Self::Port => "port:8080 or port:8000-8100",
            Self::User => "user:postgres",
            Self::Pid => "pid:123",
            Self::Ppid => "ppid:1",
            Self::Name => "name:nginx",
            Self::State => "state:listen",
            Self::Remote => "remote:10.0.0.5 or remote:10.0.0.0/8",
            Self::Peer => "peer:node or peer:1234",
            Self::Cpu => "cpu>5",
            Self::Mem => "mem>100M or mem>5%",
            Self::Threads => "threads>10",
            Self::Conns => "conns>3",
            Self::Fds => "fds>100",
            Self::Rate => "rate>1M or rate>500K/s",
            Self::Rx => "rx>1M",
            Self::Tx => "tx>1M",
            Self::Rtt => "rtt>100ms or rtt>0.5s",
            Self::Retrans => "retrans>0",
            Self::Unit => "unit:nginx.service",
            Self::Container => "container:web-1",
            Self::Pod => "pod:checkout or pod:prod/checkout",
            Self::Image => "image:nginx",
        }
    }

    /// Whether the field takes a comparison (`cpu>5`) rather than a value (`port:80`).
    fn is_comparison(self) -> bool {
        matches!(
            self,
            Self::Cpu
                | Self::Mem
                | Self::Threads
                | Self::Conns
                | Self::Fds
                | Self::Rate
                | Self::Rx
                | Self::Tx
                | Self::Rtt
                | Self::Retrans
        )
    }

    fn from_name(name: &str) -> Option<Field> {
        Self::ALL
            .into_iter()
            .find(|field| field.name().eq_ignore_ascii_case(name))
    }
}

/// The field names, comma-separated, for error messages.
pub(super) fn field_names() -> String {
    Field::ALL.map(Field::name).join(", ")
}

/// The field an unknown name most likely meant (`prot`, `treads`, `memory`).
fn suggest_field(typed: &str) -> Option<&'static str> {
    crate::suggest::closest(typed, &Field::ALL.map(Field::name))
}

// ---------------------------------------------------------------------------------------------
// States

/// Socket states `state:` accepts, by their `ss` names.
const SOCKET_STATES: [SocketState; 12] = [
    SocketState::Listen,
    SocketState::Established,
    SocketState::SynSent,
    SocketState::SynRecv,
    SocketState::FinWait1,
    SocketState::FinWait2,
    SocketState::TimeWait,
    SocketState::Close,
    SocketState::CloseWait,
    SocketState::LastAck,
    SocketState::Closing,
    SocketState::Unconn,
];

/// Process states `state:` accepts, with the scheduler states each covers. The first state of
/// each entry is the one its ps letter names.
const PROCESS_STATES: [(&str, &[ProcessState]); 9] = [
    ("running", &[ProcessState::Running]),
    ("sleeping", &[ProcessState::Sleeping]),
    ("disk_sleep", &[ProcessState::DiskSleep]),
    ("zombie", &[ProcessState::Zombie]),
    // Stopped by a signal or by a debugger is stopped all the same to someone looking for
    // stuck processes; `tracing_stop` singles out the second kind.
    (
        "stopped",
        &[ProcessState::Stopped, ProcessState::TracingStop],
    ),
    ("tracing_stop", &[ProcessState::TracingStop]),
    ("dead", &[ProcessState::Dead]),
    ("idle", &[ProcessState::Idle]),
    ("parked", &[ProcessState::Parked]),
];

/// Reads a state name: a socket state (`time_wait`, `TIME-WAIT`, `timewait`), a process state
/// (`disk_sleep`) or a ps letter (`D`).
fn parse_state(value: &str) -> Option<TermKind> {
    // Separators are dropped so `syn-sent`, `syn_sent` and `SynSent` all read the same.
    let normalize = |name: &str| -> String {
        name.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = normalize(value);
    if let Some(state) = SOCKET_STATES
        .into_iter()
        .find(|state| normalize(state.as_str()) == wanted)
    {
        return Some(TermKind::Socket(state));
    }
    if let Some((_, states)) = PROCESS_STATES
        .into_iter()
        .find(|(name, _)| normalize(name) == wanted)
    {
        return Some(TermKind::Process(states));
    }
    // Letters are matched ignoring case like everything else, so `t` is `T` (stopped).
    let mut chars = value.chars();
    let letter = chars.next().filter(|_| chars.next().is_none())?;
    let state = ProcessState::from_letter(letter.to_ascii_uppercase());
    PROCESS_STATES
        .into_iter()
        .find(|(_, states)| states.first() == Some(&state))
        .map(|(_, states)| TermKind::Process(states))
}

/// The accepted state names, for error messages.
pub(super) fn state_names() -> String {
    let sockets: Vec<String> = SOCKET_STATES
        .iter()
        .map(|state| state.as_str().to_lowercase())
        .collect();
    let processes: Vec<&str> = PROCESS_STATES.iter().map(|(name, _)| *name).collect();
    format!(
        "a socket state ({}) or a process state ({}, or a ps letter R, S, D, Z, T, I, P, X)",
        sockets.join(", "),
        processes.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_whitespace_outside_quotes_and_keep_offsets() {
        let tokens = tokenize("  a \"b c\"\tname:\"x y\" \"q\\\"z\"").unwrap();
        let seen: Vec<(&str, usize, usize, &str, usize)> = tokens
            .iter()
            .map(|t| (t.raw, t.offset, t.index, t.text.as_str(), t.plain_len))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", 2, 0, "a", 1),
                ("\"b c\"", 4, 1, "b c", 0),
                ("name:\"x y\"", 10, 2, "name:x y", 5),
                ("\"q\\\"z\"", 21, 3, "q\"z", 0),
            ]
        );
    }

    #[test]
    fn suggestions_name_filter_fields() {
        // The rule itself is tested in suggest.rs; here, that it runs over the filter's fields.
        let cases = [
            ("prot", Some("port")),
            ("connections", Some("conns")),
            ("foo", None),
            ("http", None),
        ];
        for (typed, expected) in cases {
            assert_eq!(suggest_field(typed), expected, "{typed}");
        }
    }
}
