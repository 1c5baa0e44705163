//! `wiretop events`: what happens on the host, printed as it is seen, one event a line, until
//! interrupted. Scriptable like `ss -E` or execsnoop, without eBPF: the events are the ones
//! every other consumer gets (see `sample/events.rs`).

use std::io::{ErrorKind, IsTerminal, Write};

use anyhow::Context;

use crate::cli::{EventsArgs, EventsFormat};
use crate::config::Effective;
use crate::escape::for_terminal;
use crate::model::LifecycleEvent;
use crate::sample::{Sampler, SamplerSettings};

/// Longer details (a command line) are cut in the table; JSON has them whole.
const TABLE_DETAILS_CHARS: usize = 160;

pub fn run(effective: &Effective, args: &EventsArgs) -> anyhow::Result<()> {
    if let Some(reason) = super::disabled_reason(effective) {
        anyhow::bail!("{reason}");
    }
    let settings = SamplerSettings::from_config(&effective.config, None)?;
    let interval = settings.interval;
    let mut sampler = Sampler::new(settings);
    sampler.prime().context("starting the sampler")?;
    // The first snapshot is the state events are changes of: it gives none.
    sampler.sample().context("taking the first snapshot")?;
    if let Some(missed) = sampler.kernel_events_unavailable() {
        eprintln!(
            "wiretop events: {missed}; events come from comparing snapshots every {interval:?}, \
             so a process that starts and exits between two of them is not seen"
        );
    }
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        EventsFormat::Table
    } else {
        EventsFormat::Json
    });
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if format == EventsFormat::Table {
        let header = format!(
            "{:<12} {:<8} {:>7} {:<16} {:<10} DETAILS",
            "TIME (UTC)", "KIND", "PID", "NAME", "USER"
        );
        if let Err(e) = writeln!(out, "{header}") {
            return quiet_on_closed_pipe(e);
        }
    }
    loop {
        std::thread::sleep(interval);
        let snapshot = sampler.sample().context("taking a snapshot")?;
        for warning in &snapshot.collection.warnings {
            tracing::debug!("{warning}");
        }
        // Not stored, but never silently missing: an exec storm outran the bounded queue.
        let lost = snapshot.collection.process_events_dropped;
        if lost > 0 {
            eprintln!("wiretop events: {lost} process events lost (more than the queue holds)");
        }
        let written = snapshot
            .events
            .iter()
            .try_for_each(|event| write_event(&mut out, event, format))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            return quiet_on_closed_pipe(e);
        }
    }
}

/// A reader that went away (`wiretop events | head`) ends the command, not as an error.
fn quiet_on_closed_pipe(error: std::io::Error) -> anyhow::Result<()> {
    if error.kind() == ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(error).context("writing events")
    }
}

fn write_event(
    out: &mut impl Write,
    event: &LifecycleEvent,
    format: EventsFormat,
) -> std::io::Result<()> {
    match format {
        EventsFormat::Json => {
            serde_json::to_writer(&mut *out, event)?;
            writeln!(out)
        }
        EventsFormat::Table => writeln!(out, "{}", table_line(event)),
    }
}

/// One event as a line for people; every text from the host passes through the terminal
/// escape first.
fn table_line(event: &LifecycleEvent) -> String {
    let time = crate::format::clock_time(event.observed_at_ms);
    let mut details = event.details();
    if let Some((cut, _)) = details.char_indices().nth(TABLE_DETAILS_CHARS) {
        details.truncate(cut);
        details.push('…');
    }
    format!(
        "{:<12} {:<8} {:>7} {:<16} {:<10} {}",
        time,
        event.kind.label(),
        event.pid,
        for_terminal(&event.name),
        for_terminal(event.user.as_deref().unwrap_or("?")),
        for_terminal(&details)
    )
}
