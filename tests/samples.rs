//! The four responses of Microsoft's calendarView delta page, exactly as printed there
//! (tests/fixtures), parse and commit like any other pages.

#![allow(clippy::unwrap_used)]

use deltacal::graph::wire::{PageLink, parse_page};
use deltacal::model::Window;
use deltacal::store::{Cursor, PageJob, SavedLink, Store};

/// The four responses of the calendarView delta documentation, exactly as printed there
/// (tests/fixtures), parse and apply: 5 events, then one removal of an unknown id and one add.
#[test]
fn the_documented_sample_responses_parse_and_apply() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.redb")).unwrap();
    let window = Window {
        start: "2016-12-01T00:00:00Z".parse().unwrap(),
        end: "2016-12-30T00:00:00Z".parse().unwrap(),
    };
    let mut state = Cursor::new(window);
    state.generation = 1;
    let mut links = Vec::new();
    for name in ["page1", "page2", "page3", "next-round"] {
        let body = std::fs::read(format!(
            "{}/tests/fixtures/sample-{name}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let page = parse_page(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(page.skipped, 0);
        state.link = Some(match &page.link {
            PageLink::Next(l) => SavedLink::Next(l.clone()),
            PageLink::Delta(l) => SavedLink::Delta(l.clone()),
        });
        links.push(page.link.clone());
        store
            .commit_pages("default", &[PageJob::new(&page.changes, &state)])
            .unwrap();
    }
    assert!(matches!(&links[0], PageLink::Next(l) if l.ends_with("$skiptoken=R0usmcCM996atia_s")));
    assert!(matches!(&links[2], PageLink::Delta(l) if l.ends_with("$deltatoken=R0usmcMDNGg0J1E")));
    let cached = store
        .events_overlapping(None, window.start, window.end)
        .unwrap();
    let subjects: Vec<&str> = cached
        .iter()
        .map(|c| c.event.subject.as_deref().unwrap())
        .collect();
    assert_eq!(
        subjects,
        [
            "Plan shopping list",
            "Pick up car",
            "Get food",
            "Prepare food",
            "Rest!",
            "Attend service"
        ]
    );
    let location = |id: &str| {
        let c = cached.iter().find(|c| c.event.id == id).unwrap();
        c.event.location.as_deref()
    };
    assert_eq!(location("AAMkADj1HuAAA="), Some("Home"));
    assert_eq!(location("AAMkADj1HvAAA="), Some("Chapel of Saint Ignatius"));
}
