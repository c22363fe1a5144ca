//! `deltacal bench`: the performance figures, measured against an in-process emulator over real
//! HTTP on loopback. Each figure is the median of several runs. Whole-process figures (agenda,
//! peak memory) run this same binary as a child process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde::Serialize;

use crate::auth::tokens::{self, TokenSet};
use crate::config::Config;
use crate::sim::{SimOptions, SimServer};
use crate::store::Store;
use crate::sync::{SyncEngine, SyncEvent};
use crate::ui::app::{Action, App};
use crate::ui::runner::EffectRunner;
use crate::ui::theme::Theme;

/// The figures, with the names the table and the JSON share.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// Events of the calendar most figures were measured on.
    pub events: usize,
    /// The events of the large calendar the `*_100k` figures were measured on: 100,000 unless
    /// `--large-events` said otherwise (the names stay, for the scripts that read them).
    pub large_events: usize,
    /// A full sync of it, whole process, seconds.
    pub full_sync_s: f64,
    /// A round of 100 changes, whole process.
    pub incremental_sync_ms: f64,
    /// 100 edits of shown events, most of them occurrences: the real service sends each changed
    /// series whole, so the round carries several times 100 items.
    pub incremental_series_ms: f64,
    /// A full round after the server answered 410.
    pub resync_410_s: f64,
    /// `agenda --json` for the default days, whole process.
    pub agenda_ms: f64,
    /// `agenda --json` for 365 days, whole process: a year of the calendar.
    pub agenda_365d_ms: f64,
    /// `next --json`, whole process, as a status bar runs it every few seconds.
    pub next_ms: f64,
    /// The TUI's first frame, from start.
    pub first_frame_ms: f64,
    /// A redraw of the TUI.
    pub redraw_ms: f64,
    /// `deltacal sync`'s peak memory during a full sync.
    pub peak_rss_sync_mb: f64,
    /// The TUI's peak memory.
    pub peak_rss_tui_mb: f64,
    /// A key that queues a change (`Shift+↓` in the week view) to the redrawn frame that shows
    /// it, marked: the UI thread's part (the outbox is written in the background).
    pub optimistic_ms: f64,
    /// The emulator alone serving a full round (no parsing or storing): not the bottleneck.
    pub emulator_full_round_s: f64,
    /// A full sync with 100 ms added to every Graph request, as over a wide-area network.
    pub wan_full_sync_s: f64,
    /// A round of 100 changes with 100 ms added to every request.
    pub wan_incremental_ms: f64,
    /// A sync of ten calendars in four mailboxes (yours, and three colleagues' shared with
    /// you) with one change each, 100 ms added to every request: the rounds side by side.
    pub wan_incremental_10cal_ms: f64,
    /// Graph requests of a full round of the calendar.
    pub full_round_requests: u64,
    /// At 100,000 events (an emulator of its own, a separate process): a full sync, a month
    /// change in the TUI, the TUI's peak memory, and the emulator's.
    pub full_sync_100k_s: f64,
    /// A month change in the TUI at 100,000 events.
    pub month_switch_ms_100k: f64,
    /// The TUI's peak memory at 100,000 events.
    pub peak_rss_tui_mb_100k: f64,
    /// The emulator's peak memory at 100,000 events.
    pub sim_peak_rss_mb_100k: f64,
    /// Graph requests the rolling window's moving costs per day, beyond a round that finds
    /// nothing new: averaged over `ROLL_DAYS` days, one of which re-anchors the window.
    pub window_roll_requests: f64,
    /// Graph requests of three syncing processes on one data dir (the TUI, `remind`, a cron
    /// `sync`, each rounding at once after each of ten bursts of churn), divided by those of
    /// one process alone over the same churn.
    pub multi_process_requests_ratio: f64,
}

/// What a wide-area network adds to every request in the WAN figures.
const WAN_LATENCY: Duration = Duration::from_millis(100);

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Bench {
    sim: SimServer,
    root: tempfile::TempDir,
    exe: PathBuf,
}

impl Bench {
    fn config_text(&self) -> String {
        let url = self.sim.url();
        format!(
            "[account]\nauthority = \"{url}\"\nclient_id = \"bench\"\n[graph]\nbase_url = \"{url}/v1.0\"\n[ui]\ntimezone = \"UTC\"\n"
        )
    }

    fn config_file(&self) -> PathBuf {
        let path = self.root.path().join("config.toml");
        if !path.exists() {
            std::fs::write(&path, self.config_text()).expect("temp dir is writable");
        }
        path
    }

    /// A fresh data dir with tokens in it.
    fn data_dir(&self, name: &str) -> anyhow::Result<(Arc<Config>, PathBuf)> {
        let dir = self.root.path().join(name);
        let config = Config::from_toml(&self.config_text(), Some(self.config_file()), dir.clone())?;
        save_tokens(&config, &self.sim.handle().issue_tokens())?;
        Ok((Arc::new(config), dir))
    }

    /// Runs this binary with `args` on `data_dir`; returns wall time and peak RSS in MB.
    fn child(&self, data_dir: &Path, args: &[&str]) -> anyhow::Result<(Duration, f64)> {
        self.child_with(&self.config_file(), data_dir, args)
    }

    /// The median wall time of `runs` runs of [`Bench::child`], in ms.
    fn child_ms(&self, data_dir: &Path, args: &[&str], runs: usize) -> anyhow::Result<f64> {
        let times = (0..runs)
            .map(|_| Ok(self.child(data_dir, args)?.0.as_secs_f64() * 1000.0))
            .collect::<anyhow::Result<Vec<f64>>>()?;
        Ok(median(times))
    }

    /// [`Bench::child`] with another config file.
    fn child_with(
        &self,
        config_file: &Path,
        data_dir: &Path,
        args: &[&str],
    ) -> anyhow::Result<(Duration, f64)> {
        let started = Instant::now();
        let child = Command::new(&self.exe)
            .arg("--config")
            .arg(config_file)
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env("DELTACAL_REPORT_PEAK_RSS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let (_, rss_kb) = wait_with_rusage(child)
            .map_err(|e| anyhow::anyhow!("bench child `{}`: {e}", args.join(" ")))?;
        Ok((started.elapsed(), rss_kb as f64 / 1024.0))
    }
}

/// Waits for a child; returns whether it succeeded and the peak RSS (KB) it reported.
fn wait_with_rusage(child: std::process::Child) -> anyhow::Result<(bool, i64)> {
    let output = child.wait_with_output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(-1);
    if !output.status.success() {
        anyhow::bail!("{}", stderr.trim());
    }
    Ok((true, kb))
}

/// Runs the suite and returns the figures. `progress` hears what is being measured.
pub fn run(
    events: usize,
    large_events: usize,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<Figures> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let options = SimOptions {
        events,
        seed: 42,
        ..SimOptions::default()
    };
    let sim = runtime.block_on(SimServer::start("127.0.0.1:0", options))?;
    let bench = Bench {
        sim,
        root: tempfile::Builder::new()
            .prefix("deltacal-bench-")
            .tempdir()?,
        exe: std::env::current_exe()?,
    };

    progress("emulator alone");
    let emulator_full_round_s = median(
        (0..3)
            .map(|_| runtime.block_on(fetch_only(&bench)))
            .collect::<anyhow::Result<Vec<_>>>()?,
    );

    progress("full sync");
    let mut full = Vec::new();
    let mut kept = None;
    for run in 0..3 {
        let (config, dir) = bench.data_dir(&format!("full-{run}"))?;
        let engine = sync_engine(&config)?;
        let started = Instant::now();
        runtime.block_on(engine.sync_view(&config.calendars[0]))?;
        full.push(started.elapsed().as_secs_f64());
        kept = Some((config, dir, engine));
    }
    let (config, dir, engine) = kept.expect("three runs");

    progress("incremental sync");
    let mut incremental = Vec::new();
    let mut incremental_series = Vec::new();
    for run in 0..5 {
        for (series, times) in [(false, &mut incremental), (true, &mut incremental_series)] {
            let touched = touch_events(&bench, 100, run, series)?;
            let started = Instant::now();
            let summary = runtime.block_on(engine.sync_view(&config.calendars[0]))?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            if summary.counts.updated + summary.counts.added < touched {
                anyhow::bail!(
                    "the incremental round carried {:?}, not the {touched} changes made",
                    summary.counts
                );
            }
        }
    }

    progress("410 resync");
    let mut resync = Vec::new();
    for _ in 0..3 {
        bench.sim.handle().expire_sync_state();
        let started = Instant::now();
        let summary = runtime.block_on(engine.sync_view(&config.calendars[0]))?;
        resync.push(started.elapsed().as_secs_f64());
        if !summary.full {
            anyhow::bail!("a 410 did not lead to a full round");
        }
    }
    drop(engine);

    progress("agenda");
    let agenda = bench.child_ms(
        &dir,
        &["agenda", "--from", "today", "--to", "+29d", "--json"],
        10,
    )?;
    progress("a year's agenda");
    let agenda_365d = bench.child_ms(
        &dir,
        &["agenda", "--from", "today", "--to", "+364d", "--json"],
        5,
    )?;
    progress("next");
    let next = bench.child_ms(&dir, &["next", "--json"], 10)?;

    progress("first frame and redraw");
    let mut first = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let (_, app, _) = first_frame(&config, (160, 48))?;
        first.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(app);
    }
    let (runner, mut app, mut terminal) = first_frame(&config, (160, 48))?;
    let mut redraw = Vec::new();
    for page in 0..30 {
        let notification = SyncEvent::PageApplied {
            view: "default".into(),
            page,
            range: Some((app.now, app.now + chrono::Duration::hours(1))),
            added: 0,
            updated: 1,
            removed: 0,
        };
        let started = Instant::now();
        runner.dispatch(&mut app, Action::Sync(notification));
        terminal.draw(|f| crate::ui::draw::draw(f, &app))?;
        redraw.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    progress("a change shown at once");
    let optimistic = optimistic(runner, app, terminal)?;

    progress("peak memory");
    let (_, rss_tui) = bench.child(&dir, &["bench-frame"])?;
    let (sync_config, sync_dir) = bench.data_dir("rss-sync")?;
    drop(sync_config);
    let (_, rss_sync) = bench.child(&sync_dir, &["sync"])?;

    progress("the rolling window moving day by day");
    let (full_round_requests, window_roll_requests) = runtime.block_on(window_roll(&bench))?;

    progress("three processes on one data dir");
    let multi_process_requests_ratio = runtime.block_on(multi_process(&bench))?;

    progress("the large calendar (100,000 events unless --large-events says otherwise)");
    let big = runtime.block_on(at_large(&bench, large_events))?;

    progress("sync over a wide-area network (100 ms a request)");
    bench.sim.handle().set_latency(WAN_LATENCY);
    let mut wan_full = Vec::new();
    let mut wan_kept = None;
    for run in 0..3 {
        let (config, _) = bench.data_dir(&format!("wan-{run}"))?;
        let engine = sync_engine(&config)?;
        let started = Instant::now();
        runtime.block_on(engine.sync_view(&config.calendars[0]))?;
        wan_full.push(started.elapsed().as_secs_f64());
        wan_kept = Some((config, engine));
    }
    let (wan_config, wan_engine) = wan_kept.expect("three runs");
    let mut wan_incremental = Vec::new();
    for run in 0..3 {
        touch_events(&bench, 100, 10 + run, false)?;
        let started = Instant::now();
        runtime.block_on(wan_engine.sync_view(&wan_config.calendars[0]))?;
        wan_incremental.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(wan_engine);
    bench.sim.handle().set_latency(Duration::ZERO);

    progress("ten calendars in four mailboxes over a wide-area network");
    let wan_incremental_10cal_ms = runtime.block_on(ten_calendars(&bench))?;

    let figures = Figures {
        events,
        full_sync_s: median(full),
        incremental_sync_ms: median(incremental),
        incremental_series_ms: median(incremental_series),
        resync_410_s: median(resync),
        agenda_ms: agenda,
        agenda_365d_ms: agenda_365d,
        next_ms: next,
        first_frame_ms: median(first),
        redraw_ms: median(redraw),
        optimistic_ms: optimistic,
        peak_rss_sync_mb: rss_sync,
        peak_rss_tui_mb: rss_tui,
        emulator_full_round_s,
        wan_full_sync_s: median(wan_full),
        wan_incremental_ms: median(wan_incremental),
        wan_incremental_10cal_ms,
        full_round_requests,
        window_roll_requests,
        multi_process_requests_ratio,
        large_events,
        full_sync_100k_s: big.full_sync_s,
        month_switch_ms_100k: big.month_switch_ms,
        peak_rss_tui_mb_100k: big.rss_tui_mb,
        sim_peak_rss_mb_100k: big.sim_rss_mb,
    };
    drop(bench);
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(figures)
}

/// The colleagues whose calendars `ten_calendars` syncs beside the user's four.
const COLLEAGUES: [&str; 3] = [
    "alexw@contoso.com",
    "meganb@contoso.com",
    "leeg@contoso.com",
];

/// Ten calendars in four mailboxes (four of the user's, two of each of three colleagues',
/// shared with the user), synced once; then, three times, one change in each and a sync of
/// all of them with 100 ms added to every request. The median, in ms.
async fn ten_calendars(bench: &Bench) -> anyhow::Result<f64> {
    let options = SimOptions {
        events: 400,
        seed: 7,
        calendars: 4,
        users: COLLEAGUES.len(),
        ..SimOptions::default()
    };
    let sim = SimServer::start("127.0.0.1:0", options).await?;
    let handle = sim.handle();
    let url = sim.url();
    let mut text = format!(
        "[account]\nauthority = \"{url}\"\nclient_id = \"bench\"\n[graph]\nbase_url = \"{url}/v1.0\"\n[ui]\ntimezone = \"UTC\"\n"
    );
    for i in 0..4 {
        let id = match i {
            0 => "default".to_owned(),
            i => handle.calendar_id(i).unwrap_or_default(),
        };
        text.push_str(&format!("[[calendars]]\nid = \"{id}\"\n"));
    }
    for who in COLLEAGUES {
        for i in 0..2 {
            let id = handle.calendar_of(who, i).unwrap_or_default();
            handle
                .share(who, &id, "samanthab@contoso.com", false)
                .map_err(|e| anyhow::anyhow!(e))?;
            text.push_str(&format!("[[calendars]]\nuser = \"{who}\"\nid = \"{id}\"\n"));
        }
    }
    let dir = bench.root.path().join("ten-calendars");
    let config = Arc::new(Config::from_toml(&text, None, dir)?);
    save_tokens(
        &config,
        &handle
            .issue_scoped_tokens("offline_access Calendars.Read Calendars.Read.Shared User.Read"),
    )?;
    let engine = sync_engine(&config)?;
    synced_all(&engine).await?;
    handle.set_latency(WAN_LATENCY);
    let mut runs = Vec::new();
    for run in 0..3 {
        // One change in each calendar: a single event's subject.
        let owners = std::iter::repeat_n("samanthab@contoso.com", 4)
            .enumerate()
            .chain(COLLEAGUES.iter().flat_map(|w| [(0, *w), (1, *w)]));
        for (index, owner) in owners {
            handle.with_mailbox_of(owner, |m| {
                let Some(cal) = m.calendars.get(index) else {
                    return;
                };
                let single = cal
                    .events
                    .values()
                    .find(|e| e.kind == crate::sim::mailbox::Kind::Single)
                    .map(|e| e.id.clone());
                if let Some(id) = single {
                    let _ = m.update(
                        &id,
                        serde_json::json!({"subject": format!("Changed {run}")}),
                    );
                }
            });
        }
        let started = Instant::now();
        synced_all(&engine).await?;
        runs.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    drop(engine);
    sim.stop().await;
    Ok(median(runs))
}

/// A sync of every configured calendar, failing on the first that failed.
async fn synced_all(engine: &SyncEngine) -> anyhow::Result<()> {
    for (cal, result) in engine.sync_all().await {
        result.map_err(|e| anyhow::anyhow!("{}: {e}", cal.key))?;
    }
    Ok(())
}

/// GETs every page of a full round and throws the bodies away.
async fn fetch_only(bench: &Bench) -> anyhow::Result<f64> {
    let token = bench.sim.handle().issue_tokens();
    let token = token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let config = Config::from_toml(&bench.config_text(), None, bench.root.path().join("unused"))?;
    let window = config.sync.window.on(Utc::now().date_naive());
    let mut url = crate::graph::delta_url(
        &config.graph.base_url,
        &crate::model::Owner::Me,
        None,
        &window,
    )
    .to_string();
    let http = crate::net::http_client();
    let started = Instant::now();
    loop {
        let body = http
            .get(&url)
            .bearer_auth(&token)
            .header("prefer", "odata.maxpagesize=100")
            .send()
            .await?
            .bytes()
            .await?;
        let page = crate::graph::wire::parse_page(&body)?;
        match page.link {
            crate::graph::wire::PageLink::Next(next) => url = next,
            crate::graph::wire::PageLink::Delta(_) => break,
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Changes `count` events inside the window (their subjects), as another client would: events
/// of no series, or (`series`) any shown event, occurrences among them.
/// Returns how many it changed (fewer than `count` on a small calendar).
fn touch_events(bench: &Bench, count: usize, run: usize, series: bool) -> anyhow::Result<u64> {
    let window = Config::from_toml(&bench.config_text(), None, "/unused".into())?
        .sync
        .window
        .on(Utc::now().date_naive());
    let window = crate::sim::time::Window {
        start: window.start,
        end: window.end,
    };
    bench.sim.handle().with_mailbox(|mailbox| {
        let mut ids: Vec<String> = mailbox
            .calendar_view("default", &window)?
            .into_iter()
            .filter(|e| series || e.series().is_none())
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        let step = (ids.len() / count).max(1);
        let mut touched = 0;
        for id in ids.iter().skip(run).step_by(step).take(count) {
            mailbox.update(
                id,
                serde_json::json!({"subject": format!("Bench edit {run}")}),
            )?;
            touched += 1;
        }
        Ok(touched)
    })
}

type Frame0 = (EffectRunner, App, Terminal<TestBackend>);

/// What the TUI does before its first frame: open the cache, read the visible month and the
/// last rounds through the UI's own effect runner, draw.
fn first_frame(config: &Arc<Config>, size: (u16, u16)) -> anyhow::Result<Frame0> {
    let store = Arc::new(Store::open(&config.cache_path())?);
    // Requests (refresh, sign-in) have no background task here; nothing asks for them.
    let (requests, _) = tokio::sync::mpsc::unbounded_channel();
    let runner = EffectRunner::new(store, requests);
    let mut app = App::new(config.clone(), Theme { color: true }, Utc::now(), size);
    runner.start(&mut app);
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1))?;
    terminal.draw(|f| crate::ui::draw::draw(f, &app))?;
    Ok((runner, app, terminal))
}

/// `optimistic_ms`: in the week view, `Shift+↓` on the selected event until the frame drawn
/// after it shows the change marked; the median of 30.
fn optimistic(
    runner: EffectRunner,
    mut app: App,
    mut terminal: Terminal<TestBackend>,
) -> anyhow::Result<f64> {
    use crate::ui::keys::{KeyCode, KeyEvent, KeyModifiers};
    let press = |code| Action::Key(KeyEvent::new(code, KeyModifiers::NONE));
    runner.dispatch(&mut app, press(KeyCode::Char('w')));
    // A timed event (all-day ones move by days).
    'found: for _ in 0..7 {
        for _ in 0..40 {
            if app.selected_event().is_some_and(|c| !c.event.all_day) {
                break 'found;
            }
            runner.dispatch(&mut app, press(KeyCode::Char(']')));
        }
        runner.dispatch(&mut app, press(KeyCode::Char('l')));
    }
    let mut times = Vec::new();
    for _ in 0..30 {
        let Some(before) = app.selected_event().map(|c| c.event.id.clone()) else {
            anyhow::bail!("no event in the week to move");
        };
        let started = Instant::now();
        runner.dispatch(
            &mut app,
            Action::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT)),
        );
        terminal.draw(|f| crate::ui::draw::draw(f, &app))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        let shown = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|cell| cell.symbol() == "◌");
        if !shown || !app.marks.contains_key(before.as_str()) {
            anyhow::bail!(
                "the queued change is not on the frame ({})",
                app.note.as_deref().unwrap_or_default()
            );
        }
    }
    Ok(median(times))
}

/// The hidden `bench-frame` command: the TUI's work on a full cache without a terminal (first
/// frame, then a year of month changes), so its peak memory can be measured from outside.
pub fn frame_workload(config: &Config) -> anyhow::Result<()> {
    let config = Arc::new(config.clone());
    let (runner, mut app, mut terminal) = first_frame(&config, (160, 48))?;
    for key in "nnnnnnnnnnnnvppppppppppppvtt".chars() {
        let key = crate::ui::keys::KeyEvent::new(
            crate::ui::keys::KeyCode::Char(key),
            crate::ui::keys::KeyModifiers::NONE,
        );
        runner.dispatch(&mut app, Action::Key(key));
        terminal.draw(|f| crate::ui::draw::draw(f, &app))?;
    }
    Ok(())
}

/// The engine the sync figures measure: `deltacal sync`'s (its cache size among them).
fn sync_engine(config: &Arc<Config>) -> anyhow::Result<SyncEngine> {
    Ok(SyncEngine::for_sync_command(config.clone())?.0)
}

/// Stores the tokens an emulator's token endpoint answered, as a sign-in would.
fn save_tokens(config: &Config, t: &serde_json::Value) -> anyhow::Result<()> {
    let set = TokenSet {
        access_token: t["access_token"].as_str().unwrap_or_default().into(),
        refresh_token: t["refresh_token"].as_str().map(str::to_owned),
        expires_at: Utc::now() + chrono::Duration::hours(1),
        scope: None,
        account: Some("Bench <bench@contoso.com>".into()),
    };
    if set.access_token.is_empty() {
        anyhow::bail!("the emulator gave no access token: {t}");
    }
    tokens::save(&config.token_path(), &set)?;
    Ok(())
}

/// The figures at 100,000 events.
struct Big {
    full_sync_s: f64,
    month_switch_ms: f64,
    rss_tui_mb: f64,
    sim_rss_mb: f64,
}

/// Runs an emulator of `events` events (100,000 for the figures) as a process of its own (so its memory is its own),
/// signs in to it as a user would (device code, approved through its control API), syncs it
/// fully, then measures month changes and the TUI's memory on that cache.
async fn at_large(bench: &Bench, events: usize) -> anyhow::Result<Big> {
    use std::io::BufRead;
    let mut sim = Command::new(&bench.exe)
        .args(["sim", "--addr", "127.0.0.1:0", "--seed", "42", "--events"])
        .arg(events.to_string())
        .env("DELTACAL_REPORT_PEAK_RSS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    std::io::BufReader::new(sim.stdout.take().expect("piped")).read_line(&mut line)?;
    let Some(url) = line.trim().strip_prefix("listening on ").map(str::to_owned) else {
        let _ = sim.kill();
        anyhow::bail!("the 100,000-event emulator did not start: {line}");
    };
    let result = async {
        let http = reqwest::Client::new();
        let form = |pairs: &[(&str, &str)]| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        };
        let post = |path: String, body: String| {
            http.post(format!("{url}{path}"))
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let json = |bytes: &[u8]| serde_json::from_slice::<serde_json::Value>(bytes);
        let code = json(
            &post(
                "/common/oauth2/v2.0/devicecode".into(),
                form(&[("client_id", "bench"), ("scope", "Calendars.Read offline_access")]),
            )
            .await?
            .bytes()
            .await?,
        )?;
        let user_code = code["user_code"].as_str().unwrap_or_default();
        post("/sim/approve".into(), form(&[("user_code", user_code)])).await?;
        let t = json(
            &post(
                "/common/oauth2/v2.0/token".into(),
                form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", "bench"),
                    ("device_code", code["device_code"].as_str().unwrap_or_default()),
                ]),
            )
            .await?
            .bytes()
            .await?,
        )?;
        let dir = bench.root.path().join("100k");
        let config_file = bench.root.path().join("config-100k.toml");
        std::fs::write(
            &config_file,
            format!("[account]\nauthority = \"{url}\"\nclient_id = \"bench\"\n[graph]\nbase_url = \"{url}/v1.0\"\n[ui]\ntimezone = \"UTC\"\n"),
        )?;
        let config = Arc::new(Config::load(Some(&config_file), Some(&dir))?);
        save_tokens(&config, &t)?;
        let engine = sync_engine(&config)?;
        let started = Instant::now();
        engine.sync_view(&config.calendars[0]).await?;
        let full_sync_s = started.elapsed().as_secs_f64();
        drop(engine);
        let (runner, mut app, mut terminal) = first_frame(&config, (160, 48))?;
        let mut switches = Vec::new();
        for key in "nnnnpppp".chars() {
            let key = crate::ui::keys::KeyEvent::new(
                crate::ui::keys::KeyCode::Char(key),
                crate::ui::keys::KeyModifiers::NONE,
            );
            let started = Instant::now();
            runner.dispatch(&mut app, Action::Key(key));
            terminal.draw(|f| crate::ui::draw::draw(f, &app))?;
            switches.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        drop((runner, app, terminal));
        let (_, rss_tui_mb) = bench.child_with(&config_file, &dir, &["bench-frame"])?;
        Ok::<_, anyhow::Error>((full_sync_s, median(switches), rss_tui_mb))
    }
    .await;
    // The emulator reports its peak memory as it exits on SIGINT.
    Command::new("kill")
        .args(["-INT", &sim.id().to_string()])
        .status()?;
    let (_, sim_kb) = wait_with_rusage(sim).unwrap_or((false, -1));
    let (full_sync_s, month_switch_ms, rss_tui_mb) = result?;
    Ok(Big {
        full_sync_s,
        month_switch_ms,
        rss_tui_mb,
        sim_rss_mb: sim_kb as f64 / 1024.0,
    })
}

/// Requests of a full round, and the requests per day the window's moving adds to the rounds
/// of `ROLL_DAYS` days in a row (one round a day, as the background sync runs at least).
async fn window_roll(bench: &Bench) -> anyhow::Result<(u64, f64)> {
    let requests = || graph_requests(bench);
    let (config, _) = bench.data_dir("roll")?;
    let engine = sync_engine(&config)?;
    let cal = &config.calendars[0];
    let today = Utc::now().date_naive();
    engine.set_today(Some(today));
    let before = requests()?;
    engine.sync_view(cal).await?;
    let full = requests()? - before;
    let before = requests()?;
    engine.sync_view(cal).await?;
    let quiet = requests()? - before;
    let before = requests()?;
    for day in 1..=crate::config::ROLL_DAYS {
        engine.set_today(Some(today + chrono::Duration::days(day)));
        engine.sync_view(cal).await?;
    }
    let rolled = requests()? - before;
    let days = crate::config::ROLL_DAYS as u64;
    let extra = rolled.saturating_sub(quiet * days) as f64 / days as f64;
    Ok((full, extra))
}

/// Graph requests served so far.
fn graph_requests(bench: &Bench) -> anyhow::Result<u64> {
    Ok(bench.sim.handle().graph_requests())
}

/// The requests of three engines on one data dir, each syncing at once after each of ten
/// bursts of churn, over those of one engine alone over the same kind of churn. Each engine is
/// a process's (its own cache handle and session); the lock of a view's round is a file lock,
/// which two handles in one process contend for as two processes do.
async fn multi_process(bench: &Bench) -> anyhow::Result<f64> {
    const ROUNDS: usize = 10;
    const CHANGES: usize = 20;
    let (config, _) = bench.data_dir("multi-alone")?;
    let alone = sync_engine(&config)?;
    synced(alone.sync_all().await)?;
    let before = graph_requests(bench)?;
    for round in 0..ROUNDS {
        touch_events(bench, CHANGES, 300 + round, false)?;
        synced(alone.sync_all().await)?;
    }
    let one = graph_requests(bench)? - before;
    drop(alone);
    let (config, _) = bench.data_dir("multi-three")?;
    let (tui, remind, cron) = (
        sync_engine(&config)?,
        sync_engine(&config)?,
        sync_engine(&config)?,
    );
    synced(tui.sync_all().await)?;
    let before = graph_requests(bench)?;
    for round in 0..ROUNDS {
        touch_events(bench, CHANGES, 400 + round, false)?;
        let (a, b, c) = tokio::join!(tui.sync_all(), remind.sync_all(), cron.sync_all());
        synced(a)?;
        synced(b)?;
        synced(c)?;
    }
    let three = graph_requests(bench)? - before;
    Ok(three as f64 / one.max(1) as f64)
}

/// Every calendar's round of a `sync_all` succeeded.
fn synced(
    results: Vec<(
        crate::config::CalendarSpec,
        Result<crate::sync::RoundSummary, crate::sync::SyncError>,
    )>,
) -> anyhow::Result<()> {
    for (cal, result) in results {
        result.map_err(|e| anyhow::anyhow!("{}: {e}", cal.name))?;
    }
    Ok(())
}

/// The targets of a 2-core machine at 10,000 events, for the table.
const TARGETS: &[(&str, &str)] = &[
    ("full_sync_s", "<= 0.5 (<= 5 at 100,000)"),
    ("incremental_sync_ms", "<= 30"),
    ("incremental_series_ms", "(not a target)"),
    ("resync_410_s", "<= 0.7"),
    ("agenda_ms", "<= 15"),
    ("agenda_365d_ms", "<= 60"),
    ("next_ms", "<= 15"),
    ("first_frame_ms", "<= 30"),
    ("redraw_ms", "<= 3"),
    ("optimistic_ms", "<= 5"),
    ("peak_rss_sync_mb", "<= 60"),
    ("peak_rss_tui_mb", "<= 40"),
    ("emulator_full_round_s", "(not a target)"),
    ("wan_full_sync_s", "<= 1.5"),
    ("wan_incremental_ms", "<= 150"),
    ("wan_incremental_10cal_ms", "<= 400"),
    ("full_round_requests", "(not a target)"),
    ("full_sync_100k_s", "<= 2.5"),
    ("month_switch_ms_100k", "<= 20"),
    ("peak_rss_tui_mb_100k", "<= 40"),
    ("sim_peak_rss_mb_100k", "<= 400"),
    ("window_roll_requests", "<= 5 % of full_round_requests"),
    ("multi_process_requests_ratio", "<= 1.2"),
];

/// The figures as a table.
pub fn table(f: &Figures) -> String {
    let value = serde_json::to_value(f).expect("figures serialise");
    let mut out = format!(
        "deltacal bench, {} events (median of several runs)\n",
        f.events
    );
    out.push_str(&format!(
        "{:<24} {:>10}  {}\n",
        "figure", "value", "target (N = 10,000)"
    ));
    for (name, target) in TARGETS {
        let v = value[*name].as_f64().unwrap_or(f64::NAN);
        out.push_str(&format!("{name:<24} {v:>10.3}  {target}"));
        // The large calendar's figures keep their names; a smaller one is said beside them.
        if name.contains("_100k") && f.large_events != 100_000 {
            out.push_str(&format!(" (measured at {} events)", f.large_events));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_says_the_size_the_large_figures_were_measured_at() {
        let mut f = Figures {
            events: 10_000,
            large_events: 5_000,
            ..Default::default()
        };
        let shown = table(&f);
        let row = shown
            .lines()
            .find(|l| l.starts_with("full_sync_100k_s"))
            .unwrap();
        assert!(row.ends_with("(measured at 5000 events)"), "{row}");
        f.large_events = 100_000;
        assert!(!table(&f).contains("measured at"));
    }
}
