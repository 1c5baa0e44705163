//! Recordings against the real system: `wiretop record` and `wiretop snapshot --from FILE --at
//! TIME` on real samples of this host, with real processes and loopback connections coming and
//! going, and recordings that were killed, cut short, damaged, written to a full disk, or
//! written by a later version.
//!
//! Each test says what must be read back (exactly what the sampler published) and what must be
//! said about what could not be (the file and the offset).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{tcp_client, tcp_server, Child, Scratch};
use wiretop::history::format::{FileHeader, FILE_HEADER_LEN};
use wiretop::history::index::Gap;
use wiretop::history::{Recorder, RecorderSettings, Recording, SampleError};
use wiretop::model::{ProcessQuery, Snapshot};
use wiretop::sample::{spawn, SampleOutcome, Sampler, SamplerSettings};

/// The churn test's sampling interval and length: 180 samples, three keyframes apart.
const CHURN_INTERVAL: Duration = Duration::from_millis(500);
const CHURN_LENGTH: Duration = Duration::from_secs(90);

fn settings(keyframe_every: u32) -> RecorderSettings {
    RecorderSettings {
        keyframe_every,
        ..RecorderSettings::from_config(&wiretop::config::Config::default())
    }
}

/// `wiretop snapshot --from FILE [--at TIME]` with `env`: (exit code, stdout, stderr).
fn snapshot_from(file: &Path, at: Option<&str>, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wiretop"));
    command
        .args(["snapshot", "--format", "json", "--from"])
        .arg(file);
    if let Some(at) = at {
        command.args(["--at", at]);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// What `wiretop snapshot` prints for `snapshot`: the expected output, byte for byte.
fn printed(snapshot: &Snapshot) -> String {
    let mut text = serde_json::to_string(snapshot).unwrap();
    text.push('\n');
    text
}

/// Where two JSON documents first differ, for a failure message shorter than two snapshots.
fn first_difference(expected: &str, actual: &str) -> String {
    let (Ok(a), Ok(b)) = (
        serde_json::from_str::<serde_json::Value>(expected),
        serde_json::from_str::<serde_json::Value>(actual),
    ) else {
        return format!("not JSON: {:.300}", actual);
    };
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Object(x), Object(y)) => x
                .iter()
                .find_map(|(k, v)| match y.get(k) {
                    Some(w) => walk(v, w, format!("{at}.{k}")),
                    None => Some(format!("{at}.{k} missing")),
                })
                .or_else(|| (x.len() != y.len()).then(|| format!("{at}: extra keys"))),
            (Array(x), Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| walk(v, w, format!("{at}[{i}]"))),
            _ if a == b => None,
            _ => Some(format!("{at}: expected {a:.200}, got {b:.200}")),
        }
    }
    walk(&a, &b, String::new()).unwrap_or_else(|| "only in the text".to_owned())
}

/// Index of the sample nearest to `at` (the earlier of two as near), as the reader picks it.
fn nearest(samples: &[Arc<Snapshot>], at: u64) -> usize {
    (0..samples.len())
        .min_by_key(|&i| {
            let t = samples[i].host.taken_at_ms;
            (t.abs_diff(at), t)
        })
        .unwrap()
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// Processes and connections that start and stop while the recording runs: every second a
/// loopback server with two clients and three `sleep`s start, and those started four seconds
/// earlier are killed.
fn churn(stop: &AtomicBool) -> usize {
    let mut live: Vec<(Instant, Vec<Child>)> = Vec::new();
    let mut groups = 0;
    while !stop.load(Ordering::Relaxed) {
        let (mut server, port) = tcp_server("127.0.0.1");
        let (first, _) = tcp_client(&mut server, "127.0.0.1", port);
        let (second, _) = tcp_client(&mut server, "127.0.0.1", port);
        let mut group = vec![server, first, second];
        for _ in 0..3 {
            let mut sleep = Command::new("sleep");
            sleep.arg("1000");
            group.push(Child::start(sleep));
        }
        live.push((Instant::now(), group));
        groups += 1;
        live.retain(|(started, _)| started.elapsed() < Duration::from_secs(4));
        std::thread::sleep(Duration::from_millis(1000));
    }
    groups
}

/// (a) Two minutes' worth of real samples of a churning host, recorded as the sampler
/// publishes them: reading the file back gives every sample exactly, and `wiretop snapshot
/// --from FILE --at T` prints, byte for byte, what the sampler published nearest to T, for T
/// written each way the command takes, on and around keyframes.
#[test]
fn snapshot_from_a_recording_is_what_the_sampler_published_at_that_time() {
    let dir = Scratch::new("churn");
    let path = dir.path("churn.wtr");
    let stop = Arc::new(AtomicBool::new(false));
    let churner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || churn(&stop))
    };
    let (sender, published) = mpsc::channel();
    let sampler_settings = SamplerSettings {
        interval: CHURN_INTERVAL,
        ..SamplerSettings::default()
    };
    let sampler = spawn(sampler_settings, move |outcome| {
        if let SampleOutcome::Published(snapshot) = outcome {
            let _ = sender.send(Arc::clone(snapshot));
        }
    })
    .unwrap();
    let mut recorder = Recorder::open(&path, settings(60)).unwrap();
    let mut live: Vec<Arc<Snapshot>> = Vec::new();
    let started = Instant::now();
    while started.elapsed() < CHURN_LENGTH {
        let snapshot = published
            .recv_timeout(Duration::from_secs(10))
            .expect("the sampler publishes");
        recorder.record(&snapshot).unwrap();
        live.push(snapshot);
    }
    drop(sampler);
    let stats = recorder.finish().unwrap();
    stop.store(true, Ordering::Relaxed);
    let groups = churner.join().unwrap();

    // There was churn to record: processes and connections that came and went.
    let identities = |s: &Snapshot| -> HashSet<(u32, u64)> {
        s.processes
            .iter()
            .map(|p| (p.pid, p.start_time_ms))
            .collect()
    };
    let sockets = |s: &Snapshot| -> HashSet<u64> {
        s.processes
            .iter()
            .flat_map(|p| p.connections.iter().map(|c| c.inode))
            .collect()
    };
    let (first, last) = (&live[0], &live[live.len() - 1]);
    let all_processes: HashSet<_> = live.iter().flat_map(|s| identities(s)).collect();
    let came_and_went = all_processes
        .iter()
        .filter(|id| !identities(first).contains(id) && !identities(last).contains(id))
        .count();
    let all_sockets: HashSet<_> = live.iter().flat_map(|s| sockets(s)).collect();
    let sockets_came_and_went = all_sockets
        .iter()
        .filter(|inode| !sockets(first).contains(inode) && !sockets(last).contains(inode))
        .count();
    println!(
        "{} samples, {} keyframes, {} bytes ({} before compression); {groups} churn groups, \
         {came_and_went} processes and {sockets_came_and_went} connections came and went",
        stats.samples, stats.keyframes, stats.bytes, stats.raw_bytes
    );
    assert!(live.len() >= 150, "{} samples", live.len());
    assert!(
        came_and_went >= 200,
        "{came_and_went} processes came and went"
    );
    assert!(
        sockets_came_and_went >= 100,
        "{sockets_came_and_went} connections came and went"
    );
    assert_eq!(stats.keyframes, live.len().div_ceil(60) as u64);

    // Every sample, read back in order, is the one published.
    let recording = Recording::open(&path).unwrap();
    assert_eq!(recording.problems(), Vec::<String>::new());
    let mut read = 0;
    for ((block, sample), expected) in recording.replay().zip(&live) {
        assert_eq!(
            &sample.unwrap(),
            &**expected,
            "sample {}",
            block.header.sequence
        );
        read += 1;
    }
    assert_eq!(read, live.len());

    // The command, at times written every way it takes.
    let end = last.host.taken_at_ms;
    let mut times: Vec<(String, usize, Environment)> = Vec::new();
    for i in [0, 1, 37, 59, 60, 61, 119, 120, 150, live.len() - 1] {
        let at = live[i].host.taken_at_ms;
        times.push((rfc3339(at), i, &[]));
    }
    // Between two samples, nearer the later one; with an offset instead of Z.
    let between = (live[90].host.taken_at_ms + live[91].host.taken_at_ms) / 2 + 50;
    times.push((time_with_offset(between), nearest(&live, between), &[]));
    // Back from the end.
    let back = end - 20_000;
    times.push(("-20s".to_owned(), nearest(&live, back), &[]));
    // A local clock time today, with the local zone set to UTC for the command.
    let second = live[100].host.taken_at_ms / 1000 * 1000;
    let clock = rfc3339(second)[11..19].to_owned();
    times.push((clock, nearest(&live, second), &[("TZ", "UTC")]));
    for (at, index, env) in &times {
        let (code, stdout, stderr) = snapshot_from(&path, Some(at), env);
        assert_eq!(code, 0, "--at {at}: {stderr}");
        assert!(stderr.is_empty(), "--at {at}: {stderr}");
        let expected = printed(&live[*index]);
        assert!(
            stdout == expected,
            "--at {at} (sample {index}): {}",
            first_difference(&expected, &stdout)
        );
    }
    // Without --at: the last sample.
    let (code, stdout, stderr) = snapshot_from(&path, None, &[]);
    assert_eq!((code, stdout == printed(last)), (0, true), "{stderr}");
    // Outside the recording: nothing, said so, exit 2.
    for at in [
        rfc3339(live[0].host.taken_at_ms - 60_000),
        rfc3339(end + 60_000),
        "-1h".into(),
    ] {
        let (code, stdout, stderr) = snapshot_from(&path, Some(&at), &[]);
        assert_eq!(code, 2, "--at {at}: {stdout}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("no sample within the recording's range"),
            "--at {at}: {stderr}"
        );
    }
    let (code, _, stderr) = snapshot_from(&path, Some("yesterday"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a time"), "{stderr}");
}

/// Variables set for one command.
type Environment = &'static [(&'static str, &'static str)];

/// `ms` as RFC 3339 at UTC+02:00.
fn time_with_offset(ms: u64) -> String {
    let shifted = rfc3339(ms + 2 * 3_600_000);
    format!("{}+02:00", shifted.trim_end_matches('Z'))
}

/// A small recording of real samples: those of a loopback server and its client (a
/// `ProcessQuery` on the server's port keeps the blocks small), taken back to back.
fn small_recording(path: &Path, samples: usize, keyframe_every: u32) -> Vec<Snapshot> {
    let (mut server, port) = tcp_server("127.0.0.1");
    let (_client, _) = tcp_client(&mut server, "127.0.0.1", port);
    let query = ProcessQuery {
        port: Some(port),
        ..ProcessQuery::default()
    };
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    let mut recorder = Recorder::open(path, settings(keyframe_every)).unwrap();
    let mut taken = Vec::new();
    for _ in 0..samples {
        std::thread::sleep(Duration::from_millis(5));
        let snapshot = Arc::new(query.apply(&sampler.sample().unwrap()));
        assert_eq!(snapshot.processes.len(), 2, "the server and its client");
        recorder.record(&snapshot).unwrap();
        taken.push((*snapshot).clone());
    }
    recorder.finish().unwrap();
    taken
}

/// `wiretop record FILE` as a child, its stderr kept for the end.
fn record_child(file: &Path, interval: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_wiretop"))
        .args(["record", "--interval", interval])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn blocks_in(file: &Path) -> usize {
    Recording::open(file).map_or(0, |r| r.blocks().len())
}

/// (b) `wiretop record` killed with SIGKILL at a random moment, three times over on the same
/// file: every complete sample reads back, an incomplete last block is ignored (and cut off by
/// the next run, which says so), and `snapshot --from` prints the last complete sample.
#[test]
fn a_recorder_killed_mid_write_leaves_every_complete_sample_readable() {
    let dir = Scratch::new("sigkill");
    let path = dir.path("killed.wtr");
    let mut rng = fastrand::Rng::with_seed(0x5167);
    let mut total = 0;
    for round in 0..3 {
        let mut child = record_child(&path, "100ms");
        let wanted = total + 8;
        let deadline = Instant::now() + Duration::from_secs(60);
        while blocks_in(&path) < wanted {
            assert!(Instant::now() < deadline, "round {round}: too few samples");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(rng.u64(0..100)));
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if round > 0 {
            assert!(stderr.contains("recording"), "round {round}: {stderr}");
        }
        let recording = Recording::open(&path).unwrap();
        match recording.gaps() {
            [] => {}
            [Gap::CutOff { offset, .. }] => {
                assert_eq!(*offset, recording.blocks().last().unwrap().end());
            }
            other => panic!("round {round}: {other:?}"),
        }
        let mut sequences = Vec::new();
        for (block, sample) in recording.replay() {
            let sample = sample.unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(sample.host.taken_at_ms, block.header.taken_at_ms);
            sequences.push(block.header.sequence);
        }
        assert_eq!(sequences, (0..sequences.len() as u64).collect::<Vec<_>>());
        total = sequences.len();
        let last = recording.blocks().last().unwrap().header.taken_at_ms;
        let (code, stdout, stderr) = snapshot_from(&path, None, &[]);
        assert_eq!(code, 0, "{stderr}");
        let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(printed["host"]["taken_at_ms"], last);
        if !recording.gaps().is_empty() {
            assert!(stderr.contains("cut off while it was written"), "{stderr}");
        }
    }
    // A clean stop: SIGTERM, exit 0, everything readable, no incomplete block.
    let child = record_child(&path, "100ms");
    let wanted = total + 3;
    while blocks_in(&path) < wanted {
        std::thread::sleep(Duration::from_millis(20));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let recording = Recording::open(&path).unwrap();
    assert!(recording.gaps().is_empty(), "{:?}", recording.gaps());
    assert!(recording.replay().all(|(_, s)| s.is_ok()));
}

/// (c) The file cut at every offset of its last block (a block of changes, then a keyframe):
/// the samples before it all read back, the cut is reported at the block's offset, and nothing
/// else is.
#[test]
fn a_recording_cut_at_any_offset_of_its_last_block_reads_up_to_the_sample_before() {
    for (name, keyframe_every) in [("changes", 60), ("keyframe", 1)] {
        let dir = Scratch::new(&format!("cut-{name}"));
        let path = dir.path("cut.wtr");
        let samples = small_recording(&path, 6, keyframe_every);
        let full = std::fs::read(&path).unwrap();
        let recording = Recording::open(&path).unwrap();
        let last = *recording.blocks().last().unwrap();
        assert_eq!(last.is_keyframe(), keyframe_every == 1);
        assert_eq!(last.end(), full.len() as u64);
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let mut checked = 0;
        for cut in (last.offset..full.len() as u64).rev() {
            file.set_len(cut).unwrap();
            let recording = Recording::open(&path).unwrap();
            assert_eq!(recording.blocks().len(), 5, "cut at {cut}");
            let expected_gaps = if cut == last.offset {
                vec![]
            } else {
                vec![Gap::CutOff {
                    offset: last.offset,
                    len: cut - last.offset,
                }]
            };
            assert_eq!(recording.gaps(), expected_gaps, "cut at {cut}");
            let read: Vec<Snapshot> = recording.replay().map(|(_, s)| s.unwrap()).collect();
            assert_eq!(read, samples[..5], "cut at {cut}");
            assert_eq!(recording.sample(4).unwrap(), samples[4], "cut at {cut}");
            checked += 1;
        }
        assert!(checked > 100, "{name}: the last block had {checked} bytes");
        // The command: the sample before, and a warning naming the offset.
        file.set_len(last.offset + (full.len() as u64 - last.offset) / 2)
            .unwrap();
        let (code, stdout, stderr) = snapshot_from(&path, None, &[]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, printed(&samples[4]));
        assert!(
            stderr.contains(&format!("offset {}", last.offset)) && stderr.contains("cut off"),
            "{stderr}"
        );
    }
}

/// (d) Random bytes flipped (seeded): every sample read is exactly the one recorded; the
/// samples read are exactly those whose blocks, back to their keyframe, were not touched; and
/// each touched block is named by its offset.
#[test]
fn flipped_bytes_lose_only_the_samples_that_depend_on_them_and_are_named() {
    let dir = Scratch::new("flips");
    let path = dir.path("clean.wtr");
    let samples = small_recording(&path, 40, 8);
    let clean = std::fs::read(&path).unwrap();
    let blocks = Recording::open(&path).unwrap().blocks().to_vec();
    let mut rng = fastrand::Rng::with_seed(0xF1195);
    let damaged_path = dir.path("damaged.wtr");
    let mut lost_any = false;
    for trial in 0..25 {
        let mut bytes = clean.clone();
        let flips: BTreeSet<usize> = (0..rng.usize(1..5))
            .map(|_| rng.usize(FILE_HEADER_LEN..bytes.len()))
            .collect();
        for &at in &flips {
            bytes[at] ^= rng.u8(1..);
        }
        std::fs::write(&damaged_path, &bytes).unwrap();
        let hit: BTreeSet<usize> = (0..blocks.len())
            .filter(|&i| {
                flips
                    .iter()
                    .any(|&at| (blocks[i].offset..blocks[i].end()).contains(&(at as u64)))
            })
            .collect();
        let readable: BTreeSet<usize> = (0..blocks.len())
            .filter(|&i| {
                let keyframe = (0..=i).rev().find(|&k| blocks[k].is_keyframe()).unwrap();
                (keyframe..=i).all(|k| !hit.contains(&k))
            })
            .collect();
        let recording = Recording::open(&damaged_path).unwrap();
        let mut read = BTreeSet::new();
        let mut named: Vec<u64> = recording
            .gaps()
            .iter()
            .map(|gap| match gap {
                Gap::Damaged { offset, .. } | Gap::CutOff { offset, .. } => *offset,
            })
            .collect();
        for (block, sample) in recording.replay() {
            let index = block.header.sequence as usize;
            match sample {
                Ok(sample) => {
                    assert_eq!(sample, samples[index], "trial {trial}: sample {index}");
                    read.insert(index);
                }
                Err(SampleError::Damaged { offset, .. }) => named.push(offset),
                Err(SampleError::Orphaned { .. }) => {}
            }
        }
        assert_eq!(read, readable, "trial {trial}: flips at {flips:?}");
        for &i in &hit {
            assert!(
                named.contains(&blocks[i].offset),
                "trial {trial}: damaged block {i} at offset {} not named in {named:?}",
                blocks[i].offset
            );
        }
        lost_any |= readable.len() < blocks.len();
        // The command, asked for a lost sample: the nearest readable one, and what it skipped.
        if let Some(&lost) = hit.iter().next() {
            let at = samples[lost].host.taken_at_ms;
            let (code, stdout, stderr) = snapshot_from(&damaged_path, Some(&rfc3339(at)), &[]);
            let expected = readable
                .iter()
                .min_by_key(|&&i| (samples[i].host.taken_at_ms.abs_diff(at), i))
                .map(|&i| printed(&samples[i]));
            match expected {
                Some(expected) => {
                    assert_eq!(code, 0, "trial {trial}: {stderr}");
                    assert_eq!(stdout, expected, "trial {trial}");
                    assert!(
                        stderr.contains(&format!("offset {}", blocks[lost].offset)),
                        "trial {trial}: {stderr}"
                    );
                }
                None => assert_eq!(code, 1, "trial {trial}: nothing readable: {stderr}"),
            }
        }
    }
    assert!(lost_any, "the flips never touched a block");
    // A damaged file header: said, and the samples still read.
    let mut bytes = clean.clone();
    bytes[14] ^= 0x40;
    std::fs::write(&damaged_path, &bytes).unwrap();
    let (code, stdout, stderr) = snapshot_from(&damaged_path, None, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, printed(&samples[39]));
    assert!(
        stderr.contains("offset 0: the file header is damaged"),
        "{stderr}"
    );
}

/// Unmounts when dropped, even when the test fails.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// (e) A 1 MiB tmpfs that fills up: `wiretop record` stops with a message naming the disk
/// problem and the file, exit 1; what it recorded before is intact, with no partial block.
/// Needs root to mount (CI runs as root): without it the test fails.
#[test]
fn a_full_disk_stops_the_recording_with_a_message_and_keeps_what_was_recorded() {
    let dir = Scratch::new("full");
    let mount_point = dir.path("tmpfs");
    std::fs::create_dir(&mount_point).unwrap();
    let status = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mount_point)
        .status()
        .expect("mount runs");
    assert!(
        status.success(),
        "mounting a 1 MiB tmpfs failed ({status}): this test needs root (CI runs as root)"
    );
    let _mount = Mount(mount_point.clone());
    // Most of the space taken already, so the recording fills the rest in seconds.
    std::fs::write(mount_point.join("filler"), vec![0u8; 640 * 1024]).unwrap();
    let path = mount_point.join("full.wtr");
    let child = record_child(&path, "100ms");
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("stopped after {:?}: {stderr}", started.elapsed());
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no space left on the device of"),
        "{stderr}"
    );
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("the samples recorded before are intact"),
        "{stderr}"
    );
    let recording = Recording::open(&path).unwrap();
    assert!(recording.gaps().is_empty(), "{:?}", recording.gaps());
    let samples: Vec<Snapshot> = recording.replay().map(|(_, s)| s.unwrap()).collect();
    assert!(
        samples.len() >= 2,
        "{} samples before the disk filled",
        samples.len()
    );
    let (code, stdout, stderr) = snapshot_from(&path, None, &[]);
    assert_eq!(
        (code, stdout),
        (0, printed(samples.last().unwrap())),
        "{stderr}"
    );
}

/// (f) A file from a later version of the format: refused by the reader and the recorder,
/// with a message that says so; the file is left as it was.
#[test]
fn a_recording_from_a_newer_format_is_refused() {
    let dir = Scratch::new("newer");
    let path = dir.path("newer.wtr");
    small_recording(&path, 2, 60);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut header = [0u8; FILE_HEADER_LEN];
    file.read_exact_at(&mut header, 0).unwrap();
    let created = FileHeader::parse(&header).unwrap().created_at_ms;
    // A well-formed header of version 2, checksum and all.
    let mut newer = FileHeader::new(created);
    newer.version = 2;
    file.write_all_at(&newer.to_bytes(), 0).unwrap();
    let before = std::fs::read(&path).unwrap();
    let (code, stdout, stderr) = snapshot_from(&path, None, &[]);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains(
            "was written in recording format 2, newer than this wiretop reads (format 1)"
        ),
        "{stderr}"
    );
    let output = record_child(&path, "100ms").wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("recording format 2"), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
