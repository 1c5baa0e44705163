//! Render tests of the header: a CPU meter per core at 2, 16 and 128 cores, on a roomy
//! 200x50 terminal and on 80x24, where it must leave the table most of the screen.

use std::sync::Arc;

use crate::model::HostCpu;
use crate::ui::app::App;
use crate::ui::fixture::{app, screen, snapshot};

/// The fixture host with `cores` CPUs, core `i` busy `(i * 37 + 20) % 101` percent (user three
/// quarters of it, system the rest), so neighbouring meters differ.
fn app_with_cores(cores: usize) -> App {
    let mut snapshot = snapshot();
    snapshot.host.cpu_count = u32::try_from(cores).unwrap();
    snapshot.host.cpus = (0..cores)
        .map(|core| {
            let busy = ((core * 37 + 20) % 101) as f64;
            HostCpu {
                user_pct: busy * 0.75,
                system_pct: busy * 0.25,
                iowait_pct: 0.0,
                idle_pct: 100.0 - busy,
                steal_pct: 0.0,
            }
        })
        .collect();
    let mut app = app();
    app.on_snapshot(Arc::new(snapshot));
    app
}

/// The row of the table's titles.
fn title_row(text: &str) -> usize {
    text.lines()
        .position(|line| line.contains("PID") && line.contains("COMMAND"))
        .expect("a title row")
}

/// What every header keeps, whatever the size: the host and load whole, the sample's age, the
/// sort, and memory and swap meters.
fn assert_common(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("web-1  "), "{}", lines[0]);
    assert!(lines[0].contains("load 0.42 0.30 0.25"), "{}", lines[0]);
    assert!(lines[0].contains("net rx 1.5M/s tx 256K/s"), "{}", lines[0]);
    assert!(lines[0].ends_with("age 2.0s / every 2.0s"), "{}", lines[0]);
    let title = title_row(text);
    assert!(
        lines[title - 2].starts_with("Mem ["),
        "{}",
        lines[title - 2]
    );
    assert!(lines[title - 2].contains("Swp ["), "{}", lines[title - 2]);
    assert!(
        lines[title - 1].starts_with("sort CPU% ▼"),
        "{}",
        lines[title - 1]
    );
    assert!(
        lines[title - 1].contains("tasks 8, 16 thr"),
        "{}",
        lines[title - 1]
    );
}

#[test]
fn two_cores_get_a_bar_each_side_by_side() {
    for (width, height) in [(200, 50), (80, 24)] {
        let mut app = app_with_cores(2);
        let text = screen(&mut app, width, height);
        assert_common(&text);
        let cpu_line = text.lines().nth(1).unwrap();
        assert!(cpu_line.starts_with("0 [|"), "{cpu_line}");
        assert!(cpu_line.contains(" 1 ["), "{cpu_line}");
        assert!(
            cpu_line.contains("57.0%]"),
            "core 1 is 57% busy: {cpu_line}"
        );
        assert_eq!(title_row(&text), 4, "identity, CPUs, memory, status");
        insta::assert_snapshot!(format!("header_2_cores_{width}x{height}"), text);
    }
}

#[test]
fn sixteen_cores_take_two_columns_or_four_on_80x24() {
    let mut app = app_with_cores(16);
    let text = screen(&mut app, 200, 50);
    assert_common(&text);
    let lines: Vec<&str> = text.lines().collect();
    // htop's order: 0-7 down the left column, 8-15 down the right.
    assert!(
        lines[1].starts_with(" 0 [") && lines[1].contains(" 8 ["),
        "{}",
        lines[1]
    );
    assert!(
        lines[8].starts_with(" 7 [") && lines[8].contains("15 ["),
        "{}",
        lines[8]
    );
    assert_eq!(title_row(&text), 11);
    insta::assert_snapshot!("header_16_cores_200x50", text);

    let text = screen(&mut app, 80, 24);
    assert_common(&text);
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines[1..=4] {
        assert_eq!(line.matches(" [").count(), 4, "{line}");
    }
    assert!(lines[4].contains("15 ["), "{}", lines[4]);
    let title = title_row(&text);
    assert_eq!(title, 7);
    assert!(24 - title - 2 >= 15, "the table keeps 15 rows");
    insta::assert_snapshot!("header_16_cores_80x24", text);
}

#[test]
fn many_cores_become_a_heat_strip_that_fits() {
    let mut app = app_with_cores(128);
    let text = screen(&mut app, 200, 50);
    assert_common(&text);
    let strip = text.lines().nth(1).unwrap();
    assert!(
        strip.starts_with("CPU  17% "),
        "the average over all cores: {strip}"
    );
    // One cell per core after the label, in eighths of a block.
    let cells: Vec<char> = strip.chars().skip(9).collect();
    assert_eq!(cells.len(), 128, "{strip}");
    assert_eq!(cells[0], '▂', "core 0 is 20% busy");
    assert_eq!(cells[1], '▅', "core 1 is 57% busy");
    assert_eq!(title_row(&text), 4);
    insta::assert_snapshot!("header_128_cores_200x50", text);

    let text = screen(&mut app, 80, 24);
    assert_common(&text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1].chars().count(), 80);
    assert!(
        lines[2].starts_with("         "),
        "the strip wraps under itself"
    );
    assert_eq!(title_row(&text), 5);
    insta::assert_snapshot!("header_128_cores_80x24", text);
}

#[test]
fn a_first_sample_without_per_core_figures_draws_empty_meters() {
    let mut app = app_with_cores(2);
    let mut snapshot = (**app.snapshot().unwrap()).clone();
    snapshot.host.cpus.clear();
    app.on_snapshot(Arc::new(snapshot));
    let text = screen(&mut app, 80, 24);
    let cpu_line = text.lines().nth(1).unwrap();
    assert!(cpu_line.starts_with("0 [ "), "{cpu_line}");
    assert!(cpu_line.contains("-]"), "unknown, not 0%: {cpu_line}");
    assert!(!cpu_line.contains('%'), "{cpu_line}");
}
