use super::*;
use crate::history::fixture::series;
use crate::model::Connection;

/// Encodes each sample against the one before (a keyframe every `keyframe_every`) and decodes
/// it against the decoded one before: every sample must come back equal.
fn round_trip(samples: &[Snapshot], keyframe_every: usize) {
    let mut decoded_before: Option<Snapshot> = None;
    for (i, sample) in samples.iter().enumerate() {
        let keyframe = i % keyframe_every == 0;
        let previous = (!keyframe).then(|| &samples[i - 1]);
        let mut bytes = Vec::new();
        encode(sample, previous, &mut bytes).unwrap();
        let base = if keyframe {
            None
        } else {
            decoded_before.as_ref()
        };
        let decoded = decode(&bytes, base).unwrap();
        assert_eq!(&decoded, sample, "sample {i}");
        decoded_before = Some(decoded);
    }
}

#[test]
fn every_sample_of_a_changing_host_reads_back_equal() {
    for seed in 0..6 {
        round_trip(&series(seed, 60), 25);
    }
}

#[test]
fn keyframes_alone_read_back_equal() {
    round_trip(&series(99, 10), 1);
}

#[test]
fn floats_keep_every_bit_nan_and_negative_zero_included() {
    let samples = series(7, 2);
    let mut before = samples[0].clone();
    let mut after = samples[1].clone();
    before.processes[0].memory.percent = -0.0;
    after.processes[0].memory.percent = f64::NAN;
    after.host.uptime_secs = f64::NEG_INFINITY;
    let mut bytes = Vec::new();
    encode(&after, Some(&before), &mut bytes).unwrap();
    let decoded = decode(&bytes, Some(&before)).unwrap();
    let pid = after.processes[0].pid;
    let percent = decoded.process(pid).unwrap().memory.percent;
    assert_eq!(percent.to_bits(), f64::NAN.to_bits());
    assert_eq!(decoded.host.uptime_secs, f64::NEG_INFINITY);
    bytes.clear();
    encode(&before, None, &mut bytes).unwrap();
    let decoded = decode(&bytes, None).unwrap();
    let percent = decoded
        .process(before.processes[0].pid)
        .unwrap()
        .memory
        .percent;
    assert_eq!(percent.to_bits(), (-0.0f64).to_bits());
}

/// The point of the changes: a process whose command line, user and sockets stay the same
/// costs its numbers, not its text.
#[test]
fn an_unchanged_process_costs_only_its_changing_numbers() {
    let mut process = crate::model::Process::example(4242, "postgres");
    process.cmdline = (0..40)
        .map(|i| format!("--option-{i}=some-long-value"))
        .collect();
    process.cgroup = Some("/system.slice/postgresql@16-main.service".to_owned());
    process.connections = (0..50)
        .map(|i| {
            let mut c = Connection::example_loopback(
                5432,
                40000 + i,
                crate::model::Role::Server,
                (9, "app"),
                7000 + u64::from(i),
            );
            c.traffic = crate::model::Traffic::example(100.0, 50.0, 0.2, 0);
            c
        })
        .collect();
    let before = Snapshot::example(vec![process.clone()]);
    process.cpu_time.user_ms += 20;
    process.memory.rss_bytes += 4096;
    for c in &mut process.connections {
        c.traffic.bytes_sent = c.traffic.bytes_sent.map(|b| b + 200);
        c.traffic.idle_ms = Some(2000);
    }
    let after = Snapshot::example(vec![process]);
    let empty = Snapshot::example(Vec::new());
    let size = |s: &Snapshot, p: Option<&Snapshot>| {
        let mut bytes = Vec::new();
        encode(s, p, &mut bytes).unwrap();
        bytes.len()
    };
    let head = size(&empty, None);
    let whole = size(&after, None) - head;
    let changes = size(&after, Some(&before)) - head;
    // 50 connections at about 7 bytes each (a reference, two masks, two changes), and a few
    // bytes for the process.
    assert!(whole > 15_000, "the process whole: {whole} bytes");
    assert!(
        changes < 450,
        "its changes: {changes} bytes (whole: {whole})"
    );
}

#[test]
fn a_reused_pid_is_written_whole() {
    let mut before = series(3, 1).remove(0);
    before.processes.truncate(1);
    let empty = Snapshot::example(Vec::new());
    let mut bytes = Vec::new();
    // The same process: referenced, so it cannot be read without the sample before.
    encode(&before, Some(&before), &mut bytes).unwrap();
    let error = decode(&bytes, Some(&empty)).unwrap_err();
    assert!(error.to_string().contains("absent before"), "{error}");
    // Another process under the same pid: whole, readable against anything.
    let mut after = before.clone();
    after.processes[0].start_time_ms += 1;
    bytes.clear();
    encode(&after, Some(&before), &mut bytes).unwrap();
    assert_eq!(decode(&bytes, Some(&empty)).unwrap(), after);
}

#[test]
fn damaged_payloads_are_errors_never_panics() {
    let samples = series(11, 2);
    let mut bytes = Vec::new();
    encode(&samples[1], Some(&samples[0]), &mut bytes).unwrap();
    assert!(
        decode(&bytes, None).is_err(),
        "changes without the sample before"
    );
    for len in 0..bytes.len() {
        assert!(
            decode(&bytes[..len], Some(&samples[0])).is_err(),
            "cut at {len}"
        );
    }
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..2_000 {
        let mut damaged = bytes.clone();
        let at = rng.usize(..damaged.len());
        damaged[at] ^= rng.u8(1..);
        // Anything but a panic: an error, or (a flipped float bit) another sample.
        let _ = decode(&damaged, Some(&samples[0]));
    }
}
