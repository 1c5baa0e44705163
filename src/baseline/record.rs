//! Recording a baseline from one snapshot: what ran, what listened, where it connected.

use std::collections::BTreeSet;

use super::{
    destination, exe_of, user_of, Baseline, ExecutableEntry, ListeningEntry, OutboundEntry,
    Wildcard,
};
use crate::model::{unmap, Network, Snapshot};

impl Baseline {
    /// Everything `snapshot` shows running, listening and connecting, kernel threads left out,
    /// each entry once and every list sorted (by executable first), saved at the snapshot's time.
    pub fn from_snapshot(snapshot: &Snapshot) -> Baseline {
        let mut executables = BTreeSet::new();
        let mut listening = BTreeSet::new();
        let mut outbound = BTreeSet::new();
        for process in snapshot.processes.iter().filter(|p| !p.kernel_thread) {
            let exe = exe_of(process);
            executables.insert(ExecutableEntry {
                exe: exe.to_owned(),
                user: Wildcard::Only(user_of(process).into_owned()),
            });
            for socket in &process.listening {
                listening.insert(ListeningEntry {
                    exe: exe.to_owned(),
                    proto: Wildcard::Only(socket.proto),
                    port: Wildcard::Only(socket.port),
                    address: Wildcard::Only(Network::single(unmap(socket.addr))),
                });
            }
            for (address, port) in process.connections.iter().filter_map(destination) {
                outbound.insert(OutboundEntry {
                    exe: exe.to_owned(),
                    port: Wildcard::Only(port),
                    address: Wildcard::Only(Network::single(address)),
                });
            }
        }
        Baseline {
            saved_at_ms: Some(snapshot.start_clock_ms()),
            executables: executables.into_iter().collect(),
            listening: listening.into_iter().collect(),
            outbound: outbound.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Connection, Direction, Family, Listening, Process, Proto, Role};

    fn listener(port: u16) -> Listening {
        Listening {
            proto: Proto::Tcp,
            family: Family::Ipv4,
            addr: [0, 0, 0, 0].into(),
            port,
            inode: u64::from(port),
            netns: None,
        }
    }

    fn process(pid: u32, exe: Option<&str>, user: Option<&str>) -> Process {
        let mut process = Process::example(pid, "nobody");
        process.exe = exe.map(str::to_owned);
        process.user = user.map(str::to_owned);
        process.uid = 1000 + pid;
        process
    }

    #[test]
    fn each_executable_port_and_destination_is_recorded_once_in_order() {
        let mut web_a = process(10, Some("/usr/sbin/nginx"), Some("www-data"));
        web_a.listening = vec![listener(443), listener(80)];
        // The client end of a loopback connection is a destination; the server end is not.
        web_a.connections = vec![
            Connection::example_loopback(40000, 8080, Role::Client, (30, "app"), 1),
            Connection::example_loopback(443, 50000, Role::Server, (99, "curl"), 2),
        ];
        let mut web_b = process(11, Some("/usr/sbin/nginx"), Some("www-data"));
        web_b.listening = vec![listener(80)];
        web_b.connections = vec![Connection::example_loopback(
            40001,
            8080,
            Role::Client,
            (30, "app"),
            3,
        )];
        let mut remote = Connection::example_loopback(40002, 5432, Role::Client, (0, ""), 4);
        remote.remote_addr = "::ffff:10.0.0.7".parse().unwrap();
        remote.direction = Direction::Outbound;
        let mut app = process(30, Some("/srv/app"), None);
        app.connections = vec![remote];
        let unreadable = process(40, None, Some("postgres"));
        let mut kernel = process(2, None, Some("root"));
        kernel.kernel_thread = true;
        kernel.name = "kthreadd".to_owned();

        let snapshot = Snapshot::example(vec![web_b, app, kernel, unreadable, web_a]);
        let baseline = Baseline::from_snapshot(&snapshot);

        let executables: Vec<(&str, String)> = baseline
            .executables
            .iter()
            .map(|e| (e.exe.as_str(), e.user.to_string()))
            .collect();
        assert_eq!(
            executables,
            [
                ("/srv/app", "1030".to_owned()),
                ("/usr/sbin/nginx", "www-data".to_owned()),
                ("proc40", "postgres".to_owned()),
            ]
        );
        let listening: Vec<(&str, String, String, String)> = baseline
            .listening
            .iter()
            .map(|l| {
                (
                    l.exe.as_str(),
                    l.proto.to_string(),
                    l.port.to_string(),
                    l.address.to_string(),
                )
            })
            .collect();
        let any_v4 = "0.0.0.0".to_owned();
        assert_eq!(
            listening,
            [
                ("/usr/sbin/nginx", "tcp".into(), "80".into(), any_v4.clone()),
                ("/usr/sbin/nginx", "tcp".into(), "443".into(), any_v4),
            ]
        );
        let outbound: Vec<(&str, String, String)> = baseline
            .outbound
            .iter()
            .map(|o| (o.exe.as_str(), o.port.to_string(), o.address.to_string()))
            .collect();
        assert_eq!(
            outbound,
            [
                ("/srv/app", "5432".into(), "10.0.0.7".into()),
                ("/usr/sbin/nginx", "8080".into(), "127.0.0.1".into()),
            ]
        );
        assert_eq!(baseline.saved_at_ms, Some(snapshot.start_clock_ms()));
    }
}
