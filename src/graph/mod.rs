//! Talking to Microsoft Graph: the client with retries and link checks, the URLs it starts
//! from, and the wire format.

pub mod client;
pub mod event_json;
pub mod wire;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::model::{Owner, Window};

/// The initial delta URL of a calendar view over a window: `/me/calendarView/delta` for the
/// default calendar (`calendar` None), else `/me/calendars/{id}/calendarView/delta`; under
/// `/users/{address}` or `/groups/{id}` for someone else's.
pub fn delta_url(base: &Url, owner: &Owner, calendar: Option<&str>, window: &Window) -> Url {
    view_url(base, owner, calendar, window, true)
}

/// A calendar view's plain listing (`calendarView`, no delta): how a group's calendar, and a
/// calendar whose delta is refused, are read.
pub fn list_url(base: &Url, owner: &Owner, calendar: Option<&str>, window: &Window) -> Url {
    view_url(base, owner, calendar, window, false)
}

fn view_url(
    base: &Url,
    owner: &Owner,
    calendar: Option<&str>,
    window: &Window,
    delta: bool,
) -> Url {
    let mut path = Vec::new();
    if let Some(id) = calendar {
        path.extend(["calendars", id]);
    }
    path.push("calendarView");
    if delta {
        path.push("delta");
    }
    mailbox_url(base, owner, &path, Some(window))
}

/// `path` under a mailbox (`/me`, `/users/{address}`, `/groups/{id}`) under the base URL,
/// with a window's `startDateTime` and `endDateTime` when there is one.
fn mailbox_url(base: &Url, owner: &Owner, path: &[&str], window: Option<&Window>) -> Url {
    let mut url = base.clone();
    {
        let mut segments = url.path_segments_mut().expect("base_url is http(s)");
        segments
            .pop_if_empty()
            .extend(owner.segments())
            .extend(path);
    }
    if let Some(window) = window {
        let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        url.query_pairs_mut()
            .append_pair("startDateTime", &fmt(window.start))
            .append_pair("endDateTime", &fmt(window.end));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delta_urls_for_default_and_named_calendars() {
        let base = Url::parse("https://graph.microsoft.com/v1.0").unwrap();
        let w = Window {
            start: "2016-12-01T00:00:00Z".parse().unwrap(),
            end: "2016-12-30T00:00:00Z".parse().unwrap(),
        };
        assert_eq!(
            delta_url(&base, &Owner::Me, Some("AAMk/x="), &w).as_str(),
            "https://graph.microsoft.com/v1.0/me/calendars/AAMk%2Fx=/calendarView/delta?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
        assert_eq!(
            delta_url(&base, &Owner::Me, None, &w).as_str(),
            "https://graph.microsoft.com/v1.0/me/calendarView/delta?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
        let alex = Owner::User("alex@contoso.com".into());
        assert_eq!(
            delta_url(&base, &alex, None, &w).as_str(),
            "https://graph.microsoft.com/v1.0/users/alex@contoso.com/calendarView/delta?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
        let group = Owner::Group("g-1".into());
        assert_eq!(
            list_url(&base, &group, None, &w).as_str(),
            "https://graph.microsoft.com/v1.0/groups/g-1/calendarView?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
    }
}
