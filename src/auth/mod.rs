//! Signing in: the device-code flow, the token file, and refreshing.

pub mod device;
pub mod http;
pub mod session;
pub mod tokens;
