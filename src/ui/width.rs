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

/// Sanitises `text` and wraps it at spaces into at most `height` lines of at most `width`
/// cells: a word is never split across lines; a word too long for a line, and the last line
/// when words remain, are cut with an ellipsis.
pub fn wrap_box(text: &str, width: usize, height: usize) -> Vec<String> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let clean = crate::text::line(text);
    let options = textwrap::Options::new(width)
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    let wrapped = textwrap::wrap(&clean, options);
    let mut lines: Vec<String> = wrapped.iter().take(height).map(|l| fit(l, width)).collect();
    if wrapped.len() > height {
        // Words remain: the last line shows that it goes on.
        let last = lines.pop().unwrap_or_default();
        let next = wrapped.get(height).map(|l| l.as_ref()).unwrap_or("");
        let mut cut = fit(&format!("{last} {next}"), width);
        if !cut.ends_with('…') {
            cut = fit(&format!("{last} {next}…"), width);
        }
        lines.push(cut);
    }
    lines
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

    #[test]
    fn wraps_inside_a_box_without_breaking_words() {
        assert_eq!(
            wrap_box("14:30 Weekly sync", 10, 3),
            ["14:30", "Weekly", "sync"]
        );
        assert_eq!(
            wrap_box("14:30 Weekly sync", 10, 2),
            ["14:30", "Weekly sy…"]
        );
        assert_eq!(wrap_box("14:30 Weekly sync", 20, 1), ["14:30 Weekly sync"]);
        assert_eq!(wrap_box("14:30 Weekly sync", 8, 1), ["14:30 W…"]);
        assert_eq!(
            wrap_box("09:00 Supercalifragilistic", 8, 2),
            ["09:00", "Superca…"]
        );
        assert_eq!(wrap_box("a\u{1b}[2J b", 10, 2), ["a[2J b"]);
        for (w, h) in [(4, 1), (5, 2), (7, 3), (12, 2)] {
            let lines = wrap_box("10:00 Design review with the whole team", w, h);
            assert!(lines.len() <= h);
            assert!(lines.iter().all(|l| cells(l) <= w), "{lines:?} in {w}");
        }
    }
}
