//! The socket and the thread that reads it.
//!
//! The socket is opened, bound to the process events group and subscribed on the caller's
//! thread, so a missing privilege is that caller's answer at once. The thread then waits in
//! `poll` on the socket and a stop eventfd, reads whatever is waiting without blocking, and
//! turns it into queued events; the first thing it expects is the kernel's acknowledgement of
//! the subscription, which it hands to [`super::ProcEvents::start`].

use std::os::fd::OwnedFd;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::netlink::{SocketAddrNetlink, CONNECTOR};
use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};
use rustix::time::ClockId;

use super::exec_details::{finish, read_raw};
use super::queue::Shared;
use super::tracker::Tracker;
use super::wire::{self, Event, Kind, Messages, Op, CN_IDX_PROC};
use super::{ProcEventsSettings, Unavailable};

/// The socket's receive buffer, asked for: the kernel doubles it, and each event takes about
/// 768 bytes of that, so some 20,000 events wait there while the reader is busy. Past
/// `net.core.rmem_max` only with CAP_NET_ADMIN, which subscribing needs anyway.
const RECEIVE_BUFFER: usize = 8 << 20;

/// Datagrams read between two looks at the stop descriptor.
const BATCH: usize = 256;

/// The inode numbers the kernel gives its initial pid and user namespaces (`proc_ns.h`).
const INITIAL_PID_NS: &str = "pid:[4026531836]";
const INITIAL_USER_NS: &str = "user:[4026531837]";

/// A connector socket bound to the process events group, subscribed.
pub fn open_socket() -> Result<OwnedFd, Unavailable> {
    let socket = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(CONNECTOR),
    )
    .map_err(|e| match e {
        Errno::PROTONOSUPPORT | Errno::AFNOSUPPORT => {
            Unavailable::NotInKernel(format!("no netlink connector (CONFIG_CONNECTOR): {e}"))
        }
        e => system("netlink connector socket", e),
    })?;
    // Beyond rmem_max needs the privilege; without it, take what the system allows.
    if rustix::net::sockopt::set_socket_recv_buffer_size_force(&socket, RECEIVE_BUFFER).is_err() {
        let _ = rustix::net::sockopt::set_socket_recv_buffer_size(&socket, RECEIVE_BUFFER);
    }
    rustix::net::bind(&socket, &SocketAddrNetlink::new(0, CN_IDX_PROC)).map_err(|e| match e {
        Errno::PERM | Errno::ACCESS => Unavailable::NotPermitted,
        e => system("joining the process events group", e),
    })?;
    Ok(socket)
}

/// Sends a subscription message to the kernel.
fn send(socket: &OwnedFd, op: Op, ack: u32) -> Result<(), Unavailable> {
    rustix::net::sendto(
        socket,
        &wire::subscription(op, ack),
        SendFlags::empty(),
        &SocketAddrNetlink::new(0, 0),
    )
    .map(|_| ())
    .map_err(|e| match e {
        // No connector in this network namespace: it exists in the initial one only.
        Errno::CONNREFUSED => Unavailable::OtherNamespace("network"),
        Errno::PERM | Errno::ACCESS => Unavailable::NotPermitted,
        e => system("subscribing to process events", e),
    })
}

/// The descriptor [`request_stop`] writes to and the reader polls.
pub fn stop_fd() -> Result<OwnedFd, Unavailable> {
    rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
        .map_err(|e| system("eventfd", e))
}

pub fn request_stop(stop: &OwnedFd) {
    // Fails only when the counter would overflow, which means a stop is already pending.
    let _ = rustix::io::write(stop, &1u64.to_ne_bytes());
}

/// Why the kernel did not answer a subscription: the connector ignores listeners outside its
/// initial pid and user namespaces without a word, and a kernel without CONFIG_PROC_EVENTS
/// has nobody to answer.
pub fn unacknowledged() -> Unavailable {
    if let Some(namespace) = outside_the_initial_namespaces() {
        return namespace;
    }
    Unavailable::NotInKernel(format!(
        "no answer to the subscription in {} s (kernel built without CONFIG_PROC_EVENTS?)",
        super::ACK_TIMEOUT.as_secs()
    ))
}

/// The namespace (pid or user) this process is in that the connector ignores, when it is not in
/// the initial ones: checked before subscribing, so a container does not wait for an answer
/// that never comes.
pub fn outside_the_initial_namespaces() -> Option<Unavailable> {
    let ns = |kind: &str| {
        rustix::fs::readlink(format!("/proc/self/ns/{kind}").as_str(), Vec::new())
            .map(|link| link.to_string_lossy().into_owned())
    };
    if ns("pid").is_ok_and(|link| link != INITIAL_PID_NS) {
        return Some(Unavailable::OtherNamespace("pid"));
    }
    if ns("user").is_ok_and(|link| link != INITIAL_USER_NS) {
        return Some(Unavailable::OtherNamespace("user"));
    }
    None
}

fn system(what: &'static str, error: Errno) -> Unavailable {
    Unavailable::System {
        what,
        error: std::io::Error::from(error).to_string(),
    }
}

/// Where the kernel's monotonic timestamps are on the wall clock, when a datagram is read.
struct Clock {
    wall_ms: u64,
    monotonic_ns: u64,
}

impl Clock {
    fn now() -> Self {
        let now = rustix::time::clock_gettime(ClockId::Monotonic);
        Clock {
            wall_ms: crate::time::now_ms(),
            monotonic_ns: u64::try_from(now.tv_sec).unwrap_or(0) * 1_000_000_000
                + u64::try_from(now.tv_nsec).unwrap_or(0),
        }
    }

    /// The wall-clock ms of a monotonic `at_ns`: now less its age.
    fn wall_ms(&self, at_ns: u64) -> u64 {
        self.wall_ms
            .saturating_sub(self.monotonic_ns.saturating_sub(at_ns) / 1_000_000)
    }
}

/// The subscription waiting for the kernel's answer.
struct Handshake {
    ack: u32,
    answer: SyncSender<Result<(), Unavailable>>,
}

pub struct Reader {
    socket: OwnedFd,
    stop: Arc<OwnedFd>,
    shared: Arc<Shared>,
    tracker: Tracker,
    settings: ProcEventsSettings,
    handshake: Option<Handshake>,
    buffer: Vec<u8>,
    /// The events of the datagram being handled, kept to reuse the allocation.
    parsed: Vec<Result<Event, wire::Malformed>>,
}

impl Reader {
    /// A reader for a freshly opened `socket`, whose subscription it sends now; the kernel's
    /// answer goes to `answer`.
    pub fn new(
        socket: OwnedFd,
        stop: Arc<OwnedFd>,
        shared: Arc<Shared>,
        settings: ProcEventsSettings,
        answer: SyncSender<Result<(), Unavailable>>,
    ) -> Result<Reader, Unavailable> {
        let ack = fastrand::u32(..u32::MAX);
        send(&socket, Op::Listen, ack)?;
        Ok(Reader {
            socket,
            stop,
            shared,
            tracker: Tracker::new(
                settings.limits.tracked_processes,
                Arc::clone(&settings.scrubber),
            ),
            settings,
            handshake: Some(Handshake { ack, answer }),
            buffer: vec![0; 16 * 1024],
            parsed: Vec::new(),
        })
    }

    /// Reads until stopped, or until the socket fails (the reason is kept for the handle).
    pub fn run(mut self) {
        let outcome = self.serve();
        // Tell the kernel, so it stops generating events for us (older kernels count
        // listeners only by these messages).
        let _ = send(&self.socket, Op::Ignore, 0);
        if let Err(reason) = outcome {
            tracing::warn!("process events: {reason}");
            self.shared.queue().stopped = Some(reason);
        }
    }

    fn serve(&mut self) -> Result<(), String> {
        while self.wait()? {
            for _ in 0..BATCH {
                match rustix::net::recv(&self.socket, &mut self.buffer[..], RecvFlags::DONTWAIT) {
                    Ok((received, _)) => self.handle(received)?,
                    Err(Errno::AGAIN) => break,
                    Err(Errno::INTR) => continue,
                    // The socket's buffer overflowed and the kernel discarded events.
                    Err(Errno::NOBUFS) => self.overrun()?,
                    Err(e) => return Err(format!("reading the connector: {}", io_error(e))),
                }
            }
        }
        Ok(())
    }

    /// Waits for a datagram (true) or the stop (false).
    fn wait(&self) -> Result<bool, String> {
        loop {
            let mut fds = [
                PollFd::new(&self.socket, PollFlags::IN),
                PollFd::new(&*self.stop, PollFlags::IN),
            ];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) => return Ok(fds[1].revents().is_empty()),
                Err(Errno::INTR) => continue,
                Err(e) => return Err(format!("poll: {}", io_error(e))),
            }
        }
    }

    fn overrun(&mut self) -> Result<(), String> {
        self.shared.queue().overrun();
        // The answer to the subscription may have been among the discarded: ask again. (Since
        // Linux 6.6 a repeated listen counts once; before, the count only decides whether
        // events are made at all, and an unsubscribe is sent when the reader ends.)
        if let Some(handshake) = &self.handshake {
            send(&self.socket, Op::Listen, handshake.ack).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn handle(&mut self, received: usize) -> Result<(), String> {
        let clock = Clock::now();
        let datagram = self.buffer.get(..received).unwrap_or_default();
        let mut parsed = std::mem::take(&mut self.parsed);
        parsed.extend(Messages::new(datagram));
        let mut outcome = Ok(());
        for event in parsed.drain(..) {
            match event {
                Ok(event) => {
                    if let Err(e) = self.on_event(&event, &clock) {
                        outcome = Err(e);
                        break;
                    }
                }
                Err(malformed) => {
                    tracing::debug!("process events: {malformed}");
                    self.shared.queue().lost(1);
                }
            }
        }
        parsed.clear();
        self.parsed = parsed;
        let forgotten = self.tracker.take_forgotten();
        if forgotten > 0 {
            self.shared.queue().forgot(forgotten);
        }
        self.shared.set_tracked(self.tracker.len());
        outcome
    }

    fn on_event(&mut self, event: &Event, clock: &Clock) -> Result<(), String> {
        if let Kind::Ack { ack, err } = event.kind {
            return self.on_ack(ack, err);
        }
        let settings = &self.settings;
        let read_exec = |pid| finish(read_raw(pid), &settings.scrubber, &settings.exclude);
        if let Some(event) = self
            .tracker
            .on_event(event, clock.wall_ms(event.at_ns), read_exec)
        {
            self.shared.queue().push(event);
        }
        Ok(())
    }

    /// Answers [`super::ProcEvents::start`] when `ack` is the answer to our subscription;
    /// another listener's is ignored.
    fn on_ack(&mut self, ack: u32, err: u32) -> Result<(), String> {
        let Some(handshake) = self.handshake.take_if(|h| h.ack.wrapping_add(1) == ack) else {
            return Ok(());
        };
        let refused = match err {
            0 => None,
            e if e == Errno::PERM.raw_os_error() as u32 => Some(Unavailable::NotPermitted),
            e => Some(Unavailable::System {
                what: "the kernel refused the subscription",
                error: std::io::Error::from_raw_os_error(e as i32).to_string(),
            }),
        };
        let reason = refused.as_ref().map(ToString::to_string);
        // The starter may have given up waiting: then nobody is listening, and that is fine.
        let _ = handshake.answer.send(refused.map_or(Ok(()), Err));
        match reason {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }
}

fn io_error(e: Errno) -> std::io::Error {
    std::io::Error::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_timestamps_are_placed_by_their_age() {
        let clock = Clock {
            wall_ms: 1_700_000_000_000,
            monotonic_ns: 50_000_000_000,
        };
        assert_eq!(clock.wall_ms(50_000_000_000), 1_700_000_000_000);
        assert_eq!(clock.wall_ms(49_990_000_000), 1_699_999_999_990);
        // Stamped after the clock was read (another CPU): now, never in the future.
        assert_eq!(clock.wall_ms(50_500_000_000), 1_700_000_000_000);
        let real = Clock::now();
        assert!(real.wall_ms.abs_diff(crate::time::now_ms()) < 1_000);
        assert!(real.monotonic_ns > 0);
    }
}
