//! The demo in a real terminal, through a pseudo-terminal.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Kills the child if the test fails half-way.
struct KillOnDrop(Box<dyn portable_pty::Child + Send + Sync>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait_for(parser: &Arc<Mutex<vt100::Parser>>, what: &str, ok: impl Fn(&vt100::Screen) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        {
            let p = parser.lock().unwrap();
            if ok(p.screen()) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {what}; screen:\n{}",
                    p.screen().contents()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_demo_runs_in_a_real_terminal_and_quits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[ui]\ntimezone = \"UTC\"\n").unwrap();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 36,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let data = dir.path().join("demo-data");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltacal"));
    cmd.args(["demo", "--events", "400", "--seed", "3", "--data-dir"]);
    cmd.arg(&data);
    cmd.env("DELTACAL_CONFIG", &config);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("DELTACAL_DATA_DIR");
    let child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut child = KillOnDrop(child);
    let mut writer = pty.master.take_writer().unwrap();
    let parser = screen_of(&*pty.master, (36, 120));

    // Signed in automatically, synced, and events on screen.
    wait_for(&parser, "a completed sync", |s| {
        s.contents().contains("synced just now") && s.contents().contains("Samantha Booth")
    });
    wait_for(&parser, "an event subject", |s| {
        [
            "standup",
            "Weekly",
            "Office hours",
            "Sync with design",
            "Gym",
        ]
        .iter()
        .any(|w| s.contents().contains(w))
    });
    assert!(
        parser.lock().unwrap().screen().alternate_screen(),
        "the TUI draws on the alternate screen"
    );
    // A second demo on the same dir is refused while this one runs; scripts on the dir see
    // every demo calendar.
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_deltacal"))
        .args(["demo", "--data-dir"])
        .arg(&data)
        .env("DELTACAL_CONFIG", &config)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another deltacal demo"), "{err}");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_deltacal"))
        .arg("--data-dir")
        .arg(&data)
        .arg("status")
        .env_remove("DELTACAL_CONFIG")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&status.stdout);
    assert!(
        out.contains("calendar:  Calendar [default]") && out.contains("calendar:  Team ["),
        "{out}"
    );

    let mut press = |keys: &[u8]| {
        writer.write_all(keys).unwrap();
        writer.flush().unwrap();
    };
    // Tab and v cycle month -> week -> day -> agenda -> month.
    press(b"v");
    wait_for(&parser, "the week view", |s| {
        s.contents().contains("12:00") && s.contents().contains(" – ")
    });
    let today = chrono::Utc::now().format("%A %-d %B").to_string();
    press(b"\t");
    wait_for(&parser, "the day view", |s| s.contents().contains(&today));
    press(b"v");
    wait_for(&parser, "the agenda", |s| s.contents().contains("from "));
    press(b"v");
    let month = chrono::Utc::now().format("%B %Y").to_string();
    wait_for(&parser, "the month", |s| {
        let title = s.contents().lines().next().unwrap_or("").to_owned();
        title.contains(&month) && !title.contains("from ")
    });
    press(b"a");
    wait_for(&parser, "the agenda again", |s| {
        s.contents().contains("from ")
    });
    press(b"?");
    wait_for(&parser, "the help overlay", |s| {
        s.contents().contains("previous day")
    });
    press(b"\x1b");
    wait_for(&parser, "help to close", |s| {
        !s.contents().contains("previous day")
    });
    press(b"t");
    press(b"q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "deltacal did not quit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
    // The terminal is handed back: main screen, cursor shown.
    wait_for(&parser, "the main screen", |s| {
        !s.alternate_screen() && !s.hide_cursor()
    });
}

/// `deltacal demo` in a new pseudo-terminal of `size` (rows, columns), on a data dir of
/// its own under `dir`, with `events` events.
fn spawn_demo(
    dir: &std::path::Path,
    size: (u16, u16),
    events: usize,
) -> (portable_pty::PtyPair, KillOnDrop) {
    spawn_demo_with(dir, size, events, "[ui]\ntimezone = \"UTC\"\n")
}

/// [`spawn_demo`] with this config file.
fn spawn_demo_with(
    dir: &std::path::Path,
    (rows, cols): (u16, u16),
    events: usize,
    config_text: &str,
) -> (portable_pty::PtyPair, KillOnDrop) {
    let config = dir.join("config.toml");
    std::fs::write(&config, config_text).unwrap();
    let pty = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_deltacal"));
    cmd.args(["demo", "--events", &events.to_string(), "--data-dir"]);
    cmd.arg(dir.join("demo-data"));
    cmd.env("DELTACAL_CONFIG", &config);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("DELTACAL_DATA_DIR");
    let child = KillOnDrop(pty.slave.spawn_command(cmd).unwrap());
    (pty, child)
}

/// A demo in a pseudo-terminal, its first sync on screen.
struct Demo {
    _dir: tempfile::TempDir,
    pty: Box<dyn portable_pty::MasterPty + Send>,
    child: KillOnDrop,
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
}

impl Demo {
    fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let (pty, child) = spawn_demo(dir.path(), (30, 100), 50);
        drop(pty.slave);
        let writer = pty.master.take_writer().unwrap();
        let parser = screen_of(&*pty.master, (30, 100));
        wait_for(&parser, "a completed sync", |s| {
            s.alternate_screen() && s.contents().contains("synced just now")
        });
        Demo {
            _dir: dir,
            pty: pty.master,
            child,
            parser,
            writer,
        }
    }

    fn pid(&self) -> i32 {
        self.child.0.process_id().expect("a child process") as i32
    }

    /// The terminal's line discipline as the program left it: echo and line editing on
    /// (cooked, as a shell expects), or off (raw).
    fn cooked(&self) -> bool {
        let fd = self.pty.as_raw_fd().expect("a unix pty");
        let mut termios: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd is the open master of the pty; termios is a valid out-pointer.
        assert_eq!(unsafe { libc::tcgetattr(fd, &mut termios) }, 0);
        let local = termios.c_lflag;
        local & libc::ECHO != 0 && local & libc::ICANON != 0 && local & libc::ISIG != 0
    }

    fn signal(&self, signal: i32) {
        // SAFETY: the pid is our own child's.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// The process state letter in /proc (`T` stopped, `S`/`R` running).
    fn state(&self) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let after = stat
            .rsplit_once(')')
            .expect("stat has the command in parens")
            .1;
        after.trim_start().chars().next().unwrap()
    }

    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "deltacal did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The terminal is the shell's again: main screen, cursor shown, mouse tracking off,
    /// and cooked.
    fn assert_handed_back(&self, what: &str) {
        wait_for(&self.parser, what, |s| {
            !s.alternate_screen()
                && !s.hide_cursor()
                && s.mouse_protocol_mode() == vt100::MouseProtocolMode::None
        });
        assert!(self.cooked(), "{what}: the terminal is left raw");
    }
}

/// The terminal window closes: every end of the pty goes, the app gets SIGHUP and reads
/// end-of-file. It exits, rather than waiting forever on a thread that reads a terminal
/// no longer there (it did, spinning a core).
#[test]
fn the_app_ends_when_its_terminal_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let (pty, mut child) = spawn_demo(dir.path(), (24, 80), 20);
    drop(pty.slave);
    // Read here, without a thread of its own, so that dropping the handles closes every
    // end of the pty: non-blocking, which the reader's descriptor shares.
    let fd = pty.master.as_raw_fd().unwrap();
    // SAFETY: fd is the pty master's, open for the length of this test.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut parser = vt100::Parser::new(24.try_into().unwrap(), 80.try_into().unwrap(), 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 8192];
    while !parser.screen().contents().contains("synced just now") {
        assert!(
            Instant::now() < deadline,
            "no first sync; screen:\n{}",
            parser.screen().contents()
        );
        match reader.read(&mut buf) {
            Ok(0) => panic!("the app ended early"),
            Ok(n) => parser.process(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
    drop(reader);
    drop(pty.master);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "deltacal kept running after its terminal hung up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM, SIGHUP, SIGINT and SIGQUIT each end the app with the terminal restored.
#[test]
fn every_quitting_signal_restores_the_terminal() {
    for (signal, name) in [
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
    ] {
        let mut demo = Demo::start();
        assert!(!demo.cooked(), "the app runs raw");
        demo.signal(signal);
        demo.assert_handed_back(name);
        let status = demo.wait_exit();
        assert!(status.success(), "{name}: exit status {status:?}");
    }
}

/// Ctrl-Z and SIGTSTP suspend like any full-screen program: the terminal is handed back
/// and the process stops; continued (`fg`), it takes the terminal again and redraws.
#[test]
fn ctrl_z_and_sigtstp_suspend_and_fg_comes_back() {
    let mut demo = Demo::start();
    for how in ["Ctrl-Z", "SIGTSTP"] {
        if how == "Ctrl-Z" {
            demo.writer.write_all(b"\x1a").unwrap();
            demo.writer.flush().unwrap();
        } else {
            demo.signal(libc::SIGTSTP);
        }
        demo.assert_handed_back(how);
        let deadline = Instant::now() + Duration::from_secs(20);
        while demo.state() != 'T' {
            assert!(Instant::now() < deadline, "{how}: the process did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        demo.signal(libc::SIGCONT);
        wait_for(&demo.parser, "the app again", |s| {
            s.alternate_screen() && s.contents().contains("synced")
        });
        assert!(!demo.cooked(), "{how}: raw again after fg");
    }
    demo.writer.write_all(b"q").unwrap();
    demo.writer.flush().unwrap();
    assert!(demo.wait_exit().success());
    demo.assert_handed_back("quit");
}

/// The screen of a pseudo-terminal of `(rows, columns)`, kept current by a thread that feeds
/// it what the child writes until the child's side closes.
fn screen_of(
    master: &dyn portable_pty::MasterPty,
    (rows, columns): (u16, u16),
) -> Arc<Mutex<vt100::Parser>> {
    let mut reader = master.try_clone_reader().unwrap();
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        rows.try_into().unwrap(),
        columns.try_into().unwrap(),
        0,
    )));
    let feed = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            feed.lock().unwrap().process(&buf[..n]);
        }
    });
    parser
}

/// A GET of the emulator's control route `path` on `origin` (`http://127.0.0.1:PORT`), its
/// JSON body: plain HTTP/1.0 over loopback, which the emulator answers with a length.
fn sim_get(origin: &str, path: &str) -> serde_json::Value {
    let host = origin.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    serde_json::from_str(body).unwrap()
}

/// The events on the emulator: its truth.
fn server_subjects(origin: &str) -> Vec<(String, String)> {
    let events = sim_get(
        origin,
        "/sim/events?start=1900-01-01T00:00:00Z&end=2200-01-01T00:00:00Z",
    );
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["subject"].as_str().unwrap_or_default().to_owned(),
                e["start"]["dateTime"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// Whether the emulator has an event `subject` starting at `at` (`2026-12-05T23:00:00`).
fn on_server_at(origin: &str, subject: &str, at: &str) -> bool {
    server_subjects(origin)
        .iter()
        .any(|(s, start)| s == subject && start.starts_with(at))
}

/// `/`, the text, its one hit, Enter twice: the event's day with its details open.
fn open_by_search(press: &mut impl FnMut(&[u8]), parser: &Arc<Mutex<vt100::Parser>>, text: &[u8]) {
    press(b"/");
    press(text);
    wait_for(parser, "the search hit", |s| {
        s.contents().contains("Search (1/1)")
    });
    press(b"\r");
    press(b"\r");
}

/// The user adds an event with `N`, answers an invitation with a message, moves an event with
/// `Shift+↓`, deletes one and takes one back with `u`, in the real app in a real terminal; the
/// emulator ends up with exactly those changes.
#[test]
fn changes_made_in_the_app_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (pty, _child) = spawn_demo_with(
        dir.path(),
        (40, 140),
        300,
        "[ui]\ntimezone = \"UTC\"\n\n[writes]\nundo_secs = 1\n",
    );
    drop(pty.slave);
    let data = dir.path().join("demo-data");
    let mut writer = pty.master.take_writer().unwrap();
    let parser = screen_of(&*pty.master, (40, 140));
    wait_for(&parser, "a completed sync", |s| {
        s.contents().contains("synced just now")
    });
    // The emulator's address, from the config the demo writes for scripts.
    let text = std::fs::read_to_string(data.join("demo-config.toml")).unwrap();
    let base = text
        .lines()
        .find_map(|l| l.strip_prefix("base_url = \""))
        .unwrap()
        .trim_end_matches('"');
    let origin = base
        .trim_end_matches("/v1.0")
        .trim_end_matches('/')
        .to_owned();
    let mut press = |keys: &[u8]| {
        writer.write_all(keys).unwrap();
        writer.flush().unwrap();
    };
    let today = chrono::Utc::now().date_naive();

    // Add: N, the quick-add line, Enter.
    press(b"d");
    press(b"N");
    wait_for(&parser, "the quick-add line", |s| {
        s.contents().contains("New event")
    });
    press(b"23:00 30m PTY check");
    wait_for(&parser, "the preview", |s| {
        s.contents().contains("23:00–23:30 · PTY check")
    });
    press(b"\r");
    wait_for(&parser, "the add to be sent", |s| {
        s.contents().contains("Sent: Added “PTY check”.")
    });
    let at = format!("{today}T23:00:00");
    assert!(
        on_server_at(&origin, "PTY check", &at),
        "the event is on the server"
    );

    // Answer the first invitation, with a message.
    press(b"i");
    wait_for(&parser, "the invitations", |s| {
        s.contents().contains("Invitations (")
    });
    press(b"A");
    wait_for(&parser, "the answer form", |s| {
        s.contents().contains("Message")
    });
    press(b"On my way");
    press(b"\r");
    wait_for(&parser, "the answer to be sent", |s| {
        s.contents().contains("Sent: Accepted")
    });
    // Wait for the panel to close: an Escape followed at once by a key reads as Alt+key.
    press(b"\x1b");
    wait_for(&parser, "the invitations to close", |s| {
        !s.contents().contains("Invitations (")
    });
    let requests = sim_get(&origin, "/sim/requests");
    assert!(
        requests["requests"].as_array().unwrap().iter().any(|r| {
            r["method"] == "POST"
                && r["path"].as_str().unwrap_or_default().ends_with("/accept")
                && r["body"]["comment"] == "On my way"
        }),
        "{requests}"
    );

    // Move: find the new event, Shift+↓ moves it 15 minutes later.
    open_by_search(&mut press, &parser, b"PTY check");
    wait_for(&parser, "its details", |s| s.contents().contains("Event"));
    press(b"\x1b[1;2B");
    wait_for(&parser, "the move to be sent", |s| {
        s.contents().contains("Sent: Moved “PTY check”.")
    });
    let at = format!("{today}T23:15:00");
    assert!(
        on_server_at(&origin, "PTY check", &at),
        "moved on the server"
    );

    // Undo: a second event taken back before it is sent never reaches the server.
    press(b"N");
    wait_for(&parser, "the quick-add line", |s| {
        s.contents().contains("New event")
    });
    press(b"22:00 30m Undo me\r");
    press(b"u");
    wait_for(&parser, "the undo", |s| {
        s.contents().contains("Undone: Added “Undo me”.")
    });

    // Delete the moved event: X names it, Enter deletes.
    open_by_search(&mut press, &parser, b"PTY check");
    press(b"X");
    wait_for(&parser, "the confirmation", |s| {
        s.contents().contains("Delete “PTY check”?")
    });
    press(b"\r");
    wait_for(&parser, "the delete to be sent", |s| {
        s.contents().contains("Sent: Deleted “PTY check”.")
    });
    let subjects = server_subjects(&origin);
    assert!(!subjects.iter().any(|(s, _)| s == "PTY check"), "deleted");
    assert!(!subjects.iter().any(|(s, _)| s == "Undo me"), "never sent");
    let posts = sim_get(&origin, "/sim/requests");
    let creates = posts["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "POST" && r["body"]["subject"] == "PTY check")
        .count();
    assert_eq!(creates, 1, "added once");
    press(b"q");
}

/// In the real app on the demo: `f` in the week view asks the emulator's getSchedule for a
/// colleague's busy time in the background and says whose it shows; an address it does not
/// know is named.
#[test]
fn others_busy_time_comes_from_the_server_in_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let (pty, _child) = spawn_demo(dir.path(), (30, 140), 200);
    drop(pty.slave);
    let mut writer = pty.master.take_writer().unwrap();
    let parser = screen_of(&*pty.master, (30, 140));
    wait_for(&parser, "a completed sync", |s| {
        s.contents().contains("synced just now")
    });
    let mut press = |keys: &[u8]| {
        writer.write_all(keys).unwrap();
        writer.flush().unwrap();
    };
    press(b"w");
    press(b"f");
    wait_for(&parser, "the prompt", |s| {
        s.contents().contains("Show whose busy time?")
    });
    press(b"alexw@contoso.com nobody@contoso.com");
    wait_for(&parser, "the preview", |s| {
        s.contents()
            .contains("busy time of alexw@contoso.com, nobody@contoso.com")
    });
    press(b"\r");
    wait_for(&parser, "the answer", |s| {
        let text = s.contents();
        text.contains("Not found: nobody@contoso.com") && text.contains("Busy time of alexw")
    });
}
