use std::sync::Arc;

use super::*;
use crate::files::tests::Scratch;
use crate::history::fixture::series;
use crate::history::Recording;

fn settings(keyframe_every: u32) -> RecorderSettings {
    RecorderSettings {
        max_size: 1 << 30,
        max_age: Duration::from_secs(24 * 3600),
        keep: 3,
        keyframe_every,
        keyframe_after_bytes: KEYFRAME_AFTER_BYTES,
    }
}

fn record(path: &Path, samples: &[Snapshot], settings: RecorderSettings) -> RecorderStats {
    let mut recorder = Recorder::open(path, settings).unwrap();
    for sample in samples {
        recorder.record(&Arc::new(sample.clone())).unwrap();
    }
    recorder.finish().unwrap()
}

fn read_all(path: &Path) -> Vec<Snapshot> {
    let recording = Recording::open(path).unwrap();
    assert_eq!(recording.problems(), Vec::<String>::new());
    recording
        .replay()
        .map(|(_, sample)| sample.unwrap())
        .collect()
}

#[test]
fn what_is_recorded_reads_back_in_order_and_from_any_point() {
    let dir = Scratch::new("recorder-round-trip");
    let path = dir.path("rec.wtr");
    let samples = series(1, 45);
    let stats = record(&path, &samples, settings(10));
    assert_eq!((stats.samples, stats.keyframes), (45, 5));
    assert_eq!(read_all(&path), samples);
    let recording = Recording::open(&path).unwrap();
    let keyframes: Vec<bool> = recording.blocks().iter().map(|b| b.is_keyframe()).collect();
    assert_eq!(keyframes.iter().filter(|k| **k).count(), 5);
    assert!(keyframes[0] && keyframes[10] && !keyframes[9]);
    for index in [0, 1, 9, 10, 11, 29, 44] {
        assert_eq!(
            recording.sample(index).unwrap(),
            samples[index],
            "sample {index}"
        );
    }
    // The nearest sample to a time between two samples, and outside the recording.
    let at = samples[17].host.taken_at_ms + 600;
    assert_eq!(recording.nearest(at)[0], 17);
    assert_eq!(recording.nearest(0)[0], 0);
    assert_eq!(recording.nearest(u64::MAX)[0], 44);
    let (first, last) = recording.time_range().unwrap();
    assert_eq!(first, samples[0].host.taken_at_ms);
    assert_eq!(last, samples[44].host.taken_at_ms);
    assert_eq!(recording.typical_interval_ms(), 2000);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_second_run_appends_after_the_first_starting_with_a_keyframe() {
    let dir = Scratch::new("recorder-append");
    let path = dir.path("rec.wtr");
    let samples = series(2, 20);
    record(&path, &samples[..8], settings(60));
    // The first run was killed: nothing synced at the end, its recorder just dropped.
    let mut recorder = Recorder::open(&path, settings(60)).unwrap();
    for sample in &samples[8..12] {
        recorder.record(&Arc::new(sample.clone())).unwrap();
    }
    drop(recorder);
    record(&path, &samples[12..], settings(60));
    assert_eq!(read_all(&path), samples);
    let recording = Recording::open(&path).unwrap();
    let sequences: Vec<u64> = recording
        .blocks()
        .iter()
        .map(|b| b.header.sequence)
        .collect();
    assert_eq!(sequences, (0..20).collect::<Vec<u64>>());
    for index in [0, 8, 12] {
        assert!(recording.blocks()[index].is_keyframe(), "block {index}");
    }
}

#[test]
fn an_incomplete_block_left_by_a_killed_run_is_cut_off_before_appending() {
    let dir = Scratch::new("recorder-cut");
    let path = dir.path("rec.wtr");
    let samples = series(3, 6);
    record(&path, &samples[..3], settings(60));
    let complete = std::fs::metadata(&path).unwrap().len();
    // Half a block: what a run killed in the middle of a write leaves.
    let mut bytes = std::fs::read(&path).unwrap();
    let half = bytes[24..24 + 50].to_vec();
    bytes.extend_from_slice(&half);
    std::fs::write(&path, &bytes).unwrap();
    let recording = Recording::open(&path).unwrap();
    assert_eq!(recording.blocks().len(), 3);
    assert_eq!(
        recording.problems(),
        vec![format!(
            "offset {complete}: the last 50 bytes are an incomplete sample, cut off while it \
             was written; ignored"
        )]
    );
    let mut recorder = Recorder::open(&path, settings(60)).unwrap();
    let notices = recorder.take_notices();
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains(&format!("cut off the last 50 bytes at offset {complete}")));
    for sample in &samples[3..] {
        recorder.record(&Arc::new(sample.clone())).unwrap();
    }
    recorder.finish().unwrap();
    assert_eq!(read_all(&path), samples);
}

#[test]
fn files_rotate_by_size_keeping_the_newest_each_readable_on_its_own() {
    let dir = Scratch::new("recorder-size");
    let path = dir.path("rec.wtr");
    let samples = series(4, 40);
    let one_file = {
        let probe = dir.path("probe.wtr");
        record(&probe, &samples[..10], settings(5));
        std::fs::metadata(&probe).unwrap().len()
    };
    let mut small = settings(5);
    small.max_size = one_file;
    small.keep = 2;
    let stats = record(&path, &samples, small);
    assert!(stats.rotations >= 3, "{stats:?}");
    let mut newest_first = Vec::new();
    for file in [
        path.clone(),
        rotation::rotated_path(&path, 1),
        rotation::rotated_path(&path, 2),
    ] {
        assert!(std::fs::metadata(&file).unwrap().len() <= one_file);
        let read = read_all(&file);
        assert!(!read.is_empty());
        newest_first.push(read);
    }
    assert!(!rotation::rotated_path(&path, 3).exists());
    // The three files are the last samples, in order, with none missing between them.
    let kept: Vec<Snapshot> = newest_first.into_iter().rev().flatten().collect();
    assert_eq!(kept[..], samples[samples.len() - kept.len()..]);
}

#[test]
fn files_rotate_by_age() {
    let dir = Scratch::new("recorder-age");
    let path = dir.path("rec.wtr");
    let mut samples = series(5, 12);
    // The file is dated now; the samples start 5 s later and come every 30 s.
    let now = crate::time::now_ms();
    for (i, sample) in samples.iter_mut().enumerate() {
        sample.host.taken_at_ms = now + 5_000 + 30_000 * i as u64;
    }
    let mut by_age = settings(60);
    by_age.max_age = Duration::from_secs(120);
    let stats = record(&path, &samples, by_age);
    assert_eq!(stats.rotations, 2, "{stats:?}");
    // The first file took samples 0..=3 (5 to 95 s); the next ones are dated by their first
    // sample, at 125 s and 245 s.
    assert_eq!(read_all(&rotation::rotated_path(&path, 2)), samples[..4]);
}

#[test]
fn files_that_are_not_recordings_of_this_format_are_never_appended_to() {
    let dir = Scratch::new("recorder-refuse");
    let notes = dir.path("notes.txt");
    std::fs::write(&notes, b"my precious notes\n").unwrap();
    std::fs::set_permissions(&notes, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let error = Recorder::open(&notes, settings(60)).err().unwrap();
    assert!(error.is_refusal());
    assert!(
        error.to_string().contains("is not a wiretop recording"),
        "{error}"
    );
    assert_eq!(std::fs::read(&notes).unwrap(), b"my precious notes\n");
    let newer = dir.path("newer.wtr");
    record(&newer, &series(6, 2), settings(60));
    let mut bytes = std::fs::read(&newer).unwrap();
    bytes[8] = 2;
    std::fs::write(&newer, &bytes).unwrap();
    let error = Recorder::open(&newer, settings(60)).err().unwrap();
    assert!(error.is_refusal());
    assert!(error.to_string().contains("recording format 2"), "{error}");
    assert_eq!(std::fs::read(&newer).unwrap(), bytes);
    let busy = dir.path("busy.wtr");
    let first = Recorder::open(&busy, settings(60)).unwrap();
    let error = Recorder::open(&busy, settings(60)).err().unwrap();
    assert!(error.is_refusal());
    assert!(
        error
            .to_string()
            .contains("another wiretop is recording to it"),
        "{error}"
    );
    drop(first);
    assert!(Recorder::open(&busy, settings(60)).is_ok());
    let link = dir.path("link.wtr");
    std::os::unix::fs::symlink(&newer, &link).unwrap();
    assert!(Recorder::open(&link, settings(60))
        .err()
        .unwrap()
        .is_refusal());
}
