//! CPU, memory and churn figures against real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod common;

use std::time::Duration;

use common::{process, Child};
use wiretop::sample::{signal_process, Sampler, SamplerSettings, SignalError};

/// Tests that keep a core busy take turns: two spinners and a fork loop on a 2-core machine
/// would starve each other and make every CPU figure wrong.
static CPU_HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_cpu_hog_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    CPU_HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn spinning_child_reads_one_full_core() {
    let _turn = one_cpu_hog_at_a_time();
    let mut spinner = Child::python("print('ready', flush=True)\nwhile True: pass", &[]);
    spinner.line();
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    // A longer window than the one-shot gap makes the 10 ms tick granularity negligible. On a
    // machine busy with other work the spinner may really get less than a core for a while,
    // so take the best of three windows; a wrong scale (per machine instead of per core)
    // would still fail every one of them.
    let mut cpu = None;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(1));
        let snap = sampler.sample().unwrap();
        let reading = process(&snap, spinner.pid()).cpu.expect("cpu measured");
        if cpu.is_none_or(|best: wiretop::model::CpuUsage| reading.total_pct > best.total_pct) {
            cpu = Some(reading);
        }
        if reading.total_pct >= 80.0 {
            break;
        }
    }
    let cpu = cpu.expect("three readings");
    assert!(
        (80.0..=105.0).contains(&cpu.total_pct),
        "spinner at {:.1}% (user {:.1}, system {:.1})",
        cpu.total_pct,
        cpu.user_pct,
        cpu.system_pct
    );
    assert!(
        cpu.user_pct > cpu.system_pct,
        "a busy loop runs in user mode"
    );
}

#[test]
fn child_holding_200_mib_reads_at_least_200_mib_rss() {
    // Multiplying a bytes object writes every page, so all of it is resident.
    let mut holder = Child::python(
        "b = b'x' * (200 << 20)\nprint('ready', flush=True)\nimport time; time.sleep(3600)",
        &[],
    );
    holder.line();
    let snap = common::snapshot();
    let p = process(&snap, holder.pid());
    assert!(
        p.memory.rss_bytes >= 200 << 20,
        "rss {} bytes",
        p.memory.rss_bytes
    );
    assert!(p.memory.virtual_bytes >= p.memory.rss_bytes);
    assert!(p.memory.percent > 0.0);
}

#[test]
fn children_exiting_during_scans_never_fail_them() {
    let _turn = one_cpu_hog_at_a_time();
    // A shell that forks short-lived children as fast as it can, so pids vanish between every
    // read of every scan.
    let mut churn = std::process::Command::new("sh");
    churn
        .arg("-c")
        .arg("echo ready; while :; do /bin/true & /bin/true; done");
    let mut churn = Child::start(churn);
    churn.line();
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    for _ in 0..15 {
        let snap = sampler
            .sample()
            .expect("scan succeeds while processes exit");
        let mut pids: Vec<u32> = snap.processes.iter().map(|p| p.pid).collect();
        pids.dedup();
        assert_eq!(pids.len(), snap.processes.len(), "no duplicate pids");
        assert!(snap.process(churn.pid()).is_some());
    }
}

#[test]
fn new_process_gets_cpu_figure_from_its_own_lifetime() {
    let _turn = one_cpu_hog_at_a_time();
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    let mut spinner = Child::python("print('ready', flush=True)\nwhile True: pass", &[]);
    spinner.line();
    std::thread::sleep(Duration::from_millis(500));
    let snap = sampler.sample().unwrap();
    let p = process(&snap, spinner.pid());
    let cpu = p.cpu.expect("born after the baseline, still measured");
    assert!(
        cpu.total_pct > 30.0,
        "busy newcomer reads {:.1}%",
        cpu.total_pct
    );
    assert!(p.start_time_ms <= snap.host.taken_at_ms);
}

/// Forces the kernel to hand a dead process's pid to a new one (root only: writes
/// /proc/sys/kernel/ns_last_pid), and checks the newcomer is not taken for the old process.
#[test]
fn reused_pid_is_a_new_process_not_a_continuation() {
    let _turn = one_cpu_hog_at_a_time();
    if !common::not_run::runs_as_root("reused_pid_is_a_new_process_not_a_continuation") {
        return;
    }
    let spin = "print('ready', flush=True)\nwhile True: pass";
    let mut first = Child::python(spin, &[]);
    first.line();
    std::thread::sleep(Duration::from_millis(1500)); // bank CPU time under this pid
    let pid = first.pid();
    let mut sampler = Sampler::new(SamplerSettings::default());
    sampler.prime().unwrap();
    let before = sampler.sample().unwrap();
    let first_start = process(&before, pid).start_time_ms;
    drop(first);

    // Other processes may fork in between; try a few times to land on the same pid.
    let second = (0..20)
        .find_map(|_| {
            std::fs::write("/proc/sys/kernel/ns_last_pid", (pid - 1).to_string()).ok()?;
            let mut child = Child::python(spin, &[]);
            if child.pid() == pid {
                child.line();
                Some(child)
            } else {
                None
            }
        })
        .expect("the kernel handed out the old pid again");
    std::thread::sleep(Duration::from_millis(300));
    let after = sampler.sample().unwrap();
    let reused = process(&after, second.pid());
    assert_ne!(reused.start_time_ms, first_start, "a new start time");
    // Taken as a continuation, its CPU would be its few ticks minus the old process's many,
    // which saturates to zero.
    let cpu = reused.cpu.expect("measured over its own lifetime");
    assert!(cpu.total_pct > 30.0, "newcomer at {:.1}%", cpu.total_pct);

    // A kill aimed at the old process (as the explorer's kill dialog would send it from the
    // snapshot it showed) must not reach the newcomer.
    assert_eq!(
        signal_process(pid, first_start, libc::SIGKILL),
        Err(SignalError::Replaced)
    );
    std::thread::sleep(Duration::from_millis(100));
    let still = sampler.sample().unwrap();
    assert_eq!(
        process(&still, pid).start_time_ms,
        reused.start_time_ms,
        "the newcomer is alive"
    );
}

/// A signal reaches the process with that pid and start time, and nothing else.
#[test]
fn signal_reaches_only_the_process_with_that_start_time() {
    use std::os::unix::process::ExitStatusExt;
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("sleep starts");
    let pid = child.id();
    let started = process(&common::snapshot(), pid).start_time_ms;

    assert_eq!(
        signal_process(pid, started + 1_000, libc::SIGTERM),
        Err(SignalError::Replaced),
        "a later start time is another process"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(child.try_wait().unwrap().is_none(), "not signalled");

    assert_eq!(signal_process(pid, started, libc::SIGTERM), Ok(()));
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    // Reaped: gone (or, if the pid was handed out again already, someone else's).
    let after = signal_process(pid, started, libc::SIGTERM);
    assert!(
        matches!(after, Err(SignalError::Exited | SignalError::Replaced)),
        "{after:?}"
    );
    assert_eq!(
        signal_process(pid, started, 12_345),
        Err(SignalError::Invalid(12_345))
    );
}

#[test]
fn background_sampler_publishes_snapshots_and_stops_when_dropped() {
    let (tx, rx) = std::sync::mpsc::channel();
    let settings = SamplerSettings {
        interval: Duration::from_millis(200),
        ..SamplerSettings::default()
    };
    let running = wiretop::sample::spawn(settings, move |outcome| {
        if let wiretop::sample::SampleOutcome::Published(snap) = outcome {
            let _ = tx.send(snap.host.taken_at_ms);
        }
    })
    .unwrap();
    let first = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("first snapshot within 5 s");
    let second = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("second snapshot");
    assert!(second > first);
    running.stop();
    // The thread is gone, so the callback's sender is dropped and the channel closes.
    while rx.recv_timeout(Duration::from_secs(5)).is_ok() {}
    assert!(matches!(
        rx.try_recv(),
        Err(std::sync::mpsc::TryRecvError::Disconnected)
    ));
}
