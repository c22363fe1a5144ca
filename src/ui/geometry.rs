//! Where things sit on the screen: the main area, the side pane, popups, and the month grid's
//! cells. Plain arithmetic on the terminal size, shared by drawing and by mouse handling.

use chrono::NaiveDate;
use ratatui::layout::Rect;

use super::view::ViewKind;
use crate::layout::MonthGrid;

/// The title line: the name (on terminals wide enough), then a tab per view.
pub const TITLE_NAME: &str = " deltacal ";
/// The view tabs of the title line, in order, as they read.
pub const VIEW_TABS: [(ViewKind, &str); 4] = [
    (ViewKind::Month, " Month "),
    (ViewKind::Week, " Week "),
    (ViewKind::Day, " Day "),
    (ViewKind::Agenda, " Agenda "),
];

/// Whether the title line has room for the name before the tabs.
pub fn title_shows_name(width: u16) -> bool {
    width >= 60
}

/// The tabs the title line shows and the column each starts at: all four where there is room,
/// else only the current view's (the heading matters more).
pub fn title_tabs(width: u16, current: ViewKind) -> Vec<(ViewKind, &'static str, u16)> {
    // The name and each tab are followed by one blank column.
    let mut x = if title_shows_name(width) {
        TITLE_NAME.len() as u16 + 1
    } else {
        0
    };
    let mut tabs = Vec::new();
    for (kind, label) in VIEW_TABS {
        if width < 60 && kind != current {
            continue;
        }
        tabs.push((kind, label, x));
        x += label.len() as u16 + 1;
    }
    tabs
}

/// The view whose tab is at `column` of the title line.
pub fn tab_at(width: u16, current: ViewKind, column: u16) -> Option<ViewKind> {
    title_tabs(width, current)
        .into_iter()
        .find(|&(_, label, x)| (x..x + label.len() as u16).contains(&column))
        .map(|(kind, _, _)| kind)
}

/// Below this size nothing is drawn but a note: the views would be garbled.
pub const MIN_WIDTH: u16 = 36;
/// The fewest rows deltacal draws in.
pub const MIN_HEIGHT: u16 = 10;

/// The narrowest day cell the month keeps when the detail pane sits beside it.
const MIN_CELL_BESIDE_PANE: u16 = 12;

/// The width of the side pane on a terminal `total` columns wide.
pub fn side_width(total: u16) -> u16 {
    (total * 2 / 5).max(40)
}

/// True when the detail pane, if open, sits beside the view: only where the month keeps
/// readable cells beside it (else the pane is a popup over the view).
pub fn has_side_pane(size: (u16, u16)) -> bool {
    size.0.saturating_sub(side_width(size.0)) >= 7 * MIN_CELL_BESIDE_PANE
}

/// The main area of the screen (between the title and the status bar), less the side pane
/// when the detail pane is open beside it.
pub fn main_area(size: (u16, u16), detail_open: bool, banner: bool) -> Rect {
    let (w, h) = size;
    // The title line, the status bar, and the reminder banner's row when one shows (it would
    // hide the view's last row: the month's "+N more").
    let h = h.saturating_sub(2 + u16::from(banner));
    if detail_open && has_side_pane(size) {
        Rect::new(0, 1, w - side_width(w), h)
    } else {
        Rect::new(0, 1, w, h)
    }
}

/// Where the detail pane goes: beside the view on wide terminals, else a popup tall enough for
/// lines of these widths (in cells) once wrapped.
pub fn detail_area(size: (u16, u16), line_widths: &[usize]) -> Rect {
    let (w, h) = size;
    if has_side_pane(size) {
        let sw = side_width(w);
        return Rect::new(w - sw, 1, sw, h.saturating_sub(2));
    }
    let pw = w.saturating_sub(4).min(76);
    let inner = pw.saturating_sub(2).max(1) as usize;
    let needed: usize = line_widths
        .iter()
        .map(|&width| width.max(1).div_ceil(inner))
        .sum::<usize>()
        + 2;
    let ph = (needed as u16).min(h.saturating_sub(4));
    Rect::new((w - pw) / 2, 2, pw, ph)
}

/// A popup of at most `width` x `height`, centred.
pub fn centered(size: (u16, u16), width: u16, height: u16) -> Rect {
    let (w, h) = size;
    let width = width.min(w.saturating_sub(2));
    let height = height.min(h.saturating_sub(2));
    Rect::new((w - width) / 2, (h - height) / 2, width, height)
}

/// Where each column and week row of a month grid sits in its area.
pub struct MonthCells {
    /// Each weekday column's x and width.
    pub columns: [(u16, u16); 7],
    /// (y, height) of each week row; the weekday header is the line above the first.
    pub rows: Vec<(u16, u16)>,
}

/// Where the month's cells go in `area`.
pub fn month_cells(area: Rect, grid: &MonthGrid) -> MonthCells {
    let base = area.width / 7;
    let extra = area.width % 7;
    let mut x = area.x;
    let columns = std::array::from_fn(|i| {
        let w = base + u16::from((i as u16) < extra);
        let col = (x, w);
        x += w;
        col
    });
    let body = area.height.saturating_sub(1);
    let weeks = grid.weeks.max(1) as u16;
    let per = body / weeks;
    let spare = body % weeks;
    let mut y = area.y + 1;
    let rows = (0..weeks)
        .map(|i| {
            let h = per + u16::from(i < spare);
            let row = (y, h);
            y += h;
            row
        })
        .collect();
    MonthCells { columns, rows }
}

/// The day of the month grid under a screen cell, if there is one.
pub fn day_at(area: Rect, grid: &MonthGrid, column: u16, row: u16) -> Option<NaiveDate> {
    let cells = month_cells(area, grid);
    let col = cells
        .columns
        .iter()
        .position(|&(x, w)| column >= x && column < x + w)?;
    let week = cells
        .rows
        .iter()
        .position(|&(y, h)| row >= y && row < y + h)?;
    Some(grid.day(week as u32, col as u32))
}
