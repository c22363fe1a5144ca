//! deltacal: a terminal calendar for Microsoft 365 that mirrors calendar views through Graph
//! delta queries into a local redb cache.

pub mod auth;
pub mod commands;
pub mod config;
pub mod days;
pub mod logging;
pub mod model;
pub mod store;
pub mod text;
pub mod tz;

mod entry;
pub use entry::*;
pub mod bench;
pub mod graph;
pub mod layout;
pub mod sim;
pub mod sync;
pub mod ui;
