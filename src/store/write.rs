//! One write transaction's work on a view: its tables opened once, changes applied, series kept
//! whole, the sweep at the end of a full round.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::rc::Rc;

use redb::{ReadableTable, Table, WriteTransaction};

use super::shown::Masters;
use super::{
    Backlog, EVENTS, EventRow, Fault, IDS, IdRow, LONGEST, MASTER_BODIES, MASTERS, MasterRow,
    NO_SPAN, PageOutcome, SERIES, Store, TIMES, TimesRow, Timing, to_ms,
};
use crate::model::{Change, Event};

/// The tables of one view in one write transaction, and what the writes did.
pub(super) struct Writer<'s, 't> {
    store: &'s Store,
    view: &'s str,
    generation: u64,
    events: Table<'t, (&'static str, i64, &'static str), EventRow<'static>>,
    times: Table<'t, (&'static str, i64, &'static str), TimesRow>,
    ids: Table<'t, (&'static str, &'static str), IdRow<'static>>,
    masters: Table<'t, (&'static str, &'static str), MasterRow<'static>>,
    master_bodies: Table<'t, (&'static str, &'static str), &'static [u8]>,
    series: Table<'t, (&'static str, &'static str, &'static str), ()>,
    longest_table: Table<'t, &'static str, i64>,
    longest: i64,
    longest_before: i64,
    outcome: PageOutcome,
    /// Masters decoded in this transaction.
    known_masters: Masters,
}

impl<'s, 't> Writer<'s, 't> {
    /// Opens every table once; writes are stamped with `generation`.
    pub(super) fn open(
        store: &'s Store,
        txn: &'t WriteTransaction,
        view: &'s str,
        generation: u64,
    ) -> Result<Writer<'s, 't>, Fault> {
        let longest_table = txn.open_table(LONGEST)?;
        let longest = longest_table.get(view)?.map(|v| v.value()).unwrap_or(0);
        Ok(Writer {
            store,
            view,
            generation,
            events: txn.open_table(EVENTS)?,
            times: txn.open_table(TIMES)?,
            ids: txn.open_table(IDS)?,
            masters: txn.open_table(MASTERS)?,
            master_bodies: txn.open_table(MASTER_BODIES)?,
            series: txn.open_table(SERIES)?,
            longest_table,
            longest,
            longest_before: longest,
            outcome: PageOutcome::default(),
            known_masters: Masters::default(),
        })
    }

    /// Applies a page's changes. `full` says the page belongs to a full round; `backlog` gains
    /// the series the page leaves needing work; `current` are the series whose cached master
    /// is known to be current (see [`super::Cursor::current_masters`]).
    pub(super) fn apply(
        &mut self,
        changes: &[Change],
        full: bool,
        backlog: &mut Backlog,
        current: &BTreeSet<String>,
    ) -> Result<(), Fault> {
        // A series is never split across pages: a master and its stubs arrive together.
        let page_masters: BTreeSet<&str> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Upsert { event } if event.is_series_master() => Some(event.id.as_str()),
                _ => None,
            })
            .collect();
        // Masters first, so that the occurrences of this page are indexed as their series shows
        // them (all-day or not).
        let masters_first =
            changes
                .iter()
                .filter(|c| matches!(c, Change::Upsert { event } if event.is_series_master()))
                .chain(changes.iter().filter(
                    |c| !matches!(c, Change::Upsert { event } if event.is_series_master()),
                ));
        for change in masters_first {
            match change {
                Change::Upsert { event } if event.is_series_master() => {
                    self.put_master(event)?;
                    backlog.masters.remove(event.id.as_str());
                    if !full {
                        // The series changed, and its master came with the instances it has
                        // left in the window (the page holds the whole series): any other is
                        // gone, though no `@removed` said so.
                        let kept: BTreeSet<&str> = changes
                            .iter()
                            .filter(|c| match c {
                                Change::Upsert { event: e } => {
                                    e.series_master_id.as_deref() == Some(event.id.as_str())
                                }
                                Change::Remove { .. } => false,
                            })
                            .map(Change::id)
                            .collect();
                        for id in self.instance_ids(&event.id)? {
                            if !kept.contains(id.as_str()) {
                                self.remove(&id)?;
                            }
                        }
                        backlog.instances.remove(event.id.as_str());
                    }
                }
                Change::Upsert { event } => {
                    self.upsert(event)?;
                    let Some(master) = event.series_master_id.as_deref() else {
                        continue;
                    };
                    if !event.is_stub() || page_masters.contains(master) {
                        continue;
                    }
                    // The master did not come with its stubs (its series began before the
                    // window): fetch it once this round, as it may have changed. Until then a
                    // cached one serves, kept from this round's sweep. In an incremental round
                    // the series changed without its master: reconcile it through its instances.
                    let cached = self.restamp_master(master)?;
                    if cached && full && current.contains(master) {
                        // Re-anchoring a window kept current: the cached master is the
                        // server's (shown with its stubs at once).
                        continue;
                    }
                    backlog.masters.insert(master.to_owned());
                    if !full {
                        backlog.instances.insert(master.to_owned());
                    }
                }
                Change::Remove { id } => {
                    if self.is_series(id)? {
                        self.remove_series(id)?;
                        backlog.forget(id);
                    } else {
                        self.remove(id)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Stores a series master: its occurrences show its properties from now on (they are
    /// completed with them when read).
    pub(super) fn put_master(&mut self, master: &Event) -> Result<(), Fault> {
        let (record, body) = self.encode(master)?;
        let key = (self.view, master.id.as_str());
        self.masters.insert(
            key,
            MasterRow {
                generation: self.generation,
                record: record.as_slice(),
            },
        )?;
        if body.is_empty() {
            self.master_bodies.remove(key)
        } else {
            self.master_bodies.insert(key, body.as_slice())
        }?;
        self.known_masters
            .set(self.view, &master.id, Some(Rc::new(master.clone())));
        for id in self.instance_ids(&master.id)? {
            self.reindex_with_series(&id, master)?;
        }
        Ok(())
    }

    /// A cached occurrence shows its series' properties, being all-day among them: its time
    /// index row, which the month reads, follows the master. Its days are marked changed.
    fn reindex_with_series(&mut self, id: &str, master: &Event) -> Result<(), Fault> {
        let Some(start) = self.ids.get((self.view, id))?.map(|v| v.value().start) else {
            return Ok(());
        };
        let Some((end, event)) = self
            .events
            .get((self.view, start, id))?
            .map(|v| {
                let EventRow {
                    end, record: bytes, ..
                } = v.value();
                self.store.decode(id, bytes).map(|event| (end, event))
            })
            .transpose()?
        else {
            return Ok(());
        };
        if !event.is_occurrence() {
            return Ok(());
        }
        let row = Timing::row(&event.with_series(master), end);
        let key = (self.view, start, id);
        let indexed = self.times.get(key)?.map(|v| v.value());
        if indexed != Some(row) {
            self.times.insert(key, row)?;
        }
        self.outcome.touch(start, end);
        Ok(())
    }

    /// Stamps a cached master with this generation, so a full round's sweep keeps it.
    /// False when the master is not cached.
    fn restamp_master(&mut self, id: &str) -> Result<bool, Fault> {
        let record = match self.masters.get((self.view, id))? {
            Some(row) if row.value().generation == self.generation => return Ok(true),
            Some(row) => row.value().record.to_vec(),
            None => return Ok(false),
        };
        self.masters.insert(
            (self.view, id),
            MasterRow {
                generation: self.generation,
                record: record.as_slice(),
            },
        )?;
        Ok(true)
    }

    /// True when `id` names a series this view knows: its master, or instances of it.
    pub(super) fn is_series(&self, id: &str) -> Result<bool, Fault> {
        if self.masters.get((self.view, id))?.is_some() {
            return Ok(true);
        }
        Ok(self.instances(id)?.next().transpose()?.is_some())
    }

    /// The instance ids of a series the view holds, in id order; a read that fails is an error,
    /// not the end of the list.
    fn instances(
        &self,
        master: &str,
    ) -> Result<impl Iterator<Item = Result<String, Fault>> + use<'_>, Fault> {
        let range = self.series.range((self.view, master, "")..)?;
        let (view, master) = (self.view.to_owned(), master.to_owned());
        Ok(range
            .map(move |entry| {
                let (key, _) = entry?;
                let (v, m, id) = key.value();
                Ok((v == view && m == master).then(|| id.to_owned()))
            })
            .map_while(Result::transpose))
    }

    /// Every instance id of a series the view holds.
    pub(super) fn instance_ids(&self, master: &str) -> Result<Vec<String>, Fault> {
        self.instances(master)?.collect()
    }

    /// Removes a series: its master and every instance.
    pub(super) fn remove_series(&mut self, master: &str) -> Result<(), Fault> {
        for id in self.instance_ids(master)? {
            self.remove(&id)?;
        }
        self.drop_master(master)?;
        self.known_masters.set(self.view, master, None);
        Ok(())
    }

    /// Takes out a master's row and its body's.
    fn drop_master(&mut self, id: &str) -> Result<(), Fault> {
        self.masters.remove((self.view, id))?;
        self.master_bodies.remove((self.view, id))?;
        Ok(())
    }

    /// Adds or replaces an event (not a master). An occurrence is stored as it came, and its
    /// time index row as it shows: with its series' properties when the master is known (a
    /// stub whose master is not stays hidden until it is).
    pub(super) fn upsert(&mut self, event: &Event) -> Result<(), Fault> {
        let shown =
            match self
                .known_masters
                .series_of(self.store, &self.masters, self.view, event)?
            {
                Some(master) => Cow::Owned(event.with_series(&master)),
                None => Cow::Borrowed(event),
            };
        let id = event.id.as_str();
        let (start, end) = shown
            .span()
            .map(|(a, b)| (to_ms(a), to_ms(b)))
            .unwrap_or((NO_SPAN, NO_SPAN));
        let (record, body) = self.encode(event)?;
        // The id row is replaced in one step; the old one says where the old rows are.
        let old_start = self
            .ids
            .insert(
                (self.view, id),
                IdRow {
                    start,
                    body: body.as_slice(),
                },
            )?
            .map(|v| v.value().start);
        let existed = old_start.is_some();
        if let Some(old_start) = old_start
            && old_start != start
        {
            self.drop_rows(id, old_start)?;
        }
        // At the same start the rows are overwritten in place; the old end still changed.
        if let Some(old_end) = self.put_row(&shown, (start, end), &record)? {
            self.outcome.touch(start, old_end);
        }
        if let Some(master) = event.series_master_id.as_deref() {
            self.series.insert((self.view, master, id), ())?;
        }
        if start != NO_SPAN {
            self.longest = self.longest.max(end - start);
        }
        self.outcome.touch(start, end);
        if existed {
            self.outcome.updated += 1;
        } else {
            self.outcome.added += 1;
        }
        Ok(())
    }

    /// Writes an event's row (its `record`) and, with it, its time index row (the times of
    /// `shown`, the event completed with its series): the one place both are written, so that
    /// they cannot disagree. The end of the row it replaced, if any.
    fn put_row(
        &mut self,
        shown: &Event,
        (start, end): (i64, i64),
        record: &[u8],
    ) -> Result<Option<i64>, Fault> {
        let key = (self.view, start, shown.id.as_str());
        let old_end = self
            .events
            .insert(
                key,
                EventRow {
                    end,
                    generation: self.generation,
                    record,
                },
            )?
            .map(|old| old.value().end);
        self.times.insert(key, Timing::row(shown, end))?;
        Ok(old_end)
    }

    /// An event's record for its row, and its body for its id row (empty when it has none):
    /// the rows every view reads in bulk never hold a body.
    fn encode(&self, event: &Event) -> Result<(Vec<u8>, Vec<u8>), Fault> {
        let unwritable = |e| Fault::unwritable(&format!("event {}", event.id), e);
        let record = postcard::to_allocvec(event).map_err(unwritable)?;
        let body = match &event.body {
            Some(body) => postcard::to_allocvec(body).map_err(unwritable)?,
            None => Vec::new(),
        };
        Ok((record, body))
    }

    /// Removes an event; removing an unknown id does nothing.
    pub(super) fn remove(&mut self, id: &str) -> Result<(), Fault> {
        if let Some(bytes) = self.take_row(id)? {
            self.outcome.removed += 1;
            let event = self.store.decode(id, &bytes)?;
            if let Some(master) = event.series_master_id.as_deref() {
                self.series.remove((self.view, master, id))?;
            }
        }
        Ok(())
    }

    /// Takes an event's rows out, marking its old days changed; its record if it had one.
    fn take_row(&mut self, id: &str) -> Result<Option<Vec<u8>>, Fault> {
        let Some(start) = self.ids.remove((self.view, id))?.map(|v| v.value().start) else {
            return Ok(None);
        };
        self.drop_rows(id, start).map(Some)
    }

    /// Takes out the event and time index rows of an event that starts at `start`, marking its
    /// days changed; its record (empty if its row was missing).
    fn drop_rows(&mut self, id: &str, start: i64) -> Result<Vec<u8>, Fault> {
        let row = self.events.remove((self.view, start, id))?;
        self.times.remove((self.view, start, id))?;
        let (end, bytes) = row
            .map(|v| {
                let EventRow {
                    end, record: bytes, ..
                } = v.value();
                (end, bytes.to_vec())
            })
            .unwrap_or((start, Vec::new()));
        self.outcome.touch(start, end);
        Ok(bytes)
    }

    /// Removes every event and master of the view that an older generation wrote: the end of a
    /// full round.
    pub(super) fn sweep(&mut self) -> Result<(), Fault> {
        let view = self.view;
        let mut stale = Vec::new();
        let mut longest = 0;
        for entry in self.events.range((view, i64::MIN, "")..)? {
            let (key, value) = entry?;
            let (key_view, start, id) = key.value();
            if key_view != view {
                break;
            }
            let EventRow {
                end,
                generation: written,
                ..
            } = value.value();
            if written < self.generation {
                stale.push(id.to_owned());
            } else if start != NO_SPAN {
                longest = longest.max(end - start);
            }
        }
        for id in &stale {
            self.remove(id)?;
        }
        let mut stale_masters = Vec::new();
        for entry in self.masters.range((view, "")..)? {
            let (key, value) = entry?;
            let (key_view, id) = key.value();
            if key_view != view {
                break;
            }
            if value.value().generation < self.generation {
                stale_masters.push(id.to_owned());
            }
        }
        for id in &stale_masters {
            self.drop_master(id)?;
        }
        // A sweep is the one moment the longest duration can be recomputed exactly.
        self.longest = longest;
        self.longest_before = i64::MIN;
        Ok(())
    }

    /// Saves the longest duration and says what the writes did.
    pub(super) fn finish(mut self) -> Result<PageOutcome, Fault> {
        if self.longest != self.longest_before {
            self.longest_table.insert(self.view, self.longest)?;
        }
        Ok(self.outcome)
    }
}
