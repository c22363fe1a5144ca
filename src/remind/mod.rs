//! Reminders: when they are due (`schedule`, pure), the loop that shows them (`watch`, in the
//! TUI and in `deltacal remind`), and how they are shown outside the TUI (`deliver`).

pub mod deliver;
pub mod schedule;
pub mod watch;
