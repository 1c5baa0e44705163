//! The listener against the real kernel and real processes. Subscribing needs CAP_NET_ADMIN:
//! CI runs these as root, and without the privilege they fail with the reason, never pass.
//!
//! The kernel reports every process on the host to every listener, so the tests that spawn
//! take turns (an exec storm would otherwise flood the others' queues), and each looks only at
//! the pids it spawned.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use regex::Regex;

use super::super::test_support;
use super::*;
use crate::scrub::{Scrubber, MASK};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

fn settings() -> ProcEventsSettings {
    ProcEventsSettings {
        scrubber: Arc::new(Scrubber::default()),
        exclude: Vec::new(),
        limits: Limits::default(),
    }
}

fn listen(settings: ProcEventsSettings) -> ProcEvents {
    match ProcEvents::start(settings) {
        Ok(events) => events,
        Err(why) => panic!("process events unavailable (these tests need root): {why}"),
    }
}

fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"))
}

/// Drains until an event satisfies `last`, for at most 10 s; returns all the events of `pid`.
fn events_of(events: &ProcEvents, pid: u32, last: impl Fn(&ProcEvent) -> bool) -> Vec<ProcEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let mut dropped = 0;
    loop {
        let drained = events.drain();
        dropped += drained.dropped;
        assert_eq!(drained.stopped, None);
        let done = drained.events.iter().any(|e| e.pid == pid && last(e));
        seen.extend(drained.events.into_iter().filter(|e| e.pid == pid));
        if done {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "pid {pid}: no closing event in 10 s ({dropped} dropped); saw {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn is_exit(event: &ProcEvent) -> bool {
    matches!(event.kind, ProcEventKind::Exit(_))
}

fn exec_of(events: &[ProcEvent]) -> &ExecDetails {
    let mut execs = events.iter().filter_map(|e| match &e.kind {
        ProcEventKind::Exec(exec) => Some(exec),
        _ => None,
    });
    match (execs.next(), execs.next()) {
        (Some(exec), None) => exec,
        _ => panic!("not exactly one exec: {events:?}"),
    }
}

fn exit_of(events: &[ProcEvent]) -> (&ProcEvent, &ExitDetails) {
    match events.last() {
        Some(
            event @ ProcEvent {
                kind: ProcEventKind::Exit(exit),
                ..
            },
        ) => (event, exit),
        _ => panic!("the last event is no exit: {events:?}"),
    }
}

#[test]
fn a_ten_millisecond_process_is_recorded_with_its_command_line_status_and_runtime() {
    let _turn = one_at_a_time();
    let events = listen(settings());
    let mut child = spawn("sh", &["-c", "sleep 0.01; exit 3"]);
    let pid = child.id();
    assert_eq!(child.wait().map(|s| s.code()).ok().flatten(), Some(3));
    let seen = events_of(&events, pid, is_exit);
    let own = Some(std::process::id());

    assert!(
        matches!(seen.first(), Some(ProcEvent { kind: ProcEventKind::Fork, ppid, .. }) if *ppid == own),
        "forked by us first: {seen:?}"
    );
    let exec = exec_of(&seen);
    assert_eq!(
        exec.cmdline.as_deref(),
        Some(
            &[
                "sh".to_owned(),
                "-c".to_owned(),
                "sleep 0.01; exit 3".to_owned()
            ][..]
        ),
        "{exec:?}"
    );
    assert_eq!(exec.name.as_deref(), Some("sh"));
    assert_eq!(exec.uid, Some(rustix::process::geteuid().as_raw()));
    assert!(
        exec.exe.as_deref().is_some_and(|exe| exe.starts_with('/')),
        "{exec:?}"
    );
    assert_eq!(exec.missing, None);

    let (exit_event, exit) = exit_of(&seen);
    assert_eq!(exit.status, ExitStatus::Code(3));
    assert_eq!(exit_event.ppid, own);
    assert_eq!(exit.name.as_deref(), Some("sh"));
    let lifetime = exit
        .lifetime
        .unwrap_or_else(|| panic!("no lifetime: {exit:?}"));
    assert!(!lifetime.from_exec, "counted from its fork");
    assert!(
        lifetime.runtime >= Duration::from_millis(10) && lifetime.runtime < Duration::from_secs(1),
        "{lifetime:?}"
    );
    assert!(lifetime.started_at_ms <= exit_event.at_ms);
    assert!(exit_event.at_ms.abs_diff(crate::time::now_ms()) < 10_000);
}

#[test]
fn a_process_killed_by_a_signal_shows_the_signal() {
    let _turn = one_at_a_time();
    let events = listen(settings());
    let mut child = spawn("sleep", &["30"]);
    let pid = child.id();
    let started = events_of(&events, pid, |e| matches!(e.kind, ProcEventKind::Exec(_)));
    assert!(exec_of(&started).cmdline.is_some());
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let seen = events_of(&events, pid, is_exit);
    let (_, exit) = exit_of(&seen);
    assert_eq!(
        exit.status,
        ExitStatus::Signal {
            signal: 9,
            core_dumped: false
        }
    );
    assert!(exit
        .lifetime
        .is_some_and(|l| l.runtime < Duration::from_secs(10)));
}

#[test]
fn a_secret_on_a_command_line_is_scrubbed_before_it_is_recorded() {
    let _turn = one_at_a_time();
    let events = listen(settings());
    // sh's $0 and $1 after the script: they stay on its command line while it sleeps.
    let mut child = spawn("sh", &["-c", "sleep 0.05", "sh", "--password=hunter2"]);
    let pid = child.id();
    child.wait().expect("reaped");
    let seen = events_of(&events, pid, is_exit);
    let exec = exec_of(&seen);
    let cmdline = exec.cmdline.as_deref().unwrap_or_default();
    assert_eq!(
        cmdline.last().map(String::as_str),
        Some(format!("--password={MASK}").as_str()),
        "{exec:?}"
    );
    assert!(!format!("{seen:?}").contains("hunter2"), "{seen:?}");
}

#[test]
fn an_excluded_process_is_not_recorded() {
    let _turn = one_at_a_time();
    let mut settings = settings();
    settings.exclude = vec![Regex::new("wiretop-leave-me-out").expect("pattern")];
    let events = listen(settings);
    let mut excluded = spawn("sh", &["-c", "sleep 0.02", "wiretop-leave-me-out"]);
    let mut kept = spawn("sh", &["-c", "sleep 0.05", "wiretop-keep-me"]);
    excluded.wait().expect("reaped");
    kept.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|e: &ProcEvent| e.pid == kept.id() && is_exit(e))
    {
        assert!(
            Instant::now() < deadline,
            "no exit of the kept one: {seen:?}"
        );
        seen.extend(events.drain().events);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(exec_of(&seen_of(&seen, kept.id())).missing, None);
    // Its fork was queued before its exec showed what it is; nothing after.
    let left_out = seen_of(&seen, excluded.id());
    assert!(
        left_out
            .iter()
            .all(|e| matches!(e.kind, ProcEventKind::Fork)),
        "{left_out:?}"
    );
}

fn seen_of(events: &[ProcEvent], pid: u32) -> Vec<ProcEvent> {
    events.iter().filter(|e| e.pid == pid).cloned().collect()
}

/// Long-lived children, killed when dropped.
struct Sleepers(Vec<Child>);

impl Drop for Sleepers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

const STORM: usize = 10_000;
const STORM_THREADS: usize = 4;
const TRACKED: usize = 64;

#[test]
fn an_exec_storm_keeps_the_queue_and_the_bookkeeping_at_their_bounds() {
    let _turn = one_at_a_time();
    let limits = Limits {
        tracked_processes: TRACKED,
        ..Limits::default()
    };
    let events = listen(ProcEventsSettings {
        limits,
        ..settings()
    });
    let began_ms = crate::time::now_ms();
    // More live processes than the bookkeeping holds, so its bound is met.
    let sleepers = Sleepers((0..TRACKED + 36).map(|_| spawn("sleep", &["60"])).collect());
    let deadline = Instant::now() + Duration::from_secs(10);
    while events.backlog().tracked_processes < TRACKED {
        assert!(Instant::now() < deadline, "{:?}", events.backlog());
        std::thread::sleep(Duration::from_millis(2));
    }
    let storm_began = Instant::now();

    let storm = std::thread::scope(|scope| {
        let spawners: Vec<_> = (0..STORM_THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut pids = Vec::with_capacity(STORM / STORM_THREADS);
                    for _ in 0..STORM / STORM_THREADS / 25 {
                        let batch: Vec<Child> = (0..25).map(|_| spawn("/bin/true", &[])).collect();
                        for mut child in batch {
                            pids.push(child.id());
                            let _ = child.wait();
                        }
                    }
                    pids
                })
            })
            .collect();
        // Nobody drains: the bounds must hold on their own, all along.
        let mut most = Backlog {
            queued_events: 0,
            queued_bytes: 0,
            tracked_processes: 0,
        };
        while !spawners.iter().all(|s| s.is_finished()) {
            let now = events.backlog();
            most.queued_events = most.queued_events.max(now.queued_events);
            most.queued_bytes = most.queued_bytes.max(now.queued_bytes);
            most.tracked_processes = most.tracked_processes.max(now.tracked_processes);
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(most.queued_events <= limits.queued_events, "{most:?}");
        assert!(most.queued_bytes <= limits.queued_bytes, "{most:?}");
        assert!(most.tracked_processes <= TRACKED, "{most:?}");
        spawners
            .into_iter()
            .flat_map(|s| s.join().unwrap_or_default())
            .collect::<HashSet<u32>>()
    });
    let storm_took = storm_began.elapsed();
    assert_eq!(storm.len(), STORM, "every process of the storm ran");
    // Let the reader catch up with what the kernel has buffered.
    std::thread::sleep(Duration::from_millis(500));
    let backlog = events.backlog();
    assert_eq!(backlog.queued_events, limits.queued_events, "{backlog:?}");
    assert!(backlog.queued_bytes <= limits.queued_bytes, "{backlog:?}");
    // The storm's processes took the sleepers' places, then exited: fewer are left.
    assert!(backlog.tracked_processes <= TRACKED, "{backlog:?}");

    let drained = events.drain();
    let ended_ms = crate::time::now_ms();
    assert_eq!(drained.events.len(), limits.queued_events);
    // 3 events a process (fork, exec, exit): most of 30,000 had to go.
    assert!(drained.dropped > 0, "nothing dropped");
    assert!(drained.forgotten > 0, "the bookkeeping never met its bound");
    assert_eq!(drained.stopped, None);

    // Every event is accounted for, queued or counted as dropped, unless the kernel discarded
    // some (it does not say how many).
    if drained.kernel_overruns == 0 {
        let accounted = drained.events.len() as u64 + drained.dropped;
        assert!(
            accounted >= 3 * STORM as u64,
            "{accounted} events accounted for"
        );
    }

    // What is left is the newest events, and they are true to the storm.
    let mut of_storm = 0;
    let mut read_in_time = 0;
    for event in &drained.events {
        assert!(
            (began_ms.saturating_sub(1_000)..=ended_ms).contains(&event.at_ms),
            "{event:?} outside {began_ms}..{ended_ms}"
        );
        if !storm.contains(&event.pid) {
            continue;
        }
        of_storm += 1;
        match &event.kind {
            ProcEventKind::Exec(exec) => {
                if let Some(cmdline) = &exec.cmdline {
                    assert_eq!(cmdline, &["/bin/true"], "{event:?}");
                }
                assert!(
                    exec.name.as_deref().is_none_or(|n| n == "true"),
                    "{event:?}"
                );
                assert!(
                    exec.cmdline.is_some() || exec.missing.is_some(),
                    "{event:?}"
                );
                read_in_time += usize::from(exec.cmdline.is_some());
            }
            ProcEventKind::Exit(exit) => {
                assert_eq!(exit.status, ExitStatus::Code(0), "{event:?}");
                if let Some(lifetime) = exit.lifetime {
                    assert!(lifetime.runtime < Duration::from_secs(5), "{event:?}");
                    assert!(lifetime.started_at_ms <= event.at_ms, "{event:?}");
                }
            }
            ProcEventKind::Fork => assert_eq!(event.ppid, Some(std::process::id())),
            ProcEventKind::Uid { .. } | ProcEventKind::Comm { .. } => {
                panic!("/bin/true neither setuids nor renames itself: {event:?}")
            }
        }
    }
    assert!(
        of_storm > limits.queued_events / 2,
        "{of_storm} of the storm"
    );
    println!(
        "{STORM} processes in {:?}: {} events dropped ({} kernel overruns), {} forgotten; \
         {of_storm} of the storm kept, {read_in_time} execs read in time",
        storm_took, drained.dropped, drained.kernel_overruns, drained.forgotten
    );
    drop(sleepers);
}

/// The reader threads of this process that are alive.
fn reader_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == THREAD_NAME)
        })
        .count()
}

fn eventfds() -> usize {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    fds.filter_map(Result::ok)
        .filter(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| target.to_string_lossy().contains("eventfd"))
        })
        .count()
}

#[test]
fn dropping_the_handle_stops_the_reader_promptly() {
    if !test_support::in_child() {
        let _turn = one_at_a_time();
        test_support::run_in_child(
            module_path!(),
            "dropping_the_handle_stops_the_reader_promptly",
        );
        return;
    }
    // Alone in this process: every reader thread and eventfd here is this test's.
    let (threads, stop_fds) = (reader_threads(), eventfds());
    let events = listen(settings());
    assert_eq!(reader_threads(), threads + 1);
    assert_eq!(eventfds(), stop_fds + 1);
    // Keep it busy reading while it is told to stop.
    let mut busy = spawn(
        "sh",
        &["-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"],
    );
    std::thread::sleep(Duration::from_millis(5));
    let stopping = Instant::now();
    drop(events);
    let took = stopping.elapsed();
    let _ = busy.wait();
    assert!(took < Duration::from_millis(500), "the drop took {took:?}");
    assert_eq!(reader_threads(), threads, "the thread ended");
    assert_eq!(eventfds(), stop_fds, "and its descriptors are closed");
    println!("stopped in {took:?}");
}

#[test]
fn without_cap_net_admin_the_reason_is_the_privilege() {
    // Capabilities are per thread: this one gives up CAP_NET_ADMIN, the test process keeps it.
    let outcome = std::thread::spawn(|| {
        use rustix::thread::{capabilities, set_capabilities, CapabilitySet};
        let mut sets = capabilities(None).expect("own capabilities");
        sets.effective.remove(CapabilitySet::NET_ADMIN);
        set_capabilities(None, sets).expect("giving up CAP_NET_ADMIN");
        ProcEvents::start(settings()).map(|_| ())
    })
    .join()
    .expect("the thread ran");
    assert_eq!(outcome, Err(Unavailable::NotPermitted));
    assert_eq!(
        Unavailable::NotPermitted.to_string(),
        "needs CAP_NET_ADMIN (run as root)"
    );
}

#[test]
fn in_a_network_namespace_of_its_own_the_reason_is_the_namespace() {
    if !test_support::in_child() {
        test_support::run_in_child_under(
            &["unshare", "--net"],
            module_path!(),
            "in_a_network_namespace_of_its_own_the_reason_is_the_namespace",
        );
        return;
    }
    let outcome = ProcEvents::start(settings()).map(|_| ());
    assert_eq!(outcome, Err(Unavailable::OtherNamespace("network")));
}

#[test]
fn in_a_pid_namespace_of_its_own_the_reason_is_the_namespace() {
    if !test_support::in_child() {
        test_support::run_in_child_under(
            &["unshare", "--pid", "--fork"],
            module_path!(),
            "in_a_pid_namespace_of_its_own_the_reason_is_the_namespace",
        );
        return;
    }
    // The kernel would ignore the subscription without a word: the namespace is checked
    // first, so there is no wait for an answer that never comes.
    let asked = Instant::now();
    let outcome = ProcEvents::start(settings()).map(|_| ());
    assert_eq!(outcome, Err(Unavailable::OtherNamespace("pid")));
    assert!(asked.elapsed() < ACK_TIMEOUT);
}
