//! The `deltacal` binary: parses arguments, runs a command, maps errors to exit codes.

// Tests may unwrap: a panic is their failure report. Code that ships may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deltacal::config::{Config, ConfigError};

#[derive(Parser)]
#[command(
    name = "deltacal",
    version,
    about = "A terminal calendar for Microsoft 365 / Outlook"
)]
struct Cli {
    /// Config file [default: ~/.config/deltacal/config.toml]
    #[arg(long, global = true, env = "DELTACAL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data dir for the cache, tokens and log [default: ~/.local/share/deltacal]
    #[arg(long, global = true, env = "DELTACAL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Try deltacal on a built-in emulated account that keeps changing while you watch (in a
    /// temporary data dir, removed on exit, unless --data-dir names one)
    Demo {
        /// Events in the generated calendar
        #[arg(long, default_value_t = 1500)]
        events: usize,
        /// Seed of the generated calendar
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Sign in: with a device code (a URL and a code to enter), or in the browser
    Login {
        /// Sign in in the browser (authorization code with PKCE on a loopback redirect), for
        /// organisations that block the device-code flow
        #[arg(long)]
        browser: bool,
        /// Sign in `[accounts.NAME]` (default: the main `[account]`)
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
    },
    /// Delete the stored tokens
    Logout {
        /// Sign out `[accounts.NAME]` (default: the main `[account]`)
        #[arg(long, value_name = "NAME")]
        account: Option<String>,
    },
    /// Run delta rounds for every configured calendar until each is up to date
    Sync,
    /// Print cached events (no network); default: today and the next 6 days
    Agenda {
        /// First day: YYYY-MM-DD, today, tomorrow, yesterday, a weekday name (mon, friday), +Nd, -Nd, +Nw or -Nw [default: today]
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        from: Option<String>,
        /// Last day, inclusive: YYYY-MM-DD, today, tomorrow, yesterday, a weekday name (mon, friday), +Nd, -Nd, +Nw or -Nw [default: from + 6 days]
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        to: Option<String>,
        /// Only this configured calendar: its name, id or key
        #[arg(long, value_name = "NAME_OR_ID")]
        calendar: Option<String>,
        /// Print a JSON array instead of text
        #[arg(long)]
        json: bool,
        /// One line per event from a template of fields, e.g. '{start_date} {start_time}\t{subject}'
        /// (fields: id calendar calendar_name subject start end start_date start_time end_date
        /// end_time all_day location organizer show_as response cancelled join_url web_link;
        /// \t is a tab, {{ and }} are braces)
        #[arg(long, value_name = "TEMPLATE", conflicts_with = "json")]
        format: Option<String>,
    },
    /// No UI: keep the cache in sync and show reminders, until SIGINT or SIGTERM
    Remind,
    /// The account's calendars from Graph, which ones the config syncs, and how to add others
    Calendars {
        /// Print a JSON array instead of text
        #[arg(long)]
        json: bool,
    },
    /// Print cached events as iCalendar (RFC 5545); default: the whole sync window
    Export {
        /// iCalendar output (the only format, required)
        #[arg(long, required = true)]
        ics: bool,
        /// First day: YYYY-MM-DD, today, tomorrow, yesterday, a weekday name (mon, friday), +Nd, -Nd, +Nw or -Nw [default: the window's first day]
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        from: Option<String>,
        /// Last day, inclusive [default: the window's last day]
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        to: Option<String>,
        /// Only this configured calendar: its name, id or key
        #[arg(long, value_name = "NAME_OR_ID")]
        calendar: Option<String>,
    },
    /// The event in progress and the next one, from the cache (for status bars)
    Next {
        /// Print JSON: {"now": EVENT or null, "next": EVENT or null}
        #[arg(long)]
        json: bool,
    },
    /// When everyone (you included) is free within their working hours (getSchedule)
    Free {
        /// The others' addresses
        #[arg(required = true, value_name = "ADDRESS")]
        addresses: Vec<String>,
        /// The first day (default: today): YYYY-MM-DD, today, tomorrow, mon, +3d
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        from: Option<String>,
        /// The last day, included (default: a week from the first)
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        to: Option<String>,
        /// The shortest slot worth showing: 30m, 1h, 1h30m (default 30m)
        #[arg(long, value_name = "LENGTH")]
        duration: Option<String>,
        /// Print JSON: [{"start", "end"}] in UTC (with "unknown" addresses: {"slots", "unknown"})
        #[arg(long)]
        json: bool,
    },
    /// Invitations in the window that wait for your answer, soonest first
    Invites {
        /// Print JSON: the agenda's fields for each
        #[arg(long)]
        json: bool,
    },
    /// Account, calendars, window, event counts, last round, token state
    Status {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Add an event: quick-add text (`tomorrow 10:00 1h Standup @ Room 4 with
    /// alex@contoso.com`, `2026-12-24 all day Holiday`) and flags, which win over the text
    New {
        /// `[DATE] (TIME[-TIME] [DURATION] | all day) SUBJECT [@ LOCATION] [with ADDRESS...]`
        text: Vec<String>,
        /// The calendar: its name, id or key [default: the first configured]
        #[arg(long)]
        calendar: Option<String>,
        /// Start (WHEN: a DATE form and a time, `fri 9am`, or RFC 3339)
        #[arg(long)]
        start: Option<String>,
        /// End (WHEN)
        #[arg(long)]
        end: Option<String>,
        /// All day
        #[arg(long)]
        all_day: bool,
        /// Location
        #[arg(long)]
        location: Option<String>,
        /// Invite this address (repeat for more)
        #[arg(long)]
        attendee: Vec<String>,
        /// Make it a Teams meeting
        #[arg(long)]
        teams: bool,
        /// Notes
        #[arg(long)]
        body: Option<String>,
        /// Repeat it: daily, weekdays, weekly or monthly, optionally ",count=N" or ",until=DATE"
        #[arg(long, value_name = "KIND[,count=N|,until=DATE]")]
        repeat: Option<String>,
        /// Print the event JSON it would send, and send nothing
        #[arg(long)]
        dry_run: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// Seconds to wait for the server before leaving the change queued (exit 75)
        #[arg(long, default_value_t = deltacal::commands::write::DEFAULT_WAIT_SECS)]
        wait: u64,
    },
    /// Answer an invitation: accept, tentative or decline
    Rsvp {
        /// The event's id, as `agenda --json` prints it
        event: String,
        /// accept, tentative or decline
        answer: RsvpAnswer,
        /// A message to the organizer
        #[arg(long)]
        comment: Option<String>,
        /// Do not tell the organizer
        #[arg(long)]
        no_send: bool,
        /// Propose a new time (tentative or decline): WHEN..WHEN, e.g. "fri 10:00..11:00"
        #[arg(long, value_name = "WHEN..WHEN")]
        propose: Option<String>,
        /// Answer the whole series of an occurrence
        #[arg(long)]
        series: bool,
        /// Seconds to wait for the server before leaving the change queued (exit 75)
        #[arg(long, default_value_t = deltacal::commands::write::DEFAULT_WAIT_SECS)]
        wait: u64,
    },
    /// Change an event: only the fields given are sent
    Edit {
        /// The event's id, as `agenda --json` prints it
        event: String,
        /// New subject
        #[arg(long)]
        subject: Option<String>,
        /// New start (WHEN); the length is kept unless --end is given
        #[arg(long)]
        start: Option<String>,
        /// New end (WHEN)
        #[arg(long)]
        end: Option<String>,
        /// Move by ±DURATION (`+30m`, `-1h`, `+1d`)
        #[arg(long = "move", allow_hyphen_values = true)]
        move_by: Option<String>,
        /// New location
        #[arg(long)]
        location: Option<String>,
        /// Invite this address (repeat for more)
        #[arg(long, value_name = "ADDRESS")]
        add_attendee: Vec<String>,
        /// Uninvite this address (repeat for more)
        #[arg(long, value_name = "ADDRESS")]
        remove_attendee: Vec<String>,
        /// Change the whole series of an occurrence (else the occurrence alone)
        #[arg(long)]
        series: bool,
        /// Print the fields it would send, and send nothing
        #[arg(long)]
        dry_run: bool,
        /// Seconds to wait for the server before leaving the change queued (exit 75)
        #[arg(long, default_value_t = deltacal::commands::write::DEFAULT_WAIT_SECS)]
        wait: u64,
    },
    /// Delete an event; a meeting you organize with attendees is cancelled for them (--yes)
    Delete {
        /// The event's id, as `agenda --json` prints it
        event: String,
        /// Delete the whole series of an occurrence
        #[arg(long)]
        series: bool,
        /// The message a cancellation sends
        #[arg(long)]
        comment: Option<String>,
        /// Cancel a meeting for its attendees
        #[arg(long)]
        yes: bool,
        /// Seconds to wait for the server before leaving the change queued (exit 75)
        #[arg(long, default_value_t = deltacal::commands::write::DEFAULT_WAIT_SECS)]
        wait: u64,
    },
    /// Changes not yet applied by the server
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Run the Graph and identity emulator alone
    Sim {
        /// Address to listen on (loopback only)
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Events in the generated default calendar
        #[arg(long, default_value_t = 200)]
        events: usize,
        /// Seed of the generated calendars
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of calendars (the default one plus K-1 more)
        #[arg(long, default_value_t = 1)]
        calendars: usize,
        /// Approve every device code at its first poll
        #[arg(long)]
        auto_approve: bool,
        /// How calendarView delta answers: `realistic` (as Microsoft 365 does) or `documented`
        #[arg(long, value_enum, default_value = "realistic")]
        mode: SimMode,
        /// Serve https with a self-signed certificate made at start (its path is printed)
        #[arg(long)]
        tls: bool,
        /// Add this many milliseconds to every Graph request, as a wide-area network does
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Colleagues with mailboxes of their own (the first shares its calendar with the
        /// user); a room, a mailbox on premises and two groups are always there
        #[arg(long, default_value_t = 1)]
        users: usize,
    },
    /// Run the performance suite against an in-process emulator
    Bench {
        /// Events in the benchmark calendar
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// Events in the large calendar of the `*_100k` figures
        #[arg(long, default_value_t = 100_000)]
        large_events: usize,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: `deltacal completions bash > ~/.local/share/bash-completion/completions/deltacal`
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// The config file
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Print the manual page (roff): `deltacal man > ~/.local/share/man/man1/deltacal.1`
    Man,
    /// The TUI's work on the cache without a terminal (used by `bench` to measure memory)
    #[command(hide = true)]
    BenchFrame,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Write a commented config with the defaults and, when signed in, your calendars (at
    /// --config FILE or ~/.config/deltacal/config.toml; never over one that exists)
    Init,
}

#[derive(Subcommand)]
enum OutboxAction {
    /// Send failed or conflicting changes again (all of them without an ID)
    Retry {
        /// The change's id, as `outbox` prints it
        id: Option<u64>,
        /// Send a conflicting change over the server's version
        #[arg(long)]
        force: bool,
        /// Seconds to wait for the server
        #[arg(long, default_value_t = deltacal::commands::write::DEFAULT_WAIT_SECS)]
        wait: u64,
    },
    /// Give a change up: the cache shows the server's version
    Drop {
        /// The change's id
        id: u64,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RsvpAnswer {
    Accept,
    Tentative,
    Decline,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SimMode {
    Realistic,
    Documented,
}

/// The longest error line printed, in characters.
const MAX_ERROR_CHARS: usize = 500;

/// An error and the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        let code = if error.downcast_ref::<ConfigError>().is_some()
            || error.downcast_ref::<deltacal::UsageError>().is_some()
        {
            2
        } else if error
            .downcast_ref::<deltacal::commands::write::Queued>()
            .is_some()
        {
            75
        } else {
            1
        };
        Failure { code, error }
    }
}

fn main() -> ExitCode {
    // `DELTACAL_CONFIG=` (set, empty) means unset, as for most variables of the kind: clap
    // would take it as an empty path.
    for name in ["DELTACAL_CONFIG", "DELTACAL_DATA_DIR"] {
        if std::env::var_os(name).is_some_and(|v| v.is_empty()) {
            // SAFETY: first thing in main, before any other thread exists.
            unsafe { std::env::remove_var(name) };
        }
    }
    let cli = Cli::parse();
    let result = run(cli);
    if std::env::var_os("DELTACAL_REPORT_PEAK_RSS").is_some() {
        deltacal::memory::report_peak_rss();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `deltacal agenda | head`: the reader has what it wanted.
        Err(f) if closed_stdout(&f.error) => ExitCode::SUCCESS,
        Err(f) => {
            // One line: the chain joined, so the user sees what failed and why.
            let msg = f
                .error
                .chain()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(": ");
            // Server text reaches messages: whatever it holds, one clean line, and a short
            // one: an error quotes what it refuses (a value, a file name), which may be huge.
            eprintln!(
                "deltacal: {}",
                deltacal::text::bounded(&msg, MAX_ERROR_CHARS)
            );
            ExitCode::from(f.code)
        }
    }
}

/// True when the error is a write to a standard output nobody reads any more.
fn closed_stdout(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<(), Failure> {
    let load = || Config::load(cli.config.as_deref(), cli.data_dir.as_deref());
    match cli.command {
        Some(Command::Agenda {
            from,
            to,
            calendar,
            json,
            format,
        }) => {
            let config = load().map_err(anyhow::Error::from)?;
            deltacal::run_agenda(
                &config,
                from.as_deref(),
                to.as_deref(),
                calendar.as_deref(),
                json,
                format.as_deref(),
            )?;
        }
        Some(Command::Export {
            ics: _,
            from,
            to,
            calendar,
        }) => {
            let config = load().map_err(anyhow::Error::from)?;
            deltacal::run_export(&config, from.as_deref(), to.as_deref(), calendar.as_deref())?;
        }
        Some(Command::Remind) => deltacal::run_remind(&load().map_err(anyhow::Error::from)?)?,
        Some(Command::Calendars { json }) => {
            deltacal::run_calendars(&load().map_err(anyhow::Error::from)?, json)?;
        }
        Some(Command::Free {
            addresses,
            from,
            to,
            duration,
            json,
        }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            let args = deltacal::commands::free::FreeArgs {
                addresses,
                from,
                to,
                duration,
                json,
            };
            deltacal::commands::free::run(config, args, &mut std::io::stdout().lock())?;
        }
        Some(Command::Invites { json }) => {
            deltacal::commands::invites::run(&load().map_err(anyhow::Error::from)?, json)?;
        }
        Some(Command::Next { json }) => {
            deltacal::run_next(&load().map_err(anyhow::Error::from)?, json)?;
        }
        Some(Command::New {
            text,
            calendar,
            start,
            end,
            all_day,
            location,
            attendee,
            teams,
            body,
            repeat,
            dry_run,
            json,
            wait,
        }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            let new = deltacal::commands::write::NewEvent {
                text,
                start,
                end,
                all_day,
                location,
                attendees: attendee,
                teams,
                body,
                calendar,
                repeat,
                day: None,
            };
            deltacal::commands::write::new(
                &config,
                new,
                dry_run,
                json,
                wait,
                &mut std::io::stdout().lock(),
            )?;
        }
        Some(Command::Rsvp {
            event,
            answer,
            comment,
            no_send,
            propose,
            series,
            wait,
        }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            let answer = match answer {
                RsvpAnswer::Accept => deltacal::store::Answer::Accept,
                RsvpAnswer::Tentative => deltacal::store::Answer::Tentative,
                RsvpAnswer::Decline => deltacal::store::Answer::Decline,
            };
            let rsvp = deltacal::commands::write::Rsvp {
                event,
                answer,
                comment,
                no_send,
                propose,
                series,
            };
            deltacal::commands::write::rsvp(&config, rsvp, wait, &mut std::io::stdout().lock())?;
        }
        Some(Command::Edit {
            event,
            subject,
            start,
            end,
            move_by,
            location,
            add_attendee,
            remove_attendee,
            series,
            dry_run,
            wait,
        }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            let edit = deltacal::commands::write::Edit {
                subject,
                start,
                end,
                move_by,
                location,
                add_attendees: add_attendee,
                remove_attendees: remove_attendee,
            };
            deltacal::commands::write::edit(
                &config,
                &event,
                edit,
                series,
                dry_run,
                wait,
                &mut std::io::stdout().lock(),
            )?;
        }
        Some(Command::Delete {
            event,
            series,
            comment,
            yes,
            wait,
        }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            deltacal::commands::write::delete(
                &config,
                &event,
                series,
                comment,
                yes,
                wait,
                &mut std::io::stdout().lock(),
            )?;
        }
        Some(Command::Outbox { action, json }) => {
            let config = std::sync::Arc::new(load().map_err(anyhow::Error::from)?);
            let out = &mut std::io::stdout().lock();
            match action {
                None => deltacal::commands::write::list(&config, json, out)?,
                Some(OutboxAction::Retry { id, force, wait }) => {
                    deltacal::commands::write::retry(&config, id, force, wait, out)?
                }
                Some(OutboxAction::Drop { id }) => {
                    deltacal::commands::write::drop_change(&config, id, out)?
                }
            }
        }
        Some(Command::Status { json }) => {
            let config = load().map_err(anyhow::Error::from)?;
            deltacal::check_data_dir(&config)?;
            deltacal::commands::status::write(&config, json, &mut std::io::stdout().lock())?;
        }
        #[cfg(feature = "emulator")]
        Some(Command::Sim {
            addr,
            events,
            seed,
            calendars,
            auto_approve,
            mode,
            tls,
            latency_ms,
            users,
        }) => {
            let mode = match mode {
                SimMode::Realistic => deltacal::sim::Mode::Realistic,
                SimMode::Documented => deltacal::sim::Mode::Documented,
            };
            let options = deltacal::sim::SimOptions {
                events,
                seed,
                calendars,
                identity: deltacal::sim::identity::IdentitySettings {
                    auto_approve,
                    ..Default::default()
                },
                mode,
                tls,
                latency_ms,
                users,
                ..Default::default()
            };
            deltacal::run_sim(&addr, options)?
        }
        Some(Command::Login { browser, account }) => {
            let config = load().map_err(anyhow::Error::from)?;
            let config = config
                .for_account(account.as_deref())
                .map_err(|e| anyhow::Error::from(deltacal::commands::UsageError(e)))?;
            deltacal::run_login(&config, browser)?
        }
        Some(Command::Logout { account }) => {
            let config = load().map_err(anyhow::Error::from)?;
            let config = config
                .for_account(account.as_deref())
                .map_err(|e| anyhow::Error::from(deltacal::commands::UsageError(e)))?;
            deltacal::run_logout(&config)?
        }
        Some(Command::Sync) => deltacal::run_sync(&load().map_err(anyhow::Error::from)?)?,
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "deltacal",
                &mut std::io::stdout(),
            );
        }
        Some(Command::Config {
            action: ConfigAction::Init,
        }) => deltacal::run_config_init(cli.config.as_deref(), cli.data_dir.as_deref())?,
        Some(Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .map_err(anyhow::Error::from)?;
        }
        #[cfg(feature = "emulator")]
        Some(Command::Demo { events, seed }) => {
            deltacal::run_demo(cli.data_dir.as_deref(), cli.config.as_deref(), events, seed)?
        }
        #[cfg(feature = "emulator")]
        Some(Command::Bench {
            events,
            large_events,
            json,
        }) => deltacal::run_bench(events, large_events, json)?,
        #[cfg(feature = "emulator")]
        Some(Command::BenchFrame) => {
            deltacal::run_bench_frame(&load().map_err(anyhow::Error::from)?)?
        }
        #[cfg(not(feature = "emulator"))]
        Some(
            Command::Sim { .. }
            | Command::Demo { .. }
            | Command::Bench { .. }
            | Command::BenchFrame,
        ) => {
            return Err(anyhow::Error::from(deltacal::UsageError(
                "this deltacal was built without its emulator (the cargo feature `emulator`, on by default): `sim`, `demo` and `bench` need it".into(),
            ))
            .into());
        }
        None => deltacal::run_tui(&load().map_err(anyhow::Error::from)?)?,
    }
    Ok(())
}
