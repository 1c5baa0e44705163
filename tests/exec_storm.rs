//! An exec storm during `wiretop events`: memory stays bounded, what was lost is reported, and
//! events go on. A test binary of its own: 10,000 processes at full speed would starve the
//! other event tests' 10 ms process of the moment its command line can be read.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;

use common::terminal::Terminal;

/// One storm at a time: two would measure each other.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// 10,000 short processes from 4 threads, as fast as they go; returns how long it took.
fn exec_storm() -> Duration {
    let started = Instant::now();
    let storm: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..2_500 {
                    let _ = Command::new("/bin/true").status();
                }
            })
        })
        .collect();
    for thread in storm {
        thread.join().unwrap();
    }
    started.elapsed()
}

/// The peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in status")
}

#[test]
fn an_exec_storm_keeps_memory_bounded_reports_what_was_lost_and_events_go_on() {
    let _serial = one_at_a_time();
    let scratch = std::env::temp_dir().join(format!("wiretop-storm-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_wiretop"))
        // A long interval, so that one interval's events are more than the queue holds.
        .args(["--interval", "5s", "events", "--format", "json"])
        .env("XDG_CONFIG_HOME", &scratch)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wiretop events starts");
    let wiretop = child.id();
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (err_tx, err_lines) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = err_tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(5_500));
    let before_kib = peak_rss_kib(wiretop);

    let storm_secs = exec_storm().as_secs_f64();
    // Still there, and still reporting: a process started now is printed.
    let marker = Command::new("sh")
        .args(["-c", "sleep 0.05", "after-the-storm"])
        .status()
        .unwrap();
    assert!(marker.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut printed = 0usize;
    let mut after = false;
    while !after && Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
            let event: Value = serde_json::from_str(&line).expect("one JSON object a line");
            printed += 1;
            after |= event["cmdline"].to_string().contains("after-the-storm");
        }
    }
    let peak_kib = peak_rss_kib(wiretop);
    let _ = child.kill();
    let _ = child.wait();
    let warnings: Vec<String> = err_lines.try_iter().collect();
    println!(
        "storm of 10,000 in {storm_secs:.1} s: {printed} events printed, peak RSS {before_kib} -> \
         {peak_kib} KiB, stderr: {warnings:?}"
    );
    assert!(
        after,
        "an event after the storm was printed ({printed} before it)"
    );
    // Thousands lost: the bounded queue dropped them (the kernel's own overruns count once
    // each, whatever they lost).
    let lost: u64 = warnings
        .iter()
        .filter_map(|w| w.strip_prefix("wiretop events: "))
        .filter_map(|w| w.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert!(lost > 5_000, "the loss is reported: {warnings:?}");
    // Unbounded, 30,000 events of a few hundred bytes would take 8 MiB and, as the queue grows
    // by doubling, up to 16 MiB (the sampler itself moves by a few MiB on a busy host); the queue holds
    // 4,096 of them and the bookkeeping 8,192 processes.
    assert!(
        peak_kib < before_kib + 12 * 1024,
        "memory stayed bounded: {before_kib} -> {peak_kib} KiB"
    );
}

#[test]
fn the_explorer_keeps_redrawing_through_an_exec_storm_and_says_what_it_lost() {
    let _serial = one_at_a_time();
    let mut ui = Terminal::open(&["--interval", "2s"]);
    ui.until("the process table", |rows| {
        rows.iter().any(|r| r.contains("COMMAND"))
    });
    let explorer = ui.pid();
    let before_kib = peak_rss_kib(explorer);

    // The screen is looked at while the storm runs: each snapshot redraws the header.
    let storm = std::thread::spawn(exec_storm);
    let mut headers = std::collections::BTreeSet::new();
    while !storm.is_finished() {
        if let Some(first) = ui.rows().first() {
            headers.insert(first.clone());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let storm_took = storm.join().unwrap();
    let rows = ui.until("the lost process events in the header", |rows| {
        rows.iter().any(|r| r.contains("process events lost"))
    });
    let peak_kib = peak_rss_kib(explorer);
    println!(
        "explorer through a storm of 10,000 in {storm_took:?}: {} distinct header lines, peak RSS \
         {before_kib} -> {peak_kib} KiB",
        headers.len()
    );
    // A snapshot every 2 s: the storm lasts several, each one drawn as it came.
    let expected = (storm_took.as_secs() / 2).max(1) as usize;
    assert!(
        headers.len() > expected / 2,
        "redrawn {} times in {storm_took:?}: {headers:#?}",
        headers.len()
    );
    assert!(
        peak_kib < before_kib + 64 * 1024,
        "memory stayed bounded: {before_kib} -> {peak_kib} KiB\n{}",
        rows.join("\n")
    );
    ui.quit();
}
