//! A scriptable HTTP/1.1 receiver on 127.0.0.1 for the uplink's failure tests: it records
//! every request and answers each as the test's script says (any status, headers, a body,
//! a hang, or a dropped connection).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body with any gzip content-encoding undone.
    pub fn decoded_body(&self) -> Vec<u8> {
        if self.header("content-encoding") == Some("gzip") {
            let mut out = Vec::new();
            let _ = flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out);
            out
        } else {
            self.body.clone()
        }
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Read the request, then wait this long before answering 200 (past the client's timeout).
    Hang(Duration),
    /// Read the request, then close the connection without a word.
    Drop,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::status(200)
    }
    pub fn status(status: u16) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn with_header(self, name: &'static str, value: &str) -> Reply {
        match self {
            Reply::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name, value.to_owned()));
                Reply::Status {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }
    pub fn with_body(self, bytes: Vec<u8>) -> Reply {
        match self {
            Reply::Status {
                status, headers, ..
            } => Reply::Status {
                status,
                headers,
                body: bytes,
            },
            other => other,
        }
    }
}

type Script = dyn Fn(usize, &Request) -> Reply + Send + Sync;

/// The running receiver. Dropping it stops accepting.
pub struct Receiver {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Starts a receiver answering every request with `script(index, request)`.
    pub fn start(script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        Receiver::serve(listener, Arc::new(script))
    }

    /// Starts a receiver on a given port (to bring one up where a dead one was).
    pub fn start_on(
        port: u16,
        script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind receiver port");
        Receiver::serve(listener, Arc::new(script))
    }

    /// Starts a receiver speaking HTTPS with `config` (a test CA's leaf certificate).
    pub fn start_tls(
        config: Arc<rustls::ServerConfig>,
        script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        Receiver::serve_with(listener, Arc::new(script), Some(config))
    }

    fn serve(listener: TcpListener, script: Arc<Script>) -> Receiver {
        Receiver::serve_with(listener, script, None)
    }

    fn serve_with(
        listener: TcpListener,
        script: Arc<Script>,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Receiver {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stopped.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (reqs, script, stopped) =
                            (Arc::clone(&reqs), Arc::clone(&script), Arc::clone(&stopped));
                        let tls = tls.clone();
                        std::thread::spawn(move || {
                            // Accepted sockets inherit non-blocking mode; reads poll the stop
                            // flag through a timeout instead.
                            let _ = stream.set_nonblocking(false);
                            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                            match tls {
                                None => connection(stream, &reqs, &*script, &stopped),
                                Some(config) => {
                                    let Ok(server) = rustls::ServerConnection::new(config) else {
                                        return;
                                    };
                                    let stream = rustls::StreamOwned::new(server, stream);
                                    connection(stream, &reqs, &*script, &stopped);
                                }
                            }
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Receiver {
            port,
            requests,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits until at least `n` requests arrived (or panics after `within`).
    pub fn wait_for(&self, n: usize, within: Duration) -> Vec<Request> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} requests arrived",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn connection<S: Read + Write>(
    stream: S,
    requests: &Mutex<Vec<Request>>,
    script: &Script,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(stream);
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Some(request) = read_request(&mut reader, stop) else {
            return;
        };
        let index = {
            let Ok(mut all) = requests.lock() else { return };
            all.push(request.clone());
            all.len() - 1
        };
        match script(index, &request) {
            Reply::Drop => return,
            Reply::Hang(duration) => {
                std::thread::sleep(duration);
                let _ = reader
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
                return;
            }
            Reply::Status {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let writer = reader.get_mut();
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(&body).is_err()
                    || writer.flush().is_err()
                {
                    return;
                }
            }
        }
    }
}

fn read_request<S: Read>(reader: &mut BufReader<S>, stop: &AtomicBool) -> Option<Request> {
    let mut line = String::new();
    // Idle keep-alive connections poll the stop flag between requests.
    loop {
        match reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => break,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if stop.load(Ordering::SeqCst) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let mut read = 0;
    while read < length {
        match reader.read(&mut body[read..]) {
            Ok(0) => return None,
            Ok(n) => read += n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue
            }
            Err(_) => return None,
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}
