//! Where the header's per-core CPU meters go: how many columns of htop-style bars, or, when
//! bars would not fit in the rows the header may take, a heat strip of one cell per core.
//! Pure geometry, shared by the screen layout (which sizes the header) and the header's
//! drawing, so the two always agree.
//!
//! The choice, in order:
//! - bars in 2, 4 or 8 columns (1 on a single core), the fewest columns whose rows fit the
//!   budget, as long as each bar keeps [`MIN_BAR_WIDTH`] cells: htop's compact layout;
//! - otherwise a heat strip: one cell per core shaded by how busy it is (` ▁▂▃▄▅▆▇█`), wrapped
//!   over as many rows as it needs, cut to the budget (128 cores take one row at 200 columns,
//!   two at 80).
//!
//! The header never takes more than [`max_header_height`] rows, so at 80x24 the table keeps
//! at least 15 rows whatever the core count.

/// Below this a bar cannot show its core number, a few cells of bar and a percentage.
pub const MIN_BAR_WIDTH: u16 = 14;
/// `CPU 37% ` before the strip's cells: the average over all cores.
pub const STRIP_LABEL_WIDTH: u16 = 9;
/// The header's lines besides the CPU meters: identity, memory and swap, status.
pub const OTHER_HEADER_LINES: u16 = 3;

/// How the per-core meters are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMeters {
    /// One bar per core, `columns` side by side, filled column by column as htop does (cpu0
    /// to cpu7 down the first of two columns of 16 cores).
    Bars { columns: u16, rows: u16 },
    /// One cell per core, `per_row` cells to a row after the label.
    Strip { per_row: u16, rows: u16 },
}

impl CpuMeters {
    /// Lays out `cores` meters in `width` cells and at most `max_rows` rows (at least one).
    pub fn new(cores: usize, width: u16, max_rows: u16) -> CpuMeters {
        let cores = cores.max(1);
        let max_rows = max_rows.max(1);
        let candidates: &[u16] = if cores == 1 { &[1] } else { &[2, 4, 8] };
        for &columns in candidates {
            let rows = rows_for(cores, columns);
            let bar_width = bar_width(width, columns);
            if rows <= max_rows && bar_width >= MIN_BAR_WIDTH {
                return CpuMeters::Bars { columns, rows };
            }
            if usize::from(columns) >= cores {
                break;
            }
        }
        let per_row = width.saturating_sub(STRIP_LABEL_WIDTH).max(1);
        CpuMeters::Strip {
            per_row,
            rows: rows_for(cores, per_row).min(max_rows),
        }
    }

    /// Rows the meters take.
    pub fn rows(self) -> u16 {
        match self {
            CpuMeters::Bars { rows, .. } | CpuMeters::Strip { rows, .. } => rows,
        }
    }
}

/// How many meters `host` needs: its CPU count, or more if it reported more cores' splits.
pub fn cores_of(host: &crate::model::Host) -> usize {
    usize::try_from(host.cpu_count)
        .unwrap_or(1)
        .max(host.cpus.len())
}

/// The cells of each bar when `columns` share `width`, one blank between them.
pub fn bar_width(width: u16, columns: u16) -> u16 {
    (width + 1) / columns.max(1) - 1
}

fn rows_for(cores: usize, per_row: u16) -> u16 {
    u16::try_from(cores.div_ceil(usize::from(per_row.max(1)))).unwrap_or(u16::MAX)
}

/// The most rows the header may take on a terminal `height` rows high: a quarter, plus one.
pub fn max_header_height(height: u16) -> u16 {
    height / 4 + 1
}

/// The header's height with the full layout: its other lines and the meters of `cores`.
pub fn header_height(cores: usize, width: u16, height: u16) -> u16 {
    let budget = max_header_height(height).saturating_sub(OTHER_HEADER_LINES);
    OTHER_HEADER_LINES + CpuMeters::new(cores, width, budget).rows()
}

/// The strip's cell for a core `busy_pct` busy: eighths of a block, a space when idle.
pub fn strip_cell(busy_pct: f64) -> char {
    const LEVELS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let eighths = (busy_pct.clamp(0.0, 100.0) / 100.0 * 8.0).round() as usize;
    LEVELS[eighths.min(8)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_cores_get_two_columns_of_bars() {
        assert_eq!(
            CpuMeters::new(2, 200, 10),
            CpuMeters::Bars {
                columns: 2,
                rows: 1
            }
        );
        assert_eq!(
            CpuMeters::new(1, 80, 4),
            CpuMeters::Bars {
                columns: 1,
                rows: 1
            }
        );
        assert_eq!(
            CpuMeters::new(16, 200, 10),
            CpuMeters::Bars {
                columns: 2,
                rows: 8
            }
        );
    }

    #[test]
    fn more_cores_than_rows_take_more_columns_then_a_strip() {
        // 80x24: four rows for meters.
        let budget = max_header_height(24) - OTHER_HEADER_LINES;
        assert_eq!(budget, 4);
        assert_eq!(
            CpuMeters::new(16, 80, budget),
            CpuMeters::Bars {
                columns: 4,
                rows: 4
            }
        );
        assert_eq!(
            CpuMeters::new(128, 80, budget),
            CpuMeters::Strip {
                per_row: 71,
                rows: 2
            }
        );
        assert_eq!(
            CpuMeters::new(128, 200, 10),
            CpuMeters::Strip {
                per_row: 191,
                rows: 1
            }
        );
    }

    #[test]
    fn the_header_leaves_the_table_most_of_an_80x24_screen() {
        for cores in [1, 2, 4, 16, 64, 128, 1024] {
            let height = header_height(cores, 80, 24);
            assert!(height <= 7, "{cores} cores: {height}");
            assert!(height > OTHER_HEADER_LINES);
        }
    }

    #[test]
    fn strip_cells_rise_with_load() {
        assert_eq!(strip_cell(0.0), ' ');
        assert_eq!(strip_cell(50.0), '▄');
        assert_eq!(strip_cell(100.0), '█');
        assert_eq!(strip_cell(250.0), '█');
    }
}
