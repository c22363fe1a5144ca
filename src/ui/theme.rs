//! Styles, with or without colour (NO_COLOR turns colour off; emphasis stays).

use ratatui::style::{Color, Modifier, Style};

use crate::config::CalendarColor;

/// The styles the UI draws with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether to use colour (`NO_COLOR` unset, a terminal that has it).
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (<https://no-color.org>).
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// The title line.
    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// A heading (a day in the agenda, a section of the pane).
    pub fn header(&self) -> Style {
        self.fg(Color::Gray).add_modifier(Modifier::BOLD)
    }
    /// What matters less (past days, hints, labels).
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }
    /// Today's date.
    pub fn today(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    /// The selected day or event.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    /// A cancelled event.
    pub fn cancelled(&self) -> Style {
        self.dim().add_modifier(Modifier::CROSSED_OUT)
    }
    /// An error.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    /// The status bar.
    pub fn status_bar(&self) -> Style {
        if self.color {
            Style::new().bg(Color::DarkGray).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
    /// What to look at: borders of the open overlay, links.
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// A calendar's colour for its event markers (as text on the terminal's background, so
    /// the dark basic colours are brightened to stay readable).
    pub fn calendar(&self, color: Option<CalendarColor>) -> Style {
        let readable = |c| match c {
            Color::Blue => Color::LightBlue,
            Color::Black => Color::Gray,
            Color::Magenta => Color::LightMagenta,
            c => c,
        };
        match color.map(palette) {
            Some(c) if self.color => Style::new().fg(readable(c)),
            _ => self.accent(),
        }
    }

    /// The bar style of all-day and multi-day events.
    pub fn span(&self, color: Option<CalendarColor>) -> Style {
        if !self.color {
            return Style::new().add_modifier(Modifier::BOLD);
        }
        let c = color.map(palette).unwrap_or(Color::Blue);
        Style::new().bg(c).fg(Color::Black)
    }
}

/// The terminal colour of a calendar colour.
fn palette(color: CalendarColor) -> Color {
    match color {
        CalendarColor::Black => Color::Black,
        CalendarColor::Red => Color::Red,
        CalendarColor::Green => Color::Green,
        CalendarColor::Yellow => Color::Yellow,
        CalendarColor::Blue => Color::Blue,
        CalendarColor::Magenta => Color::Magenta,
        CalendarColor::Cyan => Color::Cyan,
        CalendarColor::Gray => Color::Gray,
        CalendarColor::White => Color::White,
        CalendarColor::LightRed => Color::LightRed,
        CalendarColor::LightGreen => Color::LightGreen,
        CalendarColor::LightYellow => Color::LightYellow,
        CalendarColor::LightBlue => Color::LightBlue,
        CalendarColor::LightMagenta => Color::LightMagenta,
        CalendarColor::LightCyan => Color::LightCyan,
    }
}
