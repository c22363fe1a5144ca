//! Where the loop's actions come from: terminal input (read on its own thread), sync
//! notifications and sign-in progress, all sent into one channel as [`Action`]s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEventKind};
use tokio::sync::broadcast::error::RecvError;

use super::app::Action;
use crate::sync::SyncEvent;

/// The action a terminal event stands for, if any.
pub fn action_for(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        Event::Mouse(m) if m.kind == MouseEventKind::Down(MouseButton::Left) => {
            Some(Action::Click {
                column: m.column,
                row: m.row,
            })
        }
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// The thread that reads the terminal; stops when dropped.
pub struct TerminalInput {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TerminalInput {
    /// Reads terminal events on a thread of their own and sends their actions to `actions`.
    pub fn start(actions: Sender<Action>) -> TerminalInput {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            // Polling with a timeout lets the thread notice `stop` between events.
            while !stopped.load(Ordering::Relaxed) {
                match crossterm::event::poll(Duration::from_millis(100)) {
                    Ok(true) => match crossterm::event::read() {
                        Ok(event) => {
                            if let Some(action) = action_for(event)
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
            thread: Some(thread),
        }
    }
}

impl Drop for TerminalInput {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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
