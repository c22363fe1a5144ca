//! Other people's calendars at the emulator, over HTTP on loopback: sharing, the errors of
//! graph-delta.md section 9, rooms, groups, getSchedule, the last three links, and Outlook's
//! four requests at once per mailbox.

#![allow(clippy::unwrap_used)]
#![cfg(feature = "emulator")]

use deltacal::sim::people::{ON_PREMISES, OTHER_GROUP, ROOM, TEAM_GROUP};
use deltacal::sim::{SimOptions, SimServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WINDOW: &str = "startDateTime=2000-01-01T00:00:00Z&endDateTime=2100-01-01T00:00:00Z";
const SHARED: &str = "offline_access Calendars.Read Calendars.Read.Shared Group.Read.All User.Read";

struct Sim {
    server: SimServer,
    http: reqwest::Client,
}

impl Sim {
    async fn start(users: usize) -> Sim {
        let options = SimOptions {
            events: 40,
            users,
            ..SimOptions::default()
        };
        Sim {
            server: SimServer::start("127.0.0.1:0", options).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn token(&self, scope: &str) -> String {
        self.server.handle().issue_scoped_tokens(scope)["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn get(&self, path: &str, token: &str, prefer: &str) -> (StatusCode, Value) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/v1.0{path}", self.server.url())
        };
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("Prefer", prefer)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.server.url()))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_calendar_shared_with_the_user_syncs_and_each_refusal_is_the_real_one() {
    let sim = Sim::start(2).await;
    let shared = sim.token(SHARED);
    let plain = sim.token("offline_access Calendars.Read User.Read");
    let delta = |who: &str| format!("/users/{who}/calendarView/delta?{WINDOW}");

    // Alex shares his calendar: its delta pages as the user's own does, links included.
    let (status, page) = sim
        .get(&delta("alexw@contoso.com"), &shared, "odata.maxpagesize=2")
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let link = page["@odata.nextLink"]
        .as_str()
        .or(page["@odata.deltaLink"].as_str())
        .unwrap();
    assert!(link.contains("/v1.0/users/alexw%40contoso.com/calendarView/delta?$"));
    let (status, _) = sim.get(link, &shared, "").await;
    assert_eq!(status, StatusCode::OK);

    // Without the .Shared scope, or a calendar not shared: 403 ErrorAccessDenied.
    let (status, body) = sim.get(&delta("alexw@contoso.com"), &plain, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ErrorAccessDenied")
    );
    let (status, body) = sim.get(&delta("meganb@contoso.com"), &shared, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ErrorAccessDenied")
    );
    assert_eq!(
        body["error"]["message"],
        "Access is denied. Check credentials and try again."
    );
    // Sharing it makes it readable.
    let (status, _) = sim
        .post(
            "/sim/share",
            None,
            json!({"owner": "meganb@contoso.com", "calendar": "default",
                   "with": "samanthab@contoso.com", "role": "write"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sim.get(&delta("meganb@contoso.com"), &shared, "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = sim
        .get("/users/meganb@contoso.com/calendars", &shared, "")
        .await;
    assert_eq!(listed["value"][0]["canEdit"], true, "{listed}");
    assert_eq!(listed["value"][0]["owner"]["address"], "meganb@contoso.com");

    // No such user; a mailbox Graph cannot reach.
    let (status, body) = sim.get(&delta("nobody@contoso.com"), &shared, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "ErrorInvalidUser")
    );
    assert_eq!(
        body["error"]["message"],
        "The requested user 'nobody@contoso.com' is invalid."
    );
    let (status, body) = sim.get(&delta(ON_PREMISES), &shared, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "MailboxNotEnabledForRESTAPI")
    );

    // The user's own address is /me.
    let (status, _) = sim.get(&delta("samanthab@contoso.com"), &plain, "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_delegated_room_answers_its_first_page_and_refuses_the_next_link() {
    let sim = Sim::start(0).await;
    let token = sim.token(SHARED);
    let first = format!("/users/{ROOM}/calendarView/delta?{WINDOW}");
    let (status, page) = sim.get(&first, &token, "odata.maxpagesize=2").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let next = page["@odata.nextLink"].as_str().unwrap();
    let (status, body) = sim.get(next, &token, "odata.maxpagesize=2").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ErrorAccessDenied")
    );
    // Listing works: calendarView pages, $top to a page, $skip in the link.
    let mut url = format!("/users/{ROOM}/calendarView?{WINDOW}&$top=5");
    let mut seen = 0;
    loop {
        let (status, page) = sim.get(&url, &token, "").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["value"].as_array().unwrap();
        assert!(items.len() <= 5);
        assert!(items.iter().all(|e| e["type"] != "seriesMaster"));
        seen += items.len();
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert!(seen > 5, "{seen}");
}

#[tokio::test]
async fn a_group_calendar_is_listed_not_tracked() {
    let sim = Sim::start(0).await;
    let token = sim.token(SHARED);
    let (status, body) = sim
        .get(
            &format!("/groups/{TEAM_GROUP}/calendarView/delta?{WINDOW}"),
            &token,
            "",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_REQUEST, "BadRequest")
    );
    assert_eq!(
        body["error"]["message"],
        "Unsupported request: Change tracking is not supported against 'microsoft.graph.event'."
    );
    let (status, page) = sim
        .get(
            &format!("/groups/{TEAM_GROUP}/calendarView?{WINDOW}"),
            &token,
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page["value"].as_array().unwrap().is_empty());
    // Not a member; no consent for the group scope; no such group.
    let (status, body) = sim
        .get(
            &format!("/groups/{OTHER_GROUP}/calendarView?{WINDOW}"),
            &token,
            "",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ErrorAccessDenied")
    );
    let plain = sim.token("offline_access Calendars.Read User.Read");
    let (status, body) = sim
        .get(
            &format!("/groups/{TEAM_GROUP}/calendarView?{WINDOW}"),
            &plain,
            "",
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "Authorization_RequestDenied")
    );
    let (status, body) = sim
        .get(&format!("/groups/nope/calendarView?{WINDOW}"), &token, "")
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "Request_ResourceNotFound")
    );
}

#[tokio::test]
async fn only_the_newest_three_links_of_a_view_stay_valid() {
    let sim = Sim::start(0).await;
    let token = sim.token(SHARED);
    let mut links = Vec::new();
    let mut url = format!("/me/calendarView/delta?{WINDOW}");
    for _ in 0..4 {
        let (status, page) = sim.get(&url, &token, "odata.maxpagesize=1").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        url = page["@odata.nextLink"].as_str().unwrap().to_owned();
        links.push(url.clone());
    }
    let (status, body) = sim.get(&links[0], &token, "").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::GONE, "SyncStateNotFound")
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[highest="),
        "{body}"
    );
    for link in &links[1..] {
        let (status, _) = sim.get(link, &token, "odata.maxpagesize=1").await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn the_documented_mode_keeps_to_the_page_size_asked() {
    let sim = Sim::start(0).await;
    sim.server.handle().with_mailbox(|_| ());
    let (status, _) = sim
        .post("/sim/settings", None, json!({"mode": "documented"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = sim.token(SHARED);
    let mut url = format!("/me/calendarView/delta?{WINDOW}");
    loop {
        let (_, page) = sim.get(&url, &token, "odata.maxpagesize=7").await;
        assert!(page["value"].as_array().unwrap().len() <= 7, "{page}");
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
}

#[tokio::test]
async fn get_schedule_answers_per_address_within_its_limits() {
    let sim = Sim::start(2).await;
    let token = sim.token(SHARED);
    let body = |schedules: Vec<&str>, end: &str| {
        json!({"schedules": schedules,
            "startTime": {"dateTime": "2026-01-05T00:00:00", "timeZone": "UTC"},
            "endTime": {"dateTime": end, "timeZone": "UTC"},
            "availabilityViewInterval": 60})
    };
    let (status, answer) = sim
        .post(
            "/v1.0/me/calendar/getSchedule",
            Some(&token),
            body(
                vec!["alexw@contoso.com", "nobody@contoso.com"],
                "2026-01-06T00:00:00",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let alex = &answer["value"][0];
    assert_eq!(alex["scheduleId"], "alexw@contoso.com");
    assert_eq!(alex["availabilityView"].as_str().unwrap().len(), 24);
    assert_eq!(alex["workingHours"]["startTime"], "08:00:00.0000000");
    assert_eq!(answer["value"][1]["error"]["responseCode"], "5016");
    let many = vec!["alexw@contoso.com"; 21];
    let (status, _) = sim
        .post(
            "/v1.0/me/calendar/getSchedule",
            Some(&token),
            body(many, "2026-01-06T00:00:00"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, answer) = sim
        .post(
            "/v1.0/me/calendar/getSchedule",
            Some(&token),
            body(vec!["alexw@contoso.com"], "2026-03-15T00:00:00"),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::BAD_REQUEST, "ErrorTimeIntervalTooBig")
    );
    // A personal account has none.
    let personal = sim
        .server
        .handle()
        .issue_personal_tokens("offline_access Calendars.Read");
    let personal = personal["access_token"].as_str().unwrap();
    assert!(!personal.starts_with("eyJ"), "opaque, not a JWT");
    let (status, answer) = sim
        .post(
            "/v1.0/me/calendar/getSchedule",
            Some(personal),
            body(vec!["alexw@contoso.com"], "2026-01-06T00:00:00"),
        )
        .await;
    assert_eq!(
        (status, code(&answer)),
        (StatusCode::FORBIDDEN, "ErrorAccessDenied")
    );
    // Its /me is its own.
    let (status, me) = sim.get("/me", personal, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["mail"], "sam.booth@outlook.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fifth_request_at_once_to_one_mailbox_is_throttled_and_others_are_not() {
    let sim = Sim::start(1).await;
    sim.server
        .handle()
        .set_latency(std::time::Duration::from_millis(400));
    let token = sim.token(SHARED);
    let me = format!("/me/calendarView?{WINDOW}");
    let alex = format!("/users/alexw@contoso.com/calendarView?{WINDOW}");
    let mut requests = Vec::new();
    for path in [&me, &me, &me, &me, &alex, &alex, &alex, &alex] {
        requests.push(sim.get(path, &token, ""));
    }
    let answers = futures_util::future::join_all(requests).await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );
    let mut requests = Vec::new();
    for _ in 0..5 {
        requests.push(sim.get(&me, &token, ""));
    }
    let answers = futures_util::future::join_all(requests).await;
    let throttled: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(throttled.len(), 1, "{answers:?}");
    assert_eq!(
        throttled[0]["error"]["message"],
        "Application is over its MailboxConcurrency limit."
    );
}
