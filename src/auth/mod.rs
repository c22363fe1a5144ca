//! Signing in: the device-code flow (from the command line or as a background job for the app),
//! the token file, and refreshing.

pub mod device;
pub mod http;
pub mod session;
pub mod signin;
pub mod tokens;
