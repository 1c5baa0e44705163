//! Screen geometry: where the header, table and footer go, and which columns fit. Computed
//! before each frame so input handling (paging, mouse hits) and drawing agree.

use ratatui::layout::Rect;

use super::columns::Column;

/// Below this the explorer shows only a "terminal too small" line.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 8;
/// At this height and above the header gets its full layout (identity, a CPU meter per core,
/// memory and swap, status: see [`super::cpu_meters`]); below, one line.
const FULL_HEADER_HEIGHT: u16 = 20;
/// The command column keeps at least this many cells; other columns go first.
const MIN_COMMAND_WIDTH: u16 = 16;
/// The marks column at the very left of the table (`+` new, `-` exited: see
/// [`super::marks`]) and the space after it; the columns start after it. Always there, so rows
/// do not shift when the first mark appears.
pub const MARK_WIDTH: u16 = 2;

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub header: Rect,
    pub table: Rect,
    pub footer: Rect,
    pub too_small: bool,
}

/// One placed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedColumn {
    pub column: Column,
    pub x: u16,
    pub width: u16,
}

/// The table's geometry: its title row, data rows and columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableLayout {
    pub area: Rect,
    /// Data rows below the title row.
    pub rows: usize,
    pub columns: Vec<PlacedColumn>,
}

impl TableLayout {
    /// Lays out the `wanted` columns that fit in `area`'s width after the marks column; the
    /// command column always comes last.
    pub fn new(area: Rect, wanted: &[Column]) -> TableLayout {
        let mut shown: Vec<Column> = wanted
            .iter()
            .copied()
            .filter(|c| *c != Column::Command)
            .collect();
        shown.dedup();
        shown.push(Column::Command);
        let fixed = |cols: &[Column]| -> u16 {
            MARK_WIDTH
                + cols
                    .iter()
                    .filter(|c| **c != Column::Command)
                    .map(|c| c.width() + 1)
                    .sum::<u16>()
        };
        for drop in Column::DROP_ORDER {
            if fixed(&shown) + MIN_COMMAND_WIDTH <= area.width {
                break;
            }
            shown.retain(|c| *c != drop);
        }
        let mut x = area.x.saturating_add(MARK_WIDTH);
        let mut columns = Vec::with_capacity(shown.len());
        for column in shown {
            let width = if column == Column::Command {
                (area.x + area.width).saturating_sub(x)
            } else {
                column.width()
            };
            columns.push(PlacedColumn { column, x, width });
            x = x.saturating_add(width + 1);
        }
        TableLayout {
            area,
            rows: usize::from(area.height.saturating_sub(1)),
            columns,
        }
    }

    /// The column whose title is at (x, y), if that is the title row.
    pub fn column_at(&self, x: u16, y: u16) -> Option<Column> {
        if y != self.area.y || self.area.height == 0 {
            return None;
        }
        self.columns
            .iter()
            .find(|c| x >= c.x && x < c.x + c.width.max(1) + 1)
            .map(|c| c.column)
    }

    /// The data row (0 = first shown) at screen row `y`.
    pub fn line_at(&self, y: u16) -> Option<usize> {
        let first = self.area.y + 1;
        (y >= first && usize::from(y - first) < self.rows).then(|| usize::from(y - first))
    }
}

/// Splits the screen: header on top (its height from the host's `cores`), one footer line,
/// the table between.
pub fn screen(area: Rect, cores: usize) -> ScreenLayout {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return ScreenLayout {
            header: Rect::default(),
            table: Rect::default(),
            footer: Rect::default(),
            too_small: true,
        };
    }
    let header_height = if area.height >= FULL_HEADER_HEIGHT {
        super::cpu_meters::header_height(cores, area.width, area.height)
    } else {
        1
    };
    let header = Rect {
        height: header_height,
        ..area
    };
    let footer = Rect {
        y: area.y + area.height - 1,
        height: 1,
        ..area
    };
    let table = Rect {
        y: area.y + header_height,
        height: area.height - header_height - 1,
        ..area
    };
    ScreenLayout {
        header,
        table,
        footer,
        too_small: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminals_drop_minor_columns_but_keep_the_command() {
        let wide = TableLayout::new(Rect::new(0, 0, 160, 20), &Column::DEFAULT);
        assert_eq!(wide.columns.len(), Column::DEFAULT.len());
        let everything = TableLayout::new(Rect::new(0, 0, 400, 20), &Column::ALL);
        assert_eq!(everything.columns.len(), Column::ALL.len());
        let narrow = TableLayout::new(Rect::new(0, 0, 60, 20), &Column::ALL);
        let names: Vec<Column> = narrow.columns.iter().map(|c| c.column).collect();
        assert!(names.contains(&Column::Pid) && names.contains(&Column::Listen));
        assert!(!names.contains(&Column::State));
        let command = narrow.columns.last().unwrap();
        assert_eq!(command.column, Column::Command);
        assert!(command.width >= MIN_COMMAND_WIDTH);
    }

    #[test]
    fn clicks_map_to_title_columns_and_rows() {
        let table = TableLayout::new(Rect::new(0, 5, 120, 10), &Column::ALL);
        assert_eq!(table.column_at(MARK_WIDTH, 5), Some(Column::Pid));
        assert_eq!(
            table.column_at(0, 5),
            None,
            "the marks column sorts nothing"
        );
        assert_eq!(table.column_at(0, 6), None, "data rows are not titles");
        assert_eq!(table.line_at(6), Some(0));
        assert_eq!(table.line_at(15), None);
    }

    #[test]
    fn tiny_screens_are_flagged_not_laid_out() {
        assert!(screen(Rect::new(0, 0, 30, 6), 2).too_small);
        let small = screen(Rect::new(0, 0, 60, 15), 2);
        assert!(!small.too_small);
        assert_eq!(small.header.height, 1);
        assert_eq!(small.table.height, 13);
    }

    #[test]
    fn the_header_grows_with_the_cores_within_its_share_of_the_screen() {
        let two = screen(Rect::new(0, 0, 80, 24), 2);
        assert_eq!(two.header.height, 4);
        let many = screen(Rect::new(0, 0, 80, 24), 16);
        assert_eq!(many.header.height, 7);
        assert_eq!(many.table.height, 16);
        assert_eq!(many.table.y, 7);
    }
}
