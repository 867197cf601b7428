//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod api_tokens;
mod invitations;
mod matrix;
mod org_settings;
mod orgs;
mod passwords;
mod roles;
mod signin;
mod support;
mod team;
mod tokens;
