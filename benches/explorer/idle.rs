//! 4: the idle cost of the explorer next to htop and btop, in ptys, all in one window: run once
//! on the quiet host and once under the load the bench builds (`under_load.rs`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::load::HostSize;
use crate::programs::{find_in_path, non_blank_rows, start};
use crate::system;
use crate::{Config, BURST_GAP, FIRST_FRAME_TIMEOUT, PTY_COLS, PTY_ROWS};

pub(crate) const WIRETOP: &str = "wiretop";
pub(crate) const HTOP: &str = "htop -d 20";
pub(crate) const BTOP: &str = "btop";
/// What btop's CPU box shows once it runs at 2000 ms.
const BTOP_INTERVAL_SHOWN: &str = "2000ms";

pub(crate) struct Tool {
    pub(crate) label: &'static str,
    pub(crate) settings: &'static str,
    pub(crate) program: PathBuf,
    pub(crate) args: &'static [&'static str],
    /// Text the screen shows once the tool is really drawing.
    pub(crate) marker: &'static str,
}

pub(crate) struct IdleResult {
    pub(crate) label: &'static str,
    pub(crate) settings: &'static str,
    pub(crate) user_s: f64,
    pub(crate) system_s: f64,
    pub(crate) window_s: f64,
    pub(crate) bytes: u64,
    pub(crate) updates: usize,
    pub(crate) rss_kib: Option<u64>,
    /// VmHWM: the most it was resident at any time since it started.
    pub(crate) peak_kib: Option<u64>,
    pub(crate) threads: Option<u64>,
    pub(crate) drawing: String,
}

impl IdleResult {
    pub(crate) fn cpu_s(&self) -> f64 {
        self.user_s + self.system_s
    }

    /// CPU time a second of the window, in milliseconds.
    pub(crate) fn cpu_ms_per_s(&self) -> f64 {
        self.cpu_s() * 1000.0 / self.window_s
    }
}

/// What one idle window measured, and what to note about it.
pub(crate) struct IdleWindow {
    pub(crate) results: Vec<IdleResult>,
    pub(crate) notes: Vec<String>,
    /// The host at the start and the end of the window: another load on a shared machine
    /// shows as a change.
    pub(crate) host_before: HostSize,
    pub(crate) host_after: HostSize,
}

impl IdleWindow {
    pub(crate) fn tool(&self, label: &str) -> Option<&IdleResult> {
        self.results.iter().find(|r| r.label == label)
    }
}

pub(crate) fn clock_ticks() -> f64 {
    procfs::ticks_per_second().max(1) as f64
}

/// utime and stime of a whole process (all its threads), in clock ticks.
pub(crate) fn cpu_ticks(pid: u32) -> Result<(u64, u64)> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The name may hold spaces and parentheses: fields are counted after the last ')'.
    let rest = text
        .rfind(')')
        .map(|at| &text[at + 1..])
        .with_context(|| format!("malformed {path}"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    let field = |number: usize| -> Result<u64> {
        fields
            .get(number - 3)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("no field {number} in {path}"))
    };
    Ok((field(14)?, field(15)?))
}

/// Groups reads into screen updates: reads closer than [`BURST_GAP`] are one update.
pub(crate) fn updates_between(reads: &[Instant], from: Instant, to: Instant) -> usize {
    let mut updates = 0;
    let mut last: Option<Instant> = None;
    for &at in reads.iter().filter(|&&at| at >= from && at <= to) {
        if last.is_none_or(|prev| at.duration_since(prev) > BURST_GAP) {
            updates += 1;
        }
        last = Some(at);
    }
    updates
}

/// The tools compared: wiretop at its default interval and htop and btop at the same 2 s, so
/// each pays for the same number of samples. Tools that are not installed are left out with a
/// note.
pub(crate) fn tools(binary: &Path, home: &Path) -> Result<(Vec<Tool>, Vec<String>)> {
    let mut notes = Vec::new();
    let mut tools = vec![Tool {
        label: WIRETOP,
        settings: "explorer, --interval 2s (default)",
        program: binary.to_path_buf(),
        args: &[],
        marker: "COMMAND",
    }];
    match find_in_path("htop") {
        Some(htop) => tools.push(Tool {
            label: HTOP,
            settings: "delay 2.0 s, same as wiretop",
            program: htop,
            args: &["-d", "20"],
            marker: "Command",
        }),
        None => notes.push(
            "htop is not installed: row skipped (install with `apt-get install htop btop`)"
                .to_owned(),
        ),
    }
    match find_in_path("btop") {
        Some(btop) => {
            write_btop_config(home)?;
            tools.push(Tool {
                label: BTOP,
                settings: "update_ms 2000 (in its config file)",
                program: btop,
                args: &[],
                // btop shows its update interval in the CPU box: this proves the setting took.
                marker: BTOP_INTERVAL_SHOWN,
            })
        }
        None => notes.push(
            "btop is not installed: row skipped (install with `apt-get install htop btop`)"
                .to_owned(),
        ),
    }
    Ok((tools, notes))
}

/// btop takes its update interval from its configuration only: 2000 ms, written where btop
/// looks under the scratch HOME (every other setting keeps btop's default).
fn write_btop_config(home: &Path) -> Result<()> {
    let dir = home.join(".config").join("btop");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let file = dir.join("btop.conf");
    std::fs::write(&file, "update_ms = 2000\n")
        .with_context(|| format!("writing {}", file.display()))
}

/// One idle window of every tool in `tools`, all at once.
pub(crate) fn idle_cost(config: &Config, tools: &[Tool], home: &Path) -> Result<IdleWindow> {
    let mut notes = Vec::new();
    // All at once: each sees the same host, and one window serves them all.
    let mut running = Vec::new();
    for tool in tools {
        running.push(start(tool.label, &tool.program, tool.args, home)?);
    }
    for (tool, child) in tools.iter().zip(&running) {
        let marker = tool.marker;
        let drawing = child.wait_for(FIRST_FRAME_TIMEOUT, move |s| {
            s.contents().contains(marker) && non_blank_rows(s) >= 5
        });
        if drawing.is_none() {
            bail!(
                "{} never showed its first screen:\n{}",
                tool.label,
                child.contents()
            );
        }
    }
    eprintln!(
        "idle: {} tools drawing; warm-up {} s, then a {} s window",
        running.len(),
        config.warmup_secs,
        config.idle_secs
    );
    std::thread::sleep(Duration::from_secs(config.warmup_secs));

    let mut before = Vec::new();
    for child in &mut running {
        if let Some(status) = child.exited() {
            bail!("{} exited during the warm-up ({status})", child.label());
        }
        before.push(cpu_ticks(child.pid())?);
    }
    let bytes_before: Vec<u64> = running.iter().map(|c| c.bytes()).collect();
    let host_before = HostSize::now()?;
    let window_start = Instant::now();
    std::thread::sleep(Duration::from_secs(config.idle_secs));
    let mut after = Vec::new();
    for child in &running {
        after.push(cpu_ticks(child.pid())?);
    }
    let window_end = Instant::now();
    let host_after = HostSize::now()?;
    let window_s = (window_end - window_start).as_secs_f64();
    let ticks = clock_ticks();
    let show_screens = std::env::var_os("WIRETOP_BENCH_SHOW_SCREENS").is_some();

    let mut results = Vec::new();
    for (i, (tool, child)) in tools.iter().zip(running.iter_mut()).enumerate() {
        let rss_kib = system::status_field(child.pid(), "VmRSS:");
        let peak_kib = system::status_field(child.pid(), "VmHWM:");
        let threads = system::status_field(child.pid(), "Threads:");
        let (bytes, reads) = child.bytes_and_reads();
        let screen_rows = child.with_screen(non_blank_rows);
        if show_screens {
            eprintln!(
                "---- {} screen at the end of the window ----\n{}",
                tool.label,
                child.contents()
            );
        }
        let drawing = match child.exited() {
            Some(status) => format!("EXITED ({status})"),
            None => format!("yes, {screen_rows}/{PTY_ROWS} rows"),
        };
        results.push(IdleResult {
            label: tool.label,
            settings: tool.settings,
            user_s: after[i].0.saturating_sub(before[i].0) as f64 / ticks,
            system_s: after[i].1.saturating_sub(before[i].1) as f64 / ticks,
            window_s,
            bytes: bytes - bytes_before[i],
            updates: updates_between(&reads, window_start, window_end),
            rss_kib,
            peak_kib,
            threads,
            drawing,
        });
    }
    for child in &mut running {
        if child.quit(b"q", Duration::from_secs(5)).is_none() {
            notes.push(format!(
                "{} did not exit within 5 s of `q`; killed",
                child.label()
            ));
        }
    }
    drop(running);
    Ok(IdleWindow {
        results,
        notes,
        host_before,
        host_after,
    })
}

pub(crate) fn print_idle(title: &str, window: &IdleWindow, config: &Config) {
    println!(
        "{title}: {} s window after {} s warm-up, {}x{} pty each, all running at once",
        config.idle_secs, config.warmup_secs, PTY_COLS, PTY_ROWS
    );
    println!(
        "host: {} at the start of the window, {} at the end{}",
        window.host_before,
        window.host_after,
        if window.host_before.changed(&window.host_after) {
            " (CHANGED: something else ran)"
        } else {
            ""
        }
    );
    println!(
        "| {:<10} | {:<35} | {:>7} | {:>7} | {:>7} | {:>8} | {:>8} | {:>9} | {:>8} | {:>7} | {:>8} | {:>3} | {:<16} |",
        "tool",
        "settings",
        "user s",
        "sys s",
        "cpu s",
        "cpu ms/s",
        "% 1 core",
        "updates/s",
        "bytes/s",
        "RSS MiB",
        "peak MiB",
        "thr",
        "drawing"
    );
    println!(
        "|{:-<12}|{:-<37}|{:->9}|{:->9}|{:->9}|{:->10}|{:->10}|{:->11}|{:->10}|{:->9}|{:->10}|{:->5}|{:-<18}|",
        "", "", "", "", "", "", "", "", "", "", "", "", ""
    );
    let mib = |kib: Option<u64>| {
        kib.map_or_else(|| "?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0))
    };
    for r in &window.results {
        println!(
            "| {:<10} | {:<35} | {:>7.2} | {:>7.2} | {:>7.2} | {:>8.2} | {:>7.2}% | {:>9.2} | {:>8.0} | {:>7} | {:>8} | {:>3} | {:<16} |",
            r.label,
            r.settings,
            r.user_s,
            r.system_s,
            r.cpu_s(),
            r.cpu_ms_per_s(),
            r.cpu_s() / r.window_s * 100.0,
            r.updates as f64 / r.window_s,
            r.bytes as f64 / r.window_s,
            mib(r.rss_kib),
            mib(r.peak_kib),
            r.threads.map_or_else(|| "?".to_owned(), |t| t.to_string()),
            r.drawing
        );
    }
    if let Some(wiretop) = window.tool(WIRETOP) {
        for other in window.results.iter().filter(|r| r.label != WIRETOP) {
            let ratio = if other.cpu_s() > 0.0 {
                format!("{:.2}x", wiretop.cpu_s() / other.cpu_s())
            } else {
                "n/a (0 ticks)".to_owned()
            };
            println!("CPU ratio wiretop / {:<10}: {ratio}", other.label);
        }
    }
    println!(
        "(CPU: utime+stime of each process and all its threads from /proc/<pid>/stat, {} ticks/s, \
         so +-{:.2} s per figure, +-{:.2} ms/s over the window; RSS: VmRSS at the end of the \
         window, peak: VmHWM; updates = bursts of pty output more than {} ms apart)",
        clock_ticks(),
        1.0 / clock_ticks(),
        1000.0 / clock_ticks() / config.idle_secs as f64,
        BURST_GAP.as_millis()
    );
    for note in &window.notes {
        println!("note: {note}");
    }
}

/// What looks wrong in one idle window: a tool that exited, wiretop drawing more or less than
/// once a sample.
pub(crate) fn idle_problems(label: &str, window: &IdleWindow) -> Vec<String> {
    let mut problems = Vec::new();
    if window.host_before.changed(&window.host_after) {
        problems.push(format!(
            "{label}: the host changed during the window ({} at the start, {} at the end): \
             something else ran or stopped, the figures are suspect",
            window.host_before, window.host_after
        ));
    }
    for r in &window.results {
        if r.drawing.starts_with("EXITED") {
            problems.push(format!(
                "{label}: {} exited during the idle window",
                r.label
            ));
        }
    }
    if let Some(w) = window.tool(WIRETOP) {
        let expected = w.window_s / 2.0;
        if (w.updates as f64) > expected * 1.5 + 1.0 {
            problems.push(format!(
                "{label}: wiretop wrote {} screen updates in {:.0} s, more than one per 2 s \
                 sample",
                w.updates, w.window_s
            ));
        }
        if (w.updates as f64) < expected * 0.5 {
            problems.push(format!(
                "{label}: wiretop wrote only {} screen updates in {:.0} s (expected about {:.0})",
                w.updates, w.window_s, expected
            ));
        }
    }
    problems
}
