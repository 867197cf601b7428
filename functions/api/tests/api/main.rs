//! The api function, driven in-process over a real PostgreSQL: one test binary, one module per
//! area.

mod orgs;
mod passwords;
mod signin;
mod support;
mod tokens;
