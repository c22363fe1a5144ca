//! Property test: any sequence of pages (with replays and sweeps) leaves the store equal to a
//! plain in-memory model, and range queries agree with a brute-force overlap check.

use std::collections::BTreeMap;

use super::Fault;
use super::tables::{EVENTS, EventRow, IDS, MASTERS, META};
use super::{
    Cursor, Masters, PageJob, PageOutcome, SCHEMA_VERSION, SavedLink, Store, StoreError, SyncState,
    Writer,
};
use crate::model::{Change, Event, ViewKey, Window};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::json;

/// One page committed alone, and the state saved after it.
trait CommitOne {
    fn commit_one(
        &self,
        view: &str,
        changes: &[Change],
        cursor: &Cursor,
    ) -> Result<(PageOutcome, SyncState), StoreError>;
    fn commit_one_and_sweep(
        &self,
        view: &str,
        changes: &[Change],
        cursor: &Cursor,
    ) -> Result<(PageOutcome, SyncState), StoreError>;
}

impl CommitOne for Store {
    fn commit_one(
        &self,
        view: &str,
        changes: &[Change],
        cursor: &Cursor,
    ) -> Result<(PageOutcome, SyncState), StoreError> {
        let outcome = self
            .commit_pages(view, &[PageJob::new(changes, cursor)])?
            .remove(0);
        Ok((
            outcome,
            self.sync_state(view)?.expect("saved with the page"),
        ))
    }

    fn commit_one_and_sweep(
        &self,
        view: &str,
        changes: &[Change],
        cursor: &Cursor,
    ) -> Result<(PageOutcome, SyncState), StoreError> {
        let page = PageJob {
            sweep: true,
            ..PageJob::new(changes, cursor)
        };
        let outcome = self.commit_pages(view, &[page])?.remove(0);
        Ok((
            outcome,
            self.sync_state(view)?.expect("saved with the page"),
        ))
    }
}

/// Queries only the tests make, kept out of the production type's file.
impl Store {
    /// Removes every event of `view` written by a generation older than `generation`.
    fn sweep(&self, view: &str, generation: u64) -> Result<PageOutcome, Fault> {
        let txn = self.write()?;
        let mut writer = Writer::open(self, &txn, view, generation)?;
        writer.sweep()?;
        let outcome = writer.finish()?;
        txn.commit()?;
        Ok(outcome)
    }

    /// Where an event's rows are: its start, from the id table.
    fn start_of(
        &self,
        read: &redb::ReadTransaction,
        view: &str,
        id: &str,
    ) -> Result<Option<i64>, Fault> {
        let ids = read.open_table(IDS)?;
        Ok(ids.get((view, id))?.map(|v| v.value().start))
    }

    /// One cached event.
    fn event(&self, view: &str, id: &str) -> Result<Option<Event>, Fault> {
        let read = self.read()?;
        let Some(start) = self.start_of(&read, view, id)? else {
            return Ok(None);
        };
        let events = read.open_table(EVENTS)?;
        let Some(row) = events.get((view, start, id))? else {
            return Err(Fault::damaged(format!("event {id} is indexed but missing")));
        };
        let masters = read.open_table(MASTERS)?;
        let event = self.decode(id, row.value().record)?;
        Masters::default()
            .complete(self, &masters, view, event)
            .map(Some)
    }

    /// Every event of a view as (id, version, generation), in id order.
    fn versions(&self, view: &str) -> Result<Vec<(String, Option<String>, u64)>, Fault> {
        let read = self.read()?;
        let events = read.open_table(EVENTS)?;
        let mut out = Vec::new();
        for entry in events.range((view, i64::MIN, "")..)? {
            let (key, value) = entry?;
            let (key_view, _, id) = key.value();
            if key_view != view {
                break;
            }
            let EventRow {
                generation,
                record: bytes,
                ..
            } = value.value();
            let event = self.decode(id, bytes)?;
            out.push((
                id.to_owned(),
                event.version().map(str::to_owned),
                generation,
            ));
        }
        out.sort();
        Ok(out)
    }
}

#[derive(Debug, Clone)]
enum Item {
    Upsert {
        id: u8,
        start_h: i64,
        len_h: i64,
        all_day: bool,
        version: u16,
    },
    NoStart {
        id: u8,
        version: u16,
    },
    Remove {
        id: u8,
    },
}

#[derive(Debug, Clone)]
enum Op {
    Page {
        view: u8,
        items: Vec<Item>,
        generation: u64,
        sweep: bool,
    },
    ReplayLast,
    Sweep {
        view: u8,
        generation: u64,
    },
    Query {
        from_h: i64,
        len_h: i64,
    },
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        6 => (0u8..24, -48i64..400, 0i64..200, any::<bool>(), any::<u16>())
            .prop_map(|(id, start_h, len_h, all_day, version)| Item::Upsert { id, start_h, len_h, all_day, version }),
        1 => (0u8..24, any::<u16>()).prop_map(|(id, version)| Item::NoStart { id, version }),
        3 => (0u8..30).prop_map(|id| Item::Remove { id }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..2, proptest::collection::vec(item(), 0..12), 1u64..4, any::<bool>())
            .prop_map(|(view, items, generation, sweep)| Op::Page { view, items, generation, sweep }),
        1 => Just(Op::ReplayLast),
        1 => (0u8..2, 1u64..5).prop_map(|(view, generation)| Op::Sweep { view, generation }),
        2 => (-72i64..450, 0i64..300).prop_map(|(from_h, len_h)| Op::Query { from_h, len_h }),
    ]
}

fn base() -> DateTime<Utc> {
    "2026-11-01T00:00:00Z".parse().unwrap()
}

fn change(item: &Item) -> Change {
    let t = |h: i64| base() + Duration::hours(h);
    let fmt = |d: DateTime<Utc>| d.format("%Y-%m-%dT%H:%M:%S.0000000").to_string();
    let json = match item {
        Item::Remove { id } => {
            return Change::Remove {
                id: format!("ev{id}").into(),
            };
        }
        Item::NoStart { id, version } => {
            json!({"id": format!("ev{id}"), "subject": "no start", "changeKey": format!("v{version}")})
        }
        Item::Upsert {
            id,
            start_h,
            len_h,
            all_day,
            version,
        } => {
            let (start, end) = if *all_day {
                let s = t(*start_h)
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .unwrap()
                    .and_utc();
                (s, s + Duration::days(1 + len_h / 48))
            } else {
                (t(*start_h), t(start_h + len_h))
            };
            json!({"id": format!("ev{id}"), "subject": format!("s{version}"), "isAllDay": all_day,
                   "changeKey": format!("v{version}"),
                   "start": {"dateTime": fmt(start), "timeZone": "UTC"},
                   "end": {"dateTime": fmt(end), "timeZone": "UTC"}})
        }
    };
    Change::from_raw(&json.to_string()).unwrap()
}

type Model = BTreeMap<(String, String), (u64, Event)>;

fn overlaps(e: &Event, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    match e.span() {
        Some((s, en)) => s < to && (en > from || (en == s && s >= from)),
        None => false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn store_matches_a_simple_model(ops in proptest::collection::vec(op(), 1..25)) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cache.redb")).unwrap();
        let views = [ViewKey::default_calendar(), ViewKey::from("AAMkWork=")];
        let mut model: Model = BTreeMap::new();
        let mut last: Option<(ViewKey, Vec<Change>, Cursor, bool)> = None;
        let window = Window { start: base(), end: base() + Duration::days(30) };
        for op in ops {
            let page = match op {
                Op::Page { view, items, generation, sweep } => {
                    let changes: Vec<Change> = items.iter().map(change).collect();
                    let mut state = Cursor::new(window);
                    state.generation = generation;
                    state.link = Some(SavedLink::Next(format!("next-{generation}")));
                    Some((views[view as usize].clone(), changes, state, sweep))
                }
                Op::ReplayLast => last.clone(),
                Op::Sweep { view, generation } => {
                    let view = &views[view as usize];
                    let outcome = store.sweep(view, generation).unwrap();
                    let before = model.len();
                    model.retain(|(v, _), (g, _)| v != view.as_str() || *g >= generation);
                    prop_assert_eq!(outcome.removed as usize, before - model.len());
                    None
                }
                Op::Query { from_h, len_h } => {
                    let from = base() + Duration::hours(from_h);
                    let to = from + Duration::hours(len_h);
                    let got: Vec<(String, String)> = store
                        .events_overlapping(None, from, to)
                        .unwrap()
                        .into_iter()
                        .map(|c| (c.view.to_string(), c.event.id.to_string()))
                        .collect();
                    let mut want: Vec<(i64, String, String)> = model
                        .iter()
                        .filter(|(_, (_, e))| overlaps(e, from, to))
                        .map(|((v, id), (_, e))| (e.span().unwrap().0.timestamp_millis(), id.clone(), v.clone()))
                        .collect();
                    want.sort();
                    let want: Vec<(String, String)> = want.into_iter().map(|(_, id, v)| (v, id)).collect();
                    prop_assert_eq!(got, want);
                    None
                }
            };
            if let Some((view, changes, state, sweep)) = page {
                let (outcome, saved) = if sweep {
                    store.commit_one_and_sweep(&view, &changes, &state).unwrap()
                } else {
                    store.commit_one(&view, &changes, &state).unwrap()
                };
                let (mut added, mut updated, mut removed) = (0, 0, 0);
                for c in &changes {
                    let key = (view.to_string(), c.id().to_owned());
                    match c {
                        Change::Upsert { event, .. } => {
                            if model.insert(key, (state.generation, (**event).clone())).is_some() { updated += 1 } else { added += 1 }
                        }
                        Change::Remove { .. } => if model.remove(&key).is_some() { removed += 1 },
                    }
                }
                if sweep {
                    let before = model.len();
                    model.retain(|(v, _), (g, _)| *v != view.as_str() || *g >= state.generation);
                    removed += before - model.len();
                }
                prop_assert_eq!((outcome.added, outcome.updated, outcome.removed as usize), (added, updated, removed));
                prop_assert_eq!(saved.cursor.link.clone(), state.link.clone());
                prop_assert_eq!(store.sync_state(&view).unwrap(), Some(saved));
                last = Some((view, changes, state, sweep));
            }
            for view in &views {
                let got: Vec<(String, Option<String>, u64)> = store.versions(view).unwrap();
                let want: Vec<(String, Option<String>, u64)> = model
                    .iter()
                    .filter(|((v, _), _)| v == view.as_str())
                    .map(|((_, id), (g, e))| (id.clone(), e.version().map(str::to_owned), *g))
                    .collect();
                prop_assert_eq!(got, want);
                for ((v, id), (_, e)) in model.iter().filter(|((v, _), _)| v == view.as_str()) {
                    let cached = store.event(v, id).unwrap();
                    prop_assert_eq!(cached.as_ref(), Some(e));
                }
            }
        }
    }
}

/// A cache of an earlier schema (3 kept raw JSON, 4 had no series tables) opens: it is emptied,
/// sync state and all, and the next sync refills it with a full round.
#[test]
fn caches_of_earlier_schemas_are_emptied_for_a_full_round() {
    for old in [3u64, 4, 5, 6] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.redb");
        let raw: redb::TableDefinition<(&str, i64, &str), &str> = redb::TableDefinition::new("raw");
        {
            let store = Store::open(&path).unwrap();
            let window = Window {
                start: base(),
                end: base() + Duration::days(30),
            };
            let page = [change(&Item::Upsert {
                id: 1,
                start_h: 2,
                len_h: 1,
                all_day: false,
                version: 7,
            })];
            store
                .commit_one("default", &page, &Cursor::new(window))
                .unwrap();
            let txn = store.write().unwrap();
            txn.open_table(META).unwrap().insert("schema", old).unwrap();
            txn.open_table(raw)
                .unwrap()
                .insert(("default", 0, "e1"), "{}")
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert!(
            store.versions("default").unwrap().is_empty(),
            "schema {old}"
        );
        assert_eq!(store.sync_state("default").unwrap(), None);
        let read = store.read().unwrap();
        assert!(matches!(
            read.open_table(raw),
            Err(redb::TableError::TableDoesNotExist(_))
        ));
        let schema = read.open_table(META).unwrap().get("schema").unwrap();
        assert_eq!(schema.map(|v| v.value()), Some(SCHEMA_VERSION));
    }
}

/// An empty store in a temporary dir (kept while the first is held), and a window of 30 days.
fn month_store() -> (tempfile::TempDir, Store, Window) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.redb")).unwrap();
    let window = Window {
        start: base(),
        end: base() + Duration::days(30),
    };
    (dir, store, window)
}

#[test]
fn bodies_live_apart_from_the_rows_and_go_with_their_events() {
    let (_dir, store, window) = month_store();
    let t = |h: i64| json!({"dateTime": (base() + Duration::hours(h)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
    let with_body = |body: serde_json::Value| Change::Upsert {
        event: Box::new(
            Event::from_graph(
                &json!({"id": "e1", "subject": "s", "start": t(2), "end": t(3), "body": body}),
            )
            .unwrap(),
        ),
    };
    let state = Cursor::new(window);
    store
        .commit_one(
            "default",
            &[with_body(
                json!({"contentType": "html", "content": "<p>hi</p>"}),
            )],
            &state,
        )
        .unwrap();
    let rows = store
        .events_overlapping(None, base(), base() + Duration::days(1))
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].event.body, None,
        "the rows every view reads carry no body"
    );
    let body = store.body("default", "e1").unwrap().unwrap();
    assert!(body.html && body.content.contains("hi"));
    // An update without a body drops the old one; a removal takes it too.
    store
        .commit_one("default", &[with_body(json!(null))], &state)
        .unwrap();
    assert_eq!(store.body("default", "e1").unwrap(), None);
    store
        .commit_one(
            "default",
            &[with_body(
                json!({"contentType": "text", "content": "plain"}),
            )],
            &state,
        )
        .unwrap();
    assert!(store.body("default", "e1").unwrap().is_some());
    store
        .commit_one("default", &[Change::Remove { id: "e1".into() }], &state)
        .unwrap();
    assert_eq!(store.body("default", "e1").unwrap(), None);
}

#[test]
fn an_all_day_series_whose_master_comes_late_is_indexed_as_all_day() {
    let (_dir, store, window) = month_store();
    let day = base().date_naive() + Duration::days(2);
    let at = |d: chrono::NaiveDate, h: u32| json!({"dateTime": format!("{d}T{h:02}:00:00"), "timeZone": "UTC"});
    let upsert = |v: serde_json::Value| Change::Upsert {
        event: Box::new(Event::from_graph(&v).unwrap()),
    };
    // A stub says nothing of being all-day: its times read as midnights until its master
    // comes. A timed event starts at the same instant, first by id.
    let page = [
        upsert(json!({"id": "a0", "subject": "Early", "start": at(day, 0), "end": at(day, 1)})),
        upsert(
            json!({"id": "o1", "type": "occurrence", "seriesMasterId": "m",
                      "start": at(day, 0), "end": at(day + Duration::days(1), 0)}),
        ),
    ];
    let mut state = Cursor::new(window);
    state.full_round = true;
    store.commit_one("default", &page, &state).unwrap();
    let master = Event::from_graph(
        &json!({"id": "m", "type": "seriesMaster", "subject": "Holiday",
        "isAllDay": true, "start": at(day, 0), "end": at(day + Duration::days(1), 0)}),
    )
    .unwrap();
    store
        .fix_series("default", &[super::SeriesFix::Master(Box::new(master))])
        .unwrap();
    store.verify().unwrap();
    // With room for one event of each kind a day, the holiday is the day's all-day event.
    let zone = crate::tz::DisplayZone::Named(chrono_tz::Tz::UTC);
    let views = [ViewKey::default_calendar()];
    let (read, hidden) = store
        .events_in_days_capped(&views, &zone, day, day, 1, day + Duration::days(7))
        .unwrap();
    let ids: Vec<&str> = read.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["a0", "o1"], "{hidden:?}");
    assert!(read[1].event.all_day);
}

#[test]
fn an_occurrence_is_stored_as_it_came_and_shows_its_series_as_it_is_now() {
    let (_dir, store, window) = month_store();
    let t = |h: i64| json!({"dateTime": (base() + Duration::hours(h)).format("%Y-%m-%dT%H:%M:%S").to_string(), "timeZone": "UTC"});
    let upsert = |v: serde_json::Value| Change::Upsert {
        event: Box::new(Event::from_graph(&v).unwrap()),
    };
    let master = |subject: &str, body: &str| {
        super::SeriesFix::Master(Box::new(
            Event::from_graph(
                &json!({"id": "m", "type": "seriesMaster", "subject": subject,
                "start": t(2), "end": t(3), "body": {"contentType": "text", "content": body}}),
            )
            .unwrap(),
        ))
    };
    let raw_row = || {
        let read = store.read().unwrap();
        let events = read.open_table(super::EVENTS).unwrap();
        let ids = read.open_table(super::IDS).unwrap();
        let start = ids.get(("default", "o1")).unwrap().unwrap().value().start;
        let row = events.get(("default", start, "o1")).unwrap().unwrap();
        row.value().record.to_vec()
    };
    let mut state = Cursor::new(window);
    state.full_round = true;
    let stub = json!({"id": "o1", "type": "occurrence", "seriesMasterId": "m",
                      "start": t(26), "end": t(27)});
    store
        .commit_one("default", &[upsert(stub)], &state)
        .unwrap();
    let day = || {
        store
            .events_overlapping(None, base(), base() + Duration::days(2))
            .unwrap()
    };
    assert!(day().is_empty(), "a stub shows once its master is known");
    let stored = raw_row();
    store
        .fix_series("default", &[master("Standup", "agenda: none")])
        .unwrap();
    let shown = day();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].event.subject.as_deref(), Some("Standup"));
    assert_eq!(
        shown[0].event.start,
        store.event("default", "o1").unwrap().unwrap().start
    );
    let body = store.body("default", "o1").unwrap().unwrap();
    assert_eq!(body.content, "agenda: none");
    assert_eq!(
        raw_row(),
        stored,
        "the master's coming rewrites no occurrence"
    );
    // The series changes: its occurrence shows it as it is now, its row untouched.
    store
        .fix_series("default", &[master("Daily sync", "agenda: demos")])
        .unwrap();
    let shown = day();
    assert_eq!(shown[0].event.subject.as_deref(), Some("Daily sync"));
    assert_eq!(
        store.body("default", "o1").unwrap().unwrap().content,
        "agenda: demos"
    );
    let found = store.search(&crate::search::Query::new("demos")).unwrap();
    assert_eq!(
        found.len(),
        1,
        "search finds an occurrence by its series' body"
    );
    assert_eq!(raw_row(), stored);
    store.verify().unwrap();
    // The series goes: its occurrences with it.
    store
        .fix_series("default", &[super::SeriesFix::Gone("m".into())])
        .unwrap();
    assert!(day().is_empty());
    assert_eq!(store.body("default", "o1").unwrap(), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Pages committed together (as the committer does with pages that queued up) leave what
    /// they would have left committed one by one: the same events and the same saved state.
    #[test]
    fn pages_committed_together_equal_pages_committed_alone(
        pages in proptest::collection::vec(
            (proptest::collection::vec(item(), 0..12), any::<bool>()), 1..6),
        split in 0usize..6,
    ) {
        let (_a, alone, window) = month_store();
        let (_b, together, _) = month_store();
        let mut jobs = Vec::new();
        for (round, (items, sweep)) in pages.iter().enumerate() {
            let changes: Vec<Change> = items.iter().map(change).collect();
            let mut state = Cursor::new(window);
            state.generation = 2;
            state.round = 1;
            state.full_round = true;
            state.link = Some(SavedLink::Next(format!("page {round}")));
            jobs.push((changes, state, *sweep));
        }
        for (changes, state, sweep) in &jobs {
            if *sweep {
                alone.commit_one_and_sweep("default", changes, state).unwrap();
            } else {
                alone.commit_one("default", changes, state).unwrap();
            }
        }
        let pages: Vec<super::PageJob<'_>> = jobs
            .iter()
            .map(|(changes, cursor, sweep)| PageJob { changes, cursor, sweep: *sweep })
            .collect();
        // Two transactions, split anywhere: the second starts from what the first saved.
        let split = split.min(pages.len());
        let mut outcomes = together.commit_pages("default", &pages[..split]).unwrap();
        outcomes.extend(together.commit_pages("default", &pages[split..]).unwrap());
        prop_assert_eq!(outcomes.len(), pages.len());
        prop_assert_eq!(alone.versions("default").unwrap(), together.versions("default").unwrap());
        prop_assert_eq!(alone.sync_state("default").unwrap(), together.sync_state("default").unwrap());
        prop_assert_eq!(outcomes.last().map(|o| o.progress), alone.sync_state("default").unwrap().map(|s| s.progress));
        together.verify().unwrap();
    }
}

#[test]
fn the_month_neither_reads_nor_counts_a_stub_until_its_master_comes() {
    let (_dir, store, window) = month_store();
    let day = base().date_naive() + Duration::days(3);
    let at = |h: u32| json!({"dateTime": format!("{day}T{h:02}:00:00"), "timeZone": "UTC"});
    let upsert = |v: serde_json::Value| Change::Upsert {
        event: Box::new(Event::from_graph(&v).unwrap()),
    };
    let page = [
        upsert(json!({"id": "a1", "subject": "Review", "start": at(9), "end": at(10)})),
        upsert(
            json!({"id": "o1", "type": "occurrence", "seriesMasterId": "m",
                      "start": at(8), "end": at(9)}),
        ),
    ];
    let mut state = Cursor::new(window);
    state.full_round = true;
    store.commit_one("default", &page, &state).unwrap();
    store.verify().unwrap();
    let zone = crate::tz::DisplayZone::Named(chrono_tz::Tz::UTC);
    let views = [ViewKey::default_calendar()];
    // Room for one event a day, the selected day elsewhere.
    let month = || {
        store
            .events_in_days_capped(&views, &zone, day, day, 1, day + Duration::days(7))
            .unwrap()
    };
    let (read, hidden) = month();
    let ids: Vec<&str> = read.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["a1"]);
    assert_eq!(
        hidden.get(&day),
        None,
        "no \"+1 more\" for what shows nothing"
    );
    let master = Event::from_graph(&json!({"id": "m", "type": "seriesMaster",
        "subject": "Standup", "start": at(8), "end": at(9)}))
    .unwrap();
    store
        .fix_series("default", &[super::SeriesFix::Master(Box::new(master))])
        .unwrap();
    store.verify().unwrap();
    let (read, hidden) = month();
    let ids: Vec<&str> = read.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["o1"], "the occurrence comes first, by start");
    assert_eq!(hidden.get(&day), Some(&1));
}

/// A reader that keeps the cache open (a status bar's `next`, a script) never refuses a
/// writer (the TUI, `sync`, `remind`), and a writer never refuses a reader; both see each
/// other's commits. Each `Store` is its own open of the file, as another process's would be.
#[test]
fn readers_and_writers_share_the_cache() {
    let (dir, writer, window) = month_store();
    let path = dir.path().join("cache.redb");
    let item = |id, version| {
        change(&Item::Upsert {
            id,
            start_h: 2,
            len_h: 1,
            all_day: false,
            version,
        })
    };
    writer
        .commit_one("default", &[item(1, 1)], &Cursor::new(window))
        .unwrap();
    let reader = Store::open_for_reading(&path).unwrap();
    assert!(
        matches!(reader.db, super::Db::ReadOnly(_)),
        "opened read-only"
    );
    // A second writer opens while the reader holds the file, and commits.
    let second = Store::open(&path).expect("a reader does not lock out a writer");
    second
        .commit_one("default", &[item(2, 1)], &Cursor::new(window))
        .unwrap();
    assert_eq!(reader.versions("default").unwrap().len(), 2);
    // And another reader opens beside both writers.
    let again = Store::open_for_reading(&path).expect("writers do not lock out a reader");
    assert_eq!(again.versions("default").unwrap().len(), 2);
    drop((writer, second, reader, again));
}

/// The cache is created private (0600) from its first byte, and a symlink in its place is
/// refused, whatever it points to, with the target left as it was.
#[cfg(unix)]
#[test]
fn the_cache_is_private_and_never_opened_through_a_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/cache.redb");
    drop(Store::open(&path).unwrap());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let target = dir.path().join("someone-elses");
    std::fs::write(&target, "keep").unwrap();
    let link = dir.path().join("data/linked.redb");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let error = Store::open(&link).err().expect("refused").to_string();
    assert!(error.contains("not a regular file"), "{error}");
    assert!(Store::open_for_reading(&link).is_err());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

#[test]
fn a_database_error_keeps_redb_s_error_as_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cache.redb")).unwrap();
    let e = store.located(Fault::from(redb::StorageError::Corrupted("page 7".into())));
    let source = std::error::Error::source(&e).expect("redb's error is kept");
    assert!(source.to_string().contains("page 7"), "{source}");
    assert!(
        e.to_string().contains("cache.redb") && e.to_string().contains("page 7"),
        "{e}"
    );
}

#[test]
fn a_damaged_cache_moved_aside_keeps_the_changes_not_yet_sent() {
    use super::{OutboxEntry, OutboxState, PendingChange};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    let now = Utc::now();
    {
        let store = Store::open(&path).unwrap();
        let event = Event::from_graph(&json!({"id": "E", "subject": "Plan",
            "start": {"dateTime": "2026-12-09T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-09T11:00:00", "timeZone": "UTC"}}))
        .unwrap();
        store
            .commit_one(
                "default",
                &[Change::Upsert {
                    event: Box::new(event.clone()),
                }],
                &Cursor::new(Window {
                    start: base() - Duration::days(30),
                    end: base() + Duration::days(30),
                }),
            )
            .unwrap();
        for subject in ["First", "Second"] {
            let change = PendingChange::Update {
                fields: json!({"subject": subject}),
            };
            store
                .queue(OutboxEntry::new(
                    "default".into(),
                    Some(&event),
                    change,
                    now,
                    now,
                ))
                .unwrap();
        }
        // A sender dies holding the first; then a record of the events goes bad.
        store.claim_due(now).unwrap();
        let txn = store.write().unwrap();
        {
            let mut events = txn.open_table(EVENTS).unwrap();
            let start = "2026-12-09T10:00:00Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
                .timestamp_millis();
            events
                .insert(
                    ("default", start, "E"),
                    EventRow {
                        end: start,
                        generation: 0,
                        record: [0xff, 0xff, 0xff].as_slice(),
                    },
                )
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let (store, aside) = Store::open_or_rebuild(&path, true, super::CacheSize::Resident).unwrap();
    assert!(aside.is_some(), "moved aside");
    let kept = store.outbox().unwrap();
    let subjects: Vec<_> = kept
        .iter()
        .map(|e| match &e.change {
            PendingChange::Update { fields } => fields["subject"].clone(),
            _ => json!(null),
        })
        .collect();
    assert_eq!(subjects, [json!("First"), json!("Second")]);
    assert!(kept.iter().all(|e| e.state == OutboxState::Queued));
    // Ids go on from where they were.
    let next = store
        .queue(OutboxEntry::new(
            "default".into(),
            None,
            PendingChange::Delete,
            now,
            now,
        ))
        .unwrap();
    assert_eq!(next, 3);
}
