//! The other mailboxes of the emulated tenant: colleagues (some sharing calendars with the
//! signed-in user), a room delegated to them, a mailbox Graph cannot reach, Microsoft 365
//! groups, and what each lets whom read (graph-delta.md section 9).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;

use super::generate;
use super::graph_api::graph_error;
use super::identity::USER_MAIL;
use super::mailbox::Mailbox;

/// The signed-in user's address: whom shares and group memberships name.
pub const ME: &str = USER_MAIL;

/// Whom `/users/{address}` names: the signed-in user by their address or id, else another.
pub fn who_of_user(address: &str) -> Who {
    if address.eq_ignore_ascii_case(USER_MAIL)
        || address == "sim-user-1"
        || address == super::identity::USER_OID
    {
        Who::Me
    } else {
        Who::User(address.to_ascii_lowercase())
    }
}

/// Whose calendars a Graph path names: `/me`, `/users/{address}` or `/groups/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Who {
    /// The signed-in user.
    Me,
    /// Another user (or a room), by address, lowercased.
    User(String),
    /// A Microsoft 365 group, by id.
    Group(String),
}

impl Who {
    /// The path prefix under `/v1.0` (for the links pages end with).
    pub fn prefix(&self) -> String {
        match self {
            Who::Me => "/me".into(),
            Who::User(a) => format!("/users/{}", super::graph_api::urlencode(a)),
            Who::Group(g) => format!("/groups/{}", super::graph_api::urlencode(g)),
        }
    }

    /// The key a calendar view of this mailbox is known by in the token table and the round
    /// watch: ids of different mailboxes may be alike.
    pub fn view(&self, calendar: &str) -> String {
        match self {
            Who::Me => calendar.to_owned(),
            other => format!("{}{calendar}", other.prefix()),
        }
    }

    /// The mailbox the request counts against for Outlook's concurrency limit.
    pub fn mailbox_key(&self) -> String {
        match self {
            Who::Me => USER_MAIL.to_owned(),
            Who::User(a) => a.clone(),
            Who::Group(g) => format!("group:{g}"),
        }
    }
}

/// What a share lets the other user do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read the calendar.
    Read,
    /// Read and change it.
    Write,
}

/// Another user's mailbox.
#[derive(Debug)]
pub struct Person {
    /// Their display name.
    pub name: String,
    /// Their calendars.
    pub mailbox: Mailbox,
    /// Who may read (or write) which of their calendars: calendar id → address → role.
    pub shares: HashMap<String, HashMap<String, Role>>,
    /// False for a mailbox Graph cannot reach (on-premises, inactive).
    pub reachable: bool,
    /// A room: its delegates' delta rounds are refused on the next link (graph-delta.md 9).
    pub room: bool,
    /// Their working hours, as mailboxSettings holds them.
    pub working: WorkingHours,
}

/// Working hours: days, times of day and the zone they are in (a Windows zone name).
#[derive(Debug, Clone)]
pub struct WorkingHours {
    /// `monday`… as Graph writes them.
    pub days: Vec<&'static str>,
    /// `HH:MM`.
    pub start: &'static str,
    /// `HH:MM`.
    pub end: &'static str,
    /// A Windows or IANA zone name.
    pub zone: &'static str,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            days: vec!["monday", "tuesday", "wednesday", "thursday", "friday"],
            start: "08:00",
            end: "17:00",
            zone: "UTC",
        }
    }
}

/// A Microsoft 365 group and its calendar.
#[derive(Debug)]
pub struct Group {
    /// Its display name.
    pub name: String,
    /// Its one calendar.
    pub mailbox: Mailbox,
    /// Its members' addresses.
    pub members: BTreeSet<String>,
}

/// Everyone else in the tenant.
#[derive(Debug, Default)]
pub struct People {
    /// Other users by lowercased address.
    pub users: BTreeMap<String, Person>,
    /// Groups by id.
    pub groups: BTreeMap<String, Group>,
}

/// The colleagues `--users K` adds, in order.
const COLLEAGUES: &[(&str, &str, &str)] = &[
    ("Alex Wilber", "alexw@contoso.com", "UTC"),
    ("Megan Bowen", "meganb@contoso.com", "Pacific Standard Time"),
    ("Lee Gu", "leeg@contoso.com", "W. Europe Standard Time"),
    (
        "Nestor Wilke",
        "nestorw@contoso.com",
        "Eastern Standard Time",
    ),
    ("Dana Swope", "danas@contoso.com", "UTC"),
    (
        "Priya Raman",
        "priya.raman@contoso.in",
        "India Standard Time",
    ),
    (
        "Zoë Ångström",
        "zoe.angstrom@contoso.com",
        "W. Europe Standard Time",
    ),
    (
        "Олег Петров",
        "oleg.petrov@contoso.ru",
        "Russian Standard Time",
    ),
];

/// The room delegated to the signed-in user.
pub const ROOM: &str = "adams@contoso.com";
/// A mailbox Graph cannot reach (hosted on-premises).
pub const ON_PREMISES: &str = "legacy@contoso.com";
/// The group the signed-in user is a member of.
pub const TEAM_GROUP: &str = "02bd9fd6-8f93-4758-87c3-1fb73740a315";
/// A group the signed-in user is not a member of.
pub const OTHER_GROUP: &str = "8f0a77c1-1b7e-4f4c-9d55-3a2e6d1c0b42";

impl People {
    /// `users` colleagues (at most as many as there are names; the first shares its default
    /// calendar with the signed-in user, read-only), each with `events` events, plus the room,
    /// the mailbox on premises and two groups.
    pub fn new(users: usize, events: usize, seed: u64, anchor: NaiveDate) -> People {
        let mut people = People::default();
        for (i, (name, address, zone)) in COLLEAGUES.iter().take(users).enumerate() {
            let mut person = Person {
                name: (*name).to_owned(),
                mailbox: Mailbox::new(2),
                shares: HashMap::new(),
                reachable: true,
                room: false,
                working: WorkingHours {
                    zone,
                    ..WorkingHours::default()
                },
            };
            let default = person.mailbox.calendars[0].id.clone();
            generate::fill(
                &mut person.mailbox,
                &default,
                events,
                seed.wrapping_add(100 + i as u64),
                anchor,
            );
            if i == 0 {
                person
                    .shares
                    .entry(default)
                    .or_default()
                    .insert(USER_MAIL.to_owned(), Role::Read);
            }
            people.users.insert((*address).to_owned(), person);
        }
        let mut room = Person {
            name: "Conference Room Adams".into(),
            mailbox: Mailbox::new(1),
            shares: HashMap::new(),
            reachable: true,
            room: true,
            working: WorkingHours {
                days: vec![
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                    "sunday",
                ],
                start: "00:00",
                end: "23:59",
                zone: "UTC",
            },
        };
        let room_calendar = room.mailbox.calendars[0].id.clone();
        generate::fill(
            &mut room.mailbox,
            &room_calendar,
            events.clamp(12, 100),
            seed.wrapping_add(99),
            anchor,
        );
        room.shares
            .entry(room_calendar)
            .or_default()
            .insert(USER_MAIL.to_owned(), Role::Read);
        people.users.insert(ROOM.into(), room);
        let mut personal = Person {
            name: "Sam Booth".into(),
            mailbox: Mailbox::new(1),
            shares: HashMap::new(),
            reachable: true,
            room: false,
            working: WorkingHours::default(),
        };
        let calendar = personal.mailbox.calendars[0].id.clone();
        generate::fill(
            &mut personal.mailbox,
            &calendar,
            events.clamp(12, 100),
            seed.wrapping_add(300),
            anchor,
        );
        people
            .users
            .insert(super::identity::PERSONAL_MAIL.into(), personal);
        people.users.insert(
            ON_PREMISES.into(),
            Person {
                name: "Legacy Mailbox".into(),
                mailbox: Mailbox::new(1),
                shares: HashMap::new(),
                reachable: false,
                room: false,
                working: WorkingHours::default(),
            },
        );
        for (id, name, member, salt) in [
            (TEAM_GROUP, "Contoso Team", true, 200u64),
            (OTHER_GROUP, "Finance", false, 201),
        ] {
            let mut group = Group {
                name: name.into(),
                mailbox: Mailbox::new(1),
                members: BTreeSet::new(),
            };
            if member {
                group.members.insert(USER_MAIL.to_owned());
            }
            let calendar = group.mailbox.calendars[0].id.clone();
            generate::fill(
                &mut group.mailbox,
                &calendar,
                events.clamp(12, 100),
                seed.wrapping_add(salt),
                anchor,
            );
            people.groups.insert(id.into(), group);
        }
        people
    }

    /// A mailbox by whose it is (`Me` is not here: the caller holds it).
    pub fn mailbox_mut(&mut self, who: &Who) -> Option<&mut Mailbox> {
        match who {
            Who::Me => None,
            Who::User(a) => self.users.get_mut(a).map(|p| &mut p.mailbox),
            Who::Group(g) => self.groups.get_mut(g).map(|g| &mut g.mailbox),
        }
    }

    /// [`mailbox_mut`](Self::mailbox_mut), to read.
    pub fn mailbox(&self, who: &Who) -> Option<&Mailbox> {
        match who {
            Who::Me => None,
            Who::User(a) => self.users.get(a).map(|p| &p.mailbox),
            Who::Group(g) => self.groups.get(g).map(|g| &g.mailbox),
        }
    }

    /// Whether `caller` may read `who`'s calendar `calendar` (None: any of them, as listing
    /// the calendars asks), with a token of `scopes`; the error is Graph's answer otherwise.
    #[allow(clippy::result_large_err)]
    pub fn may_read(
        &self,
        who: &Who,
        calendar: Option<&str>,
        caller: &str,
        scopes: &[String],
    ) -> Result<(), Response> {
        let has = |name: &str| scopes.iter().any(|s| s.eq_ignore_ascii_case(name));
        let denied = || {
            graph_error(
                StatusCode::FORBIDDEN,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )
        };
        match who {
            Who::Me => Ok(()),
            Who::User(address) => {
                let Some(person) = self.users.get(address) else {
                    return Err(graph_error(
                        StatusCode::NOT_FOUND,
                        "ErrorInvalidUser",
                        &format!("The requested user '{address}' is invalid."),
                    ));
                };
                // Their own mailbox (the personal account's, signed in as itself).
                if address == caller {
                    return Ok(());
                }
                if !person.reachable {
                    return Err(graph_error(
                        StatusCode::NOT_FOUND,
                        "MailboxNotEnabledForRESTAPI",
                        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
                    ));
                }
                if !(has("Calendars.Read.Shared") || has("Calendars.ReadWrite.Shared")) {
                    return Err(denied());
                }
                let shared = |id: &str| {
                    person
                        .shares
                        .get(id)
                        .is_some_and(|with| with.contains_key(caller))
                };
                let ok = match calendar {
                    None => person.mailbox.calendars.iter().any(|c| shared(&c.id)),
                    Some(id) => person.mailbox.calendar(id).is_ok_and(|c| shared(&c.id)),
                };
                if ok { Ok(()) } else { Err(denied()) }
            }
            Who::Group(id) => {
                let Some(group) = self.groups.get(id) else {
                    return Err(graph_error(
                        StatusCode::NOT_FOUND,
                        "Request_ResourceNotFound",
                        &format!(
                            "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                        ),
                    ));
                };
                if !(has("Group.Read.All") || has("Group.ReadWrite.All")) {
                    return Err(graph_error(
                        StatusCode::FORBIDDEN,
                        "Authorization_RequestDenied",
                        "Insufficient privileges to complete the operation.",
                    ));
                }
                if group.members.contains(caller) {
                    Ok(())
                } else {
                    Err(denied())
                }
            }
        }
    }

    /// Shares `owner`'s `calendar` (`default` or an id) with `with` as `role`.
    pub fn share(
        &mut self,
        owner: &str,
        calendar: &str,
        with: &str,
        role: Role,
    ) -> Result<(), String> {
        let person = self
            .users
            .get_mut(&owner.to_ascii_lowercase())
            .ok_or_else(|| format!("no user {owner}"))?;
        let id = person
            .mailbox
            .calendar(calendar)
            .map_err(|e| e.to_string())?
            .id
            .clone();
        person
            .shares
            .entry(id)
            .or_default()
            .insert(with.to_ascii_lowercase(), role);
        Ok(())
    }
}
