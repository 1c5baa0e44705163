//! The connector's bytes (`<linux/connector.h>`, `<linux/cn_proc.h>`): the subscription we
//! send, and the events the kernel multicasts back.
//!
//! A datagram holds netlink messages (`nlmsghdr`, 16 bytes, each padded to 4), a connector
//! message is `cn_msg` (20 bytes: the callback id, seq, ack, payload length, flags) and its
//! payload a `proc_event`: what happened, the CPU, a CLOCK_MONOTONIC timestamp in ns, then the
//! event's own fields. Everything is in host byte order. Every read is bounds-checked: lengths
//! that lie, truncated payloads and garbage end the parse of that datagram with [`Malformed`],
//! never a panic, and never a read past the datagram.

/// The connector's multicast group for process events, which is also its callback index.
pub const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;

const NLMSG_HDR: usize = 16;
/// The connector sends every message, and expects ours, with the type `NLMSG_DONE`.
const NLMSG_DONE: u16 = 3;
const CN_MSG: usize = 20;
/// `proc_event` up to its union: what, cpu, timestamp_ns.
const EVENT_HEADER: usize = 16;

const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;

const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 1;
const PROC_EVENT_EXEC: u32 = 2;
const PROC_EVENT_UID: u32 = 4;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// Length of the subscription message: header, `cn_msg`, the `proc_cn_mcast_op`.
pub const SUBSCRIPTION_LEN: usize = NLMSG_HDR + CN_MSG + 4;

/// What a subscription message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Start sending this socket every process event.
    Listen,
    /// Stop: sent when the reader ends, so the kernel stops generating events for us.
    Ignore,
}

/// The message that subscribes (or unsubscribes) the socket. The kernel acknowledges it with
/// a `PROC_EVENT_NONE` whose `cn_msg.ack` is `ack + 1`: that is how our answer is told apart
/// from another listener's.
pub fn subscription(op: Op, ack: u32) -> [u8; SUBSCRIPTION_LEN] {
    let mut bytes = [0u8; SUBSCRIPTION_LEN];
    bytes[0..4].copy_from_slice(&(SUBSCRIPTION_LEN as u32).to_ne_bytes());
    bytes[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    // bytes[6..16]: no flags, seq 0, port id 0 (the connector does not read them).
    let cn = NLMSG_HDR;
    bytes[cn..cn + 4].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
    bytes[cn + 4..cn + 8].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
    // cn + 8..cn + 12: seq 0.
    bytes[cn + 12..cn + 16].copy_from_slice(&ack.to_ne_bytes());
    bytes[cn + 16..cn + 18].copy_from_slice(&4u16.to_ne_bytes());
    let op = match op {
        Op::Listen => PROC_CN_MCAST_LISTEN,
        Op::Ignore => PROC_CN_MCAST_IGNORE,
    };
    bytes[cn + CN_MSG..].copy_from_slice(&op.to_ne_bytes());
    bytes
}

/// One process event as the kernel reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// CLOCK_MONOTONIC, in ns (`ktime_get_ns` in the kernel).
    pub at_ns: u64,
    pub kind: Kind,
}

/// The events we use, with the fields we use. `pid` is the task (thread) id, `tgid` the
/// process id: the kernel reports threads too, and they differ for a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The answer to a subscription: `ack` is the request's ack + 1, `err` an errno or 0.
    Ack {
        ack: u32,
        err: u32,
    },
    Fork {
        parent_tgid: u32,
        child_pid: u32,
        child_tgid: u32,
    },
    Exec {
        pid: u32,
        tgid: u32,
    },
    Uid {
        pid: u32,
        tgid: u32,
        real: u32,
        effective: u32,
    },
    /// The name (`comm`) as the kernel holds it: up to 16 bytes, NUL-padded.
    Comm {
        pid: u32,
        tgid: u32,
        name: [u8; 16],
    },
    Exit {
        pid: u32,
        tgid: u32,
        /// The wait status (`exit_code << 8`, or the terminating signal, 0x80 for a core).
        status: u32,
        /// Sent by kernels since 4.18; older ones stop after `exit_signal`.
        parent_tgid: Option<u32>,
    },
    /// An event we do not use (GID, SID, PTRACE, COREDUMP, ...).
    Other {
        what: u32,
    },
}

/// Why the rest of a datagram was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A netlink header whose length is below its own size or beyond the datagram.
    Length { said: usize, available: usize },
    /// A connector message or event shorter than what its header says it holds.
    Truncated { what: &'static str },
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Malformed::Length { said, available } => write!(
                f,
                "netlink message of {said} bytes in {available} bytes left"
            ),
            Malformed::Truncated { what } => write!(f, "truncated {what}"),
        }
    }
}

/// The process events of one datagram, in order. Other netlink messages (noop, errors,
/// other connector callbacks) are skipped; the first malformed message ends the iteration.
pub struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub fn new(datagram: &'a [u8]) -> Self {
        Messages { rest: datagram }
    }
}

impl Iterator for Messages<'_> {
    type Item = Result<Event, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // Fewer bytes than a header: the padding after the last message, or nothing.
            let header = self.rest.get(..NLMSG_HDR)?;
            let said = u32_at(header, 0).map_or(0, |len| len as usize);
            let kind = u16_at(header, 4);
            let available = self.rest.len();
            let Some(body) = (said >= NLMSG_HDR)
                .then(|| self.rest.get(NLMSG_HDR..said))
                .flatten()
            else {
                self.rest = &[];
                return Some(Err(Malformed::Length { said, available }));
            };
            self.rest = self.rest.get(align4(said)..).unwrap_or_default();
            if kind != Some(NLMSG_DONE) {
                continue;
            }
            match connector_event(body) {
                Ok(Some(event)) => return Some(Ok(event)),
                Ok(None) => continue,
                Err(malformed) => {
                    self.rest = &[];
                    return Some(Err(malformed));
                }
            }
        }
    }
}

/// The process event in one connector message, `None` for another callback's message.
fn connector_event(body: &[u8]) -> Result<Option<Event>, Malformed> {
    let truncated = |what| Malformed::Truncated { what };
    let header = body.get(..CN_MSG).ok_or(truncated("cn_msg"))?;
    let (Some(idx), Some(val)) = (u32_at(header, 0), u32_at(header, 4)) else {
        return Err(truncated("cn_msg"));
    };
    if (idx, val) != (CN_IDX_PROC, CN_VAL_PROC) {
        return Ok(None);
    }
    let ack = u32_at(header, 12).ok_or(truncated("cn_msg"))?;
    let len = u16_at(header, 16).ok_or(truncated("cn_msg"))?;
    let payload = body
        .get(CN_MSG..CN_MSG + usize::from(len))
        .ok_or(truncated("connector payload"))?;
    let what = u32_at(payload, 0).ok_or(truncated("proc_event"))?;
    let at_ns = u64_at(payload, 8).ok_or(truncated("proc_event"))?;
    let data = payload.get(EVENT_HEADER..).unwrap_or_default();
    let field = |index: usize| u32_at(data, index * 4).ok_or(truncated("event fields"));
    let kind = match what {
        PROC_EVENT_NONE => Kind::Ack {
            ack,
            err: field(0)?,
        },
        PROC_EVENT_FORK => Kind::Fork {
            parent_tgid: field(1)?,
            child_pid: field(2)?,
            child_tgid: field(3)?,
        },
        PROC_EVENT_EXEC => Kind::Exec {
            pid: field(0)?,
            tgid: field(1)?,
        },
        PROC_EVENT_UID => Kind::Uid {
            pid: field(0)?,
            tgid: field(1)?,
            real: field(2)?,
            effective: field(3)?,
        },
        PROC_EVENT_COMM => Kind::Comm {
            pid: field(0)?,
            tgid: field(1)?,
            name: data
                .get(8..24)
                .and_then(|name| name.try_into().ok())
                .ok_or(truncated("comm"))?,
        },
        PROC_EVENT_EXIT => Kind::Exit {
            pid: field(0)?,
            tgid: field(1)?,
            status: field(2)?,
            // field(3) is exit_signal: what the parent is sent (SIGCHLD), not how it ended.
            parent_tgid: field(5).ok(),
        },
        what => Kind::Other { what },
    };
    Ok(Some(Event { at_ns, kind }))
}

fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at.checked_add(2)?)?
        .try_into()
        .ok()
        .map(u16::from_ne_bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at.checked_add(4)?)?
        .try_into()
        .ok()
        .map(u32::from_ne_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..at.checked_add(8)?)?
        .try_into()
        .ok()
        .map(u64::from_ne_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram as the kernel builds one: a netlink header, a `cn_msg` with `ack`, and a
    /// `proc_event` of kind `what` at `at_ns` whose union holds `fields`.
    fn datagram(what: u32, at_ns: u64, ack: u32, fields: &[u8]) -> Vec<u8> {
        let payload_len = EVENT_HEADER + fields.len();
        let total = NLMSG_HDR + CN_MSG + payload_len;
        let mut bytes = Vec::with_capacity(align4(total));
        bytes.extend_from_slice(&(total as u32).to_ne_bytes());
        bytes.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        bytes.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes.extend_from_slice(&ack.to_ne_bytes());
        bytes.extend_from_slice(&(payload_len as u16).to_ne_bytes());
        bytes.extend_from_slice(&0u16.to_ne_bytes());
        bytes.extend_from_slice(&what.to_ne_bytes());
        bytes.extend_from_slice(&3u32.to_ne_bytes());
        bytes.extend_from_slice(&at_ns.to_ne_bytes());
        bytes.extend_from_slice(fields);
        bytes.resize(align4(total), 0);
        bytes
    }

    /// The union's bytes for `u32` fields.
    fn fields(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    fn parse(bytes: &[u8]) -> Vec<Result<Event, Malformed>> {
        Messages::new(bytes).collect()
    }

    fn one(bytes: &[u8]) -> Kind {
        match parse(bytes).as_slice() {
            [Ok(event)] => event.kind,
            other => panic!("not one event: {other:?}"),
        }
    }

    #[test]
    fn every_event_we_use_is_read_field_by_field() {
        let fork = datagram(PROC_EVENT_FORK, 77, 0, &fields(&[10, 11, 12, 12]));
        assert_eq!(
            parse(&fork),
            [Ok(Event {
                at_ns: 77,
                kind: Kind::Fork {
                    parent_tgid: 11,
                    child_pid: 12,
                    child_tgid: 12
                }
            })]
        );
        assert_eq!(
            one(&datagram(
                PROC_EVENT_EXEC,
                1,
                0,
                &fields(&[12, 12, 0, 0, 0, 0])
            )),
            Kind::Exec { pid: 12, tgid: 12 }
        );
        assert_eq!(
            one(&datagram(PROC_EVENT_UID, 1, 0, &fields(&[12, 12, 1000, 0]))),
            Kind::Uid {
                pid: 12,
                tgid: 12,
                real: 1000,
                effective: 0
            }
        );
        let mut comm = fields(&[12, 12]);
        comm.extend_from_slice(b"worker\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(
            one(&datagram(PROC_EVENT_COMM, 1, 0, &comm)),
            Kind::Comm {
                pid: 12,
                tgid: 12,
                name: *b"worker\0\0\0\0\0\0\0\0\0\0"
            }
        );
        // exit(3): the status is the wait status, exit_signal SIGCHLD, then the parent.
        assert_eq!(
            one(&datagram(
                PROC_EVENT_EXIT,
                1,
                0,
                &fields(&[12, 12, 0x300, 17, 11, 11])
            )),
            Kind::Exit {
                pid: 12,
                tgid: 12,
                status: 0x300,
                parent_tgid: Some(11)
            }
        );
        assert_eq!(
            one(&datagram(PROC_EVENT_NONE, 1, 43, &fields(&[1]))),
            Kind::Ack { ack: 43, err: 1 }
        );
        assert_eq!(
            one(&datagram(0x40, 1, 0, &fields(&[12, 12, 0, 0]))),
            Kind::Other { what: 0x40 }
        );
    }

    #[test]
    fn an_exit_from_a_kernel_before_4_18_has_no_parent() {
        assert_eq!(
            one(&datagram(PROC_EVENT_EXIT, 1, 0, &fields(&[12, 12, 9, 17]))),
            Kind::Exit {
                pid: 12,
                tgid: 12,
                status: 9,
                parent_tgid: None
            }
        );
    }

    #[test]
    fn several_messages_in_one_datagram_are_read_in_order() {
        let mut bytes = datagram(PROC_EVENT_EXEC, 1, 0, &fields(&[5, 5]));
        // A noop message in between, and another connector's message: both skipped.
        bytes.extend_from_slice(&(16u32).to_ne_bytes());
        bytes.extend_from_slice(&1u16.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        let mut other = datagram(PROC_EVENT_EXEC, 2, 0, &fields(&[6, 6]));
        other[NLMSG_HDR] = 9;
        bytes.extend_from_slice(&other);
        bytes.extend_from_slice(&datagram(PROC_EVENT_EXEC, 3, 0, &fields(&[7, 7])));
        let pids: Vec<_> = parse(&bytes)
            .into_iter()
            .map(|e| match e {
                Ok(Event {
                    kind: Kind::Exec { pid, .. },
                    ..
                }) => pid,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(pids, [5, 7]);
    }

    #[test]
    fn every_truncation_of_every_event_is_refused_or_skipped_without_panic() {
        let comm = {
            let mut c = fields(&[1, 1]);
            c.extend_from_slice(&[b'a'; 16]);
            c
        };
        let whole = [
            datagram(PROC_EVENT_FORK, 1, 0, &fields(&[1, 1, 2, 2])),
            datagram(PROC_EVENT_EXEC, 1, 0, &fields(&[1, 1])),
            datagram(PROC_EVENT_UID, 1, 0, &fields(&[1, 1, 0, 0])),
            datagram(PROC_EVENT_COMM, 1, 0, &comm),
            datagram(PROC_EVENT_EXIT, 1, 0, &fields(&[1, 1, 0, 17, 1, 1])),
            datagram(PROC_EVENT_NONE, 1, 0, &fields(&[0])),
        ];
        for bytes in &whole {
            assert!(matches!(parse(bytes).as_slice(), [Ok(_)]));
            for cut in 0..bytes.len() {
                // The datagram cut short: the header's length now lies.
                let parsed = parse(&bytes[..cut]);
                assert!(
                    parsed.is_empty() || matches!(parsed.as_slice(), [Err(_)]),
                    "cut at {cut}: {parsed:?}"
                );
                // The header says the truth, the payload is short: refused, never read past.
                let mut short = bytes[..cut.max(NLMSG_HDR)].to_vec();
                let len = short.len() as u32;
                short[0..4].copy_from_slice(&len.to_ne_bytes());
                let parsed = parse(&short);
                assert!(
                    parsed.iter().all(Result::is_err),
                    "cut at {cut}: {parsed:?}"
                );
            }
        }
    }

    #[test]
    fn lying_lengths_end_the_datagram() {
        let mut bytes = datagram(PROC_EVENT_EXEC, 1, 0, &fields(&[1, 1]));
        for said in [0u32, 1, 15, u32::MAX, bytes.len() as u32 + 1] {
            bytes[0..4].copy_from_slice(&said.to_ne_bytes());
            assert!(
                matches!(parse(&bytes).as_slice(), [Err(Malformed::Length { .. })]),
                "said {said}"
            );
        }
        // A cn_msg that claims more payload than its message holds.
        let mut bytes = datagram(PROC_EVENT_EXEC, 1, 0, &fields(&[1, 1]));
        bytes[NLMSG_HDR + 16..NLMSG_HDR + 18].copy_from_slice(&u16::MAX.to_ne_bytes());
        assert_eq!(
            parse(&bytes),
            [Err(Malformed::Truncated {
                what: "connector payload"
            })]
        );
    }

    #[test]
    fn random_bytes_never_panic_and_always_end() {
        let mut rng = fastrand::Rng::with_seed(14);
        for _ in 0..20_000 {
            let len = rng.usize(0..200);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
            // Half the time a plausible header, so the parse goes past the first check.
            if len >= NLMSG_HDR && rng.bool() {
                let said = rng.usize(NLMSG_HDR..=len) as u32;
                bytes[0..4].copy_from_slice(&said.to_ne_bytes());
                bytes[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
                if len >= NLMSG_HDR + 8 {
                    bytes[16..20].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
                    bytes[20..24].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
                }
            }
            // Each message takes at least a header's bytes, so this many is the most.
            assert!(Messages::new(&bytes).count() <= len / NLMSG_HDR + 1);
        }
    }

    #[test]
    fn the_subscription_is_what_the_connector_expects() {
        let bytes = subscription(Op::Listen, 41);
        assert_eq!(u32_at(&bytes, 0), Some(SUBSCRIPTION_LEN as u32));
        assert_eq!(u16_at(&bytes, 4), Some(NLMSG_DONE));
        assert_eq!(u32_at(&bytes, NLMSG_HDR), Some(CN_IDX_PROC));
        assert_eq!(u32_at(&bytes, NLMSG_HDR + 4), Some(CN_VAL_PROC));
        assert_eq!(u32_at(&bytes, NLMSG_HDR + 12), Some(41));
        assert_eq!(u16_at(&bytes, NLMSG_HDR + 16), Some(4));
        assert_eq!(
            u32_at(&bytes, NLMSG_HDR + CN_MSG),
            Some(PROC_CN_MCAST_LISTEN)
        );
        let ignore = subscription(Op::Ignore, 0);
        assert_eq!(
            u32_at(&ignore, NLMSG_HDR + CN_MSG),
            Some(PROC_CN_MCAST_IGNORE)
        );
    }
}
