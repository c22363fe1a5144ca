//! Signing in: the device-code flow, the token file, and refreshing.

pub mod tokens;
