//! The links deltacal acts on: an event's join link (else its web link), checked to be a web
//! address before anything opens, copies or shows it as a hyperlink, and the terminal sequences
//! that carry it (OSC 8 hyperlinks, OSC 52 clipboard). Pure: no terminal, no processes.

use base64::Engine;
use url::Url;

use crate::model::Event;

/// Which of an event's links was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The meeting's join link.
    Join,
    /// The event's web link.
    Web,
}

impl LinkKind {
    /// What a status line calls it.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::Join => "join link",
            LinkKind::Web => "web link",
        }
    }
}

/// Why there is no link to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoLink {
    /// The event has neither a join link nor a web link.
    Missing,
    /// It has one, but not a web address deltacal will hand on (the reason, already sanitised).
    Refused(LinkKind, String),
}

impl std::fmt::Display for NoLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoLink::Missing => write!(f, "This event has no join link and no web link."),
            NoLink::Refused(kind, why) => write!(f, "The {} is not usable: {why}.", kind.name()),
        }
    }
}

/// The link to join an event (`onlineMeeting.joinUrl`, else `onlineMeetingUrl`), else its
/// Outlook web link; checked by [`web_url`].
pub fn event_link(event: &Event) -> Result<(LinkKind, Url), NoLink> {
    let (kind, raw) = match (&event.online_meeting_url, &event.web_link) {
        (Some(join), _) if !join.trim().is_empty() => (LinkKind::Join, join),
        (_, Some(web)) if !web.trim().is_empty() => (LinkKind::Web, web),
        _ => return Err(NoLink::Missing),
    };
    web_url(raw)
        .map(|url| (kind, url))
        .map_err(|why| NoLink::Refused(kind, why))
}

/// The online meeting's join link alone (never the web link), when it is a safe web address.
pub fn join_link(event: &Event) -> Option<Url> {
    event_link(event)
        .ok()
        .filter(|(kind, _)| *kind == LinkKind::Join)
        .map(|(_, url)| url)
}

/// `raw` as an http(s) URL with a host and no credentials; anything else (other schemes,
/// control characters, spaces) is refused with the reason.
pub fn web_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("it contains control characters or spaces".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("it is not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "only http and https links are opened, not {}:",
            crate::text::line(url.scheme())
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it carries a user name or password".into());
    }
    Ok(url)
}

/// `text` shown as a hyperlink to `url` (OSC 8). The URL is serialised by `url`, so it is
/// printable ASCII with no escape or bell that could end the sequence early.
pub fn osc8(url: &Url, text: &str) -> String {
    format!("\x1b]8;;{}\x1b\\{text}\x1b]8;;\x1b\\", url.as_str())
}

/// The sequence that asks the terminal to put `text` on the clipboard (OSC 52).
pub fn osc52(text: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{data}\x07")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(join: Option<&str>, web: Option<&str>) -> Event {
        Event {
            online_meeting_url: join.map(str::to_owned),
            web_link: web.map(str::to_owned),
            ..Event::default()
        }
    }

    #[test]
    fn the_join_link_comes_first_then_the_web_link() {
        let e = event(
            Some("https://teams.microsoft.com/l/meetup-join/19%3a1"),
            Some("https://outlook.office365.com/owa/?itemid=1"),
        );
        let (kind, url) = event_link(&e).unwrap();
        assert_eq!(kind, LinkKind::Join);
        assert_eq!(url.host_str(), Some("teams.microsoft.com"));
        let e = event(None, Some("https://outlook.office365.com/owa/?itemid=1"));
        assert_eq!(event_link(&e).unwrap().0, LinkKind::Web);
        assert_eq!(event_link(&event(None, None)), Err(NoLink::Missing));
        assert_eq!(event_link(&event(Some("  "), None)), Err(NoLink::Missing));
    }

    #[test]
    fn only_plain_web_addresses_pass() {
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "https://evil.example/\x1b]52;c;AAAA\x07",
            "https://a b.example/",
            "https://user:pw@example.com/",
            "teams.microsoft.com/l/meetup-join",
        ] {
            assert!(web_url(bad).is_err(), "{bad:?} passed");
        }
        let e = event(Some("ms-teams://join/1"), None);
        let err = event_link(&e).unwrap_err().to_string();
        assert!(err.contains("only http and https"), "{err}");
        assert!(web_url("http://127.0.0.1:8080/join?x=1").is_ok());
    }

    #[test]
    fn sequences_carry_the_link_whole_and_safely() {
        let url = web_url("https://example.com/a?b=ü").unwrap();
        let s = osc8(&url, "join");
        assert!(s.starts_with("\x1b]8;;https://example.com/a?b=%C3%BC\x1b\\join"));
        assert!(s.ends_with("\x1b]8;;\x1b\\"));
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
