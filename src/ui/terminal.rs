//! The terminal: raw mode, the alternate screen and mouse capture, set up in one place and
//! undone on drop and on panic.

use std::io::{Stdout, stdout};
use std::sync::Once;

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::app::App;

/// The terminal the TUI draws on, restored when dropped.
pub struct Tui {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl Tui {
    /// Takes the terminal: raw mode, the alternate screen, the mouse.
    pub fn enter() -> std::io::Result<Tui> {
        Tui::hook_panics();
        Tui::set_up()?;
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(Tui { terminal })
    }

    fn hook_panics() {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
    }

    /// Raw mode, the alternate screen and mouse capture.
    fn set_up() -> std::io::Result<()> {
        enable_raw_mode()?;
        if let Err(e) = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        Ok(())
    }

    /// Gives the terminal back to the shell and stops the process, as any full-screen program
    /// does on Ctrl-Z; on `fg` (SIGCONT) takes the terminal again and redraws it whole.
    pub fn suspend(&mut self) -> std::io::Result<()> {
        restore();
        #[cfg(unix)]
        // SAFETY: kill with pid 0 signals this process's group; SIGSTOP cannot be caught, so
        // the group stops here (as the shell expects of a job) and goes on when continued.
        unsafe {
            libc::kill(0, libc::SIGSTOP);
        }
        self.resume()
    }

    /// Takes the terminal again after the process was stopped and continued (the shell may
    /// have reset its modes meanwhile), and redraws it whole.
    pub fn resume(&mut self) -> std::io::Result<()> {
        Tui::set_up()?;
        execute!(
            stdout(),
            crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
        )?;
        // A new terminal has empty buffers, so the next draw paints every cell (the screen
        // was the shell's meanwhile). `Terminal::clear` would ask the terminal where its
        // cursor is, which not every terminal answers.
        self.terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(())
    }

    /// Draws a frame of `app`.
    pub fn draw(&mut self, app: &App) -> std::io::Result<()> {
        self.terminal.draw(|f| super::draw::draw(f, app))?;
        Ok(())
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}
