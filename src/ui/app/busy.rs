//! `f` in the week and day views: others' busy time beside the user's events (getSchedule,
//! asked in the background), and `N` while it shows: a new event with them invited.

use chrono::{DateTime, NaiveDate, Utc};

use super::{App, Effect};
use crate::ui::overlay::{FieldValue, FormPurpose, Overlay};
use crate::ui::view::ViewKind;

/// What getSchedule said of others' busy time: when any of them is busy, and the addresses it
/// could not answer for; or why it did not answer.
pub type BusyAnswer = Result<(Vec<(DateTime<Utc>, DateTime<Utc>)>, Vec<String>), String>;

/// Others' busy time as the views show it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OthersBusy {
    /// Whose.
    pub addresses: Vec<String>,
    /// The days asked about.
    pub first: NaiveDate,
    /// The last of them.
    pub last: NaiveDate,
    /// When any of them is busy (tentative, busy, away), in order.
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Asked, not answered yet.
    pub loading: bool,
}

/// The addresses the prompt's text names: split at spaces and commas, each `name@domain`.
pub fn addresses(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for word in text.split([' ', ',', ';']).filter(|w| !w.is_empty()) {
        crate::free::check_address(word)?;
        if !out.iter().any(|a| a.eq_ignore_ascii_case(word)) {
            out.push(word.to_owned());
        }
    }
    Ok(out)
}

impl App {
    /// `f`: the prompt for whose busy time to show, with the addresses shown now.
    pub(super) fn ask_whose_busy(&mut self) -> Vec<Effect> {
        if !matches!(self.view, ViewKind::Week | ViewKind::Day) {
            self.note = Some("f shows others' busy time in the week and day views.".into());
            return Vec::new();
        }
        if self.config.account.tenant.eq_ignore_ascii_case("consumers") {
            self.note = Some(
                "Free/busy is not available for personal accounts (getSchedule is for work and school accounts)."
                    .into(),
            );
            return Vec::new();
        }
        let (first, last) = self.wanted_range();
        self.open_form(FormPurpose::FreeBusy { first, last });
        let shown = self
            .busy
            .as_ref()
            .map(|b| b.addresses.join(" "))
            .unwrap_or_default();
        if let Some(Overlay::Form(form)) = self.overlays.last_mut()
            && let Some(field) = form.fields.first_mut()
        {
            field.value = FieldValue::Text(shown);
        }
        self.check_busy_form();
        Vec::new()
    }

    /// The prompt's preview: whose busy time Enter shows, or why it cannot.
    pub(super) fn check_busy_form(&mut self) {
        let Some(Overlay::Form(form)) = self.overlays.last_mut() else {
            return;
        };
        match addresses(form.text(crate::ui::changes::label::PEOPLE)) {
            Ok(list) if list.is_empty() => {
                form.preview = vec!["nobody: Enter hides others' busy time".into()];
                form.error = None;
            }
            Ok(list) => {
                form.preview = vec![format!(
                    "busy time of {} beside yours (getSchedule)",
                    list.join(", ")
                )];
                form.error = None;
            }
            Err(e) => {
                form.preview.clear();
                form.error = Some(e);
            }
        }
    }

    /// Enter in the prompt: ask for their busy time over the days shown (or hide it).
    pub(super) fn submit_busy_form(&mut self) -> Vec<Effect> {
        let Some(Overlay::Form(form)) = self.overlays.last_mut() else {
            return Vec::new();
        };
        let list = match addresses(form.text(crate::ui::changes::label::PEOPLE)) {
            Ok(list) => list,
            Err(e) => {
                form.error = Some(e);
                return Vec::new();
            }
        };
        self.overlays.pop();
        if list.is_empty() {
            self.busy = None;
            self.note = Some("Others' busy time hidden.".into());
            return Vec::new();
        }
        let (first, last) = self.wanted_range();
        self.busy = Some(OthersBusy {
            addresses: list.clone(),
            first,
            last,
            busy: Vec::new(),
            loading: true,
        });
        vec![Effect::LoadFreeBusy {
            addresses: list,
            first,
            last,
        }]
    }

    /// Their busy time came (or did not): shown, and the status bar says whose.
    pub(super) fn on_busy(
        &mut self,
        addresses: Vec<String>,
        first: NaiveDate,
        last: NaiveDate,
        result: BusyAnswer,
    ) -> Vec<Effect> {
        let Some(busy) = self.busy.as_mut() else {
            return Vec::new();
        };
        // An answer for an older question (other people, other days) is not this one's.
        if busy.addresses != addresses || busy.first != first || busy.last != last {
            return Vec::new();
        }
        busy.loading = false;
        match result {
            Ok((intervals, unknown)) => {
                busy.busy = intervals;
                // What was not found first: the bar cuts a long note at its end.
                let mut note = String::new();
                if !unknown.is_empty() {
                    note.push_str(&format!("Not found: {}. ", unknown.join(", ")));
                }
                let found: Vec<&str> = addresses
                    .iter()
                    .filter(|a| !unknown.iter().any(|u| u.eq_ignore_ascii_case(a)))
                    .map(String::as_str)
                    .collect();
                if !found.is_empty() {
                    note.push_str(&format!(
                        "Busy time of {} beside yours (▐); N invites them, f changes whom.",
                        found.join(", ")
                    ));
                }
                self.note = Some(crate::text::line(note.trim_end()).into_owned());
            }
            Err(e) => {
                self.note = Some(format!(
                    "Others' busy time could not be read: {}",
                    crate::text::line(&e)
                ));
            }
        }
        Vec::new()
    }

    /// When the days shown move past those asked about, their busy time is asked again.
    pub(super) fn follow_busy(&mut self) -> Option<Effect> {
        let (first, last) = self.wanted_range();
        let busy = self.busy.as_mut()?;
        if busy.loading || (busy.first <= first && last <= busy.last) {
            return None;
        }
        if !matches!(self.view, ViewKind::Week | ViewKind::Day) {
            return None;
        }
        busy.first = first;
        busy.last = last;
        busy.loading = true;
        busy.busy.clear();
        Some(Effect::LoadFreeBusy {
            addresses: busy.addresses.clone(),
            first,
            last,
        })
    }

    /// The addresses `N` invites: those whose busy time shows.
    pub(super) fn busy_attendees(&self) -> Option<String> {
        self.busy
            .as_ref()
            .filter(|_| matches!(self.view, ViewKind::Week | ViewKind::Day))
            .map(|b| b.addresses.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_reads_addresses() {
        assert_eq!(
            addresses("alex@contoso.com, meganb@contoso.com alex@contoso.com").unwrap(),
            vec!["alex@contoso.com", "meganb@contoso.com"]
        );
        assert!(addresses("").unwrap().is_empty());
        assert!(addresses("alex").unwrap_err().contains("`alex`"));
    }
}
