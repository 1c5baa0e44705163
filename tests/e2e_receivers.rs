//! End to end: the real `wiretop ship` binary against real receivers, each started here on a
//! free 127.0.0.1 port and stopped by pid, while a real `node` server holds a `curl` client's
//! connection. What the receiver stored afterwards must name node by pid and command line and
//! carry the configured tags.
//!
//! - OTLP/HTTP (protobuf + gzip) into VictoriaMetrics, from Debian trixie's `victoria-metrics`
//!   package, which `.ci/receivers` fetches into a cache directory (no system install). It takes
//!   metrics at `/opentelemetry/v1/metrics` and answers `/opentelemetry/v1/logs` with 400
//!   ("unsupported path"): wiretop drops those log batches, and metrics must flow regardless.
//!   VictoriaMetrics 1.112 keeps OTLP names as they are, dots included: the series is
//!   `process.memory.usage` with labels `process.pid`, `process.command_line`,
//!   `deployment.environment.name`, `service.name`, `host.name`, ... (resource attributes
//!   become plain labels; the array `process.command_args` is stored as a Go struct dump, a
//!   VictoriaMetrics quirk). With `-opentelemetry.usePrometheusNaming` it writes
//!   `process_memory_usage_bytes`, `process_pid`, ... instead: the series is found and its
//!   labels compared with dots read as underscores, so the pid and command line checks do not
//!   depend on that switch. Data is read back through `/api/v1/export`, since `/api/v1/query`
//!   hides the last 30 seconds.
//! - Prometheus remote write 1.0 into Debian 12's `prometheus` (installed by `.ci/setup`), run
//!   with `--web.enable-remote-write-receiver`: `wiretop_process_resident_memory_bytes` with
//!   labels `pid`, `process_name`, `command_line`, `owner`, `host`, `instance`, `job` and one
//!   per tag (`env`, `service`), read back with an instant query. Beside node, a python server
//!   has sent a python client exactly 1 MiB over loopback: `wiretop_connection_bytes_total`
//!   holds that volume, in every sample, for the server's conversation (`role="server"`, its
//!   `local_port`, the client's `remote_address`) and the client's (`role="client"`,
//!   `remote_address`, `remote_port`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use common::Child;

/// How long `wiretop ship` runs at least before SIGTERM: several 500 ms intervals.
const SHIP_FOR: Duration = Duration::from_secs(4);
/// How much longer it may run for the receiver to hold two samples of node: on a loaded
/// machine the debug build's first snapshots can take seconds.
const SHIP_AT_MOST: Duration = Duration::from_secs(30);

/// Bytes the loopback transfer beside node moves, from its server to its client.
const TRANSFER_BYTES: u64 = 1 << 20;

/// A directory of its own under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "wiretop-e2e-{name}-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::create_dir_all(&path).expect("temp dir created");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A long-running child whose stdout and stderr go to a log file; killed by pid and reaped on
/// drop unless it already exited.
struct Daemon {
    name: String,
    child: std::process::Child,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &str, mut command: Command, log: PathBuf) -> Daemon {
        let out = File::create(&log).expect("log file created");
        let err = out.try_clone().expect("log file shared");
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts ({command:?}): {e}"));
        Daemon {
            name: name.to_owned(),
            child,
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of what the child printed, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(6000);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        format!(
            "--- {} log ({}) ---\n{}",
            self.name,
            self.log.display(),
            &text[start..]
        )
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("child status readable")
    }

    /// SIGTERM, then waits at most `limit` for the child to exit.
    fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("pid fits i32"));
        kill(pid, Signal::SIGTERM).expect("SIGTERM sent");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not exit within {limit:?} of SIGTERM\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One HTTP request through the `curl` binary: a GET, or a form POST when `form` has fields.
/// None when no HTTP answer came (connection refused while a receiver starts, for one).
fn http(url: &str, form: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut command = Command::new("curl");
    command.args([
        "-sS",
        "-g",
        "--max-time",
        "10",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
    ]);
    for (name, value) in form {
        command
            .arg("--data-urlencode")
            .arg(format!("{name}={value}"));
    }
    command.arg(url);
    let output = command.output().expect("curl runs");
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let (body, code) = text.rsplit_once('\n')?;
    Some((code.trim().parse().ok()?, body.to_owned()))
}

/// Polls `probe` every 200 ms until it returns Some or `limit` passes.
fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A port that was free on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("bound address").port()
}

/// Starts a receiver built by `command(port)` on a free port and waits until `GET ready_path`
/// answers 200. Tries a few ports, in case another process takes the chosen one first.
fn start_receiver(
    name: &str,
    dir: &TempDir,
    ready_path: &str,
    command: impl Fn(u16) -> Command,
) -> (Daemon, u16) {
    let mut last_log = String::new();
    for attempt in 0..3 {
        let port = free_port();
        let log = dir.path().join(format!("{name}-{attempt}.log"));
        let mut receiver = Daemon::start(name, command(port), log);
        let url = format!("http://127.0.0.1:{port}{ready_path}");
        let ready = poll(Duration::from_secs(60), || {
            if receiver.exited().is_some() {
                return Some(false);
            }
            match http(&url, &[]) {
                Some((200, _)) => Some(true),
                _ => None,
            }
        });
        match ready {
            Some(true) => return (receiver, port),
            Some(false) => last_log = receiver.log_tail(),
            None => panic!(
                "{name} did not answer 200 at {url} within 60 s\n{}",
                receiver.log_tail()
            ),
        }
    }
    panic!("{name} exited before it was ready, three times\n{last_log}");
}

/// Debian trixie's VictoriaMetrics binary, fetched into the cache by `.ci/receivers` if needed.
fn victoria_metrics_binary() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/receivers");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs .ci/receivers");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "VictoriaMetrics is missing: {} could not fetch Debian trixie's `victoria-metrics` \
         package into its cache ({}):\n{stderr}",
        script.display(),
        output.status
    );
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(
        path.is_file(),
        "VictoriaMetrics is missing: .ci/receivers printed {path:?}, which is no file\n{stderr}"
    );
    path
}

/// Debian's `prometheus`, as `.ci/setup` installs it.
fn prometheus_binary() -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("prometheus"))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    found.unwrap_or_else(|| {
        panic!(
            "Prometheus is missing: no `prometheus` on PATH; Debian's `prometheus` package \
             provides it (`bash .ci/setup` installs it with apt-get)"
        )
    })
}

/// The process under watch: `node server.js` serving a `curl` that keeps its connection open
/// (the response never ends).
struct NodeApp {
    node: Child,
    _curl: Child,
}

impl NodeApp {
    fn start(dir: &TempDir) -> NodeApp {
        let script = dir.path().join("server.js");
        std::fs::write(
            &script,
            r#"const http = require('http');
const server = http.createServer((req, res) => {
  res.writeHead(200); res.write('hello\n');
  console.log('request');
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
"#,
        )
        .expect("server.js written");
        let mut node = Command::new("node");
        node.arg(&script);
        let mut node = Child::start(node);
        let port: u16 = node.line().parse().expect("node prints its port");
        let mut curl = Command::new("curl");
        curl.args(["-sN", "-o", "/dev/null", "--max-time", "120"])
            .arg(format!("http://127.0.0.1:{port}/"));
        let curl = Child::start(curl);
        assert_eq!(node.line(), "request", "curl reached node");
        NodeApp { node, _curl: curl }
    }

    fn pid(&self) -> u32 {
        self.node.pid()
    }

    /// Its resident memory right now, from /proc (VmRSS).
    fn rss_bytes(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("node's /proc status readable");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status");
        kib * 1024.0
    }
}

/// Runs `wiretop --interval 500ms ship` against `endpoint` for a few intervals (SHIP_FOR, then
/// until `shipped` says the receiver holds enough, at most SHIP_AT_MOST more), stops it with
/// SIGTERM, asserts it exited 0 and returns its log.
fn ship(
    dir: &TempDir,
    protocol: &str,
    endpoint: &str,
    mut shipped: impl FnMut() -> bool,
) -> String {
    let config_home = dir.path().join("config-home");
    std::fs::create_dir_all(&config_home).expect("empty XDG_CONFIG_HOME created");
    let mut command = Command::new(env!("CARGO_BIN_EXE_wiretop"));
    command.args(["--interval", "500ms", "ship"]);
    // Only this test's settings: none of the developer's own WIRETOP_* variables.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WIRETOP_") {
            command.env_remove(name);
        }
    }
    command
        .env("XDG_CONFIG_HOME", &config_home)
        .env("WIRETOP_UPLINK_ENABLED", "true")
        .env("WIRETOP_UPLINK_PROTOCOL", protocol)
        .env("WIRETOP_UPLINK_ENDPOINT", endpoint)
        .env("WIRETOP_TAGS", "env:e2e,service:wiretop-test")
        // VictoriaMetrics stores metrics only and refuses /v1/logs.
        .env("WIRETOP_UPLINK_LOGS", "false")
        .env("NO_COLOR", "1");
    let log = dir.path().join(format!("wiretop-ship-{protocol}.log"));
    let mut wiretop = Daemon::start("wiretop ship", command, log);
    std::thread::sleep(SHIP_FOR);
    let _ = poll(SHIP_AT_MOST, || {
        (wiretop.exited().is_some() || shipped()).then_some(())
    });
    if let Some(status) = wiretop.exited() {
        panic!(
            "wiretop ship exited early ({status})\n{}",
            wiretop.log_tail()
        );
    }
    let status = wiretop.terminate(Duration::from_secs(20));
    let log = wiretop.log_tail();
    assert!(
        status.success(),
        "wiretop ship exits 0 on SIGTERM: {status}\n{log}"
    );
    assert!(!log.contains("panicked"), "wiretop ship panicked\n{log}");
    log
}

/// Label names with dots read as underscores: `process.pid` and `process_pid` alike.
fn labels(metric: &Value) -> BTreeMap<String, String> {
    metric
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.replace('.', "_"),
                        v.as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// VictoriaMetrics' `process.memory.usage` series of `pid`, through `/api/v1/export` (one JSON
/// series a line), after asking it to make what it ingested searchable right away.
fn vm_memory_series(base: &str, pid: u32) -> Option<Value> {
    let _ = http(&format!("{base}/internal/force_flush"), &[]);
    let selector = r#"{__name__=~"process[._]memory[._]usage.*"}"#;
    let (status, body) = http(&format!("{base}/api/v1/export"), &[("match[]", selector)])?;
    assert_eq!(status, 200, "export answers 200: {body}");
    let pid = pid.to_string();
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).expect("export line is JSON"))
        .find(|s| labels(&s["metric"]).get("process_pid") == Some(&pid))
}

/// The values of an exported series.
fn samples(series: &Value) -> Vec<f64> {
    series["values"]
        .as_array()
        .map(|v| v.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// The first result of a Prometheus instant query, if any.
fn prometheus_query(base: &str, query: &str) -> Option<Value> {
    let (status, body) = http(&format!("{base}/api/v1/query"), &[("query", query)])?;
    assert_eq!(status, 200, "query {query} answers 200: {body}");
    let answer: Value = serde_json::from_str(&body).expect("query answer is JSON");
    answer["data"]["result"]
        .as_array()
        .and_then(|r| r.first())
        .cloned()
}

/// How many samples Prometheus holds for `selector` over the last 5 minutes.
fn prometheus_count(base: &str, selector: &str) -> f64 {
    prometheus_query(base, &format!("count_over_time({selector}[5m])"))
        .and_then(|s| s["value"][1].as_str().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

#[test]
fn otlp_into_victoria_metrics_names_node_by_pid_command_line_and_tags() {
    let dir = TempDir::new("otlp");
    let binary = victoria_metrics_binary();
    let data = dir.path().join("vm-data");
    let (receiver, port) = start_receiver("victoria-metrics", &dir, "/health", |port| {
        let mut command = Command::new(&binary);
        command
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg(format!("-storageDataPath={}", data.display()))
            .arg("-retentionPeriod=1d");
        command
    });
    let app = NodeApp::start(&dir);

    let base = format!("http://127.0.0.1:{port}");
    let pid = app.pid();
    let ship_log = ship(&dir, "otlp", &format!("{base}/opentelemetry"), || {
        vm_memory_series(&base, pid).is_some_and(|s| samples(&s).len() >= 2)
    });

    let series =
        poll(Duration::from_secs(20), || vm_memory_series(&base, pid)).unwrap_or_else(|| {
            let names = http(&format!("{base}/api/v1/label/__name__/values"), &[]);
            panic!(
                "VictoriaMetrics holds no process.memory.usage series for node (pid {pid}); \
             metric names it has: {names:?}\n--- wiretop ship ---\n{ship_log}\n{}",
                receiver.log_tail()
            )
        });

    let found = labels(&series["metric"]);
    let context = format!("series {series}\n--- wiretop ship ---\n{ship_log}");
    assert!(
        found
            .get("process_command_line")
            .is_some_and(|c| c.contains("server.js")),
        "command line names server.js: {context}"
    );
    assert_eq!(
        found.get("process_executable_name").map(String::as_str),
        Some("node"),
        "{context}"
    );
    assert_eq!(
        found.get("deployment_environment_name").map(String::as_str),
        Some("e2e"),
        "tag env:e2e as deployment.environment.name: {context}"
    );
    assert_eq!(
        found.get("service_name").map(String::as_str),
        Some("wiretop-test"),
        "tag service:wiretop-test as service.name: {context}"
    );
    assert!(
        found.get("host_name").is_some_and(|h| !h.is_empty()),
        "host.name set: {context}"
    );

    let values = samples(&series);
    assert!(
        values.len() >= 2,
        "one sample per interval, several intervals: {context}"
    );
    let rss = app.rss_bytes();
    let last = *values.last().expect("a value");
    assert!(
        last > rss / 2.0 && last < rss * 2.0,
        "stored memory {last} is node's resident memory (now {rss}): {context}"
    );
}

#[test]
fn remote_write_into_prometheus_names_node_by_pid_command_line_and_tags() {
    let dir = TempDir::new("remote-write");
    let binary = prometheus_binary();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "scrape_configs: []\n").expect("prometheus.yml written");
    let data = dir.path().join("prometheus-data");
    let (receiver, port) = start_receiver("prometheus", &dir, "/-/ready", |port| {
        let mut command = Command::new(&binary);
        command
            .arg("--web.enable-remote-write-receiver")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        command
    });
    let app = NodeApp::start(&dir);
    let transfer = common::LoopbackTransfer::run(TRANSFER_BYTES);

    let base = format!("http://127.0.0.1:{port}");
    let pid = app.pid();
    let selector = format!(r#"wiretop_process_resident_memory_bytes{{pid="{pid}"}}"#);
    let (server, client) = (transfer.server.pid(), transfer.client.pid());
    let server_sent =
        format!(r#"wiretop_connection_bytes_total{{pid="{server}",direction="transmit"}}"#);
    let client_received =
        format!(r#"wiretop_connection_bytes_total{{pid="{client}",direction="receive"}}"#);
    let ship_log = ship(
        &dir,
        "remote_write",
        &format!("{base}/api/v1/write"),
        || {
            [&selector, &server_sent, &client_received]
                .iter()
                .all(|s| prometheus_count(&base, s) >= 2.0)
        },
    );

    let sample = poll(Duration::from_secs(20), || {
        prometheus_query(&base, &selector)
    })
    .unwrap_or_else(|| {
        panic!(
            "Prometheus holds no {selector}\n--- wiretop ship ---\n{ship_log}\n{}",
            receiver.log_tail()
        )
    });

    let found = labels(&sample["metric"]);
    let context = format!("sample {sample}\n--- wiretop ship ---\n{ship_log}");
    assert!(
        found
            .get("command_line")
            .is_some_and(|c| c.contains("server.js")),
        "command line names server.js: {context}"
    );
    assert_eq!(
        found.get("process_name").map(String::as_str),
        Some("node"),
        "{context}"
    );
    assert_eq!(
        found.get("env").map(String::as_str),
        Some("e2e"),
        "{context}"
    );
    assert_eq!(
        found.get("service").map(String::as_str),
        Some("wiretop-test"),
        "{context}"
    );
    assert_eq!(
        found.get("job").map(String::as_str),
        Some("wiretop"),
        "{context}"
    );

    let value: f64 = sample["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("sample value is a number");
    let rss = app.rss_bytes();
    assert!(
        value > rss / 2.0 && value < rss * 2.0,
        "stored memory {value} is node's resident memory (now {rss}): {context}"
    );

    let count = prometheus_count(&base, &selector);
    assert!(
        count >= 2.0,
        "one sample per interval, several intervals: {count}\n{context}"
    );

    // The transfer, per conversation: both ends' totals are the volume, to the byte, in every
    // sample (the transfer ended before wiretop started; a counter of it never moves).
    let port = transfer.port.to_string();
    for (selector, role, naming_label) in [
        (&server_sent, "server", ("local_port", &port)),
        (&client_received, "client", ("remote_port", &port)),
    ] {
        let sample = prometheus_query(&base, selector).unwrap_or_else(|| {
            panic!(
                "Prometheus holds no {selector}\n--- wiretop ship ---\n{ship_log}\n{}",
                receiver.log_tail()
            )
        });
        let found = labels(&sample["metric"]);
        let context = format!("sample {sample}\n--- wiretop ship ---\n{ship_log}");
        assert_eq!(
            found.get("role").map(String::as_str),
            Some(role),
            "{context}"
        );
        assert_eq!(found.get(naming_label.0), Some(naming_label.1), "{context}");
        assert_eq!(
            found.get("remote_address").map(String::as_str),
            Some("127.0.0.1"),
            "{context}"
        );
        assert_eq!(
            found.get("process_name").map(String::as_str),
            Some("python3"),
            "{context}"
        );
        assert_eq!(
            found.get("env").map(String::as_str),
            Some("e2e"),
            "{context}"
        );
        for over_time in ["min_over_time", "max_over_time"] {
            let query = format!("{over_time}({selector}[5m])");
            let value = prometheus_query(&base, &query)
                .and_then(|s| s["value"][1].as_str().and_then(|v| v.parse::<f64>().ok()));
            assert_eq!(value, Some(TRANSFER_BYTES as f64), "{query}: {context}");
        }
    }
    // The ephemeral port names nothing: one series per conversation, not per port.
    let client_port = transfer.client_port.to_string();
    let by_port = format!(r#"wiretop_connection_bytes_total{{remote_port="{client_port}"}}"#);
    assert!(
        prometheus_query(&base, &by_port).is_none(),
        "no series is named by the client's ephemeral port"
    );
}
