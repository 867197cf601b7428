//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod orgs;
mod support;
mod tokens;
mod roles;
mod team;
