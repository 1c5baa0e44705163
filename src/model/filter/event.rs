//! The filter language applied to events (the explorer's events pane), term by term, on what an
//! event carries of its process: pid, parent, name, command line, user name, and the address
//! of a socket event.
//!
//! A term about something an event does not carry (CPU, memory, a peer, a scheduler state, a
//! uid without a name, a unit, container, pod or image) matches no event, as an unknown figure matches no comparison in the
//! table: `cpu>5` never lists an event whose process nobody measured then. Negation stays plain
//! logical not, so `!cpu>5` lists them all.

use super::term::{contains_folded, Term, TermKind, TextQuery};
use crate::model::{LifecycleEvent, LifecycleKind, Proto, SocketState};

/// An event and the one fact about it the caller decides: whether its process is new.
#[derive(Debug, Clone, Copy)]
pub(super) struct EventSubject<'a> {
    pub(super) event: &'a LifecycleEvent,
    pub(super) new: bool,
}

impl Term {
    pub(super) fn matches_event(&self, subject: EventSubject<'_>) -> bool {
        subject_matches(&self.kind, subject) != self.negated
    }
}

fn subject_matches(kind: &TermKind, subject: EventSubject<'_>) -> bool {
    let e = subject.event;
    match kind {
        TermKind::Text(query) => text_matches(query, e),
        TermKind::Port { low, high } => e.port().is_some_and(|port| (*low..=*high).contains(&port)),
        // Events carry the user's name, not the uid.
        TermKind::User { name, .. } => e
            .user
            .as_deref()
            .is_some_and(|user| user.to_lowercase() == *name),
        TermKind::Pid(pid) => e.pid == *pid,
        TermKind::Ppid(ppid) => e.ppid == Some(*ppid),
        TermKind::Name(needle) => contains_folded(&e.name, needle),
        TermKind::New => subject.new,
        // Events carry no verdict: the processes' rows do.
        TermKind::Unexpected => false,
        // `state:listen` finds listening events, began or stopped; `state:unconn` the UDP ones.
        TermKind::Socket(state) => match &e.kind {
            LifecycleKind::BeganListening { proto, .. }
            | LifecycleKind::StoppedListening { proto, .. } => match state {
                SocketState::Listen => true,
                SocketState::Unconn => *proto == Proto::Udp,
                _ => false,
            },
            _ => false,
        },
        TermKind::Remote(network) => match &e.kind {
            LifecycleKind::FirstConnection { addr, .. } => network.contains(*addr),
            _ => false,
        },
        // Events carry no attribution: the processes' rows do.
        TermKind::Process(_)
        | TermKind::Unit(_)
        | TermKind::Container(_)
        | TermKind::Pod(_)
        | TermKind::Image(_)
        | TermKind::PeerPid(_)
        | TermKind::PeerName(_)
        | TermKind::Compare { .. }
        | TermKind::AnyConnection { .. } => false,
    }
}

/// A bare word: the event's kind (`exited`, `listen`, ...), or as on a process its name, user,
/// pid, command line, or the port of a socket event.
fn text_matches(query: &TextQuery, e: &LifecycleEvent) -> bool {
    let needle = query.text.as_str();
    contains_folded(e.kind.label(), needle)
        || contains_folded(&e.name, needle)
        || e.user
            .as_deref()
            .is_some_and(|user| contains_folded(user, needle))
        || query.port.is_some_and(|port| e.port() == Some(port))
        || (needle.bytes().all(|b| b.is_ascii_digit()) && e.pid.to_string().contains(needle))
        || if needle.contains(' ') {
            contains_folded(&e.cmdline.join(" "), needle)
        } else {
            e.cmdline.iter().any(|arg| contains_folded(arg, needle))
        }
}
