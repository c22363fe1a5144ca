//! What a search matches. Case and accents are folded away on both sides (`cafe` finds `Café`,
//! `MUNCHEN` finds `München`), and an event matches when its subject, location, organizer,
//! attendees or body contain the query.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::model::{Event, Person};

/// A search query, folded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    folded: String,
}

impl Query {
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

    pub fn matches(&self, event: &Event) -> bool {
        if self.is_blank() {
            return false;
        }
        let mut buf = String::new();
        searched_text(event).any(|text| {
            buf.clear();
            fold_into(text, &mut buf);
            buf.contains(&self.folded)
        })
    }
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
    fn blank_matches_nothing_and_narrowing_is_by_containment() {
        assert!(!Query::new("  ").matches(&event("anything")));
        let caf = Query::new("caf");
        assert!(Query::new("Café").narrows(&caf));
        assert!(Query::new("ecaf").narrows(&caf));
        assert!(!Query::new("ca").narrows(&caf));
        assert!(!caf.narrows(&Query::new("")));
    }
}
