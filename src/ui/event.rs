//! Where the loop's actions come from: terminal input (read on its own thread), sync
//! notifications and sign-in progress, all sent into one channel as [`Action`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEventKind};
use tokio::sync::broadcast::error::RecvError;

use super::app::Action;
use super::keys::{KeyCode, KeyEvent, KeyModifiers};
use crate::sync::SyncEvent;

/// Two clicks on the same cell within this long are a double click.
const DOUBLE_CLICK: Duration = Duration::from_millis(400);

/// Turns terminal events into actions; remembers the last click to tell a double click.
#[derive(Default)]
pub struct Translator {
    last_click: Option<(Instant, u16, u16)>,
}

impl Translator {
    /// The action a terminal event stands for, if any; `at` is when it was read.
    pub fn action_for(&mut self, event: Event, at: Instant) -> Option<Action> {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(ui_key(key))),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::Down(MouseButton::Left) => {
                    let double = self.last_click.is_some_and(|(then, column, row)| {
                        (column, row) == (m.column, m.row)
                            && at.duration_since(then) <= DOUBLE_CLICK
                    });
                    // A third click starts a new pair.
                    self.last_click = (!double).then_some((at, m.column, m.row));
                    Some(Action::Click {
                        column: m.column,
                        row: m.row,
                        double,
                    })
                }
                MouseEventKind::Drag(MouseButton::Left) => Some(Action::Drag {
                    column: m.column,
                    row: m.row,
                }),
                MouseEventKind::Up(MouseButton::Left) => Some(Action::Release {
                    column: m.column,
                    row: m.row,
                }),
                MouseEventKind::ScrollUp => Some(Action::Wheel { down: false }),
                MouseEventKind::ScrollDown => Some(Action::Wheel { down: true }),
                _ => None,
            },
            Event::Resize(width, height) => Some(Action::Resize { width, height }),
            _ => None,
        }
    }
}

/// The thread that reads the terminal; stops when dropped.
pub struct TerminalInput {
    stop: Arc<AtomicBool>,
    /// Closed by the thread as it ends.
    ended: std::sync::mpsc::Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

/// How long dropping [`TerminalInput`] waits for its thread to see the stop.
const INPUT_STOP_WAIT: Duration = Duration::from_millis(500);

impl TerminalInput {
    /// Reads terminal events on a thread of their own and sends their actions to `actions`.
    pub fn start(actions: Sender<Action>) -> TerminalInput {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (ended_tx, ended) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ended = ended_tx;
            let mut translator = Translator::default();
            // Polling with a timeout lets the thread notice `stop` between events.
            while !stopped.load(Ordering::Relaxed) {
                match crossterm::event::poll(Duration::from_millis(100)) {
                    Ok(true) => match crossterm::event::read() {
                        Ok(event) => {
                            if let Some(action) = translator.action_for(event, Instant::now())
                                && actions.send(action).is_err()
                            {
                                break;
                            }
                        }
                        Err(_) => break,
                    },
                    Ok(false) => {}
                    Err(_) => break,
                }
            }
        });
        TerminalInput {
            stop,
            ended,
            thread: Some(thread),
        }
    }
}

impl Drop for TerminalInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // A terminal that hung up (SIGHUP: the window closed) can leave crossterm's read
        // looping on end-of-file, never back to check `stop`: wait a moment, then leave the
        // thread to end with the process instead of joining it forever.
        if self.ended.recv_timeout(INPUT_STOP_WAIT) == Err(RecvTimeoutError::Timeout) {
            tracing::warn!("the terminal input thread did not stop; leaving it");
            return;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Forwards the sync engine's notifications as actions; a lost notification becomes a reload.
pub async fn forward_sync_events(
    mut notifications: tokio::sync::broadcast::Receiver<SyncEvent>,
    actions: Sender<Action>,
) {
    loop {
        let action = match notifications.recv().await {
            Ok(event) => Action::Sync(event),
            Err(RecvError::Lagged(_)) => Action::Reload,
            Err(RecvError::Closed) => break,
        };
        if actions.send(action).is_err() {
            break;
        }
    }
}

/// crossterm's key as the UI's own: the one place the UI's keys meet the terminal library's.
fn ui_key(key: crossterm::event::KeyEvent) -> KeyEvent {
    use crossterm::event::{KeyCode as C, KeyModifiers as M};
    let code = match key.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Insert => KeyCode::Insert,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::F(n) => KeyCode::F(n),
        _ => KeyCode::Other,
    };
    let mut modifiers = KeyModifiers::NONE;
    for (theirs, ours) in [
        (M::SHIFT, KeyModifiers::SHIFT),
        (M::CONTROL, KeyModifiers::CONTROL),
        (M::ALT, KeyModifiers::ALT),
    ] {
        if key.modifiers.contains(theirs) {
            modifiers = modifiers | ours;
        }
    }
    KeyEvent::new(code, modifiers)
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyModifiers, MouseEvent};

    use super::*;

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    fn is_double(action: Option<Action>) -> bool {
        match action {
            Some(Action::Click { double, .. }) => double,
            other => panic!("not a click: {other:?}"),
        }
    }

    #[test]
    fn two_quick_clicks_on_one_cell_are_a_double_click() {
        let mut t = Translator::default();
        let down = MouseEventKind::Down(MouseButton::Left);
        let t0 = Instant::now();
        assert!(!is_double(t.action_for(mouse(down, 3, 4), t0)));
        assert!(is_double(
            t.action_for(mouse(down, 3, 4), t0 + Duration::from_millis(200))
        ));
        // A third click starts a new pair; a slow or moved second click is a single one.
        assert!(!is_double(
            t.action_for(mouse(down, 3, 4), t0 + Duration::from_millis(300))
        ));
        assert!(!is_double(
            t.action_for(mouse(down, 3, 4), t0 + Duration::from_millis(900))
        ));
        assert!(!is_double(t.action_for(
            mouse(down, 5, 4),
            t0 + Duration::from_millis(1000)
        )));
        assert_eq!(
            t.action_for(mouse(MouseEventKind::ScrollDown, 0, 0), t0),
            Some(Action::Wheel { down: true })
        );
        assert_eq!(t.action_for(mouse(MouseEventKind::Moved, 0, 0), t0), None);
        // A drag with the left button, and its release, for moving events in the grids.
        assert_eq!(
            t.action_for(mouse(MouseEventKind::Drag(MouseButton::Left), 7, 9), t0),
            Some(Action::Drag { column: 7, row: 9 })
        );
        assert_eq!(
            t.action_for(mouse(MouseEventKind::Up(MouseButton::Left), 7, 10), t0),
            Some(Action::Release { column: 7, row: 10 })
        );
        assert_eq!(
            t.action_for(mouse(MouseEventKind::Drag(MouseButton::Right), 7, 9), t0),
            None
        );
    }

    #[test]
    fn terminal_keys_become_the_uis_own_and_releases_are_dropped() {
        use crossterm::event::{KeyCode as C, KeyEvent as K, KeyEventKind, KeyModifiers as M};
        let mut t = Translator::default();
        let at = Instant::now();
        let ctrl_c = K::new(C::Char('c'), M::CONTROL | M::SHIFT);
        assert_eq!(
            t.action_for(Event::Key(ctrl_c), at),
            Some(Action::Key(super::KeyEvent::new(
                super::KeyCode::Char('c'),
                super::KeyModifiers::CONTROL | super::KeyModifiers::SHIFT
            )))
        );
        let mut release = K::new(C::PageDown, M::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(t.action_for(Event::Key(release), at), None);
        assert_eq!(
            t.action_for(
                Event::Key(K::new(
                    C::Media(crossterm::event::MediaKeyCode::Play),
                    M::NONE
                )),
                at
            ),
            Some(Action::Key(super::KeyEvent::new(
                super::KeyCode::Other,
                super::KeyModifiers::NONE
            )))
        );
    }
}
