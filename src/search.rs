//! What a search matches. Case and accents are folded away on both sides (`cafe` finds `Café`,
//! `MUNCHEN` finds `München`), and an event matches when its subject, location, organizer,
//! attendees or body contain the query.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::model::{Body, Event, Person};

/// A search query, folded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    folded: String,
}

impl Query {
    /// The query of `text`, folded.
    pub fn new(text: &str) -> Query {
        let mut folded = String::new();
        fold_into(text.trim(), &mut folded);
        Query { folded }
    }

    /// A blank query matches nothing.
    pub fn is_blank(&self) -> bool {
        self.folded.is_empty()
    }

    /// Whether every event `self` matches is also matched by `other`, so that `self`'s hits can
    /// be found among `other`'s without reading the cache again (typing one more letter).
    pub fn narrows(&self, other: &Query) -> bool {
        !other.is_blank() && self.folded.contains(&other.folded)
    }

    /// Whether the event's fields match, or its body when it carries one.
    pub fn matches(&self, event: &Event) -> bool {
        if self.is_blank() {
            return false;
        }
        let mut buf = String::new();
        searched_text(event).any(|text| {
            buf.clear();
            fold_into(text, &mut buf);
            buf.contains(&self.folded)
        }) || event.body.as_ref().is_some_and(|b| self.matches_body(b))
    }

    /// Whether the words of a body (its text, without markup) contain the query.
    pub fn matches_body(&self, body: &Body) -> bool {
        if self.is_blank() {
            return false;
        }
        let mut folded = String::new();
        if body.html {
            fold_into(&html_words(&body.content), &mut folded);
        } else {
            fold_into(&body.content, &mut folded);
        }
        folded.contains(&self.folded)
    }
}

/// The words of an HTML body for searching: the text between tags, without the head, styles,
/// scripts and comments, with the common character references decoded (Outlook writes
/// non-ASCII as UTF-8, and `&nbsp;`, `&amp;`, numeric references for the rest). Not a renderer
/// (the detail pane uses html2text): it only has to keep words apart and whole, and be fast
/// enough to run over every cached body on a search.
pub fn html_words(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find(['<', '&']) {
        out.push_str(&rest[..lt]);
        rest = &rest[lt..];
        if rest.starts_with('&') {
            let end = rest[1..]
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
                .map(|i| i + 1);
            let (name, after) = match end {
                Some(i) if rest[i..].starts_with(';') => (&rest[1..i], &rest[i + 1..]),
                _ => {
                    out.push('&');
                    rest = &rest[1..];
                    continue;
                }
            };
            match reference(name) {
                Some(c) => {
                    out.push(c);
                    rest = after;
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        // A tag: skip it, and the whole element for those holding no words.
        let lower = |n: usize| rest.get(1..1 + n).map(str::to_ascii_lowercase);
        let closing = ["style", "script", "head", "title"]
            .into_iter()
            .find(|t| lower(t.len()).as_deref() == Some(*t));
        let skip_to = if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if let Some(tag) = closing {
            find_ci(rest, &format!("</{tag}")).and_then(|i| rest[i..].find('>').map(|j| i + j + 1))
        } else {
            rest.find('>').map(|i| i + 1)
        };
        // Words never run together across a tag.
        out.push(' ');
        rest = &rest[skip_to.unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// Where `needle` (ASCII, lower case) starts in `haystack`, ignoring ASCII case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The character a reference (`amp`, `#39`, `#x2019`) stands for.
fn reference(name: &str) -> Option<char> {
    let number = |digits: &str, radix| u32::from_str_radix(digits, radix).ok();
    let code = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
        number(hex, 16)?
    } else if let Some(dec) = name.strip_prefix('#') {
        number(dec, 10)?
    } else {
        return match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => None,
        };
    };
    char::from_u32(code).filter(|c| !c.is_control())
}

/// The fields a search looks in.
fn searched_text(event: &Event) -> impl Iterator<Item = &str> {
    [
        event.subject.as_deref(),
        event.location.as_deref(),
        event.body_preview.as_deref(),
    ]
    .into_iter()
    .chain(event.organizer.iter().flat_map(person_text))
    .chain(event.attendees.iter().flat_map(|a| person_text(&a.person)))
    .flatten()
}

fn person_text(p: &Person) -> [Option<&str>; 2] {
    [p.name.as_deref(), p.address.as_deref()]
}

/// Appends `text` without case and accents: compatibility-decomposed, combining marks dropped,
/// lower-cased.
fn fold_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    out.extend(
        text.nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Attendee;

    fn event(subject: &str) -> Event {
        Event {
            id: "e".into(),
            subject: Some(subject.into()),
            ..Event::default()
        }
    }

    fn person(name: &str, address: &str) -> Person {
        Person {
            name: Some(name.into()),
            address: Some(address.into()),
        }
    }

    #[test]
    fn case_and_accents_are_folded_both_ways() {
        let cafe = event("Lunch at Café Müller");
        for q in ["cafe", "CAFÉ", "müller", "MULLER", "lunch at cafe"] {
            assert!(Query::new(q).matches(&cafe), "{q}");
        }
        assert!(
            Query::new("Ｃａｆｅ").matches(&cafe),
            "full-width letters fold too"
        );
        assert!(!Query::new("cafes").matches(&cafe));
        assert!(Query::new("ecole").matches(&event("ÉCOLE")));
    }

    #[test]
    fn looks_in_location_people_and_body() {
        let mut e = event("Sync");
        e.location = Some("Room Ångström".into());
        e.body_preview = Some("Agenda: budget review".into());
        e.organizer = Some(person("Zoë Adams", "zoe@example.com"));
        e.attendees = vec![Attendee {
            person: person("Bob Li", "bob@example.com"),
            kind: None,
            response: None,
        }];
        for q in [
            "angstrom",
            "budget",
            "zoe adams",
            "zoe@",
            "bob li",
            "bob@example",
        ] {
            assert!(Query::new(q).matches(&e), "{q}");
        }
        assert!(!Query::new("carol").matches(&e));
    }

    #[test]
    fn bodies_are_searched_by_their_words_not_their_markup() {
        let html = "<html><head><title>x</title><style>p { color: red }</style></head><body>\
                    <!-- a comment with secret --><p>Budget&nbsp;review at Caf&#233;<br>Zürich\
                    </p><script>var hidden = 1;</script><p>Tom&amp;Jerry&#x2019;s</p></body></html>";
        let body = Body {
            html: true,
            content: html.into(),
        };
        for q in ["budget review", "café", "cafe zurich", "tom&jerry’s"] {
            assert!(
                Query::new(q).matches_body(&body),
                "{q}: {}",
                html_words(html)
            );
        }
        for q in ["color", "secret", "hidden", "title", "<p>", "nbsp"] {
            assert!(
                !Query::new(q).matches_body(&body),
                "{q}: {}",
                html_words(html)
            );
        }
        assert_eq!(
            html_words("a & b &unknown; <b>c</b>"),
            "a & b &unknown;  c "
        );
        let text = Body {
            html: false,
            content: "Plain <notes>".into(),
        };
        assert!(Query::new("<notes>").matches_body(&text));
        let mut e = event("Sync");
        assert!(!Query::new("zurich").matches(&e));
        e.body = Some(body);
        assert!(Query::new("zurich").matches(&e), "a hit carries its body");
    }

    #[test]
    fn blank_matches_nothing_and_narrowing_is_by_containment() {
        assert!(!Query::new("  ").matches(&event("anything")));
        let caf = Query::new("caf");
        assert!(Query::new("Café").narrows(&caf));
        assert!(Query::new("ecaf").narrows(&caf));
        assert!(!Query::new("ca").narrows(&caf));
        assert!(!caf.narrows(&Query::new("")));
    }
}
