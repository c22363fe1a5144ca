//! The non-interactive commands, each a function of the config that writes to a stream.

pub mod agenda;
pub mod calendars;
pub mod config_init;
pub mod export;
pub mod format;
pub mod next;
pub mod remind;
pub mod status;
pub mod sync;
