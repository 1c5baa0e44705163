//! Sockets inside other network namespaces (containers) are found and tagged.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::process::Command;

use common::{process, snapshot, Child, PYTHON, TCP_SERVER};

/// A network namespace made for one test, deleted afterwards.
struct NetNs(String);

impl NetNs {
    /// The namespace, or why the kernel refuses network namespaces here. Any other failure
    /// (no `ip`, a broken iproute2, a name clash) fails the test rather than skipping it.
    fn create() -> Result<NetNs, String> {
        let name = format!("wiretop-test-{}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .unwrap_or_else(|e| panic!("ip not runnable ({e}); .ci/setup installs iproute2"));
        if !out.status.success() {
            let ip_error = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            // Does the kernel itself refuse? `unshare --net` asks it directly.
            let probe = Command::new("unshare")
                .args(["--net", "true"])
                .output()
                .unwrap_or_else(|e| {
                    panic!("unshare not runnable ({e}); .ci/setup installs util-linux")
                });
            if probe.status.success() {
                panic!("ip netns add {name} failed although the kernel allows network namespaces: {ip_error}");
            }
            return Err(format!(
                "{ip_error}; unshare --net: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        let ns = NetNs(name);
        // Loopback starts down in a new namespace.
        let up = Command::new("ip")
            .args(["netns", "exec", &ns.0, "ip", "link", "set", "lo", "up"])
            .status()
            .map_err(|e| e.to_string())?;
        assert!(up.success(), "bringing lo up in {}", ns.0);
        Ok(ns)
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn netns_of(pid: u32) -> u64 {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    let link = link.to_string_lossy();
    link.trim_start_matches("net:[")
        .trim_end_matches(']')
        .parse()
        .unwrap()
}

#[test]
fn server_in_another_network_namespace_is_listed_with_its_namespace() {
    let ns = match NetNs::create() {
        Ok(ns) => ns,
        Err(reason) => {
            // Only where the kernel or sandbox refuses namespaces outright.
            let needs = format!("network namespaces ({reason})");
            common::not_run::runs_here(
                "server_in_another_network_namespace_is_listed_with_its_namespace",
                false,
                &needs,
            );
            return;
        }
    };
    let mut command = Command::new("ip");
    command.args([
        "netns",
        "exec",
        &ns.0,
        PYTHON,
        "-c",
        TCP_SERVER,
        "127.0.0.1",
    ]);
    let mut server = Child::start(command);
    let port: u16 = server.line().parse().unwrap();
    // `ip netns exec` execs the interpreter, so the child's pid is the server's.
    let server_ns = netns_of(server.pid());
    assert_ne!(
        server_ns,
        netns_of(std::process::id()),
        "server runs in its own namespace"
    );

    let snap = snapshot();
    let p = process(&snap, server.pid());
    assert_eq!(p.netns, Some(server_ns));
    let listening = p
        .listening
        .iter()
        .find(|l| l.port == port)
        .unwrap_or_else(|| panic!("listener in namespace {server_ns} found: {:?}", p.listening));
    assert_eq!(listening.netns, Some(server_ns));
    assert!(snap.collection.network_namespaces.contains(&server_ns));
}
