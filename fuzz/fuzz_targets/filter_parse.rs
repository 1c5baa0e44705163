//! `Filter::parse` on arbitrary text, then `Filter::matches` against fixed processes.
//!
//! Never panics; a parse error names a term that really is at the span it reports.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wiretop::model::{Filter, Process};

/// A server with listening sockets (v4, v6, UDP) and connections of every direction, a client
/// with a local peer, and a kernel thread with everything unknown: between them every field a
/// filter term looks at is present, absent or empty.
const PROCESSES: &str = r#"[
  {
    "pid": 4242, "ppid": 1, "name": "nginx", "exe": "/usr/sbin/nginx",
    "cmdline": ["nginx: worker process", "-g", "daemon off;", "--password=********"],
    "user": "www-data", "uid": 33, "state": "running", "threads": 4,
    "start_time_ms": 1795735022240, "kernel_thread": false,
    "cpu": {"total_pct": 12.5, "user_pct": 10.0, "system_pct": 2.5},
    "cpu_time": {"user_ms": 3270, "system_ms": 15290},
    "memory": {"rss_bytes": 13266944, "virtual_bytes": 43618304, "percent": 5.25},
    "disk": {"read_bytes_per_sec": 94523.0, "write_bytes_per_sec": null,
             "read_bytes_total": 51412992, "write_bytes_total": 158502912},
    "fd_count": 269,
    "cgroup": "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope",
    "container_id": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "netns": 4026531833,
    "listening": [
      {"proto": "tcp", "family": "ipv4", "addr": "0.0.0.0", "port": 80, "inode": 1001, "netns": 4026531833},
      {"proto": "tcp", "family": "ipv6", "addr": "::", "port": 8080, "inode": 1002, "netns": 4026531833},
      {"proto": "udp", "family": "ipv4", "addr": "127.0.0.1", "port": 53, "inode": 1003, "netns": null}
    ],
    "connections": [
      {"proto": "tcp", "family": "ipv4", "local_addr": "10.0.0.2", "local_port": 80,
       "remote_addr": "10.0.0.5", "remote_port": 51234, "state": "ESTABLISHED",
       "direction": "inbound", "role": "server", "inode": 2001, "netns": 4026531833,
       "peer_pid": null, "peer_name": null},
      {"proto": "tcp", "family": "ipv6", "local_addr": "fe80::1", "local_port": 40000,
       "remote_addr": "2001:db8::7", "remote_port": 443, "state": "TIME_WAIT",
       "direction": "outbound", "role": "client", "inode": 2002, "netns": null,
       "peer_pid": null, "peer_name": null},
      {"proto": "udp", "family": "ipv4", "local_addr": "127.0.0.1", "local_port": 5353,
       "remote_addr": "127.0.0.1", "remote_port": 53, "state": "ESTABLISHED",
       "direction": "local", "role": null, "inode": 2003, "netns": 4026531833,
       "peer_pid": 77, "peer_name": "systemd-resolve"}
    ],
    "unreadable": {}
  },
  {
    "pid": 77, "ppid": 1, "name": "systemd-resolve", "exe": null, "cmdline": [],
    "user": null, "uid": 4294967295, "state": "zombie", "threads": 1,
    "start_time_ms": 0, "kernel_thread": false, "cpu": null,
    "cpu_time": {"user_ms": 0, "system_ms": 0},
    "memory": {"rss_bytes": 0, "virtual_bytes": 0, "percent": 0.0},
    "disk": null, "fd_count": null, "cgroup": null, "container_id": null, "netns": null,
    "listening": [],
    "connections": [
      {"proto": "udp", "family": "ipv4", "local_addr": "127.0.0.1", "local_port": 53,
       "remote_addr": "127.0.0.1", "remote_port": 5353, "state": "UNCONN",
       "direction": "local", "role": "server", "inode": 2004, "netns": 4026531833,
       "peer_pid": 4242, "peer_name": "nginx"}
    ],
    "unreadable": {"exe": "permission denied", "fds": "permission denied"}
  },
  {
    "pid": 2, "ppid": 0, "name": "kthreadd", "exe": null, "cmdline": [],
    "user": "root", "uid": 0, "state": "idle", "threads": 1,
    "start_time_ms": 1795735022240, "kernel_thread": true,
    "cpu": {"total_pct": 0.0, "user_pct": 0.0, "system_pct": 0.0},
    "cpu_time": {"user_ms": 0, "system_ms": 0},
    "memory": {"rss_bytes": 0, "virtual_bytes": 0, "percent": 0.0},
    "disk": null, "fd_count": null, "cgroup": "/", "container_id": null, "netns": null,
    "listening": [], "connections": [], "unreadable": {}
  }
]"#;

fn processes() -> &'static [Process] {
    static PROCESSES_PARSED: OnceLock<Vec<Process>> = OnceLock::new();
    PROCESSES_PARSED.get_or_init(|| {
        serde_json::from_str(PROCESSES).expect("the fixed processes are valid Process JSON")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Filter::parse(&text) {
        Ok(filter) => {
            for process in processes() {
                let _ = filter.matches(process);
            }
            // Blank text is the empty filter, and the empty filter matches everything.
            if text.trim().is_empty() {
                assert!(filter.is_empty());
            }
            if filter.is_empty() {
                assert!(processes().iter().all(|p| filter.matches(p)));
            }
        }
        Err(error) => {
            // The error underlines its term: the span is inside the text, on char
            // boundaries, and holds exactly the term as typed.
            let span = error.span();
            assert_eq!(span.start, error.offset());
            let underlined = text
                .get(span.clone())
                .unwrap_or_else(|| panic!("span {span:?} of {error:?} is not inside {text:?}"));
            assert_eq!(underlined, error.term(), "span of {error:?} in {text:?}");
            let _ = error.to_string();
            let _ = error.term_index();
        }
    }
});
