use std::net::IpAddr;

use super::*;
use crate::model::{Connection, Direction, Family, Listening, Proto, Role};

/// The baseline every case is judged against, as an operator would write it.
const BASELINE: &str = "\
version: 1
executables:
  - { exe: /usr/sbin/sshd, user: root }
  - { exe: /usr/sbin/nginx, user: www-data }
  - { exe: /usr/bin/python3, user: '*' }
  - { exe: /srv/app, user: 1000 }
  - { exe: cron, user: root }
  - { exe: /usr/lib/systemd/systemd-networkd, user: systemd-network }
listening:
  - { exe: /usr/sbin/sshd, proto: tcp, port: 22 }
  - { exe: /usr/sbin/nginx, proto: tcp, port: 443, address: 0.0.0.0 }
  - { exe: /usr/sbin/nginx, proto: udp, port: 443, address: 127.0.0.0/8 }
  - { exe: /usr/bin/python3, proto: '*', port: 8000 }
outbound:
  - { exe: /usr/sbin/nginx, port: 8080, address: 127.0.0.1 }
  - { exe: /usr/sbin/nginx, port: 9000, address: '::ffff:10.0.0.9' }
  - { exe: /usr/bin/python3, port: 443, address: 0.0.0.0/0 }
  - { exe: /srv/app, port: '*', address: 10.0.0.0/8 }
  - { exe: /srv/app, address: '2001:db8::/32' }
  - { exe: /usr/sbin/sshd, address: '::/0' }
";

fn baseline() -> Baseline {
    super::super::load_text(BASELINE)
}

fn process(exe: Option<&str>, name: &str, user: &str, uid: u32) -> Process {
    let mut process = Process::example(100, user);
    process.exe = exe.map(str::to_owned);
    process.name = name.to_owned();
    process.uid = uid;
    process
}

fn listening(proto: Proto, addr: &str, port: u16) -> Listening {
    let addr: IpAddr = addr.parse().unwrap();
    Listening {
        proto,
        family: if addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        },
        addr,
        port,
        inode: 1,
        netns: None,
    }
}

fn connecting(addr: &str, port: u16, role: Role) -> Connection {
    let mut connection = Connection::example_loopback(40000, port, role, (1, "peer"), 2);
    connection.remote_addr = addr.parse().unwrap();
    connection.family = Family::Ipv4;
    if !connection.remote_addr.is_loopback() {
        connection.direction = Direction::Outbound;
    }
    connection
}

fn executable(exe: &str, user: &str) -> UnexpectedReason {
    UnexpectedReason::Executable {
        exe: exe.to_owned(),
        user: user.to_owned(),
    }
}

fn listens(proto: Proto, addr: &str, port: u16) -> UnexpectedReason {
    UnexpectedReason::Listening {
        proto,
        address: addr.parse().unwrap(),
        port,
    }
}

fn outbound(addr: &str, port: u16) -> UnexpectedReason {
    UnexpectedReason::Outbound {
        proto: Proto::Tcp,
        address: addr.parse().unwrap(),
        port,
    }
}

fn reasons(process: Process) -> Vec<UnexpectedReason> {
    let snapshot = Snapshot::example(vec![process]);
    let judgement = baseline().judge(&snapshot);
    judgement.verdicts()[0].reasons.clone()
}

#[test]
fn executables_are_matched_by_path_and_user() {
    let sshd = || process(Some("/usr/sbin/sshd"), "sshd", "root", 0);
    let cases: [(&str, Process, Vec<UnexpectedReason>); 7] = [
        ("listed", sshd(), vec![]),
        (
            "another user",
            process(Some("/usr/sbin/sshd"), "sshd", "mallory", 1001),
            vec![executable("/usr/sbin/sshd", "mallory")],
        ),
        (
            "the same name at another path",
            process(Some("/tmp/sshd"), "sshd", "root", 0),
            vec![executable("/tmp/sshd", "root")],
        ),
        (
            "an executable replaced since it started",
            process(Some("/usr/sbin/sshd (deleted)"), "sshd", "root", 0),
            vec![executable("/usr/sbin/sshd (deleted)", "root")],
        ),
        (
            "`*` for any user",
            process(Some("/usr/bin/python3"), "python3", "anyone", 4321),
            vec![],
        ),
        (
            "a user given by uid",
            process(Some("/srv/app"), "app", "deploy", 1000),
            vec![],
        ),
        (
            "a user with no name is its uid",
            {
                let mut app = process(Some("/srv/app"), "app", "x", 1000);
                app.user = None;
                app
            },
            vec![],
        ),
    ];
    for (case, process, expected) in cases {
        assert_eq!(reasons(process), expected, "{case}");
    }
}

#[test]
fn an_unreadable_executable_falls_back_to_the_process_name() {
    let cases: [(&str, Process, Vec<UnexpectedReason>); 5] = [
        ("a name entry", process(None, "cron", "root", 0), vec![]),
        (
            "a path whose file name is the name",
            process(None, "sshd", "root", 0),
            vec![],
        ),
        (
            "a path whose file name the kernel cut to 15 bytes",
            process(None, "systemd-network", "systemd-network", 101),
            vec![],
        ),
        (
            "a name listed for another user",
            process(None, "sshd", "mallory", 1001),
            vec![executable("sshd", "mallory")],
        ),
        (
            "a name nothing has",
            process(None, "miner", "root", 0),
            vec![executable("miner", "root")],
        ),
    ];
    for (case, process, expected) in cases {
        assert_eq!(reasons(process), expected, "{case}");
    }
    // A name entry never stands for a process whose path is known.
    assert_eq!(
        reasons(process(Some("/tmp/cron"), "cron", "root", 0)),
        vec![executable("/tmp/cron", "root")]
    );
}

#[test]
fn listeners_are_matched_by_protocol_port_and_address() {
    let nginx = |sockets: Vec<Listening>| {
        let mut p = process(Some("/usr/sbin/nginx"), "nginx", "www-data", 33);
        p.listening = sockets;
        p
    };
    let cases = [
        (
            "listed",
            nginx(vec![
                listening(Proto::Tcp, "0.0.0.0", 443),
                listening(Proto::Udp, "127.0.0.53", 443),
            ]),
            vec![],
        ),
        (
            "another port",
            nginx(vec![listening(Proto::Tcp, "0.0.0.0", 8443)]),
            vec![listens(Proto::Tcp, "0.0.0.0", 8443)],
        ),
        (
            "another protocol",
            nginx(vec![listening(Proto::Udp, "0.0.0.0", 443)]),
            vec![listens(Proto::Udp, "0.0.0.0", 443)],
        ),
        (
            "exposed on every IPv6 address, where only 0.0.0.0 is listed",
            nginx(vec![listening(Proto::Tcp, "::", 443)]),
            vec![listens(Proto::Tcp, "::", 443)],
        ),
        (
            "outside the block",
            nginx(vec![listening(Proto::Udp, "10.0.0.1", 443)]),
            vec![listens(Proto::Udp, "10.0.0.1", 443)],
        ),
    ];
    for (case, process, expected) in cases {
        assert_eq!(reasons(process), expected, "{case}");
    }
    let mut sshd = process(Some("/usr/sbin/sshd"), "sshd", "root", 0);
    sshd.listening = vec![
        listening(Proto::Tcp, "0.0.0.0", 22),
        listening(Proto::Tcp, "::", 22),
    ];
    assert_eq!(reasons(sshd), vec![], "no address: any address");
    let mut python = process(Some("/usr/bin/python3"), "python3", "x", 5);
    python.listening = vec![
        listening(Proto::Udp, "::1", 8000),
        listening(Proto::Tcp, "127.0.0.1", 8000),
    ];
    assert_eq!(reasons(python), vec![], "`*` for either protocol");
}

#[test]
fn destinations_are_matched_by_port_and_address_or_block() {
    let app = |connections: Vec<Connection>| {
        let mut p = process(Some("/srv/app"), "app", "deploy", 1000);
        p.connections = connections;
        p
    };
    let python = |connections: Vec<Connection>| {
        let mut p = process(Some("/usr/bin/python3"), "python3", "x", 5);
        p.connections = connections;
        p
    };
    let cases = [
        (
            "any port in the block",
            app(vec![
                connecting("10.1.2.3", 5432, Role::Client),
                connecting("10.9.9.9", 6379, Role::Client),
            ]),
            vec![],
        ),
        (
            "outside the block",
            app(vec![connecting("192.0.2.1", 5432, Role::Client)]),
            vec![outbound("192.0.2.1", 5432)],
        ),
        (
            "loopback is a destination like any other",
            app(vec![connecting("127.0.0.1", 5432, Role::Client)]),
            vec![outbound("127.0.0.1", 5432)],
        ),
        (
            "a block with the port left out: any port",
            app(vec![connecting("2001:db8::1", 22, Role::Client)]),
            vec![],
        ),
        (
            "0.0.0.0/0 on 443 is any IPv4 address on 443",
            python(vec![
                connecting("203.0.113.9", 443, Role::Client),
                connecting("198.51.100.1", 443, Role::Client),
            ]),
            vec![],
        ),
        (
            "but not another port, reported once for two connections",
            python(vec![
                connecting("203.0.113.9", 8443, Role::Client),
                connecting("203.0.113.9", 8443, Role::Client),
            ]),
            vec![outbound("203.0.113.9", 8443)],
        ),
        (
            "an IPv4-mapped address is its IPv4 address",
            python(vec![connecting("::ffff:203.0.113.9", 443, Role::Client)]),
            vec![],
        ),
        (
            "an entry written as an IPv4-mapped address is that IPv4 address",
            {
                let mut nginx = process(Some("/usr/sbin/nginx"), "nginx", "www-data", 33);
                nginx.connections = vec![
                    connecting("10.0.0.9", 9000, Role::Client),
                    connecting("127.0.0.1", 8080, Role::Client),
                ];
                nginx
            },
            vec![],
        ),
        (
            "the accepting end of a connection is no destination",
            python(vec![connecting("192.0.2.7", 51234, Role::Server)]),
            vec![],
        ),
    ];
    for (case, process, expected) in cases {
        assert_eq!(reasons(process), expected, "{case}");
    }
    // `::/0` is every address, IPv4 ones included (as their mapped form, ::ffff:a.b.c.d).
    let mut sshd = process(Some("/usr/sbin/sshd"), "sshd", "root", 0);
    sshd.connections = vec![
        connecting("192.0.2.1", 22, Role::Client),
        connecting("2001:db8::1", 22, Role::Client),
    ];
    assert_eq!(reasons(sshd), vec![]);
}

#[test]
fn every_reason_is_listed_in_order_and_kernel_threads_have_none() {
    let mut stranger = process(Some("/tmp/x"), "x", "root", 0);
    stranger.listening = vec![listening(Proto::Tcp, "0.0.0.0", 4444)];
    stranger.connections = vec![connecting("192.0.2.1", 443, Role::Client)];
    assert_eq!(
        reasons(stranger),
        vec![
            executable("/tmp/x", "root"),
            listens(Proto::Tcp, "0.0.0.0", 4444),
            outbound("192.0.2.1", 443),
        ]
    );
    let mut kworker = process(None, "kworker/0:1", "root", 0);
    kworker.kernel_thread = true;
    assert_eq!(reasons(kworker), vec![]);
}

#[test]
fn a_judgement_is_written_into_the_snapshot_it_was_made_for() {
    let expected = process(Some("/usr/sbin/sshd"), "sshd", "root", 0);
    let mut stranger = process(Some("/tmp/x"), "x", "root", 0);
    stranger.pid = 200;
    let mut snapshot = Snapshot::example(vec![stranger, expected]);
    let judgement = baseline().judge(&snapshot);
    assert_eq!(judgement.unexpected_count(), 1);
    assert!(judgement.verdict(200, 0).is_some_and(Verdict::unexpected));
    assert_eq!(
        judgement.verdict(200, 1),
        None,
        "a reused pid is another process"
    );
    judgement.apply(&mut snapshot);
    let marks: Vec<(u32, Option<bool>, usize)> = snapshot
        .processes
        .iter()
        .map(|p| (p.pid, p.unexpected, p.unexpected_reasons.len()))
        .collect();
    assert_eq!(marks, [(100, Some(false), 0), (200, Some(true), 1)]);
}
