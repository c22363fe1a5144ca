//! Graph's delta page JSON.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::model::Change;

/// The link that ends a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageLink {
    /// More pages follow in this round.
    Next(String),
    /// The round is complete; the next round starts here.
    Delta(String),
}

/// One parsed page of a delta round.
#[derive(Debug)]
pub struct DeltaPage {
    /// The page's changes, in order.
    pub changes: Vec<Change>,
    /// Where the round goes next.
    pub link: PageLink,
    /// Items that could not be used (no `id`): logged and left out.
    pub skipped: usize,
}

#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

/// Why a page body was unusable (treated as a transient fault: fetched again).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    /// Not JSON, or not a page.
    #[error("page is not valid JSON: {0}")]
    Json(String),
    /// Both links: no way to tell whether the round ended.
    #[error("page has both a nextLink and a deltaLink")]
    BothLinks,
    /// Neither link: no way to go on.
    #[error("page has neither a nextLink nor a deltaLink")]
    NoLink,
}

/// The page as text. Invalid UTF-8 in one item must not cost the whole page: the bad bytes
/// become U+FFFD in that item and the rest reads as sent.
fn page_text(body: &[u8]) -> std::borrow::Cow<'_, str> {
    let text = String::from_utf8_lossy(body);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        tracing::warn!("a page held invalid UTF-8; the bad bytes were replaced");
    }
    text
}

/// Parses a delta page. Items that cannot be used (no `id`, no usable start) are skipped and
/// counted.
pub fn parse_page(body: &[u8]) -> Result<DeltaPage, WireError> {
    let text = page_text(body);
    let wire: WirePage<'_> =
        serde_json::from_str(&text).map_err(|e| WireError::Json(e.to_string()))?;
    let link = match (wire.next_link, wire.delta_link) {
        (Some(n), None) => PageLink::Next(n),
        (None, Some(d)) => PageLink::Delta(d),
        (Some(_), Some(_)) => return Err(WireError::BothLinks),
        (None, None) => return Err(WireError::NoLink),
    };
    let mut changes = Vec::with_capacity(wire.value.len());
    let mut skipped = 0;
    for raw in wire.value {
        match Change::from_raw(raw.get()) {
            Ok(Change::Upsert { event }) if event.span().is_none() => {
                skipped += 1;
                tracing::warn!(id = %crate::text::bounded(&event.id, 200), "skipping a delta item without a usable start time");
            }
            Ok(c) => changes.push(c),
            Err(e) => {
                skipped += 1;
                tracing::warn!(error = %e, "skipping an unusable delta item");
            }
        }
    }
    Ok(DeltaPage {
        changes,
        link,
        skipped,
    })
}

/// A page of a plain Graph list (not a delta): its items, unparsed, and the next page's link.
#[derive(Deserialize)]
struct WireList<'a> {
    #[serde(borrow)]
    value: Vec<&'a RawValue>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// A list of events (a series' instances) and the link to the rest, if any.
pub fn parse_list(body: &[u8]) -> Result<(Vec<crate::model::Event>, Option<String>), WireError> {
    let text = page_text(body);
    let wire: WireList<'_> =
        serde_json::from_str(&text).map_err(|e| WireError::Json(e.to_string()))?;
    let mut events = Vec::with_capacity(wire.value.len());
    for raw in wire.value {
        match Change::from_raw(raw.get()) {
            Ok(Change::Upsert { event }) if event.span().is_some() => events.push(*event),
            Ok(_) => tracing::warn!("skipping an instance without a usable start time"),
            Err(e) => tracing::warn!(error = %e, "skipping an unusable instance"),
        }
    }
    Ok((events, wire.next_link))
}

/// A page of calendars: each with whether the server said it is the default, and the next
/// page's link.
pub type CalendarPage = (
    Vec<(crate::model::CalendarInfo, Option<bool>)>,
    Option<String>,
);

/// One page of `/me/calendars`: each calendar with whether the server said it is the default
/// (v1.0 has been seen to leave `isDefaultCalendar` out), and the next page's link.
pub fn parse_calendars(body: &[u8]) -> Result<CalendarPage, WireError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct WireCalendar {
        id: Option<String>,
        name: Option<String>,
        color: Option<String>,
        hex_color: Option<String>,
        owner: Option<WireOwner>,
        can_edit: Option<bool>,
        is_default_calendar: Option<bool>,
    }
    #[derive(Deserialize)]
    struct WireOwner {
        name: Option<String>,
        address: Option<String>,
    }
    let text = page_text(body);
    let wire: WireList<'_> =
        serde_json::from_str(&text).map_err(|e| WireError::Json(e.to_string()))?;
    let mut calendars = Vec::with_capacity(wire.value.len());
    for raw in wire.value {
        let c = match serde_json::from_str::<WireCalendar>(raw.get()) {
            Ok(WireCalendar { id: Some(id), .. }) if id.trim().is_empty() => continue,
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "skipping an unusable calendar");
                continue;
            }
        };
        let Some(id) = c.id else {
            tracing::warn!("skipping a calendar without an id");
            continue;
        };
        let owner = c.owner.and_then(|o| {
            (o.name.is_some() || o.address.is_some()).then_some(crate::model::Person {
                name: o.name,
                address: o.address,
            })
        });
        calendars.push((
            crate::model::CalendarInfo {
                name: c.name.unwrap_or_else(|| id.clone()),
                id,
                color: c.color,
                hex_color: c.hex_color.filter(|h| !h.is_empty()),
                owner,
                can_edit: c.can_edit.unwrap_or(false),
                is_default: false,
            },
            c.is_default_calendar,
        ));
    }
    Ok((calendars, wire.next_link))
}

/// `(code, message)` from Graph's error body, or a placeholder when the body is not one.
pub fn parse_error(body: &[u8]) -> (String, String) {
    #[derive(Deserialize)]
    struct Outer {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_slice::<Outer>(body) {
        // Server text, bounded and sanitised before it can reach a terminal or the log.
        Ok(o) => (
            crate::text::bounded(o.error.code.as_deref().unwrap_or("unknown"), 64),
            crate::text::bounded(o.error.message.as_deref().unwrap_or_default(), 300),
        ),
        Err(_) => ("unknown".into(), "no error details in the response".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE_LAST: &str = r##"{
    "@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
    "@odata.deltaLink":"https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcFuQtZdtpk4",
    "value":[
        {
            "@odata.type": "#microsoft.graph.event",
            "id": "AAMkADk0MGFkODE3LWE4MmYtNDRhOS04OGQLkRkXbBznTvAADb6ytyAAA=",
            "@removed": {
                "reason": "deleted"
            }
        },
        {
            "@odata.type":"#microsoft.graph.event",
            "@odata.etag":"W/\"EZ9r3czxY0m2jz8c45czkwAALZu97w==\"",
            "subject":"Attend service",
            "body":{"contentType":"html","content":""},
            "start":{"dateTime":"2016-12-25T06:00:00.0000000","timeZone":"UTC"},
            "end":{"dateTime":"2016-12-25T07:30:00.0000000","timeZone":"UTC"},
            "location":{
                "displayName":"Chapel of Saint Ignatius",
                "address":{"street":"900 Broadway","city":"Seattle","state":"WA","countryOrRegion":"United States","postalCode":""},
                "coordinates":{"latitude":47.6105,"longitude":-122.321}
            },
            "attendees":[

            ],
            "organizer":{"emailAddress":{"name":"Samantha Booth","address":"samanthab@contoso.com"}},
            "id":"AAMkADj1HvAAA="
        }
    ]
}"##;

    #[test]
    fn a_bad_item_costs_itself_not_the_page() {
        let mut body = br#"{"value": [
            {"id": "good", "subject": "Fine", "start": {"dateTime": "2026-01-01T10:00:00", "timeZone": "UTC"}},
            {"id": "bytes", "subject": "Bad \xff\xfe here", "start": {"dateTime": "2026-01-01T11:00:00", "timeZone": "UTC"}},
            {"id": "notime", "subject": "No start"},
            {"id": "badtime", "subject": "x", "start": {"dateTime": "yesterday-ish", "timeZone": "UTC"}}
        ], "@odata.deltaLink": "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=x"}"#
            .to_vec();
        // Real invalid UTF-8 in the second item's subject.
        let at = body.windows(8).position(|w| w == b"\\xff\\xfe").unwrap();
        body.splice(at..at + 8, [0xff, 0xfe]);
        let page = parse_page(&body).unwrap();
        assert_eq!(page.skipped, 2, "the two without a usable start");
        let subjects: Vec<String> = page
            .changes
            .iter()
            .map(|c| match c {
                Change::Upsert { event } => event.subject.clone().unwrap(),
                Change::Remove { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(subjects, ["Fine", "Bad \u{fffd}\u{fffd} here"]);
    }

    #[test]
    fn parses_the_documented_sample() {
        let page = parse_page(SAMPLE_LAST.as_bytes()).unwrap();
        assert_eq!(page.link, PageLink::Delta("https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=R0usmcFuQtZdtpk4".into()));
        assert_eq!(page.changes.len(), 2);
        assert!(matches!(&page.changes[0], Change::Remove { id } if id.starts_with("AAMkADk0")));
        let Change::Upsert { event } = &page.changes[1] else {
            panic!("an upsert")
        };
        assert_eq!(event.subject.as_deref(), Some("Attend service"));
        assert_eq!(event.location.as_deref(), Some("Chapel of Saint Ignatius"));
        assert_eq!(
            event.etag.as_deref(),
            Some("W/\"EZ9r3czxY0m2jz8c45czkwAALZu97w==\"")
        );
    }

    #[test]
    fn rejects_pages_without_exactly_one_link() {
        assert_eq!(
            parse_page(br#"{"value": []}"#).unwrap_err(),
            WireError::NoLink
        );
        assert_eq!(
            parse_page(br#"{"value": [], "@odata.nextLink": "a", "@odata.deltaLink": "b"}"#)
                .unwrap_err(),
            WireError::BothLinks
        );
        assert!(matches!(
            parse_page(br#"{"value": [{"id": "#).unwrap_err(),
            WireError::Json(_)
        ));
        let page = parse_page(
            br#"{"value": [{"subject": "no id"}, {"id": "a", "start": {"dateTime": "2026-01-01T10:00:00"}}], "@odata.nextLink": "n"}"#,
        )
        .unwrap();
        assert_eq!((page.changes.len(), page.skipped), (1, 1));
    }

    #[test]
    fn reads_graph_error_bodies() {
        let (code, msg) = parse_error(br#"{"error": {"code": "SyncStateNotFound", "message": "The sync state generation is not found; generation=149;"}}"#);
        assert_eq!(code, "SyncStateNotFound");
        assert!(msg.contains("generation=149"));
    }
}
