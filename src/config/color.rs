//! The colours a calendar can be given, and the palette colour of a calendar's colour in Graph
//! (which `calendars` and `config init` suggest, and the TUI shows for a calendar the config
//! gives none): below both the commands and the UI, so it lives with the config it fills.

/// The colours a calendar can be given: the terminal's basic palette, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarColor {
    /// Black.
    Black,
    /// Red.
    Red,
    /// Green.
    Green,
    /// Yellow.
    Yellow,
    /// Blue.
    Blue,
    /// Magenta.
    Magenta,
    /// Cyan.
    Cyan,
    /// Gray.
    Gray,
    /// White.
    White,
    /// Light red.
    LightRed,
    /// Light green.
    LightGreen,
    /// Light yellow.
    LightYellow,
    /// Light blue.
    LightBlue,
    /// Light magenta.
    LightMagenta,
    /// Light cyan.
    LightCyan,
}

impl CalendarColor {
    /// Every colour, in the order the config error lists them.
    pub const ALL: [CalendarColor; 15] = [
        CalendarColor::Black,
        CalendarColor::Red,
        CalendarColor::Green,
        CalendarColor::Yellow,
        CalendarColor::Blue,
        CalendarColor::Magenta,
        CalendarColor::Cyan,
        CalendarColor::Gray,
        CalendarColor::White,
        CalendarColor::LightRed,
        CalendarColor::LightGreen,
        CalendarColor::LightYellow,
        CalendarColor::LightBlue,
        CalendarColor::LightMagenta,
        CalendarColor::LightCyan,
    ];

    /// The name the config file uses.
    pub fn name(self) -> &'static str {
        match self {
            CalendarColor::Black => "black",
            CalendarColor::Red => "red",
            CalendarColor::Green => "green",
            CalendarColor::Yellow => "yellow",
            CalendarColor::Blue => "blue",
            CalendarColor::Magenta => "magenta",
            CalendarColor::Cyan => "cyan",
            CalendarColor::Gray => "gray",
            CalendarColor::White => "white",
            CalendarColor::LightRed => "lightred",
            CalendarColor::LightGreen => "lightgreen",
            CalendarColor::LightYellow => "lightyellow",
            CalendarColor::LightBlue => "lightblue",
            CalendarColor::LightMagenta => "lightmagenta",
            CalendarColor::LightCyan => "lightcyan",
        }
    }

    /// The colour a config name stands for, ignoring case.
    pub fn from_name(name: &str) -> Option<CalendarColor> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// The palette colour of a calendar's colour in Graph: by the hue of its `#rrggbb` when
    /// the user picked one, else by its colour name; None for `auto` (the theme's default).
    pub fn from_graph(color: Option<&str>, hex: Option<&str>) -> Option<CalendarColor> {
        if let Some(rgb) = hex.and_then(parse_hex) {
            return Some(by_hue(rgb));
        }
        Some(match color? {
            "lightBlue" => CalendarColor::LightBlue,
            "lightGreen" => CalendarColor::LightGreen,
            "lightOrange" | "lightBrown" => CalendarColor::Yellow,
            "lightGray" => CalendarColor::Gray,
            "lightYellow" => CalendarColor::LightYellow,
            "lightTeal" => CalendarColor::Cyan,
            "lightPink" => CalendarColor::LightMagenta,
            "lightRed" => CalendarColor::LightRed,
            _ => return None,
        })
    }
}

/// The palette colour of an RGB colour's hue. Outlook's calendar colours are pastels, which by
/// plain distance would all be nearest to gray; by hue they keep their family.
fn by_hue((r, g, b): (u8, u8, u8)) -> CalendarColor {
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    if max == 0.0 || (max - min) / max < 0.15 {
        return CalendarColor::Gray;
    }
    let d = max - min;
    let hue = if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    match hue {
        h if !(15.0..345.0).contains(&h) => CalendarColor::LightRed,
        h if h < 45.0 => CalendarColor::Yellow,
        h if h < 75.0 => CalendarColor::LightYellow,
        h if h < 165.0 => CalendarColor::LightGreen,
        h if h < 200.0 => CalendarColor::Cyan,
        h if h < 260.0 => CalendarColor::LightBlue,
        _ => CalendarColor::LightMagenta,
    }
}

/// `#rrggbb` as numbers.
fn parse_hex(hex: &str) -> Option<(u8, u8, u8)> {
    let h = hex.trim().strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_colours_map_to_the_palette_by_name_and_by_hue() {
        let c = |name: Option<&str>, hex: Option<&str>| CalendarColor::from_graph(name, hex);
        assert_eq!(c(Some("lightBlue"), None), Some(CalendarColor::LightBlue));
        assert_eq!(c(Some("auto"), None), None);
        assert_eq!(c(None, Some("#a6d1f5")), Some(CalendarColor::LightBlue));
        assert_eq!(c(None, Some("#87d28e")), Some(CalendarColor::LightGreen));
        assert_eq!(c(None, Some("#fcab73")), Some(CalendarColor::Yellow));
        assert_eq!(c(None, Some("#f88c9b")), Some(CalendarColor::LightRed));
        assert_eq!(c(None, Some("#c0c0c0")), Some(CalendarColor::Gray));
        assert_eq!(
            c(Some("lightGreen"), Some("#zzz")),
            Some(CalendarColor::LightGreen)
        );
    }
}
