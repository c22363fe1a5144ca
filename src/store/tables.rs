//! Every table of the cache, declared once: its key, its value and why it is shaped so.
//!
//! Rows are named types. Each encodes exactly as the tuple of its fields (the same bytes and
//! the same redb type name), so naming them changed no file: a cache written before reads as
//! it did.

use redb::{TableDefinition, TypeName, Value};

/// A key of [`EVENTS`] and [`TIMES`]: (view, start ms, id).
pub(super) type EventKey<'a> = (&'a str, i64, &'a str);

/// Declares a row type with named fields that encodes as the tuple of its fields, in order.
macro_rules! row {
    (@value $name:ident, $selfty:ty, $selfa:ty, $tuple:ty, $($field:ident),+) => {
        impl Value for $selfty {
            type SelfType<'a> = $selfa where Self: 'a;
            type AsBytes<'a> = <$tuple as Value>::AsBytes<'a> where Self: 'a;

            fn fixed_width() -> Option<usize> {
                <$tuple as Value>::fixed_width()
            }

            fn from_bytes<'a>(data: &'a [u8]) -> Self::SelfType<'a>
            where
                Self: 'a,
            {
                let ($($field,)+) = <$tuple as Value>::from_bytes(data);
                $name { $($field,)+ }
            }

            fn as_bytes<'a, 'b: 'a>(value: &'a Self::SelfType<'b>) -> Self::AsBytes<'a>
            where
                Self: 'b,
            {
                <$tuple as Value>::as_bytes(&($(value.$field,)+))
            }

            fn type_name() -> TypeName {
                <$tuple as Value>::type_name()
            }
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident<$lt:lifetime> as $tuple:ty {
            $($(#[$field_doc:meta])* $field:ident: $ty:ty,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) struct $name<$lt> {
            $($(#[$field_doc])* pub $field: $ty,)+
        }
        row!(@value $name, $name<'static>, $name<'a>, $tuple, $($field),+);
    };
    (
        $(#[$doc:meta])*
        $name:ident as $tuple:ty {
            $($(#[$field_doc:meta])* $field:ident: $ty:ty,)+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(super) struct $name {
            $($(#[$field_doc])* pub $field: $ty,)+
        }
        row!(@value $name, $name, $name, $tuple, $($field),+);
    };
}

/// name -> number: `"schema"`, the layout the file was written in.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

row! {
    /// A row of [`EVENTS`].
    EventRow<'r> as (i64, u64, &'static [u8]) {
        /// End in ms since the epoch.
        end: i64,
        /// The generation (full round) that last wrote it; a sweep removes older ones.
        generation: u64,
        /// The event in postcard: an occurrence's as the server sent it, which reads complete
        /// with its series.
        record: &'r [u8],
    }
}

/// (view, start ms, id) -> [`EventRow`]. Keyed by start so that "events overlapping [a, b)" is
/// one range scan from `a - longest` to `b` that yields the records themselves, `longest` being
/// the view's longest event. Events without a start sit at `NO_SPAN` and are never in range.
pub(super) const EVENTS: TableDefinition<EventKey, EventRow> = TableDefinition::new("events");

/// [`TimesRow`]'s dates of an event that is not all-day.
pub(super) const NOT_ALL_DAY: i32 = i32::MIN;

row! {
    /// A row of [`TIMES`]: enough to tell the days an event occupies in any zone.
    TimesRow as (i64, i32, i32, bool) {
        /// End in ms since the epoch.
        end: i64,
        /// An all-day event's first date in days from CE, or [`NOT_ALL_DAY`].
        first_day: i32,
        /// An all-day event's last date in days from CE, or [`NOT_ALL_DAY`].
        last_day: i32,
        /// Whether the event shows: one that does not is a stub whose master is not known yet.
        shows: bool,
    }
}

/// (view, start ms, id) -> [`TimesRow`]: the keys of [`EVENTS`] with the event's times as it
/// shows (an occurrence is all-day when its series is), a few dozen bytes a row where an event
/// row is hundreds. The month reads these to decide which events its cells can show before it
/// reads any row: six weeks of a dense calendar are a few hundred pages here and thousands in
/// `EVENTS`. Written with every row, and again when a series' master comes or changes.
pub(super) const TIMES: TableDefinition<EventKey, TimesRow> = TableDefinition::new("times");

row! {
    /// A row of [`IDS`].
    IdRow<'r> as (i64, &'static [u8]) {
        /// The event's start in ms: with the view and id, the key of its [`EVENTS`] row.
        start: i64,
        /// The event's body in postcard; empty when it has none.
        body: &'r [u8],
    }
}

/// (view, id) -> [`IdRow`]: finds an event's row when it changes or goes, and keeps its body
/// apart from the rows that every view reads in bulk (only the detail pane and search read a
/// body). One table for both: an event's id and body are written together, and on a large
/// calendar every table keyed by id costs a full round a page write per event.
pub(super) const IDS: TableDefinition<(&str, &str), IdRow> = TableDefinition::new("ids");

row! {
    /// A row of [`MASTERS`].
    MasterRow<'r> as (u64, &'static [u8]) {
        /// The generation that last wrote it.
        generation: u64,
        /// The series' master in postcard.
        record: &'r [u8],
    }
}

/// (view, master id) -> [`MasterRow`]: the properties of each series, stored once here: its
/// occurrences are stored as they came (stubs) and completed with them when read (see
/// `shown`). Masters are never shown themselves.
pub(super) const MASTERS: TableDefinition<(&str, &str), MasterRow> =
    TableDefinition::new("masters");

/// (view, master id) -> a series' body in postcard (no row when it has none): apart from the
/// masters, which every read of an occurrence reads, where only the detail pane and search
/// want a body.
pub(super) const MASTER_BODIES: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("master_bodies");

/// (view, master id, instance id) -> (): the instances of each series, so a series can be
/// reconciled or removed as a whole.
pub(super) const SERIES: TableDefinition<(&str, &str, &str), ()> = TableDefinition::new("series");

/// view -> the longest event duration ever stored, in ms (only grows until a sweep).
pub(super) const LONGEST: TableDefinition<&str, i64> = TableDefinition::new("longest");

/// view -> its [`super::SyncState`] as JSON.
pub(super) const SYNC: TableDefinition<&str, &[u8]> = TableDefinition::new("sync_state");

row! {
    /// A row of [`CHANGES`].
    ChangeRow<'r> as (u32, &'static str, i64, i64, bool) {
        /// The id of the process that committed it.
        process: u32,
        /// The view it changed.
        view: &'r str,
        /// The first ms of the events it changed, or `NO_SPAN` when it changed none.
        from: i64,
        /// The last ms of the events it changed, or `NO_SPAN`.
        to: i64,
        /// Whether it ended a round.
        completed: bool,
    }
}

/// change number -> [`ChangeRow`]: every commit that changes what a view shows or how it is
/// synced, numbered, so that every process that shows the cache (the TUI, `remind`) can see
/// another process's commits by polling the last number, a read of one small table, and
/// re-read only the days they changed. The last [`CHANGES_KEPT`] are kept.
pub(super) const CHANGES: TableDefinition<u64, ChangeRow> = TableDefinition::new("changes");

/// Changes kept in [`CHANGES`]: a reader further behind re-reads what it shows.
pub(super) const CHANGES_KEPT: u64 = 512;

/// name -> JSON: what the cache keeps besides events (see `keep`): `"calendars"`, the
/// account's calendars as last listed, `"reminded"`, the reminders shown, and
/// `"outbox_next_id"`, the next outbox id (little-endian u64; see `outbox`).
pub(super) const KEEP: TableDefinition<&str, &[u8]> = TableDefinition::new("keep");

/// outbox id -> an [`super::OutboxEntry`] as JSON: the user's changes the server has not
/// applied yet. Kept when the cache is emptied for a new schema (JSON reads across versions).
pub(super) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");

/// event id -> the `changeKey` the user's last applied change to it left on the server: a
/// series still at that version has had no change by anyone else since (a change to any of
/// its instances changes it), so its instances' new versions are the user's own doing.
pub(super) const APPLIED: TableDefinition<&str, &str> = TableDefinition::new("applied");

#[cfg(test)]
mod tests {
    use super::*;

    /// A named row is its tuple on disk: same bytes, same type name.
    #[test]
    fn rows_encode_as_their_tuples() {
        let row = EventRow {
            end: 42,
            generation: 7,
            record: b"event",
        };
        let tuple: (i64, u64, &[u8]) = (42, 7, b"event");
        let bytes = EventRow::as_bytes(&row);
        assert_eq!(bytes, <(i64, u64, &[u8]) as Value>::as_bytes(&tuple));
        assert_eq!(EventRow::from_bytes(bytes.as_ref()), row);
        assert_eq!(EventRow::type_name(), <(i64, u64, &[u8])>::type_name());
        let times = TimesRow {
            end: 1,
            first_day: NOT_ALL_DAY,
            last_day: NOT_ALL_DAY,
            shows: true,
        };
        assert_eq!(
            TimesRow::as_bytes(&times),
            <(i64, i32, i32, bool)>::as_bytes(&(1, NOT_ALL_DAY, NOT_ALL_DAY, true))
        );
        assert_eq!(
            TimesRow::fixed_width(),
            <(i64, i32, i32, bool)>::fixed_width()
        );
    }
}
