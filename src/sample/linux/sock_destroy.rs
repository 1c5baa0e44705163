//! TCP sockets as they close, with their final counters: the kernel's sock_diag destroy
//! notifications (multicast groups `SKNLGRP_INET_TCP_DESTROY` and `SKNLGRP_INET6_TCP_DESTROY`).
//! A connection that opens and closes between two samples is never in a dump; this is how its
//! bytes are still counted. Subscribing needs CAP_NET_ADMIN; without it the feed says why and
//! the sampler carries on without.
//!
//! A thread receives the notifications as they come and keeps them until the next pass takes
//! them, at most [`MAX_PENDING`]: under a storm of short connections the oldest are kept and
//! the rest counted as dropped, so memory stays bounded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::net::netlink::{SocketAddrNetlink, SOCK_DIAG};
use rustix::net::sockopt::Timeout;
use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};

use crate::model::SocketEntry;

use super::sock_diag::parse_notifications;

/// Multicast groups 1 (IPv4 TCP destroy) and 3 (IPv6 TCP destroy): bits 0 and 2.
const TCP_DESTROY_GROUPS: u32 = (1 << 0) | (1 << 2);
/// Notifications kept between two passes at most.
pub const MAX_PENDING: usize = 50_000;
/// How often the thread looks whether it should stop.
const POLL: Duration = Duration::from_millis(500);

#[derive(Default)]
struct Pending {
    closed: Vec<SocketEntry>,
    dropped: u64,
}

/// The subscription, while it lasts; dropping it stops the thread.
pub struct DestroyFeed {
    pending: Arc<Mutex<Pending>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DestroyFeed {
    /// Subscribes, or says why not.
    pub fn start() -> Result<DestroyFeed, String> {
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(SOCK_DIAG),
        )
        .map_err(|e| format!("netlink socket: {}", std::io::Error::from(e)))?;
        rustix::net::bind(&fd, &SocketAddrNetlink::new(0, TCP_DESTROY_GROUPS)).map_err(|e| {
            format!(
                "subscribing to socket-destroy notifications: {} (needs CAP_NET_ADMIN)",
                std::io::Error::from(e)
            )
        })?;
        rustix::net::sockopt::set_socket_timeout(&fd, Timeout::Recv, Some(POLL))
            .map_err(|e| format!("receive timeout: {}", std::io::Error::from(e)))?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_pending, thread_stop) = (Arc::clone(&pending), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("wiretop-closed".to_owned())
            .spawn(move || {
                let mut buffer = vec![0u8; 64 * 1024];
                let mut batch = Vec::new();
                while !thread_stop.load(Ordering::Relaxed) {
                    let len = match rustix::net::recv(&fd, &mut buffer[..], RecvFlags::empty()) {
                        Ok((_, len)) => len,
                        Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => continue,
                        // The kernel dropped notifications we were too slow for.
                        Err(rustix::io::Errno::NOBUFS) => {
                            if let Ok(mut p) = thread_pending.lock() {
                                p.dropped += 1;
                            }
                            continue;
                        }
                        Err(_) => return,
                    };
                    batch.clear();
                    let _ = parse_notifications(buffer.get(..len).unwrap_or_default(), &mut batch);
                    if let Ok(mut p) = thread_pending.lock() {
                        let room = MAX_PENDING.saturating_sub(p.closed.len());
                        let kept = batch.len().min(room);
                        p.dropped += (batch.len() - kept) as u64;
                        p.closed.extend(batch.drain(..kept));
                    }
                }
            })
            .map_err(|e| format!("starting its thread: {e}"))?;
        Ok(DestroyFeed {
            pending,
            stop,
            thread: Some(thread),
        })
    }

    /// The sockets that closed since the last call, and how many notifications were lost.
    pub fn take(&self) -> (Vec<SocketEntry>, u64) {
        match self.pending.lock() {
            Ok(mut p) => (
                std::mem::take(&mut p.closed),
                std::mem::take(&mut p.dropped),
            ),
            Err(_) => (Vec::new(), 0),
        }
    }
}

impl Drop for DestroyFeed {
    /// Tells the thread to stop and lets it go: it ends within [`POLL`] on its own, and
    /// waiting for it would hold up a one-shot snapshot's exit by as long.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.thread.take());
    }
}
