//! deltacal: a terminal calendar for Microsoft 365 that mirrors calendar views through Graph
//! delta queries into a local redb cache.
//!
//! Each module uses only modules of lower layers; README.md's architecture section lists the
//! layers and `tests/layers.rs` checks every import against it. The emulator, `sim`, stands
//! apart and uses nothing of the client.

// Tests may unwrap: a panic is their failure report. Code that ships may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
#[cfg(feature = "emulator")]
pub mod bench;
pub mod change;
pub mod commands;
pub mod config;
pub mod days;
pub mod failure;
pub mod free;
pub mod graph;
pub mod json;
pub mod layout;
pub mod links;
pub mod lockfile;
pub mod logging;
pub mod memory;
pub mod model;
pub mod net;
pub mod paths;
pub mod prefs;
pub mod remind;
pub mod search;
#[cfg(feature = "emulator")]
pub mod sim;
pub mod store;
pub mod sync;
pub mod text;
pub mod timegrid;
pub mod tz;
pub mod ui;

mod entry;
pub use entry::*;
