//! `deltacal free ADDRESS...`: when everyone, the user included, is free within their working
//! hours, from getSchedule (split into requests of at most 20 people and 62 days).

use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::free;
use crate::sync::SyncEngine;

use super::UsageError;

/// What `free` was asked.
#[derive(Debug, Clone)]
pub struct FreeArgs {
    /// The others' addresses.
    pub addresses: Vec<String>,
    /// The first day (`today` when none).
    pub from: Option<String>,
    /// The last day, included (a week from the first when none).
    pub to: Option<String>,
    /// The shortest slot worth showing (`30m` when none).
    pub duration: Option<String>,
    /// JSON instead of text.
    pub json: bool,
}

/// One free slot of `--json`.
#[derive(Debug, Serialize)]
struct Slot {
    start: String,
    end: String,
}

/// The address in an account line (`Name <address>`), or the line itself.
fn address_of(account: &str) -> String {
    match (account.rfind('<'), account.rfind('>')) {
        (Some(open), Some(close)) if open < close => account[open + 1..close].to_owned(),
        _ => account.trim().to_owned(),
    }
}

/// The range and length `args` ask for: from now (or the first day's midnight, in the display
/// zone) to the end of the last day.
fn range(
    config: &Config,
    args: &FreeArgs,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>, Duration), UsageError> {
    let zone = &config.display.zone;
    let today = zone.date_of(now);
    let day = |flag: &str, text: &Option<String>, default| match text {
        Some(t) => crate::days::parse_day(t, today).map_err(|e| UsageError(format!("{flag}: {e}"))),
        None => Ok(default),
    };
    let first = day("--from", &args.from, today)?;
    let last = day("--to", &args.to, first + Duration::days(6))?;
    if last < first {
        return Err(UsageError("--to: the last day is before the first".into()));
    }
    let (start, end) = zone.days_range(first, last);
    let duration = match &args.duration {
        Some(text) => crate::change::quick_add::parse_duration(text)
            .filter(|d| *d > Duration::zero() && *d <= Duration::days(1))
            .ok_or_else(|| {
                UsageError(format!(
                    "--duration: `{}` is not a length of up to a day (30m, 1h, 1h30m)",
                    crate::text::line(text)
                ))
            })?,
        None => Duration::minutes(30),
    };
    Ok((start.max(now), end, duration))
}

/// Runs `free`.
pub fn run(config: Arc<Config>, args: FreeArgs, out: &mut impl Write) -> anyhow::Result<()> {
    if config.account.tenant.eq_ignore_ascii_case("consumers") {
        return Err(UsageError(
            "free/busy is not available for personal accounts: Microsoft answers getSchedule for work and school accounts only".into(),
        )
        .into());
    }
    if args.addresses.is_empty() {
        return Err(UsageError("give at least one address".into()).into());
    }
    for a in &args.addresses {
        free::check_address(a).map_err(UsageError)?;
    }
    let now = Utc::now();
    let (from, to, duration) = range(&config, &args, now)?;
    super::runtime()?.block_on(async {
        let engine = SyncEngine::from_config(config.clone())?;
        let me = engine
            .session()
            .account()
            .await
            .map(|a| address_of(&a))
            .ok_or_else(|| anyhow::anyhow!("not signed in: run `deltacal login`"))?;
        let mut everyone = vec![me.clone()];
        for a in &args.addresses {
            if !everyone.iter().any(|e| e.eq_ignore_ascii_case(a)) {
                everyone.push(a.clone());
            }
        }
        let gathered = engine.schedules(&everyone, from, to).await?;
        if let Some((_, why)) = gathered
            .unknown
            .iter()
            .find(|(u, _)| u.eq_ignore_ascii_case(&me))
        {
            return Err(anyhow::anyhow!(
                "getSchedule could not answer for you ({why})"
            ));
        }
        for (address, why) in &gathered.unknown {
            tracing::info!(%address, %why, "getSchedule could not answer for an address");
        }
        let unknown = gathered.unknown_addresses();
        let schedules = gathered.schedules;
        let slots = free::common_free(&schedules, from, to, duration);
        write(
            &config, &everyone, &unknown, &slots, duration, args.json, out,
        )
    })
}

fn write(
    config: &Config,
    everyone: &[String],
    unknown: &[String],
    slots: &[(DateTime<Utc>, DateTime<Utc>)],
    duration: Duration,
    json: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let rfc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if json {
        let list: Vec<Slot> = slots
            .iter()
            .map(|(s, e)| Slot {
                start: rfc(*s),
                end: rfc(*e),
            })
            .collect();
        let value = if unknown.is_empty() {
            serde_json::to_value(&list)?
        } else {
            serde_json::json!({"slots": list, "unknown": unknown})
        };
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)?;
        return Ok(());
    }
    let names: Vec<String> = everyone
        .iter()
        .filter(|a| !unknown.contains(a))
        .map(|a| crate::text::line(a).into_owned())
        .collect();
    writeln!(
        out,
        "Free for {} (you first), {} min or more, within working hours:",
        names.join(", "),
        duration.num_minutes()
    )?;
    if slots.is_empty() {
        writeln!(out, "  no such time in the range")?;
    }
    let display = &config.display;
    for (start, end) in slots {
        let length = *end - *start;
        let (h, m) = (length.num_hours(), length.num_minutes() % 60);
        let length = match (h, m) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        };
        let day = display.zone.date_of(*start);
        writeln!(
            out,
            "  {}  {}–{}  ({length})",
            day.format("%a %-d %b"),
            crate::days::clock(display, *start),
            crate::days::clock(display, *end)
        )?;
    }
    for u in unknown {
        writeln!(
            out,
            "not counted: {} (getSchedule could not answer for it)",
            crate::text::line(u)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_of_an_account_line() {
        assert_eq!(
            address_of("Samantha Booth <samanthab@contoso.com>"),
            "samanthab@contoso.com"
        );
        assert_eq!(address_of("sam@x.org"), "sam@x.org");
    }
}
