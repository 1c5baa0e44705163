//! 3: keypress-to-screen latency of the real binary in a pty.

use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::programs::start;
use crate::synthetic::Rng;
use crate::{
    millis, Config, Summary, FIRST_FRAME_TIMEOUT, INPUT_TARGET_MS, KEY_TIMEOUT, PTY_COLS, PTY_ROWS,
};

pub(crate) struct EndToEnd {
    pub(crate) first_frame: Duration,
    pub(crate) samples: Vec<f64>,
    pub(crate) missed: usize,
    pub(crate) exit: Option<ExitStatus>,
    pub(crate) bytes_per_key: f64,
}

pub(crate) fn end_to_end(config: &Config, binary: &Path, home: &Path) -> Result<EndToEnd> {
    let mut ui = start("wiretop", binary, &["--interval", "2s"], home)?;
    let Some(first) = ui.wait_for(FIRST_FRAME_TIMEOUT, |s| {
        let text = s.contents();
        text.contains("tasks") && text.contains("COMMAND")
    }) else {
        bail!(
            "wiretop never showed its first snapshot; screen:\n{}",
            ui.contents()
        );
    };
    let first_frame = first - ui.started;
    std::thread::sleep(Duration::from_millis(300));

    let mut rng = Rng(0x005e_ed0f_cafe);
    let mut samples = Vec::with_capacity(config.key_samples);
    let mut missed = 0;
    let mut bytes_during = 0u64;
    for i in 0..config.key_samples {
        // N sorts by pid (ascending), P by CPU (descending): the title row's marker flips.
        let (pressed, marker) = if i % 2 == 0 {
            (b"N", "PID▲")
        } else {
            (b"P", "CPU%▼")
        };
        let armed = ui.arm(move |s| s.contents().contains(marker));
        if !armed {
            bail!(
                "the screen already shows {marker} before pressing {}; screen:\n{}",
                pressed[0] as char,
                ui.contents()
            );
        }
        let bytes_before = ui.bytes();
        let sent = Instant::now();
        ui.send(pressed)?;
        match ui.wait_armed(KEY_TIMEOUT) {
            Some(seen) => samples.push(millis(seen.saturating_duration_since(sent))),
            None => missed += 1,
        }
        bytes_during += ui.bytes() - bytes_before;
        // Spread the presses over the sampler's 2 s cycle.
        std::thread::sleep(Duration::from_millis(rng.between(60, 220)));
    }
    let exit = ui.quit(b"q", Duration::from_secs(5));
    Ok(EndToEnd {
        first_frame,
        bytes_per_key: bytes_during as f64 / config.key_samples as f64,
        samples,
        missed,
        exit,
    })
}

pub(crate) fn print_end_to_end(e2e: &EndToEnd) {
    let s = Summary::of(&e2e.samples);
    println!(
        "3. End-to-end keypress-to-screen latency: wiretop --interval 2s in a {PTY_COLS}x{PTY_ROWS} \
         pty, N / P alternately, until vt100 shows the new sort marker"
    );
    println!(
        "| {:<22} | {:>5} | {:>6} | {:>9} | {:>9} | {:>9} | {:>8} |",
        "measurement", "n", "missed", "median ms", "p95 ms", "max ms", "target"
    );
    println!(
        "|{:-<24}|{:->7}|{:->8}|{:->11}|{:->11}|{:->11}|{:->10}|",
        "", "", "", "", "", "", ""
    );
    println!(
        "| {:<22} | {:>5} | {:>6} | {:>9.3} | {:>9.3} | {:>9.3} | {:>8} |",
        "key to screen",
        s.count,
        e2e.missed,
        s.median,
        s.p95,
        s.max,
        s.verdict(INPUT_TARGET_MS)
    );
    println!(
        "start to first full screen: {:.0} ms; pty output per key (incl. any refresh in the \
         wait): {:.0} bytes; exit after q: {}",
        millis(e2e.first_frame),
        e2e.bytes_per_key,
        match e2e.exit {
            Some(status) if status.success() => "0 (clean)".to_owned(),
            Some(status) => format!("{status} (NOT clean)"),
            None => "did not exit within 5 s (killed)".to_owned(),
        }
    );
}

/// What looks wrong in the keypress measurements.
pub(crate) fn end_to_end_problems(e2e: &EndToEnd, config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    let s = Summary::of(&e2e.samples);
    if e2e.missed > 0 {
        problems.push(format!(
            "{} of {} keypresses never reached the screen within {KEY_TIMEOUT:?}",
            e2e.missed, config.key_samples
        ));
    }
    if s.p95 > INPUT_TARGET_MS {
        problems.push(format!(
            "end-to-end key latency p95 {:.1} ms over {INPUT_TARGET_MS} ms",
            s.p95
        ));
    }
    if !e2e.exit.is_some_and(|status| status.success()) {
        problems.push("wiretop did not exit cleanly on q".to_owned());
    }
    problems
}
