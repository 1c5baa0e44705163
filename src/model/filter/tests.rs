//! Behaviour of the filter language through its public API: each term kind against two
//! contrasting processes, combination and negation, and every error with its message.

use std::net::IpAddr;

use super::{Filter, FilterError};
use crate::model::{
    Connection, CpuUsage, Direction, Family, Listening, Process, ProcessMemory, ProcessState,
    Proto, Role, SocketState, Traffic, TrafficGap,
};

const MIB: u64 = 1024 * 1024;
const MIB_F: f64 = MIB as f64;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn listener(proto: Proto, addr: &str, port: u16) -> Listening {
    Listening {
        proto,
        family: Family::Ipv4,
        addr: ip(addr),
        port,
        inode: 1,
        netns: None,
    }
}

fn connection(local: (&str, u16), remote: (&str, u16), state: SocketState) -> Connection {
    Connection {
        proto: Proto::Tcp,
        family: Family::Ipv4,
        local_addr: ip(local.0),
        local_port: local.1,
        remote_addr: ip(remote.0),
        remote_port: remote.1,
        state,
        direction: Direction::Inbound,
        role: None,
        inode: 2,
        netns: None,
        peer_pid: None,
        peer_name: None,
        traffic: crate::model::Traffic::default(),
    }
}

/// A busy web server: listens on TCP 8080 and UDP 5353, serves a remote client (1.5 MiB/s out,
/// 256 KiB/s in, rtt 120 ms, 3 retransmits), talks to a local database (fast, no retransmits)
/// and has a lingering IPv6 connection (TIME_WAIT: no figures).
fn web() -> Process {
    let mut p = Process::example(4242, "www-data");
    p.name = "nginx".into();
    p.ppid = 1;
    p.uid = 33;
    p.cmdline = vec!["/usr/sbin/nginx".into(), "-g".into(), "daemon off;".into()];
    p.state = ProcessState::Running;
    p.threads = 4;
    p.cpu = Some(CpuUsage {
        total_pct: 12.5,
        user_pct: 10.0,
        system_pct: 2.5,
    });
    p.memory = ProcessMemory {
        rss_bytes: 150 * MIB,
        virtual_bytes: 600 * MIB,
        percent: 3.2,
    };
    p.fd_count = Some(64);
    p.listening = vec![
        listener(Proto::Tcp, "0.0.0.0", 8080),
        listener(Proto::Udp, "0.0.0.0", 5353),
    ];
    let mut to_db = connection(
        ("127.0.0.1", 40000),
        ("127.0.0.1", 5432),
        SocketState::Established,
    );
    to_db.peer_pid = Some(777);
    to_db.peer_name = Some("Postgres".into());
    to_db.traffic = Traffic::example(4096.0, 8192.0, 0.05, 0);
    let mut client = connection(
        ("10.0.0.2", 8080),
        ("10.0.0.5", 51000),
        SocketState::Established,
    );
    client.traffic = Traffic::example(1.5 * MIB_F, 0.25 * MIB_F - 8192.0, 120.0, 3);
    let mut lingering = connection(
        ("2001:db8::2", 8081),
        ("fe80::1", 443),
        SocketState::TimeWait,
    );
    lingering.traffic = Traffic::unavailable(TrafficGap::NotReported);
    p.connections = vec![client, to_db, lingering];
    // What the sampler sums the connections' rates to.
    p.net_send_bytes_per_sec = Some(1.5 * MIB_F + 4096.0);
    p.net_recv_bytes_per_sec = Some(0.25 * MIB_F);
    p
}

/// A quiet root daemon with no sockets, no CPU reading yet and unreadable fds.
fn quiet() -> Process {
    let mut p = Process::example(99, "root");
    p.name = "cron".into();
    p.uid = 0;
    p.cmdline = vec!["/usr/sbin/cron".into(), "-f".into()];
    p
}

/// Checks each `(filter, matches web, matches quiet)` row.
fn check(cases: &[(&str, bool, bool)]) {
    let (web, quiet) = (web(), quiet());
    for &(text, on_web, on_quiet) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("`{text}` failed: {e}"));
        assert_eq!(filter.matches(&web), on_web, "`{text}` on web");
        assert_eq!(filter.matches(&quiet), on_quiet, "`{text}` on quiet");
    }
}

fn error(text: &str) -> FilterError {
    match Filter::parse(text) {
        Ok(filter) => panic!("`{text}` parsed as {filter:?}"),
        Err(e) => e,
    }
}

#[test]
fn empty_or_blank_text_is_the_empty_filter_and_matches_everything() {
    for text in ["", " ", "  \t\n ", "\"\""] {
        let filter = Filter::parse(text).unwrap();
        assert!(filter.is_empty(), "`{text}`");
        assert_eq!(filter, Filter::default(), "`{text}`");
        assert!(
            filter.matches(&web()) && filter.matches(&quiet()),
            "`{text}`"
        );
    }
    assert!(!Filter::parse("nginx").unwrap().is_empty());
}

#[test]
fn bare_word_searches_name_cmdline_user_pid_and_listening_port() {
    check(&[
        ("nginx", true, false),
        ("ngi", true, false),
        ("cron", false, true),
        ("sbin", true, true),
        ("daemon", true, false),
        ("\"daemon off\"", true, false),
        ("\"-g daemon\"", true, false),
        ("\"nginx -g daemon off;\"", true, false),
        ("\"off -g\"", false, false),
        ("www", true, false),
        ("root", false, true),
        ("4242", true, false),
        ("424", true, false),
        ("99", false, true),
        ("8080", true, false),
        (":8080", true, false),
        (":5353", true, false),
        (":80", false, false),
        ("5432", false, false),
        ("apache", false, false),
    ]);
}

#[test]
fn matching_ignores_case_in_words_fields_values_and_states() {
    check(&[
        ("NGINX", true, false),
        ("Daemon", true, false),
        ("NAME:Nginx", true, false),
        ("User:WWW-DATA", true, false),
        ("peer:postgres", true, false),
        ("peer:POSTGRES", true, false),
        ("STATE:Listen", true, false),
        ("state:r", true, false),
        ("MEM>100m", true, false),
    ]);
}

#[test]
fn port_term_matches_listening_ports_and_either_connection_end() {
    check(&[
        ("port:8080", true, false),
        ("port::8080", true, false),
        ("port:5353", true, false),
        ("port:40000", true, false),
        ("port:5432", true, false),
        ("port:51000", true, false),
        ("port:443", true, false),
        ("port:80", false, false),
        ("port:5000-5400", true, false),
        ("port:1-79", false, false),
        ("port:0-65535", true, false),
    ]);
}

#[test]
fn user_pid_ppid_and_name_terms_match_their_field() {
    check(&[
        ("user:www-data", true, false),
        ("user:www", false, false),
        ("user:root", false, true),
        ("user:33", true, false),
        ("user:0", false, true),
        ("user:1000", false, false),
        ("pid:4242", true, false),
        ("pid:424", false, false),
        ("pid:99", false, true),
        ("ppid:1", true, true),
        ("ppid:4242", false, false),
        ("name:ngi", true, false),
        ("name:cron", false, true),
        ("name:sbin", false, false),
        ("name:\"cro\"", false, true),
    ]);
}

#[test]
fn socket_state_terms_match_held_sockets_in_any_spelling() {
    check(&[
        ("state:listen", true, false),
        ("state:LISTEN", true, false),
        ("state:unconn", true, false),
        ("state:established", true, false),
        ("state:time_wait", true, false),
        ("state:time-wait", true, false),
        ("state:TIME_WAIT", true, false),
        ("state:timewait", true, false),
        ("state:syn_sent", false, false),
        ("state:close_wait", false, false),
        ("state:fin_wait1", false, false),
    ]);
    let mut connecting = quiet();
    connecting.connections = vec![connection(
        ("10.0.0.2", 40000),
        ("10.0.0.9", 443),
        SocketState::SynSent,
    )];
    for text in [
        "state:syn_sent",
        "state:syn-sent",
        "state:SYN_SENT",
        "state:synsent",
    ] {
        assert!(Filter::parse(text).unwrap().matches(&connecting), "{text}");
    }
    assert!(!Filter::parse("state:listen").unwrap().matches(&connecting));
}

#[test]
fn listen_state_counts_a_bound_udp_socket_and_unconn_only_udp() {
    let mut udp_only = quiet();
    udp_only.listening = vec![listener(Proto::Udp, "0.0.0.0", 53)];
    let mut tcp_only = quiet();
    tcp_only.listening = vec![listener(Proto::Tcp, "0.0.0.0", 22)];
    let listen = Filter::parse("state:listen").unwrap();
    let unconn = Filter::parse("state:unconn").unwrap();
    assert!(listen.matches(&udp_only) && listen.matches(&tcp_only));
    assert!(unconn.matches(&udp_only) && !unconn.matches(&tcp_only));
}

#[test]
fn process_state_terms_accept_names_and_ps_letters() {
    use ProcessState::*;
    let cases: [(ProcessState, &[&str]); 9] = [
        (Running, &["state:running", "state:R", "state:r"]),
        (Sleeping, &["state:sleeping", "state:S"]),
        (
            DiskSleep,
            &["state:disk_sleep", "state:disk-sleep", "state:D"],
        ),
        (Zombie, &["state:zombie", "state:Z"]),
        (Stopped, &["state:stopped", "state:T", "state:t"]),
        (
            TracingStop,
            &["state:tracing_stop", "state:stopped", "state:T", "state:t"],
        ),
        (Idle, &["state:idle", "state:I"]),
        (Dead, &["state:dead", "state:X"]),
        (Parked, &["state:parked", "state:P"]),
    ];
    let all_terms: Vec<&str> = cases
        .iter()
        .flat_map(|(_, texts)| texts.iter().copied())
        .collect();
    for (state, texts) in cases {
        let mut p = quiet();
        p.state = state;
        for text in &all_terms {
            let expected = texts.contains(text);
            let got = Filter::parse(text).unwrap().matches(&p);
            assert_eq!(got, expected, "`{text}` on a {state:?} process");
        }
    }
}

#[test]
fn remote_term_matches_connection_addresses_and_networks_of_both_families() {
    check(&[
        ("remote:10.0.0.5", true, false),
        ("remote:10.0.0.6", false, false),
        ("remote:10.0.0.0/8", true, false),
        ("remote:10.0.0.0/29", true, false),
        ("remote:10.0.0.0/30", false, false),
        ("remote:10.0.0.0/32", false, false),
        ("remote:192.168.0.0/16", false, false),
        ("remote:127.0.0.1", true, false),
        ("remote:0.0.0.0/0", true, false),
        ("remote:fe80::1", true, false),
        ("remote:FE80::/10", true, false),
        ("remote:::1", false, false),
        ("remote:2001:db8::/32", false, false),
        ("remote:::ffff:10.0.0.5", true, false),
        // Local addresses are not remote ones.
        ("remote:10.0.0.2", false, false),
    ]);
}

/// `web` in `nginx.service`, in the container `web-1` (image `nginx:1.27`) of the pod
/// `checkout-7f9c` in `prod`; a sibling container whose name is unknown, by id alone.
fn attributed() -> (Process, Process) {
    let mut web = web();
    web.attribution = crate::model::Attribution {
        systemd_unit: Some("nginx.service".into()),
        systemd_slice: Some("system.slice".into()),
        container: Some(crate::model::Container {
            id: "3f2a9c".repeat(10) + "abcd",
            runtime: Some(crate::model::ContainerRuntime::Docker),
            name: Some("web-1".into()),
            image: Some("nginx:1.27".into()),
            unknown_reason: None,
        }),
        k8s: Some(crate::model::KubernetesPod {
            pod_uid: "0b5e".into(),
            pod: Some("checkout-7f9c".into()),
            namespace: Some("prod".into()),
            container: Some("web".into()),
            unknown_reason: None,
        }),
    };
    let mut unnamed = quiet();
    unnamed.attribution.container = Some(crate::model::Container {
        id: "be11".repeat(16),
        runtime: None,
        name: None,
        image: None,
        unknown_reason: Some("no API socket".into()),
    });
    (web, unnamed)
}

#[test]
fn unit_container_pod_and_image_terms_match_the_attribution() {
    let (web, unnamed) = attributed();
    let plain = quiet();
    // (filter, web, the unnamed container, a process outside any unit or container)
    let cases = [
        ("unit:nginx.service", true, false, false),
        ("unit:NGINX", true, false, false),
        ("unit:postgres", false, false, false),
        ("container:web", true, false, false),
        ("container:3F2A9C3f", true, false, false),
        ("container:be11be11", false, true, false),
        ("container:2a9c", false, false, false),
        ("pod:checkout", true, false, false),
        ("pod:prod/checkout", true, false, false),
        ("pod:staging/checkout", false, false, false),
        ("pod:prod", false, false, false),
        ("image:nginx", true, false, false),
        ("image:1.27", true, false, false),
        ("image:redis", false, false, false),
        ("!container:web", false, true, true),
    ];
    for (text, on_web, on_unnamed, on_plain) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("`{text}`: {e}"));
        assert_eq!(filter.matches(&web), on_web, "`{text}` on web");
        assert_eq!(filter.matches(&unnamed), on_unnamed, "`{text}` on unnamed");
        assert_eq!(filter.matches(&plain), on_plain, "`{text}` on plain");
    }
}

#[test]
fn peer_term_matches_peer_name_substring_or_peer_pid() {
    check(&[
        ("peer:post", true, false),
        ("peer:gres", true, false),
        ("peer:777", true, false),
        ("peer:778", false, false),
        ("peer:nginx", false, false),
    ]);
}

#[test]
fn comparisons_read_their_figure_and_unknown_figures_never_match() {
    check(&[
        ("cpu>5", true, false),
        ("cpu<5", false, false),
        ("cpu>=12.5", true, false),
        ("cpu<=12.5", true, false),
        ("cpu=12.5", true, false),
        ("cpu==12.5", true, false),
        ("cpu!=12.5", false, false),
        ("cpu>12.5", false, false),
        ("cpu>5%", true, false),
        ("mem>100M", true, false),
        ("mem<100M", false, true),
        ("mem>=150MiB", true, false),
        ("mem>150m", false, false),
        ("mem>0.1G", true, false),
        ("mem>153600K", false, false),
        ("mem>=157286400", true, false),
        ("mem>3%", true, false),
        ("mem>5%", false, false),
        ("mem<1%", false, true),
        ("threads>3", true, false),
        ("threads=1", false, true),
        ("conns>2", true, false),
        ("conns=0", false, true),
        ("conns>=3", true, false),
        ("fds>10", true, false),
        ("fds<=64", true, false),
        ("fds<10", false, false),
    ]);
}

#[test]
fn rate_terms_compare_tcp_bytes_per_second_with_size_units() {
    // web: 1.5 MiB/s + 4 KiB/s sent, 256 KiB/s received, 1.75 MiB/s + 4 KiB/s both ways.
    // quiet: never measured, so no rate comparison holds for it.
    check(&[
        ("rate>1M", true, false),
        ("rate>1.75M", true, false),
        ("rate>1795K", true, false),
        ("rate>1796K", false, false),
        ("rate>=1796K", true, false),
        ("rate<2M", true, false),
        ("rate<=1MiB", false, false),
        ("rate>=1839104", true, false),
        ("rate=1839104", true, false),
        ("rate!=1839104", false, false),
        ("rate>1M/s", true, false),
        ("rate>1MiB/S", true, false),
        ("rate>0.001G", true, false),
        ("RATE>1m", true, false),
        ("tx>1.5M", true, false),
        ("tx>1.6M", false, false),
        ("rx>=256K", true, false),
        ("rx>256K", false, false),
        ("rx<1M", true, false),
        ("rx<1G/s", true, false),
        ("tx>0", true, false),
        ("rate>=0", true, false),
    ]);
}

#[test]
fn rtt_and_retrans_match_when_any_one_connection_compares_so() {
    // web: the client connection has rtt 120 ms and 3 retransmits, the database one 0.05 ms and
    // none, the TIME_WAIT one no figures. quiet has no connections.
    check(&[
        ("rtt>100ms", true, false),
        ("rtt>100", true, false),
        ("rtt>0.1s", true, false),
        ("rtt>120ms", false, false),
        ("rtt>=120", true, false),
        ("rtt<1ms", true, false),
        ("rtt<100us", true, false),
        ("rtt<50us", false, false),
        ("rtt<=50µs", true, false),
        ("RTT>100MS", true, false),
        ("rtt>1s", false, false),
        ("retrans>0", true, false),
        ("retrans=0", true, false),
        ("retrans>=3", true, false),
        ("retrans>3", false, false),
        ("retrans=1", false, false),
        // Per connection, not summed or averaged over the process.
        ("rtt>60ms rtt<60ms", true, false),
        ("retrans=3 retrans=0", true, false),
        ("!rtt>100ms", false, true),
        ("!retrans>0", false, true),
    ]);
}

#[test]
fn unknown_rates_rtts_and_retransmits_never_satisfy_a_comparison() {
    // A process seen in a namespace read from /proc: its connection has no counters at all.
    let mut unmeasured = quiet();
    let mut conn = Connection::example_loopback(40000, 5432, Role::Client, (777, "postgres"), 9);
    conn.traffic = Traffic::unavailable(TrafficGap::NamespaceNotEntered);
    unmeasured.connections = vec![conn];
    // A UDP socket and a connection first seen this pass: totals but no rate, and no rtt for UDP.
    let mut fresh = quiet();
    let mut udp = Connection::example_loopback(5353, 5353, Role::Client, (1, "avahi"), 10);
    udp.proto = Proto::Udp;
    udp.traffic = Traffic::unavailable(TrafficGap::Udp);
    let mut first_seen = Connection::example_loopback(40001, 8080, Role::Client, (1, "node"), 11);
    first_seen.traffic = Traffic {
        bytes_sent: Some(100),
        bytes_received: Some(200),
        traffic_unavailable: Some(TrafficGap::FirstSeen),
        ..Traffic::default()
    };
    fresh.connections = vec![udp, first_seen];
    // Only one direction known: `rate` needs both, `tx` does not.
    let mut half = quiet();
    half.net_send_bytes_per_sec = Some(2.0 * MIB_F);

    for text in [
        "rate>=0",
        "rate<1G",
        "rx>=0",
        "tx<1G",
        "rtt>=0",
        "rtt<1000s",
        "retrans>=0",
    ] {
        let filter = Filter::parse(text).unwrap();
        for (name, p) in [("unmeasured", &unmeasured), ("fresh", &fresh)] {
            assert!(!filter.matches(p), "`{text}` matched {name}");
        }
    }
    assert!(!Filter::parse("rate>=0").unwrap().matches(&half));
    assert!(!Filter::parse("rx>=0").unwrap().matches(&half));
    assert!(Filter::parse("tx>1M").unwrap().matches(&half));
    // Negation is plain logical not, as for an unknown CPU reading.
    assert!(Filter::parse("!rate>1M").unwrap().matches(&unmeasured));
    assert!(Filter::parse("!rate<1M").unwrap().matches(&unmeasured));
    assert!(Filter::parse("!rtt>100ms").unwrap().matches(&fresh));
    // A measured silence is a rate like any other.
    let mut idle = quiet();
    idle.net_send_bytes_per_sec = Some(0.0);
    idle.net_recv_bytes_per_sec = Some(0.0);
    assert!(Filter::parse("rate=0").unwrap().matches(&idle));
    assert!(Filter::parse("rate<1K").unwrap().matches(&idle));
}

#[test]
fn terms_separated_by_whitespace_must_all_match() {
    check(&[
        ("nginx port:8080", true, false),
        ("nginx port:80", false, false),
        ("sbin user:root", false, true),
        ("  sbin \t ppid:1  ", true, true),
        (
            "sbin cpu>1 mem>1M state:listen remote:10.0.0.0/8",
            true,
            false,
        ),
        ("cron nginx", false, false),
    ]);
}

#[test]
fn bang_or_dash_negates_a_term() {
    check(&[
        ("!nginx", false, true),
        ("-nginx", false, true),
        ("-port:8080", false, true),
        ("!state:listen", false, true),
        ("!\"daemon off\"", false, true),
        ("-\"daemon off\"", false, true),
        ("!user:root sbin", true, false),
        // Negation is plain logical not: a process without a CPU reading is "not cpu>5".
        ("!cpu>5", false, true),
        ("!cpu<5", true, true),
    ]);
}

#[test]
fn quotes_group_spaces_make_syntax_literal_and_allow_escaped_quotes() {
    let mut p = quiet();
    p.name = "my app".into();
    p.cmdline = vec![
        "app".into(),
        "--port=8080".into(),
        "--url=http://localhost:8080".into(),
        "say \"hi\"".into(),
        "!important".into(),
        "-v".into(),
    ];
    let cases = [
        ("name:\"my app\"", true),
        ("name:\"my apps\"", false),
        ("\"my app\"", true),
        ("--port=8080", true),
        ("--port", true),
        ("\"--port=8080\"", true),
        ("\"http://localhost\"", true),
        ("\"port:8080\"", false),
        ("\"say \\\"hi\\\"\"", true),
        ("\"!important\"", true),
        ("!important", false),
        ("\"-v\"", true),
        ("-\"-v\"", false),
        ("\"\" app", true),
    ];
    for (text, expected) in cases {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("`{text}` failed: {e}"));
        assert_eq!(filter.matches(&p), expected, "`{text}`");
    }
}

#[test]
fn each_error_names_the_term_and_what_was_expected() {
    let cases = [
        ("cpu>abc", "`cpu>abc`: expected a number (cpu>5)"),
        ("cpu>-1", "`cpu>-1`: expected a number (cpu>5)"),
        ("cpu>1e3", "`cpu>1e3`: expected a number (cpu>5)"),
        (
            "threads>1.5",
            "`threads>1.5`: expected a number (threads>10)",
        ),
        ("conns>x", "`conns>x`: expected a number (conns>3)"),
        ("fds>=many", "`fds>=many`: expected a number (fds>100)"),
        ("pid:abc", "`pid:abc`: expected a number (pid:123)"),
        ("ppid:-1", "`ppid:-1`: expected a number (ppid:1)"),
        (
            "pid:4294967296",
            "`pid:4294967296`: expected a number (pid:123)",
        ),
        (
            "peer:99999999999",
            "`peer:99999999999`: expected a number (peer:node or peer:1234)",
        ),
        (
            "mem>abc",
            "`mem>abc`: expected a number (mem>100M or mem>5%)",
        ),
        (
            "mem>10X",
            "`mem>10X`: unknown size unit `X`; expected B, K, M, G or T (also KiB, MiB, GiB, \
             TiB), or % of memory (mem>100M, mem>5%)",
        ),
        (
            "rate>fast",
            "`rate>fast`: expected a number (rate>1M or rate>500K/s)",
        ),
        ("rx>-1", "`rx>-1`: expected a number (rx>1M)"),
        (
            "tx>1Mbit",
            "`tx>1Mbit`: unknown rate unit `Mbit`; expected bytes per second as B, K, M, G or T \
             (also KiB, MiB, GiB, TiB), /s optional (rate>1M, rx>500K/s)",
        ),
        (
            "rate>5%",
            "`rate>5%`: unknown rate unit `%`; expected bytes per second as B, K, M, G or T \
             (also KiB, MiB, GiB, TiB), /s optional (rate>1M, rx>500K/s)",
        ),
        (
            "rtt>10parsecs",
            "`rtt>10parsecs`: unknown time unit `parsecs`; expected us, ms or s, a bare number \
             being ms (rtt>100ms, rtt>0.5s)",
        ),
        (
            "rtt>slow",
            "`rtt>slow`: expected a number (rtt>100ms or rtt>0.5s)",
        ),
        (
            "retrans>some",
            "`retrans>some`: expected a number (retrans>0)",
        ),
        (
            "retrans>0.5",
            "`retrans>0.5`: expected a number (retrans>0)",
        ),
        (
            "rtt:100ms",
            "`rtt:100ms`: `rtt` is written like rtt>100ms or rtt>0.5s",
        ),
        (
            "rate>",
            "`rate>`: missing value after `rate>` (rate>1M or rate>500K/s)",
        ),
        (
            "port:",
            "`port:`: missing value after `port:` (port:8080 or port:8000-8100)",
        ),
        ("cpu>", "`cpu>`: missing value after `cpu>` (cpu>5)"),
        (
            "user:",
            "`user:`: missing value after `user:` (user:postgres)",
        ),
        (
            "!name:",
            "`!name:`: missing value after `name:` (name:nginx)",
        ),
        (
            "port:70000",
            "`port:70000`: `70000` is not a port; expected 0-65535 or a range low-high \
             (port:8080, port:8000-8100)",
        ),
        (
            "port:9000-8000",
            "`port:9000-8000`: `9000-8000` is not a port; expected 0-65535 or a range low-high \
             (port:8080, port:8000-8100)",
        ),
        (
            "port:http",
            "`port:http`: `http` is not a port; expected 0-65535 or a range low-high \
             (port:8080, port:8000-8100)",
        ),
        (
            "remote:10.0.0",
            "`remote:10.0.0`: `10.0.0` is not an IP address or network \
             (remote:10.0.0.5, remote:10.0.0.0/8, remote:fe80::/10)",
        ),
        (
            "remote:10.0.0.0/x",
            "`remote:10.0.0.0/x`: `10.0.0.0/x` is not an IP address or network \
             (remote:10.0.0.5, remote:10.0.0.0/8, remote:fe80::/10)",
        ),
        (
            "remote:10.0.0.0/33",
            "`remote:10.0.0.0/33`: prefix length /33 is out of range; expected /0 to /32",
        ),
        (
            "remote:fe80::/129",
            "`remote:fe80::/129`: prefix length /129 is out of range; expected /0 to /128",
        ),
        (
            "port>80",
            "`port>80`: `port` is written like port:8080 or port:8000-8100",
        ),
        ("cpu:5", "`cpu:5`: `cpu` is written like cpu>5"),
        ("\"abc", "`\"abc`: unterminated quote; close it with `\"`"),
        (
            "name:\"my app",
            "`name:\"my app`: unterminated quote; close it with `\"`",
        ),
        ("!", "`!`: expected a term to negate after it (!name:nginx)"),
        ("-", "`-`: expected a term to negate after it (!name:nginx)"),
        (
            "!\"\"",
            "`!\"\"`: expected a term to negate after it (!name:nginx)",
        ),
        (
            "prot:80",
            "`prot:80`: unknown field `prot` (did you mean `port`?); fields: port, user, pid, \
             ppid, name, state, remote, peer, cpu, mem, threads, conns, fds, rate, rx, tx, rtt, \
             retrans, unit, container, pod, image (quote the term to search for the text)",
        ),
        (
            "foo:bar",
            "`foo:bar`: unknown field `foo`; fields: port, user, pid, ppid, name, state, remote, \
             peer, cpu, mem, threads, conns, fds, rate, rx, tx, rtt, retrans, unit, container, \
             pod, image (quote the term to search for the text)",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error(text).to_string(), message, "`{text}`");
    }
}

#[test]
fn unknown_fields_suggest_a_close_field_also_for_comparisons() {
    let cases = [
        ("prot:80", "prot", Some("port")),
        ("usr:root", "usr", Some("user")),
        ("Stat:listen", "Stat", Some("state")),
        ("cpux>5", "cpux", Some("cpu")),
        ("memory>1G", "memory", Some("mem")),
        ("treads>2", "treads", Some("threads")),
        ("rat>1M", "rat", Some("rate")),
        ("rates>1M", "rates", Some("rate")),
        ("rxx>1M", "rxx", Some("rx")),
        ("rrt>100ms", "rrt", Some("rtt")),
        ("retransmits>0", "retransmits", Some("retrans")),
        ("retrnas>0", "retrnas", Some("retrans")),
        ("http://example.com", "http", None),
        ("PYTHONPATH=/opt", "PYTHONPATH", None),
    ];
    for (text, typed, expected) in cases {
        match error(text) {
            FilterError::UnknownField {
                field, suggestion, ..
            } => {
                assert_eq!(field, typed, "`{text}`");
                assert_eq!(suggestion, expected, "`{text}`");
            }
            other => panic!("`{text}` gave {other:?}"),
        }
    }
}

#[test]
fn bad_state_lists_every_valid_state_and_each_listed_one_parses() {
    let message = error("state:foo").to_string();
    assert!(
        message.starts_with("`state:foo`: unknown state `foo`; expected a socket state (listen, "),
        "{message}"
    );
    let names = [
        "listen",
        "established",
        "syn_sent",
        "syn_recv",
        "fin_wait1",
        "fin_wait2",
        "time_wait",
        "close",
        "close_wait",
        "last_ack",
        "closing",
        "unconn",
        "running",
        "sleeping",
        "disk_sleep",
        "zombie",
        "stopped",
        "tracing_stop",
        "dead",
        "idle",
        "parked",
    ];
    for name in names {
        assert!(message.contains(name), "{name} missing from {message}");
        assert!(Filter::parse(&format!("state:{name}")).is_ok(), "{name}");
    }
    for bad in ["state:estab", "state:Q", "state:unknown", "state:rr"] {
        assert!(matches!(error(bad), FilterError::BadState { .. }), "{bad}");
    }
}

#[test]
fn every_field_in_the_unknown_field_message_parses_with_its_example() {
    let examples = [
        "port:8080",
        "user:postgres",
        "pid:123",
        "ppid:1",
        "name:nginx",
        "state:listen",
        "remote:10.0.0.0/8",
        "peer:node",
        "cpu>5",
        "mem>100M",
        "threads>10",
        "conns>3",
        "fds>100",
        "rate>1M",
        "rx>1M",
        "tx>1M",
        "rtt>100ms",
        "retrans>0",
        "unit:nginx.service",
        "container:web-1",
        "pod:checkout",
        "image:nginx",
    ];
    let message = error("foo:bar").to_string();
    for example in examples {
        assert!(Filter::parse(example).is_ok(), "{example}");
        let (field, _) = example.split_at(example.find([':', '>']).unwrap());
        assert!(message.contains(field), "{field} missing from {message}");
    }
}

#[test]
fn errors_point_at_the_bad_term_by_offset_and_index() {
    let text = "nginx  port:8080 cpu>abc mem>1M";
    let e = error(text);
    assert_eq!(e.offset(), 17);
    assert_eq!(e.term_index(), 2);
    assert_eq!(e.term(), "cpu>abc");
    assert_eq!(&text[e.span()], "cpu>abc");
    assert!(matches!(
        e,
        FilterError::BadNumber {
            offset: 17,
            index: 2,
            ..
        }
    ));

    let text = "nginx !name:\"my app";
    let e = error(text);
    assert_eq!((e.offset(), e.term_index()), (6, 1));
    assert_eq!(&text[e.span()], "!name:\"my app");

    let text = "\"a b\" prot:1";
    let e = error(text);
    assert_eq!((e.offset(), e.term_index(), e.term()), (6, 1, "prot:1"));
}

#[test]
fn the_first_bad_term_is_reported() {
    let e = error("foo:1 cpu>x");
    assert!(
        matches!(e, FilterError::UnknownField { index: 0, .. }),
        "{e:?}"
    );
}

#[test]
fn filters_are_comparable_and_parse_the_same_way_twice() {
    let text = "nginx !port:80-90 remote:10.0.0.0/8 mem>1.5G state:T";
    assert_eq!(Filter::parse(text).unwrap(), Filter::parse(text).unwrap());
    assert_ne!(
        Filter::parse("cpu>5").unwrap(),
        Filter::parse("cpu>6").unwrap()
    );
    assert_ne!(
        Filter::parse("cpu>5").unwrap(),
        Filter::parse("!cpu>5").unwrap()
    );
}

#[test]
fn new_finds_processes_started_since_launch_and_quoted_it_is_a_word() {
    let mut young = quiet();
    young.new = true;
    young.cmdline.push("--renew".into());
    let old = web();
    let matches = |text: &str, p: &Process| {
        Filter::parse(text)
            .unwrap_or_else(|e| panic!("`{text}` failed: {e}"))
            .matches(p)
    };
    assert!(matches("new", &young) && !matches("new", &old));
    assert!(matches("NEW", &young), "keywords ignore case like the rest");
    assert!(!matches("!new", &young) && matches("!new", &old));
    assert!(matches("new cron", &young) && !matches("new nginx", &old));
    // Quoted, the word is searched for: `--renew` contains it, nginx's command line does not.
    assert!(matches("\"new\"", &young) && !matches("\"new\"", &old));
    let mut renamed = old.clone();
    renamed.name = "newrelic".into();
    assert!(
        !matches("new", &renamed),
        "the keyword asks about age, not names"
    );
    assert!(matches("\"new\"", &renamed));
    assert!(matches!(error("new:1"), FilterError::UnknownField { .. }));
}

#[test]
fn unexpected_is_a_keyword_for_processes_outside_the_baseline() {
    let matches = |text: &str, p: &Process| {
        Filter::parse(text)
            .unwrap_or_else(|e| panic!("`{text}` failed: {e}"))
            .matches(p)
    };
    let mut stranger = web();
    stranger.unexpected = Some(true);
    let mut known = web();
    known.unexpected = Some(false);
    let unjudged = web();
    assert!(matches("unexpected", &stranger));
    assert!(!matches("unexpected", &known) && !matches("unexpected", &unjudged));
    assert!(matches("!unexpected", &known) && matches("!unexpected", &unjudged));
    assert!(matches("UNEXPECTED nginx", &stranger));
}

mod events {
    use super::*;
    use crate::model::{EventSource, LifecycleEvent, LifecycleKind};

    /// nginx (pid 4242, parent 1, user www-data) in one event of `kind`.
    fn event(kind: LifecycleKind) -> LifecycleEvent {
        LifecycleEvent {
            kind,
            pid: 4242,
            ppid: Some(1),
            name: "nginx".into(),
            cmdline: vec!["/usr/sbin/nginx".into(), "-g".into(), "daemon off;".into()],
            user: Some("www-data".into()),
            start_time_ms: 1_000,
            observed_at_ms: 2_000,
            exit: None,
            runtime_ms: None,
            short_lived: false,
            source: EventSource::Snapshots,
        }
    }

    /// Checks each `(filter, matches a listen event, matches a first connection, matches an
    /// exit)`; the process is new in all three.
    fn check(cases: &[(&str, bool, bool, bool)]) {
        let listen = event(LifecycleKind::BeganListening {
            proto: Proto::Udp,
            addr: ip("0.0.0.0"),
            port: 5353,
        });
        let connect = event(LifecycleKind::FirstConnection {
            proto: Proto::Tcp,
            addr: ip("10.0.0.5"),
            port: 5432,
        });
        let exited = event(LifecycleKind::Exited);
        for &(text, on_listen, on_connect, on_exit) in cases {
            let filter = Filter::parse(text).unwrap_or_else(|e| panic!("`{text}` failed: {e}"));
            assert_eq!(
                filter.matches_event(&listen, true),
                on_listen,
                "`{text}` on listen"
            );
            assert_eq!(
                filter.matches_event(&connect, true),
                on_connect,
                "`{text}` on connect"
            );
            assert_eq!(
                filter.matches_event(&exited, true),
                on_exit,
                "`{text}` on exit"
            );
        }
    }

    #[test]
    fn terms_ask_what_the_event_carries_of_its_process() {
        check(&[
            ("", true, true, true),
            ("nginx", true, true, true),
            ("daemon", true, true, true),
            ("\"daemon off\"", true, true, true),
            ("www", true, true, true),
            ("4242", true, true, true),
            ("name:ngi", true, true, true),
            ("user:www-data", true, true, true),
            ("pid:4242", true, true, true),
            ("ppid:1", true, true, true),
            ("ppid:2", false, false, false),
            ("new", true, true, true),
            ("!new", false, false, false),
            // A bare word also finds the kind.
            ("exited", false, false, true),
            ("listen", true, false, false),
            // The socket events' own address.
            ("5353", true, false, false),
            (":5432", false, true, false),
            ("port:5000-5400", true, false, false),
            ("port:5432", false, true, false),
            ("remote:10.0.0.0/8", false, true, false),
            ("state:listen", true, false, false),
            ("state:unconn", true, false, false),
            ("!state:listen", false, true, true),
            ("apache", false, false, false),
        ]);
    }

    /// Events carry no figures, peers, scheduler state or uid: such terms match none, and their
    /// negation all, as an unknown figure does in the table.
    #[test]
    fn terms_an_event_cannot_answer_match_no_event() {
        check(&[
            ("cpu>0", false, false, false),
            ("!cpu>0", true, true, true),
            ("mem<1G", false, false, false),
            ("rtt>0", false, false, false),
            ("peer:postgres", false, false, false),
            ("state:running", false, false, false),
            ("state:established", false, false, false),
            ("user:33", false, false, false),
            ("unit:nginx", false, false, false),
            ("container:web", false, false, false),
            ("pod:checkout", false, false, false),
            ("image:nginx", false, false, false),
        ]);
    }
}
