//! The header: host, uptime, load and network on the first line with the sample's age at its
//! right; a CPU meter per core (bars, or a heat strip on many cores: see
//! [`crate::ui::cpu_meters`]); memory and swap; the sort and warnings with the counts
//! right-aligned. Text that does not fit is left out a part at a time, or cut between words,
//! never inside one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::escape::for_terminal;
use crate::format::{human_bytes, rate_per_sec, uptime};
use crate::model::{HostCpu, Snapshot};
use crate::ui::app::App;
use crate::ui::cpu_meters::{
    bar_width, cores_of, strip_cell, CpuMeters, OTHER_HEADER_LINES, STRIP_LABEL_WIDTH,
};
use crate::ui::theme::Theme;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, theme: &Theme, now_ms: u64) {
    let Some(snapshot) = app.snapshot().map(|s| &**s) else {
        buf.set_stringn(
            area.x,
            area.y,
            "wiretop: taking the first sample…",
            usize::from(area.width),
            theme.label(),
        );
        return;
    };
    let status = status_text(snapshot, app, now_ms);
    // Sample age (or PAUSED) sits at the right end of the first line, when there is room.
    let status_width = cells(&status) as u16;
    let status_shown = area.width > status_width + 20;
    let reserved = if status_shown { status_width } else { 0 };
    if area.height <= OTHER_HEADER_LINES {
        compact(buf, area, snapshot, reserved, theme);
    } else {
        full(buf, area, snapshot, app, reserved, theme);
    }
    if status_shown {
        let style = if app.view.paused {
            theme.paused()
        } else {
            theme.label()
        };
        buf.set_string(area.x + area.width - status_width, area.y, &status, style);
    }
}

fn status_text(snapshot: &Snapshot, app: &App, now_ms: u64) -> String {
    if app.view.paused {
        return " PAUSED ".to_owned();
    }
    let age = now_ms.saturating_sub(snapshot.host.taken_at_ms) as f64 / 1000.0;
    format!(
        " age {age:.1}s / every {:.1}s ",
        snapshot.host.interval_ms as f64 / 1000.0
    )
}

/// The first line's parts in the order shown, each with its rank (0 first): a narrow terminal
/// keeps the best-ranked whole and leaves the others out (the uptime before the network).
fn identity(s: &Snapshot) -> Vec<(u8, String)> {
    let h = &s.host;
    let mut parts = vec![
        (0, for_terminal(&h.hostname).into_owned()),
        (3, format!("up {}", uptime(h.uptime_secs))),
        (
            1,
            format!(
                "load {:.2} {:.2} {:.2}",
                h.load_average.one, h.load_average.five, h.load_average.fifteen
            ),
        ),
    ];
    parts.extend(network(s).map(|n| (2, n)));
    if !h.tags.is_empty() {
        parts.push((
            4,
            for_terminal(&format!("[{}]", h.tags.join(" "))).into_owned(),
        ));
    }
    parts
}

/// The best-ranked of `parts` that fit in `width` cells together, whole, two spaces apart, in
/// their own order.
fn ranked_parts(parts: &[(u8, String)], width: usize) -> String {
    let mut by_rank: Vec<usize> = (0..parts.len()).collect();
    by_rank.sort_by_key(|&i| parts[i].0);
    let mut kept = vec![false; parts.len()];
    let mut used = 0;
    for i in by_rank {
        let gap = if used == 0 { 0 } else { 2 };
        if used + gap + cells(&parts[i].1) <= width {
            used += gap + cells(&parts[i].1);
            kept[i] = true;
        }
    }
    let shown: Vec<String> = parts
        .iter()
        .zip(kept)
        .filter(|(_, keep)| *keep)
        .map(|((_, text), _)| text.clone())
        .collect();
    shown.join("  ")
}

/// The right-aligned summary of the status line, most important first.
fn summary(s: &Snapshot) -> Vec<String> {
    let c = &s.host.counts;
    vec![
        format!("tasks {}, {} thr", c.processes, c.threads),
        format!("listening {}", c.listening_sockets),
        format!("established {}", c.established_connections),
    ]
}

/// `net rx 1.5M/s tx 256K/s`: the host's interfaces (loopback left out), as htop's and btop's
/// network meters; `-` until a second reading gives a rate.
fn network(s: &Snapshot) -> Option<String> {
    let n = s.host.network?;
    Some(format!(
        "net rx {} tx {}",
        rate_per_sec(n.rx_bytes_per_sec),
        rate_per_sec(n.tx_bytes_per_sec)
    ))
}

/// As many of `parts` as fit in `width` cells, whole, two spaces apart.
fn whole_parts(parts: &[String], width: usize) -> String {
    let mut line = String::new();
    for part in parts {
        let gap = if line.is_empty() { 0 } else { 2 };
        if cells(&line) + gap + cells(part) > width {
            break;
        }
        if gap > 0 {
            line.push_str("  ");
        }
        line.push_str(part);
    }
    line
}

/// `text` cut to `width` cells at a space, never inside a word, with `…` when cut.
fn at_word(text: &str, width: usize) -> String {
    if cells(text) <= width {
        return text.to_owned();
    }
    let room = width.saturating_sub(1);
    let prefix: String = text.chars().take(room).collect();
    // Cut before the word that does not fit whole (a space right after the prefix: it did fit).
    let cut = if text.chars().nth(room) == Some(' ') {
        prefix.trim_end()
    } else {
        prefix
            .rsplit_once(' ')
            .map_or("", |(kept, _)| kept.trim_end())
    };
    if cut.is_empty() {
        return String::new();
    }
    format!("{cut}…")
}

fn cells(text: &str) -> usize {
    text.chars().count()
}

fn busy(c: &HostCpu) -> f64 {
    c.user_pct + c.system_pct + c.iowait_pct
}

fn compact(buf: &mut Buffer, area: Rect, s: &Snapshot, status_width: u16, theme: &Theme) {
    let cpu = s.host.cpu.as_ref().map_or(0.0, busy);
    let m = &s.host.memory;
    let c = &s.host.counts;
    let parts = [
        for_terminal(&s.host.hostname).into_owned(),
        format!(
            "cpu {cpu:.0}% mem {:.0}%",
            percent(m.used_bytes, m.total_bytes)
        ),
        format!(
            "{}p L{} E{}",
            c.processes, c.listening_sockets, c.established_connections
        ),
    ];
    let width = usize::from(area.width.saturating_sub(status_width));
    buf.set_string(area.x, area.y, whole_parts(&parts, width), theme.value());
}

fn percent(used: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        used as f64 * 100.0 / total as f64
    }
}

fn full(buf: &mut Buffer, area: Rect, s: &Snapshot, app: &App, status_width: u16, theme: &Theme) {
    let width = usize::from(area.width);
    let identity_width = width.saturating_sub(usize::from(status_width) + 1);
    buf.set_string(
        area.x,
        area.y,
        ranked_parts(&identity(s), identity_width),
        theme.value(),
    );

    let meter_rows = area.height.saturating_sub(OTHER_HEADER_LINES);
    let cores = cores_of(&s.host);
    let meters = CpuMeters::new(cores, area.width, meter_rows);
    let meters_area = Rect::new(area.x, area.y + 1, area.width, meters.rows());
    cpu_meters(buf, meters_area, meters, s, theme);

    let memory_y = meters_area.y + meters_area.height;
    memory(buf, Rect::new(area.x, memory_y, area.width, 1), s, theme);
    status_line(
        buf,
        Rect::new(area.x, memory_y + 1, area.width, 1),
        s,
        app,
        theme,
    );
}

/// One meter per core: bars filled column by column like htop (cpu0 to cpu7 down the left,
/// cpu8 on down the next), or a heat strip of one cell per core.
fn cpu_meters(buf: &mut Buffer, area: Rect, meters: CpuMeters, s: &Snapshot, theme: &Theme) {
    let cores = cores_of(&s.host);
    match meters {
        CpuMeters::Bars { columns, rows } => {
            let bar = bar_width(area.width, columns);
            let digits = (cores.saturating_sub(1)).to_string().len();
            for core in 0..cores {
                let (column, row) = (core / usize::from(rows), core % usize::from(rows));
                let (Ok(column), Ok(row)) = (u16::try_from(column), u16::try_from(row)) else {
                    break;
                };
                if column >= columns {
                    break;
                }
                let split = s.host.cpus.get(core);
                let segments = split.map_or_else(Vec::new, |c| {
                    vec![
                        (c.user_pct, theme.gauge_user()),
                        (c.system_pct, theme.gauge_system()),
                        (c.iowait_pct, theme.gauge_io()),
                    ]
                });
                let text = split.map_or_else(|| "-".to_owned(), |c| format!("{:.1}%", busy(c)));
                gauge(
                    buf,
                    Rect::new(area.x + column * (bar + 1), area.y + row, bar, 1),
                    &format!("{core:>digits$}"),
                    &segments,
                    &text,
                    theme,
                );
            }
        }
        CpuMeters::Strip { per_row, rows } => {
            let average = s
                .host
                .cpu
                .as_ref()
                .map_or_else(|| "-".to_owned(), |c| format!("{:.0}%", busy(c)));
            buf.set_string(area.x, area.y, format!("CPU {average:>4} "), theme.label());
            for (core, split) in s.host.cpus.iter().enumerate() {
                let row = core / usize::from(per_row);
                let Ok(row) = u16::try_from(row) else { break };
                if row >= rows {
                    break;
                }
                let x = area.x + STRIP_LABEL_WIDTH + (core % usize::from(per_row)) as u16;
                let load = busy(split);
                let style = if load >= 80.0 {
                    theme.gauge_system()
                } else {
                    theme.gauge_user()
                };
                buf.set_string(x, area.y + row, strip_cell(load).to_string(), style);
            }
        }
    }
}

fn memory(buf: &mut Buffer, area: Rect, s: &Snapshot, theme: &Theme) {
    let m = &s.host.memory;
    let half = area.width / 2;
    gauge(
        buf,
        Rect::new(area.x, area.y, half.saturating_sub(1), 1),
        "Mem",
        &[(percent(m.used_bytes, m.total_bytes), theme.gauge_user())],
        &format!(
            "{}/{}",
            human_bytes(m.used_bytes),
            human_bytes(m.total_bytes)
        ),
        theme,
    );
    gauge(
        buf,
        Rect::new(area.x + half, area.y, area.width - half, 1),
        "Swp",
        &[(
            percent(m.swap_used_bytes, m.swap_total_bytes),
            theme.gauge_system(),
        )],
        &format!(
            "{}/{}",
            human_bytes(m.swap_used_bytes),
            human_bytes(m.swap_total_bytes)
        ),
        theme,
    );
}

/// Sort, warnings and the uplink on the left; the counts right-aligned, kept whole, given
/// at most half the line.
fn status_line(buf: &mut Buffer, area: Rect, s: &Snapshot, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    let summary = whole_parts(&summary(s), width / 2);
    let summary_width = cells(&summary);
    if summary_width > 0 {
        buf.set_string(
            area.x + (area.width - summary_width as u16),
            area.y,
            &summary,
            theme.value(),
        );
    }
    let room = width.saturating_sub(summary_width + usize::from(summary_width > 0) * 2);
    let status = for_terminal(&status(s, app)).into_owned();
    buf.set_string(area.x, area.y, at_word(&status, room), theme.label());
}

fn status(s: &Snapshot, app: &App) -> String {
    let view = &app.view;
    let arrow = if view.sort.descending { "▼" } else { "▲" };
    let mut status = format!("sort {} {arrow}", view.sort.column.title());
    if view.tree {
        status.push_str("  tree");
    }
    if let Some(unexpected) = app.unexpected_count() {
        status.push_str(&format!("  ! {unexpected} unexpected"));
    }
    if !s.collection.warnings.is_empty() {
        status.push_str(&format!("  ⚠ {}", s.collection.warnings.join("; ")));
    }
    if s.collection.restricted {
        status.push_str("  not root: some processes' sockets hidden");
    }
    if let Some(uplink) = app.uplink().and_then(|u| u.lock().ok().map(|s| s.clone())) {
        let c = &uplink.counters;
        status.push_str(&format!("  uplink {}", uplink.state.label()));
        // Risks in the uplink's settings, first so a narrow terminal still shows them (the
        // explorer owns the terminal: no log line can say it).
        for warning in &uplink.warnings {
            status.push_str(&format!(" ⚠ {}", warning.headline));
        }
        status.push_str(&format!(
            " sent {} queued {} dropped {}",
            c.sent,
            uplink.queued,
            c.dropped_total()
        ));
        if let Some(error) = &c.last_error {
            if uplink.state.label() != "ok" {
                status.push_str(&format!(" ({error})"));
            }
        }
    }
    status
}

/// `Label [|||||     text]` with coloured segments, each a percentage of the bar.
fn gauge(
    buf: &mut Buffer,
    area: Rect,
    label: &str,
    segments: &[(f64, Style)],
    text: &str,
    theme: &Theme,
) {
    if area.width < 12 {
        return;
    }
    let (x, _) = buf.set_stringn(
        area.x,
        area.y,
        format!("{label} ["),
        usize::from(area.width),
        theme.label(),
    );
    let inner = (area.x + area.width).saturating_sub(x + 1);
    let mut filled = 0u16;
    for (pct, style) in segments {
        let cells = ((pct.clamp(0.0, 100.0) / 100.0) * f64::from(inner)).round() as u16;
        let cells = cells.min(inner - filled);
        buf.set_string(x + filled, area.y, "|".repeat(usize::from(cells)), *style);
        filled += cells;
    }
    let text_width = text.chars().count() as u16;
    if text_width < inner {
        buf.set_string(x + inner - text_width, area.y, text, theme.value());
    }
    buf.set_string(x + inner, area.y, "]", theme.label());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_between_words_never_inside_one() {
        assert_eq!(
            at_word("sort CPU% ▼  uplink ok", 40),
            "sort CPU% ▼  uplink ok"
        );
        assert_eq!(
            at_word("sort CPU% ▼  uplink degraded", 20),
            "sort CPU% ▼  uplink…"
        );
        assert_eq!(at_word("sort CPU% ▼  uplink", 12), "sort CPU% ▼…");
        assert_eq!(at_word("unbreakable", 5), "");
    }

    #[test]
    fn parts_that_do_not_fit_are_left_out_whole() {
        let parts = [
            "web-1".to_owned(),
            "up 1d".to_owned(),
            "load 1 2 3".to_owned(),
        ];
        assert_eq!(whole_parts(&parts, 100), "web-1  up 1d  load 1 2 3");
        assert_eq!(whole_parts(&parts, 20), "web-1  up 1d");
        assert_eq!(whole_parts(&parts, 3), "");
        let ranked = [
            (0, "web-1".to_owned()),
            (2, "up 1d".to_owned()),
            (1, "load 1".to_owned()),
        ];
        assert_eq!(ranked_parts(&ranked, 100), "web-1  up 1d  load 1");
        assert_eq!(ranked_parts(&ranked, 15), "web-1  load 1");
    }
}
