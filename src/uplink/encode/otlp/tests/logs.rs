use super::*;

fn records_of(batches: &[Batch]) -> Vec<(i64, LogRecord)> {
    log_resources(batches)
        .into_iter()
        .flat_map(|r| {
            let pid = match attr(resource_attrs(&r.resource), "process.pid") {
                Some(Any::IntValue(pid)) => *pid,
                _ => -1,
            };
            r.scope_logs
                .iter()
                .flat_map(move |s| s.log_records.iter().map(move |l| (pid, l.clone())))
        })
        .collect()
}

#[test]
fn connection_logs_describe_each_socket_under_its_process() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let records = records_of(&batches);
    assert_eq!(records.len(), 2, "one listening socket and one connection");
    assert!(records.iter().all(|(pid, _)| *pid == 10));
    let (_, listen) = &records[0];
    assert_eq!(listen.event_name, "connection");
    assert_eq!(listen.time_unix_nano, TAKEN_AT_MS * 1_000_000);
    assert_eq!(
        text(&listen.attributes, "network.connection.state").as_deref(),
        Some("listen")
    );
    assert_eq!(
        attr(&listen.attributes, "network.local.port"),
        Some(&Any::IntValue(80))
    );
    let (_, conn) = &records[1];
    let expect = [
        ("network.transport", "tcp"),
        ("network.type", "ipv4"),
        ("network.local.address", "10.0.0.1"),
        ("network.peer.address", "203.0.113.5"),
        ("network.connection.state", "established"),
        ("network.connection.direction", "inbound"),
        ("wiretop.connection.role", "server"),
        ("event.name", "connection"),
    ];
    for (key, value) in expect {
        assert_eq!(text(&conn.attributes, key).as_deref(), Some(value), "{key}");
    }
    assert_eq!(
        attr(&conn.attributes, "network.peer.port"),
        Some(&Any::IntValue(51_000))
    );
    assert_eq!(
        attr(&conn.attributes, "process.pid"),
        Some(&Any::IntValue(10))
    );
    assert_eq!(conn.body, Some(attributes::body("connection")));
}

fn number(attrs: &[KeyValue], key: &str) -> Option<f64> {
    match attr(attrs, key)? {
        Any::IntValue(v) => Some(*v as f64),
        Any::DoubleValue(v) => Some(*v),
        other => panic!("{key} is {other:?}"),
    }
}

/// Every traffic figure of the model's `Traffic`, as a log record names it.
const TRAFFIC_KEYS: [&str; 11] = [
    "wiretop.connection.bytes_sent",
    "wiretop.connection.bytes_received",
    "wiretop.connection.send_bytes_per_sec",
    "wiretop.connection.recv_bytes_per_sec",
    "wiretop.connection.rtt_ms",
    "wiretop.connection.rttvar_ms",
    "wiretop.connection.retransmits",
    "wiretop.connection.retransmits_last_interval",
    "wiretop.connection.send_queue_bytes",
    "wiretop.connection.recv_queue_bytes",
    "wiretop.connection.idle_ms",
];

#[test]
fn connection_logs_carry_measured_traffic_and_leave_the_unmeasured_out() {
    let mut snap = snapshot();
    let nginx = &mut snap.processes[1];
    let mut udp = nginx.connections[0].clone();
    udp.proto = Proto::Udp;
    udp.traffic = Traffic::unavailable(TrafficGap::Udp);
    let mut fresh = nginx.connections[0].clone();
    fresh.remote_port = 51_001;
    fresh.traffic = Traffic {
        bytes_sent: Some(300),
        bytes_received: Some(70),
        rtt_ms: Some(0.25),
        retransmits: Some(0),
        traffic_unavailable: Some(TrafficGap::FirstSeen),
        ..Traffic::default()
    };
    nginx.connections.extend([udp, fresh]);
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snap);
    let records = records_of(&batches);
    assert_eq!(
        records.len(),
        4,
        "one listening socket and three connections"
    );

    // records[0] is the listening socket: no traffic figures at all.
    let listen = &records[0].1.attributes;
    assert!(TRAFFIC_KEYS.iter().all(|k| attr(listen, k).is_none()));

    // The fixture's connection: queues, idle time and the last interval's retransmits are
    // measured zeros, and go out as such.
    let measured = &records[1].1.attributes;
    let expect = [
        ("wiretop.connection.bytes_sent", 20_480.0),
        ("wiretop.connection.bytes_received", 5_120.0),
        ("wiretop.connection.send_bytes_per_sec", 2_048.0),
        ("wiretop.connection.recv_bytes_per_sec", 512.0),
        ("wiretop.connection.rtt_ms", 1.5),
        ("wiretop.connection.rttvar_ms", 0.375),
        ("wiretop.connection.retransmits", 2.0),
        ("wiretop.connection.retransmits_last_interval", 0.0),
        ("wiretop.connection.send_queue_bytes", 0.0),
        ("wiretop.connection.recv_queue_bytes", 0.0),
        ("wiretop.connection.idle_ms", 0.0),
    ];
    assert_eq!(expect.len(), TRAFFIC_KEYS.len(), "every figure checked");
    for (key, value) in expect {
        assert_eq!(number(measured, key), Some(value), "{key}");
    }
    // Counts, sizes and milliseconds of idleness are integers; rates and times doubles.
    let integers = [
        "wiretop.connection.bytes_sent",
        "wiretop.connection.retransmits_last_interval",
        "wiretop.connection.send_queue_bytes",
        "wiretop.connection.recv_queue_bytes",
        "wiretop.connection.idle_ms",
    ];
    for key in integers {
        assert!(
            matches!(attr(measured, key), Some(Any::IntValue(_))),
            "{key}"
        );
    }
    for key in ["wiretop.connection.rtt_ms", "wiretop.connection.rttvar_ms"] {
        assert!(
            matches!(attr(measured, key), Some(Any::DoubleValue(_))),
            "{key}"
        );
    }
    assert_eq!(
        text(measured, "wiretop.connection.traffic_unavailable"),
        None
    );

    let udp = &records[2].1.attributes;
    assert_eq!(text(udp, "network.transport").as_deref(), Some("udp"));
    assert!(TRAFFIC_KEYS.iter().all(|k| attr(udp, k).is_none()));
    assert_eq!(
        text(udp, "wiretop.connection.traffic_unavailable").as_deref(),
        Some("udp")
    );

    // First seen: totals, rtt and retransmits (a measured 0), no rates yet.
    let fresh = &records[3].1.attributes;
    assert_eq!(number(fresh, "network.peer.port"), Some(51_001.0));
    assert_eq!(number(fresh, "wiretop.connection.bytes_sent"), Some(300.0));
    assert_eq!(number(fresh, "wiretop.connection.rtt_ms"), Some(0.25));
    assert_eq!(number(fresh, "wiretop.connection.retransmits"), Some(0.0));
    assert_eq!(number(fresh, "wiretop.connection.send_bytes_per_sec"), None);
    assert_eq!(number(fresh, "wiretop.connection.recv_bytes_per_sec"), None);
    // Nor any other figure this connection did not measure.
    for key in [
        "wiretop.connection.rttvar_ms",
        "wiretop.connection.retransmits_last_interval",
        "wiretop.connection.send_queue_bytes",
        "wiretop.connection.recv_queue_bytes",
        "wiretop.connection.idle_ms",
    ] {
        assert_eq!(number(fresh, key), None, "{key}");
    }
    assert_eq!(
        text(fresh, "wiretop.connection.traffic_unavailable").as_deref(),
        Some("first_seen")
    );
}

#[test]
fn no_connection_logs_or_socket_counts_when_connections_were_not_collected() {
    let mut snap = snapshot();
    snap.collection.connections_collected = false;
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snap);
    assert!(log_resources(&batches).is_empty());
    let metrics = metrics_of(&batches, Some(10));
    assert!(metrics
        .iter()
        .all(|m| m.name != "wiretop.process.connection.count"));
    let host = metrics_of(&batches, None);
    assert!(host
        .iter()
        .all(|m| m.name != "system.network.connection.count"));
}

#[test]
fn lifecycle_events_become_log_records_grouped_by_process() {
    let listen = LifecycleKind::BeganListening {
        proto: Proto::Udp,
        addr: "::1".parse().unwrap(),
        port: 53,
    };
    let events = [
        event(LifecycleKind::Started, 7),
        event(listen, 7),
        event(LifecycleKind::Exited, 8),
    ];
    let encoder = OtlpEncoder::new(Temporality::Cumulative, 1);
    let batches = encoder.encode_events(&host(&["env:prod"]), &events);
    assert_eq!(batches.len(), 2, "two processes, one resource per batch");
    assert!(batches.iter().all(|b| b.class == Class::Events));
    let resources = log_resources(&batches);
    let a = resource_attrs(&resources[0].resource);
    assert_eq!(attr(a, "process.pid"), Some(&Any::IntValue(7)));
    assert_eq!(text(a, "process.executable.name").as_deref(), Some("proc7"));
    assert_eq!(
        text(a, "process.command_line").as_deref(),
        Some("/bin/proc7 -v")
    );
    assert_eq!(text(a, "process.owner").as_deref(), Some("app"));
    assert!(text(a, "process.creation.time").is_some());
    assert_eq!(text(a, "host.name").as_deref(), Some("web-1"));
    assert_eq!(
        text(a, "deployment.environment.name").as_deref(),
        Some("prod")
    );

    let records = records_of(&batches);
    let names: Vec<_> = records
        .iter()
        .map(|(pid, r)| (*pid, r.event_name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            (7, "process.started"),
            (7, "process.listen.started"),
            (8, "process.exited")
        ]
    );
    let (_, began) = &records[1];
    assert_eq!(
        text(&began.attributes, "event.name").as_deref(),
        Some("process.listen.started")
    );
    assert_eq!(began.body, Some(attributes::body("process.listen.started")));
    assert_eq!(
        text(&began.attributes, "network.transport").as_deref(),
        Some("udp")
    );
    assert_eq!(
        text(&began.attributes, "network.type").as_deref(),
        Some("ipv6")
    );
    assert_eq!(
        text(&began.attributes, "network.local.address").as_deref(),
        Some("::1")
    );
    assert_eq!(
        attr(&began.attributes, "network.local.port"),
        Some(&Any::IntValue(53))
    );
    assert_eq!(began.time_unix_nano, TAKEN_AT_MS * 1_000_000);
    assert!(encoder.encode_events(&host(&[]), &[]).is_empty());
}
