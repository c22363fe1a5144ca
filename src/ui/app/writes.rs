//! The app's side of changing the calendar: the keys that open the forms, the forms' checks
//! as the user types, queueing (shown at once, sent after the undo wait), undo, and the marks
//! and counts of what waits. Pure like the rest of `update`: the outbox is written and read by
//! the runner and the background task.

use chrono::Duration;

use super::{App, Effect, LocalChange, LocalState, Overlay, OverlayKind};
use crate::change;
use crate::model::CachedEvent;
use crate::store::{OutboxEntry, OutboxState, PendingChange};
use crate::sync::send::READ_ONLY_SIGN_IN;
use crate::ui::changes::{self, Planned};
use crate::ui::keys::{Command, hint};
use crate::ui::overlay::{Detail, FormPurpose, InvitationsPanel};
use crate::ui::view::ViewKind;

/// How many of its own changes the app remembers (for undo and the "Sent" note).
const CHANGES_KEPT: usize = 32;

/// How far `Shift+↑↓` moves an event in the time grids.
const MOVE_STEP_MINUTES: i64 = 15;

/// A stand-in outbox id for a change not yet written (its `local:ID` while it shows).
fn stand_in_id(seq: u64) -> u64 {
    u64::MAX - seq
}

/// What waits in the outbox, by kind, as the status bar counts it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Queued or being sent.
    pub to_send: usize,
    /// Refused by the server.
    pub failed: usize,
    /// Not sent over someone else's change.
    pub conflicts: usize,
    /// Held back because the sign-in can only read.
    pub read_only: bool,
}

impl App {
    /// The event a write key acts on: the invitation selected in the panel, the search hit,
    /// else the selected event.
    pub fn write_target(&self) -> Option<CachedEvent> {
        if let Some(Overlay::Invitations(panel)) = self.overlays.last() {
            return panel.current().map(|i| i.event.clone());
        }
        self.selected_event().cloned()
    }

    /// The invitations panel, if open.
    pub fn invitations(&self) -> Option<&InvitationsPanel> {
        self.overlays.iter().find_map(|o| match o {
            Overlay::Invitations(p) => Some(p),
            _ => None,
        })
    }

    /// A re-read of the invitations while their panel is open (after any load: an answer, or
    /// a round, may have changed them).
    pub(super) fn invites_effect(&self) -> Vec<Effect> {
        if self.invitations().is_some() {
            vec![Effect::LoadInvites]
        } else {
            Vec::new()
        }
    }

    /// The pending change on an event, if one waits.
    /// A change to the event's whole series counts too: it shows on every occurrence.
    pub fn pending_of(&self, c: &CachedEvent) -> Option<&OutboxEntry> {
        let id = c.event.id.as_str();
        let series = c.event.series_master_id.as_ref().map(|m| m.as_str());
        let pending = || {
            self.changes
                .iter()
                .filter(|l| l.state == LocalState::Queueing)
                .map(|l| &l.entry)
                .chain(&self.outbox)
                .rev()
        };
        let named = |e: &&OutboxEntry, id: &str| {
            e.event.as_ref().is_some_and(|x| x.as_str() == id)
                || (e.event.is_none() && e.local_id() == id)
        };
        pending()
            .find(|e| named(e, id))
            .or_else(|| series.and_then(|s| pending().find(|e| named(e, s))))
    }

    /// The outbox as last read, and this app's changes not yet written to it.
    fn all_pending(&self) -> impl Iterator<Item = &OutboxEntry> {
        let queueing = self
            .changes
            .iter()
            .filter(|l| l.state == LocalState::Queueing)
            .map(|l| &l.entry);
        self.outbox.iter().chain(queueing)
    }

    /// What waits to be sent, and whether the sign-in holds it back.
    pub fn waiting(&self) -> Waiting {
        let mut w = Waiting::default();
        for e in self.all_pending() {
            match e.state {
                OutboxState::Queued | OutboxState::Sending => w.to_send += 1,
                OutboxState::Failed => w.failed += 1,
                OutboxState::Conflict => w.conflicts += 1,
            }
            w.read_only |= e.error.as_deref() == Some(READ_ONLY_SIGN_IN);
        }
        w
    }

    /// After a read of the cache: the changes not yet in the outbox show over the events; a
    /// change of this app that left the outbox was sent; the marks follow.
    pub(super) fn after_load(&mut self) {
        self.outbox = std::mem::take(&mut self.visible.outbox);
        let queueing: Vec<OutboxEntry> = self
            .changes
            .iter()
            .filter(|l| l.state == LocalState::Queueing)
            .map(|l| l.entry.clone())
            .collect();
        if !queueing.is_empty() {
            crate::store::overlay(&mut self.visible.events, &queueing);
        }
        let mut notes = Vec::new();
        for local in &mut self.changes {
            let (LocalState::Waiting, Some(id)) = (local.state, local.id) else {
                continue;
            };
            match self.outbox.iter().find(|e| e.id == id) {
                None => {
                    local.state = LocalState::Sent;
                    notes.push(format!("Sent: {}", local.what));
                }
                Some(e) if matches!(e.state, OutboxState::Failed | OutboxState::Conflict) => {
                    local.state = LocalState::Sent;
                    notes.push(format!(
                        "Not applied: {} ({}: {} keeps mine, {} keeps theirs)",
                        local.what,
                        crate::text::line(e.error.as_deref().unwrap_or(e.state.word())),
                        hint(Command::KeepMine),
                        hint(Command::KeepTheirs)
                    ));
                }
                Some(e) if e.state == OutboxState::Sending || e.tries > 0 => {
                    local.state = LocalState::Sent;
                }
                Some(_) => {}
            }
        }
        if let Some(note) = notes.pop() {
            self.note = Some(note);
        }
        if self.waiting().read_only {
            self.note = Some(format!(
                "This sign-in can only read your calendar: {} signs in allowing changes (nothing queued is lost).",
                hint(Command::SignIn)
            ));
        }
        self.rebuild_marks();
    }

    fn rebuild_marks(&mut self) {
        let mut marks = std::collections::HashMap::new();
        for e in self.all_pending() {
            let id = e
                .event
                .as_ref()
                .map_or_else(|| e.local_id(), |id| id.to_string());
            marks.insert(id, e.state);
        }
        self.marks = marks;
    }

    /// The title an event shows under, with its pending change's mark.
    pub fn shown_title<'a>(&self, c: &'a CachedEvent) -> std::borrow::Cow<'a, str> {
        let series = c.event.series_master_id.as_ref();
        let mark = self
            .marks
            .get(c.event.id.as_str())
            .or_else(|| series.and_then(|s| self.marks.get(s.as_str())));
        match mark {
            Some(state) => format!("{}{}", super::mark_symbol(*state), c.event.title()).into(),
            None => c.event.title().into(),
        }
    }

    /// Whether the user may change the calendar at all; the status bar says why not.
    fn writable(&mut self) -> bool {
        if self.config.account.read_only {
            self.note = Some(
                "[account] read_only is set in the config: deltacal does not change the calendar."
                    .into(),
            );
            return false;
        }
        true
    }

    /// Whether `c` can be changed now; the status bar says why not.
    fn changeable(&mut self, c: &CachedEvent) -> bool {
        if let Err(why) = crate::change::own_calendar(&self.config, &c.view) {
            self.note = Some(why);
            return false;
        }
        if c.event.id.as_str().starts_with("local:") {
            self.note = Some(format!(
                "“{}” is not on the server yet: change it once it is sent ({} takes it back).",
                crate::text::line(c.event.title()),
                hint(Command::Undo)
            ));
            return false;
        }
        true
    }

    pub(super) fn on_write_command(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::Undo => return self.undo(),
            Command::Invitations => {
                self.open(Overlay::Invitations(InvitationsPanel::default()));
                return vec![Effect::LoadInvites];
            }
            Command::KeepMine | Command::KeepTheirs => return self.settle(command),
            _ => {}
        }
        if !self.writable() {
            return Vec::new();
        }
        if command == Command::NewEvent {
            self.open_form(FormPurpose::QuickAdd { day: self.selected });
            // While others' busy time shows: they are invited.
            if let Some(with) = self.busy_attendees()
                && let Some(Overlay::Form(form)) = self.overlays.last_mut()
            {
                form.fields.insert(
                    1,
                    crate::ui::overlay::Field::text(changes::label::ATTENDEES, with),
                );
            }
            // From a clicked grid slot: its time, to type on from.
            if let Some((day, minute)) = self.slot
                && day == self.selected
                && let Some(Overlay::Form(form)) = self.overlays.last_mut()
                && let Some(field) = form.fields.first_mut()
            {
                field.value = crate::ui::overlay::FieldValue::Text(format!(
                    "{:02}:{:02} ",
                    minute / 60,
                    minute % 60
                ));
                self.check_form();
            }
            return Vec::new();
        }
        let Some(target) = self.write_target() else {
            self.note = Some("No event selected.".into());
            return Vec::new();
        };
        if !self.changeable(&target) {
            return Vec::new();
        }
        match command {
            Command::Edit => {
                self.open_form(FormPurpose::Edit(Box::new(target)));
                Vec::new()
            }
            Command::Delete => {
                self.open_form(FormPurpose::Delete(Box::new(target)));
                Vec::new()
            }
            Command::Accept | Command::Tentative | Command::Decline | Command::Propose => {
                self.ask_answer(target, command)
            }
            Command::MoveEarlier | Command::MoveLater if self.is_time_grid() => {
                let step = Duration::minutes(MOVE_STEP_MINUTES);
                self.move_event(
                    target,
                    if command == Command::MoveLater {
                        step
                    } else {
                        -step
                    },
                )
            }
            Command::MoveEarlier | Command::MoveLater => {
                self.note = Some(format!(
                    "Moving by 15 minutes works in the week and day views ({} {}).",
                    hint(Command::WeekView),
                    hint(Command::DayView)
                ));
                Vec::new()
            }
            Command::MoveDayBack => self.move_event(target, Duration::days(-1)),
            Command::MoveDayOn => self.move_event(target, Duration::days(1)),
            _ => Vec::new(),
        }
    }

    /// `A` `T` `D` `P`: the answer form, unless Graph would refuse the answer (the user's own
    /// meeting, a cancelled one): then the status bar says why.
    pub(super) fn ask_answer(&mut self, target: CachedEvent, command: Command) -> Vec<Effect> {
        if !self.writable() || !self.changeable(&target) {
            return Vec::new();
        }
        if let Some(why) = change::answer_refusal(&target.event) {
            self.note = Some(why);
            return Vec::new();
        }
        let answer = match command {
            Command::Accept => crate::store::Answer::Accept,
            Command::Decline => crate::store::Answer::Decline,
            _ => crate::store::Answer::Tentative,
        };
        self.open_form(FormPurpose::Answer {
            event: Box::new(target),
            answer,
            propose: command == Command::Propose,
        });
        Vec::new()
    }

    pub(super) fn open_form(&mut self, purpose: FormPurpose) {
        let form = changes::open(purpose, &self.config);
        self.open(Overlay::Form(form));
        self.check_form();
    }

    /// The open form's preview, or why it cannot be sent, from its fields as they are now.
    pub(super) fn check_form(&mut self) {
        if let Some(Overlay::Form(form)) = self.overlays.last() {
            match form.purpose {
                FormPurpose::FreeBusy { .. } => return self.check_busy_form(),
                FormPurpose::SignIn => return,
                _ => {}
            }
        }
        let (config, now) = (self.config.clone(), self.now);
        let Some(Overlay::Form(form)) = self.overlays.last_mut() else {
            return;
        };
        match changes::plan(form, &config, now) {
            Ok((_, preview)) => {
                form.preview = preview;
                form.error = None;
            }
            Err(e) => {
                form.preview.clear();
                form.error = Some(crate::text::line(&e).into_owned());
            }
        }
    }

    /// Enter in a form: its change is queued, or the form says why it cannot be.
    pub(super) fn submit_form(&mut self) -> Vec<Effect> {
        if let Some(Overlay::Form(form)) = self.overlays.last() {
            match form.purpose {
                FormPurpose::FreeBusy { .. } => return self.submit_busy_form(),
                FormPurpose::SignIn => return self.sign_in_chosen(),
                _ => {}
            }
        }
        let (config, now) = (self.config.clone(), self.now);
        let Some(Overlay::Form(form)) = self.overlays.last_mut() else {
            return Vec::new();
        };
        match changes::plan(form, &config, now) {
            Ok((planned, _)) => {
                self.overlays.pop();
                // The answered invitation leaves the panel; the next one is selected.
                let answered = planned.event.as_ref().map(|c| c.event.id.clone());
                if let (Some(id), Some(Overlay::Invitations(panel))) =
                    (answered, self.overlays.last_mut())
                    && matches!(planned.change, PendingChange::Answer { .. })
                {
                    panel.invites.retain(|i| i.event.event.id != id);
                    panel.selected = panel.selected.min(panel.invites.len().saturating_sub(1));
                }
                self.queue(planned)
            }
            Err(e) => {
                form.error = Some(crate::text::line(&e).into_owned());
                Vec::new()
            }
        }
    }

    /// `Shift+arrows`: the event moved by `by` (an occurrence alone; the form's scope is for
    /// the whole series).
    fn move_event(&mut self, target: CachedEvent, by: Duration) -> Vec<Effect> {
        let shift = if by.num_minutes() % (24 * 60) == 0 {
            format!("{:+}d", by.num_days())
        } else {
            format!("{:+}m", by.num_minutes())
        };
        let edit = change::Edit {
            move_by: Some(shift),
            ..change::Edit::default()
        };
        match change::edit_fields(&self.config, &target.event, &edit, self.now) {
            Ok(fields) => {
                let change = PendingChange::Update { fields };
                let what = format!("Moved “{}”.", crate::text::line(target.event.title()));
                let mut effects = self.queue(Planned {
                    view: target.view.clone(),
                    event: Some(target.clone()),
                    change,
                    series: false,
                    what,
                });
                // The selection follows the event to its new day.
                let zone = self.config.display.zone;
                let day = self
                    .visible
                    .events
                    .iter()
                    .find(|c| c.event.id == target.event.id)
                    .and_then(|c| crate::days::event_days(&c.event, &zone))
                    .map(|d| d.0);
                if let Some(day) = day
                    && day != self.selected
                {
                    effects.extend(self.select(day));
                }
                if let Some(pos) = self
                    .day_events(self.selected)
                    .iter()
                    .position(|&i| self.visible.events[i].event.id == target.event.id)
                {
                    self.selected_event = pos;
                    self.grid_hour = None;
                }
                effects
            }
            Err(e) => {
                self.note = Some(crate::text::line(&e).into_owned());
                Vec::new()
            }
        }
    }

    /// The mouse moves with the button held: a dragged event follows it in 15-minute steps
    /// (drawn where it would land); off the grid it shows where it was.
    pub(super) fn on_drag(&mut self, column: u16, row: u16) -> Vec<Effect> {
        let slot = self
            .time_grid(self.main_area())
            .and_then(|g| g.slot_at(column, row));
        if let Some(drag) = &mut self.drag {
            drag.shift = slot.map(|(day, minute)| {
                (day - drag.from.0).num_minutes() + i64::from(minute) - i64::from(drag.from.1)
            });
        }
        Vec::new()
    }

    /// The button let go: a dragged event is moved where it was dropped; dropped off the grid,
    /// or where it was, nothing changes.
    pub(super) fn on_release(&mut self, column: u16, row: u16) -> Vec<Effect> {
        let Some(drag) = self.drag.take() else {
            return Vec::new();
        };
        let on_grid = self
            .time_grid(self.main_area())
            .and_then(|g| g.slot_at(column, row))
            .is_some();
        let Some(shift) = drag.shift.filter(|s| *s != 0 && on_grid) else {
            if !on_grid {
                self.note = Some("Dropped off the grid: nothing moved.".into());
            }
            return Vec::new();
        };
        let Some(target) = self
            .visible
            .events
            .iter()
            .find(|c| c.is(&drag.event))
            .cloned()
        else {
            return Vec::new();
        };
        if !self.writable() || !self.changeable(&target) {
            return Vec::new();
        }
        self.move_event(target, Duration::minutes(shift))
    }

    /// Queues a change: shown at once (marked), written to the outbox in the background, sent
    /// once `[writes] undo_secs` are over.
    pub fn queue(&mut self, planned: Planned) -> Vec<Effect> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let undo = Duration::seconds(self.config.writes.undo_secs.min(3600) as i64);
        let mut entry = OutboxEntry::new(
            planned.view,
            planned.event.as_ref().map(|c| &c.event),
            planned.change,
            self.now,
            self.now + undo,
        );
        entry.id = stand_in_id(seq);
        if !planned.series {
            crate::store::overlay(&mut self.visible.events, std::slice::from_ref(&entry));
        }
        self.changes.push(LocalChange {
            seq,
            id: None,
            entry: entry.clone(),
            what: planned.what.clone(),
            state: LocalState::Queueing,
        });
        if self.changes.len() > CHANGES_KEPT {
            self.changes.remove(0);
        }
        self.rebuild_marks();
        self.step_event(0);
        self.note = Some(if undo > Duration::zero() {
            format!(
                "{} Sending in {} s: {} undoes.",
                planned.what,
                undo.num_seconds(),
                hint(Command::Undo)
            )
        } else {
            format!("{} Sending.", planned.what)
        });
        vec![Effect::Queue {
            seq,
            entry: Box::new(entry),
            series: planned.series,
        }]
    }

    /// `u`: the last change not yet sent is taken back.
    fn undo(&mut self) -> Vec<Effect> {
        let last = self
            .changes
            .iter()
            .rev()
            .find(|c| matches!(c.state, LocalState::Queueing | LocalState::Waiting));
        match last {
            Some(c) => vec![Effect::Undo { seq: c.seq }],
            None => {
                self.note = Some(match self.changes.last() {
                    Some(c) if c.state == LocalState::Sent => format!(
                        "Nothing to undo: {} was sent and can no longer be undone.",
                        c.what
                    ),
                    _ => "Nothing to undo.".into(),
                });
                Vec::new()
            }
        }
    }

    pub(super) fn on_undone(&mut self, seq: u64, withdrawn: bool) -> Vec<Effect> {
        let Some(c) = self.changes.iter_mut().find(|c| c.seq == seq) else {
            return Vec::new();
        };
        if withdrawn {
            c.state = LocalState::Undone;
            self.note = Some(format!("Undone: {}", c.what));
        } else {
            c.state = LocalState::Sent;
            self.note = Some(format!("Sent already: {} can no longer be undone.", c.what));
        }
        self.rebuild_marks();
        vec![self.reload()]
    }

    /// `M` and `G` on an event whose change failed or conflicts: send it again (over the
    /// server's version), or give it up.
    fn settle(&mut self, command: Command) -> Vec<Effect> {
        let Some(target) = self.write_target() else {
            self.note = Some("No event selected.".into());
            return Vec::new();
        };
        let Some(entry) = self.pending_of(&target).cloned() else {
            self.note = Some("No change of yours waits on this event.".into());
            return Vec::new();
        };
        if !matches!(entry.state, OutboxState::Failed | OutboxState::Conflict) {
            self.note = Some(format!(
                "Your change to “{}” is still to be sent ({} takes it back while it waits).",
                crate::text::line(target.event.title()),
                hint(Command::Undo)
            ));
            return Vec::new();
        }
        if command == Command::KeepMine {
            self.note = Some(format!(
                "Sending your change to “{}” again{}.",
                crate::text::line(target.event.title()),
                if entry.state == OutboxState::Conflict {
                    ", over theirs"
                } else {
                    ""
                }
            ));
            vec![Effect::RetryChange {
                id: entry.id,
                force: entry.state == OutboxState::Conflict,
            }]
        } else {
            self.note = Some(format!(
                "Gave up your change to “{}”: the server's version stays.",
                crate::text::line(target.event.title())
            ));
            vec![Effect::DropChange { id: entry.id }]
        }
    }

    /// Enter in the invitations panel: the invitation's day, with its details.
    pub(super) fn open_invite(&mut self) -> Vec<Effect> {
        let Some(invite) = self.invitations().and_then(|p| p.current()).cloned() else {
            return Vec::new();
        };
        self.close(OverlayKind::Invitations);
        let day =
            crate::days::event_days(&invite.event.event, &self.config.display.zone).map(|d| d.0);
        if self.view == ViewKind::Month {
            self.view = ViewKind::Day;
        }
        let mut effects = day.map(|d| self.select(d)).unwrap_or_default();
        self.close(OverlayKind::Detail);
        self.overlays
            .push(Overlay::Detail(Detail::on(Some(invite.event.event_ref()))));
        if effects.is_empty() {
            self.keep_open_event();
            effects.push(self.reload());
        }
        effects
    }
}
