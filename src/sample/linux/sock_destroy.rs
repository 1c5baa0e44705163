//! TCP sockets as they close, with their final counters: the kernel's sock_diag destroy
//! notifications (multicast groups `SKNLGRP_INET_TCP_DESTROY` and `SKNLGRP_INET6_TCP_DESTROY`).
//! A connection that opens and closes between two samples is never in a dump; this is how its
//! bytes are still counted.
//!
//! Netlink multicast is per network namespace: a subscription hears only the namespace its
//! socket was made in. So there is one subscription per namespace the processes are in (the
//! namespaces the dump covers), made the way the dump's sockets are (`netns.rs`): our own
//! directly, the others by a thread that enters the namespace, which needs CAP_SYS_ADMIN (Linux
//! 6 lets any user subscribe in their own namespace; a kernel may ask CAP_NET_ADMIN). A
//! namespace that refuses is remembered with why, and the others carry on. A namespace with no process left has its subscription closed: nothing there
//! can own a socket any more, and our socket would keep the namespace alive.
//!
//! One thread receives from every subscription (a poll over their sockets), tags each closed
//! socket with the namespace it was heard in, and keeps them until the next pass takes them:
//! at most [`MAX_PENDING`] across all namespaces. Under a storm of short connections the oldest
//! are kept and the rest counted as dropped, so memory stays bounded.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::event::{EventfdFlags, PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::netlink::{SocketAddrNetlink, SOCK_DIAG};
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};

use crate::model::SocketEntry;

use super::netns::{self, is_refusal, NamespaceError};
use super::sock_diag::parse_notifications;

/// Multicast groups 1 (IPv4 TCP destroy) and 3 (IPv6 TCP destroy): bits 0 and 2.
const TCP_DESTROY_GROUPS: u32 = (1 << 0) | (1 << 2);
/// Notifications kept between two passes at most, all namespaces together.
pub const MAX_PENDING: usize = 50_000;
/// How long the thread waits before looking again whether it should stop, when nothing woke
/// it (a wake-up comes at once; this only bounds a missed one).
const POLL: Duration = Duration::from_millis(500);
/// Datagrams read from one subscription before the next gets its turn, so one busy namespace
/// cannot starve the others.
const DATAGRAMS_PER_TURN: usize = 64;

/// The subscriptions, while they last; dropping this closes them and stops the thread.
pub struct DestroyFeed {
    shared: Arc<Shared>,
    /// Namespaces that refused a subscription, with why: not asked again while they last.
    refused: HashMap<u64, String>,
}

/// What the feed and its thread share.
struct Shared {
    pending: Mutex<Pending>,
    /// The most `pending.closed` holds.
    capacity: usize,
    subscriptions: Mutex<Subscriptions>,
    stop: AtomicBool,
    /// An eventfd the thread polls beside the subscriptions: written when they change or when
    /// the thread should stop, so it need not wait out [`POLL`].
    wake: OwnedFd,
}

#[derive(Default)]
struct Pending {
    closed: Vec<SocketEntry>,
    dropped: u64,
}

/// What [`DestroyFeed::keep_only`] left.
struct Kept {
    /// Namespaces still covered whose subscription broke, with why.
    broken: Vec<(u64, String)>,
    /// Namespaces still subscribed, in order.
    subscribed: Vec<u64>,
}

#[derive(Default)]
struct Subscriptions {
    /// Bumped at every change, so the thread knows to take the new set.
    generation: u64,
    /// Each namespace's socket. The thread holds clones while it polls them: a socket closes
    /// once both have let go, never while the thread may still read its number.
    sockets: BTreeMap<u64, Arc<OwnedFd>>,
    /// Subscriptions whose socket failed while receiving, with why: the thread no longer
    /// reads them, and the next pass closes them (and opens them again the pass after).
    broken: Vec<(u64, String)>,
}

impl DestroyFeed {
    /// Starts the receiving thread, with no subscription yet ([`Self::cover`] makes them).
    pub fn start() -> Result<DestroyFeed, String> {
        DestroyFeed::with_capacity(MAX_PENDING)
    }

    fn with_capacity(capacity: usize) -> Result<DestroyFeed, String> {
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)
            .map_err(|e| format!("eventfd: {}", std::io::Error::from(e)))?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            capacity,
            subscriptions: Mutex::new(Subscriptions::default()),
            stop: AtomicBool::new(false),
            wake,
        });
        let thread_shared = Arc::clone(&shared);
        // Not joined: it ends at once when woken, and holds nothing the sampler waits for.
        std::thread::Builder::new()
            .name("wiretop-closed".to_owned())
            .spawn(move || receive(&thread_shared))
            .map_err(|e| format!("starting its thread: {e}"))?;
        Ok(DestroyFeed {
            shared,
            refused: HashMap::new(),
        })
    }

    /// Subscribes in every namespace of `members` (netns inode -> member pids, in order of
    /// preference; `own` is the sampler's) not subscribed yet, and closes the subscriptions of
    /// namespaces no longer in it. Returns the namespaces whose closed connections are not
    /// heard this pass, with why.
    pub fn cover(
        &mut self,
        members: &BTreeMap<u64, Vec<u32>>,
        own: Option<u64>,
    ) -> BTreeMap<u64, String> {
        self.refused.retain(|netns, _| members.contains_key(netns));
        let mut unavailable: BTreeMap<u64, String> = self
            .refused
            .iter()
            .map(|(netns, reason)| (*netns, reason.clone()))
            .collect();
        let Some(Kept { broken, subscribed }) = self.keep_only(members) else {
            // Only a panic on the receiving thread poisons the lock: nothing is heard.
            let reason = "the thread receiving them failed";
            return members.keys().map(|n| (*n, reason.to_owned())).collect();
        };
        for (netns, reason) in broken {
            unavailable.entry(netns).or_insert(reason);
        }
        let mut opened = Vec::new();
        for (netns, pids) in members {
            if subscribed.binary_search(netns).is_ok() || unavailable.contains_key(netns) {
                continue;
            }
            let subscription = if Some(*netns) == own {
                subscribe()
            } else {
                netns::make_in(*netns, pids, subscribe)
            };
            match subscription {
                Ok(socket) => opened.push((*netns, socket)),
                Err(NamespaceError::Refused(reason)) => {
                    self.refused.insert(*netns, reason.clone());
                    unavailable.insert(*netns, reason);
                }
                // Tried again next pass.
                Err(NamespaceError::Passing(reason)) => {
                    unavailable.insert(*netns, reason);
                }
            }
        }
        self.add(opened);
        unavailable
    }

    /// Closes the subscriptions of namespaces not in `members` and those that broke; None
    /// when the receiving thread is gone.
    fn keep_only(&self, members: &BTreeMap<u64, Vec<u32>>) -> Option<Kept> {
        let mut subscriptions = self.shared.subscriptions.lock().ok()?;
        let broken = std::mem::take(&mut subscriptions.broken);
        let before = subscriptions.sockets.len();
        subscriptions.sockets.retain(|netns, _| {
            members.contains_key(netns) && !broken.iter().any(|(b, _)| b == netns)
        });
        if subscriptions.sockets.len() != before {
            subscriptions.generation += 1;
            self.shared.wake();
        }
        Some(Kept {
            broken: broken
                .into_iter()
                .filter(|(netns, _)| members.contains_key(netns))
                .collect(),
            subscribed: subscriptions.sockets.keys().copied().collect(),
        })
    }

    /// Hands new subscriptions to the thread.
    fn add(&self, opened: Vec<(u64, OwnedFd)>) {
        if opened.is_empty() {
            return;
        }
        if let Ok(mut subscriptions) = self.shared.subscriptions.lock() {
            for (netns, socket) in opened {
                subscriptions.sockets.insert(netns, Arc::new(socket));
            }
            subscriptions.generation += 1;
            self.shared.wake();
        }
    }

    /// The sockets that closed since the last call, each tagged with its namespace, and how
    /// many notifications were lost.
    pub fn take(&self) -> (Vec<SocketEntry>, u64) {
        match self.shared.pending.lock() {
            Ok(mut p) => (
                std::mem::take(&mut p.closed),
                std::mem::take(&mut p.dropped),
            ),
            Err(_) => (Vec::new(), 0),
        }
    }

    /// How many closed sockets wait (kept, dropped), without taking them.
    #[cfg(test)]
    fn waiting(&self) -> (usize, u64) {
        self.shared
            .pending
            .lock()
            .map(|p| (p.closed.len(), p.dropped))
            .unwrap_or_default()
    }
}

impl Drop for DestroyFeed {
    /// Tells the thread to stop; it lets go of its copies of the sockets as it ends.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.wake();
    }
}

impl Shared {
    fn wake(&self) {
        // A full counter means a wake-up is already waiting: nothing lost.
        let _ = rustix::io::write(&self.wake, &1u64.to_ne_bytes());
    }

    /// Keeps what `batch` holds, as far as there is room, and counts the rest as dropped.
    fn keep(&self, batch: &mut Vec<SocketEntry>) {
        if let Ok(mut p) = self.pending.lock() {
            let room = self.capacity.saturating_sub(p.closed.len());
            let kept = batch.len().min(room);
            p.dropped += (batch.len() - kept) as u64;
            p.closed.extend(batch.drain(..kept));
        }
        batch.clear();
    }

    fn count_dropped(&self, lost: u64) {
        if let Ok(mut p) = self.pending.lock() {
            p.dropped += lost;
        }
    }
}

/// A socket in the caller's namespace, subscribed to the TCP destroy groups.
fn subscribe() -> Result<OwnedFd, NamespaceError> {
    let fd = rustix::net::socket_with(
        AddressFamily::NETLINK,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        Some(SOCK_DIAG),
    )
    .map_err(|e| NamespaceError::Passing(format!("netlink socket: {}", std::io::Error::from(e))))?;
    rustix::net::bind(&fd, &SocketAddrNetlink::new(0, TCP_DESTROY_GROUPS)).map_err(|e| {
        let reason = format!(
            "subscribing to socket-destroy notifications: {}",
            std::io::Error::from(e)
        );
        if is_refusal(e) {
            NamespaceError::Refused(format!("{reason} (this kernel asks CAP_NET_ADMIN)"))
        } else {
            NamespaceError::Passing(reason)
        }
    })?;
    Ok(fd)
}

/// The receiving thread: polls the wake-up eventfd and every subscription until told to stop.
fn receive(shared: &Shared) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut batch = Vec::new();
    let mut generation = None;
    let mut sockets: Vec<(u64, Arc<OwnedFd>)> = Vec::new();
    let timeout = Timespec::try_from(POLL).unwrap_or(Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    });
    while !shared.stop.load(Ordering::Relaxed) {
        if let Ok(subscriptions) = shared.subscriptions.lock() {
            if generation != Some(subscriptions.generation) {
                generation = Some(subscriptions.generation);
                sockets = subscriptions
                    .sockets
                    .iter()
                    .map(|(netns, socket)| (*netns, Arc::clone(socket)))
                    .collect();
            }
        }
        let ready = match wait_for_any(&shared.wake, &sockets, &timeout) {
            Ok(ready) => ready,
            Err(Errno::INTR) => continue,
            // Out of memory for the poll: try again a little later.
            Err(_) => {
                std::thread::sleep(POLL);
                continue;
            }
        };
        let mut broken = Vec::new();
        for ((netns, socket), _) in sockets.iter().zip(ready).filter(|(_, ready)| *ready) {
            if let Err(reason) = drain(socket, *netns, &mut buffer, &mut batch, shared) {
                broken.push((*netns, reason));
            }
        }
        if !broken.is_empty() {
            sockets.retain(|(netns, _)| !broken.iter().any(|(b, _)| b == netns));
            if let Ok(mut subscriptions) = shared.subscriptions.lock() {
                subscriptions.broken.append(&mut broken);
            }
        }
    }
}

/// Waits until the wake-up eventfd or a subscription has something; empties the eventfd and
/// says which subscriptions are ready to read.
fn wait_for_any(
    wake: &OwnedFd,
    sockets: &[(u64, Arc<OwnedFd>)],
    timeout: &Timespec,
) -> Result<Vec<bool>, Errno> {
    let mut polled: Vec<PollFd<'_>> = std::iter::once(PollFd::new(wake, PollFlags::IN))
        .chain(
            sockets
                .iter()
                .map(|(_, socket)| PollFd::new(&**socket, PollFlags::IN)),
        )
        .collect();
    rustix::event::poll(&mut polled, Some(timeout))?;
    let mut ready = polled.iter().map(|p| !p.revents().is_empty());
    if ready.next() == Some(true) {
        let mut counter = [0u8; 8];
        let _ = rustix::io::read(wake, &mut counter);
    }
    Ok(ready.collect())
}

/// Reads what one subscription has waiting (at most [`DATAGRAMS_PER_TURN`] datagrams) into
/// the pending list, each socket tagged with `netns`. An error other than "nothing more" or
/// "the kernel dropped some" says why the subscription is broken.
fn drain(
    socket: &OwnedFd,
    netns: u64,
    buffer: &mut [u8],
    batch: &mut Vec<SocketEntry>,
    shared: &Shared,
) -> Result<(), String> {
    for _ in 0..DATAGRAMS_PER_TURN {
        let len = match rustix::net::recv(socket, &mut *buffer, RecvFlags::DONTWAIT) {
            Ok((_, len)) => len,
            Err(Errno::AGAIN) => return Ok(()),
            Err(Errno::INTR) => continue,
            // The kernel dropped notifications we were too slow for.
            Err(Errno::NOBUFS) => {
                shared.count_dropped(1);
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "receiving socket-destroy notifications: {}",
                    std::io::Error::from(e)
                ))
            }
        };
        // A malformed datagram keeps the sockets parsed before the fault.
        let _ = parse_notifications(buffer.get(..len).unwrap_or_default(), Some(netns), batch);
        shared.keep(batch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::linux::sock_diag::notification;
    use std::os::unix::net::UnixDatagram;
    use std::time::Instant;

    /// A feed whose "subscriptions" are datagram socket pairs: the test writes notifications
    /// into one end, the thread reads the other.
    fn feed_over_pairs(capacity: usize, namespaces: &[u64]) -> (DestroyFeed, Vec<UnixDatagram>) {
        let feed = DestroyFeed::with_capacity(capacity).unwrap();
        let mut writers = Vec::new();
        let mut opened = Vec::new();
        for netns in namespaces {
            let (ours, theirs) = UnixDatagram::pair().unwrap();
            // A full queue must not block the test: it says "not closed yet" instead.
            ours.set_nonblocking(true).unwrap();
            opened.push((*netns, OwnedFd::from(theirs)));
            writers.push(ours);
        }
        feed.add(opened);
        (feed, writers)
    }

    /// What the feed has taken in once `want` sockets (kept or dropped) arrived, or after 5 s.
    fn take_until(feed: &DestroyFeed, want: usize) -> (Vec<SocketEntry>, u64) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let (mut closed, mut dropped) = (Vec::new(), 0);
        while closed.len() + (dropped as usize) < want && Instant::now() < deadline {
            let (mut more, lost) = feed.take();
            closed.append(&mut more);
            dropped += lost;
            std::thread::sleep(Duration::from_millis(10));
        }
        (closed, dropped)
    }

    #[test]
    fn each_closed_socket_carries_the_namespace_it_was_heard_in() {
        let (feed, writers) = feed_over_pairs(MAX_PENDING, &[4026531840, 4026532999]);
        writers[0].send(&notification(1, 8080)).unwrap();
        writers[1].send(&notification(2, 8080)).unwrap();
        writers[1].send(&notification(3, 9090)).unwrap();
        let (closed, dropped) = take_until(&feed, 3);
        assert_eq!(dropped, 0);
        let mut seen: Vec<(u64, Option<u64>)> = closed
            .iter()
            .map(|e| (e.counters.map_or(0, |c| c.cookie), e.netns))
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            vec![
                (1, Some(4026531840)),
                (2, Some(4026532999)),
                (3, Some(4026532999))
            ]
        );
    }

    #[test]
    fn pending_is_bounded_across_namespaces_and_the_rest_counted_dropped() {
        let (feed, writers) = feed_over_pairs(3, &[10, 20]);
        for cookie in 0..3 {
            writers[0].send(&notification(100 + cookie, 80)).unwrap();
            writers[1].send(&notification(200 + cookie, 80)).unwrap();
        }
        // Everything must have arrived before the one take: a take half-way makes room.
        let deadline = Instant::now() + Duration::from_secs(5);
        let arrived = |(kept, dropped): (usize, u64)| kept + usize::try_from(dropped).unwrap();
        while arrived(feed.waiting()) < 6 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let (closed, dropped) = feed.take();
        assert_eq!((closed.len(), dropped), (3, 3));
        // Taking makes room again.
        writers[1].send(&notification(300, 80)).unwrap();
        let (closed, dropped) = take_until(&feed, 1);
        assert_eq!((closed.len(), dropped), (1, 0));
        assert_eq!(closed[0].netns, Some(20));
    }

    /// Waits until `writer`'s other end is closed (a send refused), failing after 5 s.
    fn wait_closed(writer: &UnixDatagram, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match writer.send(&notification(1, 80)) {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
                _ => {}
            }
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_namespace_no_longer_covered_has_its_subscription_closed() {
        let (feed, writers) = feed_over_pairs(MAX_PENDING, &[10, 20]);
        let members: BTreeMap<u64, Vec<u32>> = [(20, vec![1])].into_iter().collect();
        let kept = feed.keep_only(&members).unwrap();
        assert!(kept.broken.is_empty());
        assert_eq!(kept.subscribed, vec![20]);
        // Both the feed and the thread let go of 10's socket: its other end sees it closed.
        wait_closed(&writers[0], "namespace 10's subscription still open");
        writers[1].send(&notification(2, 80)).unwrap();
        // What namespace 10 heard before it closed may come first: wait for 20's.
        let deadline = Instant::now() + Duration::from_secs(5);
        let is_twenty_s =
            |e: &SocketEntry| e.netns == Some(20) && e.counters.is_some_and(|c| c.cookie == 2);
        let mut heard = Vec::new();
        while !heard.iter().any(is_twenty_s) && Instant::now() < deadline {
            heard.append(&mut take_until(&feed, 1).0);
        }
        assert!(heard.iter().any(is_twenty_s), "20 still heard: {heard:?}");
    }

    #[test]
    fn dropping_the_feed_closes_every_subscription() {
        let (feed, writers) = feed_over_pairs(MAX_PENDING, &[10, 20]);
        drop(feed);
        for writer in &writers {
            wait_closed(writer, "a subscription outlived its feed");
        }
    }
}
