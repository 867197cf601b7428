//! Who the caller is: sign-in flows, tokens, sessions, and their building blocks.

pub mod mail;
pub mod password;
pub mod throttle;
pub mod totp;
