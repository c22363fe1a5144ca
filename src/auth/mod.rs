//! Signing in: the device-code flow and the browser flow (authorization code with PKCE), from
//! the command line or as background jobs for the app; the token file; refreshing.

pub mod browser;
pub mod device;
pub mod http;
pub mod session;
pub mod signin;
pub mod tokens;
