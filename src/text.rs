//! Sanitising untrusted text (event subjects, bodies, names) before it reaches a terminal.

use std::borrow::Cow;

/// What an event without a subject is called, wherever it is shown.
pub const NO_SUBJECT: &str = "(no subject)";

/// True for characters that must never reach a terminal: C0/C1 controls (ESC among them), DEL,
/// and the bidirectional overrides that can make text display differently from what it is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// One line of display text: controls dropped, line breaks and tabs turned into single spaces.
pub fn line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\t') {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else if !is_unsafe(c) {
            out.push(c);
            last_space = c == ' ';
        }
    }
    Cow::Owned(out)
}

/// One line of display text, cut to at most `max` characters (with `…`): for server text whose
/// length nobody bounds, such as error messages and display names.
pub fn bounded(text: &str, max: usize) -> String {
    let clean = line(text);
    if clean.chars().count() <= max {
        return clean.into_owned();
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Multi-line display text: controls dropped, but line breaks kept (tabs become spaces).
pub fn block(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences_and_controls() {
        assert_eq!(line("a\u{1b}[2Jb\u{7}c"), "a[2Jbc");
        assert_eq!(line("x\u{9b}31my"), "x31my");
        assert_eq!(line("one\r\ntwo\tthree"), "one two three");
        assert_eq!(line("evil\u{202E}txt.exe"), "eviltxt.exe");
        assert!(matches!(line("plain Überblick 会议"), Cow::Borrowed(_)));
    }

    #[test]
    fn bounded_cuts_long_server_text() {
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(bounded("a\u{1b}]0;pwned\u{7}bcdefghij", 5), "a]0;…");
        assert_eq!(bounded(&"x".repeat(1000), 10).chars().count(), 10);
    }

    #[test]
    fn block_keeps_line_breaks() {
        assert_eq!(block("a\r\nb\u{1b}c\td"), "a\nbc d");
    }
}
