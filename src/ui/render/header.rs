//! The header: host, uptime, load, CPU and memory gauges, counts, sample age.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::escape::for_terminal;
use crate::format::{human_bytes, rate_per_sec, uptime};
use crate::model::Snapshot;
use crate::ui::app::App;
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
    if area.height < 4 {
        compact(buf, area, snapshot, theme);
    } else {
        full(buf, area, snapshot, app, theme);
    }
    // Sample age (or PAUSED) sits at the right end of the first line.
    let status_width = status.chars().count() as u16;
    if area.width > status_width + 20 {
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

fn identity(s: &Snapshot) -> String {
    let h = &s.host;
    let tags = if h.tags.is_empty() {
        String::new()
    } else {
        format!("  [{}]", h.tags.join(" "))
    };
    format!(
        "{}  up {}  load {:.2} {:.2} {:.2}{}{}",
        for_terminal(&h.hostname),
        uptime(h.uptime_secs),
        h.load_average.one,
        h.load_average.five,
        h.load_average.fifteen,
        network(s).map(|n| format!("  {n}")).unwrap_or_default(),
        for_terminal(&tags),
    )
}

fn counts(s: &Snapshot) -> String {
    let c = &s.host.counts;
    format!(
        "tasks {}, {} thr  listening {}  established {}",
        c.processes, c.threads, c.listening_sockets, c.established_connections
    )
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

fn compact(buf: &mut Buffer, area: Rect, s: &Snapshot, theme: &Theme) {
    let cpu = s.host.cpu.map_or(0.0, |c| 100.0 - c.idle_pct - c.steal_pct);
    let m = &s.host.memory;
    let mem_pct = if m.total_bytes == 0 {
        0.0
    } else {
        m.used_bytes as f64 * 100.0 / m.total_bytes as f64
    };
    let c = &s.host.counts;
    let line = format!(
        "{}  cpu {cpu:.0}% mem {mem_pct:.0}%  {}p L{} E{}",
        for_terminal(&s.host.hostname),
        c.processes,
        c.listening_sockets,
        c.established_connections
    );
    buf.set_stringn(area.x, area.y, line, usize::from(area.width), theme.value());
}

fn full(buf: &mut Buffer, area: Rect, s: &Snapshot, app: &App, theme: &Theme) {
    let width = usize::from(area.width);
    buf.set_stringn(area.x, area.y, identity(s), width, theme.value());

    // CPU: user, system and iowait stacked in one bar over all cores.
    let cpu = s.host.cpu;
    let segments = match cpu {
        Some(c) => vec![
            (c.user_pct, theme.gauge_user()),
            (c.system_pct, theme.gauge_system()),
            (c.iowait_pct, theme.gauge_io()),
        ],
        None => Vec::new(),
    };
    let busy = cpu.map_or(0.0, |c| c.user_pct + c.system_pct + c.iowait_pct);
    let half = area.width / 2;
    gauge(
        buf,
        Rect::new(area.x, area.y + 1, half.saturating_sub(1), 1),
        &format!("CPU×{}", s.host.cpu_count),
        &segments,
        &format!("{busy:.1}%"),
        theme,
    );
    buf.set_stringn(
        area.x + half,
        area.y + 1,
        counts(s),
        usize::from(area.width - half),
        theme.value(),
    );

    let m = &s.host.memory;
    let pct = |used: u64, total: u64| {
        if total == 0 {
            0.0
        } else {
            used as f64 * 100.0 / total as f64
        }
    };
    gauge(
        buf,
        Rect::new(area.x, area.y + 2, half.saturating_sub(1), 1),
        "Mem",
        &[(pct(m.used_bytes, m.total_bytes), theme.gauge_user())],
        &format!(
            "{}/{}",
            human_bytes(m.used_bytes),
            human_bytes(m.total_bytes)
        ),
        theme,
    );
    gauge(
        buf,
        Rect::new(area.x + half, area.y + 2, area.width - half, 1),
        "Swp",
        &[(
            pct(m.swap_used_bytes, m.swap_total_bytes),
            theme.gauge_system(),
        )],
        &format!(
            "{}/{}",
            human_bytes(m.swap_used_bytes),
            human_bytes(m.swap_total_bytes)
        ),
        theme,
    );

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
    buf.set_stringn(
        area.x,
        area.y + 3,
        for_terminal(&status),
        width,
        theme.label(),
    );
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
