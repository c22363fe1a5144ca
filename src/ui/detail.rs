//! Drawing the detail pane of the selected event: a side pane on wide terminals, a popup
//! otherwise.

use std::num::NonZeroU16;

use ratatui::Frame;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::App;
use super::app::pane::Pane;
use super::strings;

/// Draws the detail pane beside the view, scrolled as `detail` is.
pub fn draw(frame: &mut Frame, app: &App, detail: &super::overlay::Detail) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent());
    let Pane {
        lines,
        area,
        overflow,
        join_link,
        ..
    } = super::app::pane::detail_pane(app);
    // A long event scrolls; the title says so while there is more than fits.
    let scroll = detail.scroll.min(overflow);
    let block = if overflow > 0 {
        block.title(strings::detail_scroll_title(scroll, overflow))
    } else {
        block.title(" Event ")
    };
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
    if app.hyperlinks
        && let Some((shown, url)) = join_link
    {
        hyperlink(frame.buffer_mut(), area, &shown, &url);
    }
}

/// Makes the row of `area` that shows `shown` a hyperlink to `url` (OSC 8): the first cell
/// carries the whole sequence and covers the text's width, which the other cells keep as plain
/// characters for the buffer's diff. Terminals without OSC 8 show the text alone.
pub fn hyperlink(buf: &mut Buffer, area: Rect, shown: &str, url: &url::Url) {
    // One cell per character (a URL is ASCII, the cut mark one cell), so cells spell it.
    let width = shown.chars().count() as u16;
    let Some(forced) = NonZeroU16::new(width) else {
        return;
    };
    if super::width::cells(shown) != usize::from(width) {
        return;
    }
    let x = area.x + 1;
    if x + width > area.right() {
        return;
    }
    for y in area.top()..area.bottom() {
        let row: String = (x..x + width).map(|cx| buf[(cx, y)].symbol()).collect();
        if row == shown {
            buf[(x, y)]
                .set_symbol(&crate::links::osc8(url, shown))
                .set_diff_option(CellDiffOption::ForcedWidth(forced));
            return;
        }
    }
}
