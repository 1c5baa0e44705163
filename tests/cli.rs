//! The `wiretop snapshot` command, run as a real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;

use common::{tcp_client, tcp_server, wiretop, Child, PYTHON};
use wiretop::model::{Role, Snapshot};

fn parse(stdout: &str) -> Snapshot {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("valid snapshot JSON ({e}): {stdout:.300}"))
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Our users' own example: `node server.js` on 127.0.0.1:8080 with curl hitting it.
#[test]
fn port_query_names_node_server_and_curl_connection_to_it() {
    let dir = std::env::temp_dir().join(format!("wiretop-node-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.js");
    // The response is never finished, so curl's connection lasts as long as the test needs.
    std::fs::write(
        &script,
        r#"const http = require('http');
http.createServer((req, res) => {
  res.writeHead(200); res.write('hello\n');
  console.log('request');
}).listen(8080, '127.0.0.1', () => console.log('listening'));
"#,
    )
    .unwrap();
    let mut node = Command::new("node");
    node.arg(&script);
    let mut node = Child::start(node);
    assert_eq!(node.line(), "listening");
    let mut curl = Command::new("curl");
    curl.args([
        "-sN",
        "-o",
        "/dev/null",
        "--max-time",
        "120",
        "http://127.0.0.1:8080/",
    ]);
    let curl = Child::start(curl);
    assert_eq!(node.line(), "request");

    let (status, stdout, _) = wiretop(&["snapshot", "--format", "json", "--port", "8080"]);
    assert!(status.success());
    let snap = parse(&stdout);
    let node_proc = snap
        .process(node.pid())
        .expect("node is in the --port 8080 result");
    assert_eq!(node_proc.name, "node");
    assert_eq!(
        node_proc.cmdline,
        vec!["node".to_owned(), script.to_string_lossy().into_owned()]
    );
    assert_eq!(node_proc.user.as_deref(), Some(current_user().as_str()));
    assert!(node_proc
        .listening
        .iter()
        .any(|l| l.port == 8080 && l.addr.to_string() == "127.0.0.1"));
    let served = node_proc
        .connections
        .iter()
        .find(|c| c.local_port == 8080)
        .expect("node holds curl's connection");
    assert_eq!(served.peer_pid, Some(curl.pid()));
    assert_eq!(served.role, Some(Role::Server));

    let curl_proc = snap
        .process(curl.pid())
        .expect("curl is in the --port 8080 result");
    let conn = curl_proc
        .connections
        .iter()
        .find(|c| c.remote_port == 8080)
        .expect("curl's connection");
    assert_eq!(conn.peer_pid, Some(node.pid()));
    assert_eq!(conn.peer_name.as_deref(), Some("node"));
    assert!(
        snap.processes
            .iter()
            .all(|p| p.listening.iter().any(|l| l.port == 8080)
                || p.connections
                    .iter()
                    .any(|c| c.local_port == 8080 || c.remote_port == 8080)),
        "only processes on port 8080 are listed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn table_format_shows_listening_port_and_connection_peers() {
    let (mut server, port) = tcp_server("127.0.0.1");
    let (client, _) = tcp_client(&mut server, "127.0.0.1", port);
    let (status, stdout, _) = wiretop(&[
        "snapshot",
        "--format",
        "table",
        "--port",
        &port.to_string(),
        "-s",
    ]);
    assert!(status.success());
    let mut lines = stdout.lines();
    let header = lines.next().unwrap();
    for column in ["PID", "USER", "CPU%", "RSS", "LISTEN", "CONNS", "COMMAND"] {
        assert!(header.contains(column), "header has {column}: {header}");
    }
    let server_row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{} ", server.pid())))
        .expect("server row");
    assert!(server_row.contains(&format!(":{port}")), "{server_row}");
    assert!(
        stdout.contains(&format!("-> 127.0.0.1:{port} ({}/python3)", server.pid())),
        "client's connection names the server: {stdout}"
    );
    assert!(stdout.contains(&format!("({}/python3)", client.pid())));
}

#[test]
fn pid_and_user_filters_narrow_the_result() {
    let (server, _) = tcp_server("127.0.0.1");
    let pid = server.pid().to_string();
    let (_, stdout, _) = wiretop(&["snapshot", "--format", "json", "--pid", &pid]);
    let snap = parse(&stdout);
    assert_eq!(snap.processes.len(), 1);
    assert_eq!(snap.processes[0].pid, server.pid());
    assert!(snap.host.counts.processes > 1, "host counts stay host-wide");

    let (_, stdout, _) = wiretop(&[
        "snapshot",
        "--format",
        "json",
        "--user",
        "no-such-user-here",
    ]);
    assert!(parse(&stdout).processes.is_empty());
    let (_, stdout, _) = wiretop(&["snapshot", "--format", "json", "--user", &current_user()]);
    let snap = parse(&stdout);
    assert!(snap.process(server.pid()).is_some());
}

#[test]
fn json_is_the_default_when_stdout_is_not_a_terminal() {
    let (status, stdout, _) = wiretop(&["snapshot"]);
    assert!(status.success());
    let snap = parse(&stdout);
    assert_eq!(snap.schema_version, wiretop::model::SCHEMA_VERSION);
    assert!(
        snap.host.cpu.is_some(),
        "one-shot snapshot has real CPU figures"
    );
    assert_eq!(stdout.lines().count(), 1, "one JSON document on one line");
}

#[test]
fn processes_only_mode_collects_no_sockets() {
    let (server, _) = tcp_server("127.0.0.1");
    let (_, stdout, _) = wiretop(&[
        "snapshot",
        "--no-connections",
        "--pid",
        &server.pid().to_string(),
    ]);
    let snap = parse(&stdout);
    assert!(!snap.collection.connections_collected);
    assert!(snap.processes[0].listening.is_empty());
}

#[test]
fn bad_arguments_exit_2_with_a_message_naming_the_problem() {
    let (status, _, stderr) = wiretop(&["snapshot", "--interval", "5ms"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("minimum interval"), "{stderr}");
    let (status, _, stderr) = wiretop(&["snapshot", "--format", "xml"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("xml"), "{stderr}");
}

#[test]
fn committed_schema_matches_the_model() {
    let (status, stdout, _) = wiretop(&["schema"]);
    assert!(status.success());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/snapshot.schema.json");
    if std::env::var_os("WIRETOP_UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &stdout).unwrap();
    }
    let committed = std::fs::read_to_string(path).expect("assets/snapshot.schema.json exists");
    assert_eq!(
        committed, stdout,
        "assets/snapshot.schema.json is stale: rerun with WIRETOP_UPDATE_SCHEMA=1"
    );
    for documented in [
        "peer_pid",
        "unowned_sockets",
        "schema_version",
        "container_id",
        "unexpected_reasons",
        "systemd_unit",
        "k8s",
        "unknown_reason",
    ] {
        assert!(committed.contains(documented));
    }
}

/// Unprivileged runs list everything, mark what they cannot read, and hint once.
#[test]
fn unprivileged_run_marks_unreadable_fields_and_sees_its_own_sockets() {
    if !common::not_run::runs_as_root(
        "unprivileged_run_marks_unreadable_fields_and_sees_its_own_sockets",
    ) {
        return;
    }
    let (root_server, _) = tcp_server("127.0.0.1");
    let mut own = common::as_nobody(PYTHON);
    own.arg("-c").arg(common::TCP_SERVER).arg("127.0.0.1");
    let mut own_server = Child::start(own);
    let own_port: u16 = own_server.line().parse().unwrap();
    // And a connection between two of the user's own processes.
    let mut client = common::as_nobody(PYTHON);
    client
        .arg("-c")
        .arg(common::TCP_CLIENT)
        .arg("127.0.0.1")
        .arg(own_port.to_string());
    let mut own_client = Child::start(client);
    let client_port: u16 = own_client.line().parse().unwrap();
    assert_eq!(own_server.line(), format!("accepted {client_port}"));

    let binary = common::NobodyBinary::new("nobody");
    let out = common::as_nobody(&binary.path)
        .args(["snapshot", "--format", "json"])
        .output()
        .expect("wiretop runs as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit 0 unprivileged: {stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("CAP_SYS_PTRACE"))
            .count(),
        1,
        "exactly one hint line: {stderr}"
    );
    let snap = parse(&String::from_utf8_lossy(&out.stdout));
    assert!(snap.collection.restricted);
    let root_proc = snap
        .process(root_server.pid())
        .expect("root's process is listed");
    assert_eq!(root_proc.user.as_deref(), Some("root"));
    assert!(
        root_proc.unreadable.contains_key("sockets"),
        "{:?}",
        root_proc.unreadable
    );
    assert!(root_proc.listening.is_empty());
    assert!(
        snap.unowned_sockets
            .iter()
            .any(|s| s.reason == "not_visible"),
        "root's sockets are kept, without an owner"
    );
    let mine = snap.process(own_server.pid()).expect("own process listed");
    assert!(mine.unreadable.is_empty(), "{:?}", mine.unreadable);
    assert!(
        mine.listening.iter().any(|l| l.port == own_port),
        "own socket with its owner"
    );
    // Both ends of the user's own connection, each under its owner and naming the other.
    let client = snap.process(own_client.pid()).expect("own client listed");
    let outbound = client
        .connections
        .iter()
        .find(|c| c.local_port == client_port)
        .unwrap_or_else(|| panic!("client's connection: {:?}", client.connections));
    assert_eq!(outbound.peer_pid, Some(own_server.pid()));
    let inbound = mine
        .connections
        .iter()
        .find(|c| c.remote_port == client_port)
        .unwrap_or_else(|| panic!("server's accepted connection: {:?}", mine.connections));
    assert_eq!(inbound.peer_pid, Some(own_client.pid()));
    // Traffic figures need no privilege in the user's own namespace: the sock_diag dump
    // carries every socket's counters.
    for c in [outbound, inbound] {
        assert_eq!(c.traffic.traffic_unavailable, None, "{c:?}");
        assert_eq!(c.traffic.bytes_sent, Some(0), "{c:?}");
        assert!(c.traffic.rtt_ms.is_some(), "{c:?}");
    }
    assert_eq!(mine.net_send_bytes_per_sec, Some(0.0));
    assert!(snap.collection.traffic_unavailable.is_empty());
}
