//! What scrubbing costs per process, on the command lines of the scrubbing corpus.
//!
//! `cargo bench --bench scrub` builds 1,000 command lines from `src/scrub/corpus.rs` (the lines
//! with secrets and the look-alikes, in turn, until there are 1,000) and measures, in
//! interleaved rounds:
//!
//! * `Scrubber::scrub` over all 1,000 argvs (the sampler's cost when every process's details
//!   are read: at start and on each 30 s refresh; cached in between),
//! * `Scrubber::scrub_name` over 1,000 process names,
//! * for reference, reading `/proc/self/cmdline` 1,000 times: the read the sampler does for
//!   every process anyway before it scrubs anything,
//! * and, to show the cost stays linear whatever a process puts in its arguments, one
//!   1 MiB argument of each of a few adversarial patterns, reported as MiB/s.
//!
//! Sizes come from `WIRETOP_BENCH_PROCS` (command lines, default 1000) and `WIRETOP_BENCH_RUNS`
//! (rounds, default 30).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed run

mod support;

#[allow(dead_code)] // the corpus test's types are not all needed here
#[path = "../src/scrub/corpus.rs"]
mod corpus;

use std::hint::black_box;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use wiretop::scrub::Scrubber;

fn main() {
    if let Err(error) = run() {
        eprintln!("scrub bench failed: {error:#}");
        std::process::exit(1);
    }
}

/// The corpus's command lines, repeated in turn up to `count`.
fn command_lines(count: usize) -> Vec<Vec<String>> {
    let all: Vec<&[&str]> = corpus::LEAKS
        .iter()
        .map(|(argv, _, _)| *argv)
        .chain(corpus::LOOK_ALIKES.iter().copied())
        .collect();
    all.iter()
        .cycle()
        .take(count)
        .map(|argv| argv.iter().map(|a| (*a).to_owned()).collect())
        .collect()
}

/// Process names: the corpus's first argv words cut to the kernel's 15 bytes, as comm is.
fn names(lines: &[Vec<String>]) -> Vec<String> {
    lines
        .iter()
        .map(|argv| {
            let first = argv.first().map(String::as_str).unwrap_or_default();
            let name = first.rsplit('/').next().unwrap_or(first);
            name.char_indices()
                .take_while(|(i, c)| i + c.len_utf8() <= 15)
                .map(|(_, c)| c)
                .collect()
        })
        .collect()
}

/// Nanoseconds per item of `f` run over `items`.
fn per_item<T>(items: &[T], mut f: impl FnMut(&T)) -> f64 {
    let started = Instant::now();
    for item in items {
        f(item);
    }
    started.elapsed().as_nanos() as f64 / items.len().max(1) as f64
}

struct Row {
    name: &'static str,
    ns: Vec<f64>,
}

fn run() -> Result<()> {
    let count: usize = support::env_number("WIRETOP_BENCH_PROCS", 1000)?;
    let runs: usize = support::env_number("WIRETOP_BENCH_RUNS", 30)?;
    ensure!(
        count >= 1 && runs >= 1,
        "WIRETOP_BENCH_PROCS and _RUNS must be at least 1"
    );
    let scrubber = Scrubber::default();
    let lines = command_lines(count);
    let comms = names(&lines);
    let bytes: usize = lines.iter().flatten().map(|a| a.len() + 1).sum();

    // Warm-up: builds the shaped-secret regex and the program table, fills caches.
    for argv in &lines {
        black_box(scrubber.scrub(argv));
    }
    std::fs::read("/proc/self/cmdline").context("reading /proc/self/cmdline")?;

    let mut rows = [
        Row {
            name: "scrub argv",
            ns: Vec::new(),
        },
        Row {
            name: "scrub name (comm)",
            ns: Vec::new(),
        },
        Row {
            name: "read /proc/self/cmdline",
            ns: Vec::new(),
        },
    ];
    for _ in 0..runs {
        rows[0].ns.push(per_item(&lines, |argv| {
            black_box(scrubber.scrub(black_box(argv)));
        }));
        rows[1].ns.push(per_item(&comms, |name| {
            black_box(scrubber.scrub_name(black_box(name)));
        }));
        rows[2].ns.push(per_item(&lines, |_| {
            black_box(std::fs::read("/proc/self/cmdline").ok());
        }));
    }

    println!();
    println!("wiretop scrub bench");
    println!("machine: {}", support::machine_line());
    println!("load average: {}", support::load_average());
    println!(
        "{count} command lines from the scrubbing corpus ({} with secrets, {} look-alikes, \
         cycled), {bytes} bytes of argv in all, {runs} rounds",
        corpus::LEAKS.len(),
        corpus::LOOK_ALIKES.len()
    );
    println!();
    println!(
        "| {:<25} | {:>16} | {:>13} | {:>20} |",
        "per process", "median ns", "p95 ns", "for all, median ms"
    );
    println!("|{:-<27}|{:->18}|{:->15}|{:->22}|", "", "", "", "");
    for row in &rows {
        let median = support::median(&row.ns);
        println!(
            "| {:<25} | {:>16.0} | {:>13.0} | {:>20.3} |",
            row.name,
            median,
            support::percentile(&row.ns, 95.0),
            median * count as f64 / 1e6
        );
    }
    println!();
    println!(
        "ratio of medians, scrub argv / read cmdline: {:.2}x",
        support::median(&rows[0].ns) / support::median(&rows[2].ns)
    );

    println!();
    println!(
        "| {:<40} | {:>12} |",
        "one 1 MiB argument (sh -c …)", "MiB/s"
    );
    println!("|{:-<42}|{:->14}|", "", "");
    let patterns = [
        "word ",
        "password=x ",
        "a=",
        "'\"",
        "https://u:p@h/?token=x&",
        "eyJ",
        "-----BEGIN PRIVATE KEY-----",
        "$(mysql -p",
        "ghp_",
        "{\"password\":",
        "a=b;password='",
        "x;AccountKey=\"",
    ];
    for pattern in patterns {
        let arg = pattern.repeat((1 << 20) / pattern.len());
        let argv = vec!["sh".to_owned(), "-c".to_owned(), arg];
        let mut ns = Vec::new();
        for _ in 0..runs.min(5) {
            let started = Instant::now();
            black_box(scrubber.scrub(black_box(&argv)));
            ns.push(started.elapsed().as_nanos() as f64);
        }
        let mib_per_s = (argv[2].len() as f64 / (1 << 20) as f64) / (support::median(&ns) / 1e9);
        println!(
            "| {:<40} | {:>12.1} |",
            format!("{pattern:?} repeated"),
            mib_per_s
        );
    }
    Ok(())
}
