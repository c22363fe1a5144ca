//! Fitting untrusted text into terminal cells: sanitised, width-aware (wide CJK and emoji take
//! two cells, combining marks none, emoji presentation sequences two), cut with an ellipsis.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Sanitises `text` to one line and cuts it to at most `width` cells.
pub fn fit(text: &str, width: usize) -> String {
    let clean = crate::text::line(text);
    if clean.width() <= width {
        return clean.into_owned();
    }
    if width == 0 {
        return String::new();
    }
    // Cut between characters, never inside a base character and its combining marks or
    // variation selector: measure the string as it grows, as the terminal will.
    let mut out = String::new();
    let mut chars = clean.chars().peekable();
    while let Some(c) = chars.next() {
        let mut piece = String::from(c);
        while let Some(&next) = chars.peek() {
            if next.width() == Some(0) {
                piece.push(next);
                chars.next();
            } else {
                break;
            }
        }
        let candidate = format!("{out}{piece}");
        if candidate.width() > width - 1 {
            break;
        }
        out = candidate;
    }
    out.push('…');
    out
}

/// Cells a string takes on a terminal.
pub fn cells(text: &str) -> usize {
    text.width()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_wide_and_combining_text() {
        assert_eq!(fit("Weekly sync", 20), "Weekly sync");
        assert_eq!(fit("Weekly sync", 8), "Weekly …");
        assert_eq!(fit("会議会議会議", 7), "会議会…");
        assert_eq!(cells(&fit("会議会議会議", 7)), 7);
        assert_eq!(fit("Cafe\u{301} au lait", 6), "Cafe\u{301} …");
        assert_eq!(fit("a\u{1b}[2Jb", 10), "a[2Jb");
        assert_eq!(fit("abc", 0), "");
        // An emoji with VS16 is two cells wide; it is never split from its selector.
        assert_eq!(cells("Gym 🏋️"), 6);
        assert_eq!(fit("Gym 🏋️ again", 7), "Gym 🏋️…");
        assert_eq!(fit("Gym 🏋️ again", 6), "Gym …");
    }
}
