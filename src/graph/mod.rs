//! Talking to Microsoft Graph: the client with retries and link checks, the URLs it starts
//! from, and the wire format.

pub mod client;
pub mod event_json;
pub mod wire;

use chrono::{DateTime, Utc};
use reqwest::Url;

use crate::model::Window;

/// The initial delta URL of a calendar view over a window: `/me/calendarView/delta` for the
/// default calendar (`calendar` None), else `/me/calendars/{id}/calendarView/delta`.
pub fn delta_url(base: &Url, calendar: Option<&str>, window: &Window) -> Url {
    let mut url = base.clone();
    {
        let mut segments = url.path_segments_mut().expect("base_url is http(s)");
        segments.pop_if_empty().push("me");
        if let Some(id) = calendar {
            segments.push("calendars").push(id);
        }
        segments.push("calendarView").push("delta");
    }
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    url.query_pairs_mut()
        .append_pair("startDateTime", &fmt(window.start))
        .append_pair("endDateTime", &fmt(window.end));
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
            delta_url(&base, Some("AAMk/x="), &w).as_str(),
            "https://graph.microsoft.com/v1.0/me/calendars/AAMk%2Fx=/calendarView/delta?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
        assert_eq!(
            delta_url(&base, None, &w).as_str(),
            "https://graph.microsoft.com/v1.0/me/calendarView/delta?startDateTime=2016-12-01T00%3A00%3A00Z&endDateTime=2016-12-30T00%3A00%3A00Z"
        );
    }
}
