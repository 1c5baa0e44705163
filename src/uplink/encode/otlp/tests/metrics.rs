use super::*;

#[test]
fn process_metrics_have_conventional_names_units_and_temporality() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let metrics = metrics_of(&batches, Some(10));
    let expect = [
        // name, unit, Some(monotonic) for sums / None for gauges
        ("process.cpu.utilization", "1", None),
        ("process.cpu.time", "s", Some(true)),
        ("process.memory.usage", "By", Some(false)),
        ("process.memory.virtual", "By", Some(false)),
        ("process.thread.count", "{thread}", Some(false)),
        (
            "process.unix.file_descriptor.count",
            "{file_descriptor}",
            Some(false),
        ),
        ("process.disk.io", "By", Some(true)),
        ("wiretop.process.network.io.rate", "By/s", None),
        ("wiretop.process.connection.count", "{connection}", None),
    ];
    for (name, unit, monotonic) in expect {
        let m = metric(&metrics, name);
        assert_eq!(m.unit, unit, "{name}");
        match (&m.data, monotonic) {
            (Some(Data::Gauge(_)), None) => {}
            (Some(Data::Sum(s)), Some(mono)) => {
                assert_eq!(s.is_monotonic, mono, "{name}");
                assert_eq!(
                    s.aggregation_temporality,
                    AggregationTemporality::Cumulative as i32,
                    "{name}"
                );
                for p in &s.data_points {
                    assert_eq!(p.start_time_unix_nano, START_MS * 1_000_000, "{name}");
                }
            }
            (data, _) => panic!("{name}: unexpected {data:?}"),
        }
        for p in points(m) {
            assert_eq!(p.time_unix_nano, TAKEN_AT_MS * 1_000_000, "{name}");
        }
    }
    assert_eq!(metrics.len(), expect.len());
    let memory = metric(&metrics, "process.memory.usage");
    assert_eq!(points(memory)[0].value, Some(Value::AsInt(4_096)));
    let cpu = metric(&metrics, "process.cpu.time");
    assert_eq!(as_f64(point(cpu, "cpu.mode", "user")), 1.5);
    assert_eq!(as_f64(point(cpu, "cpu.mode", "system")), 0.5);
    let disk = metric(&metrics, "process.disk.io");
    assert_eq!(as_f64(point(disk, "disk.io.direction", "write")), 2_000.0);
    let sockets = metric(&metrics, "wiretop.process.connection.count");
    assert_eq!(
        as_f64(point(sockets, "network.connection.state", "listen")),
        1.0
    );
    assert_eq!(
        as_f64(point(sockets, "network.connection.state", "established")),
        1.0
    );
}

#[test]
fn cpu_utilization_is_percent_over_100_over_cpu_count() {
    let batches = OtlpEncoder::new(Temporality::Cumulative, 100).encode_snapshot(&snapshot());
    let metrics = metrics_of(&batches, Some(10));
    let utilization = metric(&metrics, "process.cpu.utilization");
    // 50% of one core on a 4-CPU host.
    assert_eq!(as_f64(&points(utilization)[0]), 0.125);
    // No earlier reading: no utilization rather than a made-up zero.
    let nameless = metrics_of(&batches, Some(11));
    assert!(nameless.iter().all(|m| m.name != "process.cpu.utilization"));
}

#[test]
fn network_rates_are_a_gauge_per_direction_sent_only_when_measured() {
    let mut snap = snapshot();
    // pid 11 has no rates at all; a third process has measured silence one way only.
    let mut half = Process::example(12, "x");
    half.net_send_bytes_per_sec = Some(0.0);
    snap.processes.push(half);
    let batches = OtlpEncoder::new(Temporality::Delta, 100).encode_snapshot(&snap);
    let metrics = metrics_of(&batches, Some(10));
    let rate = metric(&metrics, "wiretop.process.network.io.rate");
    assert!(matches!(rate.data, Some(Data::Gauge(_))));
    assert_eq!(points(rate).len(), 2);
    assert_eq!(
        as_f64(point(rate, "network.io.direction", "transmit")),
        2_048.0
    );
    assert_eq!(
        as_f64(point(rate, "network.io.direction", "receive")),
        512.0
    );
    for p in points(rate) {
        assert_eq!(p.time_unix_nano, TAKEN_AT_MS * 1_000_000);
    }
    let unmeasured = metrics_of(&batches, Some(11));
    assert!(!unmeasured.is_empty());
    assert!(unmeasured
        .iter()
        .all(|m| m.name != "wiretop.process.network.io.rate"));
    let half = metrics_of(&batches, Some(12));
    let rate = metric(&half, "wiretop.process.network.io.rate");
    assert_eq!(points(rate).len(), 1);
    assert_eq!(as_f64(point(rate, "network.io.direction", "transmit")), 0.0);
}

#[test]
fn delta_reports_full_value_first_then_difference_since_previous_encode() {
    let mut encoder = OtlpEncoder::new(Temporality::Delta, 100);
    let first = snapshot();
    let cpu_of = |batches: &[Batch], mode: &str| {
        let metrics = metrics_of(batches, Some(10));
        let m = metric(&metrics, "process.cpu.time").clone();
        let Some(Data::Sum(sum)) = &m.data else {
            panic!("cpu.time is not a sum")
        };
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Delta as i32
        );
        let p = point(&m, "cpu.mode", mode);
        (as_f64(p), p.start_time_unix_nano)
    };
    let batches = encoder.encode_snapshot(&first);
    assert_eq!(cpu_of(&batches, "user"), (1.5, START_MS * 1_000_000));

    let mut second = first.clone();
    second.host.taken_at_ms += 2_000;
    second.processes[1].cpu_time.user_ms += 300;
    second.processes[1].memory.rss_bytes = 8_192;
    if let Some(disk) = second.processes[1].disk.as_mut() {
        disk.read_bytes_total += 50;
    }
    let batches = encoder.encode_snapshot(&second);
    assert_eq!(cpu_of(&batches, "user"), (0.3, TAKEN_AT_MS * 1_000_000));
    assert_eq!(cpu_of(&batches, "system").0, 0.0);
    let metrics = metrics_of(&batches, Some(10));
    let disk = metric(&metrics, "process.disk.io");
    assert_eq!(as_f64(point(disk, "disk.io.direction", "read")), 50.0);
    // Levels stay levels: the current value, cumulative.
    let memory = metric(&metrics, "process.memory.usage");
    let Some(Data::Sum(sum)) = &memory.data else {
        panic!("memory.usage is not a sum")
    };
    assert_eq!(
        sum.aggregation_temporality,
        AggregationTemporality::Cumulative as i32
    );
    assert_eq!(sum.data_points[0].value, Some(Value::AsInt(8_192)));

    // A reused pid is a new process: its delta runs from its own start.
    let mut third = second.clone();
    third.host.taken_at_ms += 2_000;
    third.processes[1].start_time_ms = TAKEN_AT_MS + 3_000;
    third.processes[1].cpu_time.user_ms = 100;
    let batches = encoder.encode_snapshot(&third);
    assert_eq!(
        cpu_of(&batches, "user"),
        (0.1, (TAKEN_AT_MS + 3_000) * 1_000_000)
    );
}
