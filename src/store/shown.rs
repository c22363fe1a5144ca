//! What a cached row shows. An occurrence is stored as it came (on the real service a stub:
//! its series, its times, nothing to show) and completed with its series' properties when it is
//! read, so a series' properties are stored once, in its master row: a changed master rewrites
//! no occurrence, and a full round of a dense calendar writes a fraction of the bytes.

use std::collections::HashMap;
use std::rc::Rc;

use redb::ReadableTable;

use super::{Fault, MasterRow, Store};
use crate::model::{Body, Event};

/// The masters of one view decoded once per transaction, read or write (None: not cached).
#[derive(Default)]
pub(super) struct Masters {
    view: String,
    known: HashMap<String, Option<Rc<Event>>>,
}

/// The table of masters, as a read or a write transaction opens it.
pub(super) trait MasterTable:
    ReadableTable<(&'static str, &'static str), MasterRow<'static>>
{
}
impl<T: ReadableTable<(&'static str, &'static str), MasterRow<'static>>> MasterTable for T {}

impl Masters {
    /// The memo of `view`: a read that moves on to another view starts afresh.
    fn of(&mut self, view: &str) -> &mut HashMap<String, Option<Rc<Event>>> {
        if self.view != view {
            view.clone_into(&mut self.view);
            self.known.clear();
        }
        &mut self.known
    }

    /// A series' master, if the view holds it.
    pub(super) fn get(
        &mut self,
        store: &Store,
        table: &impl MasterTable,
        view: &str,
        id: &str,
    ) -> Result<Option<Rc<Event>>, Fault> {
        if let Some(found) = self.of(view).get(id) {
            return Ok(found.clone());
        }
        let found = match table.get((view, id))? {
            Some(row) => Some(Rc::new(store.decode(id, row.value().record)?)),
            None => None,
        };
        self.of(view).insert(id.to_owned(), found.clone());
        Ok(found)
    }

    /// Records a master a write stored (Some) or removed (None).
    pub(super) fn set(&mut self, view: &str, id: &str, master: Option<Rc<Event>>) {
        self.of(view).insert(id.to_owned(), master);
    }

    /// The master whose properties `event` shows: its series' when it is an occurrence and the
    /// view holds the master.
    pub(super) fn series_of(
        &mut self,
        store: &Store,
        table: &impl MasterTable,
        view: &str,
        event: &Event,
    ) -> Result<Option<Rc<Event>>, Fault> {
        match event.series_master_id.as_deref() {
            Some(master) if event.is_occurrence() => self.get(store, table, view, master),
            _ => Ok(None),
        }
    }

    /// The event a row holds, completed with its series' properties when it is an occurrence
    /// whose master the view holds; as stored otherwise.
    pub(super) fn complete(
        &mut self,
        store: &Store,
        table: &impl MasterTable,
        view: &str,
        event: Event,
    ) -> Result<Event, Fault> {
        Ok(match self.series_of(store, table, view, &event)? {
            Some(master) => event.completed_by(&master),
            None => event,
        })
    }

    /// What a row shows: its completed event, or nothing for a stub whose master is not known
    /// yet (it shows once it is).
    pub(super) fn shown(
        &mut self,
        store: &Store,
        table: &impl MasterTable,
        view: &str,
        event: Event,
    ) -> Result<Option<Event>, Fault> {
        let event = self.complete(store, table, view, event)?;
        Ok((!event.is_stub()).then_some(event))
    }

    /// The body an event shows: an occurrence's is its series' when the view holds the master
    /// (`bodies`, the masters' bodies), any other's its own, from its id row (`own`, empty
    /// when it has none).
    pub(super) fn body(
        &mut self,
        store: &Store,
        (table, bodies): (&impl MasterTable, &impl BodyTable),
        view: &str,
        event: &Event,
        own: &[u8],
    ) -> Result<Option<Body>, Fault> {
        let Some(master) = self.series_of(store, table, view, event)? else {
            return store.decode_body(&event.id, own);
        };
        match bodies.get((view, master.id.as_str()))? {
            Some(body) => store.decode_body(&master.id, body.value()),
            None => Ok(None),
        }
    }
}

/// The masters' bodies, as a read or a write transaction opens them.
pub(super) trait BodyTable:
    ReadableTable<(&'static str, &'static str), &'static [u8]>
{
}
impl<T: ReadableTable<(&'static str, &'static str), &'static [u8]>> BodyTable for T {}
