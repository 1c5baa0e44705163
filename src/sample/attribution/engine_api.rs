//! One call to the Docker Engine API, which Podman's API answers too: the list of every
//! container, `GET /containers/json?all=1`, as HTTP/1.1 over the daemon's unix socket, done
//! within a deadline that covers connecting, writing and reading together.
//!
//! Written out here rather than through an HTTP client: it is one request without a body on a
//! local socket, and what matters is the deadline, which is plain to see when every wait is
//! given what is left of it. The connection is made non-blocking, so a daemon that stopped
//! accepting (its backlog full) costs the deadline, not forever.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};
use serde::Deserialize;

use super::kubelet::PodNames;

/// What the list says about one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedContainer {
    pub id: String,
    /// The first of its names, without Docker's leading `/`.
    pub name: Option<String>,
    pub image: Option<String>,
    /// From the labels Kubernetes puts on the containers it runs through Docker.
    pub k8s: Option<PodNames>,
}

/// Why the list could not be had.
#[derive(Debug, thiserror::Error)]
pub enum EngineApiError {
    #[error("no socket there")]
    NoSocket,
    #[error("cannot connect: {0}")]
    Connect(io::Error),
    #[error("no answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("connection failed: {0}")]
    Io(io::Error),
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answered something unreadable: {0}")]
    Malformed(String),
}

/// The most of an answer read: thousands of containers fit many times over.
const MAX_ANSWER_BYTES: usize = 32 << 20;

const REQUEST: &[u8] = b"GET /containers/json?all=1 HTTP/1.1\r\nHost: localhost\r\n\
    User-Agent: wiretop\r\nAccept: application/json\r\nConnection: close\r\n\r\n";

/// Every container the daemon behind `socket` knows, running or not, within `timeout`.
pub fn list_containers(
    socket: &Path,
    timeout: Duration,
) -> Result<Vec<ListedContainer>, EngineApiError> {
    let deadline = Instant::now() + timeout;
    let timed_out = || EngineApiError::TimedOut(timeout);
    let mut stream = connect(socket, deadline).map_err(|e| match e {
        ConnectFailure::TimedOut => timed_out(),
        ConnectFailure::NoSocket => EngineApiError::NoSocket,
        ConnectFailure::Other(e) => EngineApiError::Connect(e),
    })?;
    let left = remaining(deadline).ok_or_else(timed_out)?;
    stream
        .set_write_timeout(Some(left))
        .map_err(EngineApiError::Io)?;
    stream
        .write_all(REQUEST)
        .map_err(|e| io_failure(e, timeout))?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let body = loop {
        let left = remaining(deadline).ok_or_else(timed_out)?;
        stream
            .set_read_timeout(Some(left))
            .map_err(EngineApiError::Io)?;
        let read = match stream.read(&mut chunk) {
            Ok(read) => read,
            // A signal handled on this thread: the deadline still holds for the next wait.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_failure(e, timeout)),
        };
        answer.extend_from_slice(&chunk[..read]);
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(EngineApiError::Malformed(format!(
                "more than {} MiB",
                MAX_ANSWER_BYTES >> 20
            )));
        }
        let ended = read == 0;
        if let Some(body) = http_body(&answer, ended)? {
            break body;
        }
        if ended {
            return Err(EngineApiError::Malformed(
                "the answer ended early".to_owned(),
            ));
        }
    };
    parse_list(&body)
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
}

/// A timed-out read or write is the deadline passing.
fn io_failure(e: io::Error, timeout: Duration) -> EngineApiError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => EngineApiError::TimedOut(timeout),
        _ => EngineApiError::Io(e),
    }
}

enum ConnectFailure {
    TimedOut,
    NoSocket,
    Other(io::Error),
}

/// Connects without blocking: a listener whose backlog is full refuses with EAGAIN at once
/// (on Linux a unix socket's connect never waits in the background), so it is tried again
/// every few milliseconds until the deadline.
fn connect(socket: &Path, deadline: Instant) -> Result<UnixStream, ConnectFailure> {
    let address = SocketAddrUnix::new(socket).map_err(|e| ConnectFailure::Other(e.into()))?;
    let fd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| ConnectFailure::Other(e.into()))?;
    loop {
        match rustix::net::connect(&fd, &address) {
            Ok(()) => break,
            Err(Errno::AGAIN) | Err(Errno::INTR) => {
                let left = remaining(deadline).ok_or(ConnectFailure::TimedOut)?;
                std::thread::sleep(left.min(Duration::from_millis(5)));
            }
            Err(Errno::NOENT) => return Err(ConnectFailure::NoSocket),
            Err(e) => return Err(ConnectFailure::Other(e.into())),
        }
    }
    let stream = UnixStream::from(fd);
    stream
        .set_nonblocking(false)
        .map_err(ConnectFailure::Other)?;
    Ok(stream)
}

/// The body of a complete 200 answer in `answer`; None while more is to come. `ended`: the
/// daemon closed the connection, so a body without a length is whole.
fn http_body(answer: &[u8], ended: bool) -> Result<Option<Vec<u8>>, EngineApiError> {
    let malformed = |what: &str| EngineApiError::Malformed(what.to_owned());
    let Some(head_end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if answer.len() > 64 * 1024 || !answer.starts_with(&b"HTTP/"[..answer.len().min(5)])
        {
            Err(malformed("not an HTTP answer"))
        } else {
            Ok(None)
        };
    };
    let head =
        std::str::from_utf8(&answer[..head_end]).map_err(|_| malformed("header not text"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| malformed("not an HTTP answer"))?;
    if status != 200 {
        return Err(EngineApiError::Status(status));
    }
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed("a header line without a colon"));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| malformed("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = &answer[head_end + 4..];
    if chunked {
        return dechunk(body);
    }
    match length {
        Some(length) if body.len() >= length => Ok(Some(body[..length].to_vec())),
        Some(_) => Ok(None),
        None => Ok(ended.then(|| body.to_vec())),
    }
}

/// A chunked body put together; None until its last (empty) chunk has come.
fn dechunk(mut body: &[u8]) -> Result<Option<Vec<u8>>, EngineApiError> {
    let malformed = || EngineApiError::Malformed("bad chunked encoding".to_owned());
    let mut whole = Vec::new();
    loop {
        let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") else {
            return if body.len() > 32 {
                Err(malformed())
            } else {
                Ok(None)
            };
        };
        let size_text = std::str::from_utf8(&body[..line_end]).map_err(|_| malformed())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| malformed())?;
        if size == 0 {
            return Ok(Some(whole));
        }
        let data_start = line_end + 2;
        let Some(data_end) = data_start.checked_add(size) else {
            return Err(malformed());
        };
        let Some(after) = body.get(data_end..) else {
            return Ok(None);
        };
        if after.len() < 2 {
            return Ok(None);
        }
        if !after.starts_with(b"\r\n") {
            return Err(malformed());
        }
        whole.extend_from_slice(&body[data_start..data_end]);
        body = &after[2..];
    }
}

/// The fields of `GET /containers/json` that are used.
#[derive(Deserialize)]
struct ListEntry {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Names", default)]
    names: Option<Vec<String>>,
    #[serde(rename = "Image", default)]
    image: Option<String>,
    #[serde(rename = "Labels", default)]
    labels: Option<HashMap<String, String>>,
}

fn parse_list(body: &[u8]) -> Result<Vec<ListedContainer>, EngineApiError> {
    let entries: Vec<ListEntry> = serde_json::from_slice(body)
        .map_err(|e| EngineApiError::Malformed(format!("not the container list ({e})")))?;
    Ok(entries.into_iter().map(listed).collect())
}

fn listed(entry: ListEntry) -> ListedContainer {
    let name = entry
        .names
        .unwrap_or_default()
        .into_iter()
        .map(|name| name.trim_start_matches('/').to_owned())
        .find(|name| !name.is_empty());
    let labels = entry.labels.unwrap_or_default();
    let label = |key: &str| labels.get(key).filter(|v| !v.is_empty()).cloned();
    let k8s = PodNames {
        pod: label("io.kubernetes.pod.name"),
        namespace: label("io.kubernetes.pod.namespace"),
        container: label("io.kubernetes.container.name"),
    };
    ListedContainer {
        id: entry.id,
        name,
        image: entry.image.filter(|image| !image.is_empty()),
        k8s: (k8s != PodNames::default()).then_some(k8s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// An answer as the Engine API gives it (v1.47, trimmed of fields not read).
    fn documented_list() -> String {
        format!(
            r#"[{{"Id":"{ID}","Names":["/payments"],"Image":"registry.example/payments:2.3","ImageID":"sha256:9b1","Command":"/app","Created":1767225600,"Ports":[],"Labels":{{"com.docker.compose.service":"payments"}},"State":"running","Status":"Up 2 hours","HostConfig":{{"NetworkMode":"default"}},"NetworkSettings":{{"Networks":{{}}}},"Mounts":[]}},
               {{"Id":"fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210","Names":["/k8s_app_checkout-7f9c_prod_0b2c0d7e-1a5e-4bd6-9a3f-2f1c4a1e9b7d_0"],"Image":"","Labels":{{"io.kubernetes.pod.name":"checkout-7f9c","io.kubernetes.pod.namespace":"prod","io.kubernetes.container.name":"app"}}}},
               {{"Id":"aa","Names":null,"Labels":null}}]"#
        )
    }

    #[test]
    fn the_documented_list_gives_names_images_and_pod_labels() {
        let body = documented_list();
        let answer = format!(
            "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let body = http_body(answer.as_bytes(), false).unwrap().unwrap();
        let list = parse_list(&body).unwrap();
        assert_eq!(list[0].id, ID);
        assert_eq!(list[0].name.as_deref(), Some("payments"));
        assert_eq!(
            list[0].image.as_deref(),
            Some("registry.example/payments:2.3")
        );
        assert_eq!(list[0].k8s, None);
        assert_eq!(list[1].image, None, "an empty image is unknown");
        let pod = list[1].k8s.clone().unwrap();
        assert_eq!(
            (
                pod.pod.as_deref(),
                pod.namespace.as_deref(),
                pod.container.as_deref()
            ),
            (Some("checkout-7f9c"), Some("prod"), Some("app"))
        );
        assert_eq!((list[2].name.clone(), list[2].image.clone()), (None, None));
    }

    #[test]
    fn bodies_by_length_by_chunks_and_to_the_end() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n[{}\r\n2;x=1\r\n, \r\n3\r\n{}]\r\n0\r\n\r\n";
        assert_eq!(
            http_body(chunked, false).unwrap().as_deref(),
            Some(&b"[{}, {}]"[..])
        );
        // Every cut of it is incomplete, never an error.
        for cut in 0..chunked.len() - 5 {
            assert!(
                matches!(http_body(&chunked[..cut], false), Ok(None)),
                "cut at {cut}"
            );
        }
        let counted = b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n[]";
        assert_eq!(
            http_body(&counted[..counted.len() - 1], false).unwrap(),
            None
        );
        assert_eq!(
            http_body(counted, false).unwrap().as_deref(),
            Some(&b"[]"[..])
        );
        let to_the_end = b"HTTP/1.1 200 OK\r\n\r\n[]";
        assert_eq!(http_body(to_the_end, false).unwrap(), None);
        assert_eq!(
            http_body(to_the_end, true).unwrap().as_deref(),
            Some(&b"[]"[..])
        );
    }

    #[test]
    fn errors_and_garbage_are_refused_with_what_was_wrong() {
        let status = http_body(b"HTTP/1.1 500 Internal Server Error\r\n\r\n", false);
        assert!(matches!(status, Err(EngineApiError::Status(500))));
        for garbage in [
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            b"{\"Id\": 1}",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n[]",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        ] {
            assert!(
                matches!(http_body(garbage, true), Err(EngineApiError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(garbage)
            );
        }
        assert!(matches!(
            parse_list(b"{\"message\": \"page not found\"}"),
            Err(EngineApiError::Malformed(_))
        ));
        assert!(matches!(
            parse_list(b"[{\"Names\": []}]"),
            Err(EngineApiError::Malformed(_))
        ));
    }

    #[test]
    fn a_missing_socket_is_said_at_once() {
        let started = Instant::now();
        let missing = list_containers(
            Path::new("/nonexistent/wiretop/docker.sock"),
            Duration::from_secs(5),
        );
        assert!(
            matches!(missing, Err(EngineApiError::NoSocket)),
            "{missing:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    /// A socket of our own in a directory of our own, removed when dropped.
    struct TempSocket(std::path::PathBuf);

    impl TempSocket {
        fn new(name: &str) -> TempSocket {
            let dir = std::env::temp_dir()
                .join(format!("wiretop-engine-unit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempSocket(dir)
        }

        fn path(&self) -> std::path::PathBuf {
            self.0.join("api.sock")
        }
    }

    impl Drop for TempSocket {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The call ends at its deadline however the daemon stalls: after accepting and saying
    /// nothing, half-way through an answer, or never accepting (its backlog full).
    #[test]
    fn a_stalled_daemon_costs_the_timeout_and_no_more() {
        let timeout = Duration::from_millis(300);
        let within_the_timeout = |started: Instant| {
            let took = started.elapsed();
            assert!(
                took >= timeout && took < timeout * 3,
                "took {took:?} for a timeout of {timeout:?}"
            );
        };

        let silent = TempSocket::new("silent");
        let listener = std::os::unix::net::UnixListener::bind(silent.path()).unwrap();
        let held = std::thread::spawn(move || {
            let mut held = Vec::new();
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().unwrap();
                if held.len() == 1 {
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[");
                }
                held.push(stream);
            }
            std::thread::sleep(Duration::from_secs(2));
        });
        for _ in 0..2 {
            let started = Instant::now();
            let stalled = list_containers(&silent.path(), timeout);
            assert!(
                matches!(stalled, Err(EngineApiError::TimedOut(_))),
                "{stalled:?}"
            );
            within_the_timeout(started);
        }

        // A listener that never accepts, with the smallest backlog: once that is full, connect
        // is refused with EAGAIN until the deadline.
        let full = TempSocket::new("full");
        let fd = rustix::net::socket(AddressFamily::UNIX, SocketType::STREAM, None).unwrap();
        rustix::net::bind(&fd, &SocketAddrUnix::new(full.path()).unwrap()).unwrap();
        rustix::net::listen(&fd, 0).unwrap();
        let mut queued = Vec::new();
        while let Ok(stream) = connect(&full.path(), Instant::now() + Duration::from_millis(50)) {
            queued.push(stream);
            assert!(queued.len() < 100, "the backlog never filled");
        }
        let started = Instant::now();
        let refused = list_containers(&full.path(), timeout);
        assert!(
            matches!(refused, Err(EngineApiError::TimedOut(_))),
            "{refused:?}"
        );
        within_the_timeout(started);
        drop(held);
    }
}
