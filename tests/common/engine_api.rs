//! A Docker Engine API on a unix socket, as small as the sampler needs: it answers
//! `GET /containers/json?all=1` with the documented list (or slowly, or with garbage) and
//! records every request line it got.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A container in the list.
pub struct Listed {
    pub id: String,
    pub name: String,
    pub image: String,
}

/// How the server answers.
#[derive(Clone)]
pub enum Behaviour {
    /// The list, at once.
    List(Arc<Mutex<Vec<Listed>>>),
    /// The list, after this long.
    Slow(Duration),
    /// Bytes that are not HTTP, then the connection closes.
    Garbage,
}

pub struct FakeEngineApi {
    pub socket: PathBuf,
    dir: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl FakeEngineApi {
    pub fn start(behaviour: Behaviour) -> FakeEngineApi {
        static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wiretop-engine-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("socket directory");
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("the fake Engine API binds");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accepting = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (requests, behaviour) = (requests.clone(), behaviour.clone());
                            std::thread::spawn(move || serve(stream, &requests, &behaviour));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        FakeEngineApi {
            socket,
            dir,
            requests,
            stop,
            accepting: Some(accepting),
        }
    }

    /// Every request line received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FakeEngineApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(mut stream: UnixStream, requests: &Mutex<Vec<String>>, behaviour: &Behaviour) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    requests.lock().unwrap().push(request_line);
    let answer = match behaviour {
        Behaviour::List(list) => http_ok(&documented_list(&list.lock().unwrap())),
        Behaviour::Slow(delay) => {
            std::thread::sleep(*delay);
            http_ok("[]")
        }
        Behaviour::Garbage => "\u{1}\u{2}this is not HTTP\r\n\r\n{[".to_owned(),
    };
    let _ = stream.write_all(answer.as_bytes());
}

fn http_ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Type: application/json\r\n\
         Docker-Experimental: false\r\nServer: Docker/27.5.1 (linux)\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The list as the Engine API documents it (`ContainerSummary`), with the fields that do not
/// matter here at plausible values.
fn documented_list(containers: &[Listed]) -> String {
    let entries: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| {
            serde_json::json!({
                "Id": c.id,
                "Names": [format!("/{}", c.name)],
                "Image": c.image,
                "ImageID": "sha256:9b1c3f0a7a4e2d6b5c8f1e0d9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b",
                "Command": "/docker-entrypoint.sh nginx -g 'daemon off;'",
                "Created": 1_767_225_600,
                "Ports": [{"PrivatePort": 80, "Type": "tcp"}],
                "Labels": {"com.docker.compose.project": "shop"},
                "State": "running",
                "Status": "Up 2 hours",
                "HostConfig": {"NetworkMode": "bridge"},
                "NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.2"}}},
                "Mounts": []
            })
        })
        .collect();
    serde_json::Value::Array(entries).to_string()
}
